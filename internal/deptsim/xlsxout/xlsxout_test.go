package xlsxout

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func open(t *testing.T, path string) *excelize.File {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func mergeSet(t *testing.T, f *excelize.File, sheet string) map[string]string {
	t.Helper()
	mcs, err := f.GetMergeCells(sheet)
	if err != nil {
		t.Fatalf("GetMergeCells(%s): %v", sheet, err)
	}
	m := make(map[string]string, len(mcs))
	for _, mc := range mcs {
		m[mc.GetStartAxis()+":"+mc.GetEndAxis()] = mc.GetCellValue()
	}
	return m
}

func cellValue(t *testing.T, f *excelize.File, sheet, cell string, opts ...excelize.Options) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, cell, opts...)
	if err != nil {
		t.Fatalf("GetCellValue(%s!%s): %v", sheet, cell, err)
	}
	return v
}

func wantCells(t *testing.T, f *excelize.File, sheet string, want map[string]string) {
	t.Helper()
	for cell, w := range want {
		if got := cellValue(t, f, sheet, cell); got != w {
			t.Errorf("%s!%s = %q, want %q", sheet, cell, got, w)
		}
	}
}

// householdSheet has a title, a serial column and a two-row header:
// A 序号 | B 姓名 | C..F 基本信息(性别 出生日期 身份证号 联系电话) | G 住址 | H..I 家庭情况(人口数 低保金额)
func householdSheet() Sheet {
	birth := time.Date(1958, 3, 4, 0, 0, 0, 0, time.Local)
	return Sheet{
		Name:   "低保户台账",
		Title:  "某某社区低保户花名册",
		Serial: true,
		Columns: []Column{
			{Name: "姓名", Width: 10},
			{Group: "基本信息", Name: "性别"},
			{Group: "基本信息", Name: "出生日期", Width: 12},
			{Group: "基本信息", Name: "身份证号", Width: 22},
			{Group: "基本信息", Name: "联系电话", Width: 14},
			{Name: "住址", Width: 30},
			{Group: "家庭情况", Name: "人口数"},
			{Group: "家庭情况", Name: "低保金额"},
		},
		Rows: []Row{
			{Kind: Data, Values: []any{"张三", "男", birth, float64(320105195803041234), "13812345678", "幸福路1号", 3, 1250.5}},
			{Kind: Data, Values: []any{"李四", "女", nil, "320105196001021234", nil, "幸福路2号", int64(2), 980.0}},
			{Kind: Data, Values: []any{"王五", "男", time.Date(1975, 12, 31, 0, 0, 0, 0, time.UTC), "32010519751231123X", "025-8888888", "幸福路3号", 1, 600}},
			{Kind: Blank},
			{Kind: Data, Values: []any{"赵六", "女", nil, nil, nil, "幸福路4号", 4, 1500}},
			{Kind: Total, Values: []any{nil, nil, nil, nil, nil, nil, 10, 4330.5}},
			{Kind: Note, Values: []any{"以下为新增户"}},
		},
		Notes: []string{"注：金额单位为元。", "填表人：张三  审核人：李四"},
	}
}

