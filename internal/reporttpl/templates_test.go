package reporttpl

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the committed templates in pipeline/report/kinds")

// kindsDir is where the built-in kinds are committed.
const kindsDir = "../../pipeline/report/kinds"

// TestMain rewrites the committed templates first when -update is given, so that every test
// reads the new ones.
func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		if err := Write(kindsDir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// TestTemplatesMatchCommitted draws every template afresh and compares it, by content, with
// the committed file: a change to the drawing that is not committed (or a committed template
// edited by hand) fails here.
func TestTemplatesMatchCommitted(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, code := range Codes() {
		got := snapshot(t, filepath.Join(dir, code, "template.xlsx"))
		want := snapshot(t, filepath.Join(kindsDir, code, "template.xlsx"))
		if extra, missing := diffLines(got, want); len(extra)+len(missing) > 0 {
			t.Errorf("%s: the drawn template differs from the committed one (go test -tags duckdb_arrow ./internal/reporttpl/ -update rewrites it):\n  only drawn: %s\n  only committed: %s",
				code, head(extra), head(missing))
		}
	}
}

// snapshot lists a workbook's content: every cell's value and formula, merges, defined names,
// column widths and page setup, one line each, sorted.
func snapshot(t *testing.T, path string) []string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	var out []string
	for _, sh := range f.GetSheetList() {
		out = append(out, "sheet "+sh)
		for r := 1; r <= 60; r++ {
			for c := 1; c <= 20; c++ {
				cell, _ := excelize.CoordinatesToCellName(c, r)
				v, err := f.GetCellValue(sh, cell, excelize.Options{RawCellValue: true})
				if err != nil {
					t.Fatalf("%s %s!%s: %v", path, sh, cell, err)
				}
				fm, err := f.GetCellFormula(sh, cell)
				if err != nil {
					t.Fatalf("%s %s!%s: %v", path, sh, cell, err)
				}
				if v != "" {
					out = append(out, fmt.Sprintf("%s!%s value %q", sh, cell, v))
				}
				if fm != "" {
					out = append(out, fmt.Sprintf("%s!%s formula %q", sh, cell, fm))
				}
			}
		}
		merges, err := f.GetMergeCells(sh)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, m := range merges {
			out = append(out, fmt.Sprintf("%s merge %s:%s", sh, m.GetStartAxis(), m.GetEndAxis()))
		}
		for c := 1; c <= 20; c++ {
			name, _ := excelize.ColumnNumberToName(c)
			w, err := f.GetColWidth(sh, name)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			out = append(out, fmt.Sprintf("%s width %s %.2f", sh, name, w))
		}
		pl, err := f.GetPageLayout(sh)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, fmt.Sprintf("%s page size %v orientation %v fit %v×%v", sh, deref(pl.Size), deref(pl.Orientation), deref(pl.FitToWidth), deref(pl.FitToHeight)))
	}
	for _, dn := range f.GetDefinedName() {
		out = append(out, fmt.Sprintf("name %s scope %s = %s", dn.Name, dn.Scope, dn.RefersTo))
	}
	sort.Strings(out)
	return out
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func diffLines(got, want []string) (extra, missing []string) {
	w := map[string]int{}
	for _, l := range want {
		w[l]++
	}
	for _, l := range got {
		if w[l] > 0 {
			w[l]--
			continue
		}
		extra = append(extra, l)
	}
	for l, n := range w {
		for ; n > 0; n-- {
			missing = append(missing, l)
		}
	}
	sort.Strings(missing)
	return extra, missing
}

func head(ls []string) string {
	if len(ls) > 12 {
		return strings.Join(ls[:12], "; ") + fmt.Sprintf("; … (%d more)", len(ls)-12)
	}
	return strings.Join(ls, "; ")
}

// cellRefRe finds defined names that an Excel formula would read as a cell reference (AGE100,
// R1C1): such a name is refused by Excel when the file is opened.
var cellRefRe = regexp.MustCompile(`^(?i:[a-z]{1,3}[0-9]+|r[0-9]*c[0-9]*|r|c)$`)

