//go:build duckdb_arrow

package jobs

import (
	"context"
	"database/sql"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"communityhub/internal/deptsim"
	"communityhub/internal/evaltruth"
	"communityhub/pipeline/golden"
	"communityhub/pipeline/store"
)

// traditional writes a road the way an old register might: traditional characters, a full-width
// space inside the name.
var traditional = strings.NewReplacer("梦", "夢", "东", "東", "体", "體", "乐", "樂", "庐", "廬", "兴", "興", "云", "雲", "龙", "龍",
	"黄", "黃", "润", "潤", "贤", "賢", "营", "營", "丝", "絲", "门", "門", "湾", "灣")

func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			r += '０' - '0'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// On the demo district the register places 99% of the golden persons that are residents in
// their true community; every person it leaves unplaced is in golden.unplaced with the reason.
// The same register rewritten as a CSV with its roads in traditional characters and full-width
// door numbers is a changed register (the reconcile runs again) and places everyone the same.
func TestPlaceResidentsInTheirCommunity(t *testing.T) {
	dir, _, db, res := reconciledDemo(t, 10000)
	ctx := context.Background()
	ps := res.Place
	if ps.Persons != res.Persons || ps.ByAddress+ps.ByGrid+ps.UnplacedTotal() != ps.Persons || ps.ByAddress == 0 {
		t.Fatalf("place stats %+v for %d persons", ps, res.Persons)
	}
	rep, err := evaltruth.Evaluate(ctx, db.SQL(), dir)
	if err != nil {
		t.Fatal(err)
	}
	pl := rep.Placement
	t.Logf("placement %+v; stats %+v", pl, ps)
	truthResidents := 0
	for _, r := range readTruthPersons(t, dir) {
		if r["status"] == "正常" {
			truthResidents++
		}
	}
	if pl.Residents < truthResidents*95/100 {
		t.Fatalf("%d golden persons stand for residents, the truth has %d", pl.Residents, truthResidents)
	}
	if float64(pl.Correct) < 0.99*float64(pl.Residents) {
		t.Errorf("%d of %d residents placed in their true community (%.4f): %d wrong, %d unplaced %v",
			pl.Correct, pl.Residents, pl.Rate, pl.Wrong, pl.Unplaced, pl.Reasons)
	}

	// Every unplaced person is listed, with a reason; every placed person says how.
	var unplaced, listed, unlisted, placedWithout int
	q := func(query string, dst *int) {
		t.Helper()
		if err := db.SQL().QueryRowContext(ctx, query).Scan(dst); err != nil {
			t.Fatal(err)
		}
	}
	q(`SELECT count(*) FROM golden.person WHERE coalesce(community, '') = ''`, &unplaced)
	q(`SELECT count(*) FROM golden.unplaced WHERE coalesce(unplaced_reason, '') <> ''`, &listed)
	q(`SELECT count(*) FROM golden.person p WHERE coalesce(p.community, '') = '' AND NOT EXISTS
		(SELECT 1 FROM golden.unplaced u WHERE u.person_id = p.person_id AND coalesce(u.unplaced_reason, '') <> '')`, &unlisted)
	q(`SELECT count(*) FROM golden.person WHERE coalesce(community, '') <> '' AND (placed_by NOT IN ('address', 'grid') OR coalesce(unplaced_reason, '') <> '')`, &placedWithout)
	if unplaced != ps.UnplacedTotal() || listed != unplaced || unlisted != 0 || placedWithout != 0 {
		t.Errorf("%d unplaced (stats %d), %d listed with a reason, %d not listed; %d placed without saying how",
			unplaced, ps.UnplacedTotal(), listed, unlisted, placedWithout)
	}
	var counted sql.NullInt64
	if err := db.SQL().QueryRowContext(ctx, `SELECT sum(n) FROM resolve.counts WHERE run = ? AND stage = 'place' AND item = 'by_address'`, res.Run).Scan(&counted); err != nil {
		t.Fatal(err)
	}
	if counted.Int64 != int64(ps.ByAddress) {
		t.Errorf("resolve.counts place by_address %d, stats %d", counted.Int64, ps.ByAddress)
	}
	before := communities(t, db.SQL())

	// The register as a CSV, its roads written in traditional characters and full width.
	book, err := excelize.OpenFile(filepath.Join(dir, deptsim.CommunityRegisterFile))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := book.GetRows(book.GetSheetList()[0])
	book.Close()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	renamed := 0
	for i, r := range rows {
		if i == 0 || len(r) < 2 {
			continue // the title and the notes
		}
		r = append(r, make([]string, 5)...)[:5]
		if i > 1 {
			road := []rune(traditional.Replace(r[1]))
			if string(road) != r[1] {
				renamed++
			}
			r[1] = string(road[:1]) + "\u3000" + string(road[1:])
			r[2], r[3] = fullWidth(r[2]), fullWidth(r[3])
		}
		w.Write(r)
	}
	w.Flush()
	if renamed == 0 {
		t.Fatal("test setup: no road of the register has a character to write traditionally")
	}
	if err := os.WriteFile(filepath.Join(dir, "reference", "社区辖区表_旧.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, deptsim.ConfigFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(raw), deptsim.CommunityRegisterFile, "reference/社区辖区表_旧.csv", 1)
	if text == string(raw) {
		t.Fatal("test setup: the config does not name the community register")
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := Reconcile(ctx, cfg2, db, ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Stats.Mode == "unchanged" {
		t.Fatalf("a changed register did not rebuild: %s", res2.Reason)
	}
	after := communities(t, db.SQL())
	differ := 0
	for id, c := range before {
		if after[id] != c {
			differ++
			if differ <= 3 {
				t.Errorf("%s: placed %q with the register, %q with it renamed", id, c, after[id])
			}
		}
	}
	if differ > 0 || len(after) != len(before) || res2.Place.ByAddress != ps.ByAddress {
		t.Errorf("renamed register: %d of %d persons placed otherwise; by address %d, before %d", differ, len(before), res2.Place.ByAddress, ps.ByAddress)
	}

	// A register that does not load fails the config, naming the file, row and column.
	bad := filepath.Join(dir, "reference", "bad.csv")
	if err := os.WriteFile(bad, []byte("社区名称,道路,门牌号起,门牌号止\n梦都社区,梦都大街,一,40\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(text, "reference/社区辖区表_旧.csv", "reference/bad.csv", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "register") || !strings.Contains(err.Error(), bad) ||
		!strings.Contains(err.Error(), "row 2: 门牌号起") {
		t.Errorf("a broken register: %v", err)
	}
}

// Without [register] every person is unplaced, saying there is no register.
func TestPlaceWithoutRegisterConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.toml")
	body := "database = \"hub.duckdb\"\n[[source]]\nname = \"grid\"\nrole = \"grid\"\nkind = \"csv\"\n[source.options]\nroot = \"g\"\nglob = \"*.csv\"\n" +
		"[source.mapping]\n\"姓名\" = \"name\"\n\"住址\" = \"address\"\n\"网格编号\" = \"grid\"\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "g"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "g", "a.csv"), []byte("姓名,住址,网格编号\n张三,梦都大街18号3栋2单元501室,320105004001001\n李四,梦都大街20号1栋1单元101室,320105004001001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.DatabasePath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Sync(ctx, cfg, db, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := Reconcile(ctx, cfg, db, ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Persons != 2 || res.Place.Unplaced[golden.ReasonNoRegister] != 2 {
		t.Errorf("%d persons, place %+v", res.Persons, res.Place)
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM golden.unplaced WHERE unplaced_reason = ? AND grid = '320105004001001'`, golden.ReasonNoRegister).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("golden.unplaced lists %d persons without a register", n)
	}
}

func communities(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT person_id, coalesce(community, '') || '/' || coalesce(placed_by, '') FROM golden.person`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, c string
		if err := rows.Scan(&id, &c); err != nil {
			t.Fatal(err)
		}
		out[id] = c
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readTruthPersons(t *testing.T, dir string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "truth", "persons.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, c := range recs[0] {
			m[c] = r[i]
		}
		out = append(out, m)
	}
	return out
}
