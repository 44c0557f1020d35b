package xlsxsrc

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"communityhub/connectors"
	"communityhub/connectors/conntest"
)

// The files of these tests are written part by part with archive/zip: the hostile ones cannot be
// made with excelize (a shared string used by hundreds of cells, a zip directory that lies).

// part is one zip entry; lie, when set, is the uncompressed size the directory announces.
type part struct {
	name, data string
	lie        uint64
}

// writeParts writes a zip of the parts, deflated.
func writeParts(t testing.TB, path string, parts []part) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		if p.lie == 0 {
			w, err := zw.Create(p.name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte(p.data)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var comp bytes.Buffer
		fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
		fw.Write([]byte(p.data))
		fw.Close()
		w, err := zw.CreateRaw(&zip.FileHeader{Name: p.name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE([]byte(p.data)),
			CompressedSize64: uint64(comp.Len()), UncompressedSize64: p.lie})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(comp.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// bookParts is a minimal workbook of one sheet "Sheet1" with the given worksheet XML (the inside
// of <sheetData>) and shared strings (nil: no shared-strings part).
func bookParts(sheetData string, shared []string) []part {
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	parts := []part{
		{name: "[Content_Types].xml", data: `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`},
		{name: "_rels/.rels", data: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{name: "xl/workbook.xml", data: `<?xml version="1.0" encoding="UTF-8"?><workbook ` + ns + ` xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
			`<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{name: "xl/_rels/workbook.xml.rels", data: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`},
		{name: "xl/worksheets/sheet1.xml", data: `<?xml version="1.0" encoding="UTF-8"?><worksheet ` + ns + `><sheetData>` + sheetData + `</sheetData></worksheet>`},
	}
	if shared != nil {
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><sst %s count="%d" uniqueCount="%d">`, ns, len(shared), len(shared))
		for _, s := range shared {
			b.WriteString("<si><t>" + s + "</t></si>")
		}
		b.WriteString("</sst>")
		parts = append(parts, part{name: "xl/sharedStrings.xml", data: b.String()})
	}
	return parts
}

// inlineRow is row n with inline-string cells from column A.
func inlineRow(n int, vals ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<row r="%d">`, n)
	for i, v := range vals {
		ref, _ := excelize.CoordinatesToCellName(i+1, n)
		fmt.Fprintf(&b, `<c r="%s" t="inlineStr"><is><t>%s</t></is></c>`, ref, v)
	}
	b.WriteString("</row>")
	return b.String()
}

// sharedRow is row n with cells A…(width) naming shared string si.
func sharedRow(n, width, si int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<row r="%d">`, n)
	for c := 1; c <= width; c++ {
		ref, _ := excelize.CoordinatesToCellName(c, n)
		fmt.Fprintf(&b, `<c r="%s" t="s"><v>%d</v></c>`, ref, si)
	}
	b.WriteString("</row>")
	return b.String()
}

func openLimited(t testing.TB, dir string, opts map[string]any, lim connectors.Limits) connectors.Source {
	t.Helper()
	src, err := connectors.Open(connectors.Config{Name: "test", Kind: "xlsx", BaseDir: dir, Options: opts, Getenv: os.Getenv, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// bombBook writes the hostile ledger: a header of width columns, a good row, a row whose every
// cell is shared string 0 (huge), a row whose every cell is shared string 1 (each cell under the
// value limit, the row far over the row limit), and another good row.
func bombBook(t testing.TB, path string, width int, huge, big int) {
	header := make([]string, width)
	for i := range header {
		header[i] = fmt.Sprintf("列%d", i+1)
	}
	rows := inlineRow(1, header...) + inlineRow(2, "张三", "320105195803041234") +
		sharedRow(3, width, 0) + sharedRow(4, width, 1) + inlineRow(5, "李四", "32010519600512123X")
	writeParts(t, path, bookParts(rows, []string{strings.Repeat("长", huge/3), strings.Repeat("a", big)}))
}

// TestSharedStringBomb: a few kilobytes of xlsx whose 2 MiB shared string is used by 200 cells
// (400 MiB once copied into every cell) is read in bounded memory: the row naming it is
// rejected for the value limit, the row of 200 × 100 KiB for the row limit, and the good rows
// around them are written.
func TestSharedStringBomb(t *testing.T) {
	dir := t.TempDir()
	bombBook(t, join(dir, "bomb.xlsx"), 200, 2<<20, 100<<10)
	if st, _ := os.Stat(join(dir, "bomb.xlsx")); st.Size() > 64<<10 {
		t.Fatalf("the bomb is %d bytes, meant to be small", st.Size())
	}
	lim := connectors.Limits{ValueBytes: 1 << 20, RowBytes: 4 << 20, SharedStringsBytes: 8 << 20}
	src := openLimited(t, dir, nil, lim)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c, err := conntest.Read(context.Background(), src, "")
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 100<<20 {
		t.Errorf("reading allocated %d MiB in all: the shared string was copied into its cells", alloc>>20)
	}
	if len(c.Rows) != 2 || c.Rows[0].Loc != "bomb.xlsx!Sheet1!2" || c.Rows[1].Loc != "bomb.xlsx!Sheet1!5" || c.Rows[1].Vals["列1"] != "李四" {
		t.Fatalf("rows %+v", c.Rows)
	}
	if len(c.Rejects) != 2 {
		t.Fatalf("rejects %+v", c.Rejects)
	}
	for i, want := range []struct{ loc, reason string }{
		{"bomb.xlsx!Sheet1!3", "cell A3 (2097150 bytes) exceeds the limit of 1 MiB (raise limits.value_bytes)"},
		{"bomb.xlsx!Sheet1!4", "exceeds the limit of 4 MiB (raise limits.row_bytes)"},
	} {
		rj := c.Rejects[i]
		if rj.Loc != want.loc || !strings.Contains(rj.Reason, want.reason) || len(rj.Raw) > 200 {
			t.Errorf("reject %d: %+v, want %s with %q", i, rj, want.loc, want.reason)
		}
	}
}

// TestSharedStringBombDefaults is the file of the report: 24 KB whose one 20 MB shared string is
// used by 200 cells, with the default limits (the shared strings fit; the cells do not). It
// took the process down with "fatal error: out of memory".
func TestSharedStringBombDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("20 MB string")
	}
	dir := t.TempDir()
	bombBook(t, join(dir, "bomb.xlsx"), 200, 20<<20, 10)
	c, err := conntest.Read(context.Background(), open(t, dir, nil), "")
	if err != nil {
		t.Fatal(err)
	}
	// Row 4 (200 × 10 bytes) is within the limits.
	if len(c.Rows) != 3 || len(c.Rejects) != 1 || !strings.Contains(c.Rejects[0].Reason, "limits.value_bytes") {
		t.Fatalf("%d rows, rejects %+v", len(c.Rows), c.Rejects)
	}
}

// TestPartLimits: shared strings over shared_strings_bytes, a worksheet over part_bytes, and a
// zip directory announcing less than a part holds all fail the read (and Columns, Probe) with
// an error naming the file and the limit or the part.
func TestPartLimits(t *testing.T) {
	dir := t.TempDir()
	bombBook(t, join(dir, "bomb.xlsx"), 200, 2<<20, 10)
	check := func(name string, src connectors.Source, want ...string) {
		t.Helper()
		_, rerr := conntest.Read(context.Background(), src, "")
		_, cerr := src.Columns(context.Background())
		perr := src.(connectors.Prober).Probe(context.Background())
		for op, err := range map[string]error{"read": rerr, "columns": cerr, "probe": perr} {
			if err == nil {
				t.Errorf("%s: %s: no error", name, op)
				continue
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: %s: error %q does not say %q", name, op, err, w)
				}
			}
		}
	}
	check("shared strings", openLimited(t, dir, nil, connectors.Limits{SharedStringsBytes: 1 << 20}),
		"bomb.xlsx: ", "the shared strings (part xl/sharedStrings.xml", "exceeds the limit of 1 MiB (raise limits.shared_strings_bytes)")
	check("worksheet", openLimited(t, dir, nil, connectors.Limits{PartBytes: 16 << 10}),
		"bomb.xlsx: ", "part xl/worksheets/sheet1.xml", "exceeds the limit of 16 KiB (raise limits.part_bytes)")

	// A directory that lies: the worksheet announces 1 KiB and holds 1 MiB.
	os.Remove(join(dir, "bomb.xlsx"))
	parts := bookParts("", nil)
	var rows strings.Builder
	rows.WriteString(inlineRow(1, "姓名", "住址"))
	for n := 2; rows.Len() < 1<<20; n++ {
		rows.WriteString(inlineRow(n, "张三", "幸福路"))
	}
	for i := range parts {
		if parts[i].name == "xl/worksheets/sheet1.xml" {
			parts[i].data = strings.Replace(parts[i].data, "<sheetData></sheetData>", "<sheetData>"+rows.String()+"</sheetData>", 1)
			parts[i].lie = 1 << 10
		}
	}
	writeParts(t, join(dir, "liar.xlsx"), parts)
	check("lying directory", open(t, dir, nil), "liar.xlsx", "part xl/worksheets/sheet1.xml")
}

// TestEncrypted: a password-protected workbook (excelize encrypts it the way Excel does, into an
// OLE compound file) is named as such, not as a broken zip; another compound file is taken for
// an .xls.
func TestEncrypted(t *testing.T) {
	dir := t.TempDir()
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"姓名", "住址"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"张三", "幸福路"})
	if err := f.SaveAs(join(dir, "secret.xlsx"), excelize.Options{Password: "s3cret-pass"}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data, err := os.ReadFile(join(dir, "secret.xlsx"))
	if err != nil || !bytes.HasPrefix(data, oleMagic) {
		t.Fatalf("excelize did not write a compound file: %v % x", err, data[:min(8, len(data))])
	}
	src := open(t, dir, nil)
	want := "file secret.xlsx is encrypted (password-protected); save it without a password"
	if _, err := conntest.Read(context.Background(), src, ""); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("read: %v, want %q", err, want)
	}
	if err := src.(connectors.Prober).Probe(context.Background()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("probe: %v, want %q", err, want)
	}
	os.Remove(join(dir, "secret.xlsx"))

	// The magic and nothing of an encrypted package: an Excel 97–2003 file.
	xls := append(append([]byte{}, oleMagic...), make([]byte, 4096)...)
	copy(xls[512:], utf16le("Workbook"))
	os.WriteFile(join(dir, "old.xlsx"), xls, 0o644)
	_, err = conntest.Read(context.Background(), open(t, dir, nil), "")
	if err == nil || !strings.Contains(err.Error(), "file old.xlsx is an OLE compound file") || !strings.Contains(err.Error(), ".xls") {
		t.Errorf("xls: %v", err)
	}
}

// TestNoDataRows: a sheet with a header and nothing under it (or only a 合计 line and notes) fails
// the read, naming the sheet and the file; allow_empty_sheets passes over such a sheet, but
// still fails a workbook with no data row in any sheet.
func TestNoDataRows(t *testing.T) {
	dir := t.TempDir()
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"姓名", "住址"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"合计", "0人"})
	f.SetSheetRow("Sheet1", "A3", &[]any{"注：本表每月更新"})
	f.NewSheet("秦淮社区")
	f.SetSheetRow("秦淮社区", "A1", &[]any{"姓名", "住址"})
	f.SetSheetRow("秦淮社区", "A2", &[]any{"李三", "秦淮路3号"})
	if err := f.SaveAs(join(dir, "a.xlsx")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err := conntest.Read(context.Background(), open(t, dir, nil), "")
	if want := `sheet "Sheet1" of file a.xlsx has a header but no data rows`; err == nil || err.Error() != want {
		t.Fatalf("read: %v, want %q", err, want)
	}
	c, err := conntest.Read(context.Background(), open(t, dir, map[string]any{"allow_empty_sheets": true}), "")
	if err != nil || len(c.Rows) != 1 || c.Rows[0].Loc != "a.xlsx!秦淮社区!2" || c.Skips["total"] != 1 || c.Skips["note"] != 1 {
		t.Fatalf("allow_empty_sheets: %v %+v", err, c)
	}
	_, err = conntest.Read(context.Background(), open(t, dir, map[string]any{"allow_empty_sheets": true, "sheets": []string{"Sheet1"}}), "")
	if want := "file a.xlsx: no selected sheet has data rows"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("workbook without data: %v, want %q", err, want)
	}
}

