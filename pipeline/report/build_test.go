package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"communityhub/internal/office"
	"communityhub/pipeline/store"
)

// testTemplate draws a small form: header cells, two figures, a 2×2 matrix with totals, and a
// band with a count formula under it.
func testTemplate(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sh := "Sheet1"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.MergeCell(sh, "A1", "E1"))
	must(f.SetCellStr(sh, "A1", "测试统计表"))
	must(f.SetCellStr(sh, "A2", "填报单位："))
	must(f.SetCellStr(sh, "C2", "统计期："))
	must(f.SetCellStr(sh, "A3", "总人数"))
	must(f.SetCellStr(sh, "A4", "男"))
	must(f.SetCellStr(sh, "A6", "类别"))
	must(f.SetCellStr(sh, "B6", "一级"))
	must(f.SetCellStr(sh, "C6", "二级"))
	must(f.SetCellStr(sh, "D6", "合计"))
	must(f.SetCellStr(sh, "A7", "甲"))
	must(f.SetCellStr(sh, "A8", "乙"))
	must(f.SetCellStr(sh, "A9", "合计"))
	must(f.SetCellStr(sh, "A11", "序号"))
	must(f.SetCellStr(sh, "B11", "姓名"))
	must(f.SetCellStr(sh, "C11", "身份证号"))
	must(f.SetCellStr(sh, "D11", "电话"))
	border, err := f.NewStyle(&excelize.Style{Border: []excelize.Border{{Type: "left", Style: 1}, {Type: "bottom", Style: 1}}})
	must(err)
	must(f.SetCellStyle(sh, "A12", "D12", border))
	must(f.SetCellStr(sh, "A13", "共计"))
	must(f.SetCellFormula(sh, "B13", "COUNTA(B12:B12)"))
	must(f.SetCellStr(sh, "A14", "制表人："))
	must(f.AddDataValidation(sh, &excelize.DataValidation{Sqref: "D12:D12", Type: "textLength", Operator: "lessThanOrEqual", Formula1: "20", AllowBlank: true}))
	for name, ref := range map[string]string{
		"填报单位": "$B$2", "统计期": "$D$2", "total": "$B$3", "male": "$B$4",
		"grid": "$B$7:$C$8", "grid_rows": "$D$7:$D$8", "grid_cols": "$B$9:$C$9", "grid_all": "$D$9",
		"roster": "$A$12:$D$12",
	} {
		must(f.SetDefinedName(&excelize.DefinedName{Name: name, RefersTo: "Sheet1!" + ref}))
	}
	buf, err := f.WriteToBuffer()
	must(err)
	return buf.Bytes()
}

const testDef = `
code = "T01"
title = "测试统计表"
department = "测试"
[header]
unit = "填报单位"
period = "统计期"
[[figure]]
anchor = "total"
label = "总人数"
sql = "SELECT community, person_id FROM report.residents"
[[figure]]
anchor = "male"
label = "男"
sql = "SELECT community, person_id FROM report.residents WHERE sex = 1"
[[matrix]]
anchor = "grid"
label = "类别×等级"
rows = ["甲", "乙"]
cols = ["1", "2"]
row_totals = "grid_rows"
col_totals = "grid_cols"
grand_total = "grid_all"
sql = "SELECT community, person_id, CASE WHEN age >= 60 THEN '甲' ELSE '乙' END AS row_key, CAST(1 + sex % 2 AS VARCHAR) AS col_key FROM report.residents"
[[band]]
anchor = "roster"
label = "花名册"
columns = ["seq", "name", "id_no", "phone"]
mask = { id_no = "id", phone = "phone" }
sql = "SELECT community, person_id, name, id_no, phone FROM report.residents ORDER BY community, person_id"
[[check]]
rule = "total = grid[*,*]"
[[check]]
rule = "roster.rows = total"
[[check]]
rule = "male <= total - 1"
`

func writeKind(t *testing.T, dir string) {
	t.Helper()
	kd := filepath.Join(dir, "T01")
	if err := os.MkdirAll(kd, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(kd, "kind.toml"), []byte(testDef), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(kd, "template.xlsx"), testTemplate(t), 0o644); err != nil {
		t.Fatal(err)
	}
}

