package jobs

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"communityhub/pipeline/facts"
	"communityhub/pipeline/golden"
	"communityhub/pipeline/records"
	"communityhub/pipeline/resolve"
	"communityhub/pipeline/store"
)

// ReconcileOptions tune one reconciliation.
type ReconcileOptions struct {
	Full  bool           // re-resolve every record and re-estimate the model (else only new or changed records)
	Model *resolve.Model // nil: the built-in model
	Force bool           // run even when nothing changed (an incremental run, unless the model changed)
	// Survivorship chooses the golden fields; nil: the config's survivorship file, else the
	// built-in rules (golden.DefaultRules).
	Survivorship *golden.Rules
}

// ReconcileResult sums up a reconciliation.
type ReconcileResult struct {
	Run     int64
	Stats   resolve.Stats
	Events  map[string]int
	Persons int
	Seconds float64
	Reason  string // why a full run was chosen, or why nothing was done
	// Extracted are the records stage's figures per source (also in resolve.counts).
	Extracted []records.SourceStats
	// Place is where the golden persons were placed (also in resolve.counts, stage "place").
	Place golden.PlaceStats
}

// Reconcile turns the current raw rows into person records, resolves them into persons (with
// stable ids and the stored review decisions), and rebuilds the golden records — publishing
// resolve and golden in one transaction, so a failed or killed run leaves the previous complete
// result and the next run does the whole job again.
//
// When no sync changed a row, no reviewer decided anything, and the model and the sources with
// their mappings are those of the last run, it does nothing (mode "unchanged"). A changed model
// re-estimates it (a full run); changed sources or mappings re-extract every record and
// re-resolve those whose content changed. Full forces a complete run.
func Reconcile(ctx context.Context, cfg *Config, db *store.DB, opts ReconcileOptions) (ReconcileResult, error) {
	start := time.Now()
	m := opts.Model
	if m == nil {
		var err error
		if m, err = resolve.DefaultModel(); err != nil {
			return ReconcileResult{}, err
		}
	}
	var srcs []records.Source
	for _, s := range cfg.Sources {
		if !s.Disabled {
			srcs = append(srcs, records.Source{Name: s.Name, Role: s.Role, Mapping: s.MappingRefs()})
		}
	}
	rules, err := cfg.survivorshipRules(opts.Survivorship)
	if err != nil {
		return ReconcileResult{}, fmt.Errorf("survivorship: %w", err)
	}
	fp, err := fingerprints(m, srcs, rules, cfg.register.Digest())
	if err != nil {
		return ReconcileResult{}, err
	}
	last, err := resolve.LastFingerprints(ctx, db.SQL())
	if err != nil {
		return ReconcileResult{}, fmt.Errorf("resolve.runs: %w", err)
	}
	full, reason := opts.Full, ""
	if full {
		reason = "asked for"
	} else if last.Model != "" && last.Model != fp.Model {
		full, reason = true, "the match model changed"
	}
	if !full && !opts.Force {
		same, err := resolve.Unchanged(ctx, db.SQL(), fp)
		if err != nil {
			return ReconcileResult{}, err
		}
		if same {
			var run, persons sql.NullInt64
			if err := db.SQL().QueryRowContext(ctx, `SELECT max(run), (SELECT count(*) FROM golden.person) FROM resolve.runs`).Scan(&run, &persons); err != nil {
				return ReconcileResult{}, err
			}
			return ReconcileResult{Run: run.Int64, Stats: resolve.Stats{Mode: "unchanged"}, Persons: int(persons.Int64), Seconds: time.Since(start).Seconds(),
				Reason: "nothing landed, deleted or decided, and the model and sources are unchanged"}, nil
		}
		if last.Sources != "" && last.Sources != fp.Sources {
			reason = "the sources or their mappings changed"
		}
	}
	recs, extracted, err := records.Extract(ctx, db.SQL(), srcs)
	if err != nil {
		return ReconcileResult{}, fmt.Errorf("records: %w", err)
	}
	st, err := resolve.LoadState(ctx, db.SQL(), m)
	if err != nil {
		return ReconcileResult{}, fmt.Errorf("resolve state: %w", err)
	}
	ro := resolve.Options{Model: m, Previous: st.Previous, Returned: st.Returned, Decisions: st.Decisions, Params: st.Params, NextID: st.NextID()}
	if full {
		ro.Params = nil
	}
	res, err := resolve.Resolve(recs, ro)
	if err != nil {
		return ReconcileResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return ReconcileResult{}, err
	}
	run := st.LastRun + 1
	persons := golden.Build(recs, res.Person, rules)
	placed := golden.Place(persons, recs, res.Person, cfg.register)
	factTables, factCounts := facts.Build(recs, res.Person)
	err = db.Tx(ctx, func(conn *sql.Conn) error {
		if err := resolve.Save(ctx, conn, run, m, recs, res, st, fp); err != nil {
			return fmt.Errorf("resolve save: %w", err)
		}
		if err := golden.Save(ctx, conn, persons); err != nil {
			return fmt.Errorf("golden: %w", err)
		}
		if err := facts.Save(ctx, conn, factTables); err != nil {
			return fmt.Errorf("facts: %w", err)
		}
		if err := store.WriteCounts(conn, run, append(append(recordCounts(extracted), placed.Counts()...), factCounts...)); err != nil {
			return fmt.Errorf("resolve.counts: %w", err)
		}
		return nil
	})
	if err != nil {
		return ReconcileResult{}, err
	}
	ev := map[string]int{}
	for _, e := range res.Events {
		ev[e.Kind]++
	}
	return ReconcileResult{Run: run, Stats: res.Stats, Events: ev, Persons: len(persons), Seconds: time.Since(start).Seconds(), Reason: reason,
		Extracted: extracted, Place: placed}, nil
}

