package deptsim

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"communityhub/pipeline/standardize/idcard"
)

// demoDistrict writes one default district (20 000 residents) per test binary and shares it.
var demo struct {
	once sync.Once
	dir  string
	res  *Result
	err  error
}

func defaultDistrict(t *testing.T) (string, *Result) {
	t.Helper()
	demo.once.Do(func() {
		demo.dir, demo.err = os.MkdirTemp("", "district-")
		if demo.err == nil {
			demo.res, demo.err = Write(context.Background(), Options{Dir: demo.dir, Residents: 20000, Seed: 7})
		}
	})
	if demo.err != nil {
		t.Fatal(demo.err)
	}
	return demo.dir, demo.res
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demo.dir != "" {
		os.RemoveAll(demo.dir)
	}
	os.Exit(code)
}

// The population has the contract's programme rates and overlaps.
func TestPopulationRates(t *testing.T) {
	pop := Generate(7, 20000, DefaultAsOf)
	n := float64(len(pop.People))
	count := func(f func(p *Person) bool) float64 {
		c := 0
		for i := range pop.People {
			if f(&pop.People[i]) {
				c++
			}
		}
		return float64(c) / n
	}
	relief := map[int]bool{}
	for i := range pop.Households {
		if r := pop.Households[i].Relief; r != nil && r.Type != "临时救助" {
			for _, m := range pop.Households[i].Members {
				relief[m] = true
			}
		}
	}
	checks := []struct {
		name   string
		got    float64
		lo, hi float64
	}{
		{"60+", count(func(p *Person) bool { return pop.Age(p) >= 60 }), 0.17, 0.24},
		{"低保/特困", float64(len(relief)) / n, 0.008, 0.022},
		{"disabled", count(func(p *Person) bool { return p.Disability != nil }), 0.045, 0.075},
		{"registered unemployed", count(func(p *Person) bool { return p.Employment == "登记失业" }), 0.02, 0.04},
		{"veterans", count(func(p *Person) bool { return p.Veteran }), 0.007, 0.014},
		{"volunteers", count(func(p *Person) bool { return p.Volunteer }), 0.08, 0.12},
		{"party members", count(func(p *Person) bool { return p.Party }), 0.055, 0.085},
		{"medical insurance", count(func(p *Person) bool { return p.Insured }), 0.92, 0.97},
		{"dead", count(func(p *Person) bool { return p.Status == Dead }), 0.003, 0.02},
		{"moved out", count(func(p *Person) bool { return p.Status == MovedOut }), 0.01, 0.04},
		{"minority dotted names", count(func(p *Person) bool { return strings.Contains(p.Name, "·") }), 0.002, 0.012},
	}
	for _, c := range checks {
		if c.got < c.lo || c.got > c.hi {
			t.Errorf("%s: %.4f, want in [%.3f, %.3f]", c.name, c.got, c.lo, c.hi)
		}
	}
	// Overlaps: disability is far more common among the elderly and in 低保 families.
	eld := count(func(p *Person) bool { return pop.Age(p) >= 60 && p.Disability != nil }) / count(func(p *Person) bool { return pop.Age(p) >= 60 })
	young := count(func(p *Person) bool { return pop.Age(p) < 60 && p.Disability != nil }) / count(func(p *Person) bool { return pop.Age(p) < 60 })
	if eld < 2*young {
		t.Errorf("disabled among 60+ %.3f is not well above under-60 %.3f", eld, young)
	}
	dis := 0
	for m := range relief {
		if pop.People[m].Disability != nil {
			dis++
		}
	}
	if float64(dis)/float64(len(relief)) < 2*count(func(p *Person) bool { return p.Disability != nil }) {
		t.Errorf("disabled share in 低保 families %.3f is not above twice the base rate", float64(dis)/float64(len(relief)))
	}
	// Different people share common full names.
	names := map[string]int{}
	for i := range pop.People {
		names[pop.People[i].Name]++
	}
	shared := 0
	for _, c := range names {
		if c > 1 {
			shared += c
		}
	}
	if float64(shared)/n < 0.2 {
		t.Errorf("only %.2f of people share their full name with someone", float64(shared)/n)
	}
	// IDs are valid, unique, and agree with birth date and sex.
	seen := map[string]bool{}
	for i := range pop.People {
		p := &pop.People[i]
		if p.IDNo == "" {
			continue
		}
		if !idcard.Valid(p.IDNo) || seen[p.IDNo] {
			t.Fatalf("%s: ID %s invalid or repeated", p.TID, p.IDNo)
		}
		seen[p.IDNo] = true
		b, _ := idcard.BirthDate(p.IDNo)
		s, _ := idcard.Sex(p.IDNo)
		if !b.Equal(p.Birth) || s != p.Sex {
			t.Fatalf("%s: ID %s disagrees with birth %v / sex %d", p.TID, p.IDNo, p.Birth, p.Sex)
		}
	}
}

