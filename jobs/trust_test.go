//go:build duckdb_arrow

package jobs

// End-to-end tests of "Trustworthy nightly runs" (issue 7), one per bullet of its "Why": each
// reproduces the hostile input on real files, real HTTP servers and real PostgreSQL/MariaDB,
// through Load, Sync, CheckSources and Reconcile, and checks what the hub does now.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"communityhub/internal/testsrv"
	"communityhub/pipeline/land"
	"communityhub/pipeline/standardize/idcard"
	"communityhub/pipeline/store"
)

// hub is a deployment in a temporary folder: its hub.toml, its database and its environment.
type hub struct {
	t   *testing.T
	dir string
	cfg *Config
	db  *store.DB
	env map[string]string
}

// newHub writes hub.toml (database line added) and opens the database.
func newHub(t *testing.T, body string) *hub {
	t.Helper()
	h := &hub{t: t, dir: t.TempDir(), env: map[string]string{}}
	h.reload(body)
	db, err := store.Open(context.Background(), h.cfg.DatabasePath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.db = db
	t.Cleanup(func() { h.db.Close() })
	return h
}

// reload rewrites hub.toml and loads it again (the database stays open).
func (h *hub) reload(body string) {
	h.t.Helper()
	path := filepath.Join(h.dir, "hub.toml")
	if err := os.WriteFile(path, []byte("database = \"hub.duckdb\"\n"+body), 0o644); err != nil {
		h.t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		h.t.Fatal(err)
	}
	h.cfg = cfg
}

func (h *hub) getenv(k string) string { return h.env[k] }

// write puts a file below the deployment's folder.
func (h *hub) write(rel, content string) {
	h.t.Helper()
	p := filepath.Join(h.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// sync runs one sync of the named sources (all when none) and returns their figures.
func (h *hub) sync(opts SyncOptions, only ...string) map[string]land.Stats {
	h.t.Helper()
	opts.Only = only
	if opts.Getenv == nil {
		opts.Getenv = h.getenv
	}
	res, err := Sync(context.Background(), h.cfg, h.db, opts)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]land.Stats{}
	for _, s := range res.Stats {
		out[s.Source] = s
	}
	return out
}

// syncOK is sync where every source must succeed.
func (h *hub) syncOK(only ...string) map[string]land.Stats {
	h.t.Helper()
	out := h.sync(SyncOptions{}, only...)
	for _, s := range out {
		if s.Err != nil {
			h.t.Fatalf("%s failed: %v", s.Source, s.Err)
		}
	}
	return out
}

// syncFails is a sync of one source that must fail; it returns its figures.
func (h *hub) syncFails(source string, opts SyncOptions) land.Stats {
	h.t.Helper()
	st := h.sync(opts, source)[source]
	if st.Err == nil {
		h.t.Fatalf("%s: the sync succeeded (landed %d, deleted %d), want a failure", source, st.Landed, st.Deleted)
	}
	return st
}

func (h *hub) n(q string, args ...any) int64 {
	h.t.Helper()
	var n sql.NullInt64
	if err := h.db.SQL().QueryRow(q, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}

func (h *hub) str(q string, args ...any) string {
	h.t.Helper()
	var s sql.NullString
	if err := h.db.SQL().QueryRow(q, args...).Scan(&s); err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return s.String
}

func (h *hub) current(source string) int64 {
	return h.n(fmt.Sprintf(`SELECT count(*) FROM raw.%s WHERE _current`, store.QuoteIdent(source)))
}

// run is a source's latest meta.runs row.
type run struct {
	ok       bool
	finished bool
	err      string
	landed   int64
}

func (h *hub) lastRun(source string) run {
	h.t.Helper()
	var r run
	var fin sql.NullTime
	var e sql.NullString
	var landed sql.NullInt64
	err := h.db.SQL().QueryRow(`SELECT ok, finished_at, error, rows_landed FROM meta.runs WHERE source = ? ORDER BY sync_id DESC LIMIT 1`, source).
		Scan(&r.ok, &fin, &e, &landed)
	if err != nil {
		h.t.Fatalf("meta.runs of %s: %v", source, err)
	}
	r.finished, r.err, r.landed = fin.Valid, e.String, landed.Int64
	return r
}

// failedRun checks that the source's last run is recorded as failed, finished, with a message
// holding every want.
func (h *hub) failedRun(source string, want ...string) {
	h.t.Helper()
	r := h.lastRun(source)
	if r.ok || !r.finished {
		h.t.Errorf("%s: meta.runs ok=%v finished=%v, want a finished failed run", source, r.ok, r.finished)
	}
	for _, w := range want {
		if !strings.Contains(r.err, w) {
			h.t.Errorf("%s: meta.runs.error %q lacks %q", source, r.err, w)
		}
	}
}

func (h *hub) rawColumns(source string) []string {
	h.t.Helper()
	rows, err := h.db.SQL().Query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position`, source)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		if !strings.HasPrefix(c, "_") {
			out = append(out, c)
		}
	}
	return out
}

// person is one generated resident with a valid ID number.
type person struct{ no, name, id, birth string }

func people(prefix string, n int) []person {
	out := make([]person, n)
	for i := range out {
		b := time.Date(1950+i%40, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
		id, err := idcard.Build("320105", b, 100+i)
		if err != nil {
			panic(err)
		}
		out[i] = person{fmt.Sprintf("%s%03d", prefix, i+1), fmt.Sprintf("居民%s%d", prefix, i+1), id, b.Format("2006-01-02")}
	}
	return out
}

// csvOf writes people as a CSV with the given line end; birth(i) may replace a birth date.
func csvOf(ps []person, eol string, birth func(i int, p person) string) string {
	var b strings.Builder
	b.WriteString("编号,姓名,身份证号,出生日期" + eol)
	for i, p := range ps {
		bd := p.birth
		if birth != nil {
			bd = birth(i, p)
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s%s", p.no, p.name, p.id, bd, eol)
	}
	return b.String()
}

// api is a small departmental JSON API on a real HTTP server: page/size paging answered as
// {"total": …, "items": […]}, filtered by updatedAfter (strictly after) when asked.
type api struct {
	mu         sync.Mutex
	items      []map[string]any
	total      func(n int) int // nil: the number of items
	status     int             // non-zero: every answer has this status, echoing the request
	failPage   int             // non-zero: this page answers 404
	ignorePage bool            // answer the first page whatever page is asked
	queries    []url.Values
	srv        *httptest.Server
}

func newAPI(t *testing.T, items []map[string]any) *api {
	a := &api{items: items}
	a.srv = httptest.NewServer(a)
	t.Cleanup(a.srv.Close)
	return a
}

func (a *api) set(f func(a *api)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a)
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	q := r.URL.Query()
	a.queries = append(a.queries, q)
	if a.status != 0 {
		// A hostile server: its error page repeats the request, credentials and all.
		http.Error(w, fmt.Sprintf(`{"error":"internal error","request":%q,"authorization":%q}`, r.URL.String(), r.Header.Get("Authorization")), a.status)
		return
	}
	page, _ := strconv.Atoi(q.Get("page"))
	size, _ := strconv.Atoi(q.Get("size"))
	if page < 1 {
		page = 1
	}
	if size < 1 {
		size = 100
	}
	if a.ignorePage {
		page = 1
	}
	if a.failPage != 0 && page == a.failPage {
		http.Error(w, `{"error":"gone"}`, http.StatusNotFound)
		return
	}
	var sel []map[string]any
	after := q.Get("updatedAfter")
	for _, it := range a.items {
		if after != "" {
			ta, err1 := time.Parse(time.RFC3339, after)
			ti, err2 := time.Parse(time.RFC3339, fmt.Sprint(it["updatedAt"]))
			if err1 != nil || err2 != nil || !ti.After(ta) {
				continue
			}
		}
		sel = append(sel, it)
	}
	lo := min((page-1)*size, len(sel))
	hi := min(lo+size, len(sel))
	total := len(sel)
	if a.total != nil {
		total = a.total(total)
	}
	page0 := sel[lo:hi]
	if page0 == nil {
		page0 = []map[string]any{}
	}
	body, _ := json.Marshal(map[string]any{"total": total, "items": page0})
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func apiItems(ps []person) []map[string]any {
	var out []map[string]any
	for _, p := range ps {
		out = append(out, map[string]any{"permitNo": p.no, "name": p.name, "idCard": p.id})
	}
	return out
}

const peopleCSV = `
[[source]]
name = "people"
kind = "csv"
key = ["编号"]
required = ["出生日期"]
[source.options]
path = "drop/people.csv"
[source.errors]
min_rows = 1000
[source.mapping]
"编号" = "record_no"
"姓名" = "name"
"身份证号" = "id_no"
"出生日期" = "birth_date"
`

const peopleAPI = `
[[source]]
name = "api"
kind = "http"
key = ["permitNo"]
[source.options]
url_env = "API_URL"
url = "/residents"
paging = "page"
page_size = 20
items_path = "items"
total_path = "total"
key_field = "permitNo"
retries = -1
columns = ["permitNo", "name", "idCard"]
[source.mapping]
"permitNo" = "permit_no"
"name" = "name"
"idCard" = "id_no"
`

// Why 1 — "Empty or broken snapshot → everyone deleted": a header-only CSV, a 0-byte CSV, a CSV
// with CR-only line endings, an API whose total is smaller than what it holds, an API that
// answers an empty listing, and a file that is 100% quarantined under min_rows. Each fails the
// source (or, for the CR file, reads it right) and keeps every current row; a deliberately
// smaller file is refused until --accept-deletes; a row that starts failing its check stays
// current (meta.held) and is quarantined, and leaves meta.held once fixed.
func TestBrokenSnapshotDeletesNobody(t *testing.T) {
	h := newHub(t, peopleCSV+peopleAPI)
	ps := people("B", 50)
	a := newAPI(t, apiItems(ps))
	h.env["API_URL"] = a.srv.URL
	h.write("drop/people.csv", csvOf(ps, "\n", nil))
	st := h.syncOK()
	if st["people"].Landed != 50 || st["api"].Landed != 50 {
		t.Fatalf("first sync landed %d (csv) and %d (api), want 50 each", st["people"].Landed, st["api"].Landed)
	}
	colsBefore := h.rawColumns("people")
	keeps := func(source, what string) {
		t.Helper()
		if n := h.current(source); n != 50 {
			t.Errorf("%s: after %s %d current rows, want all 50 kept", source, what, n)
		}
		if n := h.n(fmt.Sprintf(`SELECT count(*) FROM raw.%s WHERE _end_reason = 'deleted'`, source)); n != 0 {
			t.Errorf("%s: after %s %d rows marked deleted", source, what, n)
		}
	}

	// (a) a header-only export, and an empty (0-byte) one.
	h.write("drop/people.csv", "编号,姓名,身份证号,出生日期\n")
	fe := h.syncFails("people", SyncOptions{})
	if !strings.Contains(fe.Err.Error(), "has a header but no data rows") {
		t.Errorf("header-only file: %v", fe.Err)
	}
	keeps("people", "a header-only file")
	h.failedRun("people", "has a header but no data rows")
	h.write("drop/people.csv", "")
	fe = h.syncFails("people", SyncOptions{})
	keeps("people", "a 0-byte file")
	h.failedRun("people", "0 bytes")

	// (b) the same rows with CR-only line ends: the same 50 rows, nothing new, no junk columns;
	// and a concatenated export (its second header row skipped, not landed as a person 姓名).
	h.write("drop/people.csv", csvOf(ps, "\r", nil))
	st = h.syncOK("people")
	if s := st["people"]; s.Read != 50 || s.Landed != 0 || s.Deleted != 0 || s.Unchanged != 50 {
		t.Errorf("CR-only file: read %d, landed %d, deleted %d, unchanged %d; want the same 50 rows unchanged", s.Read, s.Landed, s.Deleted, s.Unchanged)
	}
	if got := h.rawColumns("people"); !slices.Equal(got, colsBefore) {
		t.Errorf("CR-only file: raw columns %d %q, were %d %q", len(got), got, len(colsBefore), colsBefore)
	}
	if n := h.n(`SELECT count(*) FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = 'people'`); n != int64(len(colsBefore))+9 {
		t.Errorf("CR-only file: raw.people has %d columns, want %d", n, len(colsBefore)+9)
	}
	h.write("drop/people.csv", csvOf(ps[:25], "\n", nil)+csvOf(ps[25:], "\n", nil))
	st = h.syncOK("people")
	if s := st["people"]; s.Read != 50 || s.Deleted != 0 || s.Skipped == 0 {
		t.Errorf("concatenated file: read %d, deleted %d, skipped %d", s.Read, s.Deleted, s.Skipped)
	}
	if n := h.n(`SELECT count(*) FROM raw.people WHERE "姓名" = '姓名'`); n != 0 {
		t.Errorf("the repeated header row landed as %d person(s) named 姓名", n)
	}
	keeps("people", "a concatenated file")

	// (c) the API says total 20 while it holds 50; then it answers an empty listing.
	a.set(func(a *api) { a.total = func(int) int { return 20 } })
	fe = h.syncFails("api", SyncOptions{})
	if !strings.Contains(fe.Err.Error(), "total 20 but 50 items were read") {
		t.Errorf("short total: %v", fe.Err)
	}
	keeps("api", "a short total")
	h.failedRun("api", "total 20")
	a.set(func(a *api) { a.total, a.items = nil, nil })
	fe = h.syncFails("api", SyncOptions{})
	if !errors.Is(fe.Err, land.ErrDeletes) || fe.WouldDelete != 50 {
		t.Errorf("empty listing: %v (would delete %d)", fe.Err, fe.WouldDelete)
	}
	keeps("api", "an empty listing")
	h.failedRun("api", "read no data rows", "50", "hub sync --accept-deletes api")

	// (d) every row fails its required column, under min_rows.
	h.write("drop/people.csv", csvOf(ps, "\n", func(int, person) string { return "不详" }))
	fe = h.syncFails("people", SyncOptions{})
	if !errors.Is(fe.Err, land.ErrThreshold) || !strings.Contains(fe.Err.Error(), "all 50 rows quarantined") {
		t.Errorf("100%% quarantined: %v", fe.Err)
	}
	keeps("people", "a wholly quarantined file")
	h.failedRun("people", "all 50 rows quarantined")

	// A row that starts failing its check keeps its last good version, held and quarantined.
	h.write("drop/people.csv", csvOf(ps, "\n", func(i int, p person) string {
		if i == 6 {
			return "不详"
		}
		return p.birth
	}))
	st = h.syncOK("people")
	if s := st["people"]; s.Deleted != 0 || s.Held != 1 || s.Quarantined != 1 {
		t.Errorf("one bad row: deleted %d, held %d, quarantined %d; want 0, 1, 1", s.Deleted, s.Held, s.Quarantined)
	}
	keeps("people", "a row that fails its check")
	if got := h.str(`SELECT "出生日期" FROM raw.people WHERE _current AND "编号" = 'B007'`); got != ps[6].birth {
		t.Errorf("B007's current birth date %q, want its last good %q", got, ps[6].birth)
	}
	if n := h.n(`SELECT count(*) FROM meta.held WHERE source = 'people' AND ident LIKE 'B007%'`); n != 1 {
		t.Errorf("meta.held lists B007 %d times", n)
	}
	syncID := h.n(`SELECT max(sync_id) FROM meta.runs WHERE source = 'people' AND ok`)
	if n := h.n(`SELECT count(*) FROM meta.quarantine WHERE source = 'people' AND sync_id = ? AND raw_text LIKE 'B007%' AND reason LIKE '%出生日期%'`, syncID); n != 1 {
		t.Errorf("B007's failing row quarantined %d times in sync %d", n, syncID)
	}
	// Fixed at the source (with a corrected date): it lands and leaves meta.held.
	h.write("drop/people.csv", csvOf(ps, "\n", func(i int, p person) string {
		if i == 6 {
			return "1956-07-08"
		}
		return p.birth
	}))
	st = h.syncOK("people")
	if s := st["people"]; s.Landed != 1 || s.Held != 0 || s.Deleted != 0 {
		t.Errorf("fixed row: landed %d, held %d, deleted %d; want 1, 0, 0", s.Landed, s.Held, s.Deleted)
	}
	if got := h.str(`SELECT "出生日期" FROM raw.people WHERE _current AND "编号" = 'B007'`); got != "1956-07-08" {
		t.Errorf("B007 after the fix: %q", got)
	}
	if n := h.n(`SELECT count(*) FROM meta.held WHERE source = 'people'`); n != 0 {
		t.Errorf("meta.held still lists %d rows of people", n)
	}
	keeps("people", "the fix")

	// A smaller file (10 people really gone): refused, then accepted.
	h.write("drop/people.csv", csvOf(ps[:40], "\n", func(i int, p person) string {
		if i == 6 {
			return "1956-07-08"
		}
		return p.birth
	}))
	fe = h.syncFails("people", SyncOptions{})
	if !errors.Is(fe.Err, land.ErrDeletes) || fe.WouldDelete != 10 {
		t.Errorf("smaller file: %v (would delete %d)", fe.Err, fe.WouldDelete)
	}
	keeps("people", "a smaller file without acceptance")
	h.failedRun("people", "would end 10 of 50", "hub sync --accept-deletes people")
	st = h.sync(SyncOptions{AcceptDeletes: []string{"people"}}, "people")
	if s := st["people"]; s.Err != nil || s.Deleted != 10 || s.Current != 40 {
		t.Errorf("accepted: err %v, deleted %d, current %d; want 10 ended, 40 current", s.Err, s.Deleted, s.Current)
	}
	if n := h.n(`SELECT count(*) FROM raw.people WHERE _end_reason = 'deleted'`); n != 10 {
		t.Errorf("%d rows ended as deleted, want 10", n)
	}
}

// cursorCase is one incremental source holding poisoned cursor values.
type cursorCase struct {
	source string
	update func(t *testing.T, id, when string) // change a row's name and cursor value
}

// checkCursor syncs a source whose good cursor values run to 2026-11-10 10:00 beside poisoned
// ones: the cursor stops at the last good value, a later run lands nothing new, and a row
// updated later with a good time lands in the next run.
func checkCursor(t *testing.T, h *hub, source string, good []string, bad int, wantCursor, later string, update func(id, when string)) {
	t.Helper()
	st := h.syncOK(source)[source]
	if st.Landed != int64(len(good)) || st.Quarantined != int64(bad) {
		t.Errorf("%s: first run landed %d, quarantined %d; want %d, %d", source, st.Landed, st.Quarantined, len(good), bad)
	}
	if c, _ := land.Cursor(context.Background(), h.db, source); c != wantCursor {
		t.Errorf("%s: cursor %q after the first run, want the last good value %q", source, c, wantCursor)
	}
	if n := h.n(`SELECT count(*) FROM meta.quarantine WHERE source = ? AND reason LIKE 'cursor column%'`, source); n != int64(bad) {
		t.Errorf("%s: %d rows quarantined for their cursor value, want %d", source, n, bad)
	}
	st = h.syncOK(source)[source]
	if st.Landed != 0 {
		t.Errorf("%s: second run landed %d", source, st.Landed)
	}
	update(good[2], later)
	st = h.syncOK(source)[source]
	if st.Landed != 1 {
		t.Errorf("%s: after a real update the next run landed %d, want 1", source, st.Landed)
	}
	if got := h.n(fmt.Sprintf(`SELECT count(*) FROM raw.%s WHERE _current AND name = '已更新'`, source)); got != 1 {
		t.Errorf("%s: the updated row is not current (%d)", source, got)
	}
	if c, _ := land.Cursor(context.Background(), h.db, source); !strings.HasPrefix(strings.ReplaceAll(c, "T", " "), "2026-11-20 10:00:00") {
		t.Errorf("%s: cursor %q after the update, want 2026-11-20 10:00:00", source, c)
	}
	if h.current(source) != int64(len(good)) {
		t.Errorf("%s: %d current rows, want %d", source, h.current(source), len(good))
	}
}

// Why 2 — "Cursor poisoning": a PostgreSQL timestamp 'infinity', a MariaDB varchar cursor with
// '待定' and '2099-01-01 00:00:00', an API item updated in 2099. None moves the cursor; a later
// real update still lands.
func TestCursorPoisoning(t *testing.T) {
	good := []string{"k01", "k02", "k03", "k04", "k05", "k06", "k07", "k08", "k09", "k10"}
	when := func(i int) string { return fmt.Sprintf("2026-11-%02d 10:00:00", i+1) }
	const body = `
[[source]]
name = "%s"
kind = "%s"
key = ["id"]
[source.options]
dsn_env = "DSN"
table = "person"
cursor = "upd"
[source.mapping]
"id" = "record_no"
"name" = "name"
`
	t.Run("postgres", func(t *testing.T) {
		dsn := testsrv.Postgres(t)
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		mustExec(t, db, `CREATE TABLE person (id text PRIMARY KEY, name text, upd timestamp)`)
		for i, id := range good {
			mustExec(t, db, `INSERT INTO person VALUES ($1, $2, $3)`, id, "人"+id, when(i))
		}
		mustExec(t, db, `INSERT INTO person VALUES ('bad', '无穷', 'infinity')`)
		h := newHub(t, fmt.Sprintf(body, "pg", "postgres"))
		h.env["DSN"] = dsn
		checkCursor(t, h, "pg", good, 1, when(9), "2026-11-20 10:00:00", func(id, at string) {
			mustExec(t, db, `UPDATE person SET name = '已更新', upd = $1 WHERE id = $2`, at, id)
		})
	})
	t.Run("mariadb", func(t *testing.T) {
		dsn := testsrv.MySQL(t)
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		mustExec(t, db, `CREATE TABLE person (id varchar(10) PRIMARY KEY, name varchar(20), upd varchar(30)) DEFAULT CHARSET=utf8mb4`)
		for i, id := range good {
			mustExec(t, db, `INSERT INTO person VALUES (?, ?, ?)`, id, "人"+id, when(i))
		}
		mustExec(t, db, `INSERT INTO person VALUES ('x1', '待定者', '待定'), ('x2', '未来者', '2099-01-01 00:00:00')`)
		h := newHub(t, fmt.Sprintf(body, "my", "mysql"))
		h.env["DSN"] = dsn
		checkCursor(t, h, "my", good, 2, when(9), "2026-11-20 10:00:00", func(id, at string) {
			mustExec(t, db, `UPDATE person SET name = '已更新', upd = ? WHERE id = ?`, at, id)
		})
	})
	t.Run("http", func(t *testing.T) {
		var items []map[string]any
		rfc := func(s string) string { return strings.Replace(s, " ", "T", 1) + "Z" }
		for i, id := range good {
			items = append(items, map[string]any{"permitNo": id, "name": "人" + id, "updatedAt": rfc(when(i))})
		}
		items = append(items, map[string]any{"permitNo": "x9", "name": "未来者", "updatedAt": "2099-01-01T00:00:00Z"})
		a := newAPI(t, items)
		h := newHub(t, `
[[source]]
name = "api"
kind = "http"
key = ["permitNo"]
[source.options]
url_env = "API_URL"
url = "/residents"
paging = "page"
page_size = 4
items_path = "items"
key_field = "permitNo"
updated_param = "updatedAfter"
updated_field = "updatedAt"
retries = -1
columns = ["permitNo", "name", "updatedAt"]
[source.mapping]
"permitNo" = "permit_no"
"name" = "name"
"updatedAt" = "updated_at"
`)
		h.env["API_URL"] = a.srv.URL
		checkCursor(t, h, "api", good, 1, rfc(when(9)), "2026-11-20 10:00:00", func(id, at string) {
			a.set(func(a *api) {
				for _, it := range a.items {
					if it["permitNo"] == id {
						it["name"], it["updatedAt"] = "已更新", rfc(at)
					}
				}
			})
		})
		// The filter the API was last asked for is a real time, not 2099.
		a.set(func(a *api) {
			last := a.queries[len(a.queries)-1].Get("updatedAfter")
			if !strings.HasPrefix(last, "2026-11-") {
				t.Errorf("the last request asked for items updated after %q", last)
			}
		})
	})
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// Why 5 (key changes) — changing an incremental PostgreSQL source's key from [a] to [a, b]
// re-identifies its current rows: after updates are read under the new key there is one current
// row per source row, no duplicate identities, and a key check with the new key ends nothing.
func TestKeyChangeReidentifies(t *testing.T) {
	dsn := testsrv.Postgres(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, `CREATE TABLE person (a text, b text, name text, upd timestamp, PRIMARY KEY (a, b))`)
	ps := people("K", 30)
	for i, p := range ps {
		mustExec(t, db, `INSERT INTO person VALUES ($1, $2, $3, $4)`, p.no, "1", p.name, fmt.Sprintf("2026-11-%02d 08:00:00", 1+i%20))
	}
	body := func(key string) string {
		return `
[[source]]
name = "hj"
kind = "postgres"
key = ` + key + `
[source.options]
dsn_env = "DSN"
table = "person"
cursor = "upd"
[source.mapping]
"a" = "record_no"
"name" = "name"
`
	}
	h := newHub(t, body(`["a"]`))
	h.env["DSN"] = dsn
	if st := h.syncOK()["hj"]; st.Landed != 30 {
		t.Fatalf("first run landed %d", st.Landed)
	}
	h.reload(body(`["a", "b"]`))
	mustExec(t, db, `UPDATE person SET name = name || '（改）', upd = '2026-11-25 08:00:00' WHERE a IN ('K003', 'K011', 'K017', 'K025', 'K030')`)
	st := h.syncOK()["hj"]
	if st.Landed != 5 {
		t.Errorf("after the key change and 5 updates: landed %d, want 5", st.Landed)
	}
	if n := h.current("hj"); n != 30 {
		t.Errorf("%d current rows for 30 persons", n)
	}
	if n := h.n(`SELECT count(*) FROM (SELECT a, b FROM raw.hj WHERE _current GROUP BY a, b HAVING count(*) > 1)`); n != 0 {
		t.Errorf("%d persons have two current rows", n)
	}
	if n := h.n(`SELECT count(*) - count(DISTINCT _ident) FROM raw.hj WHERE _current`); n != 0 {
		t.Errorf("%d duplicate identities among current rows", n)
	}
	if n := h.n(`SELECT count(*) FROM meta.schema_drift WHERE source = 'hj' AND change = 'key'`); n != 1 {
		t.Errorf("the key change was recorded %d times in meta.schema_drift", n)
	}
	yes := true
	res, err := Sync(context.Background(), h.cfg, h.db, SyncOptions{Getenv: h.getenv, KeyCheck: &yes})
	if err != nil || res.Stats[0].Err != nil || res.Stats[0].Deleted != 0 || res.Stats[0].Current != 30 {
		t.Errorf("key check under the new key: %v %+v", err, res.Stats)
	}
	// Reconciled: 30 persons.
	r, err := Reconcile(context.Background(), h.cfg, h.db, ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Persons != 30 {
		t.Errorf("reconcile found %d persons in 30 rows", r.Persons)
	}
}

// Why 5 (revivals) — a grid drop of two files (newest per grid); one grid's file disappears
// (accepted), the reconcile retires its persons; the file comes back and its persons get their
// old ids again.
func TestRevivedPersonsKeepTheirIDs(t *testing.T) {
	h := newHub(t, `
[[source]]
name = "grid"
kind = "csv"
[source.options]
root = "grid"
glob = "网格_*.csv"
newest = '网格_(?P<group>\d+)_(?P<date>\d{8})\.csv$'
[source.mapping]
"编号" = "record_no"
"姓名" = "name"
"身份证号" = "id_no"
"出生日期" = "birth_date"
`)
	g1, g2 := people("A", 20), people("C", 20)
	for i := range g2 {
		id, _ := idcard.Build("320106", time.Date(1970, 3, 1+i, 0, 0, 0, 0, time.UTC), 200+i)
		g2[i].id, g2[i].birth = id, time.Date(1970, 3, 1+i, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	}
	h.write("grid/网格_01_20261101.csv", csvOf(g1, "\n", nil))
	h.write("grid/网格_02_20261101.csv", csvOf(g2, "\n", nil))
	h.syncOK()
	ctx := context.Background()
	if _, err := Reconcile(ctx, h.cfg, h.db, ReconcileOptions{}); err != nil {
		t.Fatal(err)
	}
	before := personsOf(t, h.db.SQL())
	ids := func(grid string) map[string]string {
		return personsWhere(t, h.db.SQL(), "r.loc LIKE ?", "网格_"+grid+"%")
	}
	second := ids("02")
	if len(before) != 40 || len(second) != 20 {
		t.Fatalf("%d records, %d of grid 02", len(before), len(second))
	}
	os.Remove(filepath.Join(h.dir, "grid/网格_02_20261101.csv"))
	if st := h.sync(SyncOptions{AcceptDeletes: []string{"grid"}})["grid"]; st.Err != nil || st.Deleted != 20 {
		t.Fatalf("grid 02 gone: %v, deleted %d", st.Err, st.Deleted)
	}
	r, err := Reconcile(ctx, h.cfg, h.db, ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Persons != 20 {
		t.Errorf("%d persons with grid 02 gone, want 20", r.Persons)
	}
	h.write("grid/网格_02_20261101.csv", csvOf(g2, "\n", nil))
	if st := h.syncOK()["grid"]; st.Landed != 20 {
		t.Errorf("grid 02 back: landed %d", st.Landed)
	}
	r, err = Reconcile(ctx, h.cfg, h.db, ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after := personsOf(t, h.db.SQL())
	changed := 0
	for k, p := range second {
		if after[k] != p {
			changed++
			if changed <= 3 {
				t.Errorf("record %q was %s, is now %q", k, p, after[k])
			}
		}
	}
	if changed > 0 {
		t.Errorf("%d of 20 returning records got new person ids", changed)
	}
	if r.Events["revived"] != 20 || r.Events["new"] != 0 {
		t.Errorf("id events %v, want 20 revived, none new", r.Events)
	}
}

// Why 6 — "Crash for analysts": after a sync no hub_stage_view_* is left in the database, and a
// second process opens the file and reads every view in it.
func TestNoArrowViewsLeftForAnalysts(t *testing.T) {
	h := newHub(t, peopleCSV+peopleAPI)
	ps := people("V", 30)
	a := newAPI(t, apiItems(ps))
	h.env["API_URL"] = a.srv.URL
	h.write("drop/people.csv", csvOf(ps, "\n", nil))
	h.syncOK()
	h.write("drop/people.csv", csvOf(ps[:29], "\n", nil)) // a merge run too (staged, not streamed)
	h.syncOK()
	if n := h.n(`SELECT count(*) FROM duckdb_views() WHERE view_name LIKE 'hub_stage_view%'`); n != 0 {
		t.Errorf("%d hub_stage_view_* views after the sync", n)
	}
	path := h.cfg.DatabasePath()
	h.db.Close()
	out, err := childCommand("views", path).CombinedOutput()
	if err != nil {
		t.Fatalf("a second process reading %s: %v\n%s", path, err, out)
	}
	if !strings.Contains(string(out), "stage views 0") || !strings.Contains(string(out), "raw.people 30") || !strings.Contains(string(out), "raw.api 30") {
		t.Errorf("the second process saw: %s", out)
	}
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.db = db
}

// Why 7 (identifiers) — PostgreSQL and MariaDB columns a.b, x"y, x`y and Name, and a CSV with the
// header Name,name,_loc: sources check says ok, sync lands every column under its landed name.
// A case-only rename x → X of a CSV column lands in the same column.
func TestOddIdentifiersEndToEnd(t *testing.T) {
	pg, my := testsrv.Postgres(t), testsrv.MySQL(t)
	pdb, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	mustExec(t, pdb, `CREATE TABLE odd ("a.b" text PRIMARY KEY, "x""y" text, "x`+"`"+`y" text, "Name" text)`)
	mustExec(t, pdb, `INSERT INTO odd VALUES ('k1', '双引号', '反引号', '张三'), ('k2', 'q2', 'b2', '李四')`)
	mdb, err := sql.Open("mysql", my)
	if err != nil {
		t.Fatal(err)
	}
	defer mdb.Close()
	mustExec(t, mdb, "CREATE TABLE odd (`a.b` varchar(10) PRIMARY KEY, `x\"y` varchar(20), `x``y` varchar(20), `Name` varchar(20)) DEFAULT CHARSET=gbk")
	mustExec(t, mdb, "INSERT INTO odd VALUES ('k1', '双引号', '反引号', '张三'), ('k2', 'q2', 'b2', '李四')")
	sqlSrc := func(name, kind, env string) string {
		return fmt.Sprintf(`
[[source]]
name = "%s"
kind = "%s"
key = ["a.b"]
[source.options]
dsn_env = "%s"
table = "odd"
[source.mapping]
"a.b" = "record_no"
"Name" = "name"
`, name, kind, env)
	}
	h := newHub(t, sqlSrc("pg_odd", "postgres", "PG")+sqlSrc("my_odd", "mysql", "MY")+`
[[source]]
name = "csv_odd"
kind = "csv"
[source.options]
path = "drop/odd.csv"
[source.mapping]
"Name" = "name"

[[source]]
name = "csv_case"
kind = "csv"
key = ["id"]
[source.options]
path = "drop/case.csv"
[source.mapping]
"id" = "record_no"
"x" = "name"
`)
	h.env["PG"], h.env["MY"] = pg, my
	h.write("drop/odd.csv", "Name,name,_loc\n王五,wang wu,第一行\n赵六,zhao liu,第二行\n")
	h.write("drop/case.csv", "id,x\n1,甲\n2,乙\n")
	for _, c := range CheckSources(context.Background(), h.cfg, h.getenv) {
		if c.Err != nil {
			t.Errorf("sources check %s: %v", c.Source, c.Err)
		}
		if c.Source == "csv_odd" && (c.Renamed["name"] != "name (2)" || c.Renamed["_loc"] != "src_loc") {
			t.Errorf("sources check csv_odd: landed as %v", c.Renamed)
		}
	}
	st := h.syncOK()
	for _, s := range []string{"pg_odd", "my_odd"} {
		if st[s].Landed != 2 {
			t.Errorf("%s landed %d", s, st[s].Landed)
		}
		if got := h.rawColumns(s); !slices.Equal(got, []string{"a.b", `x"y`, "x`y", "Name"}) {
			t.Errorf("%s: raw columns %q", s, got)
		}
		if got := h.str(fmt.Sprintf(`SELECT "x""y" || '|' || "x`+"`"+`y" || '|' || "Name" FROM raw.%s WHERE "a.b" = 'k1'`, s)); got != "双引号|反引号|张三" {
			t.Errorf("%s: k1 landed as %q", s, got)
		}
	}
	if got, want := h.rawColumns("csv_odd"), land.LandedNames([]string{"Name", "name", "_loc"}, nil); !slices.Equal(got, want) || !slices.Equal(want, []string{"Name", "name (2)", "src_loc"}) {
		t.Errorf("csv_odd: raw columns %q, LandedNames %q", got, want)
	}
	if got := h.str(`SELECT "Name" || '|' || "name (2)" || '|' || src_loc || '|' || _loc FROM raw.csv_odd WHERE "Name" = '王五'`); got != "王五|wang wu|第一行|odd.csv:2" {
		t.Errorf("csv_odd row: %q", got)
	}

	// x → X: the same column, a recorded rename, the changed row landed.
	h.write("drop/case.csv", "id,X\n1,甲\n2,乙改\n")
	s := h.syncOK("csv_case")["csv_case"]
	if s.Landed != 1 || s.Deleted != 0 {
		t.Errorf("after x → X: landed %d, deleted %d", s.Landed, s.Deleted)
	}
	if got := h.rawColumns("csv_case"); !slices.Equal(got, []string{"id", "x"}) {
		t.Errorf("after x → X: raw columns %q", got)
	}
	if got := h.str(`SELECT x FROM raw.csv_case WHERE _current AND id = '2'`); got != "乙改" {
		t.Errorf("after x → X: row 2 holds %q", got)
	}
	if n := h.n(`SELECT count(*) FROM meta.schema_drift WHERE source = 'csv_case' AND change = 'renamed'`); n != 1 {
		t.Errorf("the rename was recorded %d times", n)
	}
	if s := h.syncOK("csv_case")["csv_case"]; s.Landed != 0 {
		t.Errorf("the run after the rename landed %d", s.Landed)
	}
}

// The mapping names source columns; the records stage must read them where the landing put them
// (land.LandedNames). A mapped column named like a reserved one (_loc), the second of Name,name,
// and a column renamed by case only (x → X, the mapping following the source) must give the
// source's values, not the hub's own _loc, the first column, or NULL.
func TestRecordsReadLandedColumns(t *testing.T) {
	h := newHub(t, `
[[source]]
name = "odd"
kind = "csv"
[source.options]
path = "drop/odd.csv"
[source.mapping]
"name" = "name"
"_loc" = "address"
"身份证号" = "id_no"
`)
	p := people("R", 1)[0]
	h.write("drop/odd.csv", "Name,name,_loc,身份证号\nWANG,王五,兴隆街道1号,"+p.id+"\n")
	h.syncOK()
	if _, err := Reconcile(context.Background(), h.cfg, h.db, ReconcileOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := h.str(`SELECT coalesce(name_raw, '<NULL>') || '|' || coalesce(address_raw, '<NULL>') FROM std.records WHERE source = 'odd'`); got != "王五|兴隆街道1号" {
		t.Errorf("std.records name|address = %q, want the source's columns name and _loc: %q", got, "王五|兴隆街道1号")
	}

	h2 := newHub(t, `
[[source]]
name = "cased"
kind = "csv"
key = ["id"]
[source.options]
path = "drop/c.csv"
[source.mapping]
"id" = "record_no"
"x" = "name"
`)
	h2.write("drop/c.csv", "id,x\n1,甲\n")
	h2.syncOK()
	h2.reload(strings.Replace(h2.cfgText(), `"x" = "name"`, `"X" = "name"`, 1))
	h2.write("drop/c.csv", "id,X\n1,甲改\n")
	h2.syncOK()
	if _, err := Reconcile(context.Background(), h2.cfg, h2.db, ReconcileOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := h2.str(`SELECT coalesce(max(coalesce(name_raw, '<NULL>')), '<no record>') FROM std.records WHERE source = 'cased'`); got != "甲改" {
		t.Errorf("after x → X with the mapping following: std.records name_raw = %q, want 甲改", got)
	}
}

func (h *hub) cfgText() string {
	b, err := os.ReadFile(filepath.Join(h.dir, "hub.toml"))
	if err != nil {
		h.t.Fatal(err)
	}
	return strings.TrimPrefix(string(b), "database = \"hub.duckdb\"\n")
}

// Why 7 (secrets) — an API key in a url_env URL's query string against a server that answers
// 500 and echoes the request (and the bearer token): neither meta.runs.error, the sync's error
// nor sources check shows the secrets. Inline secrets in the config are refused at load with the
// *_env hint.
func TestSecretsNeverShown(t *testing.T) {
	a := newAPI(t, nil)
	a.status = http.StatusInternalServerError
	h := newHub(t, `
[[source]]
name = "secret_api"
kind = "http"
[source.options]
url_env = "SECRET_URL"
auth = "bearer"
token_env = "SECRET_TOKEN"
paging = "page"
items_path = "items"
retries = -1
columns = ["permitNo", "name"]
[source.mapping]
"name" = "name"
`)
	h.env["SECRET_URL"] = a.srv.URL + "/residents?appkey=SECRETVALUE&city=nj"
	h.env["SECRET_TOKEN"] = "TOKEN-7f3a9c"
	st := h.sync(SyncOptions{})["secret_api"]
	if st.Err == nil {
		t.Fatal("the sync against a 500 succeeded")
	}
	msgs := map[string]string{"sync error": st.Err.Error(), "meta.runs.error": h.lastRun("secret_api").err}
	for _, c := range CheckSources(context.Background(), h.cfg, h.getenv) {
		if c.Err == nil {
			t.Error("sources check passed against a 500")
		} else {
			msgs["sources check"] = c.Err.Error()
		}
	}
	for what, m := range msgs {
		if strings.Contains(m, "SECRETVALUE") || strings.Contains(m, "TOKEN-7f3a9c") {
			t.Errorf("%s shows a secret: %s", what, m)
		}
		if !strings.Contains(m, "500") {
			t.Errorf("%s does not say what happened: %s", what, m)
		}
	}
	h.failedRun("secret_api")

	for _, c := range []struct{ option, want string }{
		{`token = "abc"`, "token_env"},
		{`dsn = "postgres://hub:pw@10.0.0.5/hj"`, "dsn_env"},
		{`password = "pw123456"`, "password_env"},
		{`url = "http://10.0.0.5/api?access_token=abc123"`, "url_env"},
	} {
		path := filepath.Join(t.TempDir(), "hub.toml")
		os.WriteFile(path, []byte("database = \"x.duckdb\"\n[[source]]\nname = \"s\"\nkind = \"http\"\n[source.options]\n"+c.option+"\npaging = \"page\"\ncolumns = [\"a\"]\n"), 0o644)
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("inline %s: Load error %v, want one naming %s", c.option, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), "abc123") || strings.Contains(err.Error(), "pw123456") || strings.Contains(err.Error(), "hub:pw@")) {
			t.Errorf("inline %s: the Load error repeats the secret: %v", c.option, err)
		}
	}
}

// Why 8 — "Audit gaps": a source whose connector cannot be made (its env var is missing) and one
// that fails in the middle of its read both leave a finished meta.runs row with ok = false; the
// one that failed mid-read kept nothing.
func TestEveryAttemptIsAudited(t *testing.T) {
	a := newAPI(t, apiItems(people("M", 50)))
	a.failPage = 2
	h := newHub(t, `
[[source]]
name = "noenv"
kind = "postgres"
[source.options]
dsn_env = "HUB_TEST_MISSING_DSN"
table = "person"
`+strings.Replace(peopleAPI, `name = "api"`, `name = "midread"`, 1))
	h.env["API_URL"] = a.srv.URL
	st := h.sync(SyncOptions{})
	for _, s := range []string{"noenv", "midread"} {
		if st[s].Err == nil {
			t.Errorf("%s succeeded", s)
		}
	}
	h.failedRun("noenv", "HUB_TEST_MISSING_DSN")
	h.failedRun("midread", "404")
	if n := h.n(`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = 'midread'`); n > 0 && h.current("midread") != 0 {
		t.Errorf("the failed read kept %d rows", h.current("midread"))
	}
	if ok := h.str(`SELECT CAST(ok AS VARCHAR) || CAST(finished_at IS NOT NULL AS VARCHAR) FROM meta.syncs ORDER BY sync_id DESC LIMIT 1`); ok != "falsetrue" {
		t.Errorf("meta.syncs: ok/finished %s", ok)
	}
}

// Also (the last bullet): a mapped API field no item carries fails naming it; a sqlite
// source with a wrong path names the path; a single CSV file named by path lands; a NUL byte in
// a MariaDB value is removed and flagged in _flags.
func TestAlsoBullet(t *testing.T) {
	my := testsrv.MySQL(t)
	mdb, err := sql.Open("mysql", my)
	if err != nil {
		t.Fatal(err)
	}
	defer mdb.Close()
	mustExec(t, mdb, "CREATE TABLE jz_member (id int PRIMARY KEY, `姓名` varchar(20), `备注` text) DEFAULT CHARSET=gbk")
	mustExec(t, mdb, "INSERT INTO jz_member VALUES (1, ?, ?), (2, '李四', '无')", "张\x00三", "a\x00b")
	a := newAPI(t, apiItems(people("F", 12)))
	h := newHub(t, `
[[source]]
name = "typo"
kind = "http"
[source.options]
url_env = "API_URL"
url = "/residents"
paging = "page"
page_size = 5
items_path = "items"
retries = -1
columns = ["permitNo", "name", "idcard"]
[source.mapping]
"idcard" = "id_no"

[[source]]
name = "nofile"
kind = "sqlite"
[source.options]
path = "systems/nope.sqlite"
table = "person"

[[source]]
name = "onefile"
kind = "csv"
[source.options]
path = "drop/one.csv"

[[source]]
name = "relief"
kind = "mysql"
key = ["id"]
[source.options]
dsn_env = "MY"
table = "jz_member"
`)
	h.env["API_URL"], h.env["MY"] = a.srv.URL, my
	h.write("drop/one.csv", csvOf(people("O", 7), "\n", nil))
	st := h.sync(SyncOptions{})
	if e := st["typo"].Err; e == nil || !strings.Contains(e.Error(), "idcard") || !strings.Contains(e.Error(), "idCard") {
		t.Errorf("a mistyped field: %v", e)
	}
	if n := h.n(`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = 'typo'`); n > 0 && h.current("typo") > 0 {
		t.Errorf("the mistyped field landed %d rows", h.current("typo"))
	}
	if e := st["nofile"].Err; e == nil || !strings.Contains(e.Error(), filepath.Join(h.dir, "systems/nope.sqlite")) {
		t.Errorf("a wrong sqlite path: %v", e)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "systems/nope.sqlite")); err == nil {
		t.Error("the wrong sqlite path was created")
	}
	if s := st["onefile"]; s.Err != nil || s.Landed != 7 {
		t.Errorf("a csv by path: %v, landed %d", s.Err, s.Landed)
	}
	if s := st["relief"]; s.Err != nil || s.Landed != 2 {
		t.Fatalf("relief: %v, landed %d", s.Err, s.Landed)
	}
	if got := h.str(`SELECT "姓名" || '|' || "备注" || '|' || coalesce(_flags, '') FROM raw.relief WHERE id = '1'`); got != "张三|ab|姓名:nul;备注:nul" {
		t.Errorf("the NUL row landed as %q", got)
	}
	if got := h.str(`SELECT coalesce(_flags, '') FROM raw.relief WHERE id = '2'`); got != "" {
		t.Errorf("the clean row is flagged %q", got)
	}
	var names []string
	for n := range st {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if st[n].Err != nil {
			h.failedRun(n)
		}
	}
}

// Why 4 — "Unbounded reads kill the process": an HTTP 200 body that never ends, a paging API that
// ignores page, a named pipe in a drop folder, and a server that never answers while the operator
// presses ^C. Each fails its source with a message naming the limit or the cause, within seconds.
func TestBoundedReads(t *testing.T) {
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"items":[`))
		item := []byte(`{"permitNo":"x","name":"无尽"},`)
		for r.Context().Err() == nil {
			if _, err := w.Write(item); err != nil {
				return
			}
		}
	}))
	defer endless.Close()
	hang := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer hanging.Close()
	defer close(hang)
	a := newAPI(t, apiItems(people("P", 30)))
	a.ignorePage = true
	src := func(name, env string, extra string) string {
		return fmt.Sprintf(`
[[source]]
name = "%s"
kind = "http"
[source.options]
url_env = "%s"
url = "/residents"
paging = "page"
page_size = 10
items_path = "items"
retries = -1
timeout = "60s"
columns = ["permitNo", "name"]
%s`, name, env, extra)
	}
	h := newHub(t, src("endless", "ENDLESS", "[source.limits]\nresponse_bytes = 1048576\n")+src("ignores_page", "IGNORES", "")+src("hangs", "HANGS", "")+`
[[source]]
name = "fifo"
kind = "csv"
[source.options]
root = "drop"
glob = "*.csv"
`)
	h.env["ENDLESS"], h.env["IGNORES"], h.env["HANGS"] = endless.URL, a.srv.URL, hanging.URL
	h.write("drop/a.csv", csvOf(people("Q", 3), "\n", nil))
	if err := syscall.Mkfifo(filepath.Join(h.dir, "drop/b.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	st := h.sync(SyncOptions{}, "endless", "ignores_page", "fifo")
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("the sync took %v", d)
	}
	for name, want := range map[string]string{"endless": "response_bytes", "ignores_page": "does not advance", "fifo": "not a regular file"} {
		if e := st[name].Err; e == nil || !strings.Contains(e.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", name, e, want)
		}
		h.failedRun(name, want)
	}
	// ^C while the server says nothing: the sync stops within 5 s and the attempt is recorded.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	t0 = time.Now()
	_, err := Sync(ctx, h.cfg, h.db, SyncOptions{Only: []string{"hangs"}, Getenv: h.getenv})
	if d := time.Since(t0); d > 5*time.Second || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled sync: %v after %v, want context.Canceled within 5 s", err, d)
	}
	h.failedRun("hangs")
}
