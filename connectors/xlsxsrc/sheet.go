package xlsxsrc

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// span is a merged range: columns c1..c2 and rows r1..r2 (1-based, inclusive).
type span struct{ c1, r1, c2, r2 int }

// scanMerges lists a worksheet's merged ranges without decoding its rows: <mergeCell ref="…"/>
// elements are found by their tag (a '<' never appears in text), and only their ref is parsed.
func scanMerges(ctx context.Context, zf *zip.File) ([]span, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	var out []span
	for n := 0; ; n++ {
		if n&0xffff == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		_, err := br.ReadSlice('<')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		p, _ := br.Peek(48)
		i := 0
		for i < len(p) && p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n' && p[i] != '/' && p[i] != '>' {
			i++
		}
		name := p[:i]
		if j := strings.LastIndexByte(string(name), ':'); j >= 0 {
			name = name[j+1:]
		}
		if string(name) != "mergeCell" {
			continue
		}
		tag, err := br.ReadSlice('>')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("mergeCell: %w", err)
		}
		ref := attrOf(string(tag), "ref")
		if sp, ok := parseRange(ref); ok {
			out = append(out, sp)
		}
	}
}

// attrOf finds attribute name's value in the text of a start tag.
func attrOf(tag, name string) string {
	for i := 0; i < len(tag); {
		j := strings.Index(tag[i:], name)
		if j < 0 {
			return ""
		}
		j += i
		k := j + len(name)
		i = k
		if j > 0 {
			if c := tag[j-1]; c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				continue
			}
		}
		for k < len(tag) && (tag[k] == ' ' || tag[k] == '\t' || tag[k] == '\r' || tag[k] == '\n') {
			k++
		}
		if k >= len(tag) || tag[k] != '=' {
			continue
		}
		k++
		for k < len(tag) && (tag[k] == ' ' || tag[k] == '\t' || tag[k] == '\r' || tag[k] == '\n') {
			k++
		}
		if k >= len(tag) || (tag[k] != '"' && tag[k] != '\'') {
			continue
		}
		q := tag[k]
		end := strings.IndexByte(tag[k+1:], q)
		if end < 0 {
			return ""
		}
		return tag[k+1 : k+1+end]
	}
	return ""
}

// parseRange parses "B2:E2" (a single cell is no merge).
func parseRange(ref string) (span, bool) {
	a, b, ok := strings.Cut(strings.TrimSpace(ref), ":")
	if !ok {
		return span{}, false
	}
	c1, r1, err1 := excelize.CellNameToCoordinates(strings.ReplaceAll(a, "$", ""))
	c2, r2, err2 := excelize.CellNameToCoordinates(strings.ReplaceAll(b, "$", ""))
	if err1 != nil || err2 != nil {
		return span{}, false
	}
	if c1 > c2 {
		c1, c2 = c2, c1
	}
	if r1 > r2 {
		r1, r2 = r2, r1
	}
	if c1 == c2 && r1 == r2 {
		return span{}, false
	}
	return span{c1, r1, c2, r2}, true
}

// cellMeta is what the type scanner knows of a cell.
type cellMeta struct {
	col   int
	t     string // the cell's t attribute: "", "n", "s", "str", "inlineStr", "b", "e", "d"
	style int
}

// metaScanner reads a worksheet's rows in step with excelize's iterator, keeping of each cell
// only its column, type and style. It numbers rows and cells as excelize does (the r attribute,
// else one after the previous) and refuses rows or cells out of order, where excelize's iterator
// would silently merge or misplace values.
type metaScanner struct {
	rc      io.ReadCloser
	d       *xml.Decoder
	prev    int // number of the last row parsed
	pend    []cellMeta
	pendRow int // number of the parsed row not yet asked for; 0 = none
	done    bool
}

func newMetaScanner(zf *zip.File) (*metaScanner, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	return &metaScanner{rc: rc, d: newDecoder(rc)}, nil
}

func (m *metaScanner) close() { m.rc.Close() }

// parse reads the next row element into pend.
func (m *metaScanner) parse() error {
	for {
		tok, err := m.d.RawToken()
		if err == io.EOF {
			m.done = true
			return nil
		}
		if err != nil {
			return err
		}
		switch el := tok.(type) {
		case xml.EndElement:
			if el.Name.Local == "sheetData" {
				m.done = true
				return nil
			}
		case xml.StartElement:
			if el.Name.Local != "row" {
				continue
			}
			n, _ := strconv.Atoi(attr(el, "r"))
			if n == 0 {
				n = m.prev + 1
			}
			if n <= m.prev || n > excelize.TotalRows {
				return fmt.Errorf("row %d out of order (after row %d)", n, m.prev)
			}
			m.prev, m.pendRow, m.pend = n, n, m.pend[:0]
			return m.cells()
		}
	}
}

