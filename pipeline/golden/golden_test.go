//go:build duckdb_arrow

package golden

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"communityhub/pipeline/records"
	"communityhub/pipeline/standardize"
	"communityhub/pipeline/store"
)

// Valid GB 11643 numbers (check characters right).
const (
	idWu   = "32011119371107152X" // 1937-11-07, female
	idZhou = "320105193506212074" // 1935-06-21, male
	idLi   = "320102194311197076" // 1943-11-19, male
)

// rec is a resident record of source (with role) at row ident, standardized as
// pipeline/records does it.
func rec(source, role, ident string, f map[string]string) records.Record {
	r := records.Record{Key: source + "\x1f" + ident + "\x1fresident", Source: source, SourceRole: role, Loc: source + ":" + ident,
		Role: "resident", Fields: f}
	r.IDRaw = f["id_no"]
	r.ID = standardize.ParseID(r.IDRaw, false)
	r.NameRaw = f["name"]
	r.Name = standardize.ParseName(r.NameRaw)
	r.Sex, _ = strconv.Atoi(f["sex"])
	r.Birth = f["birth_date"]
	ps, _ := standardize.ParsePhones(f["phone"])
	for _, p := range ps {
		r.Phones = append(r.Phones, p.Std)
	}
	r.AddrRaw = f["address"]
	if r.AddrRaw != "" {
		r.Addr = standardize.ParseAddress(r.AddrRaw)
	}
	return r
}

