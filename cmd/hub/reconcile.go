package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"communityhub/internal/evaltruth"
	"communityhub/jobs"
	"communityhub/pipeline/resolve"
	"communityhub/pipeline/store"
)

func init() {
	commands["reconcile"] = command{"resolve records into persons and households (golden records)", runReconcile}
	commands["explain"] = command{"explain PERSON_OR_RECORD: the records of a person and why they were linked", runExplain}
	commands["eval"] = command{"eval --truth DIR: precision/recall against the simulator's truth, and the exact-ID baseline", runEval}
}

func runReconcile(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	full := fs.Bool("full", false, "re-resolve every record and re-estimate the model")
	model := fs.String("model", "", "match model file (default: the built-in model.toml)")
	cfg, db, err := configDB(ctx, fs, args)
	if err != nil {
		return err
	}
	defer db.Close()
	return reconcile(ctx, cfg, db, *full, *model, os.Stdout)
}

func reconcile(ctx context.Context, cfg *jobs.Config, db *store.DB, full bool, modelPath string, out io.Writer) error {
	// Resolution holds every record in memory: collect garbage less often, but stay under 3.5 GiB.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(3584 << 20))
	opts := jobs.ReconcileOptions{Full: full}
	if modelPath != "" {
		m, err := resolve.LoadModel(modelPath)
		if err != nil {
			return err
		}
		opts.Model = m
	}
	r, err := jobs.Reconcile(ctx, cfg, db, opts)
	if err != nil {
		return err
	}
	s := r.Stats
	if s.Mode == "unchanged" {
		fmt.Fprintf(out, "reconcile: %s since run %d; %d persons as they were\n", r.Reason, r.Run, r.Persons)
		return nil
	}
	why := ""
	if r.Reason != "" {
		why = " — " + r.Reason
	}
	fmt.Fprintf(out, "reconcile run %d (%s%s): %d records, %d resolved, %d candidate pairs (%.0f pairs/s), %d links, %d persons, %d pairs for review (%.1f per 1 000 records), id events %v, %.1fs\n",
		r.Run, s.Mode, why, s.Records, s.Resolved, s.Pairs, s.PairsPerSec, s.Links, r.Persons, s.ReviewPairs, s.ReviewPerThousand, r.Events, r.Seconds)
	printCounts(out, r)
	return nil
}

// printCounts says what the run left out or took in with something missing (all of it is in
// resolve.counts too): nothing is dropped without a count.
func printCounts(out io.Writer, r jobs.ReconcileResult) {
	var skipped []string
	for _, e := range r.Extracted {
		n := 0
		for _, v := range e.Skipped {
			n += v
		}
		if n > 0 || e.NoName > 0 || e.BirthUnusable > 0 {
			skipped = append(skipped, fmt.Sprintf("%s %d skipped (%v), %d without a name, %d birth unusable", e.Source, n, e.Skipped, e.NoName, e.BirthUnusable))
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(out, "  records: %s\n", strings.Join(skipped, "; "))
	}
	s := r.Stats
	if len(s.Counts) > 0 || s.Ambiguous > 0 {
		fmt.Fprintf(out, "  resolve: taking part with something missing %v; %d ambiguous (linked to no one, in review); prior %.3g from %s\n", s.Counts, s.Ambiguous, s.Prior, s.PriorFrom)
	}
	for i, b := range s.OversizeBlocks {
		if i == 10 {
			fmt.Fprintf(out, "  … %d more oversize blocks in resolve.counts\n", len(s.OversizeBlocks)-10)
			break
		}
		fmt.Fprintf(out, "  block over max_block not compared: %s = %s (%d records)\n", b.Blocking, b.Key, b.Size)
	}
}

// configDB adds --config to fs, parses args, loads the deployment and opens its database.
func configDB(ctx context.Context, fs *flag.FlagSet, args []string) (*jobs.Config, *store.DB, error) {
	config := fs.String("config", "hub.toml", "deployment config")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	cfg, err := jobs.Load(*config)
	if err != nil {
		return nil, nil, err
	}
	db, err := openDB(ctx, cfg.DatabasePath())
	return cfg, db, err
}

func runExplain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	_, db, err := configDB(ctx, fs, args)
	if err != nil {
		return err
	}
	defer db.Close()
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: hub explain [--config hub.toml] PERSON_ID|RECORD_KEY|LOCATION")
	}
	return explain(ctx, db.SQL(), fs.Arg(0), os.Stdout)
}

