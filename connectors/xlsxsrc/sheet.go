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

	"communityhub/connectors"
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
	size  int64 // bytes of the value excelize will give, at most (a shared string's size)
}

// metaScanner reads a worksheet's rows in step with excelize's iterator, keeping of each cell
// only its column, type, style and size (measured from the text of its <v> and <t> elements, or
// looked up in the shared strings): so the size of a row is known before excelize reads it. It
// numbers rows and cells as excelize does (the r attribute, else one after the previous) and
// refuses rows or cells out of order, where excelize's iterator would silently merge or
// misplace values.
type metaScanner struct {
	rc      io.ReadCloser
	d       *xml.Decoder
	sst     *sstSizes
	prev    int // number of the last row parsed
	pend    []cellMeta
	pendRow int // number of the parsed row not yet asked for; 0 = none
	done    bool
}

func newMetaScanner(zf *zip.File, sst *sstSizes) (*metaScanner, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	return &metaScanner{rc: rc, d: newDecoder(rc), sst: sst}, nil
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
			cm := cellMeta{col: col, t: attr(el, "t"), style: s}
			if cm.size, err = m.cellSize(cm.t); err != nil {
				return err
			}
			m.pend = append(m.pend, cm)
		}
	}
}

// cellSize reads a <c> element's content (its start tag read) and returns an upper bound of the
// bytes of the value excelize makes of it: for a shared string (t="s") the size of the string
// its <v> names, as excelize parses the index (a number that does not parse is string 0; one too
// long to keep counts as the largest string); else the text of its <v> and <t> elements
// (phonetic runs left out).
func (m *metaScanner) cellSize(t string) (int64, error) {
	var (
		depth         = 1
		vAt, tAt, rph int // depth of the open <v>, <t> and <rPh>; 0: none
		text          int64
		idx           []byte // the text of <v>, for a shared string, up to 64 bytes
		long          bool
	)
	for depth > 0 {
		tok, err := m.d.RawToken()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			depth++
			switch el.Name.Local {
			case "v":
				if vAt == 0 {
					vAt = depth
				}
			case "rPh":
				if rph == 0 {
					rph = depth
				}
			case "t":
				if tAt == 0 {
					tAt = depth
				}
			}
		case xml.EndElement:
			switch {
			case depth == vAt && vAt > 0:
				vAt = 0
			case depth == tAt && tAt > 0:
				tAt = 0
			case depth == rph && rph > 0:
				rph = 0
			}
			depth--
		case xml.CharData:
			switch {
			case vAt > 0:
				text += int64(len(el))
				if t == "s" {
					if len(idx)+len(el) > 64 {
						long = true
					} else {
						idx = append(idx, el...)
					}
				}
			case tAt > 0 && rph == 0:
				text += int64(len(el))
			}
		}
	}
	if t != "s" {
		return text, nil
	}
	if long {
		return max(text, m.sst.largest()), nil
	}
	i, _ := strconv.Atoi(strings.TrimSpace(string(idx)))
	return max(text, m.sst.size(i)), nil
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

// xrow is one row: its Excel number and its cells with a value, by column. A row over a value
// or row limit has no cells but says why (over) and what it held (overRaw, a summary).
type xrow struct {
	n     int
	cells []xcell

	over, overRaw string
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
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, st.errf("merged cells: %v", err)
	}
	if st.meta, err = newMetaScanner(zf, wb.sst); err != nil {
		return nil, st.errf("%v", err)
	}
	if err := safely(func() error {
		var err error
		st.rows, err = wb.f.Rows(sheet)
		return err
	}); err != nil {
		st.meta.close()
		return nil, st.errf("%v", err)
	}
	return st, nil
}

// errf is an error of the sheet; what it says of the file (a damaged part's text) is cut to an
// excerpt.
func (st *sheetStream) errf(format string, a ...any) error {
	return fmt.Errorf("%s: sheet %s: %s", st.wb.rel, quote(st.sheet), connectors.Excerpt(fmt.Sprintf(format, a...), 200))
}

// quote is a name or value from a file, for a message: an excerpt, quoted.
func quote(s string) string { return strconv.Quote(connectors.Excerpt(s, 40)) }

func (st *sheetStream) close() {
	if st.rows != nil {
		st.rows.Close()
	}
	if st.meta != nil {
		st.meta.close()
	}
}

// next returns the next row; ok is false at the end of the sheet.
//
// The type scanner reads the row first: a row with a value over Limits.ValueBytes, or values
// summing over Limits.RowBytes (a byte per value added for separators), comes back with over
// set and is never read by excelize, which would copy a shared string into every cell that
// uses it.
func (st *sheetStream) next() (r xrow, ok bool, err error) {
	var more bool
	if err := safely(func() error {
		if more = st.rows.Next(); !more {
			return st.rows.Error()
		}
		return nil
	}); err != nil {
		return r, false, st.errf("row %d: %v", st.n+1, err)
	}
	if !more {
		if err := st.meta.finish(); err != nil {
			return r, false, st.errf("%v", err)
		}
		return r, false, nil
	}
	st.n++
	r.n = st.n
	meta, err := st.meta.row(st.n)
	if err != nil {
		return r, false, st.errf("%v", err)
	}
	if r.over, r.overRaw = st.overLimit(meta); r.over != "" {
		return r, true, nil
	}
	var vals []string
	if err := safely(func() error {
		var err error
		vals, err = st.rows.Columns(rawOpts)
		return err
	}); err != nil {
		return r, false, st.errf("row %d: %v", st.n, err)
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

// overLimit tells whether a row's cells, as the type scanner measured them, exceed the value or
// row limit: the reason, and a summary of the row for the quarantine (its values are not read).
func (st *sheetStream) overLimit(meta []cellMeta) (reason, raw string) {
	lim := st.wb.lim
	var total int64
	for i, c := range meta {
		if i > 0 {
			total++
		}
		total += c.size
		if c.size > lim.ValueBytes {
			ref, _ := excelize.CoordinatesToCellName(c.col, st.n)
			reason = connectors.Exceeded(fmt.Sprintf("cell %s (%d bytes)", ref, c.size), lim.ValueBytes, "value_bytes")
			break
		}
	}
	if reason == "" && total > lim.RowBytes {
		reason = connectors.Exceeded(fmt.Sprintf("row %d (%d bytes)", st.n, total), lim.RowBytes, "row_bytes")
	}
	if reason == "" {
		return "", ""
	}
	total = 0
	for _, c := range meta {
		total += c.size
	}
	return reason, fmt.Sprintf("(%d cells, %d bytes in all: not read, over the limit)", len(meta), total)
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
