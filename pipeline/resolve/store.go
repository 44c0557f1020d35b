package resolve

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"communityhub/pipeline/records"
	"communityhub/pipeline/store"
)

// State is what the last run left: assignments, parameters, decisions and the id sequence.
type State struct {
	Previous  map[string]Prev
	Returned  map[string]Prev // records gone from the last run but seen before: their last person
	Params    *Params
	Decisions []Decision
	NextSeq   int64
	LastRun   int64
}

// LoadState reads the last run's state from the database (empty on a first run).
func LoadState(ctx context.Context, db *sql.DB, m *Model) (*State, error) {
	st := &State{NextSeq: 1}
	var next, run sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(run), max(next_person) FROM resolve.runs`).Scan(&run, &next); err != nil {
		return nil, fmt.Errorf("resolve.runs: %w", err)
	}
	if next.Valid {
		st.NextSeq, st.LastRun = next.Int64, run.Int64
	}
	rows, err := db.QueryContext(ctx, `SELECT record_key, person_id, record_hash FROM resolve.record_person`)
	if err != nil {
		return nil, fmt.Errorf("resolve.record_person: %w", err)
	}
	for rows.Next() {
		if st.Previous == nil {
			st.Previous = map[string]Prev{}
		}
		var k, p string
		var h uint64
		if err := rows.Scan(&k, &p, &h); err != nil {
			rows.Close()
			return nil, err
		}
		st.Previous[k] = Prev{p, h}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.QueryContext(ctx, `SELECT h.record_key, h.person_id, h.record_hash FROM resolve.record_history h
		ANTI JOIN resolve.record_person p ON p.record_key = h.record_key`)
	if err != nil {
		return nil, fmt.Errorf("resolve.record_history: %w", err)
	}
	for rows.Next() {
		if st.Returned == nil {
			st.Returned = map[string]Prev{}
		}
		var k, p string
		var h sql.Null[uint64]
		if err := rows.Scan(&k, &p, &h); err != nil {
			rows.Close()
			return nil, err
		}
		st.Returned[k] = Prev{p, h.V}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Parameters of the last full run, if they fit the model.
	var lastFull sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(run) FROM resolve.runs WHERE mode = 'full'`).Scan(&lastFull); err != nil {
		return nil, fmt.Errorf("resolve.runs: %w", err)
	}
	if lastFull.Valid {
		p := Params{M: make([][]float64, len(m.Comparisons)), U: make([][]float64, len(m.Comparisons))}
		for ci, c := range m.Comparisons {
			p.M[ci] = make([]float64, len(c.Levels))
			p.U[ci] = make([]float64, len(c.Levels))
		}
		rows, err := db.QueryContext(ctx, `SELECT comparison, level, m, u, prior_lambda FROM resolve.params WHERE run = ?`, lastFull.Int64)
		if err != nil {
			return nil, fmt.Errorf("resolve.params: %w", err)
		}
		found := 0
		for rows.Next() {
			var c, l string
			var mm, uu, lam float64
			if err := rows.Scan(&c, &l, &mm, &uu, &lam); err != nil {
				rows.Close()
				return nil, err
			}
			p.Lambda = lam
			for ci, cc := range m.Comparisons {
				for li, ll := range cc.Levels {
					if cc.Name == c && ll.Name == l {
						p.M[ci][li], p.U[ci][li] = mm, uu
						found++
					}
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("resolve.params: %w", err)
		}
		total := 0
		for _, c := range m.Comparisons {
			total += len(c.Levels)
		}
		if found == total {
			st.Params = &p
		}
	}
	rows, err = db.QueryContext(ctx, `SELECT record_a, record_b, same FROM resolve.decisions ORDER BY decided_at`)
	if err != nil {
		return nil, fmt.Errorf("resolve.decisions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d Decision
		if err := rows.Scan(&d.A, &d.B, &d.Same); err != nil {
			return nil, err
		}
		st.Decisions = append(st.Decisions, d)
	}
	return st, rows.Err()
}

// LastFingerprints are the fingerprints of the last run (empty before the first).
func LastFingerprints(ctx context.Context, db *sql.DB) (Fingerprints, error) {
	var m, s sql.NullString
	err := db.QueryRowContext(ctx, `SELECT model_fp, sources_fp FROM resolve.runs ORDER BY run DESC LIMIT 1`).Scan(&m, &s)
	if err == sql.ErrNoRows {
		return Fingerprints{}, nil
	}
	return Fingerprints{m.String, s.String}, err
}

// Unchanged reports whether nothing a reconcile reads has changed since the last run: no
// sync landed or deleted a row, no reviewer decided anything, and the model and the sources
// (fp) are those of the last run. Then a run can be skipped.
func Unchanged(ctx context.Context, db *sql.DB, fp Fingerprints) (bool, error) {
	var lastSync sql.NullInt64
	var lastAt sql.NullTime
	var model, sources sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT sync_id, run_at, model_fp, sources_fp FROM resolve.runs ORDER BY run DESC LIMIT 1`).Scan(&lastSync, &lastAt, &model, &sources); err == sql.ErrNoRows {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if model.String != fp.Model || sources.String != fp.Sources {
		return false, nil
	}
	var changes int64
	err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM meta.runs WHERE sync_id > ? AND ok AND (rows_landed > 0 OR rows_deleted > 0))
		+ (SELECT count(*) FROM resolve.decisions WHERE decided_at > ?)`, lastSync.Int64, lastAt.Time).Scan(&changes)
	return changes == 0, err
}

// NextID returns a generator of person ids continuing the stored sequence.
func (s *State) NextID() func() string {
	return func() string {
		id := fmt.Sprintf("p%08d", s.NextSeq)
		s.NextSeq++
		return id
	}
}

// Fingerprints identify what a run was made from beyond the rows: the match model, and the
// sources with their mappings. A run is skipped as unchanged only when both are the same.
type Fingerprints struct {
	Model, Sources string
}

// Save writes a run on conn, inside the caller's transaction: the standardized records, record
// → person (and the record history that gives returning records their ids back), the links with
// their per-comparison explanation, the review queue, id events, parameters and figures.
func Save(ctx context.Context, conn *sql.Conn, run int64, m *Model, recs []records.Record, res *Result, st *State, fp Fingerprints) error {
	replace := []string{"std.records", "resolve.record_person", "resolve.resolved_last"}
	if res.Stats.Mode == "full" {
		replace = append(replace, "resolve.review")
	}
	if err := store.Replace(ctx, conn, replace...); err != nil {
		return err
	}
	err := store.Append(conn, "std", "records", len(recs), func(i int) []driver.Value {
		r := &recs[i]
		return []driver.Value{r.Key, r.Source, r.Loc, r.Role, r.Hash, r.IDRaw, r.ID.Std, string(r.ID.Class), r.ID.Known,
			r.NameRaw, r.Name.Std, r.Name.Pinyin, strings.Join(r.Name.Flags, ";"), int32(r.Sex), r.Birth, string(r.BirthFlag),
			strings.Join(r.Phones, ";"), r.AddrRaw, r.Addr.Key(), r.SourceRole}
	})
	if err != nil {
		return fmt.Errorf("std.records: %w", err)
	}
	err = store.Append(conn, "resolve", "record_person", len(recs), func(i int) []driver.Value {
		return []driver.Value{recs[i].Key, res.Person[i], res.Prob[i], res.Rule[i], recs[i].Hash, run}
	})
	if err != nil {
		return fmt.Errorf("resolve.record_person: %w", err)
	}
	// Links of this run (earlier runs' links stay: they explain the clusters kept since).
	err = store.Append(conn, "resolve", "links", len(res.Links), func(i int) []driver.Value {
		l := res.Links[i]
		return []driver.Value{run, recs[l.A].Key, recs[l.B].Key, l.P, l.W, l.Rule, levelText(m, l)}
	})
	if err != nil {
		return fmt.Errorf("resolve.links: %w", err)
	}
	var again []int
	for i := range recs {
		if res.Changed[i] {
			again = append(again, i)
		}
	}
	if err := store.Append(conn, "resolve", "resolved_last", len(again), func(i int) []driver.Value { return []driver.Value{recs[again[i]].Key} }); err != nil {
		return err
	}
	if res.Stats.Mode != "full" {
		// Earlier pairs stand unless a record was resolved again (its pairs are rescored
		// below), is gone, was decided on, or now shares a person with the other.
		if _, err := conn.ExecContext(ctx, `DELETE FROM resolve.review v WHERE
				v.record_a IN (SELECT record_key FROM resolve.resolved_last) OR v.record_b IN (SELECT record_key FROM resolve.resolved_last)
				OR NOT EXISTS (SELECT 1 FROM resolve.record_person p WHERE p.record_key = v.record_a)
				OR NOT EXISTS (SELECT 1 FROM resolve.record_person p WHERE p.record_key = v.record_b)
				OR EXISTS (SELECT 1 FROM resolve.decisions d WHERE (d.record_a = v.record_a AND d.record_b = v.record_b) OR (d.record_a = v.record_b AND d.record_b = v.record_a))
				OR (SELECT person_id FROM resolve.record_person p WHERE p.record_key = v.record_a) = (SELECT person_id FROM resolve.record_person p WHERE p.record_key = v.record_b)`); err != nil {
			return err
		}
	}
	err = store.Append(conn, "resolve", "review", len(res.Review), func(i int) []driver.Value {
		l := res.Review[i]
		return []driver.Value{run, recs[l.A].Key, recs[l.B].Key, l.P, l.W, Explain(m, res.Params, l), l.Gain, l.Rule}
	})
	if err != nil {
		return fmt.Errorf("resolve.review: %w", err)
	}
	err = store.Append(conn, "resolve", "id_events", len(res.Events), func(i int) []driver.Value {
		e := res.Events[i]
		return []driver.Value{run, e.Kind, e.Person, e.Other, int32(e.Records), e.Reason}
	})
	if err != nil {
		return err
	}
	if res.Stats.Mode == "full" {
		var ps [][]driver.Value
		for ci, c := range m.Comparisons {
			for li, l := range c.Levels {
				mm, uu := res.Params.M[ci][li], res.Params.U[ci][li]
				ps = append(ps, []driver.Value{run, c.Name, l.Name, mm, uu, math.Log2(mm / uu), res.Params.Lambda})
			}
		}
		if err := store.Append(conn, "resolve", "params", len(ps), func(i int) []driver.Value { return ps[i] }); err != nil {
			return err
		}
	}
	// Every record's latest person, kept when the record goes.
	if _, err := conn.ExecContext(ctx, `DELETE FROM resolve.record_history WHERE record_key IN (SELECT record_key FROM resolve.record_person)`); err != nil {
		return fmt.Errorf("resolve.record_history: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO resolve.record_history SELECT record_key, person_id, record_hash, run FROM resolve.record_person`); err != nil {
		return fmt.Errorf("resolve.record_history: %w", err)
	}
	s := res.Stats
	if err := store.WriteCounts(conn, run, Counts(s)); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `INSERT INTO resolve.runs (run, run_at, mode, records, resolved, pairs, pairs_per_sec, links, review_pairs,
			persons, seconds, next_person, sync_id, model_fp, sources_fp, prior, prior_from, prior_capped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			(SELECT coalesce(max(sync_id), 0) FROM meta.syncs), ?, ?, ?, ?, ?)`, run, time.Now().UTC(), s.Mode,
		s.Records, s.Resolved, s.Pairs, s.PairsPerSec, s.Links, s.ReviewPairs, s.Persons, s.Seconds, st.NextSeq, fp.Model, fp.Sources,
		s.Prior, s.PriorFrom, s.PriorCapped)
	return err
}

// Counts are a run's figures for resolve.counts (stage "resolve"): records taking part with
// something missing, by reason; records linked to no one for ambiguity; and every block over
// max_block with its rule and key.
func Counts(s Stats) []store.Count {
	var out []store.Count
	reasons := make([]string, 0, len(s.Counts))
	for r := range s.Counts {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		out = append(out, store.Count{Stage: "resolve", Item: r, N: int64(s.Counts[r])})
	}
	out = append(out, store.Count{Stage: "resolve", Item: "ambiguous", N: int64(s.Ambiguous)})
	for _, b := range s.OversizeBlocks {
		out = append(out, store.Count{Stage: "resolve", Item: "oversize_block", N: int64(b.Size), Detail: b.Blocking + "=" + b.Key})
	}
	return out
}

// levelText is "comparison=level,…" for a scored link ("" for a decided one).
func levelText(m *Model, l Link) string {
	if l.Levels == nil {
		return ""
	}
	parts := make([]string, len(l.Levels))
	for ci, lv := range l.Levels {
		name := "null"
		if lv >= 0 {
			name = m.Comparisons[ci].Levels[lv].Name
		}
		parts[ci] = m.Comparisons[ci].Name + "=" + name
	}
	return strings.Join(parts, ",")
}
