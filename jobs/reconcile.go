package jobs

import (
	"context"
	"fmt"
	"time"

	"communityhub/pipeline/golden"
	"communityhub/pipeline/land"
	"communityhub/pipeline/records"
	"communityhub/pipeline/resolve"
)

// ReconcileOptions tune one reconciliation.
type ReconcileOptions struct {
	Full  bool           // re-resolve every record and re-estimate the model (else only new or changed records)
	Model *resolve.Model // nil: the built-in model
}

// ReconcileResult sums up a reconciliation.
type ReconcileResult struct {
	Run     int64
	Stats   resolve.Stats
	Events  map[string]int
	Persons int
	Seconds float64
}

// Reconcile turns the current raw rows into person records, resolves them into persons (with
// stable ids and the stored review decisions), and rebuilds the golden records. When no sync
// changed a row and no reviewer decided anything since the last run, it does nothing (mode
// "unchanged"); Full forces a complete run.
func Reconcile(ctx context.Context, cfg *Config, db *land.DB, opts ReconcileOptions) (ReconcileResult, error) {
	start := time.Now()
	m := opts.Model
	if m == nil {
		var err error
		if m, err = resolve.DefaultModel(); err != nil {
			return ReconcileResult{}, err
		}
	}
	if !opts.Full && opts.Model == nil {
		same, err := resolve.Unchanged(ctx, db.SQL())
		if err != nil {
			return ReconcileResult{}, err
		}
		if same {
			var run, persons int64
			db.SQL().QueryRowContext(ctx, `SELECT max(run), (SELECT count(*) FROM golden.person) FROM resolve.runs`).Scan(&run, &persons)
			return ReconcileResult{Run: run, Stats: resolve.Stats{Mode: "unchanged"}, Persons: int(persons), Seconds: time.Since(start).Seconds()}, nil
		}
	}
	var srcs []records.Source
	for _, s := range cfg.Sources {
		if !s.Disabled {
			srcs = append(srcs, records.Source{Name: s.Name, Mapping: s.MappingRefs()})
		}
	}
	recs, err := records.Extract(ctx, db.SQL(), srcs)
	if err != nil {
		return ReconcileResult{}, fmt.Errorf("records: %w", err)
	}
	st, err := resolve.LoadState(ctx, db.SQL(), m)
	if err != nil {
		return ReconcileResult{}, fmt.Errorf("resolve state: %w", err)
	}
	ro := resolve.Options{Model: m, Previous: st.Previous, Decisions: st.Decisions, Params: st.Params, NextID: st.NextID()}
	if opts.Full {
		ro.Params = nil
	}
	res, err := resolve.Resolve(recs, ro)
	if err != nil {
		return ReconcileResult{}, err
	}
	run := st.LastRun + 1
	if err := resolve.Save(ctx, db.SQL(), run, m, recs, res, st); err != nil {
		return ReconcileResult{}, fmt.Errorf("resolve save: %w", err)
	}
	persons := golden.Build(recs, res.Person)
	if err := golden.Save(ctx, db.SQL(), persons); err != nil {
		return ReconcileResult{}, fmt.Errorf("golden: %w", err)
	}
	ev := map[string]int{}
	for _, e := range res.Events {
		ev[e.Kind]++
	}
	return ReconcileResult{Run: run, Stats: res.Stats, Events: ev, Persons: len(persons), Seconds: time.Since(start).Seconds()}, nil
}