// TestNotesAndRepeatedHeader: under a two-row header, a header repeated inside the table (both
// rows, as a sheet printed in pages repeats it) is skipped as "header"; notes under the table
// (填表说明, 注：, a line of signatures over several cells, a merged line) as "note"; a record
// whose first cell starts like a note word (注销) is a record.
func TestNotesAndRepeatedHeader(t *testing.T) {
	dir := t.TempDir()
	f := excelize.NewFile()
	const sh = "Sheet1"
	header := func(r int) {
		f.SetSheetRow(sh, fmt.Sprintf("A%d", r), &[]any{"序号", "基本信息", nil, "状态"})
		f.SetSheetRow(sh, fmt.Sprintf("A%d", r+1), &[]any{nil, "姓 名", "身份证号"})
		f.MergeCell(sh, fmt.Sprintf("A%d", r), fmt.Sprintf("A%d", r+1))
		f.MergeCell(sh, fmt.Sprintf("B%d", r), fmt.Sprintf("C%d", r))
		f.MergeCell(sh, fmt.Sprintf("D%d", r), fmt.Sprintf("D%d", r+1))
	}
	header(1)
	f.SetSheetRow(sh, "A3", &[]any{1, "张三", "320105195803041234", "在册"})
	header(4)
	f.SetSheetRow(sh, "A6", &[]any{nil, "姓名", "身份证号"}) // the lower header row alone, as typed again
	f.SetSheetRow(sh, "A7", &[]any{"注销", "李四", "32010519600512123X", "迁出"})
	f.SetSheetRow(sh, "A8", &[]any{"填表说明：1. 身份证号以文本格式填写；2. 状态填在册或迁出。"})
	f.SetSheetRow(sh, "A9", &[]any{"注：本表每月更新"})
	f.SetSheetRow(sh, "A10", &[]any{"填表人：王建平", nil, "审核人：李秀梅", "日期：2026年11月"})
	f.SetSheetRow(sh, "A11", &[]any{"以上数据由社区工作人员据实填写"})
	f.MergeCell(sh, "A11", "D11")
	if err := f.SaveAs(join(dir, "ledger.xlsx")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c, err := conntest.Read(context.Background(), open(t, dir, nil), "")
	if err != nil {
		t.Fatal(err)
	}
	var locs []string
	for _, r := range c.Rows {
		locs = append(locs, r.Loc+"="+r.Vals["基本信息/姓名"])
	}
	if want := "ledger.xlsx!Sheet1!3=张三 ledger.xlsx!Sheet1!7=李四"; strings.Join(locs, " ") != want {
		t.Errorf("rows %q, want %s", locs, want)
	}
	if c.Skips["header"] != 3 || c.Skips["note"] != 4 || len(c.Rejects) != 0 {
		t.Errorf("skips %v rejects %+v, want 3 header and 4 note", c.Skips, c.Rejects)
	}
}

func TestNoteWord(t *testing.T) {
	for v, want := range map[string][2]bool{
		"填表说明：1. …": {true, true}, "说明：以上": {true, true}, "注：本表": {true, true}, "注1. 身份证": {true, false},
		"注": {true, false}, "备注：无": {true, true}, " 填表人 ：张三": {true, true}, "审核人李四": {true, false},
		"注销": {false, false}, "注册志愿者": {false, false}, "张三": {false, false}, "说明书": {true, false},
	} {
		ok, colon := noteWord(v)
		if ok != want[0] || colon != want[1] {
			t.Errorf("noteWord(%q) = %v %v, want %v %v", v, ok, colon, want[0], want[1])
		}
	}
}

// TestErrorsQuoteExcerpts: what an error says of a file's contents is an excerpt: a header cell
// of 5 000 characters in a schema drift, a damaged row number of 100 000 characters.
func TestErrorsQuoteExcerpts(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("长", 5000)
	row := func(int) []any { return []any{"张三", "幸福路"} }
	writeBook(t, join(dir, "a.xlsx"), []string{"姓名", "住址"}, 1, row)
	writeBook(t, join(dir, "b.xlsx"), []string{"姓名", long}, 1, row)
	_, err := conntest.Read(context.Background(), open(t, dir, nil), "")
	if err == nil || !strings.Contains(err.Error(), "schema drift") || strings.Contains(err.Error(), strings.Repeat("长", 41)) ||
		!strings.Contains(err.Error(), strings.Repeat("长", 40)+"…") {
		t.Errorf("drift: %v", err)
	}
	os.Remove(join(dir, "a.xlsx"))
	os.Remove(join(dir, "b.xlsx"))

	bad := strings.Repeat("9x", 50000)
	writeParts(t, join(dir, "c.xlsx"), bookParts(inlineRow(1, "姓名", "住址")+`<row r="`+bad+`"><c r="A2" t="inlineStr"><is><t>张三</t></is></c></row>`, nil))
	_, err = conntest.Read(context.Background(), open(t, dir, nil), "")
	if err == nil || !strings.Contains(err.Error(), "c.xlsx") || utf8.RuneCountInString(err.Error()) > 400 {
		t.Errorf("damaged row: %.500v (%d runes)", err, utf8.RuneCountInString(fmt.Sprint(err)))
	}
}

// TestCancelPromptly: cancelled from another goroutine while a big sheet streams, Read returns
// ctx.Err() within seconds; cancelled while the workbook is being opened and checked, likewise.
func TestCancelPromptly(t *testing.T) {
	dir := t.TempDir()
	const n = 30_000
	writeLarge(t, join(dir, "big.xlsx"), n)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan struct{})
	w := &countingWriter{}
	w.onWrite = func() {
		if w.batches == 1 {
			close(first)
		}
	}
	done := make(chan error, 1)
	go func() { done <- open(t, dir, map[string]any{"batch_rows": 500}).Read(ctx, connectors.ReadRequest{}, w) }()
	<-first
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return within 5 s of the cancel")
	}
	if w.rows >= n {
		t.Errorf("read all %d rows after cancel", w.rows)
	}

	for _, stage := range []string{"sniffed", "checked", "excelize"} {
		ctx, cancel := context.WithCancel(context.Background())
		testHookOpen = func(s string) {
			if s == stage {
				cancel()
			}
		}
		w := &countingWriter{}
		err := open(t, dir, nil).Read(ctx, connectors.ReadRequest{}, w)
		testHookOpen = nil
		cancel()
		if !errors.Is(err, context.Canceled) || w.rows != 0 {
			t.Errorf("cancelled when %s: err %v, %d rows", stage, err, w.rows)
		}
	}
}
