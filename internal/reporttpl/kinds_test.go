package reporttpl

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/xuri/excelize/v2"

	"communityhub/pipeline/store"
)

// kindDef mirrors kind.toml as pipeline/report/README.md describes it; keys it does not list
// are an error.
type kindDef struct {
	Code       string `toml:"code"`
	Title      string `toml:"title"`
	Department string `toml:"department"`
	Sheet      string `toml:"sheet"`
	Template   string `toml:"template"`
	Header     struct {
		Unit   string `toml:"unit"`
		Period string `toml:"period"`
		Date   string `toml:"date"`
	} `toml:"header"`
	Figure []struct {
		Anchor  string `toml:"anchor"`
		Label   string `toml:"label"`
		Measure string `toml:"measure"`
		SQL     string `toml:"sql"`
	} `toml:"figure"`
	Matrix []struct {
		Anchor     string   `toml:"anchor"`
		Label      string   `toml:"label"`
		Rows       []string `toml:"rows"`
		Cols       []string `toml:"cols"`
		RowTotals  string   `toml:"row_totals"`
		ColTotals  string   `toml:"col_totals"`
		GrandTotal string   `toml:"grand_total"`
		SQL        string   `toml:"sql"`
	} `toml:"matrix"`
	Band []struct {
		Anchor  string            `toml:"anchor"`
		Label   string            `toml:"label"`
		Columns []string          `toml:"columns"`
		Mask    map[string]string `toml:"mask"`
		SQL     string            `toml:"sql"`
	} `toml:"band"`
	Check []struct {
		Rule string `toml:"rule"`
	} `toml:"check"`
	FullValues struct {
		Roles []string `toml:"roles"`
	} `toml:"full_values"`

	dir string
}

