//go:build duckdb_arrow

package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"communityhub/pipeline/standardize"
)

// writeFile writes content under dir and returns its path.
func writeFile(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeXLSX writes a sheet from rows of cells (row 1 first) and merges the given ranges.
func writeXLSX(t *testing.T, path string, rows [][]any, merges [][2]string) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range merges {
		if err := f.MergeCell(sheet, m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

const communitiesCSV = "社区名称,道路,门牌号起,门牌号止,楼栋\n" +
	"梦都社区,梦都大街,1,40,\n" +
	"奥体社区,梦都大街,41,80,\n" +
	"梦都社区,吉兆营,,,\n" +
	"奥体社区,江东中路,10,10,1-12\n" +
	"贤坤社区,江东中路,10,10,\"13,15,A3\"\n" +
	"贤坤社区,江东中路,11,30,\n" +
	"贤坤社区,七家湾,,,\n"

const gridsCSV = "网格编号,社区名称,网格员,联系电话\n" +
	"320105004001001,梦都社区,王芳,13800000001\n" +
	"320105004002001,奥体社区,李强,13800000002\n"

func loadCSV(t *testing.T, communities, grids string) *Register {
	t.Helper()
	dir := t.TempDir()
	r, err := LoadRegister(writeFile(t, dir, "c.csv", []byte(communities)), writeFile(t, dir, "g.csv", []byte(grids)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRegisterPlacesByRangeBuildingAndGrid(t *testing.T) {
	r := loadCSV(t, communitiesCSV, gridsCSV)
	for _, c := range []struct {
		addr, grid          string
		comm, by, gridOut   string
		reasonHas           string
		reasonHasAlsoInGrid string
	}{
		{addr: "建邺区兴隆街道梦都大街18号3栋2单元501室", comm: "梦都社区", by: PlacedByAddress},
		{addr: "梦都大街40号1栋1单元101室", comm: "梦都社区", by: PlacedByAddress},
		{addr: "梦都大街41-2-1-302", comm: "奥体社区", by: PlacedByAddress},
		{addr: "梦都大街41-1号2栋", comm: "奥体社区", by: PlacedByAddress}, // 41-1号 is on 41
		{addr: "吉兆营92-18-4-502", comm: "梦都社区", by: PlacedByAddress},
		{addr: "吉兆营5号", comm: "梦都社区", by: PlacedByAddress},
		{addr: "江东中路10号3栋1单元201室", comm: "奥体社区", by: PlacedByAddress},
		{addr: "江东中路10号13栋1单元201室", comm: "贤坤社区", by: PlacedByAddress},
		{addr: "江东中路10号A3栋101室", comm: "贤坤社区", by: PlacedByAddress},
		{addr: "江东中路12号3栋", comm: "贤坤社区", by: PlacedByAddress},
		// The address cannot say; the grid can.
		{addr: "梦都大街81号1栋", grid: "320105004002001", comm: "奥体社区", by: PlacedByGrid, gridOut: "320105004002001"},
		{addr: "", grid: " 320105004001001 ", comm: "梦都社区", by: PlacedByGrid, gridOut: "320105004001001"},
		// Neither can: the reason says why, for the address and for the grid.
		{addr: "梦都大街81号1栋", reasonHas: ReasonNumberOutside, reasonHasAlsoInGrid: ReasonNoGrid},
		{addr: "江东中路10号14栋", grid: "999", reasonHas: ReasonBuildingOutside, reasonHasAlsoInGrid: ReasonGridUnknown, gridOut: "999"},
		{addr: "江东中路10号", reasonHas: ReasonNoBuilding},
		{addr: "梦都大街", reasonHas: ReasonNoNumber},
		{addr: "乐山路3号1栋", reasonHas: ReasonRoadUnknown},
		{addr: "金陵小区5栋1单元302室", reasonHas: ReasonRoadUnknown},
		{addr: "不详", reasonHas: ReasonNoRoad},
		{addr: "七家湾33-7-3-1104", comm: "贤坤社区", by: PlacedByAddress},
		{addr: "建邺区七家湾33号7栋3单元1104室", comm: "贤坤社区", by: PlacedByAddress},
		{addr: "", reasonHas: ReasonNoAddress},
	} {
		var a standardize.Address
		if c.addr != "" {
			a = standardize.ParseAddress(c.addr)
		}
		got := r.Place(a, c.grid)
		if got.Community != c.comm || got.By != c.by || got.Grid != c.gridOut {
			t.Errorf("%q grid %q: placed %+v, want community %q by %q grid %q", c.addr, c.grid, got, c.comm, c.by, c.gridOut)
		}
		if c.comm == "" && (got.Reason == "" || !strings.Contains(got.Reason, c.reasonHas) || !strings.Contains(got.Reason, c.reasonHasAlsoInGrid)) {
			t.Errorf("%q: reason %q, want it to say %q and %q", c.addr, got.Reason, c.reasonHas, c.reasonHasAlsoInGrid)
		}
		if c.comm != "" && got.Reason != "" {
			t.Errorf("%q: placed with a reason %q", c.addr, got.Reason)
		}
	}
	// Placed by address, the person's own grid is kept.
	if got := r.Place(standardize.ParseAddress("梦都大街18号"), "320105004002001"); got.Community != "梦都社区" || got.Grid != "320105004002001" {
		t.Errorf("placed by address with a grid: %+v", got)
	}
}

// A register's road written in traditional characters, full width or with spaces compares equal
// to the road parsed out of an address; so do full-width door numbers.
func TestRegisterRoadsCompareAsAddressesDo(t *testing.T) {
	r := loadCSV(t, "社区名称,道路,门牌号起,门牌号止\n"+
		"梦都社区,夢都 大街,１,４０\n"+
		"奥体社区,梦都大街,41,80\n"+
		"梦都社区,吉兆營,,\n"+
		"奥体社区,ＡＢＣ路,,\n", gridsCSV)
	for addr, want := range map[string]string{
		"建邺区兴隆街道梦都大街18号3栋2单元501室": "梦都社区",
		"夢都大街１８號３棟":               "梦都社区",
		"梦都大街77号3栋":               "奥体社区",
		"吉兆营92-18-4-502":          "梦都社区",
		"吉兆营92号18栋4单元502室":        "梦都社区",
		"abc路5号":                  "奥体社区",
	} {
		if got := r.Place(standardize.ParseAddress(addr), ""); got.Community != want || got.By != PlacedByAddress {
			t.Errorf("%q: %+v, want %s by address", addr, got, want)
		}
	}
}

// The same register as a GBK CSV, a UTF-8 CSV with BOM and a workbook with a merged title, a
// 填报 line, community names merged down their roads and a note under the table.
func TestRegisterFormats(t *testing.T) {
	dir := t.TempDir()
	want := loadCSV(t, communitiesCSV, gridsCSV)
	check := func(name string, r *Register) {
		t.Helper()
		for _, addr := range []string{"梦都大街18号3栋", "梦都大街60号3栋", "吉兆营92-18-4-502", "江东中路10号3栋", "江东中路10号15栋", "江东中路20号3栋", "江东中路10号20栋", "七家湾33号7栋"} {
			a := standardize.ParseAddress(addr)
			if g, w := r.Place(a, ""), want.Place(a, ""); g != w {
				t.Errorf("%s: %q placed %+v, the UTF-8 CSV %+v", name, addr, g, w)
			}
		}
		if len(r.Communities()) != 3 || r.Rows() != 7 {
			t.Errorf("%s: communities %v, %d rows", name, r.Communities(), r.Rows())
		}
		if g := r.Grids(); len(g) != 2 || g[0] != (GridEntry{"320105004001001", "梦都社区", "王芳", "13800000001"}) {
			t.Errorf("%s: grids %+v", name, g)
		}
	}
	gb, err := LoadRegister(writeFile(t, dir, "c_gbk.csv", gbk(t, communitiesCSV)), writeFile(t, dir, "g_gbk.csv", gbk(t, gridsCSV)))
	if err != nil {
		t.Fatal(err)
	}
	check("GBK", gb)
	bom, err := LoadRegister(writeFile(t, dir, "c_bom.csv", []byte("\uFEFF"+communitiesCSV)), writeFile(t, dir, "g_bom.csv", []byte("\uFEFF"+gridsCSV)))
	if err != nil {
		t.Fatal(err)
	}
	check("BOM", bom)

	book := filepath.Join(dir, "社区辖区表.xlsx")
	writeXLSX(t, book, [][]any{
		{"兴隆街道社区辖区表"},
		{"填报单位：兴隆街道办事处", nil, nil, "2026年11月"},
		{"序号", "社区名称", "道路", "门牌号起", "门牌号止", "楼栋", "备注"},
		{1, "梦都社区", "梦都大街", 1, 40, nil, "东侧"},
		{2, nil, "吉兆营", nil, nil},
		{3, "奥体社区", "梦都大街", 41, 80},
		{4, nil, "江东中路", 10, 10, "1-12"},
		{5, "贤坤社区", "江东中路", 10, 10, "13,15,A3"},
		{6, nil, "江东中路", 11, 30},
		{7, nil, "七家湾"},
		{},
		{"注：门牌号起止为空表示整条道路。"},
	}, [][2]string{{"A1", "G1"}, {"B4", "B5"}, {"B6", "B7"}, {"B8", "B10"}, {"A12", "G12"}})
	grids := filepath.Join(dir, "网格划分表.xlsx")
	writeXLSX(t, grids, [][]any{
		{"网格编号", "社区名称", "网格员", "联系电话"},
		{320105004001001, "梦都社区", "王芳", 13800000001},
		{"320105004002001", "奥体社区", "李强", "13800000002"},
	}, nil)
	x, err := LoadRegister(book, grids)
	if err != nil {
		t.Fatal(err)
	}
	check("xlsx", x)
	if x.Digest() == gb.Digest() || gb.Digest() == bom.Digest() || x.Digest() == "" {
		t.Errorf("digests of different files agree: %s %s %s", x.Digest(), gb.Digest(), bom.Digest())
	}
	again, err := LoadRegister(book, grids)
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest() != x.Digest() {
		t.Error("the same files give another digest")
	}
	var none *Register
	if none.Digest() != "" {
		t.Error("a nil register has a digest")
	}
}

func TestRegisterErrorsNameFileRowAndColumn(t *testing.T) {
	dir := t.TempDir()
	head := "社区名称,道路,门牌号起,门牌号止,楼栋\n"
	for _, c := range []struct {
		name, communities, grids string
		want                     []string
	}{
		{"overlap", head + "梦都社区,梦都大街,1,40,\n奥体社区,乐山路,,,\n奥体社区,梦都大街,30,80,\n", "",
			[]string{"rows 2 and 4", "梦都社区", "奥体社区", "door number 30", "楼栋"}},
		{"whole road twice", head + "梦都社区,吉兆营,,,\n奥体社区,吉兆營,,,\n", "",
			[]string{"rows 2 and 3", "every door number"}},
		{"one side without buildings", head + "梦都社区,梦都大街,10,10,1-5\n奥体社区,梦都大街,1,20,\n", "",
			[]string{"rows 2 and 3", "door number 10"}},
		{"shared building", head + "梦都社区,梦都大街,10,10,1-5\n奥体社区,梦都大街,10,12,\"5,6\"\n", "",
			[]string{"rows 2 and 3", "building 5"}},
		{"bad number", head + "梦都社区,梦都大街,1,四十,\n", "", []string{"row 2: 门牌号止", "四十"}},
		{"half range", head + "梦都社区,梦都大街,,40,\n", "", []string{"row 2: 门牌号起", "empty"}},
		{"reversed", head + "梦都社区,梦都大街,40,1,\n", "", []string{"row 2: 门牌号止"}},
		{"no community", head + ",梦都大街,1,40,\n", "", []string{"row 2: 社区名称", "empty"}},
		{"not a road", head + "梦都社区,梦都大街18号,,,\n", "", []string{"row 2: 道路", "梦都大街18号"}},
		{"bad buildings", head + "梦都社区,梦都大街,1,40,东楼\n", "", []string{"row 2: 楼栋", "东楼"}},
		{"no header", "社区,道路,起,止\n梦都社区,梦都大街,1,40\n", "", []string{"no header row", "门牌号起"}},
		{"no rows", head, "", []string{"no rows under the header"}},
		{"grid twice", head + "梦都社区,梦都大街,,,\n", "网格编号,社区名称\n001,梦都社区\n002,梦都社区\n001,梦都社区\n",
			[]string{"rows 2 and 4", "001 listed twice"}},
		{"grid of no community", head + "梦都社区,梦都大街,,,\n", "网格编号,社区名称\n001,奥南社区\n",
			[]string{"row 2: 社区名称", "奥南社区", "no row of the community register"}},
		{"grid without code", head + "梦都社区,梦都大街,,,\n", "网格编号,社区名称\n,梦都社区\n", []string{"row 2: 网格编号", "empty"}},
	} {
		cp := writeFile(t, dir, c.name+"_c.csv", []byte(c.communities))
		gp := ""
		if c.grids != "" {
			gp = writeFile(t, dir, c.name+"_g.csv", []byte(c.grids))
		}
		_, err := LoadRegister(cp, gp)
		file := cp
		if c.grids != "" && err != nil && strings.Contains(err.Error(), gp) {
			file = gp
		}
		if err == nil {
			t.Errorf("%s: loaded", c.name)
			continue
		}
		if !strings.Contains(err.Error(), file) {
			t.Errorf("%s: error %q does not name the file", c.name, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
	// Another community's row without 楼栋 over a split number clashes; a number split between
	// two communities by disjoint buildings, and one community's rows overlapping, are fine.
	if _, err := LoadRegister(writeFile(t, dir, "fine.csv", []byte(head+"梦都社区,梦都大街,10,10,1-5\n奥体社区,梦都大街,10,10,6-9\n梦都社区,梦都大街,1,40,\n")), ""); err == nil {
		t.Error("an overlap of a row without 楼栋 and another community's row loaded")
	}
	if _, err := LoadRegister(writeFile(t, dir, "fine2.csv", []byte(head+"梦都社区,梦都大街,10,10,1-5\n奥体社区,梦都大街,10,10,6-9\n梦都社区,梦都大街,1,9,\n梦都社区,梦都大街,5,12,1-5\n")), ""); err != nil {
		t.Errorf("a split number and one community's overlapping rows: %v", err)
	}
	if _, err := LoadRegister(writeFile(t, dir, "x.xls", []byte("not a workbook")), ""); err == nil || !strings.Contains(err.Error(), "x.xls") {
		t.Errorf("an .xls file: %v", err)
	}
	if _, err := LoadRegister("", ""); err == nil {
		t.Error("no files loaded")
	}
	if _, err := LoadRegister(filepath.Join(dir, "missing.csv"), ""); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("a missing file: %v", err)
	}
}

// With only one of the registers, the other's placement says it is missing.
func TestRegisterHalves(t *testing.T) {
	dir := t.TempDir()
	g, err := LoadRegister("", writeFile(t, dir, "g.csv", []byte(gridsCSV)))
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Place(standardize.ParseAddress("梦都大街18号"), "320105004001001"); got.Community != "梦都社区" || got.By != PlacedByGrid {
		t.Errorf("grids only: %+v", got)
	}
	if got := g.Place(standardize.ParseAddress("梦都大街18号"), ""); !strings.Contains(got.Reason, ReasonNoCommunityFile) {
		t.Errorf("grids only, no grid: %+v", got)
	}
	c, err := LoadRegister(writeFile(t, dir, "c.csv", []byte(communitiesCSV)), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Place(standardize.ParseAddress("乐山路1号"), "320105004001001"); got.By != "" || !strings.Contains(got.Reason, ReasonNoGridFile) || got.Grid != "320105004001001" {
		t.Errorf("communities only, unknown road: %+v", got)
	}
}

func TestNormalizeGrid(t *testing.T) {
	for in, want := range map[string]string{" 320105004001001 ": "320105004001001", "320105004001001.0": "320105004001001",
		"3.20105004001001E+14": "320105004001001", "３２０１": "3201", "a01": "A01", "": ""} {
		if got := NormalizeGrid(in); got != want {
			t.Errorf("NormalizeGrid(%q) = %q, want %q", in, got, want)
		}
	}
}
