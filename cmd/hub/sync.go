package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"communityhub/connectors"
	"communityhub/jobs"
	"communityhub/pipeline/land"
)

func runSync(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	config := fs.String("config", "hub.toml", "deployment config")
	only := fs.String("only", "", "comma-separated source names (default: all enabled)")
	quiet := fs.Bool("quiet", false, "no live progress")
	noReconcile := fs.Bool("no-reconcile", false, "land only; do not resolve persons afterwards")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := jobs.Load(*config)
	if err != nil {
		return err
	}
	res, err := syncConfig(ctx, cfg, splitList(*only), !*quiet, os.Stdout)
	if err != nil {
		return err
	}
	if !*noReconcile {
		if err := reconcileAfterSync(ctx, cfg); err != nil {
			return err
		}
	}
	if f := res.Failed(); len(f) > 0 {
		return fmt.Errorf("%d of %d sources failed", len(f), len(res.Stats))
	}
	return nil
}

// reconcileAfterSync resolves the landed records (only new or changed ones after the first run).
func reconcileAfterSync(ctx context.Context, cfg *jobs.Config) error {
	db, err := land.Open(ctx, cfg.DatabasePath())
	if err != nil {
		return err
	}
	defer db.Close()
	return reconcile(ctx, cfg, db, false, "", os.Stdout)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// syncConfig runs one sync with live progress lines (at most one per source per second) and
// prints the summary table.
func syncConfig(ctx context.Context, cfg *jobs.Config, only []string, live bool, out io.Writer) (jobs.Result, error) {
	db, err := land.Open(ctx, cfg.DatabasePath())
	if err != nil {
		return jobs.Result{}, err
	}
	defer db.Close()
	var mu sync.Mutex
	last := map[string]time.Time{}
	opts := jobs.SyncOptions{Only: only}
	if live {
		opts.Progress = func(s land.Stats) {
			mu.Lock()
			defer mu.Unlock()
			if time.Since(last[s.Source]) < time.Second {
				return
			}
			last[s.Source] = time.Now()
			fmt.Fprintf(out, "  %-18s %10d rows  %6d quarantined  %8.1f MB  %6.1fs\n", s.Source, s.Read, s.Quarantined, float64(s.Bytes)/1e6, s.Seconds)
		}
		opts.Done = func(s land.Stats) {
			mu.Lock()
			defer mu.Unlock()
			status := "ok"
			if s.Err != nil {
				status = "FAILED: " + s.Err.Error()
			}
			fmt.Fprintf(out, "✓ %-18s %d read, %d landed, %d quarantined in %.1fs — %s\n", s.Source, s.Read, s.Landed, s.Quarantined, s.Seconds, status)
		}
	}
	start := time.Now()
	res, err := jobs.Sync(ctx, cfg, db, opts)
	if err != nil && res.SyncID == 0 {
		return res, err
	}
	printSummary(out, res, time.Since(start))
	return res, err
}

func printSummary(out io.Writer, res jobs.Result, took time.Duration) {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(out, "\nsync %d: %d sources in %.1fs\n", res.SyncID, len(res.Stats), took.Seconds())
	fmt.Fprintln(tw, "source\tread\tlanded\tunchanged\tquarantined\tskipped\tdeleted\tcurrent\tMB\tseconds\trows/s\tcursor\t")
	var total land.Stats
	for _, s := range res.Stats {
		cur := s.CursorAfter
		if s.CursorBefore != s.CursorAfter {
			cur = s.CursorBefore + " → " + s.CursorAfter
		}
		if s.Err != nil {
			cur = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.2f\t%.0f\t%s\t\n", s.Source, s.Read, s.Landed, s.Unchanged, s.Quarantined, s.Skipped,
			s.Deleted, s.Current, float64(s.Bytes)/1e6, s.Seconds, s.RowsPerSec(), cur)
		total.Read += s.Read
		total.Landed += s.Landed
		total.Quarantined += s.Quarantined
		total.Current += s.Current
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t\t%d\t\t\t%d\t\t\t\t\t\n", total.Read, total.Landed, total.Quarantined, total.Current)
	tw.Flush()
	for _, s := range res.Failed() {
		fmt.Fprintf(out, "FAILED %s\n", s.Err)
	}
}

func runSources(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("usage: hub sources check [--config hub.toml]")
	}
	fs := flag.NewFlagSet("sources check", flag.ContinueOnError)
	config := fs.String("config", "hub.toml", "deployment config")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := jobs.Load(*config)
	if err != nil {
		return err
	}
	bad := checkSources(ctx, cfg, os.Stdout)
	if bad > 0 {
		return fmt.Errorf("%d source(s) not ready", bad)
	}
	return nil
}

// checkSources probes every source: reachable, credentials accepted, columns against the mapping.
func checkSources(ctx context.Context, cfg *jobs.Config, out io.Writer) int {
	bad := 0
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "source\tkind\tstatus\tdetail")
	for _, s := range cfg.Sources {
		status, detail := "ok", ""
		src, err := cfg.Open(&s, nil)
		if err == nil {
			if p, ok := src.(connectors.Prober); ok {
				err = p.Probe(ctx)
			}
		}
		var cols []string
		if err == nil {
			cols, err = src.Columns(ctx)
		}
		if c, ok := src.(io.Closer); ok && src != nil {
			c.Close()
		}
		if err != nil {
			status, detail = "FAIL", err.Error()
		} else {
			have := map[string]bool{}
			for _, c := range cols {
				have[c] = true
			}
			var missing, unmapped []string
			for _, c := range s.MappingRefs().Columns() {
				if !have[c] {
					missing = append(missing, c)
				}
			}
			for _, c := range cols {
				if _, ok := s.MappingRefs()[c]; !ok {
					unmapped = append(unmapped, c)
				}
			}
			sort.Strings(unmapped)
			detail = fmt.Sprintf("%d columns", len(cols))
			if len(missing) > 0 {
				status, detail = "FAIL", "mapped columns missing: "+strings.Join(missing, ", ")
			} else if len(unmapped) > 0 {
				detail += "; not mapped (kept raw): " + strings.Join(unmapped, ", ")
			}
		}
		if status != "ok" {
			bad++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.Kind, status, detail)
	}
	tw.Flush()
	return bad
}
