package deliver

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"communityhub/pipeline/store"
)

// fixture is a real hub database with builds to deliver.
type fixture struct {
	t    *testing.T
	db   *store.DB
	next int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "hub.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return &fixture{t: t, db: db}
}

// build records a build in report.builds (with the body's sha256, as the engine records the
// file it wrote) and returns its package.
func (f *fixture) build(kind, community, period, department string, body string, rows ...Row) Package {
	f.t.Helper()
	f.next++
	h := sha256.Sum256([]byte(body))
	var version int
	if err := f.db.SQL().QueryRow(`SELECT count(*) + 1 FROM report.builds WHERE kind = ? AND community = ? AND period = ?`,
		kind, community, period).Scan(&version); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.db.SQL().Exec(`INSERT INTO report.builds (build_id, kind, community, period, ref_date, version, built_at, sha256)
		VALUES (?, ?, ?, ?, DATE '2026-11-30', ?, now(), ?)`, f.next, kind, community, period, version, hex.EncodeToString(h[:])); err != nil {
		f.t.Fatal(err)
	}
	return Package{BuildID: f.next, Kind: kind, Community: community, Period: period, Department: department,
		FileName: fmt.Sprintf("%s_%s_%s.xlsx", kind, strings.ReplaceAll(community, "*", "街道"), period), Body: []byte(body), Rows: rows}
}

type ledgerRow struct {
	BuildID                                     int64
	Kind, Community, Period, Department, Target string
	TargetKind, Key, Status                     string
	Attempts                                    int
	FirstAt, LastAt, SentAt                     sql.NullTime
	Err, Receipt                                sql.NullString
}

func (f *fixture) ledger() []ledgerRow {
	f.t.Helper()
	rows, err := f.db.SQL().Query(`SELECT build_id, kind, community, period, department, target, target_kind, idempotency_key,
		status, attempts, first_attempt_at, last_attempt_at, sent_at, error, receipt FROM report.deliveries ORDER BY delivery_id`)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []ledgerRow
	for rows.Next() {
		var r ledgerRow
		if err := rows.Scan(&r.BuildID, &r.Kind, &r.Community, &r.Period, &r.Department, &r.Target, &r.TargetKind, &r.Key,
			&r.Status, &r.Attempts, &r.FirstAt, &r.LastAt, &r.SentAt, &r.Err, &r.Receipt); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// sleeper records the waits Push asks for without waiting.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func TestKeyIsStableAndDistinct(t *testing.T) {
	k := Key("R05", "兴隆社区", "2026-11", "残联:outbox")
	if k != Key("R05", "兴隆社区", "2026-11", "残联:outbox") {
		t.Fatal("the same delivery got two keys")
	}
	seen := map[string]string{k: "base"}
	for what, other := range map[string]string{
		"kind":      Key("R06", "兴隆社区", "2026-11", "残联:outbox"),
		"community": Key("R05", "*", "2026-11", "残联:outbox"),
		"period":    Key("R05", "兴隆社区", "2026-12", "残联:outbox"),
		"target":    Key("R05", "兴隆社区", "2026-11", "残联:http"),
		// the parts are separated: moving a character from one part to the next changes the key
		"boundary": Key("R0", "5兴隆社区", "2026-11", "残联:outbox"),
	} {
		if prev, dup := seen[other]; dup {
			t.Errorf("another %s gives the key of %s", what, prev)
		}
		seen[other] = what
	}
	if !keyRe.MatchString(k) {
		t.Errorf("key %q cannot name an outbox key file", k)
	}
}

func TestBackoffDoublesWithJitterAndHonoursRetryAfter(t *testing.T) {
	o := Options{Backoff: time.Second, MaxBackoff: 5 * time.Second}.withDefaults()
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 9: 5 * time.Second} {
		for i := 0; i < 50; i++ {
			if d := o.wait(n, fmt.Errorf("boom")); d < want/2 || d > want {
				t.Fatalf("wait after failure %d: %v, want within [%v, %v]", n, d, want/2, want)
			}
		}
	}
	if d := o.wait(1, RetryAfter(fmt.Errorf("429"), 42*time.Second)); d != 42*time.Second {
		t.Errorf("Retry-After 42s: waited %v", d)
	}
	if d := o.wait(1, RetryAfter(fmt.Errorf("429"), 24*time.Hour)); d != o.MaxRetryAfter {
		t.Errorf("Retry-After of a day: waited %v, want the cap %v", d, o.MaxRetryAfter)
	}
}

func TestPushRefusesBadPackagesAndTargets(t *testing.T) {
	f := newFixture(t)
	good := f.build("R05", "兴隆社区", "2026-11", "残联", "workbook")
	out := Outbox{Dir: t.TempDir()}
	ctx := context.Background()
	for _, c := range []struct {
		name string
		pkg  func(p Package) Package
		want string
	}{
		{"unknown build", func(p Package) Package { p.BuildID = 99; return p }, "build_id 99: not in report.builds"},
		{"other community", func(p Package) Package { p.Community = "江东社区"; return p }, `community: "江东社区", but build 1 is "兴隆社区"`},
		{"other body", func(p Package) Package { p.Body = []byte("tampered"); return p }, "body: sha256"},
		{"no department", func(p Package) Package { p.Department = ""; return p }, "department: empty"},
		{"no file name", func(p Package) Package { p.FileName = " "; return p }, "file_name: empty"},
	} {
		_, err := Push(ctx, f.db, []Package{good, c.pkg(good)}, []Target{out}, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "package #2") {
			t.Errorf("%s: Push error %v, want one naming package #2 and %q", c.name, err, c.want)
		}
	}
	if _, err := Push(ctx, f.db, []Package{good}, []Target{out, Outbox{Dir: t.TempDir(), Label: out.Name()}}, Options{}); err == nil ||
		!strings.Contains(err.Error(), "name used twice") {
		t.Errorf("two targets of one name: Push error %v", err)
	}
	if n := len(f.ledger()); n != 0 {
		t.Errorf("refused pushes left %d ledger rows", n)
	}
	if files := listFiles(t, out.Dir); len(files) != 0 {
		t.Errorf("refused pushes wrote %v", files)
	}
}
