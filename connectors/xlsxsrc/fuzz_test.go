package xlsxsrc

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"communityhub/connectors"
	"communityhub/connectors/conntest"
)

// FuzzXLSX reads arbitrary bytes as an .xlsx file. Errors are fine; a panic is not, and what is
// read must have unique locations and valid UTF-8 throughout.
func FuzzXLSX(f *testing.F) {
	dir := f.TempDir()
	for _, gb := range goldenBooks {
		p := filepath.Join(dir, gb.name+".xlsx")
		gb.write(f, p)
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "in.xlsx"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		checkRead(t, dir)
	})
}

// checkRead reads the folder's in.xlsx: errors are fine, what is read must hold together.
func checkRead(t *testing.T, dir string) {
	src, err := New(connectors.Config{Name: "fuzz", Kind: "xlsx", BaseDir: dir, Options: map[string]any{"glob": "in.xlsx", "sheet_column": "_sheet", "batch_rows": 3}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := conntest.Read(ctx, src, "")
	if err != nil {
		return
	}
	cols, err := src.Columns(ctx)
	if err != nil {
		t.Fatalf("read works but Columns fails: %v", err)
	}
	if len(c.Rows) > 0 && strings.Join(c.Columns, "\x00") != strings.Join(cols, "\x00") {
		t.Fatalf("batch columns %q, Columns %q", c.Columns, cols)
	}
	seen := map[string]bool{}
	valid := func(what, s string) {
		if !utf8.ValidString(s) {
			t.Fatalf("%s is not UTF-8: %q", what, s)
		}
	}
	for _, col := range cols {
		valid("column", col)
	}
	for _, r := range c.Rows {
		if seen[r.Loc] {
			t.Fatalf("location %s twice", r.Loc)
		}
		seen[r.Loc] = true
		valid("loc", r.Loc)
		valid("flags", r.Flags)
		for k, v := range r.Vals {
			valid("column", k)
			valid("value", v)
		}
	}
	for _, rj := range c.Rejects {
		if seen[rj.Loc] {
			t.Fatalf("location %s twice", rj.Loc)
		}
		seen[rj.Loc] = true
		valid("reject loc", rj.Loc)
		valid("reject raw", rj.Raw)
		valid("reject reason", rj.Reason)
	}
}

// FuzzSheetXML puts arbitrary worksheet XML into a valid workbook (with shared strings, a date
// style and correct checksums, which byte-level mutations of a zip rarely keep) and reads it.
func FuzzSheetXML(f *testing.F) {
	dir := f.TempDir()
	for _, gb := range goldenBooks {
		p := filepath.Join(dir, gb.name+".xlsx")
		gb.write(f, p)
		zr, err := zip.OpenReader(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, zf := range zr.File {
			if strings.HasPrefix(zf.Name, "xl/worksheets/") {
				rc, _ := zf.Open()
				b, _ := io.ReadAll(rc)
				rc.Close()
				// Without the dozens of name spaces excelize declares, for shorter inputs.
				f.Add(xmlnsRe.ReplaceAll(b, nil))
			}
		}
		zr.Close()
	}
	f.Add([]byte(`<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>序号</t></is></c><c r="B1" t="inlineStr"><is><t>基本信息</t></is></c></row>` +
		`<row r="2"><c r="B2" t="inlineStr"><is><t>姓名</t></is></c><c r="C2" t="inlineStr"><is><t>身份证号</t></is></c></row>` +
		`<row r="3"><c r="A3"><v>1</v></c><c r="B3" t="str"><v>张三</v></c><c r="C3" t="n"><v>3.20105195803041E+17</v></c><c r="D3" t="b"><v>1</v></c></row>` +
		`<row><c t="d"><v>2026-01-02T00:00:00Z</v></c><c><v>2</v></c><c t="e"><v>#N/A</v></c></row>` +
		`</sheetData><mergeCells><mergeCell ref="A1:A2"/><mergeCell ref="B1:C1"/><x:mergeCell ref="D3:D9"/></mergeCells></worksheet>`))
	skeleton, err := os.ReadFile(filepath.Join(dir, "awkward.xlsx"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sheet []byte) {
		zr, err := zip.NewReader(bytes.NewReader(skeleton), int64(len(skeleton)))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, zf := range zr.File {
			if zf.Name != "xl/worksheets/sheet1.xml" {
				if err := zw.Copy(zf); err != nil {
					t.Fatal(err)
				}
				continue
			}
			w, err := zw.Create(zf.Name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(sheet)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "in.xlsx"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		checkRead(t, dir)
	})
}

var xmlnsRe = regexp.MustCompile(` xmlns:[a-z0-9]+="[^"]*"`)

// FuzzHeader flattens arbitrary two-row headers with arbitrary merged ranges: the names must be
// unique, non-empty and valid UTF-8, one per column of the table.
func FuzzHeader(f *testing.F) {
	f.Add("序号|基本信息|||服役信息||优抚类别", "|姓名|性别|身份证号|入伍时间|退役时间|", []byte{0, 0, 0, 1, 1, 0, 3, 0, 4, 0, 5, 0, 6, 0, 6, 1})
	f.Add("姓名|身份证\n号码| 性 别 ", "", []byte{})
	f.Add("||备注|备注", "a|a", []byte{2, 255, 9, 2})
	f.Fuzz(func(t *testing.T, top, bottom string, m []byte) {
		rows := [][]string{strings.Split(top, "|"), strings.Split(bottom, "|")}
		var merges []span
		for i := 0; i+3 < len(m); i += 4 {
			merges = append(merges, span{int(m[i]%24) + 1, int(m[i+1]%5) - 1, int(m[i+2]%24) + 1, int(m[i+3]%5) - 1})
		}
		first, names := flattenHeader(rows, merges)
		if len(names) == 0 {
			return
		}
		if first < 1 {
			t.Fatalf("first column %d", first)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if n == "" || seen[n] {
				t.Fatalf("empty or repeated name in %q", names)
			}
			seen[n] = true
			if utf8.ValidString(top) && utf8.ValidString(bottom) && !utf8.ValidString(n) {
				t.Fatalf("name %q is not UTF-8", n)
			}
		}
	})
}
