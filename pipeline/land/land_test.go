//go:build duckdb_arrow

package land

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"communityhub/connectors"
	"communityhub/pipeline/store"
	"communityhub/schema"
)

// memSource is an in-memory Source following the contract, for exercising the landing's
// bookkeeping; the real kinds are tested against real servers and files in their packages.
type memSource struct {
	cols        []string
	rows        [][]string // nil entry = a row the reader rejects
	incremental bool
	keys        [][]string
	failAt      int // > 0: Read fails after this many rows
	cursor      string
}

func (m *memSource) Columns(context.Context) ([]string, error) { return m.cols, nil }
func (m *memSource) Incremental() bool                         { return m.incremental }
func (m *memSource) ListKeys(_ context.Context, emit func([]string) error) error {
	for _, k := range m.keys {
		if err := emit(k); err != nil {
			return err
		}
	}
	return nil
}
func (m *memSource) Read(ctx context.Context, _ connectors.ReadRequest, w connectors.Writer) error {
	b := connectors.NewBatchBuilder(m.cols, 1000)
	defer b.Release()
	for i, r := range m.rows {
		if m.failAt > 0 && i == m.failAt {
			return errors.New("connection reset by peer")
		}
		loc := fmt.Sprintf("mem:%d", i+1)
		if r == nil {
			if err := w.Reject(connectors.Reject{Loc: loc, Raw: "\xff\xfe", Reason: "unreadable"}); err != nil {
				return err
			}
			continue
		}
		for j, v := range r {
			b.Set(j, v)
		}
		if err := b.EndRow(loc, "", w); err != nil {
			return err
		}
	}
	if err := b.Flush(w); err != nil {
		return err
	}
	if m.cursor != "" {
		w.Checkpoint(m.cursor)
	}
	return nil
}

func people(n int) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("K%05d", i), fmt.Sprintf("王伟%d", i), "2026-01-02 10:00:00"}
	}
	return rows
}

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "hub.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func land(t *testing.T, db *store.DB, spec Spec, src connectors.Source) Stats {
	t.Helper()
	id, err := db.BeginSync(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	st, err := Land(context.Background(), db, id, spec, src, nil)
	if err != nil {
		t.Fatalf("land: %v", err)
	}
	return st
}

