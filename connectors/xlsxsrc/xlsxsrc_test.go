package xlsxsrc

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/xuri/excelize/v2"

	"communityhub/connectors"
	"communityhub/connectors/conntest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json from what the source reads")

func open(t testing.TB, dir string, opts map[string]any) connectors.Source {
	t.Helper()
	src, err := connectors.Open(connectors.Config{Name: "test", Kind: "xlsx", BaseDir: dir, Options: opts, Getenv: os.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// goldenCase is what reading one test workbook gives.
type goldenCase struct {
	Name       string              `json:"name"`
	Columns    []string            `json:"columns"`
	Rows       []goldenRow         `json:"rows"`
	Skips      map[string]int      `json:"skips"`
	Rejects    []connectors.Reject `json:"rejects"`
	Checkpoint []string            `json:"checkpoints"`
}

type goldenRow struct {
	Loc    string            `json:"loc"`
	Values map[string]string `json:"values"`
	Flags  string            `json:"flags"`
}

var goldenBooks = []struct {
	name  string
	write func(testing.TB, string)
	opts  map[string]any
}{
	{"veterans", writeVeterans, map[string]any{"glob": "veterans.xlsx"}},
	{"export", writeExport, map[string]any{"glob": "export.xlsx", "sheet_column": "社区"}},
	{"awkward", writeAwkward, map[string]any{"glob": "awkward.xlsx"}},
}

func TestGolden(t *testing.T) {
	dir := t.TempDir()
	var got []goldenCase
	for _, gb := range goldenBooks {
		gb.write(t, join(dir, gb.name+".xlsx"))
		src := open(t, dir, gb.opts)
		cols, err := src.Columns(context.Background())
		if err != nil {
			t.Fatalf("%s: columns: %v", gb.name, err)
		}
		c, err := conntest.Read(context.Background(), src, "")
		if err != nil {
			t.Fatalf("%s: read: %v", gb.name, err)
		}
		if !slices.Equal(c.Columns, cols) {
			t.Errorf("%s: batches have columns %q, Columns says %q", gb.name, c.Columns, cols)
		}
		gc := goldenCase{Name: gb.name, Columns: cols, Skips: c.Skips, Rejects: c.Rejects, Checkpoint: c.Checkpoints}
		for _, r := range c.Rows {
			gc.Rows = append(gc.Rows, goldenRow{Loc: r.Loc, Values: r.Vals, Flags: r.Flags})
		}
		got = append(got, gc)
	}
	gotJSON, err := json.MarshalIndent(map[string]any{"cases": got}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	gotJSON = append(gotJSON, '\n')
	path := filepath.Join("testdata", "golden.json")
	if *update {
		if err := os.WriteFile(path, gotJSON, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	wantJSON, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to write it)", err)
	}
	var want struct{ Cases []goldenCase }
	if err := json.Unmarshal(wantJSON, &want); err != nil {
		t.Fatal(err)
	}
	if len(want.Cases) != len(got) {
		t.Fatalf("golden has %d cases, read %d", len(want.Cases), len(got))
	}
	for i, w := range want.Cases {
		g := got[i]
		wj, _ := json.MarshalIndent(w, "", "  ")
		gj, _ := json.MarshalIndent(g, "", "  ")
		if string(wj) != string(gj) {
			t.Errorf("case %s differs from testdata/golden.json:\n got: %s\nwant: %s", w.Name, gj, wj)
		}
	}
}

func TestVeteransHeaderFlattened(t *testing.T) {
	dir := t.TempDir()
	writeVeterans(t, join(dir, "v.xlsx"))
	cols, err := open(t, dir, map[string]any{"glob": "*.xlsx"}).Columns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"序号", "基本信息/姓名", "基本信息/性别", "基本信息/身份证号", "基本信息/出生年月",
		"服役信息/入伍时间", "服役信息/退役时间", "服役信息/部队番号", "优抚类别", "联系方式"}
	if !slices.Equal(cols, want) {
		t.Fatalf("columns\n got %q\nwant %q", cols, want)
	}
}

func TestFlattenHeader(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rows   [][]string
		merges []span
		first  int
		want   []string
	}{
		{"one row", [][]string{{"姓名", "身份证\n号码", " 性  别 "}}, nil, 1, []string{"姓名", "身份证号码", "性别"}},
		{"groups and merged-down columns",
			[][]string{{"序号", "基本信息", "", "联系方式"}, {"", "姓名", "性别", ""}},
			[]span{{1, 0, 1, 1}, {2, 0, 3, 0}, {4, 0, 4, 1}},
			1, []string{"序号", "基本信息/姓名", "基本信息/性别", "联系方式"}},
		{"no merge: empty group cells are not guessed",
			[][]string{{"基本信息", ""}, {"姓名", "性别"}}, nil, 1, []string{"基本信息/姓名", "性别"}},
		{"same text typed in both rows", [][]string{{"备注"}, {"备注"}}, nil, 1, []string{"备注"}},
		{"table starting in column B, a gap, duplicates",
			[][]string{{"", "姓名", "", "备注", "备注"}}, nil, 2, []string{"姓名", "列C", "备注", "备注_2"}},
		{"ASCII words keep one space", [][]string{{"Date of\nbirth", "ID  No."}}, nil, 1, []string{"Date of birth", "ID No."}},
		{"empty", [][]string{{"", " "}}, nil, 0, nil},
	} {
		first, got := flattenHeader(tc.rows, tc.merges)
		if first != tc.first || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %d %q, want %d %q", tc.name, first, got, tc.first, tc.want)
		}
	}
}

func TestNumericID(t *testing.T) {
	dir := t.TempDir()
	writeBook(t, join(dir, "ids.xlsx"), []string{"姓名", "身份证号", "电话", "金额"}, 3, func(i int) []any {
		switch i {
		case 0:
			return []any{"张三", float64(320105195803041234), int64(13812345678), 1250.5}
		case 1:
			return []any{"李四", "320105195803041234", "13812345678", 2}
		default:
			return []any{"王五", int64(320105195803041234), nil, nil}
		}
	})
	c, err := conntest.Read(context.Background(), open(t, dir, nil), "")
	if err != nil {
		t.Fatal(err)
	}
	rows := c.ByLoc()
	check := func(loc, col, val, flags string) {
		t.Helper()
		r, ok := rows[loc]
		if !ok {
			t.Fatalf("no row %s in %+v", loc, c.Rows)
		}
		if r.Vals[col] != val || r.Flags != flags {
			t.Errorf("%s %s = %q flags %q, want %q flags %q", loc, col, r.Vals[col], r.Flags, val, flags)
		}
	}
	check("ids.xlsx!Sheet1!2", "身份证号", "320105195803041000", "身份证号:number")
	check("ids.xlsx!Sheet1!2", "电话", "13812345678", "身份证号:number")
	check("ids.xlsx!Sheet1!2", "金额", "1250.5", "身份证号:number")
	check("ids.xlsx!Sheet1!3", "身份证号", "320105195803041234", "")
	check("ids.xlsx!Sheet1!3", "金额", "2", "")
	// An int64 keeps all its digits in the file, but it is still an ID in a number cell.
	check("ids.xlsx!Sheet1!4", "身份证号", "320105195803041234", "身份证号:number")
}

func TestSheetSelectionAndSheetColumn(t *testing.T) {
	dir := t.TempDir()
	writeExport(t, join(dir, "export.xlsx"))

	src := open(t, dir, map[string]any{"sheets": []string{"秦淮社区"}, "sheet_column": "社区"})
	cols, err := src.Columns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"姓名", "身份证号", "出生日期", "住址", "社区"}; !slices.Equal(cols, want) {
		t.Fatalf("columns %q, want %q", cols, want)
	}
	c, err := conntest.Read(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 1 || c.Rows[0].Vals["社区"] != "秦淮社区" || c.Rows[0].Loc != "export.xlsx!秦淮社区!2" {
		t.Fatalf("rows %+v", c.Rows)
	}

	// Both sheets, in the order asked for.
	c, err = conntest.Read(context.Background(), open(t, dir, map[string]any{"sheets": []string{"秦淮社区", "玄武社区"}}), "")
	if err != nil {
		t.Fatal(err)
	}
	var locs []string
	for _, r := range c.Rows {
		locs = append(locs, r.Loc)
	}
	if want := []string{"export.xlsx!秦淮社区!2", "export.xlsx!玄武社区!2", "export.xlsx!玄武社区!3"}; !slices.Equal(locs, want) {
		t.Fatalf("locs %q, want %q", locs, want)
	}

	_, err = conntest.Read(context.Background(), open(t, dir, map[string]any{"sheets": []string{"鼓楼社区"}}), "")
	if err == nil || !strings.Contains(err.Error(), "鼓楼社区") || !strings.Contains(err.Error(), "export.xlsx") {
		t.Fatalf("missing sheet: %v", err)
	}
	// A sheet column that is also a header column.
	_, err = open(t, dir, map[string]any{"sheet_column": "住址"}).Columns(context.Background())
	if err == nil || !strings.Contains(err.Error(), "住址") {
		t.Fatalf("sheet_column clash: %v", err)
	}
}

func TestSchemaDrift(t *testing.T) {
	dir := t.TempDir()
	row := func(i int) []any { return []any{"张三", "320105195803041234", "幸福路"} }
	writeBook(t, join(dir, "a_社区.xlsx"), []string{"姓名", "身份证号", "住址"}, 2, row)
	writeBook(t, join(dir, "b_社区.xlsx"), []string{"姓名", "身份证号码", "住址"}, 2, row)
	for _, op := range []string{"read", "probe"} {
		src := open(t, dir, map[string]any{"glob": "*.xlsx"})
		var err error
		if op == "read" {
			_, err = conntest.Read(context.Background(), src, "")
		} else {
			err = src.(connectors.Prober).Probe(context.Background())
		}
		if err == nil {
			t.Fatalf("%s: no error for differing headers", op)
		}
		msg := err.Error()
		for _, want := range []string{"b_社区.xlsx", "Sheet1", "身份证号码", "身份证号", "a_社区.xlsx"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: error %q does not name %s", op, msg, want)
			}
		}
	}
	// Same header: fine, and rows of both files come out.
	writeBook(t, join(dir, "b_社区.xlsx"), []string{"姓名", "身份证号", "住址"}, 2, row)
	src := open(t, dir, map[string]any{"glob": "*.xlsx"})
	if err := src.(connectors.Prober).Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := conntest.Read(context.Background(), src, "")
	if err != nil || len(c.Rows) != 4 || c.Rows[3].Loc != "b_社区.xlsx!Sheet1!3" {
		t.Fatalf("%v %+v", err, c.Rows)
	}
}