func TestTwoRowHeaderWithTitle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.xlsx")
	sh := householdSheet()
	rows, err := Write(path, []Sheet{sh})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]int{{4, 5, 6, 8}}; !slices.EqualFunc(rows, want, slices.Equal) {
		t.Fatalf("data rows = %v, want %v", rows, want)
	}
	f := open(t, path)
	merges := mergeSet(t, f, sh.Name)
	wantMerges := map[string]string{
		"A1:I1":   "某某社区低保户花名册",
		"A2:A3":   "序号",
		"B2:B3":   "姓名",
		"C2:F2":   "基本信息",
		"G2:G3":   "住址",
		"H2:I2":   "家庭情况",
		"A10:I10": "以下为新增户",
		"A11:I11": "注：金额单位为元。",
		"A12:I12": "填表人：张三  审核人：李四",
	}
	for ref, v := range wantMerges {
		got, ok := merges[ref]
		if !ok {
			t.Errorf("missing merge %s", ref)
		} else if got != v {
			t.Errorf("merge %s value = %q, want %q", ref, got, v)
		}
	}
	if len(merges) != len(wantMerges) {
		t.Errorf("merges = %v, want exactly %v", merges, wantMerges)
	}
	wantCells(t, f, sh.Name, map[string]string{
		"A1": "某某社区低保户花名册",
		"A2": "序号", "B2": "姓名", "C2": "基本信息", "G2": "住址", "H2": "家庭情况",
		"C3": "性别", "D3": "出生日期", "E3": "身份证号", "F3": "联系电话", "H3": "人口数", "I3": "低保金额",
	})
	// Cells hidden by a merge hold no value of their own (GetCellValue would
	// report the merge's value, GetRows reports the stored cells).
	hdrRows, err := f.GetRows(sh.Name)
	if err != nil {
		t.Fatal(err)
	}
	wantUpper := []string{"序号", "姓名", "基本信息", "", "", "", "住址", "家庭情况"}
	wantLower := []string{"", "", "性别", "出生日期", "身份证号", "联系电话", "", "人口数", "低保金额"}
	if !slices.Equal(hdrRows[1], wantUpper) || !slices.Equal(hdrRows[2], wantLower) {
		t.Errorf("header rows = %q / %q, want %q / %q", hdrRows[1], hdrRows[2], wantUpper, wantLower)
	}

	all, err := f.GetRows(sh.Name)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"张三", "李四", "王五", "赵六"}
	for i, r := range rows[0] {
		got := all[r-1]
		if len(got) < 2 || got[0] != fmt.Sprint(i+1) || got[1] != names[i] {
			t.Errorf("row %d = %v, want serial %d and name %s", r, got, i+1, names[i])
		}
	}
	if !strings.HasPrefix(cellValue(t, f, sh.Name, "A4"), "1") || cellValue(t, f, sh.Name, "B4") != "张三" {
		t.Errorf("data does not start at row 4: %v", all[3])
	}
	// Header cells are bold with a border; data cells have a border.
	hdr, _ := f.GetCellStyle(sh.Name, "C2")
	hs, err := f.GetStyle(hdr)
	if err != nil || hs.Font == nil || !hs.Font.Bold || len(hs.Border) != 4 {
		t.Errorf("header style = %+v (%v), want bold with 4 borders", hs, err)
	}
	hidden, _ := f.GetCellStyle(sh.Name, "D2")
	if hidden != hdr {
		t.Errorf("merged header cell D2 style %d, want header style %d", hidden, hdr)
	}
	ds, _ := f.GetCellStyle(sh.Name, "B4")
	dst, err := f.GetStyle(ds)
	if err != nil || len(dst.Border) != 4 || (dst.Font != nil && dst.Font.Bold) {
		t.Errorf("data style = %+v (%v), want 4 borders, not bold", dst, err)
	}
	cols, _ := f.GetColWidth(sh.Name, "F")
	if cols != 14 {
		t.Errorf("width of F = %v, want 14", cols)
	}
}

func TestOneRowHeaderNoTitle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.xlsx")
	sh := Sheet{
		Name:    "Sheet",
		Columns: []Column{{Name: "户号"}, {Name: "户主"}, {Name: "人数"}},
		Rows: []Row{
			{Kind: Data, Values: []any{"0001", "张三", 3}},
			{Kind: Data, Values: []any{"0002", "李四"}},
		},
	}
	rows, err := Write(path, []Sheet{sh})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], []int{2, 3}) {
		t.Fatalf("data rows = %v, want [2 3]", rows[0])
	}
	f := open(t, path)
	all, err := f.GetRows(sh.Name)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"户号", "户主", "人数"}, {"0001", "张三", "3"}, {"0002", "李四"}}
	if !slices.EqualFunc(all, want, slices.Equal) {
		t.Errorf("rows = %q, want %q", all, want)
	}
	if m := mergeSet(t, f, sh.Name); len(m) != 0 {
		t.Errorf("unexpected merges %v", m)
	}
	if typ, _ := f.GetCellType(sh.Name, "A2"); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
		t.Errorf("A2 type = %v, want a string cell", typ)
	}
}

func TestNumericAndTextIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ids.xlsx")
	sh := householdSheet()
	if _, err := Write(path, []Sheet{sh}); err != nil {
		t.Fatal(err)
	}
	f := open(t, path)
	// E4: typed as a number; E5: kept as text.
	typ, err := f.GetCellType(sh.Name, "E4")
	if err != nil || (typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber) {
		t.Errorf("E4 type = %v (%v), want numeric", typ, err)
	}
	raw := cellValue(t, f, sh.Name, "E4", excelize.Options{RawCellValue: true})
	if raw != "320105195803041000" {
		t.Errorf("E4 raw = %q, want 320105195803041000 (15 significant digits)", raw)
	}
	if shown := cellValue(t, f, sh.Name, "E4"); !strings.Contains(shown, "E+17") && shown != raw {
		t.Errorf("E4 shown = %q", shown)
	}
	typ, err = f.GetCellType(sh.Name, "E5")
	if err != nil || (typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString) {
		t.Errorf("E5 type = %v (%v), want a string cell", typ, err)
	}
	if v := cellValue(t, f, sh.Name, "E5", excelize.Options{RawCellValue: true}); v != "320105196001021234" {
		t.Errorf("E5 = %q, want the full 18 digits", v)
	}
	// Phone typed as text stays text too; int64 and float are numbers.
	if typ, _ := f.GetCellType(sh.Name, "F4"); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
		t.Errorf("F4 type = %v, want a string cell", typ)
	}
	wantCells(t, f, sh.Name, map[string]string{"H5": "2", "I4": "1250.5", "I5": "980"})
}

func TestDates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dates.xlsx")
	sh := householdSheet()
	if _, err := Write(path, []Sheet{sh}); err != nil {
		t.Fatal(err)
	}
	f := open(t, path)
	for cell, want := range map[string]struct{ raw, shown string }{
		"D4": {"21248", "1958-03-04"},
		"D6": {"27759", "1975-12-31"},
	} {
		if raw := cellValue(t, f, sh.Name, cell, excelize.Options{RawCellValue: true}); raw != want.raw {
			t.Errorf("%s raw = %q, want serial %s", cell, raw, want.raw)
		}
		if shown := cellValue(t, f, sh.Name, cell); shown != want.shown {
			t.Errorf("%s shown = %q, want %s", cell, shown, want.shown)
		}
		if typ, _ := f.GetCellType(sh.Name, cell); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s type = %v, want numeric", cell, typ)
		}
	}
	if v := cellValue(t, f, sh.Name, "D5"); v != "" {
		t.Errorf("nil date D5 = %q, want empty", v)
	}
}

