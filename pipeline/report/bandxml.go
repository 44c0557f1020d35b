package report

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Band rows are written into the saved sheet's XML directly rather than cell by cell through
// excelize, whose per-cell bookkeeping and XML marshalling cost about 10 µs a cell — most of a
// street's build, where rosters run to tens of thousands of rows. excelize still does
// everything around the band (moving the rows below, formulas, merges, data validation); the
// band's template row, which it keeps with its styles, is then replaced by the filled rows.

// bandOut is one band's rows as they go into the sheet.
type bandOut struct {
	row    int   // the sheet row of the band's first line, after the rows above moved
	col    int   // the band's first column
	styles []int // per column, the template row's cell style
	rows   [][]bandCell
}

type bandCell struct {
	text   string
	number bool
}

// writeSheets replaces each band's template row in sheet of the workbook data with its rows, and
// fills the (empty) drill-down sheet with detail.
func writeSheets(data []byte, sheet string, bands []bandOut, detail [][]bandCell) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	sheetPath, err := sheetXMLPath(zr, sheet)
	if err != nil {
		return nil, err
	}
	detailPath, err := sheetXMLPath(zr, DetailSheet)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	// The re-written sheet is compressed for speed: it is most of the build's bytes.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	for _, f := range zr.File {
		if f.Name != sheetPath && f.Name != detailPath || f.Name == sheetPath && len(bands) == 0 {
			if err := zw.Copy(f); err != nil {
				return nil, err
			}
			continue
		}
		raw, err := readZipFile(f)
		if err != nil {
			return nil, err
		}
		if f.Name == detailPath {
			if raw, err = fillSheetData(raw, detail); err != nil {
				return nil, fmt.Errorf("sheet %s: %w", DetailSheet, err)
			}
		} else {
			for _, b := range bands {
				if raw, err = replaceRow(raw, b); err != nil {
					return nil, fmt.Errorf("sheet %s: %w", sheet, err)
				}
			}
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: f.Modified})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(raw); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// sheetXMLPath finds a sheet's part through the workbook and its relationships.
func sheetXMLPath(zr *zip.Reader, sheet string) (string, error) {
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	read := func(name string, v any) error {
		f, ok := files[name]
		if !ok {
			return fmt.Errorf("workbook part %s missing", name)
		}
		raw, err := readZipFile(f)
		if err != nil {
			return err
		}
		return xml.Unmarshal(raw, v)
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := read("xl/workbook.xml", &wb); err != nil {
		return "", err
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := read("xl/_rels/workbook.xml.rels", &rels); err != nil {
		return "", err
	}
	for _, s := range wb.Sheets {
		if s.Name != sheet {
			continue
		}
		for _, r := range rels.Rels {
			if r.ID == s.RID {
				if strings.HasPrefix(r.Target, "/") {
					return strings.TrimPrefix(r.Target, "/"), nil
				}
				return path.Join("xl", r.Target), nil
			}
		}
	}
	return "", fmt.Errorf("sheet %q not found in the workbook", sheet)
}

var rowAttrRe = regexp.MustCompile(`\s(r|spans)="[^"]*"`)

// replaceRow swaps the <row> element of b.row for b's rows, each with the template row's
// attributes (height, style) and the template cells' styles.
func replaceRow(raw []byte, b bandOut) ([]byte, error) {
	marker := []byte(fmt.Sprintf(`<row r="%d"`, b.row))
	start := bytes.Index(raw, marker)
	if start < 0 {
		return nil, fmt.Errorf("band row %d not in the sheet", b.row)
	}
	openEnd := bytes.IndexByte(raw[start:], '>')
	if openEnd < 0 {
		return nil, fmt.Errorf("band row %d: malformed", b.row)
	}
	openEnd += start
	end := openEnd + 1
	if raw[openEnd-1] != '/' {
		close := bytes.Index(raw[openEnd:], []byte("</row>"))
		if close < 0 {
			return nil, fmt.Errorf("band row %d: no </row>", b.row)
		}
		end = openEnd + close + len("</row>")
	}
	attrs := string(raw[start+len("<row") : openEnd])
	attrs = strings.TrimSuffix(rowAttrRe.ReplaceAllString(attrs, ""), "/")
	var sb bytes.Buffer
	if err := writeRows(&sb, b.row, b.col, b.styles, attrs, b.rows); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(raw)+sb.Len())
	out = append(out, raw[:start]...)
	out = append(out, sb.Bytes()...)
	out = append(out, raw[end:]...)
	return out, nil
}

// fillSheetData puts rows into an empty sheet's <sheetData/>, from A1.
func fillSheetData(raw []byte, rows [][]bandCell) ([]byte, error) {
	at := bytes.Index(raw, []byte("<sheetData/>"))
	n := len("<sheetData/>")
	if at < 0 {
		at = bytes.Index(raw, []byte("<sheetData></sheetData>"))
		n = len("<sheetData></sheetData>")
	}
	if at < 0 {
		return nil, fmt.Errorf("the sheet is not empty")
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r))
	}
	var sb bytes.Buffer
	sb.WriteString("<sheetData>")
	if err := writeRows(&sb, 1, 1, make([]int, width), "", rows); err != nil {
		return nil, err
	}
	sb.WriteString("</sheetData>")
	out := make([]byte, 0, len(raw)+sb.Len())
	out = append(out, raw[:at]...)
	out = append(out, sb.Bytes()...)
	return append(out, raw[at+n:]...), nil
}

// writeRows writes rows as <row> elements from (row, col), each cell with its column's style
// (0: none) and each row with attrs (a template row's height and style).
func writeRows(sb *bytes.Buffer, row, col int, styleIDs []int, attrs string, rows [][]bandCell) error {
	cols := make([]string, len(styleIDs))
	for j := range cols {
		cols[j], _ = excelize.ColumnNumberToName(col + j)
	}
	styles := make([]string, len(styleIDs))
	for j, st := range styleIDs {
		if st != 0 {
			styles[j] = ` s="` + strconv.Itoa(st) + `"`
		}
	}
	sb.Grow(len(rows) * len(styleIDs) * 48)
	var num []byte
	for i, cells := range rows {
		num = strconv.AppendInt(num[:0], int64(row+i), 10)
		sb.WriteString(`<row r="`)
		sb.Write(num)
		sb.WriteString(`"`)
		sb.WriteString(attrs)
		sb.WriteString(`>`)
		for j, c := range cells {
			if j >= len(cols) {
				break
			}
			sb.WriteString(`<c r="`)
			sb.WriteString(cols[j])
			sb.Write(num)
			sb.WriteString(`"`)
			sb.WriteString(styles[j])
			switch {
			case c.text == "":
				sb.WriteString(`/>`)
			case c.number:
				sb.WriteString(`><v>`)
				sb.WriteString(c.text)
				sb.WriteString(`</v></c>`)
			default:
				sb.WriteString(` t="inlineStr"><is><t xml:space="preserve">`)
				if err := xml.EscapeText(sb, []byte(c.text)); err != nil {
					return err
				}
				sb.WriteString(`</t></is></c>`)
			}
		}
		sb.WriteString(`</row>`)
	}
	return nil
}