func testDB(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "hub.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// Five persons in two communities; one dead (not a resident), one unplaced.
	_, err = db.SQL().Exec(`INSERT INTO golden.person (person_id, name, id_no, sex, birth_date, phone, community, hukou_status, person_type) VALUES
		('p1', '张三', '320102195001011234', 1, '1950-01-01', '13812345678', '甲社区', '正常', '户籍'),
		('p2', '李四', '320102199002021248', 2, '1990-02-02', '13900001111', '甲社区', '正常', '户籍'),
		('p3', '王五', '320102198003031252', 1, '1980-03-03', '', '甲社区', '正常', '流动'),
		('p4', '赵六', '320102194004041266', 2, '1940-04-04', '', '乙社区', '正常', '户籍'),
		('p5', '孙七', '320102194505051270', 1, '1945-05-05', '', '乙社区', '死亡', '户籍'),
		('p6', '周八', '320102194606061284', 1, '1946-06-06', '', '', '正常', '户籍')`)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestBuildFillsRecordsAndExplains(t *testing.T) {
	ctx := context.Background()
	kdir := t.TempDir()
	writeKind(t, kdir)
	kinds, err := Load(kdir)
	if err != nil {
		t.Fatal(err)
	}
	var k *Kind
	for _, x := range kinds {
		if x.Code == "T01" {
			k = x
		}
	}
	if k == nil {
		t.Fatal("T01 not loaded")
	}
	db := testDB(t)
	p, err := ParsePeriod("2026-11")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	res, err := Build(ctx, db, []*Kind{k}, Options{Period: p, OutDir: out, BuiltAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Builds) != 3 { // 甲社区, 乙社区, the roll-up
		t.Fatalf("builds %+v", res.Builds)
	}
	for _, c := range res.Checks {
		if !c.OK {
			t.Errorf("check %s on %s failed: %s", c.Rule, c.Community, c.Detail)
		}
	}
	var jia Built
	for _, b := range res.Builds {
		if b.Community == "甲社区" {
			jia = b
		}
	}
	f, err := excelize.OpenFile(jia.File)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	get := func(cell string) string {
		v, err := f.GetCellValue("Sheet1", cell)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 甲社区: p1 (76, male), p2 (36, female), p3 (46, male); the matrix's column is 1 + sex % 2.
	for cell, want := range map[string]string{
		"B2": "甲社区", "D2": "2026年11月", "B3": "3", "B4": "2",
		"B7": "0", "C7": "1", "B8": "1", "C8": "1", "D7": "1", "D8": "2", "B9": "1", "C9": "2", "D9": "3",
		"A12": "1", "B12": "张三", "C12": "320102********1234", "D12": "138****5678",
		"B14": "王五", "A15": "共计", "A16": "制表人：",
	} {
		if got := get(cell); got != want {
			t.Errorf("%s = %q, want %q", cell, got, want)
		}
	}
	fm, err := f.GetCellFormula("Sheet1", "B15")
	if err != nil || fm != "COUNTA(B12:B14)" {
		t.Errorf("the band's count formula is %q (%v), want COUNTA(B12:B14)", fm, err)
	}
	style12, _ := f.GetCellStyle("Sheet1", "B12")
	style14, _ := f.GetCellStyle("Sheet1", "B14")
	if style12 == 0 || style14 != style12 {
		t.Errorf("band rows' style %d, template row's %d", style14, style12)
	}
	dvs, err := f.GetDataValidations("Sheet1")
	if err != nil || len(dvs) != 1 || dvs[0].Sqref != "D12:D14" {
		t.Errorf("data validation after growth: %+v %v", dvs, err)
	}
	detail, err := f.GetRows(DetailSheet)
	if err != nil || len(detail) != 4 { // header + 3 persons
		t.Fatalf("明细 rows %d (%v): %v", len(detail), err, detail)
	}
	if !strings.Contains(detail[1][3], "B3 总人数") || strings.Contains(strings.Join(detail[1], " "), "195001011234") {
		t.Errorf("明细 line %v: want the cells it counts in and a masked ID", detail[1])
	}

	// The persons behind a figure, later, as built.
	ex, err := Explain(ctx, db, ExplainQuery{Kind: "T01", Cell: "B4", Community: "甲社区", Period: "2026-11"})
	if err != nil {
		t.Fatal(err)
	}
	if ex.Value != 2 || len(ex.Persons) != 2 || ex.Persons[0].IDNo != "320102********1234" {
		t.Errorf("explain B4: %+v", ex)
	}
	// The street's persons are its communities'.
	street, err := Explain(ctx, db, ExplainQuery{Kind: "T01", Cell: "total", Community: Rollup, Period: "2026-11"})
	if err != nil {
		t.Fatal(err)
	}
	if street.Value != 4 || len(street.Persons) != 4 {
		t.Errorf("explain the street's total: value %g, %d persons, want 4 and 4", street.Value, len(street.Persons))
	}
	// A rebuild is a new version with a diff of what changed.
	if _, err := db.SQL().Exec(`UPDATE golden.person SET sex = 1 WHERE person_id = 'p2'`); err != nil {
		t.Fatal(err)
	}
	res2, err := Build(ctx, db, []*Kind{k}, Options{Period: p, OutDir: out, Communities: []string{"甲社区"}, NoRollup: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Builds) != 1 || res2.Builds[0].Version != 2 || res2.Builds[0].Changed == 0 {
		t.Fatalf("rebuild: %+v", res2.Builds)
	}
	var old, now string
	if err := db.SQL().QueryRow(`SELECT old_value, new_value FROM report.diffs WHERE build_id = ? AND figure = 'male'`, res2.Builds[0].BuildID).Scan(&old, &now); err != nil {
		t.Fatal(err)
	}
	if old != "2.0" || now != "3.0" {
		t.Errorf("diff of male: %s → %s", old, now)
	}
	if _, err := os.Stat(jia.File); err != nil {
		t.Errorf("version 1's file is gone: %v", err)
	}
}

func TestBuildWithoutPlacedResidents(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "hub.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL().Exec(`INSERT INTO golden.person (person_id, name, community) VALUES ('p1', '张三', '')`); err != nil {
		t.Fatal(err)
	}
	kinds, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := ParsePeriod("2026-11")
	_, err = Build(ctx, db, kinds, Options{Period: p, OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "[register]") {
		t.Errorf("a build with no placed resident: %v, want an error naming [register]", err)
	}
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM report.builds`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d builds recorded (%v), want none", n, err)
	}
}

func TestMasks(t *testing.T) {
	for in, want := range map[string]string{
		"320102195001011234": "320102********1234", "32010219500101123X": "320102********123X",
		"320102500101123": "320102*****1123", "": "", "12": "**", "12345": "***45",
	} {
		if got := MaskID(in); got != want {
			t.Errorf("MaskID(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"13812345678": "138****5678", "13812345678;13900001111": "138****5678;139****1111",
		"025-86451234": "025-****1234", "": "", "110": "***",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRules(t *testing.T) {
	vals := map[string]float64{"a": 3, "b": 1, "c": 2, "m[1,*]": 3, "R01.x": 3}
	look := func(t term) (float64, bool) {
		k := t.String()
		v, ok := vals[k]
		return v, ok
	}
	for rule, want := range map[string]bool{
		"a = b + c": true, "a = b - c": false, "a >= 3": true, "a < 3": false, "m[1,*] = a": true, "R01.x = b + c": true, "a = zz": false,
	} {
		r, err := parseRule(rule)
		if err != nil {
			t.Fatalf("%s: %v", rule, err)
		}
		if ok, detail := r.eval(look); ok != want {
			t.Errorf("%s: %v (%s), want %v", rule, ok, detail, want)
		}
	}
	for _, bad := range []string{"a", "a = ", "= b", "a = b +", "a = r01.x"} {
		if _, err := parseRule(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestGrowFormula(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SUM(D6:D6)", "SUM(D6:D9)"},
		{"COUNTA(B6)", "COUNTA(B6:B9)"},
		{"SUM(C6:F6)/2", "SUM(C6:F9)/2"},
		{"D6*2", "D6*2"},
		{"SUM(D5:D5)", "SUM(D5:D5)"},
		{"LOG10(D6:D6)", "LOG10(D6:D9)"},
	} {
		if got := growFormula(c.in, 6, 4); got != c.want {
			t.Errorf("growFormula(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A filled workbook as LibreOffice computes it: the count under the grown band is the band's
// rows, and the workbook converts to PDF.
func TestFilledWorkbookInLibreOffice(t *testing.T) {
	bin := office.Need(t)
	ctx := context.Background()
	kdir := t.TempDir()
	writeKind(t, kdir)
	kinds, err := Load(kdir)
	if err != nil {
		t.Fatal(err)
	}
	kinds, err = pickT01(kinds)
	if err != nil {
		t.Fatal(err)
	}
	db := testDB(t)
	p, _ := ParsePeriod("2026-11")
	res, err := Build(ctx, db, kinds, Options{Period: p, OutDir: t.TempDir(), Communities: []string{"甲社区"}, NoRollup: true})
	if err != nil {
		t.Fatal(err)
	}
	file := res.Builds[0].File
	out := t.TempDir()
	if err := office.Convert(ctx, bin, "pdf", out, file); err != nil {
		t.Fatal(err)
	}
	if err := office.Convert(ctx, bin, "csv:Text - txt - csv (StarCalc):44,34,76,1", out, file); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, strings.TrimSuffix(filepath.Base(file), ".xlsx")+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.ReplaceAll(string(raw), `"`, ""), "\n")
	if len(lines) < 15 || !strings.HasPrefix(lines[14], "共计,3") {
		t.Errorf("row 15 as LibreOffice computes it: %q, want 共计,3 (the band's 3 rows)", lines[min(14, len(lines)-1)])
	}
}

func pickT01(kinds []*Kind) ([]*Kind, error) {
	for _, k := range kinds {
		if k.Code == "T01" {
			return []*Kind{k}, nil
		}
	}
	return nil, os.ErrNotExist
}

// A matrix value the definition does not list fails the build: its persons would vanish.
func TestUnlistedMatrixKeyFails(t *testing.T) {
	ctx := context.Background()
	kdir := t.TempDir()
	writeKind(t, kdir)
	def := filepath.Join(kdir, "T01", "kind.toml")
	raw, err := os.ReadFile(def)
	if err != nil {
		t.Fatal(err)
	}
	// The rows list 甲 and 丙; the query gives 甲 and 乙.
	if err := os.WriteFile(def, []byte(strings.Replace(string(raw), `rows = ["甲", "乙"]`, `rows = ["甲", "丙"]`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	kinds, err := Load(kdir)
	if err != nil {
		t.Fatal(err)
	}
	kinds, err = pickT01(kinds)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := ParsePeriod("2026-11")
	_, err = Build(ctx, testDB(t), kinds, Options{Period: p, OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "row_key values 乙 are not listed") {
		t.Errorf("build with an unlisted row key: %v", err)
	}
}
