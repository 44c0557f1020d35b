//go:build duckdb_arrow

package jobs

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"communityhub/internal/deptsim/apisim"
	"communityhub/pipeline/golden"
	"communityhub/pipeline/store"
)

// Survivorship keys on roles, never on names: renaming every source of the demo config (roles
// unchanged) changes no golden person, field choice, household or member — compared by each
// person's record set, with the names mapped back — and the hukou status of every dead or
// moved-out resident is still there (the bug of a renamed 户籍 source: 0 persons with a status).
func TestRenamingSourcesChangesNoOutput(t *testing.T) {
	dir, cfg, _, getenv := demoEnv(t, 1500, apisim.Faults{})
	ctx := context.Background()

	// The renamed config: every [[source]] name changed so that their order reverses (nothing
	// may lean on it either), the roles kept, and a fresh database.
	text, err := os.ReadFile(cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range cfg.Sources {
		names = append(names, s.Name)
	}
	sort.Strings(names)
	n := len(names)
	back := map[string]string{} // renamed → original, in the reverse order of the originals
	for i, name := range names {
		back[fmt.Sprintf("s%02d_%s", n-i, strings.TrimPrefix(name, "hj_"))] = name
	}
	toNew := map[string]string{}
	for k, v := range back {
		toNew[v] = k
	}
	renamedText := regexp.MustCompile(`(?m)^name = "([a-z0-9_]+)"`).ReplaceAllStringFunc(string(text), func(line string) string {
		old := strings.TrimSuffix(strings.TrimPrefix(line, `name = "`), `"`)
		nw, ok := toNew[old]
		if !ok {
			t.Fatalf("config line %q names no source of the loaded config", line)
		}
		return `name = "` + nw + `"`
	})
	renamedText = regexp.MustCompile(`(?m)^database = .*$`).ReplaceAllString(renamedText, `database = "renamed.duckdb"`)
	renamedPath := filepath.Join(dir, "renamed.toml")
	renamed := loadText(t, renamedPath, renamedText)
	if len(renamed.Sources) != n {
		t.Fatalf("renamed config has %d sources, the demo's %d", len(renamed.Sources), n)
	}
	for i, s := range renamed.Sources {
		if back[s.Name] != cfg.Sources[i].Name || s.Role != cfg.Sources[i].Role || s.Role == "" {
			t.Fatalf("renamed source %d: %s (role %q), demo's %s (role %q)", i, s.Name, s.Role, cfg.Sources[i].Name, cfg.Sources[i].Role)
		}
	}

	run := func(c *Config) *store.DB {
		db, err := store.Open(ctx, c.DatabasePath(), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		syncAll(t, c, db, getenv)
		res, err := Reconcile(ctx, c, db, ReconcileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Persons < 1000 {
			t.Fatalf("%s: %d persons from 1500 residents", c.Path, res.Persons)
		}
		return db
	}
	orig := goldenSnapshot(t, run(cfg).SQL(), nil)
	renamedDB := run(renamed)
	got := goldenSnapshot(t, renamedDB.SQL(), back)
	for _, table := range []string{"person", "person_field", "household", "household_member"} {
		a, b := orig[table], got[table]
		if len(a) == 0 {
			t.Errorf("golden.%s is empty", table)
		}
		if diff := diffLines(a, b); diff != "" {
			t.Errorf("golden.%s differs after renaming the sources (%d rows, %d renamed):\n%s", table, len(a), len(b), diff)
		}
	}

	// Every dead or moved-out resident with a 户籍 here (the truth's residence 户籍: a floating
	// resident's 迁出 is no hukou status) has that status after renaming, and their 户号 household.
	f, err := os.Open(filepath.Join(dir, "truth", "persons.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	for _, c := range []string{"id_no", "residence", "status", "status_date"} {
		if _, ok := col[c]; !ok {
			t.Fatalf("truth/persons.csv has no column %s", c)
		}
	}
	ended, found := 0, 0
	for _, r := range rows[1:] {
		st := r[col["status"]]
		if (st != "死亡" && st != "迁出") || r[col["residence"]] != "户籍" || r[col["id_no"]] == "" {
			continue
		}
		ended++
		var status, date, household sql.NullString
		err := renamedDB.SQL().QueryRowContext(ctx, `SELECT hukou_status, status_date, household_id FROM golden.person WHERE id_no = ?`, r[col["id_no"]]).
			Scan(&status, &date, &household)
		if err == sql.ErrNoRows {
			t.Errorf("truth person %s (%s): no golden person with the ID", r[col["id_no"]], st)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		found++
		if status.String != st || date.String != r[col["status_date"]] || !strings.HasPrefix(household.String, "hh") {
			t.Errorf("%s: hukou status %q of %q, household %q; the truth says %s of %s", r[col["id_no"]], status.String, date.String, household.String, st, r[col["status_date"]])
		}
	}
	if found != ended || ended < 5 {
		t.Fatalf("%d of the district's %d dead or moved-out residents found (at least 5 needed to test)", found, ended)
	}
	t.Logf("%d dead or moved-out residents, %d found with their status after renaming", ended, found)

	// survivorship = "file" (relative to the config) replaces the built-in rules; a reconcile's
	// own rules win over the config's.
	rules := regexp.MustCompile(`(?s)\[phone\]\n.*?\n\n`).ReplaceAllString(string(golden.DefaultRulesText()), "[phone]\nrule = \"first\"\n\n")
	if err := os.WriteFile(filepath.Join(dir, "rules.toml"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	custom := loadText(t, renamedPath, "survivorship = \"rules.toml\"\n"+renamedText)
	phoneRules := func(opts ReconcileOptions) map[string]int {
		t.Helper()
		opts.Force = true
		if _, err := Reconcile(ctx, custom, renamedDB, opts); err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		query := `SELECT split_part(rule, ':', 1), count(*) FROM golden.person_field WHERE field = 'phone' GROUP BY 1`
		rows, err := renamedDB.SQL().QueryContext(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var r string
			var n int
			if err := rows.Scan(&r, &n); err != nil {
				t.Fatal(err)
			}
			out[r] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := phoneRules(ReconcileOptions{}); len(got) != 1 || got["first"] < 100 {
		t.Errorf("with the config's rules, phones chosen by %v, want all by first", got)
	}
	def, err := golden.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	if got := phoneRules(ReconcileOptions{Survivorship: def}); len(got) != 1 || got["freshness"] < 100 {
		t.Errorf("with the reconcile's own rules, phones chosen by %v, want all by freshness", got)
	}
	// A bad or missing rules file fails the config's load, naming the config, the key, the
	// rules file and what is wrong in it.
	bad := strings.Replace(rules, `allow = ["hukou"]`, `allow = ["hj_person"]`, 1)
	if err := os.WriteFile(filepath.Join(dir, "rules.toml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ key, want string }{
		{"rules.toml", filepath.Join(dir, "rules.toml") + `: field hukou_status: allow: unknown role "hj_person" (roles: hukou,`},
		{"nowhere.toml", filepath.Join(dir, "nowhere.toml")},
	} {
		_, err := Load(writeText(t, renamedPath, "survivorship = \""+c.key+"\"\n"+renamedText))
		if err == nil || !strings.Contains(err.Error(), renamedPath+": survivorship: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("survivorship = %q: %v\n  want it to name %s, survivorship and %q", c.key, err, renamedPath, c.want)
		}
	}
}

// writeText writes text to path and returns the path.
func writeText(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadText writes a config to path and loads it.
func loadText(t *testing.T, path, text string) *Config {
	t.Helper()
	c, err := Load(writeText(t, path, text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// goldenSnapshot reads the golden tables as sorted text rows with every person id replaced by
// the person's record set and every source name mapped through back (nil: kept): two runs over
// the same data compare equal whatever the sources are called or the ids they drew.
func goldenSnapshot(t *testing.T, db *sql.DB, back map[string]string) map[string][]string {
	t.Helper()
	name := func(s string) string {
		if o, ok := back[s]; ok {
			return o
		}
		if back != nil && s != "" {
			t.Fatalf("source %q is not a renamed one", s)
		}
		return s
	}
	key := func(k string) string { // source \x1f ident \x1f role
		src, rest, _ := strings.Cut(k, "\x1f")
		return name(src) + "/" + rest
	}
	query := func(q string, cols int, fn func(v []string)) {
		t.Helper()
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		vals := make([]sql.NullString, cols)
		ptrs := make([]any, cols)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			v := make([]string, cols)
			for i := range vals {
				v[i] = vals[i].String
				if !vals[i].Valid {
					v[i] = "NULL"
				}
			}
			fn(v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	members := map[string][]string{}
	query(`SELECT person_id, record_key FROM resolve.record_person`, 2, func(v []string) {
		members[v[0]] = append(members[v[0]], key(v[1]))
	})
	person := func(id string) string {
		m := members[id]
		if len(m) == 0 {
			t.Fatalf("golden person %s has no records in resolve.record_person", id)
		}
		sort.Strings(m)
		return "{" + strings.Join(m, ",") + "}"
	}
	household := func(id string) string {
		if p, ok := strings.CutPrefix(id, "hp"); ok {
			return "hp" + person(p) // a household of one is named by its person
		}
		return id
	}
	out := map[string][]string{}
	add := func(table string, v ...string) { out[table] = append(out[table], strings.Join(v, " | ")) }
	query(`SELECT person_id, name, id_no, sex, birth_date, ethnicity, phone, address, address_key, household_id, hukou_status,
		status_date, person_type, records, sources FROM golden.person`, 15, func(v []string) {
		srcs := strings.Fields(strings.Trim(v[14], "[]"))
		for i := range srcs {
			srcs[i] = name(srcs[i])
		}
		sort.Strings(srcs)
		v[0], v[9], v[14] = person(v[0]), household(v[9]), strings.Join(srcs, " ")
		add("person", v...)
	})
	query(`SELECT person_id, field, value, source, record_key, rule FROM golden.person_field`, 6, func(v []string) {
		v[0] = person(v[0])
		if v[3] != "" && v[3] != "NULL" {
			v[3], v[4] = name(v[3]), key(v[4])
		}
		add("person_field", v...)
	})
	query(`SELECT household_id, hu_hao, kind, address, address_key, members FROM golden.household`, 6, func(v []string) {
		v[0] = household(v[0])
		add("household", v...)
	})
	query(`SELECT household_id, person_id, relation FROM golden.household_member`, 3, func(v []string) {
		v[0], v[1] = household(v[0]), person(v[1])
		add("household_member", v...)
	})
	for _, rows := range out {
		sort.Strings(rows)
	}
	return out
}

// diffLines lists (up to 10 of) the rows only in a ("- ") or only in b ("+ "), counting
// repeats; "" when they are equal.
func diffLines(a, b []string) string {
	count := map[string]int{} // a's rows minus b's
	for _, x := range a {
		count[x]++
	}
	for _, x := range b {
		count[x]--
	}
	var out []string
	for _, x := range append(append([]string(nil), a...), b...) {
		for ; count[x] > 0; count[x]-- {
			out = append(out, "- "+x)
		}
		for ; count[x] < 0; count[x]++ {
			out = append(out, "+ "+x)
		}
	}
	sort.Strings(out)
	total := len(out)
	if total > 10 {
		out = append(out[:10], fmt.Sprintf("… %d more", total-10))
	}
	return strings.Join(out, "\n")
}
