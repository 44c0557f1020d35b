package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"communityhub/jobs"
	"communityhub/pipeline/land"
)

func runSync(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	config := fs.String("config", "hub.toml", "deployment config")
	only := fs.String("only", "", "comma-separated source names (default: all enabled)")
	quiet := fs.Bool("quiet", false, "no live progress")
	noReconcile := fs.Bool("no-reconcile", false, "land only; do not resolve persons afterwards")
	accept := fs.String("accept-deletes", "", "comma-separated sources whose deletion guard is lifted for this sync (their missing rows really are gone)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := jobs.Load(*config)
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings(nil) {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	res, err := syncConfig(ctx, cfg, jobs.SyncOptions{Only: splitList(*only), AcceptDeletes: splitList(*accept)}, !*quiet, os.Stdout)
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
	db, err := openDB(ctx, cfg.DatabasePath())
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
func syncConfig(ctx context.Context, cfg *jobs.Config, opts jobs.SyncOptions, live bool, out io.Writer) (jobs.Result, error) {
	db, err := openDB(ctx, cfg.DatabasePath())
	if err != nil {
		return jobs.Result{}, err
	}
	defer db.Close()
	var mu sync.Mutex
	last := map[string]time.Time{}
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
	fmt.Fprintln(tw, "source\tread\tlanded\tunchanged\tquarantined\tskipped\tdeleted\theld\tcurrent\tMB\tseconds\trows/s\tcursor\t")
	var total land.Stats
	for _, s := range res.Stats {
		cur := s.CursorAfter
		if s.CursorBefore != s.CursorAfter {
			cur = s.CursorBefore + " → " + s.CursorAfter
		}
		if s.Err != nil {
			cur = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.2f\t%.0f\t%s\t\n", s.Source, s.Read, s.Landed, s.Unchanged, s.Quarantined, s.Skipped,
			s.Deleted, s.Held, s.Current, float64(s.Bytes)/1e6, s.Seconds, s.RowsPerSec(), cur)
		total.Read += s.Read
		total.Landed += s.Landed
		total.Quarantined += s.Quarantined
		total.Current += s.Current
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t\t%d\t\t\t\t%d\t\t\t\t\t\n", total.Read, total.Landed, total.Quarantined, total.Current)
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

// checkSources prints jobs.CheckSources and returns how many sources are not ready.
func checkSources(ctx context.Context, cfg *jobs.Config, out io.Writer) int {
	bad := 0
	for _, w := range cfg.Warnings(nil) {
		fmt.Fprintln(out, "warning:", w)
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "source\tkind\tstatus\tdetail")
	for _, c := range jobs.CheckSources(ctx, cfg, nil) {
		status := "ok"
		if c.Err != nil {
			status = "FAIL"
			bad++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Source, c.Kind, status, c.Detail())
	}
	tw.Flush()
	return bad
}