func TestBlankTotalAndNotes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rows.xlsx")
	sh := householdSheet()
	if _, err := Write(path, []Sheet{sh}); err != nil {
		t.Fatal(err)
	}
	f := open(t, path)
	all, err := f.GetRows(sh.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 12 {
		t.Fatalf("got %d rows, want 12: %q", len(all), all)
	}
	if len(all[6]) != 0 {
		t.Errorf("row 7 should be blank, got %q", all[6])
	}
	// The blank row keeps the table borders.
	if s, _ := f.GetCellStyle(sh.Name, "E7"); s == 0 {
		t.Errorf("blank row cell E7 has no style")
	}
	wantCells(t, f, sh.Name, map[string]string{
		"A9": "合计", "B9": "", "H9": "10", "I9": "4330.5",
		"A8": "4", "B8": "赵六",
		"A10": "以下为新增户", "A11": "注：金额单位为元。", "A12": "填表人：张三  审核人：李四",
	})
	ts, _ := f.GetCellStyle(sh.Name, "H9")
	if st, err := f.GetStyle(ts); err != nil || st.Font == nil || !st.Font.Bold {
		t.Errorf("total row not bold: %+v %v", st, err)
	}

	// Without a serial column, a nil first value on a Total row becomes 合计.
	path2 := filepath.Join(t.TempDir(), "total.xlsx")
	sh2 := Sheet{
		Name:    "统计",
		Columns: []Column{{Name: "类别"}, {Name: "数量"}},
		Rows: []Row{
			{Kind: Data, Values: []any{"甲", 1}},
			{Kind: Total, Values: []any{nil, 1}},
			{Kind: Total, Values: []any{"小计", 1}},
			{Kind: Line, Values: []any{"说明：手工补记"}},
		},
		Notes: []string{"注：测试"},
	}
	rows2, err := Write(path2, []Sheet{sh2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows2[0]) != 1 || rows2[0][0] != 2 {
		t.Errorf("data rows %v, want [2]: a Line row is not data", rows2)
	}
	f2 := open(t, path2)
	wantCells(t, f2, sh2.Name, map[string]string{"A3": "合计", "B3": "1", "A4": "小计", "A5": "说明：手工补记", "B5": "", "A6": "注：测试"})
	// The typed line is neither merged nor bordered; the note is merged.
	if m := mergeSet(t, f2, sh2.Name); len(m) != 1 || m["A6:B6"] != "注：测试" {
		t.Errorf("merges = %v, want only the note A6:B6", m)
	}
	if s, _ := f2.GetCellStyle(sh2.Name, "A5"); s != 0 {
		t.Errorf("typed line A5 has style %d, want none", s)
	}
	if _, err := Write(path2, []Sheet{{Name: "x", Columns: []Column{{Name: "a"}}, Rows: []Row{{Kind: Line, Values: []any{"a", "b"}}}}}); err == nil {
		t.Error("a Line row with two values was accepted")
	}
}

func TestMultipleSheetsAndNameErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "multi.xlsx")
	mk := func(name string) Sheet {
		return Sheet{Name: name, Columns: []Column{{Name: "姓名"}}, Rows: []Row{{Kind: Data, Values: []any{name}}}}
	}
	names := []string{"人口信息", "房屋信息", "Sheet2"}
	var sheets []Sheet
	for _, n := range names {
		sheets = append(sheets, mk(n))
	}
	rows, err := Write(path, sheets)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("got %d row lists, want 3", len(rows))
	}
	f := open(t, path)
	if got := f.GetSheetList(); !slices.Equal(got, names) {
		t.Errorf("sheets = %q, want %q (no Sheet1)", got, names)
	}
	for _, n := range names {
		wantCells(t, f, n, map[string]string{"A2": n})
	}

	long := strings.Repeat("台", 32)
	for name, bad := range map[string][]Sheet{
		"duplicate":         {mk("人口信息"), mk("人口信息")},
		"duplicate by case": {mk("Data"), mk("data")},
		"too long":          {mk(long)},
		"empty":             {mk("")},
		"invalid char":      {mk("a/b")},
		"no sheets":         nil,
		"no columns":        {{Name: "x"}},
		"too many values":   {{Name: "x", Columns: []Column{{Name: "a"}}, Rows: []Row{{Kind: Data, Values: []any{1, 2}}}}},
		"bad type":          {{Name: "x", Columns: []Column{{Name: "a"}}, Rows: []Row{{Kind: Data, Values: []any{struct{}{}}}}}},
	} {
		p := filepath.Join(dir, "bad.xlsx")
		if _, err := Write(p, bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Write(filepath.Join(dir, "ok31.xlsx"), []Sheet{mk(strings.Repeat("台", 31))}); err != nil {
		t.Errorf("31-character name rejected: %v", err)
	}
}

func TestLargeSheet(t *testing.T) {
	const n = 20000
	sh := Sheet{
		Name:   "大表",
		Title:  "大表",
		Serial: true,
		Columns: []Column{
			{Name: "姓名"}, {Group: "证件", Name: "类型"}, {Group: "证件", Name: "号码"},
			{Name: "日期"}, {Name: "金额"},
		},
	}
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		sh.Rows = append(sh.Rows, Row{Kind: Data, Values: []any{
			fmt.Sprintf("居民%05d", i), "身份证", fmt.Sprintf("3201%014d", i), day.AddDate(0, 0, i%3650), float64(i) * 1.5,
		}})
		if i%1000 == 999 {
			sh.Rows = append(sh.Rows, Row{Kind: Blank})
		}
	}
	path := filepath.Join(t.TempDir(), "large.xlsx")
	start := time.Now()
	rows, err := Write(path, []Sheet{sh})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d rows in %v", n, time.Since(start))
	if len(rows[0]) != n {
		t.Fatalf("got %d data rows, want %d", len(rows[0]), n)
	}
	f := open(t, path)
	all, err := f.GetRows(sh.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 998, 999, 1000, n - 1} {
		r := rows[0][i]
		got := all[r-1]
		if got[0] != fmt.Sprint(i+1) || got[1] != fmt.Sprintf("居民%05d", i) {
			t.Errorf("record %d at row %d = %q", i, r, got)
		}
	}
	if rows[0][0] != 4 || rows[0][999] != 1003 || rows[0][1000] != 1005 {
		t.Errorf("row numbers around the first blank: %d %d %d", rows[0][0], rows[0][999], rows[0][1000])
	}
}