func count(t *testing.T, db *store.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.SQL().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

var cols = []string{"编号", "姓名", "xgsj"}

func TestSecondRunLandsNothingAndChangesLandExactly(t *testing.T) {
	db := openDB(t)
	src := &memSource{cols: cols, rows: people(10000)}
	spec := Spec{Source: "t", Key: []string{"编号"}}
	st := land(t, db, spec, src)
	if st.Read != 10000 || st.Landed != 10000 || st.Current != 10000 {
		t.Fatalf("first run %+v", st)
	}
	st = land(t, db, spec, src)
	if st.Landed != 0 || st.Unchanged != 10000 || st.Deleted != 0 {
		t.Fatalf("second run %+v", st)
	}
	for i := 0; i < 10000; i += 100 { // 1% changed
		src.rows[i][1] += "改"
	}
	src.rows = src.rows[:9950] // and 50 deleted at the source
	st = land(t, db, spec, src)
	if st.Landed != 100 || st.Deleted != 50 || st.Current != 9950 {
		t.Fatalf("after changes %+v", st)
	}
	if n := count(t, db, `SELECT count(*) FROM raw."t" WHERE NOT _current AND _end_reason = 'changed'`); n != 100 {
		t.Errorf("%d superseded versions, want 100", n)
	}
	if n := count(t, db, `SELECT count(*) FROM raw."t" WHERE "姓名" LIKE '%改' AND _current`); n != 100 {
		t.Errorf("%d current changed rows, want 100", n)
	}
	if n := count(t, db, `SELECT count(*) FROM meta.runs WHERE source = 't' AND ok`); n != 3 {
		t.Errorf("%d runs recorded", n)
	}
}

func TestKeylessDuplicatesAllLand(t *testing.T) {
	db := openDB(t)
	rows := people(10)
	rows = append(rows, rows[3], rows[3]) // the same row three times: three rows at the source
	src := &memSource{cols: cols, rows: rows}
	st := land(t, db, Spec{Source: "k"}, src)
	if st.Landed != 12 || st.Current != 12 {
		t.Fatalf("%+v", st)
	}
	src.rows = src.rows[:11]
	if st = land(t, db, Spec{Source: "k"}, src); st.Landed != 0 || st.Deleted != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestIncrementalKeyCheckMarksDeleted(t *testing.T) {
	db := openDB(t)
	src := &memSource{cols: cols, rows: people(100), incremental: true, cursor: "2026-01-02 10:00:00"}
	spec := Spec{Source: "inc", Key: []string{"编号"}}
	land(t, db, spec, src)
	if c, _ := Cursor(context.Background(), db, "inc"); c != "2026-01-02 10:00:00" {
		t.Errorf("cursor %q", c)
	}
	src.rows = nil // nothing changed since the cursor
	for i := 0; i < 90; i++ {
		src.keys = append(src.keys, []string{fmt.Sprintf("K%05d", i)})
	}
	if st := land(t, db, spec, src); st.Deleted != 0 || st.Current != 100 {
		t.Fatalf("an incremental run without key check deleted: %+v", st)
	}
	spec.KeyCheck = true
	if st := land(t, db, spec, src); st.Deleted != 10 || st.Current != 90 {
		t.Fatalf("key check: %+v", st)
	}
}

func TestQuarantineRequiredAndThresholds(t *testing.T) {
	db := openDB(t)
	rows := people(200)
	rows[5][2] = "昨天"         // a cursor that will not parse
	rows[6] = nil             // unreadable at the source
	rows[7][1] = "bad\xffutf" // invalid UTF-8
	src := &memSource{cols: cols, rows: rows}
	spec := Spec{Source: "q", Key: []string{"编号"}, Required: map[string]schema.Type{"xgsj": schema.Timestamp}, Limits: Limits{MaxRatio: 0.05, MinRows: 100}}
	st := land(t, db, spec, src)
	if st.Read != 200 || st.Quarantined != 3 || st.Landed != 197 {
		t.Fatalf("%+v", st)
	}
	var reason, loc string
	db.SQL().QueryRow(`SELECT reason, loc FROM meta.quarantine WHERE reason LIKE '%xgsj%'`).Scan(&reason, &loc)
	if loc != "mem:6" || !strings.Contains(reason, "required column xgsj") {
		t.Errorf("quarantine row: %q at %q", reason, loc)
	}
	if n := count(t, db, `SELECT count(*) FROM meta.quarantine WHERE reason LIKE '%UTF-8%'`); n != 1 {
		t.Errorf("invalid UTF-8 row not quarantined")
	}
	// Over the ratio: the run fails and nothing of it is kept.
	for i := 0; i < 30; i++ {
		src.rows[20+i] = nil
	}
	src.rows[100][1] = "这一行改了"
	id, _ := db.BeginSync(context.Background(), "test")
	st, err := Land(context.Background(), db, id, spec, src, nil)
	if !errors.Is(err, ErrThreshold) {
		t.Fatalf("want threshold error, got %v (%+v)", err, st)
	}
	if n := count(t, db, `SELECT count(*) FROM raw."q" WHERE "姓名" = '这一行改了'`); n != 0 {
		t.Error("a failed run landed rows")
	}
	if n := count(t, db, `SELECT count(*) FROM meta.runs WHERE source = 'q' AND NOT ok AND error LIKE '%threshold%'`); n != 1 {
		t.Error("failed run not recorded")
	}
	// Over the count: stops early.
	spec.Limits = Limits{MaxCount: 10}
	id, _ = db.BeginSync(context.Background(), "test")
	if _, err := Land(context.Background(), db, id, spec, src, nil); !errors.Is(err, ErrThreshold) {
		t.Fatalf("count threshold: %v", err)
	}
}

func TestFailedReadKeepsPreviousState(t *testing.T) {
	db := openDB(t)
	src := &memSource{cols: cols, rows: people(5000), incremental: true, cursor: "c1"}
	spec := Spec{Source: "f", Key: []string{"编号"}}
	land(t, db, spec, src)
	for i := range src.rows {
		src.rows[i][1] = "新"
	}
	src.failAt, src.cursor = 3000, "c2"
	id, _ := db.BeginSync(context.Background(), "test")
	if _, err := Land(context.Background(), db, id, spec, src, nil); err == nil || !strings.Contains(err.Error(), "reset") {
		t.Fatalf("want the read error, got %v", err)
	}
	if c, _ := Cursor(context.Background(), db, "f"); c != "c1" {
		t.Errorf("cursor moved to %q", c)
	}
	if n := count(t, db, `SELECT count(*) FROM raw."f" WHERE "姓名" = '新'`); n != 0 {
		t.Errorf("%d rows of the failed run kept", n)
	}
}

func TestSchemaDrift(t *testing.T) {
	db := openDB(t)
	src := &memSource{cols: cols, rows: people(10)}
	spec := Spec{Source: "d", Key: []string{"编号"}, Mapped: []string{"编号", "姓名"}}
	land(t, db, spec, src)
	// A new column: recorded and kept.
	src.cols = []string{"编号", "姓名", "xgsj", "手机"}
	for i := range src.rows {
		src.rows[i] = append(src.rows[i], "13800000000")
	}
	st := land(t, db, spec, src)
	if st.Landed != 10 {
		t.Errorf("rows with a new column should land as changed: %+v", st)
	}
	if n := count(t, db, `SELECT count(*) FROM meta.schema_drift WHERE change = 'added' AND column_name = '手机'`); n != 1 {
		t.Error("added column not recorded")
	}
	if n := count(t, db, `SELECT count(*) FROM raw."d" WHERE "手机" = '13800000000'`); n != 10 {
		t.Error("new column not kept in the raw landing")
	}
	// A mapped column renamed: the source fails, naming it.
	src.cols = []string{"编号", "名字", "xgsj", "手机"}
	id, _ := db.BeginSync(context.Background(), "test")
	_, err := Land(context.Background(), db, id, spec, src, nil)
	if err == nil || !strings.Contains(err.Error(), "姓名") || !strings.Contains(err.Error(), "名字") {
		t.Fatalf("drift error %v", err)
	}
}