// explain prints a person's golden record with provenance, its records, and the links that
// joined them with each comparison's level and weight. The argument may be a person id, a
// record key or a source location.
func explain(ctx context.Context, db *sql.DB, what string, out io.Writer) error {
	person := what
	var p string
	if err := db.QueryRowContext(ctx, `SELECT person_id FROM resolve.record_person rp JOIN std.records r USING (record_key)
		WHERE rp.record_key = ? OR r.loc = ? LIMIT 1`, what, what).Scan(&p); err == nil {
		person = p
	}
	var name, id, birth, addr, phone, hh sql.NullString
	err := db.QueryRowContext(ctx, `SELECT name, id_no, birth_date, address, phone, household_id FROM golden.person WHERE person_id = ?`, person).
		Scan(&name, &id, &birth, &addr, &phone, &hh)
	if err == sql.ErrNoRows {
		return fmt.Errorf("no person, record or location %q", what)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "person %s: %s  %s  born %s  %s  %s  household %s\n", person, name.String, id.String, birth.String, phone.String, addr.String, hh.String)
	rows, err := db.QueryContext(ctx, `SELECT field, value, coalesce(source, ''), rule FROM golden.person_field WHERE person_id = ? ORDER BY field`, person)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nfields (value ← rule):")
	for rows.Next() {
		var f, v, s, r string
		if err := rows.Scan(&f, &v, &s, &r); err != nil {
			rows.Close()
			return err
		}
		fmt.Fprintf(out, "  %-14s %-28s ← %s\n", f, v, r)
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, `SELECT r.record_key, r.source, r.loc, r.role, coalesce(r.name_raw, ''), coalesce(r.id_raw, ''), r.id_class, rp.rule, rp.probability
		FROM std.records r JOIN resolve.record_person rp USING (record_key) WHERE rp.person_id = ? ORDER BY r.source, r.loc`, person)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nrecords:")
	for rows.Next() {
		var k, s, l, role, n, i, c, rule string
		var pr float64
		if err := rows.Scan(&k, &s, &l, &role, &n, &i, &c, &rule, &pr); err != nil {
			rows.Close()
			return err
		}
		fmt.Fprintf(out, "  %-16s %-40s %-9s %-12s %-20s %-9s %s %.3f\n", s, l, role, n, i, c, rule, pr)
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, `SELECT l.record_a, l.record_b, l.probability, l.weight, l.rule,
		string_agg(d.comparison || '=' || d.level || ' ' || printf('%+.2f', d.weight), ', ' ORDER BY d.comparison)
		FROM resolve.links l JOIN resolve.record_person a ON a.record_key = l.record_a
		LEFT JOIN resolve.link_detail d ON d.run = l.run AND d.record_a = l.record_a AND d.record_b = l.record_b
		WHERE a.person_id = ? GROUP BY ALL ORDER BY l.probability DESC`, person)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintln(out, "\nlinks (comparison=level weight):")
	for rows.Next() {
		var a, b, rule string
		var pr, w float64
		var detail sql.NullString
		if err := rows.Scan(&a, &b, &pr, &w, &rule, &detail); err != nil {
			rows.Close()
			return err
		}
		fmt.Fprintf(out, "  %s\n    ~ %s\n    p=%.4f w=%+.2f %s: %s\n", strings.ReplaceAll(a, "\x1f", " "), strings.ReplaceAll(b, "\x1f", " "), pr, w, rule, detail.String)
	}
	return rows.Err()
}

func runEval(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	config := fs.String("config", "", "deployment config (default: DIR/hub.toml)")
	truth := fs.String("truth", "demo-district", "district folder holding truth/")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *config == "" {
		*config = *truth + "/hub.toml"
	}
	cfg, err := jobs.Load(*config)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg.DatabasePath())
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := evaltruth.Evaluate(ctx, db.SQL(), *truth)
	if err != nil {
		return err
	}
	printEval(os.Stdout, rep)
	return nil
}