func TestDeterministicBySeed(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if _, err := Write(context.Background(), Options{Dir: dir, Residents: 1500, Seed: 3}); err != nil {
			t.Fatal(err)
		}
	}
	for _, rel := range []string{"truth/persons.csv", "truth/records/grid.csv", "truth/records/health.csv", "truth/anomalies.csv",
		"systems/02_floating/residents.json", "systems/02_floating/residents.updated.json", "systems/11_party/党员报到.csv"} {
		x, _ := os.ReadFile(filepath.Join(a, rel))
		y, _ := os.ReadFile(filepath.Join(b, rel))
		if len(x) == 0 || string(x) != string(y) {
			t.Errorf("%s differs between two runs with the same seed", rel)
		}
	}
	c := t.TempDir()
	Write(context.Background(), Options{Dir: c, Residents: 1500, Seed: 4})
	x, _ := os.ReadFile(filepath.Join(a, "truth/persons.csv"))
	y, _ := os.ReadFile(filepath.Join(c, "truth/persons.csv"))
	if string(x) == string(y) {
		t.Error("another seed wrote the same people")
	}
}

// Every quirk drawn is drawn at its configured rate (a binomial check), and every system shows
// the contract's quirks for it.
func TestQuirkRates(t *testing.T) {
	_, res := defaultDistrict(t)
	def := DefaultQuirks()
	seen := map[string]QuirkStat{}
	for _, s := range res.Stats {
		seen[s.System+"/"+string(s.Quirk)] = s
		if s.Rate != def[s.System][s.Quirk] {
			t.Errorf("%s %s: stats say rate %v, config %v", s.System, s.Quirk, s.Rate, def[s.System][s.Quirk])
		}
		if s.Trials < 200 {
			continue
		}
		p := float64(s.Hits) / float64(s.Trials)
		sd := math.Sqrt(s.Rate * (1 - s.Rate) / float64(s.Trials))
		if math.Abs(p-s.Rate) > 4.5*sd+0.002 {
			t.Errorf("%s %s: observed %.4f over %d trials, configured %.4f", s.System, s.Quirk, p, s.Trials, s.Rate)
		}
	}
	// The quirks the contract lists for each system must actually occur at 20 000 residents.
	must := map[string][]Quirk{
		"hj":             {IDLegacy15, AddrVariant},
		"floating":       {IDLowerX, IDBadCheck, PhonePlus86, PhoneMulti, AddrVariant, StaleActive, Duplicate},
		"relief":         {IDMissingChild, IDMissingKin, AddrVariant, StaleActive},
		"elderly":        {IDLegacy15, PhoneRelative, PhoneLandline, AddrStale, StaleActive, Duplicate},
		"disabled":       {IDLowerX, IDLegacy15, CertSpaces, DateAltFormat, BadBytes, WrongColumns, StaleActive},
		"employment":     {DateAltFormat, DateYearMonth, DateImpossible, IDBadCheck, IDMissing},
		"insurance":      {IDLegacy15, StaleActive, Duplicate},
		"health":         {IDNumeric, DateSerial, DateAltFormat, IDMissingChild, IDMissingKin},
		"veterans":       {IDNumeric, DateSerial, DateAltFormat, LedgerNote},
		"volunteers":     {NameTrad, PhoneSep, Duplicate, StaleActive},
		"party":          {DateImpossible, IDMissing, IDBadCheck, Duplicate},
		"grid":           {IDBadCheck, IDMissing, IDFullWidth, IDSpaces, NameTrad, NameTypo, NameSpaces, AddrVariant, AddrFullWidth, AddrDash, Duplicate, DupWithoutID, WrongColumns, IDMissingNamesake},
		"ledger":         {IDNumeric, DateSerial, LedgerBlank, LedgerSubtot, LedgerNote, StaleActive, AddrDash},
		PopulationQuirks: {NameNamesake},
	}
	for sys, qs := range must {
		for _, q := range qs {
			if def[sys][q] == 0 {
				continue // configured off (e.g. party dates are year-month: no impossible day)
			}
			if st, ok := seen[sys+"/"+string(q)]; !ok || st.Hits == 0 {
				t.Errorf("%s: quirk %s never occurred (%+v)", sys, q, st)
			}
		}
	}
	// Planted anomalies of every kind.
	kinds := map[string]int{}
	for _, a := range res.Anomalies {
		kinds[a.Kind]++
		if a.Key == "" || a.Person == "" {
			t.Errorf("anomaly without locator or person: %+v", a)
		}
	}
	for _, k := range []string{"dead_but_active", "moved_but_active", "birth_mismatch", "sex_mismatch", "duplicate"} {
		if kinds[k] == 0 {
			t.Errorf("no %s anomaly planted", k)
		}
	}
}