func defaults(t *testing.T) *Rules {
	t.Helper()
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func parse(t *testing.T, text string) *Rules {
	t.Helper()
	r, err := ParseRules([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// withRule is the default rules with one field's rule replaced by the TOML body given.
func withRule(t *testing.T, field, body string) *Rules {
	t.Helper()
	r := defaults(t)
	one := parseOne(t, field, body)
	r.Fields[field] = one
	return r
}

func parseOne(t *testing.T, field, body string) *FieldRule {
	t.Helper()
	var b strings.Builder
	for _, f := range Fields {
		if f == field {
			b.WriteString("[" + f + "]\n" + body + "\n")
		} else {
			b.WriteString("[" + f + "]\nrule = \"first\"\n")
		}
	}
	return parse(t, b.String()).Fields[field]
}

// one builds a single person from recs.
func one(t *testing.T, rules *Rules, recs ...records.Record) Person {
	t.Helper()
	ps := Build(recs, same(len(recs), "p1"), rules)
	if len(ps) != 1 {
		t.Fatalf("%d persons from one person's records", len(ps))
	}
	return ps[0]
}

func same(n int, id string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = id
	}
	return out
}

func field(p Person, name string) (Field, bool) {
	for _, f := range p.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

func wantField(t *testing.T, p Person, name, value, source, rule string) {
	t.Helper()
	f, ok := field(p, name)
	if !ok {
		t.Errorf("%s: no provenance (fields %+v)", name, p.Fields)
		return
	}
	if f.Value != value || f.Source != source || f.Rule != rule {
		t.Errorf("%s = %q from %q by %q, want %q from %q by %q", name, f.Value, f.Source, f.Rule, value, source, rule)
	}
}

func TestDefaultRulesCoverEveryField(t *testing.T) {
	r := defaults(t)
	for _, f := range Fields {
		if r.Fields[f] == nil {
			t.Errorf("built-in rules: no rule for %s", f)
		}
	}
	if len(r.Fields) != len(Fields) {
		t.Errorf("built-in rules have %d fields, golden has %d", len(r.Fields), len(Fields))
	}
	for _, f := range Fields {
		if values[f] == nil {
			t.Errorf("golden field %s: Build has no value for it", f)
		}
	}
}

// Authority: the first ranked role with a value wins, whatever the order of the records or
// the names of the sources; a record without a value yields to the next role.
func TestAuthorityRanksRoles(t *testing.T) {
	rules := defaults(t)
	recs := []records.Record{
		rec("a_grid", "grid", "g1", map[string]string{"name": "周钢", "phone": "13912345678", "address": "梦都大街99号6栋3单元802室"}),
		rec("b_ins", "insurance", "i1", map[string]string{"name": "周刚", "id_no": idZhou, "ethnicity": ""}),
		rec("c_hj", "hukou", "h1", map[string]string{"name": "周 刚", "id_no": idZhou, "ethnicity": "01", "phone": "13800000000"}),
	}
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}} {
		var rs []records.Record
		for _, i := range order {
			rs = append(rs, recs[i])
		}
		p := one(t, rules, rs...)
		if p.Name != "周刚" || p.IDNo != idZhou || p.Ethnicity != "01" {
			t.Errorf("order %v: name %q id %q ethnicity %q", order, p.Name, p.IDNo, p.Ethnicity)
		}
		wantField(t, p, "name", "周刚", "c_hj", "authority:hukou")
		wantField(t, p, "ethnicity", "01", "c_hj", "authority:hukou")
		// Contact details rank the door-to-door collection first.
		wantField(t, p, "phone", "13912345678", "a_grid", "freshness:grid")
		wantField(t, p, "address", "梦都大街99号6栋3单元802室", "a_grid", "freshness:grid")
		if p.AddressKey != recs[0].Addr.Key() || p.AddressKey == "" {
			t.Errorf("address key %q, want the chosen address's %q", p.AddressKey, recs[0].Addr.Key())
		}
	}
	// Without the hukou record the next role supplies the name.
	p := one(t, rules, recs[0], recs[1])
	wantField(t, p, "name", "周刚", "b_ins", "authority:insurance")
}

// Birth date and sex come from the golden ID when there is one, else by their rule.
func TestBirthAndSexFromID(t *testing.T) {
	rules := defaults(t)
	p := one(t, rules, rec("x", "grid", "1", map[string]string{"name": "吴娜", "id_no": idWu, "birth_date": "1937-11-08", "sex": "1"}))
	if p.Birth != "1937-11-07" || p.Sex != 2 {
		t.Errorf("birth %q sex %d, want the ID's 1937-11-07 and 2", p.Birth, p.Sex)
	}
	wantField(t, p, "birth_date", "1937-11-07", "", "from_id")
	wantField(t, p, "sex", "2", "", "from_id")
	p = one(t, rules,
		rec("x", "grid", "1", map[string]string{"name": "吴娜", "id_no": "3201**********152X", "birth_date": "1937-11-08", "sex": "2"}),
		rec("y", "elderly", "1", map[string]string{"name": "吴娜", "birth_date": "1937-11-07"}))
	if p.IDNo != "" {
		t.Errorf("a masked ID became the golden id_no %q", p.IDNo)
	}
	wantField(t, p, "birth_date", "1937-11-07", "y", "authority:elderly")
	wantField(t, p, "sex", "2", "x", "authority:grid")
}

// Ties within a rank: the newest timestamp wins when the rule names one; equal or no times
// fall to the row identity, not to the source's name — swapping the names of the two sources
// changes nothing.
func TestAuthorityTiesByTimestampThenRowIdentity(t *testing.T) {
	ts := withRule(t, "phone", `rule = "authority"
roles = ["ledger"]
timestamp = ["updated_at", "visited_at"]`)
	mk := func(a, b string) []records.Record {
		return []records.Record{
			rec(a, "ledger", "r2", map[string]string{"phone": "13911111111", "visited_at": "2025-03-01"}),
			rec(b, "ledger", "r1", map[string]string{"phone": "13922222222", "updated_at": "2025-02-01 08:00:00"}),
		}
	}
	for _, names := range [][2]string{{"ledger_a", "ledger_b"}, {"ledger_b", "ledger_a"}} {
		recs := mk(names[0], names[1])
		p := one(t, ts, recs...)
		wantField(t, p, "phone", "13911111111", names[0], "authority:ledger@visited_at")
		// Without timestamps in the rule, the row identity r1 comes first.
		p = one(t, defaults(t), recs...)
		wantField(t, p, "phone", "13922222222", names[1], "freshness:ledger")
		// Equal times: the row identity again.
		recs[0].Fields["visited_at"] = "2025-02-01 08:00:00"
		p = one(t, ts, recs...)
		wantField(t, p, "phone", "13922222222", names[1], "authority:ledger@updated_at")
	}
	// A time that does not read as one counts as none: the record with a real time wins.
	recs := mk("ledger_a", "ledger_b")
	recs[1].Fields["updated_at"] = "待定"
	wantField(t, one(t, ts, recs...), "phone", "13911111111", "ledger_a", "authority:ledger@visited_at")
	// Rank still comes before time: a ranked role without a time beats a newer unranked one.
	recs = append(recs, rec("grid_x", "grid", "r0", map[string]string{"phone": "13933333333", "collected_at": "2026-01-01"}))
	wantField(t, one(t, ts, recs...), "phone", "13911111111", "ledger_a", "authority:ledger@visited_at")
}

// Freshness with a timestamp: the newest record wins across roles, records without a time
// come after those with one, and equal times fall to the role order.
func TestFreshnessNewestFirst(t *testing.T) {
	rules := withRule(t, "address", `rule = "freshness"
roles = ["grid", "floating"]
timestamp = ["collected_at", "updated_at"]`)
	grid := rec("g", "grid", "1", map[string]string{"address": "梦都大街18号3栋2单元501室", "collected_at": "2025-06-01"})
	flo := rec("f", "floating", "1", map[string]string{"address": "贤坤路104号13栋3单元1203室", "updated_at": "2025-06-02T09:00:00+08:00"})
	old := rec("e", "elderly", "1", map[string]string{"address": "江东中路92号18栋4单元502室"})
	p := one(t, rules, grid, flo, old)
	wantField(t, p, "address", flo.AddrRaw, "f", "freshness:floating@updated_at")
	if p.AddressKey != flo.Addr.Key() {
		t.Errorf("address key %q, want %q", p.AddressKey, flo.Addr.Key())
	}
	grid.Fields["collected_at"] = "2025-06-03"
	wantField(t, one(t, rules, grid, flo, old), "address", grid.AddrRaw, "g", "freshness:grid@collected_at")
	// Equal times (a date is its midnight): the role order decides.
	grid.Fields["collected_at"] = "2025-06-02"
	flo.Fields["updated_at"] = "2025-06-02 00:00:00"
	wantField(t, one(t, rules, flo, grid, old), "address", grid.AddrRaw, "g", "freshness:grid@collected_at")
	// Nobody has a time: the role order; an unlisted role comes after the listed ones.
	delete(grid.Fields, "collected_at")
	delete(flo.Fields, "updated_at")
	wantField(t, one(t, rules, old, flo), "address", flo.AddrRaw, "f", "freshness:floating")
	// A record with a time beats every record without one, whatever its role.
	old.Fields["updated_at"] = "2020-01-01"
	wantField(t, one(t, rules, grid, flo, old), "address", old.AddrRaw, "e", "freshness:elderly@updated_at")
}

// Status fields and 户号 come only from the roles allowed to give them: another system's
// status column is not a death, and a source merely named like the household register is not it.
func TestStatusOnlyFromAllowedRoles(t *testing.T) {
	rules := defaults(t)
	ins := rec("insurance", "insurance", "1", map[string]string{"name": "李龙铭", "id_no": idLi, "status": "1", "status_date": "2024-01-01",
		"household_no": "999", "address": "贤坤路104号13栋3单元1203室"})
	named := rec("hj_person", "", "2", map[string]string{"name": "李龙铭", "id_no": idLi, "status": "2", "status_date": "2024-02-02", "household_no": "888"})
	p := one(t, rules, ins, named)
	if p.HukouStatus != "" || p.StatusDate != "" || strings.HasPrefix(p.Household, "hh") {
		t.Errorf("status %q date %q household %q from roles not allowed to give them", p.HukouStatus, p.StatusDate, p.Household)
	}
	for _, f := range []string{"hukou_status", "status_date", "household_no", "relation"} {
		if _, ok := field(p, f); ok {
			t.Errorf("%s has provenance without an allowed source", f)
		}
	}
	hj := rec("huji_renyuan", "hukou", "3", map[string]string{"name": "李龙铭", "id_no": idLi, "status": "1", "status_date": "2024-07-10",
		"household_no": "3201051004717", "relation": "01"})
	p = one(t, rules, ins, named, hj)
	if p.HukouStatus != "死亡" || p.StatusDate != "2024-07-10" || p.Household != "hh3201051004717" || p.Relation != "01" || p.PersonType != "户籍" {
		t.Errorf("status %q date %q household %q relation %q type %q", p.HukouStatus, p.StatusDate, p.Household, p.Relation, p.PersonType)
	}
	wantField(t, p, "hukou_status", "死亡", "huji_renyuan", "authority:hukou")
	wantField(t, p, "household_no", "3201051004717", "huji_renyuan", "authority:hukou")
	wantField(t, p, "person_type", "户籍", "", "from_household_no")
	// A status code the register does not define is no status.
	hj.Fields["status"] = "9"
	if p := one(t, rules, hj); p.HukouStatus != "" {
		t.Errorf("status code 9 read as %q", p.HukouStatus)
	}
	// Allow is a rule per field: a file may let 医保 give the status date too.
	r := withRule(t, "status_date", `rule = "authority"
roles = ["hukou", "insurance"]
allow = ["hukou", "insurance"]`)
	delete(hj.Fields, "status_date")
	wantField(t, one(t, r, ins, hj), "status_date", "2024-01-01", "insurance", "authority:insurance")
}

// A source without a role ranks last for every rule kind, after roles the rule does not list.
func TestRolelessSourceRanksLast(t *testing.T) {
	noRole := rec("aaa", "", "0", map[string]string{"name": "王伟", "phone": "13700000000"})
	unlisted := rec("zzz", "ledger", "9", map[string]string{"name": "王玮", "phone": "13711111111"})
	for _, body := range []string{`rule = "authority"
roles = ["hukou"]`, `rule = "freshness"
roles = ["hukou"]`, `rule = "first"`} {
		r := withRule(t, "name", body)
		p := one(t, r, noRole, unlisted)
		if p.Name != "王玮" {
			t.Errorf("%s: name %q, want the record with a role", body, p.Name)
		}
		// Alone, a role-less source still supplies what nobody else has.
		p = one(t, r, noRole)
		kind := strings.Trim(strings.Fields(body)[2], `"`)
		wantField(t, p, "name", "王伟", "aaa", kind+":(no role)")
	}
}

// "first": record order only (the row identity), whatever the roles.
func TestFirstNonEmpty(t *testing.T) {
	r := withRule(t, "ethnicity", `rule = "first"`)
	p := one(t, r,
		rec("s1", "hukou", "b", map[string]string{"name": "x", "ethnicity": "01"}),
		rec("s2", "grid", "a", map[string]string{"name": "x", "ethnicity": ""}),
		rec("s3", "grid", "c", map[string]string{"name": "x", "ethnicity": "03"}),
		rec("s4", "grid", "aa", map[string]string{"name": "x", "ethnicity": "02"}))
	wantField(t, p, "ethnicity", "02", "s4", "first:grid")
}

// A role may imply a value its records do not write: a residence permit means 流动.
func TestImpliedValue(t *testing.T) {
	rules := defaults(t)
	p := one(t, rules, rec("liudong", "floating", "1", map[string]string{"name": "张三"}),
		rec("ins", "insurance", "1", map[string]string{"name": "张三"}))
	wantField(t, p, "person_type", "流动", "liudong", "freshness:floating (implied)")
	// The grid's own word ranks first.
	p = one(t, rules, rec("liudong", "floating", "1", map[string]string{"name": "张三"}),
		rec("wangge", "grid", "1", map[string]string{"name": "张三", "person_type": "境外"}))
	wantField(t, p, "person_type", "境外", "wangge", "freshness:grid")
}

func TestParseRulesErrors(t *testing.T) {
	full := func(override map[string]string) string {
		var b strings.Builder
		for _, f := range Fields {
			body, ok := override[f]
			if !ok {
				body = `rule = "authority"`
			}
			if body != "-" {
				b.WriteString("[" + f + "]\n" + body + "\n")
			}
		}
		for f, body := range override {
			if !contains(Fields, f) {
				b.WriteString("[" + f + "]\n" + body + "\n")
			}
		}
		return b.String()
	}
	if _, err := ParseRules([]byte(full(nil))); err != nil {
		t.Fatalf("a minimal complete file: %v", err)
	}
	for _, c := range []struct {
		name     string
		override map[string]string
		want     []string
	}{
		{"unknown field", map[string]string{"phone_no": `rule = "authority"`}, []string{`unknown field "phone_no"`, "golden fields: id_no, name", "person_type"}},
		{"unknown rule", map[string]string{"phone": `rule = "newest"`}, []string{"field phone", `rule "newest" unknown`, "rules: authority, freshness, first"}},
		{"no rule", map[string]string{"phone": `roles = ["grid"]`}, []string{"field phone", `rule "" unknown`, "authority, freshness, first"}},
		{"unknown role", map[string]string{"address": `rule = "freshness"
roles = ["grid", "wangge"]`}, []string{"field address", "roles", `unknown role "wangge"`, "roles: hukou, hukou_household, floating", "ledger"}},
		{"source name as role", map[string]string{"hukou_status": `rule = "authority"
allow = ["hj_person"]`}, []string{"field hukou_status", "allow", `unknown role "hj_person"`, "roles: hukou"}},
		{"implied role", map[string]string{"person_type": `rule = "freshness"
implied = { liudong = "流动" }`}, []string{"field person_type", "implied", `unknown role "liudong"`, "roles: hukou"}},
		{"role twice", map[string]string{"name": `rule = "authority"
roles = ["grid", "grid"]`}, []string{"field name", `role "grid" listed twice`}},
		{"unknown setting", map[string]string{"name": `rule = "authority"
rank = ["grid"]`}, []string{"field name", `unknown setting "rank"`, "settings: rule, roles, allow, timestamp, from_id, implied"}},
		{"timestamp field", map[string]string{"phone": `rule = "freshness"
timestamp = ["gxsj"]`}, []string{"field phone", "timestamp", `unknown canonical field "gxsj"`, "updated_at"}},
		{"from_id elsewhere", map[string]string{"name": `rule = "authority"
from_id = true`}, []string{"field name", "from_id applies only to birth_date and sex"}},
		{"roles with first", map[string]string{"name": `rule = "first"
roles = ["hukou"]`}, []string{"field name", `rule "first" ignores the ranking`}},
		{"missing fields", map[string]string{"relation": "-", "sex": "-"}, []string{"no rule for field(s) sex, relation", "every golden field needs one"}},
	} {
		_, err := ParseRules([]byte(full(c.override)))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\n  does not say %q", c.name, err, w)
			}
		}
	}
	if _, err := ParseRules([]byte("[name\nrule = 1")); err == nil || !strings.Contains(err.Error(), "survivorship rules") {
		t.Errorf("bad TOML: %v", err)
	}
	// LoadRules names the file.
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.toml")
	if err := os.WriteFile(path, []byte(full(map[string]string{"phone": `rule = "newest"`})), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRules(path); err == nil || !strings.HasPrefix(err.Error(), path+": field phone") {
		t.Errorf("LoadRules: %v", err)
	}
	if _, err := LoadRules(filepath.Join(dir, "missing.toml")); err == nil || !os.IsNotExist(err) {
		t.Errorf("LoadRules of a missing file: %v", err)
	}
	// A file written out whole loads as the built-in rules do.
	if err := os.WriteFile(path, defaultRules, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != path || got.Fields["phone"].Rule != RuleFreshness || got.Fields["hukou_status"].Allow[0] != "hukou" {
		t.Errorf("loaded rules %s: phone %+v, hukou_status %+v", got.Source, got.Fields["phone"], got.Fields["hukou_status"])
	}
}

// Households: one 户 per 户号 wherever its members live; without a 户号, the people of one flat
// (however its address is written); without either, a household of one. Saved with their
// members, kinds and the provenance of every field.
func TestHouseholdsAndSave(t *testing.T) {
	rules := defaults(t)
	recs := []records.Record{
		// p1, p2: one 户号, two flats.
		rec("hj", "hukou", "1", map[string]string{"name": "周刚", "id_no": idZhou, "household_no": "3201051005726", "relation": "01", "address": "梦都大街99号6栋3单元802室"}),
		rec("hj", "hukou", "2", map[string]string{"name": "吴娜", "id_no": idWu, "household_no": "3201051005726", "relation": "02", "address": "贤坤路104号13栋3单元1203室"}),
		// p3, p4: no 户号, the same flat written two ways.
		rec("grid", "grid", "3", map[string]string{"name": "张三", "address": "建邺区兴隆街道梦都大街18号3栋2单元501室"}),
		rec("flo", "floating", "4", map[string]string{"name": "李四", "address": "梦都大街18号3幢2-501"}),
		// p5: nothing to place them by.
		rec("vol", "volunteers", "5", map[string]string{"name": "王五"}),
		// A second record of p4.
		rec("ins", "insurance", "6", map[string]string{"name": "李四", "phone": "13800001111"}),
	}
	person := []string{"p1", "p2", "p3", "p4", "p5", "p4"}
	if a, b := recs[2].Addr.Key(), recs[3].Addr.Key(); a == "" || a != b {
		t.Fatalf("test setup: the flat's two writings have keys %q and %q", a, b)
	}
	ps := Build(recs, person, rules)
	if len(ps) != 5 {
		t.Fatalf("%d persons, want 5", len(ps))
	}
	hh := map[string]string{}
	for _, p := range ps {
		hh[p.ID] = p.Household
	}
	if hh["p1"] != "hh3201051005726" || hh["p2"] != hh["p1"] {
		t.Errorf("户号 households: %q, %q", hh["p1"], hh["p2"])
	}
	if !strings.HasPrefix(hh["p3"], "ha") || hh["p3"] != hh["p4"] || hh["p3"] == hh["p1"] {
		t.Errorf("same-flat households: %q, %q", hh["p3"], hh["p4"])
	}
	if hh["p5"] != "hpp5" {
		t.Errorf("unplaced person's household %q", hh["p5"])
	}
	if ps[3].ID != "p4" || ps[3].Records != 2 || strings.Join(ps[3].Sources, ",") != "flo,ins" || ps[3].Phone != "13800001111" {
		t.Errorf("p4: %+v", ps[3])
	}

	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "hub.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	save := func(ps []Person) {
		t.Helper()
		if err := db.Tx(ctx, func(conn *sql.Conn) error { return Save(ctx, conn, ps) }); err != nil {
			t.Fatal(err)
		}
	}
	save(ps)
	save(ps) // Save replaces: a second publish leaves no duplicates
	q := func(query string) []string {
		t.Helper()
		rows, err := db.SQL().QueryContext(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		sort.Strings(out)
		return out
	}
	got := q(`SELECT concat_ws('|', household_id, coalesce(hu_hao, ''), kind, members) FROM golden.household`)
	want := []string{"hh3201051005726|3201051005726|户籍户|2", hh["p3"] + "||同住|2", "hpp5||同住|1"}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("golden.household:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = q(`SELECT concat_ws('|', person_id, household_id, coalesce(relation, '')) FROM golden.household_member`)
	if strings.Join(got, " ") != "p1|hh3201051005726|01 p2|hh3201051005726|02 p3|"+hh["p3"]+"| p4|"+hh["p4"]+"| p5|hpp5|" {
		t.Errorf("golden.household_member: %v", got)
	}
	got = q(`SELECT concat_ws('|', person_id, name, coalesce(id_no, ''), sex, birth_date, household_id, person_type, records) FROM golden.person WHERE person_id IN ('p1', 'p4')`)
	if strings.Join(got, " ") != "p1|周刚|"+idZhou+"|1|1935-06-21|hh3201051005726|户籍|1 p4|李四||0||"+hh["p4"]+"|流动|2" {
		t.Errorf("golden.person: %v", got)
	}
	got = q(`SELECT concat_ws('|', field, value, coalesce(source, ''), coalesce(record_key, ''), rule) FROM golden.person_field WHERE person_id = 'p4'`)
	want = []string{
		"address|梦都大街18号3幢2-501|flo|" + recs[3].Key + "|freshness:floating",
		"name|李四|ins|" + recs[5].Key + "|authority:insurance",
		"person_type|流动|flo|" + recs[3].Key + "|freshness:floating (implied)",
		"phone|13800001111|ins|" + recs[5].Key + "|freshness:insurance",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("golden.person_field of p4:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