func printEval(out io.Writer, r *evaltruth.Report) {
	fmt.Fprintf(out, "records %d (%d with truth, %d with a masked, missing or corrupted ID); true persons %d, hub persons %d\n",
		r.Records, r.WithTruth, r.HardRecords, r.TruePersons, r.Persons)
	fmt.Fprintf(out, "%-22s %10s %10s %22s\n", "", "precision", "recall", "recall (hard IDs)")
	fmt.Fprintf(out, "%-22s %10.4f %10.4f %22.4f\n", "hub", r.Hub.Precision, r.Hub.Recall, r.Hub.RecallHard)
	fmt.Fprintf(out, "%-22s %10.4f %10.4f %22.4f\n", "exact-ID join baseline", r.Baseline.Precision, r.Baseline.Recall, r.Baseline.RecallHard)
	fmt.Fprintf(out, "merges of two different valid IDs: %d\n", r.ValidIDMerges)
	fmt.Fprintf(out, "households reconstructed exactly: %d of %d (%.2f%%)\n", r.HouseholdsExact, r.Households, 100*float64(r.HouseholdsExact)/float64(max(1, r.Households)))
	if pl := r.Placement; pl.Residents > 0 {
		fmt.Fprintf(out, "residents placed in their true community: %d of %d (%.2f%%) — by address %d, by grid %d, unplaced %d %v, wrong community %d\n",
			pl.Correct, pl.Residents, 100*pl.Rate, pl.ByAddress, pl.ByGrid, pl.Unplaced, pl.Reasons, pl.Wrong)
	}
	q := r.Review
	fmt.Fprintf(out, "review queue: %d pairs (%.1f per 1 000 records), %.1f%% of them one true person\n", q.Pairs, q.PerThousand, 100*q.TrueShare)
	if q.Calibrated.Pairs > 0 {
		verdict := "within"
		if !q.CalibrationOK {
			verdict = "NOT within"
		}
		fmt.Fprintf(out, "calibration over [0.05, 0.5]: %d pairs, mean predicted %.3f, observed %.3f (%s a factor of 2)\n",
			q.Calibrated.Pairs, q.Calibrated.MeanP, q.Calibrated.Observed, verdict)
		for _, b := range q.Bands {
			if b.Pairs == 0 {
				continue
			}
			band := fmt.Sprintf("[%.2f, %.2f)", b.Lo, min(b.Hi, 0.5))
			if b.Lo < 0 {
				band = "outside [0.05, 0.5]"
			}
			fmt.Fprintf(out, "  %-20s %6d pairs  mean p %.3f  observed %.3f\n", band, b.Pairs, b.MeanP, b.Observed)
		}
	}
}

func init() {
	commands["review"] = command{"review [list] | review decide RECORD_A RECORD_B same|different [--by NAME]: the uncertain pairs and decisions", runReview}
}

// runReview lists the review queue or records a decision, which wins over the model from the
// next reconcile on.
func runReview(ctx context.Context, args []string) error {
	verb := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		verb, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("review", flag.ContinueOnError)
	by := fs.String("by", os.Getenv("USER"), "who decides")
	limit := fs.Int("limit", 20, "pairs to list")
	_, db, err := configDB(ctx, fs, args)
	if err != nil {
		return err
	}
	defer db.Close()
	switch verb {
	case "list":
		rows, err := db.SQL().QueryContext(ctx, `SELECT v.record_a, v.record_b, v.probability, v.explanation, coalesce(a.name_raw, ''), coalesce(b.name_raw, '')
			FROM resolve.review v LEFT JOIN std.records a ON a.record_key = v.record_a LEFT JOIN std.records b ON b.record_key = v.record_b
			ORDER BY v.gain DESC NULLS LAST, v.probability DESC LIMIT ?`, *limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a, b, expl, na, nb string
			var p float64
			if err := rows.Scan(&a, &b, &p, &expl, &na, &nb); err != nil {
				return err
			}
			fmt.Printf("%q %s\n%q %s\np=%.3f\n%s\n", a, na, b, nb, p, expl)
		}
		return rows.Err()
	case "decide":
		if fs.NArg() != 3 || (fs.Arg(2) != "same" && fs.Arg(2) != "different") {
			return fmt.Errorf("usage: hub review decide RECORD_A RECORD_B same|different")
		}
		for _, k := range []string{fs.Arg(0), fs.Arg(1)} {
			var n int
			if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM std.records WHERE record_key = ?`, k).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("no record %q", k)
			}
		}
		_, err := db.SQL().ExecContext(ctx, `INSERT INTO resolve.decisions VALUES (?, ?, ?, ?, now(), NULL)`, fs.Arg(0), fs.Arg(1), fs.Arg(2) == "same", *by)
		if err == nil {
			fmt.Println("recorded; it applies from the next reconcile on")
		}
		return err
	}
	return fmt.Errorf("review: unknown verb %q (list, decide)", verb)
}