func loadKinds(t *testing.T) []*kindDef {
	t.Helper()
	ents, err := os.ReadDir(kindsDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []*kindDef
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(kindsDir, e.Name(), "kind.toml")
		var k kindDef
		md, err := toml.DecodeFile(p, &k)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			t.Errorf("%s: keys the README does not list: %v", p, und)
		}
		if k.Code != e.Name() {
			t.Errorf("%s: code %q, want the folder's name %q", p, k.Code, e.Name())
		}
		k.dir = filepath.Join(kindsDir, e.Name())
		out = append(out, &k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// TestKindFoldersAreTheDrawnOnes: every folder is a kind with its template, and every drawn
// template has its kind.
func TestKindFoldersAreTheDrawnOnes(t *testing.T) {
	var codes []string
	for _, k := range loadKinds(t) {
		codes = append(codes, k.Code)
		if k.Title == "" || k.Department == "" {
			t.Errorf("%s: title %q department %q", k.Code, k.Title, k.Department)
		}
	}
	if got, want := strings.Join(codes, ","), strings.Join(Codes(), ","); got != want {
		t.Errorf("kind folders %s, drawn templates %s", got, want)
	}
}

// area is a defined name's rectangle.
type area struct {
	sheet            string
	col, row, nc, nr int
}

var refRe = regexp.MustCompile(`^'?(.+?)'?!\$?([A-Z]{1,3})\$?([0-9]+)(?::\$?([A-Z]{1,3})\$?([0-9]+))?$`)

func templateNames(t *testing.T, k *kindDef) (string, map[string]area) {
	t.Helper()
	tpl := k.Template
	if tpl == "" {
		tpl = "template.xlsx"
	}
	f, err := excelize.OpenFile(filepath.Join(k.dir, tpl))
	if err != nil {
		t.Fatalf("%s: %v", k.Code, err)
	}
	defer f.Close()
	sheet := f.GetSheetList()[0]
	if k.Sheet != "" {
		sheet = k.Sheet
	}
	names := map[string]area{}
	for _, dn := range f.GetDefinedName() {
		if dn.Scope != "Workbook" {
			continue
		}
		m := refRe.FindStringSubmatch(dn.RefersTo)
		if m == nil {
			t.Errorf("%s: defined name %s = %s is not a range", k.Code, dn.Name, dn.RefersTo)
			continue
		}
		c1, _ := excelize.ColumnNameToNumber(m[2])
		r1, _ := strconv.Atoi(m[3])
		c2, r2 := c1, r1
		if m[4] != "" {
			c2, _ = excelize.ColumnNameToNumber(m[4])
			r2, _ = strconv.Atoi(m[5])
		}
		names[dn.Name] = area{sheet: m[1], col: c1, row: r1, nc: c2 - c1 + 1, nr: r2 - r1 + 1}
	}
	return sheet, names
}

// TestAnchorsAreDefinedNames: every anchor a definition names is a workbook-scoped defined
// name on the filled sheet, of the shape its use needs; every defined name of a template is
// used; every check names figures that exist.
func TestAnchorsAreDefinedNames(t *testing.T) {
	kinds := loadKinds(t)
	figures := map[string]map[string]bool{} // kind → its check terms
	for _, k := range kinds {
		figures[k.Code] = terms(k)
	}
	for _, k := range kinds {
		sheet, names := templateNames(t, k)
		used := map[string]bool{}
		need := func(name string, rows, cols int, what string) {
			used[name] = true
			a, ok := names[name]
			switch {
			case !ok:
				t.Errorf("%s %s: no defined name %q in the template", k.Code, what, name)
			case a.sheet != sheet:
				t.Errorf("%s %s: %q is on sheet %q, not the filled sheet %q", k.Code, what, name, a.sheet, sheet)
			case a.nr != rows || a.nc != cols:
				t.Errorf("%s %s: %q is %d×%d cells, want %d×%d", k.Code, what, name, a.nr, a.nc, rows, cols)
			}
		}
		for _, h := range []string{k.Header.Unit, k.Header.Period, k.Header.Date} {
			if h == "" {
				t.Errorf("%s: a header anchor is empty", k.Code)
				continue
			}
			need(h, 1, 1, "header")
		}
		for _, f := range k.Figure {
			need(f.Anchor, 1, 1, "figure")
			if f.Measure != "" && f.Measure != "count" && f.Measure != "sum" {
				t.Errorf("%s figure %s: measure %q", k.Code, f.Anchor, f.Measure)
			}
		}
		for _, m := range k.Matrix {
			need(m.Anchor, len(m.Rows), len(m.Cols), "matrix")
			if m.RowTotals != "" {
				need(m.RowTotals, len(m.Rows), 1, "matrix row totals")
			}
			if m.ColTotals != "" {
				need(m.ColTotals, 1, len(m.Cols), "matrix column totals")
			}
			if m.GrandTotal != "" {
				need(m.GrandTotal, 1, 1, "matrix grand total")
			}
		}
		for _, b := range k.Band {
			need(b.Anchor, 1, len(b.Columns), "band")
			for c, m := range b.Mask {
				if m != "id" && m != "phone" {
					t.Errorf("%s band %s: mask %s = %q", k.Code, b.Anchor, c, m)
				}
				if !contains(b.Columns, c) {
					t.Errorf("%s band %s: masked column %s is not shown", k.Code, b.Anchor, c)
				}
			}
		}
		for n := range names {
			if !used[n] {
				t.Errorf("%s: defined name %s is bound to nothing", k.Code, n)
			}
		}
		for _, c := range k.Check {
			for _, side := range ruleSides(t, k.Code, c.Rule) {
				for _, term := range side {
					if _, err := strconv.ParseFloat(term.name, 64); err == nil {
						continue
					}
					kind, name := k.Code, term.name
					if before, after, ok := strings.Cut(name, "."); ok && after != "rows" {
						kind, name = before, after
					}
					if !figures[kind][name] {
						t.Errorf("%s check %q: %s is not a figure of %s", k.Code, c.Rule, term.name, kind)
					}
				}
			}
		}
	}
	// The roster kinds mask IDs and phones.
	for _, k := range kinds {
		switch k.Code {
		case "R02", "R07", "R11":
			if len(k.Band) == 0 || k.Band[0].Mask["id_no"] != "id" || k.Band[0].Mask["phone"] != "phone" {
				t.Errorf("%s: ID numbers and phones must be masked", k.Code)
			}
		case "R12":
			if len(k.Band) == 0 || k.Band[0].Mask["id_no"] != "id" {
				t.Errorf("%s: ID numbers must be masked", k.Code)
			}
		}
	}
}

// terms lists what a kind's checks may name: figures, matrix cells and totals, band row counts.
func terms(k *kindDef) map[string]bool {
	out := map[string]bool{}
	for _, f := range k.Figure {
		out[f.Anchor] = true
	}
	for _, m := range k.Matrix {
		for _, r := range append([]string{"*"}, m.Rows...) {
			for _, c := range append([]string{"*"}, m.Cols...) {
				out[fmt.Sprintf("%s[%s,%s]", m.Anchor, r, c)] = true
			}
		}
	}
	for _, b := range k.Band {
		out[b.Anchor+".rows"] = true
	}
	return out
}

type ruleTerm struct {
	sign float64
	name string
}

// ruleSides splits "a + b - c <= d" into its two sides' terms and returns the operator as
// the third element's name.
func ruleSides(t *testing.T, code, rule string) [][]ruleTerm {
	t.Helper()
	for _, op := range []string{"<=", ">=", "=", "<", ">"} {
		l, r, ok := strings.Cut(rule, op)
		if !ok {
			continue
		}
		return [][]ruleTerm{sumTerms(t, code, rule, l), sumTerms(t, code, rule, r)}
	}
	t.Fatalf("%s check %q: no comparison", code, rule)
	return nil
}

func ruleOp(rule string) string {
	for _, op := range []string{"<=", ">=", "=", "<", ">"} {
		if strings.Contains(rule, op) {
			return op
		}
	}
	return ""
}

func sumTerms(t *testing.T, code, rule, side string) []ruleTerm {
	t.Helper()
	var out []ruleTerm
	sign := 1.0
	expect := true
	for _, tok := range strings.Fields(side) {
		switch {
		case tok == "+" || tok == "-":
			if expect {
				t.Fatalf("%s check %q: operator %s where a term belongs", code, rule, tok)
			}
			sign = 1
			if tok == "-" {
				sign = -1
			}
			expect = true
		case expect:
			out = append(out, ruleTerm{sign: sign, name: tok})
			expect = false
		default:
			t.Fatalf("%s check %q: two terms without an operator at %q", code, rule, tok)
		}
	}
	if expect {
		t.Fatalf("%s check %q: a side ends with an operator or is empty", code, rule)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// openDB opens a fresh migrated database with the report variables set on one connection.
func openDB(t *testing.T) (*store.DB, *sql.Conn) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "hub.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for _, s := range []string{
		"SET VARIABLE ref_date = DATE '2026-11-30'",
		"SET VARIABLE period_start = DATE '2026-11-01'",
		"SET VARIABLE period = '2026-11'",
	} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return db, conn
}

// query is one SQL of a kind with the columns the README requires of it.
type query struct {
	where string
	sql   string
	need  []string
}

func queries(k *kindDef) []query {
	var out []query
	for _, f := range k.Figure {
		need := []string{"community", "person_id"}
		if f.Measure == "sum" {
			need = append(need, "value")
		}
		out = append(out, query{k.Code + " figure " + f.Anchor, f.SQL, need})
	}
	for _, m := range k.Matrix {
		out = append(out, query{k.Code + " matrix " + m.Anchor, m.SQL, []string{"community", "person_id", "row_key", "col_key"}})
	}
	for _, b := range k.Band {
		need := []string{"community", "person_id"}
		for _, c := range b.Columns {
			if c != "" && c != "seq" {
				need = append(need, c)
			}
		}
		out = append(out, query{k.Code + " band " + b.Anchor, b.SQL, need})
	}
	return out
}

var rawRe = regexp.MustCompile(`(?i)\braw\s*\.`)

// TestSQLRunsOnAFreshDatabase runs every query of every kind on a fresh migrated database and
// checks it returns the columns its anchor type needs, and reads no raw table.
func TestSQLRunsOnAFreshDatabase(t *testing.T) {
	_, conn := openDB(t)
	ctx := context.Background()
	for _, k := range loadKinds(t) {
		for _, q := range queries(k) {
			if rawRe.MatchString(q.sql) {
				t.Errorf("%s reads raw.*: report SQL reads report.residents, golden.* and facts.*", q.where)
			}
			cols, n, err := run(ctx, conn, q.sql)
			if err != nil {
				t.Errorf("%s: %v", q.where, err)
				continue
			}
			if n != 0 {
				t.Errorf("%s: %d rows from an empty database", q.where, n)
			}
			for _, c := range q.need {
				if !contains(cols, c) {
					t.Errorf("%s: no column %q (it returns %s)", q.where, c, strings.Join(cols, ", "))
				}
			}
		}
	}
}

// run executes q to the end and returns its columns and row count.
func run(ctx context.Context, conn *sql.Conn, q string) ([]string, int, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, 0, err
	}
	n := 0
	for rows.Next() {
		n++
	}
	return cols, n, rows.Err()
}
