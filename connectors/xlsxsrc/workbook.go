package xlsxsrc

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/xuri/excelize/v2"

	"communityhub/connectors"
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
	lim       connectors.Limits
	f         *excelize.File
	zr        *zip.ReadCloser
	parts     map[string]*zip.File // part name (forward slashes) -> entry
	sheetPart map[string]string    // sheet name -> worksheet part
	sst       *sstSizes            // the size of each shared string, before excelize reads one
	date1904  bool
	dateStyle map[int]bool
}

// Bounds of what excelize keeps in memory.
const (
	// xmlInMemory is the size above which excelize unzips a worksheet or the shared strings to a
	// temporary file instead of holding it in memory (its UnzipXMLSizeLimit).
	xmlInMemory = 16 << 20
	// otherPartMax caps a part other than a worksheet or the shared strings (styles, theme,
	// drawings): excelize holds and decodes those whole.
	otherPartMax = 256 << 20
)

// testHookOpen, when set (by tests), is called at each stage of opening a workbook.
var testHookOpen func(stage string)

func hook(stage string) {
	if testHookOpen != nil {
		testHookOpen(stage)
	}
}

// openWorkbook opens a file within the limits. Before excelize sees the file it is sniffed (an
// OLE compound file is an encrypted workbook or an .xls, not a zip) and every zip part is read
// once (checkZip): a part over its limit fails here, naming the file, the part and the limit.
// Cancelling ctx stops it promptly with ctx.Err(), whatever stage it is in.
func openWorkbook(ctx context.Context, file filedrop.File, lim connectors.Limits) (wb *workbook, err error) {
	defer func() {
		if p := recover(); p != nil { // excelize on a damaged file
			if wb != nil {
				wb.close()
			}
			wb, err = nil, fmt.Errorf("%s: not a readable xlsx workbook: %s", file.Rel, connectors.Excerpt(fmt.Sprint(p), 200))
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bad := func(err error) (*workbook, error) {
		if wb != nil {
			wb.close()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var le *limitError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%s: %s", file.Rel, le.msg)
		}
		return nil, fmt.Errorf("%s: not a readable xlsx workbook: %s", file.Rel, connectors.Excerpt(err.Error(), 200))
	}
	if err := sniff(ctx, file); err != nil {
		return nil, err
	}
	hook("sniffed")
	zr, err := zip.OpenReader(file.Path)
	if err != nil {
		return bad(err)
	}
	wb = &workbook{rel: file.Rel, lim: lim, zr: zr, dateStyle: map[int]bool{}}
	if wb.sst, err = checkZip(ctx, zr, lim); err != nil {
		return bad(err)
	}
	hook("checked")
	wb.parts = make(map[string]*zip.File, len(wb.zr.File))
	for _, zf := range wb.zr.File {
		wb.parts[strings.ReplaceAll(zf.Name, "\\", "/")] = zf
	}
	f, err := openExcelize(ctx, file.Path)
	if err != nil {
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

// openExcelize opens the (checked) file with excelize, which unzips it once more: parts it
// would hold in memory were bounded by checkZip, worksheets and shared strings over
// xmlInMemory go to temporary files. Excelize cannot be interrupted, so it runs in a goroutine:
// on cancel, openExcelize returns ctx.Err() at once and the goroutine closes what it opened.
func openExcelize(ctx context.Context, path string) (*excelize.File, error) {
	type result struct {
		f   *excelize.File
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- result{nil, fmt.Errorf("%v", p)}
			}
		}()
		f, err := excelize.OpenFile(path, excelize.Options{UnzipXMLSizeLimit: xmlInMemory})
		if err != nil && f != nil {
			f.Close()
			f = nil
		}
		ch <- result{f, err}
	}()
	hook("excelize")
	select {
	case r := <-ch:
		if r.err == nil && ctx.Err() != nil {
			r.f.Close()
			return nil, ctx.Err()
		}
		return r.f, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.f != nil {
				r.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// oleMagic starts an OLE compound file (CFB): how Excel saves a password-protected workbook
// (the encrypted package inside), and the Excel 97–2003 .xls format.
var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// sniff tells a compound file from a zip before the zip reader calls it "not a valid zip
// file": an encrypted workbook (its directory names the streams EncryptionInfo and
// EncryptedPackage) gets a message saying so, any other compound file is taken for an .xls.
func sniff(ctx context.Context, file filedrop.File) error {
	fh, err := os.Open(file.Path)
	if err != nil {
		return fmt.Errorf("%s: %w", file.Rel, err)
	}
	defer fh.Close()
	head := make([]byte, len(oleMagic))
	if n, _ := io.ReadFull(fh, head); n < len(head) || !bytes.Equal(head, oleMagic) {
		return nil
	}
	enc, err := cfbEncrypted(ctx, fh)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w", file.Rel, err)
	}
	if enc {
		return fmt.Errorf("file %s is encrypted (password-protected); save it without a password", file.Rel)
	}
	return fmt.Errorf("file %s is an OLE compound file (an Excel 97–2003 .xls workbook?), not an .xlsx workbook; save it as .xlsx", file.Rel)
}

// utf16le is s in UTF-16LE, as compound-file directory entries spell stream names.
func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

var encStreams = [][]byte{utf16le("EncryptionInfo"), utf16le("EncryptedPackage")}

// cfbEncrypted scans a compound file for the directory entry of an encrypted package's
// streams, in chunks (the directory may sit anywhere), checking ctx between chunks.
func cfbEncrypted(ctx context.Context, r io.Reader) (bool, error) {
	const overlap = 64
	buf := make([]byte, 256<<10)
	keep := 0
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		n, err := io.ReadFull(r, buf[keep:])
		data := buf[:keep+n]
		for _, p := range encStreams {
			if bytes.Contains(data, p) {
				return true, nil
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		keep = copy(buf, data[len(data)-overlap:])
	}
}

// limitError is a part over a limit: its message names the limit's setting.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// checkZip reads every part once, so that a damaged file fails here, naming the part, rather
// than being half-read (excelize ignores a part's checksum error), and so that nothing over the
// limits reaches excelize:
//   - xl/sharedStrings.xml may take Limits.SharedStringsBytes uncompressed, any other part
//     Limits.PartBytes, and a part excelize holds whole in memory (anything but a worksheet)
//     otherPartMax; the parts excelize holds in memory (all but the shared strings and the
//     worksheets over xmlInMemory) together take Limits.PartBytes at most.
//   - A size is checked twice: as the zip directory announces it (excelize reserves memory by
//     it; deflate shrinks data 1032 times at most, so a larger claim is a lie), and while the
//     part is read, by counting what it gives. A part giving more or less than it announces
//     fails (archive/zip itself refuses to read past the announced size, so excelize, reading
//     the same file later, never gets more than was checked here).
//
// The shared strings are measured on the way (scanSST), and their sizes returned.
func checkZip(ctx context.Context, zr *zip.ReadCloser, lim connectors.Limits) (*sstSizes, error) {
	var (
		buf  = make([]byte, 64<<10)
		sst  *sstSizes
		held uint64
	)
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name := strings.ToLower(strings.ReplaceAll(zf.Name, "\\", "/"))
		shown := connectors.Excerpt(zf.Name, 80)
		size := zf.UncompressedSize64
		if size > 1032*zf.CompressedSize64+1<<16 {
			return nil, fmt.Errorf("part %s: announced size %d for %d compressed bytes", shown, size, zf.CompressedSize64)
		}
		isSST := name == "xl/sharedstrings.xml"
		isSheet := strings.HasPrefix(name, "xl/worksheets/sheet")
		limit, setting, what := lim.PartBytes, "part_bytes", "part "+shown
		if isSST {
			limit, setting, what = lim.SharedStringsBytes, "shared_strings_bytes", "the shared strings (part "+shown+")"
		}
		over := func(n uint64) error {
			return &limitError{connectors.Exceeded(fmt.Sprintf("%s, %d bytes uncompressed,", what, n), limit, setting)}
		}
		if size > uint64(limit) {
			return nil, over(size)
		}
		if !isSST && !isSheet && size > otherPartMax {
			return nil, fmt.Errorf("part %s: %d bytes, more than the %d MiB a part other than a worksheet may have", shown, size, otherPartMax>>20)
		}
		// Excelize unzips larger worksheets and shared strings to temporary files; the shared
		// strings have a limit of their own.
		if inMemory := !isSST && (!isSheet || size <= xmlInMemory); inMemory {
			if held += size; held > uint64(lim.PartBytes) {
				return nil, &limitError{connectors.Exceeded(fmt.Sprintf("the parts held in memory, %d bytes uncompressed in all,", held), lim.PartBytes, "part_bytes")}
			}
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("part %s: %w", shown, err)
		}
		cr := &countingReader{r: io.LimitReader(rc, limit+1), ctx: ctx}
		if isSST {
			var s *sstSizes
			s, err = scanSST(ctx, cr)
			if err == nil {
				sst = sst.merge(s)
			} else if ctx.Err() == nil {
				err = fmt.Errorf("shared strings: %w", err)
			}
		}
		if err == nil {
			_, err = io.CopyBuffer(io.Discard, cr, buf)
		}
		rc.Close()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err == nil && cr.n > uint64(limit) {
			return nil, over(cr.n)
		}
		if err == nil && cr.n != size {
			err = fmt.Errorf("%d bytes, announced %d", cr.n, size)
		}
		if err != nil {
			return nil, fmt.Errorf("part %s: %w", shown, err)
		}
	}
	return sst, nil
}

// countingReader counts the bytes read and stops with ctx.Err() when ctx is cancelled (checked
// every megabyte or so).
type countingReader struct {
	r    io.Reader
	ctx  context.Context
	n    uint64
	next uint64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.next {
		if err := c.ctx.Err(); err != nil {
			return 0, err
		}
		c.next = c.n + 1<<20
	}
	n, err := c.r.Read(p)
	c.n += uint64(n)
	return n, err
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