func TestCorruptFile(t *testing.T) {
	dir := t.TempDir()
	writeExport(t, join(dir, "a.xlsx"))
	good, err := os.ReadFile(join(dir, "a.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"b_text.xlsx":      []byte("姓名,身份证号\n张三,320105195803041234\n"),
		"b_truncated.xlsx": good[:len(good)/2],
		"b_empty.xlsx":     nil,
	} {
		if err := os.WriteFile(join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		src := open(t, dir, map[string]any{"glob": "*.xlsx"})
		_, err := conntest.Read(context.Background(), src, "")
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: read error %v, want one naming the file", name, err)
		}
		if err := src.(connectors.Prober).Probe(context.Background()); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: probe error %v, want one naming the file", name, err)
		}
		os.Remove(join(dir, name))
	}
}

func TestEmptySheetsAndNoTable(t *testing.T) {
	dir := t.TempDir()
	// The default empty Sheet1 is passed over; the table is on the second sheet.
	f := excelize.NewFile()
	if _, err := f.NewSheet("数据"); err != nil {
		t.Fatal(err)
	}
	for cell, v := range map[string]any{"A1": "姓名", "B1": "住址", "A2": "张三", "B2": "幸福路"} {
		f.SetCellValue("数据", cell, v)
	}
	f.SetCellValue("Sheet1", "C5", "   ")
	if err := f.SaveAs(join(dir, "a.xlsx")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c, err := conntest.Read(context.Background(), open(t, dir, nil), "")
	if err != nil || len(c.Rows) != 1 || c.Rows[0].Loc != "a.xlsx!数据!2" {
		t.Fatalf("%v %+v", err, c)
	}
	_, err = conntest.Read(context.Background(), open(t, dir, map[string]any{"sheets": []string{"Sheet1"}}), "")
	if err == nil || !strings.Contains(err.Error(), "no selected sheet has a header") {
		t.Fatalf("a workbook without a table: %v", err)
	}
}

func TestExplicitHeaderAndTitleRows(t *testing.T) {
	dir := t.TempDir()
	writeVeterans(t, join(dir, "v.xlsx"))
	zero := 0
	// Told there is no title and one header row, the title is the header.
	src := open(t, dir, map[string]any{"title_rows": zero, "header_rows": 1})
	cols, err := src.Columns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The title is merged across the ten columns: each column under it is named after it.
	if len(cols) != 10 || cols[0] != "某某街道退役军人信息登记表" || cols[9] != "某某街道退役军人信息登记表_10" {
		t.Fatalf("columns %q", cols)
	}
	// Told the truth, the same as detection.
	src = open(t, dir, map[string]any{"title_rows": 1, "header_rows": 2})
	cols, err = src.Columns(context.Background())
	if err != nil || len(cols) != 10 || cols[4] != "基本信息/出生年月" {
		t.Fatalf("%v %q", err, cols)
	}
}

// countingWriter counts rows and batches without keeping them.
type countingWriter struct {
	rows, batches int
	last          string
	onWrite       func()
	skips         map[string]int
}

func (w *countingWriter) Write(b arrow.RecordBatch) error {
	w.rows += int(b.NumRows())
	w.batches++
	loc := b.Column(int(b.NumCols()) - 2)
	w.last = loc.ValueStr(loc.Len() - 1)
	if w.onWrite != nil {
		w.onWrite()
	}
	return nil
}
func (w *countingWriter) Reject(connectors.Reject) error { return nil }
func (w *countingWriter) Skipped(reason string, n int) {
	if w.skips == nil {
		w.skips = map[string]int{}
	}
	w.skips[reason] += n
}
func (w *countingWriter) Checkpoint(string) {}

func writeLarge(t testing.TB, path string, n int) {
	writeBook(t, path, []string{"姓名", "身份证号", "出生日期", "住址"}, n, func(i int) []any {
		return []any{fmt.Sprintf("居民%06d", i), fmt.Sprintf("3201051958%08d", i), date(1930+i%70, 1+i%12, 1+i%28), "幸福路"}
	})
}

func TestLargeSheetStreamsInBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("large sheet")
	}
	dir := t.TempDir()
	const n = 100_000
	writeLarge(t, join(dir, "big.xlsx"), n)
	w := &countingWriter{}
	if err := open(t, dir, map[string]any{"batch_rows": 16384}).Read(context.Background(), connectors.ReadRequest{}, w); err != nil {
		t.Fatal(err)
	}
	if w.rows != n || w.batches != (n+16383)/16384 || w.last != fmt.Sprintf("big.xlsx!Sheet1!%d", n+1) {
		t.Fatalf("rows %d batches %d last %s", w.rows, w.batches, w.last)
	}
	if len(w.skips) != 0 {
		t.Errorf("skips %v", w.skips)
	}
}