// TestTemplatesLookLikeForms checks what a department's form has, on every template: a merged
// bold title across the form, the 填报单位/统计期/填报日期 cells, the 制表人 footer, bordered
// cells in 宋体 under every anchor, A4 page setup fitted to width with a print area, and
// defined names that Excel accepts.
func TestTemplatesLookLikeForms(t *testing.T) {
	for _, code := range Codes() {
		t.Run(code, func(t *testing.T) {
			f, err := Draw(code)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sheet := f.GetSheetList()[0]
			if len(f.GetSheetList()) != 1 {
				t.Errorf("sheets %v: a template has the one sheet that is filled", f.GetSheetList())
			}
			names := map[string]string{}
			for _, dn := range f.GetDefinedName() {
				names[dn.Name] = dn.RefersTo
			}
			area := names["_xlnm.Print_Area"]
			if area == "" {
				t.Fatal("no print area")
			}
			areaCells := cellsOf(t, area)
			if areaCells[0] != "A1" {
				t.Errorf("print area %s does not start at A1", area)
			}
			ncols, _, _ := excelize.CellNameToCoordinates(areaCells[len(areaCells)-1])
			lastCol, _ := excelize.ColumnNumberToName(ncols)
			merges, err := f.GetMergeCells(sheet)
			if err != nil {
				t.Fatal(err)
			}
			titled := false
			for _, m := range merges {
				if m.GetStartAxis() == "A1" {
					titled = m.GetEndAxis() == lastCol+"1"
				}
			}
			if !titled {
				t.Errorf("row 1 is not merged from A1 to %s1, the print area's width (merges %v)", lastCol, merges)
			}
			title, _ := f.GetCellValue(sheet, "A1")
			if title == "" || !strings.HasSuffix(title, "表") && !strings.HasSuffix(title, "册") && !strings.HasSuffix(title, "单") {
				t.Errorf("title %q", title)
			}
			checkFont(t, f, sheet, "A1", true)

			for _, dn := range f.GetDefinedName() {
				if strings.HasPrefix(dn.Name, "_xlnm.") {
					if dn.Scope != sheet {
						t.Errorf("%s is scoped to %q, not the sheet", dn.Name, dn.Scope)
					}
					continue
				}
				if dn.Scope != "Workbook" {
					t.Errorf("defined name %s is scoped to %q: anchors are workbook-scoped", dn.Name, dn.Scope)
				}
				if cellRefRe.MatchString(dn.Name) {
					t.Errorf("defined name %s reads as a cell reference", dn.Name)
				}
				if !strings.HasPrefix(dn.RefersTo, "'"+sheet+"'!$") {
					t.Errorf("defined name %s = %s is not on sheet %s", dn.Name, dn.RefersTo, sheet)
				}
				// Every anchored cell is bordered and in 宋体.
				for _, cell := range cellsOf(t, dn.RefersTo) {
					checkFont(t, f, sheet, cell, false)
					if NameUnit == dn.Name || NamePeriod == dn.Name || NameDate == dn.Name {
						continue
					}
					checkBorder(t, f, sheet, cell)
				}
			}
			for _, h := range []string{NameUnit, NamePeriod, NameDate} {
				ref, ok := names[h]
				if !ok {
					t.Errorf("no defined name %s", h)
					continue
				}
				if strings.Contains(strings.TrimPrefix(ref, "'"+sheet+"'!"), ":") {
					t.Errorf("%s = %s: a header anchor is one cell", h, ref)
				}
				// Its label is the first text to its left.
				cells := cellsOf(t, ref)
				c, r, _ := excelize.CellNameToCoordinates(cells[0])
				label := ""
				for ; c > 1 && label == ""; c-- {
					left, _ := excelize.CoordinatesToCellName(c-1, r)
					if label, err = f.GetCellValue(sheet, left); err != nil {
						t.Fatal(err)
					}
				}
				if label != h+"：" {
					t.Errorf("the label left of %s (%s) reads %q, want %q", h, cells[0], label, h+"：")
				}
			}
			rows, err := f.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, r := range rows {
				all = append(all, strings.Join(r, "|"))
			}
			text := strings.Join(all, "\n")
			for _, want := range []string{"制表人：", "审核人：", "联系电话："} {
				if !strings.Contains(text, want) {
					t.Errorf("no %s in the footer", want)
				}
			}
			pl, err := f.GetPageLayout(sheet)
			if err != nil {
				t.Fatal(err)
			}
			if deref(pl.Size) != 9 || deref(pl.FitToWidth) != 1 {
				t.Errorf("page size %v fit to width %v, want A4 (9) and 1", deref(pl.Size), deref(pl.FitToWidth))
			}
			if ncols > 8 && deref(pl.Orientation) != "landscape" {
				t.Errorf("%d columns printed %v: a wide form is landscape", ncols, deref(pl.Orientation))
			}
		})
	}
}

var absRe = regexp.MustCompile(`!\$([A-Z]+)\$([0-9]+)(?::\$([A-Z]+)\$([0-9]+))?$`)

// cellsOf lists the cells of a defined name's range.
func cellsOf(t *testing.T, ref string) []string {
	t.Helper()
	m := absRe.FindStringSubmatch(ref)
	if m == nil {
		t.Fatalf("defined name range %q", ref)
	}
	c1, r1, _ := excelize.CellNameToCoordinates(m[1] + m[2])
	c2, r2 := c1, r1
	if m[3] != "" {
		c2, r2, _ = excelize.CellNameToCoordinates(m[3] + m[4])
	}
	var out []string
	for r := r1; r <= r2; r++ {
		for c := c1; c <= c2; c++ {
			cell, _ := excelize.CoordinatesToCellName(c, r)
			out = append(out, cell)
		}
	}
	return out
}

func checkFont(t *testing.T, f *excelize.File, sheet, cell string, bold bool) {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Font == nil || st.Font.Family != Font {
		t.Errorf("%s: font %+v, want %s", cell, st.Font, Font)
		return
	}
	if bold && !st.Font.Bold {
		t.Errorf("%s is not bold", cell)
	}
}

func checkBorder(t *testing.T, f *excelize.File, sheet, cell string) {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	sides := map[string]bool{}
	for _, b := range st.Border {
		if b.Style > 0 {
			sides[b.Type] = true
		}
	}
	if len(sides) != 4 {
		t.Errorf("%s: borders %v, want all four sides", cell, sides)
	}
}

// TestWriteRefusesAFile checks that a failure to write is an error naming the file.
func TestWriteRefusesAFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "R01"), []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "R01", "template.xlsx")) {
		t.Fatalf("Write over a file named R01: %v", err)
	}
}