func (m *metaScanner) cells() error {
	col := 0
	for {
		tok, err := m.d.RawToken()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		switch el := tok.(type) {
		case xml.EndElement:
			if el.Name.Local == "row" {
				return nil
			}
		case xml.StartElement:
			if el.Name.Local != "c" {
				if err := m.skip(); err != nil {
					return err
				}
				continue
			}
			next := col + 1
			if ref := attr(el, "r"); ref != "" {
				c, _, err := excelize.CellNameToCoordinates(ref)
				if err != nil {
					return err
				}
				next = c
			}
			if next <= col {
				return fmt.Errorf("row %d: cell in column %d out of order", m.prev, next)
			}
			col = next
			s, _ := strconv.Atoi(attr(el, "s"))
			m.pend = append(m.pend, cellMeta{col: col, t: attr(el, "t"), style: s})
			if err := m.skip(); err != nil {
				return err
			}
		}
	}
}

// skip reads to the end of the element just started. The scanner reads raw tokens (no name
// space work, which it does not need), so it counts depth itself.
func (m *metaScanner) skip() error {
	for depth := 1; depth > 0; {
		tok, err := m.d.RawToken()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// row returns the cells of row n, or nil when the worksheet has no such row element.
func (m *metaScanner) row(n int) ([]cellMeta, error) {
	for {
		if m.pendRow == n {
			m.pendRow = 0
			return m.pend, nil
		}
		if m.pendRow > n || m.done {
			return nil, nil
		}
		if err := m.parse(); err != nil {
			return nil, err
		}
	}
}

// finish reads the rest of the worksheet: rows left over mean the two readers disagree.
func (m *metaScanner) finish() error {
	if m.pendRow != 0 && len(m.pend) > 0 {
		return fmt.Errorf("row %d was not read", m.pendRow)
	}
	for !m.done {
		m.pendRow = 0
		if err := m.parse(); err != nil {
			return err
		}
		if m.pendRow != 0 && len(m.pend) > 0 {
			return fmt.Errorf("row %d was not read", m.pendRow)
		}
	}
	return nil
}

func attr(el xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// xcell is one cell with a value.
type xcell struct {
	col   int
	v     string // raw value
	t     string // type attribute
	style int
}

// xrow is one row: its Excel number and its cells with a value, by column.
type xrow struct {
	n     int
	cells []xcell
}

// sheetStream yields a worksheet's rows, numbered from 1, including rows the file leaves out.
type sheetStream struct {
	wb     *workbook
	sheet  string
	merges []span
	rows   *excelize.Rows
	meta   *metaScanner
	n      int
}

var rawOpts = excelize.Options{RawCellValue: true}

func (wb *workbook) openSheet(ctx context.Context, sheet string) (*sheetStream, error) {
	zf, err := wb.partOf(sheet)
	if err != nil {
		return nil, err
	}
	st := &sheetStream{wb: wb, sheet: sheet}
	if st.merges, err = scanMerges(ctx, zf); err != nil {
		return nil, st.errf("merged cells: %w", err)
	}
	if st.meta, err = newMetaScanner(zf); err != nil {
		return nil, st.errf("%w", err)
	}
	if err := safely(func() error {
		var err error
		st.rows, err = wb.f.Rows(sheet)
		return err
	}); err != nil {
		st.meta.close()
		return nil, st.errf("%w", err)
	}
	return st, nil
}

func (st *sheetStream) errf(format string, a ...any) error {
	return fmt.Errorf("%s: sheet %q: %w", st.wb.rel, st.sheet, fmt.Errorf(format, a...))
}

func (st *sheetStream) close() {
	if st.rows != nil {
		st.rows.Close()
	}
	if st.meta != nil {
		st.meta.close()
	}
}

// next returns the next row; ok is false at the end of the sheet.
func (st *sheetStream) next() (r xrow, ok bool, err error) {
	var vals []string
	var more bool
	if err := safely(func() error {
		if more = st.rows.Next(); !more {
			return st.rows.Error()
		}
		var err error
		vals, err = st.rows.Columns(rawOpts)
		return err
	}); err != nil {
		return r, false, st.errf("row %d: %w", st.n+1, err)
	}
	if !more {
		if err := st.meta.finish(); err != nil {
			return r, false, st.errf("%w", err)
		}
		return r, false, nil
	}
	st.n++
	r.n = st.n
	meta, err := st.meta.row(st.n)
	if err != nil {
		return r, false, st.errf("%w", err)
	}
	j := 0
	for i, v := range vals {
		if v == "" {
			continue
		}
		col := i + 1
		for j < len(meta) && meta[j].col < col {
			j++
		}
		if j >= len(meta) || meta[j].col != col {
			return r, false, st.errf("row %d: cell %d has a value but no cell element", st.n, col)
		}
		if !utf8.ValidString(v) {
			v = strings.ToValidUTF8(v, "\uFFFD")
		}
		r.cells = append(r.cells, xcell{col: col, v: v, t: meta[j].t, style: meta[j].style})
	}
	return r, true, nil
}

// safely runs fn, turning a panic inside excelize (on a damaged file) into an error.
func safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("damaged worksheet: %v", p)
		}
	}()
	return fn()
}