// A quirk file overrides the defaults, and the override shows in what is written.
func TestQuirkOverride(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.json")
	os.WriteFile(path, []byte(`{"grid": {"id_bad_check": 0.3, "name_trad": 0}}`), 0o644)
	cfg, err := LoadQuirks(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res, err := Write(context.Background(), Options{Dir: dir, Residents: 3000, Seed: 5, Quirks: cfg})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Stats {
		if s.System == "grid" && s.Quirk == IDBadCheck {
			if p := float64(s.Hits) / float64(s.Trials); math.Abs(p-0.3) > 0.03 {
				t.Errorf("grid id_bad_check observed %.3f, want 0.3", p)
			}
		}
		if s.System == "grid" && s.Quirk == NameTrad {
			t.Errorf("name_trad set to 0 still drawn: %+v", s)
		}
	}
	for _, bad := range []string{`{"nosuch": {}}`, `{"grid": {"nosuch": 0.1}}`, `{"grid": {"id_missing": 2}}`, `{`} {
		os.WriteFile(path, []byte(bad), 0o644)
		if _, err := LoadQuirks(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadQuirks(%s) = %v, want an error naming the file", bad, err)
		}
	}
}

var (
	dashRe      = regexp.MustCompile(`^(\p{Han}+)\d+-\d+-\d+-\d+$`)
	fullWidthRe = regexp.MustCompile(`[０-９]`)
	ymRe        = regexp.MustCompile(`^\d{4}\.\d{2}$`)
)

// normID is the minimal normalisation a reader applies: spaces, full-width digits, lower-case x.
func normID(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= '０' && c <= '９':
			b.WriteRune(c - '０' + '0')
		case unicode.IsSpace(c):
		case c == 'x':
			b.WriteRune('X')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// idColumns says which true person an ID column names.
var idColumns = map[string]string{"公民身份号码": "resident", "户主身份号码": "householder", "idCard": "resident", "户主身份证": "householder",
	"身份证": "resident", "sfzh": "resident", "身份证号码": "resident", "证件号码": "resident", "身份证号": "resident",
	"女方身份证": "mother", "男方身份证": "father", "基本信息/身份证号": "resident", "老人信息/身份证号": "resident", "残疾证号": "resident"}

// Every file opens with the reader it is meant for; every row the truth lists is there; each
// quirk the truth says was applied is visible in the value; and every valid ID belongs to the
// true person the truth names.
func TestReadBackQuirksAndTruth(t *testing.T) {
	dir, res := defaultDistrict(t)
	persons := readCSVFile(t, filepath.Join(dir, "truth", "persons.csv"))
	idOf, nameOf, oldPhone := map[string]string{}, map[string]string{}, map[string]string{}
	for _, p := range persons[1:] {
		idOf[p[0]], nameOf[p[0]], oldPhone[p[0]] = p[4], p[1], p[16]
	}
	quirkSeen := map[Quirk]int{}
	for _, s := range res.Manifest.Systems {
		rows := readSystem(t, dir, s)
		truth := readTruthRecords(t, dir, s.Name)
		if len(truth) != s.Rows || len(truth) == 0 {
			t.Errorf("%s: truth has %d records, manifest %d", s.Name, len(truth), s.Rows)
		}
		validIDs := 0
		seen := map[string]int{}
		for _, tr := range truth {
			r, ok := rows[occurrence(seen, tr.Locator)]
			if !ok {
				t.Fatalf("%s: truth locator %s not found by the reader", s.Name, tr.Locator)
			}
			for _, cq := range tr.Quirks {
				col, q, _ := strings.Cut(cq, ":")
				quirkSeen[Quirk(q)]++
				if Quirk(q) == LedgerNote {
					if !noteBelow(rows, tr.Locator) {
						t.Errorf("%s %s: quirk ledger_note, but no note row in a usual wording below the table", s.Name, tr.Locator)
					}
					continue
				}
				if msg := checkQuirk(Quirk(q), r, r.Cols[col], tr, nameOf, oldPhone); msg != "" {
					t.Errorf("%s %s column %q: quirk %s not visible: %s (value %q)", s.Name, tr.Locator, col, q, msg, r.Cols[col].Text)
				}
			}
			if r.Unreadable != "" {
				if !hasAny(tr.Quirks, BadBytes, WrongColumns) {
					t.Errorf("%s %s unreadable (%s) without a planted file quirk", s.Name, tr.Locator, r.Unreadable)
				}
				continue
			}
			for col, role := range idColumns {
				c, ok := r.Cols[col]
				if !ok || c.Numeric || c.Text == "" {
					continue
				}
				id := normID(c.Text)
				if col == "残疾证号" && len(id) == 20 {
					id = id[:18]
				}
				if len(id) == 15 && isDigits(id) {
					id, _ = idcard.Upgrade(id)
				}
				if !idcard.Valid(id) {
					continue
				}
				validIDs++
				if want := idOf[tr.Persons[role]]; want != id {
					t.Errorf("%s %s column %s: valid ID %s belongs to someone else than %s=%s (%s)", s.Name, tr.Locator, col, id, role, tr.Persons[role], want)
				}
			}
		}
		if s.Name != "volunteers" && validIDs == 0 {
			t.Errorf("%s: no valid ID found at all", s.Name)
		}
	}
	for _, q := range []Quirk{IDLowerX, IDFullWidth, IDSpaces, IDLegacy15, IDBadCheck, IDMissing, IDNumeric, NameTrad, NameDotVariant, NameSpaces,
		NameTypo, DateAltFormat, DateYearMonth, DateImpossible, DateSerial, PhonePlus86, PhoneSep, PhoneMulti, PhoneLandline, PhoneStale,
		AddrVariant, AddrFullWidth, AddrStale, BadBytes, WrongColumns, IDMissingKin, IDMissingNamesake, CertSpaces, AddrDash, LedgerNote} {
		if quirkSeen[q] == 0 {
			t.Errorf("quirk %s appears in no file", q)
		}
	}
}

var noteRe = regexp.MustCompile(`^(填表说明|说明|注|备注)：\S`)

// noteBelow reports whether a note row in one of the usual wordings follows the sheet row at
// loc ("file!sheet!row") within the next few rows (after 小计 and 合计 lines).
func noteBelow(rows map[string]row, loc string) bool {
	i := strings.LastIndex(loc, "!")
	n, err := strconv.Atoi(loc[i+1:])
	if err != nil {
		return false
	}
	for k := n + 1; k <= n+4; k++ {
		for _, c := range rows[fmt.Sprintf("%s!%d", loc[:i], k)].Cols {
			if noteRe.MatchString(c.Text) {
				return true
			}
		}
	}
	return false
}

func hasAny(quirks []string, qs ...Quirk) bool {
	for _, s := range quirks {
		for _, q := range qs {
			if strings.HasSuffix(s, ":"+string(q)) {
				return true
			}
		}
	}
	return false
}

// checkQuirk looks for the quirk in the value as read; "" means it is there.
func checkQuirk(q Quirk, r row, c cell, tr truthRec, nameOf, oldPhone map[string]string) string {
	v := c.Text
	if r.Unreadable != "" && q != BadBytes && q != WrongColumns {
		return "" // the row's text is damaged on purpose
	}
	switch q {
	case IDLowerX:
		if !strings.Contains(v, "x") {
			return "no lower-case x"
		}
	case IDFullWidth, AddrFullWidth:
		if !fullWidthRe.MatchString(v) {
			return "no full-width digit"
		}
	case IDSpaces:
		if !strings.Contains(v, " ") {
			return "no space"
		}
	case IDLegacy15:
		if len(normID(v)) != 15 && !strings.HasPrefix(normID(v), normID(v)[:min(15, len(normID(v)))]) {
			return "not 15 digits"
		}
		if n := len(normID(v)); n != 15 && n != 17 { // 残疾证号 = 15 + category + grade
			return "not a 15-digit number"
		}
	case IDBadCheck:
		if c.Numeric {
			return "" // the number cell lost the digits anyway
		}
		id := normID(v)
		if len(id) >= 18 && idcard.Valid(id[:18]) {
			return "check character still valid"
		}
	case IDMissing, IDMissingChild, IDMissingKin, IDMissingNamesake:
		if v != "" && !strings.HasSuffix(r.Cols["残疾证号"].Text, v) {
			return "not empty"
		}
	case IDNumeric, DateSerial:
		if !c.Numeric {
			return "not a number cell"
		}
	case NameTrad:
		for _, ch := range v {
			for _, tr := range tradOf {
				if ch == tr {
					return ""
				}
			}
		}
		return "no traditional character"
	case NameSpaces:
		if !strings.Contains(v, " ") {
			return "no space"
		}
	case NameDotVariant:
		if strings.Contains(v, "·") {
			return "canonical dot kept"
		}
	case NameTypo:
		if v == nameOf[tr.Persons["resident"]] {
			return "same as the true name"
		}
	case DateYearMonth:
		if !ymRe.MatchString(v) {
			return "not year-month"
		}
	case DateImpossible:
		if _, err := time.Parse("2006-01-02", v); err == nil {
			return "a real date"
		}
		if !strings.Contains(v, "30") && !strings.Contains(v, "31") && !strings.Contains(v, "29") {
			return "no impossible day"
		}
	case DateAltFormat:
		if v == "" {
			return "empty"
		}
	case PhonePlus86:
		if !strings.HasPrefix(v, "+86") && !strings.HasPrefix(v, "86") {
			return "no +86"
		}
	case PhoneSep:
		if !regexp.MustCompile(`\d[- ]\d{4}[- ]\d{4}`).MatchString(v) {
			return "no separators"
		}
	case PhoneMulti:
		if !regexp.MustCompile(`\d[;；/, ]+[0-9+]`).MatchString(v) {
			return "one number"
		}
	case PhoneLandline:
		if !strings.Contains(v, "025-") {
			return "no landline"
		}
	case PhoneStale:
		if !strings.Contains(v, oldPhone[tr.Persons["resident"]][:3]) {
			return "not the old number"
		}
	case AddrVariant, AddrStale:
		if v == "" {
			return "empty"
		}
	case BadBytes, WrongColumns:
		if r.Unreadable == "" {
			return "row reads cleanly"
		}
	case CertSpaces:
		if trimmed := strings.TrimSpace(v); trimmed == v || len([]rune(trimmed)) != 20 {
			return "not a 20-character number with spaces around it"
		}
	case AddrDash:
		m := dashRe.FindStringSubmatch(strings.ReplaceAll(normID(v), "－", "-")) // full-width digits too
		if m == nil || !bareRoad(m[1]) {
			return "not road+number-building-unit-room on a road without a suffix"
		}
	}
	return ""
}

// Numbers in the SQL columns are real numbers; counts agree with the manifest.
func TestSQLiteSystems(t *testing.T) {
	dir, res := defaultDistrict(t)
	for _, s := range res.Manifest.Systems {
		if s.Access != "sqlite" {
			continue
		}
		rows := readSystem(t, dir, s)
		if len(rows) != s.Rows {
			t.Errorf("%s: %d rows in SQLite, manifest %d", s.Name, len(rows), s.Rows)
		}
	}
	if _, err := strconv.Atoi("1"); err != nil {
		t.Fatal(err)
	}
}
