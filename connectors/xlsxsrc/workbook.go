package xlsxsrc

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/xuri/excelize/v2"

	"communityhub/connectors/filedrop"
)

// A workbook is one opened file.
//
// Cell values come from excelize's streaming Rows iterator (shared strings, inline and rich
// text, booleans, formula results, all raw). Excelize has no streaming way to get a cell's type
// and style or the sheet's merged ranges: GetCellType and GetMergeCells load the whole worksheet
// into memory, which a sheet of 400 000 rows cannot afford. So the worksheet part is also read
// straight from the zip, twice, by two light scanners: one for the merged ranges (they sit after
// the rows, and the header needs them first), one in step with the Rows iterator for each cell's
// type and style. Styles (number formats) and the 1904 date system come from excelize.
type workbook struct {
	rel       string
	f         *excelize.File
	zr        *zip.ReadCloser
	parts     map[string]*zip.File // part name (forward slashes) -> entry
	sheetPart map[string]string    // sheet name -> worksheet part
	date1904  bool
	dateStyle map[int]bool
}

func openWorkbook(file filedrop.File) (wb *workbook, err error) {
	defer func() {
		if p := recover(); p != nil { // excelize on a damaged file
			err = fmt.Errorf("%s: not a readable xlsx workbook: %v", file.Rel, p)
		}
	}()
	bad := func(err error) (*workbook, error) {
		if wb != nil {
			wb.close()
		}
		return nil, fmt.Errorf("%s: not a readable xlsx workbook: %w", file.Rel, err)
	}
	zr, err := zip.OpenReader(file.Path)
	if err != nil {
		return bad(err)
	}
	wb = &workbook{rel: file.Rel, zr: zr, dateStyle: map[int]bool{}}
	if err := checkZip(zr); err != nil {
		return bad(err)
	}
	wb.parts = make(map[string]*zip.File, len(wb.zr.File))
	for _, zf := range wb.zr.File {
		wb.parts[strings.ReplaceAll(zf.Name, "\\", "/")] = zf
	}
	f, err := excelize.OpenFile(file.Path)
	if err != nil {
		if f != nil {
			f.Close()
		}
		return bad(err)
	}
	wb.f = f
	if err := wb.mapSheets(); err != nil {
		return bad(err)
	}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		wb.date1904 = *props.Date1904
	}
	return wb, nil
}

// checkZip reads every part of the file once, so that a damaged file fails here, naming the
// part, rather than being half-read: excelize ignores a part's checksum error, and it reserves
// memory by the size a part's header announces, which must be possible (deflate shrinks data
// 1032 times at most) before excelize is given the file.
func checkZip(zr *zip.ReadCloser) error {
	var buf []byte
	for _, zf := range zr.File {
		if zf.UncompressedSize64 > 1032*zf.CompressedSize64+1<<16 {
			return fmt.Errorf("part %s: announced size %d for %d compressed bytes", zf.Name, zf.UncompressedSize64, zf.CompressedSize64)
		}
		name := strings.ToLower(strings.ReplaceAll(zf.Name, "\\", "/"))
		big := strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml"
		if !big && zf.UncompressedSize64 > 256<<20 {
			return fmt.Errorf("part %s: %d bytes", zf.Name, zf.UncompressedSize64)
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("part %s: %w", zf.Name, err)
		}
		if buf == nil {
			buf = make([]byte, 64<<10)
		}
		n, err := io.CopyBuffer(io.Discard, io.LimitReader(rc, int64(zf.UncompressedSize64)+1), buf)
		rc.Close()
		if err == nil && uint64(n) != zf.UncompressedSize64 {
			err = fmt.Errorf("%d bytes, announced %d", n, zf.UncompressedSize64)
		}
		if err != nil {
			return fmt.Errorf("part %s: %w", zf.Name, err)
		}
	}
	return nil
}

func (wb *workbook) close() {
	if wb.zr != nil {
		wb.zr.Close()
	}
	if wb.f != nil {
		wb.f.Close()
	}
}

// sheets lists the workbook's sheets in order.
func (wb *workbook) sheets() []string { return wb.f.GetSheetList() }

func (wb *workbook) part(name string) *zip.File {
	if zf, ok := wb.parts[name]; ok {
		return zf
	}
	for k, zf := range wb.parts {
		if strings.EqualFold(k, name) {
			return zf
		}
	}
	return nil
}

type xmlRels struct {
	Rels []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
	} `xml:"Relationship"`
}