func TestCancel(t *testing.T) {
	dir := t.TempDir()
	writeLarge(t, join(dir, "big.xlsx"), 20_000)
	ctx, cancel := context.WithCancel(context.Background())
	w := &countingWriter{onWrite: cancel}
	err := open(t, dir, map[string]any{"batch_rows": 1000}).Read(ctx, connectors.ReadRequest{}, w)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if w.rows >= 20_000 {
		t.Errorf("read all %d rows after cancel", w.rows)
	}
	// Already cancelled: nothing read.
	w = &countingWriter{}
	if err := open(t, dir, nil).Read(ctx, connectors.ReadRequest{}, w); !errors.Is(err, context.Canceled) || w.rows != 0 {
		t.Fatalf("err %v rows %d", err, w.rows)
	}
	if _, err := open(t, dir, nil).Columns(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("columns: %v", err)
	}
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	for _, opts := range []map[string]any{
		{"header": 1},
		{"header_rows": -1},
		{"title_rows": -2},
		{"batch_rows": -5},
		{"sheet_column": "_loc"},
		{"newest": `(\d+)`},
		{"glob": "[x"},
		{"sheets": []string{""}},
	} {
		_, err := connectors.Open(connectors.Config{Name: "t", Kind: "xlsx", BaseDir: dir, Options: opts, Getenv: os.Getenv})
		if err == nil {
			t.Errorf("options %v accepted", opts)
		}
	}
	if !slices.Contains(connectors.Kinds(), "xlsx") {
		t.Error("xlsx is not registered")
	}
	src := open(t, dir, nil)
	if _, ok := src.(connectors.Incremental); ok {
		t.Error("xlsx should not be incremental")
	}
	if err := src.(connectors.Prober).Probe(context.Background()); err == nil {
		t.Error("probe of an empty folder should fail")
	}
}

