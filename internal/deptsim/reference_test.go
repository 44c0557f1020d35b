//go:build duckdb_arrow

package deptsim

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"communityhub/pipeline/golden"
	"communityhub/pipeline/standardize"
)

// A road shared by communities gets a range per run of one owner, the numbers nobody owns going
// to the run before them; a road of one owner is one whole-road row.
func TestCommunityRegisterRanges(t *testing.T) {
	pop := &Population{Communities: []Community{{Index: 0, Name: "甲社区"}, {Index: 1, Name: "乙社区"}}}
	at := func(road string, num, comm int) {
		pop.Households = append(pop.Households, Household{Comm: comm, Addr: Address{Road: road, Number: num, Building: 1, Unit: 1, Room: 101}})
	}
	for _, n := range []int{3, 5, 15} {
		at("梦都大街", n, 0)
	}
	at("梦都大街", 9, 1)
	at("梦都大街", 10, 1)
	at("乐山路", 7, 1)
	at("乐山路", 70, 1)
	// A flat someone moved out of counts too.
	prev := Address{Road: "乐山路", Number: 40, Building: 2, Unit: 1, Room: 101}
	pop.People = append(pop.People, Person{PrevAddr: &prev, PrevComm: 1})
	got, err := CommunityRegister(pop)
	if err != nil {
		t.Fatal(err)
	}
	want := []RegisterRow{{"甲社区", "梦都大街", 1, 8}, {"甲社区", "梦都大街", 15, 15}, {"乙社区", "乐山路", 0, 0}, {"乙社区", "梦都大街", 9, 14}}
	if !slices.Equal(got, want) {
		t.Errorf("register %v, want %v", got, want)
	}
	// An estate of two communities is a broken district, not a register.
	at("乐山路", 40, 0)
	if _, err := CommunityRegister(pop); err == nil || !strings.Contains(err.Error(), "乐山路40号") {
		t.Errorf("an estate of two communities: %v", err)
	}
}

// The written registers carry the contract's columns only, the community register under a merged
// title and the grid register in GBK; read by the hub's loader they place every true person's
// flat (and every flat they lived in) and every grid in the true community.
func TestReferenceFilesPlaceTheTruth(t *testing.T) {
	dir, _ := defaultDistrict(t)
	book := filepath.Join(dir, CommunityRegisterFile)
	f, err := excelize.OpenFile(book)
	if err != nil {
		t.Fatal(err)
	}
	sheet := f.GetSheetList()[0]
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	merges, err := f.GetMergeCells(sheet)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if len(rows) < 3 || !strings.Contains(rows[0][0], "社区辖区表") || !slices.ContainsFunc(merges, func(m excelize.MergeCell) bool { return m.GetStartAxis() == "A1" }) {
		t.Errorf("no merged title: first row %v, merges %v", rows[0], merges)
	}
	if got := rows[1]; !slices.Equal(got, []string{"社区名称", "道路", "门牌号起", "门牌号止", "楼栋"}) {
		t.Errorf("community register header %v", got)
	}
	whole, ranged := 0, 0
	for _, r := range rows[2:] {
		switch {
		case len(r) >= 4 && r[2] != "":
			ranged++
		case len(r) >= 2 && r[1] != "":
			whole++
		}
	}
	if whole == 0 || ranged == 0 {
		t.Errorf("%d whole-road rows and %d range rows: the district should have both", whole, ranged)
	}

	raw, err := os.ReadFile(filepath.Join(dir, GridRegisterFile))
	if err != nil {
		t.Fatal(err)
	}
	if utf8.Valid(raw) {
		t.Error("the grid register is not GBK")
	}
	text, err := simplifiedchinese.GBK.NewDecoder().Bytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	grid, err := csv.NewReader(strings.NewReader(string(text))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(grid[0], []string{"网格编号", "社区名称", "网格员", "联系电话"}) {
		t.Errorf("grid register header %v", grid[0])
	}

	reg, err := golden.LoadRegister(book, filepath.Join(dir, GridRegisterFile))
	if err != nil {
		t.Fatal(err)
	}
	persons := readCSVFile(t, filepath.Join(dir, "truth", "persons.csv"))
	col := map[string]int{}
	for i, c := range persons[0] {
		col[c] = i
	}
	grids := map[string]bool{}
	checked := 0
	for _, p := range persons[1:] {
		comm := p[col["community"]]
		for _, addr := range []string{p[col["address"]], "江苏省南京市建邺区兴隆街道" + fullWidthDigits(p[col["address"]])} {
			if got := reg.Place(standardize.ParseAddress(addr), ""); got.Community != comm || got.By != golden.PlacedByAddress {
				t.Fatalf("%s at %s: placed %+v, truth %s", p[col["person_id"]], addr, got, comm)
			}
		}
		if g := p[col["grid"]]; !grids[g] {
			grids[g] = true
			if got := reg.Place(standardize.Address{}, g); got.Community != comm || got.By != golden.PlacedByGrid || got.Grid != g {
				t.Errorf("grid %s: placed %+v, truth %s", g, got, comm)
			}
		}
		checked++
	}
	if len(grid)-1 != len(grids) || checked < 19000 {
		t.Errorf("%d grids in the register, %d in the truth; %d persons checked", len(grid)-1, len(grids), checked)
	}
	// Every flat a person lived in before moving within the street is in the register too.
	for _, p := range persons[1:] {
		if prev := p[col["prev_address"]]; prev != "" {
			if got := reg.Place(standardize.ParseAddress(prev), ""); got.By != golden.PlacedByAddress {
				t.Errorf("previous flat %s: %+v", prev, got)
			}
		}
	}
}