type xmlWorkbook struct {
	Sheets []struct {
		Name string `xml:"name,attr"`
		RID  string `xml:"id,attr"` // r:id
	} `xml:"sheets>sheet"`
}

func (wb *workbook) decodePart(name string, v any) error {
	zf := wb.part(name)
	if zf == nil {
		return fmt.Errorf("no part %s", name)
	}
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	d := newDecoder(io.LimitReader(rc, 64<<20))
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// mapSheets finds each sheet's worksheet part the way excelize does: the workbook part from
// _rels/.rels, then the workbook's relationships.
func (wb *workbook) mapSheets() error {
	wbPath := "xl/workbook.xml"
	var root xmlRels
	if err := wb.decodePart("_rels/.rels", &root); err == nil {
		for _, r := range root.Rels {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				wbPath = strings.TrimPrefix(r.Target, "/")
				break
			}
		}
	}
	dir := path.Dir(wbPath)
	relsPath := "_rels/" + path.Base(wbPath) + ".rels"
	if dir != "." {
		relsPath = dir + "/" + relsPath
	}
	var book xmlWorkbook
	if err := wb.decodePart(wbPath, &book); err != nil {
		return err
	}
	var rels xmlRels
	if err := wb.decodePart(relsPath, &rels); err != nil {
		return err
	}
	wb.sheetPart = map[string]string{}
	for _, s := range book.Sheets {
		for _, r := range rels.Rels {
			if r.ID != s.RID {
				continue
			}
			p := strings.TrimPrefix(path.Clean(dir+"/"+r.Target), "/")
			if strings.HasPrefix(r.Target, "/") {
				p = strings.TrimPrefix(path.Clean(r.Target), "/")
			}
			if wb.part(p) != nil {
				wb.sheetPart[s.Name] = p
			}
		}
	}
	return nil
}

func (wb *workbook) partOf(sheet string) (*zip.File, error) {
	p, ok := wb.sheetPart[sheet]
	if !ok {
		for name, q := range wb.sheetPart {
			if strings.EqualFold(name, sheet) {
				p, ok = q, true
				break
			}
		}
	}
	if !ok {
		return nil, fmt.Errorf("%s: sheet %q: no worksheet part", wb.rel, sheet)
	}
	return wb.part(p), nil
}

// isDate tells whether a cell style shows numbers as dates.
func (wb *workbook) isDate(style int) bool {
	if style <= 0 {
		return false
	}
	d, ok := wb.dateStyle[style]
	if !ok {
		d = wb.styleIsDate(style)
		wb.dateStyle[style] = d
	}
	return d
}

func (wb *workbook) styleIsDate(style int) (d bool) {
	defer func() {
		if recover() != nil {
			d = false
		}
	}()
	st, err := wb.f.GetStyle(style)
	if err != nil || st == nil {
		return false
	}
	if st.CustomNumFmt != nil {
		return isDateFormat(*st.CustomNumFmt)
	}
	return builtinDateFmt[st.NumFmt]
}

// builtinDateFmt are the built-in number formats that show a date (14–17, 22 and the East Asian
// ones: yyyy"年"m"月", m"月"d"日", yyyy"年"m"月"d"日", …). Time-only formats are not dates.
var builtinDateFmt = map[int]bool{
	14: true, 15: true, 16: true, 17: true, 22: true,
	27: true, 28: true, 29: true, 30: true, 31: true, 36: true,
	50: true, 51: true, 52: true, 53: true, 54: true, 57: true, 58: true,
}

// isDateFormat tells whether a custom number format code shows a date: its first section has a
// year or day token (or a month without hours and seconds) outside quoted text, escapes and
// [bracketed] parts.
func isDateFormat(code string) bool {
	var b strings.Builder
	inQuote, inBracket := false, false
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case inQuote:
			if c == '"' {
				inQuote = false
			}
		case inBracket:
			if c == ']' {
				inBracket = false
			}
		case c == '"':
			inQuote = true
		case c == '[':
			inBracket = true
		case c == '\\' || c == '_' || c == '*':
			i++ // escaped or padding character
		case c == ';':
			i = len(code) // first section only
		default:
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		}
	}
	s := b.String()
	if strings.Contains(s, "general") {
		s = strings.ReplaceAll(s, "general", "")
	}
	if strings.ContainsAny(s, "yd") {
		return true
	}
	return strings.Contains(s, "m") && !strings.ContainsAny(s, "hs")
}

func newDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return input, nil
		}
		return nil, fmt.Errorf("unsupported XML encoding %q", label)
	}
	return d
}