// recordCounts are the records stage's figures for resolve.counts, per source.
func recordCounts(stats []records.SourceStats) []store.Count {
	var out []store.Count
	for _, s := range stats {
		add := func(item string, n int) {
			out = append(out, store.Count{Stage: "records", Source: s.Source, Item: item, N: int64(n)})
		}
		if !s.Landed {
			add("never_landed", 1)
			continue
		}
		add("rows", s.Rows)
		add("records", s.Records)
		add("rows_without_record", s.RowsWithoutRecord)
		reasons := make([]string, 0, len(s.Skipped))
		for r := range s.Skipped {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		for _, r := range reasons {
			add("skipped:"+r, s.Skipped[r])
		}
		add("merged_into_householder", s.MergedIntoHouseholder)
		add("no_name", s.NoName)
		add("birth_unusable", s.BirthUnusable)
		add("grouped", s.Grouped)
	}
	return out
}

// fingerprints hash the model, and the enabled sources with their mappings together with the
// survivorship rules and the register's content digest (a change there rebuilds the golden records).
func fingerprints(m *resolve.Model, srcs []records.Source, rules *golden.Rules, register string) (resolve.Fingerprints, error) {
	mj, err := json.Marshal(m)
	if err != nil {
		return resolve.Fingerprints{}, fmt.Errorf("model fingerprint: %w", err)
	}
	type src struct {
		Name, Role string
		Mapping    []string
	}
	var ss []src
	for _, s := range srcs {
		x := src{Name: s.Name, Role: s.Role}
		for col, ref := range s.Mapping {
			x.Mapping = append(x.Mapping, fmt.Sprintf("%s=%v", col, ref))
		}
		sort.Strings(x.Mapping)
		ss = append(ss, x)
	}
	sort.Slice(ss, func(i, j int) bool { return ss[i].Name < ss[j].Name })
	sj, err := json.Marshal(struct {
		Sources      any
		Survivorship any
		Register     string `json:",omitempty"`
	}{ss, rules.Fields, register})
	if err != nil {
		return resolve.Fingerprints{}, fmt.Errorf("sources fingerprint: %w", err)
	}
	h := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:12]) }
	return resolve.Fingerprints{Model: h(mj), Sources: h(sj)}, nil
}
