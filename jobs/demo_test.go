//go:build duckdb_arrow

package jobs

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"communityhub/internal/deptsim"
	"communityhub/internal/deptsim/apisim"
	"communityhub/internal/testsrv"
	"communityhub/pipeline/land"
	"communityhub/pipeline/store"
)

// truthScope tells which truth records a source holds: the truth system and a locator filter.
var truthScope = map[string][2]string{
	"hj_person": {"hj", "hj.person:"}, "hj_household": {"hj", "hj.household:"}, "floating": {"floating", ""},
	"relief_family": {"relief", "jz_family:"}, "relief_member": {"relief", "jz_member:"}, "elderly": {"elderly", ""},
	"disabled": {"disabled", ""}, "employment": {"employment", ""}, "insurance": {"insurance", ""}, "health": {"health", ""},
	"veterans": {"veterans", ""}, "volunteers": {"volunteers", ""}, "party": {"party", ""}, "grid": {"grid", ""},
	"ledger_elderly80": {"ledger", "80周岁"}, "ledger_alone": {"ledger", "独居"},
}

// truthLocs counts the truth's rows of a source by location: a person registered twice can
// share a key, so a location may stand for more than one row (the landing tells them apart by
// occurrence).
func truthLocs(t *testing.T, dir, source string) map[string]int {
	t.Helper()
	scope := truthScope[source]
	f, err := os.Open(filepath.Join(dir, "truth", "records", scope[0]+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range recs[1:] {
		if strings.Contains(r[1], scope[1]) {
			out[r[1]]++
		}
	}
	return out
}

// rowCount is the number of rows truthLocs stands for.
func rowCount(locs map[string]int) int {
	n := 0
	for _, c := range locs {
		n += c
	}
	return n
}

// demoEnv writes a district, serves its APIs (with injected 429 and 5xx) and loads its config.
func demoEnv(t *testing.T, residents int, faults apisim.Faults) (string, *Config, map[string]*apisim.Server, func(string) string) {
	return demoEnvOn(t, residents, faults, "", "")
}

// demoEnvOn is demoEnv with the SQL systems on real servers when DSNs are given.
func demoEnvOn(t *testing.T, residents int, faults apisim.Faults, pg, my string) (string, *Config, map[string]*apisim.Server, func(string) string) {
	t.Helper()
	dir := t.TempDir()
	res, err := deptsim.Write(context.Background(), deptsim.Options{Dir: dir, Residents: residents, Seed: 21, PostgresDSN: pg, MySQLDSN: my})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	servers, err := deptsim.ServeAPIs(ctx, dir, nil, faults)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{deptsim.EnvPostgresDSN: pg, deptsim.EnvMySQLDSN: my}
	for name, s := range servers {
		u, tok := deptsim.APIEnv(name)
		env[u], env[tok] = s.URL(), res.Manifest.Tokens[name]
	}
	cfg, err := Load(filepath.Join(dir, deptsim.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Sources {
		if cfg.Sources[i].Kind == "http" {
			cfg.Sources[i].Options["page_size"] = 40 // many pages: the faults get their chance
		}
	}
	return dir, cfg, servers, func(k string) string { return env[k] }
}

// reconciledDemo is a district of the given size written, synced and reconciled once; the
// database is closed when the test ends.
func reconciledDemo(t *testing.T, residents int) (string, *Config, *store.DB, ReconcileResult) {
	t.Helper()
	dir, cfg, _, getenv := demoEnv(t, residents, apisim.Faults{})
	db, err := store.Open(context.Background(), cfg.DatabasePath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	syncAll(t, cfg, db, getenv)
	res, err := Reconcile(context.Background(), cfg, db, ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return dir, cfg, db, res
}

func syncAll(t *testing.T, cfg *Config, db *store.DB, getenv func(string) string) map[string]land.Stats {
	t.Helper()
	res, err := Sync(context.Background(), cfg, db, SyncOptions{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]land.Stats{}
	for _, s := range res.Stats {
		if s.Err != nil {
			t.Errorf("%s failed: %v", s.Source, s.Err)
		}
		out[s.Source] = s
	}
	return out
}

// The same with systems 1 and 7 on a real PostgreSQL and 3 and 6 on a real MariaDB (gbk tables).
func TestDemoDistrictSyncOnServers(t *testing.T) {
	pg, my := testsrv.Postgres(t), testsrv.MySQL(t)
	dir, cfg, _, getenv := demoEnvOn(t, 3000, apisim.Faults{Rate429: 0.2, Rate5xx: 0.1, Seed: 7}, pg, my)
	kinds := map[string]bool{}
	for _, s := range cfg.Sources {
		kinds[s.Kind] = true
	}
	if !kinds["postgres"] || !kinds["mysql"] || kinds["sqlite"] {
		t.Fatalf("server-mode config has kinds %v", kinds)
	}
	db, err := store.Open(context.Background(), cfg.DatabasePath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, st := range syncAll(t, cfg, db, getenv) {
		if want := rowCount(truthLocs(t, dir, name)); int(st.Landed+st.Quarantined) != want {
			t.Errorf("%s: landed %d + quarantined %d, the source holds %d", name, st.Landed, st.Quarantined, want)
		}
	}
	for name, st := range syncAll(t, cfg, db, getenv) {
		if st.Landed != 0 {
			t.Errorf("second run: %s landed %d", name, st.Landed)
		}
	}
}

// Every source lands whole: landed + quarantined = the rows the source holds, and the
// locations landed are exactly the ones the truth lists. A second run lands nothing; after
// 1% of the rows of each cursor source change, exactly those land.
func TestDemoDistrictSync(t *testing.T) {
	dir, cfg, servers, getenv := demoEnv(t, 4000, apisim.Faults{Rate429: 0.2, Rate5xx: 0.1, Seed: 7})
	db, err := store.Open(context.Background(), cfg.DatabasePath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	first := syncAll(t, cfg, db, getenv)
	if len(first) != len(truthScope) {
		t.Fatalf("%d sources synced, want %d", len(first), len(truthScope))
	}
	for name, st := range first {
		want := truthLocs(t, dir, name)
		if int(st.Landed+st.Quarantined) != rowCount(want) || st.Read != st.Landed+st.Quarantined {
			t.Errorf("%s: landed %d + quarantined %d (read %d), the source holds %d", name, st.Landed, st.Quarantined, st.Read, rowCount(want))
		}
		got := map[string]int{}
		rows, err := db.SQL().Query(fmt.Sprintf(`SELECT _loc FROM raw."%s" WHERE _current UNION ALL SELECT loc FROM meta.quarantine WHERE source = ?`, name), name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			got[l]++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		missing := 0
		for l, n := range want {
			if got[l] != n {
				missing++
				if missing < 3 {
					t.Errorf("%s: truth has %d rows at %s, %d landed or quarantined", name, n, l, got[l])
				}
			}
		}
	}
	if q := first["disabled"].Quarantined + first["grid"].Quarantined; q == 0 {
		t.Error("the planted bad rows were not quarantined")
	}
	if first["veterans"].Skipped == 0 || first["ledger_alone"].Skipped == 0 {
		t.Error("合计 and note rows were not skipped")
	}
	faults := int64(0)
	for _, s := range servers {
		faults += s.Stats().TooMany + s.Stats().ServerErrors
	}
	if faults == 0 {
		t.Error("no fault was injected: the retry path was not exercised")
	}

	second := syncAll(t, cfg, db, getenv)
	for name, st := range second {
		if st.Landed != 0 || st.Deleted != 0 {
			t.Errorf("second run: %s landed %d, deleted %d", name, st.Landed, st.Deleted)
		}
	}

	// Change 1% of the rows of every cursor source.
	changed := map[string]int64{}
	later := "2026-11-22 09:00:00"
	for _, c := range []struct{ source, file, table, set, cursor string }{
		{"hj_person", "systems/01_hj.sqlite", "person", `"居住地址" = "居住地址" || '（已更正）'`, "gxsj"},
		{"employment", "systems/06_employment.sqlite", "jy_register", `"联系电话" = '13912345678'`, "xgsj"},
		{"insurance", "systems/07_insurance.sqlite", "cbry", `"参保状态" = '暂停'`, "last_modified"},
		{"relief_family", "systems/03_relief.sqlite", "jz_family", `"月保障金额" = "月保障金额" + 10`, "update_time"},
	} {
		sdb, err := sql.Open("sqlite", filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		res, err := sdb.Exec(fmt.Sprintf(`UPDATE "%s" SET %s, "%s" = ? WHERE rowid %% 100 = 7`, c.table, c.set, c.cursor), later)
		if err != nil {
			t.Fatal(err)
		}
		changed[c.source], _ = res.RowsAffected()
		sdb.Close()
	}
	// System 2's items carry no update time: the API keeps its own, and the source is
	// incremental by each run's start time. A changed item is updated now, after the last run
	// began (the district's own times lie before the real clock, so the others are not re-read).
	floatingItems := filepath.Join(dir, "systems/02_floating/residents.json")
	items, err := deptsim.LoadItems(floatingItems)
	if err != nil {
		t.Fatal(err)
	}
	updated, err := deptsim.LoadUpdated(floatingItems)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := 7; i < len(items); i += 100 {
		var m map[string]any
		if err := json.Unmarshal(items[i], &m); err != nil {
			t.Fatal(err)
		}
		m["phone"] = "13700000000"
		if items[i], err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
		updated[i] = now
		changed["floating"]++
	}
	servers["floating"].SetData(items, updated)
	vol, _ := deptsim.LoadItems(filepath.Join(dir, "systems/10_volunteers/volunteers.json"))
	for i := 0; i < len(vol)/100; i++ {
		vol = append(vol, json.RawMessage(fmt.Sprintf(`{"volunteerNo":"VNEW%05d","realName":"新志愿者","mobile":"13600000000","idNoMasked":"","registerDate":"2026-11-21","serviceHours":0,"team":"助老志愿队"}`, i)))
		changed["volunteers"]++
	}
	servers["volunteers"].SetItems(vol)
	third := syncAll(t, cfg, db, getenv)
	for name, st := range third {
		if st.Landed != changed[name] {
			t.Errorf("after changes: %s landed %d, changed %d", name, st.Landed, changed[name])
		}
	}
}

// A source over its error threshold fails alone: nothing of it lands, the others do.
func TestFailingSourceDoesNotStopOthers(t *testing.T) {
	dir, _, _, getenv := demoEnv(t, 2000, apisim.Faults{})
	path := filepath.Join(dir, deptsim.ConfigFile)
	raw, _ := os.ReadFile(path)
	text := strings.Replace(string(raw), `encoding = "gbk"`, "encoding = \"gbk\"\n[source.errors]\nmax_ratio = 0.0001\nmin_rows = 1", 1)
	os.WriteFile(path, []byte(text), 0o644)
	// Today's drop arrives with a damaged line.
	drops, _ := filepath.Glob(filepath.Join(dir, "systems/05_disabled/残疾人信息_20261120.csv"))
	f, err := os.OpenFile(drops[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("3201051958030412341\xff\xfe,\xd5\xc5,\xc4\xd0\n"))
	f.Close()
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), cfg.DatabasePath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := Sync(context.Background(), cfg, db, SyncOptions{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	failed := res.Failed()
	if len(failed) != 1 || failed[0].Source != "disabled" || !strings.Contains(failed[0].Err.Error(), "threshold") {
		t.Fatalf("failed sources: %+v", failed)
	}
	var n int
	db.SQL().QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = 'disabled'`).Scan(&n)
	var landed int
	if n > 0 {
		db.SQL().QueryRow(`SELECT count(*) FROM raw."disabled"`).Scan(&landed)
	}
	if landed != 0 {
		t.Errorf("the failed source landed %d rows", landed)
	}
	db.SQL().QueryRow(`SELECT count(*) FROM meta.runs WHERE sync_id = ? AND ok`, res.SyncID).Scan(&n)
	if n != len(res.Stats)-1 {
		t.Errorf("%d sources landed, want %d", n, len(res.Stats)-1)
	}
}

func TestConfigErrorsNameFileSourceAndField(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ body, want string }{
		{`database = "x.duckdb"` + "\n[[source]]\nname = \"a\"\nkind = \"nosuch\"", `source "a": kind "nosuch" unknown`},
		{`database = "x.duckdb"` + "\n[[source]]\nname = \"a\"\nkind = \"csv\"\nschedule = \"every day\"", `source "a": schedule`},
		{`database = "x.duckdb"` + "\n[[source]]\nname = \"a\"\nkind = \"csv\"\n[source.mapping]\n\"姓名\" = \"nme\"", `unknown canonical field "nme"`},
		{`database = "x.duckdb"` + "\n[[source]]\nname = \"a\"\nkind = \"csv\"\nrequired = [\"x\"]", `required column "x" is not in the mapping`},
		{`database = "x.duckdb"` + "\nworkerz = 3\n[[source]]\nname = \"a\"\nkind = \"csv\"", `unknown setting(s) workerz`},
		{"[[source]]\nname = \"a\"\nkind = \"csv\"", `database: required`},
	} {
		path := filepath.Join(dir, "hub.toml")
		os.WriteFile(path, []byte(c.body), 0o644)
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %q: error %v, want one naming the file and %q", c.body, err, c.want)
		}
	}
}
