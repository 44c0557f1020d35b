//go:build duckdb_arrow

package land

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"communityhub/connectors"
	"communityhub/pipeline/store"
	"communityhub/schema"
)

// cursorSource is a memSource whose cursor is its third column (connectors.ColumnCursor).
type cursorSource struct{ *memSource }

func (c cursorSource) CursorColumn() string { return "xgsj" }

func tryLand(t *testing.T, db *store.DB, spec Spec, src connectors.Source) (Stats, error) {
	t.Helper()
	id, err := db.BeginSync(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	return Land(context.Background(), db, id, spec, src, nil)
}

// A pull that would end more than max_delete_ratio of the rows, or that read nothing from a source
// that had rows, fails and ends nothing; accepting the deletes lands it.
func TestDeletionGuard(t *testing.T) {
	db := openDB(t)
	src := &memSource{cols: cols, rows: people(100)}
	spec := Spec{Source: "g", Key: []string{"编号"}}
	land(t, db, spec, src)

	src.rows = src.rows[:0]
	st, err := tryLand(t, db, spec, src)
	if !errors.Is(err, ErrDeletes) || !strings.Contains(err.Error(), "no data rows") || !strings.Contains(err.Error(), "--accept-deletes g") {
		t.Fatalf("an empty pull: %v", err)
	}
	if st.WouldDelete != 100 {
		t.Errorf("would delete %d", st.WouldDelete)
	}
	if n := count(t, db, `SELECT count(*) FROM raw."g" WHERE _current`); n != 100 {
		t.Fatalf("an empty pull left %d current rows", n)
	}
	if n := count(t, db, `SELECT count(*) FROM meta.runs WHERE source = 'g' AND NOT ok AND error LIKE '%accept-deletes%' AND finished_at IS NOT NULL`); n != 1 {
		t.Errorf("the refused run is not in meta.runs")
	}

	src.rows = people(100)[:85] // 15% gone
	if _, err := tryLand(t, db, spec, src); !errors.Is(err, ErrDeletes) || !strings.Contains(err.Error(), "would end 15 of 100") {
		t.Fatalf("15%% deleted: %v", err)
	}
	spec.MaxDeleteRatio = 0.2
	if st := land(t, db, spec, src); st.Deleted != 15 {
		t.Fatalf("within a raised ratio: %+v", st)
	}
	spec.MaxDeleteRatio = 0
	src.rows = src.rows[:10]
	spec.AcceptDeletes = true
	if st := land(t, db, spec, src); st.Deleted != 75 || st.Current != 10 {
		t.Fatalf("accepted deletes: %+v", st)
	}
}

// An incremental key check is under the same guard.
func TestKeyCheckGuard(t *testing.T) {
	db := openDB(t)
	src := &memSource{cols: cols, rows: people(100), incremental: true}
	spec := Spec{Source: "kc", Key: []string{"编号"}}
	land(t, db, spec, src)
	src.rows, spec.KeyCheck = nil, true
	src.keys = [][]string{{"K00001"}} // a listing that lost almost everything
	if _, err := tryLand(t, db, spec, src); !errors.Is(err, ErrDeletes) || !strings.Contains(err.Error(), "key check would end 99 of 100") {
		t.Fatalf("key check: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM raw."kc" WHERE _current`); n != 100 {
		t.Fatalf("%d current rows left", n)
	}
}

// Every row quarantined fails the run whatever its size; a row that newly fails keeps its last
// good version current (held), and lands again once fixed.
func TestAllQuarantinedFailsAndFailingRowsAreHeld(t *testing.T) {
	db := openDB(t)
	src := &memSource{cols: cols, rows: people(20)}
	spec := Spec{Source: "h", Key: []string{"编号"}, Required: map[string]schema.Type{"xgsj": schema.Timestamp}, Limits: Limits{MaxRatio: 0.5, MinRows: 1000}}
	land(t, db, spec, src)

	bad := people(20)
	for _, r := range bad {
		r[2] = "待定"
	}
	src.rows = bad
	if _, err := tryLand(t, db, spec, src); !errors.Is(err, ErrThreshold) || !strings.Contains(err.Error(), "all 20 rows quarantined") {
		t.Fatalf("all quarantined: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM raw."h" WHERE _current`); n != 20 {
		t.Fatalf("%d current rows after a broken file", n)
	}

	src.rows = people(20)
	src.rows[3][1], src.rows[3][2] = "新名字", "待定" // its new version fails
	st := land(t, db, spec, src)
	if st.Quarantined != 1 || st.Held != 1 || st.Deleted != 0 || st.Current != 20 {
		t.Fatalf("a newly failing row: %+v", st)
	}
	if n := count(t, db, `SELECT count(*) FROM raw."h" WHERE _current AND "编号" = 'K00003' AND "姓名" = '王伟3'`); n != 1 {
		t.Error("the last good version is not current")
	}
	if n := count(t, db, `SELECT count(*) FROM meta.held WHERE source = 'h' AND reason LIKE '%xgsj%'`); n != 1 {
		t.Error("the held row is not listed with its reason")
	}
	src.rows[3][2] = "2026-03-01 10:00:00"
	if st := land(t, db, spec, src); st.Held != 0 || st.Landed != 1 {
		t.Fatalf("the fixed row: %+v", st)
	}
	if n := count(t, db, `SELECT count(*) FROM raw."h" WHERE _current AND "姓名" = '新名字'`); n != 1 {
		t.Error("the fixed version did not land")
	}
}

// Key-less sources hold by location.
func TestKeylessFailingRowHeldByLocation(t *testing.T) {
	db := openDB(t)
	src := &memSource{cols: cols, rows: people(20)}
	spec := Spec{Source: "hl", Required: map[string]schema.Type{"xgsj": schema.Timestamp}}
	land(t, db, spec, src)
	src.rows[4][2] = "??"
	st := land(t, db, spec, src)
	if st.Held != 1 || st.Deleted != 0 || st.Current != 20 {
		t.Fatalf("%+v", st)
	}
}

// A bad cursor value is quarantined and does not move the cursor; only landed rows move it.
func TestSafeCursor(t *testing.T) {
	for _, bad := range []string{"待定", "infinity", "9999-12-31 00:00:00", "2099-01-01 00:00:00"} {
		t.Run(bad, func(t *testing.T) {
			db := openDB(t)
			m := &memSource{cols: cols, rows: people(10), incremental: true}
			src := cursorSource{m}
			m.rows[2][2] = "2026-01-03 09:00:00"
			m.rows[7][2] = bad
			spec := Spec{Source: "c", Key: []string{"编号"}}
			st := land(t, db, spec, src)
			if st.Quarantined != 1 || st.CursorAfter != "2026-01-03 09:00:00" {
				t.Fatalf("%+v", st)
			}
			var reason string
			db.SQL().QueryRow(`SELECT reason FROM meta.quarantine WHERE source = 'c'`).Scan(&reason)
			if !strings.Contains(reason, "cursor column xgsj") {
				t.Errorf("reason %q", reason)
			}
			// A later good update moves it; an earlier one does not move it back.
			m.rows = [][]string{{"K00001", "改", "2026-01-04 08:00:00"}, {"K00002", "改", "2026-01-01 00:00:00"}}
			if st := land(t, db, spec, src); st.CursorAfter != "2026-01-04 08:00:00" || st.Landed != 2 {
				t.Fatalf("later run %+v", st)
			}
			var typ string
			db.SQL().QueryRow(`SELECT cursor_type FROM meta.source_state WHERE source = 'c'`).Scan(&typ)
			if typ != CursorTimestamp {
				t.Errorf("cursor type %q", typ)
			}
		})
	}
}

// Numbers compare as numbers (10 > 9), not as text.
func TestNumberCursor(t *testing.T) {
	db := openDB(t)
	m := &memSource{cols: cols, rows: [][]string{{"A", "a", "9"}, {"B", "b", "10"}}, incremental: true}
	st := land(t, db, Spec{Source: "n", Key: []string{"编号"}, CursorType: CursorNumber}, cursorSource{m})
	if st.CursorAfter != "10" {
		t.Fatalf("cursor %q", st.CursorAfter)
	}
	m.rows = [][]string{{"C", "c", "1e300"}} // a sentinel
	if st := land(t, db, Spec{Source: "n", Key: []string{"编号"}, CursorType: CursorNumber}, cursorSource{m}); st.CursorAfter != "10" {
		t.Fatalf("cursor moved to %q", st.CursorAfter)
	}
}

// Changing a source's key re-identifies its rows: no second current row per person.
func TestKeyChangeReidentifies(t *testing.T) {
	db := openDB(t)
	m := &memSource{cols: cols, rows: people(50), incremental: true}
	land(t, db, Spec{Source: "k", Key: []string{"编号"}}, m)
	spec := Spec{Source: "k", Key: []string{"编号", "姓名"}}
	m.rows = people(50)[:5]
	m.rows[0][2] = "2026-05-05 00:00:00" // one changed
	st := land(t, db, spec, m)
	if st.Landed != 1 || st.Current != 50 {
		t.Fatalf("%+v", st)
	}
	if n := count(t, db, `SELECT count(*) FROM (SELECT "编号" FROM raw."k" WHERE _current GROUP BY 1 HAVING count(*) > 1)`); n != 0 {
		t.Fatalf("%d keys with two current rows", n)
	}
	if n := count(t, db, `SELECT count(*) FROM meta.schema_drift WHERE source = 'k' AND change = 'key'`); n != 1 {
		t.Error("the key change is not recorded")
	}
}

// Duplicate, reserved and case-only-renamed column names land deterministically.
func TestLandedNames(t *testing.T) {
	got := LandedNames([]string{"Name", "name", "_loc", "x", "NAME"}, nil)
	want := []string{"Name", "name (2)", "src_loc", "x", "NAME (3)"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("LandedNames = %q, want %q", got, want)
	}
	if got := LandedNames([]string{"X"}, []string{"x", "_ident"}); got[0] != "x" {
		t.Errorf("case-only rename lands in %q", got[0])
	}
	db := openDB(t)
	m := &memSource{cols: []string{"Name", "name", "_loc"}, rows: [][]string{{"a", "b", "c"}}}
	land(t, db, Spec{Source: "n"}, m)
	if n := count(t, db, `SELECT count(*) FROM raw."n" WHERE "Name" = 'a' AND "name (2)" = 'b' AND "src_loc" = 'c' AND _loc = 'mem:1'`); n != 1 {
		t.Error("duplicate and reserved names did not land")
	}
	m.cols = []string{"NAME", "name", "_loc"}
	if st := land(t, db, Spec{Source: "n", Mapped: []string{"Name"}}, m); st.Landed != 0 || st.Current != 1 {
		t.Fatalf("case-only rename: %+v", st)
	}
	if n := count(t, db, `SELECT count(*) FROM meta.schema_drift WHERE source = 'n' AND change = 'renamed'`); n != 1 {
		t.Error("case-only rename not recorded")
	}
}

// Values over the limit are quarantined, NUL bytes removed and flagged, and no Arrow scan view is
// left in the database.
func TestValueLimitNULAndNoViews(t *testing.T) {
	db := openDB(t)
	rows := people(5)
	rows[1][1] = strings.Repeat("长", 100)
	rows[2][1] = "王\x00伟"
	m := &memSource{cols: cols, rows: rows}
	st := land(t, db, Spec{Source: "v", Key: []string{"编号"}, ReadLimits: connectors.Limits{ValueBytes: 100}}, m)
	if st.Quarantined != 1 || st.Landed != 4 {
		t.Fatalf("%+v", st)
	}
	if n := count(t, db, `SELECT count(*) FROM meta.quarantine WHERE reason LIKE '%limits.value_bytes%'`); n != 1 {
		t.Error("no quarantine row naming the limit")
	}
	if n := count(t, db, `SELECT count(*) FROM raw."v" WHERE "姓名" = '王伟' AND _flags LIKE '%姓名:nul%'`); n != 1 {
		t.Error("NUL not removed and flagged")
	}
	if n := count(t, db, `SELECT count(*) FROM duckdb_views() WHERE view_name LIKE 'hub_stage%'`); n != 0 {
		t.Errorf("%d stage views left", n)
	}
}

// Secrets are redacted from what is stored and returned.
func TestFailureRedacted(t *testing.T) {
	db := openDB(t)
	m := &memSource{cols: []string{"编号"}, rows: [][]string{{"a"}}}
	spec := Spec{Source: "s", Key: []string{"缺"}, Redact: func(s string) string { return strings.ReplaceAll(s, "缺", "***") }}
	_, err := tryLand(t, db, spec, m)
	if err == nil || strings.Contains(err.Error(), "缺") {
		t.Fatalf("error %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM meta.runs WHERE source = 's' AND NOT ok AND error LIKE '%***%'`); n != 1 {
		t.Error("the failed run is not recorded redacted")
	}
}

// A file that shares no column with the mapping is not quoted in the error.
func TestDriftOfAStrangeFileQuotesNothing(t *testing.T) {
	db := openDB(t)
	m := &memSource{cols: []string{"hunter2-secret-password"}, rows: [][]string{{"x"}}}
	_, err := tryLand(t, db, Spec{Source: "s", Mapped: []string{"姓名", "身份证号"}}, m)
	if err == nil || !strings.Contains(err.Error(), "none of the 2 mapped columns") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v", err)
	}
}
