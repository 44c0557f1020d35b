//go:build duckdb_arrow

package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"communityhub/internal/deptsim/apisim"
	"communityhub/internal/evaltruth"
	"communityhub/pipeline/store"
)

// personsOf maps every record key to its person id.
func personsOf(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	return personsWhere(t, db, "true")
}

// personsWhere maps the record keys of std.records r matching cond to their person ids.
func personsWhere(t *testing.T, db *sql.DB, cond string, args ...any) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT r.record_key, p.person_id FROM std.records r JOIN resolve.record_person p USING (record_key) WHERE `+cond, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, p string
		if err := rows.Scan(&k, &p); err != nil {
			t.Fatal(err)
		}
		out[k] = p
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Person ids are stable: an unchanged re-run changes none; after 1% of rows change, only their
// records are resolved again; reviewers' decisions win over the model.
func TestReconcileStableIncrementalAndDecisions(t *testing.T) {
	dir, cfg, _, getenv := demoEnv(t, 3000, apisim.Faults{})
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.DatabasePath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	syncAll(t, cfg, db, getenv)
	first, err := Reconcile(ctx, cfg, db, ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if first.Stats.Mode != "full" || first.Stats.Resolved != first.Stats.Records {
		t.Fatalf("first run: %+v", first.Stats)
	}
	before := personsOf(t, db.SQL())
	var reviewFull int
	db.SQL().QueryRow(`SELECT count(*) FROM resolve.review`).Scan(&reviewFull)
	if reviewFull == 0 {
		t.Error("the full run left no pair for review")
	}
	again, err := Reconcile(ctx, cfg, db, ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Stats.Mode != "unchanged" || again.Stats.Resolved != 0 {
		t.Errorf("re-run with nothing new: %+v", again.Stats)
	}
	// A sync that lands nothing keeps it so; resolving anyway (as after a model change would)
	// re-resolves nothing and changes no id.
	syncAll(t, cfg, db, getenv)
	if again, _ = Reconcile(ctx, cfg, db, ReconcileOptions{}); again.Stats.Mode != "unchanged" {
		t.Errorf("after a sync that landed nothing: %+v", again.Stats)
	}
	again, err = Reconcile(ctx, cfg, db, ReconcileOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.Stats.Mode != "incremental" || again.Stats.Resolved != 0 || again.Stats.Pairs != 0 {
		t.Errorf("unchanged re-run: %+v", again.Stats)
	}
	if after := personsOf(t, db.SQL()); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("an unchanged re-run changed person ids")
	}
	// 1% of hj_person rows change.
	sdb, _ := sql.Open("sqlite", filepath.Join(dir, "systems/01_hj.sqlite"))
	res, err := sdb.Exec(`UPDATE person SET "居住地址" = "居住地址" || '（更正）', gxsj = '2026-11-22 09:00:00' WHERE rowid % 100 = 3`)
	if err != nil {
		t.Fatal(err)
	}
	changed, _ := res.RowsAffected()
	sdb.Close()
	syncAll(t, cfg, db, getenv)
	inc, err := Reconcile(ctx, cfg, db, ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if int64(inc.Stats.Resolved) != changed {
		t.Errorf("after %d changed rows, %d records were resolved again", changed, inc.Stats.Resolved)
	}
	var reviewKept int
	db.SQL().QueryRow(`SELECT count(*) FROM resolve.review WHERE run = ?`, first.Run).Scan(&reviewKept)
	if reviewKept == 0 || reviewKept > reviewFull {
		t.Errorf("the incremental run kept %d of the %d pending review pairs", reviewKept, reviewFull)
	}
	moved := 0
	after := personsOf(t, db.SQL())
	for k, p := range before {
		if after[k] != p {
			moved++
		}
	}
	if moved > int(changed) {
		t.Errorf("%d records changed person after %d rows changed", moved, changed)
	}
	// Decisions: split two records of one person, merge two singletons of different persons.
	var a, b string
	db.SQL().QueryRow(`SELECT min(record_key), max(record_key) FROM resolve.record_person GROUP BY person_id HAVING count(*) >= 3 ORDER BY person_id LIMIT 1`).Scan(&a, &b)
	var c, d string
	db.SQL().QueryRow(`SELECT min(record_key) FILTER (WHERE n = 1), max(record_key) FILTER (WHERE n = 1) FROM (SELECT record_key, count(*) OVER (PARTITION BY person_id) AS n FROM resolve.record_person)`).Scan(&c, &d)
	for _, dec := range []struct {
		a, b string
		same bool
	}{{a, b, false}, {c, d, true}} {
		if _, err := db.SQL().Exec(`INSERT INTO resolve.decisions VALUES (?, ?, ?, 'test', now(), NULL)`, dec.a, dec.b, dec.same); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Reconcile(ctx, cfg, db, ReconcileOptions{Full: true}); err != nil {
		t.Fatal(err)
	}
	p := personsOf(t, db.SQL())
	if p[a] == p[b] {
		t.Errorf("a 'different' decision was overruled: %s and %s are both %s", a, b, p[a])
	}
	if p[c] != p[d] {
		t.Errorf("a 'same' decision was overruled: %s is %s, %s is %s", c, p[c], d, p[d])
	}
}

// On the default demo district the hub beats the exact-ID join and meets the bar.
func TestReconcileQuality(t *testing.T) {
	dir, _, db, _ := reconciledDemo(t, 20000)
	ctx := context.Background()
	rep, err := evaltruth.Evaluate(ctx, db.SQL(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rep)
	// The bar of issue 8 on the default district.
	if rep.Hub.Precision < 0.9995 || rep.Hub.Recall < 0.999 || rep.Hub.RecallHard < 0.99 {
		t.Errorf("hub precision %.4f recall %.4f recall(hard IDs) %.4f", rep.Hub.Precision, rep.Hub.Recall, rep.Hub.RecallHard)
	}
	if rep.ValidIDMerges != 0 {
		t.Errorf("%d persons hold two different valid IDs", rep.ValidIDMerges)
	}
	if rep.Hub.Recall <= rep.Baseline.Recall {
		t.Errorf("no better than the exact-ID join: %.4f vs %.4f", rep.Hub.Recall, rep.Baseline.Recall)
	}
	if float64(rep.HouseholdsExact) < 0.99*float64(rep.Households) {
		t.Errorf("households exact %d of %d", rep.HouseholdsExact, rep.Households)
	}
	// The review queue's probabilities mean what they say.
	if q := rep.Review; !q.CalibrationOK {
		t.Errorf("review queue not calibrated over [0.05, 0.5]: %d pairs, mean predicted %.3f, observed %.3f", q.Calibrated.Pairs, q.Calibrated.MeanP, q.Calibrated.Observed)
	}
}