func TestIsDateFormat(t *testing.T) {
	for code, want := range map[string]bool{
		"yyyy-mm-dd": true, `yyyy"年"m"月"d"日"`: true, "m/d/yy h:mm": true, "[$-804]yyyy年m月": true,
		"mmm-yy": true, "0.00": false, "#,##0": false, "@": false, "General": false, "h:mm:ss": false,
		`0.0 "days"`: false, "[Red]0.00;[Blue]-0.00": false, "mm:ss": false, `\d0`: false,
	} {
		if got := isDateFormat(code); got != want {
			t.Errorf("isDateFormat(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestIsTotal(t *testing.T) {
	for v, want := range map[string]bool{
		"合计": true, " 合 计 ": true, "小计：12人": true, "总计": true, "共12人": true, "共 3 户": true,
		"合计人数": true, "张三": false, "共青团员": false, "12": false, "Total": true,
	} {
		if got := isTotal(v); got != want {
			t.Errorf("isTotal(%q) = %v, want %v", v, got, want)
		}
	}
}

// sampleSources reads sample.toml with a parser just big enough for it: [[source]] blocks,
// name/kind lines and [source.options] key = JSON-like value lines.
func sampleSources(t *testing.T) map[string]map[string]any {
	t.Helper()
	raw, err := os.ReadFile("sample.toml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	var name string
	var cur map[string]any
	for n, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "[[source]]":
			name, cur = "", nil
		case line == "[source.options]":
			cur = map[string]any{}
			out[name] = cur
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("sample.toml:%d: %q", n+1, line)
			}
			var val any
			if err := json.Unmarshal([]byte(strings.TrimSpace(v)), &val); err != nil {
				t.Fatalf("sample.toml:%d: %v", n+1, err)
			}
			switch k = strings.TrimSpace(k); {
			case cur != nil:
				cur[k] = val
			case k == "name":
				name = val.(string)
			case k == "kind" && val != "xlsx":
				t.Fatalf("sample.toml:%d: kind %v", n+1, val)
			}
		}
	}
	return out
}

func TestSampleConfig(t *testing.T) {
	srcs := sampleSources(t)
	if len(srcs) != 2 {
		t.Fatalf("sample.toml has %d sources", len(srcs))
	}
	dir := t.TempDir()
	os.MkdirAll(join(dir, "systems/09_veterans"), 0o755)
	writeVeterans(t, join(dir, "systems/09_veterans/2026-11.xlsx"))
	for _, c := range []string{"梦都社区", "奥体社区"} {
		os.MkdirAll(join(dir, "ledgers/"+c), 0o755)
		writeExport(t, join(dir, "ledgers/"+c+"/80周岁以上老人花名册.xlsx"))
	}
	want := map[string]struct {
		rows int
		loc  string
	}{
		"veterans":       {3, "2026-11.xlsx!退役军人!4"},
		"elderly_80plus": {6, "梦都社区/80周岁以上老人花名册.xlsx!秦淮社区!2"},
	}
	for name, opts := range srcs {
		c, err := conntest.Read(context.Background(), open(t, dir, opts), "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w, ok := want[name]
		if !ok || len(c.Rows) != w.rows || c.ByLoc()[w.loc].Loc == "" {
			t.Errorf("%s: %d rows %+v", name, len(c.Rows), c.Rows)
		}
	}
}
