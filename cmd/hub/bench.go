//go:build duckdb_arrow

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"text/tabwriter"
	"time"

	"communityhub/internal/deptsim"
	"communityhub/internal/ingestbench"
	"communityhub/jobs"
)

func init() {
	commands["bench"] = command{"bench ingest | reconcile | report: ingestion speed; resolution of a large district; its reports", runBench}
}

func runBench(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "reconcile" {
		return benchReconcile(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "report" {
		return benchReport(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "ingest" {
		return fmt.Errorf("usage: hub bench ingest [--rows N] [--dir DIR] [--pg DSN] [--mysql DSN] | hub bench reconcile [--residents N] | hub bench report [--residents N] [--dir DIR]")
	}
	fs := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	rows := fs.Int("rows", 2000000, "rows in the generated CSV")
	dir := fs.String("dir", "", "work folder (default: a temporary one, removed after)")
	pg := fs.String("pg", os.Getenv("HUB_TEST_POSTGRES"), "PostgreSQL DSN (empty: skip)")
	my := fs.String("mysql", os.Getenv("HUB_TEST_MYSQL"), "MySQL/MariaDB DSN (empty: skip)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "hub-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	csvPath := filepath.Join(*dir, "register.csv")
	t0 := time.Now()
	if err := ingestbench.GenerateCSV(csvPath, *rows); err != nil {
		return err
	}
	st, _ := os.Stat(csvPath)
	fmt.Printf("generated %s: %d rows, %.0f MB in %.1fs\n", csvPath, *rows, float64(st.Size())/1e6, time.Since(t0).Seconds())
	var results []ingestbench.Result
	r, err := ingestbench.DuckDBReadCSV(ctx, filepath.Join(*dir, "duckdb_only.duckdb"), csvPath)
	if err != nil {
		return err
	}
	results = append(results, r)
	os.Remove(filepath.Join(*dir, "hub.duckdb")) // a first landing, every time
	db, err := openDB(ctx, filepath.Join(*dir, "hub.duckdb"))
	if err != nil {
		return err
	}
	defer db.Close()
	src, err := ingestbench.CSVSource(csvPath)
	if err != nil {
		return err
	}
	if r, err = ingestbench.Land(ctx, db, "bench_csv", src); err != nil {
		return err
	}
	results = append(results, r)
	if *pg != "" {
		fmt.Println("loading PostgreSQL (COPY) …")
		if err := ingestbench.LoadPostgres(ctx, *pg, csvPath); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		s, err := ingestbench.SQLSource("postgres", *pg)
		if err != nil {
			return err
		}
		if r, err = ingestbench.Land(ctx, db, "bench_postgres", s); err != nil {
			return err
		}
		results = append(results, r)
	}
	if *my != "" {
		fmt.Println("loading MariaDB (LOAD DATA) …")
		if err := ingestbench.LoadMySQL(ctx, *my, csvPath); err != nil {
			return fmt.Errorf("mysql: %w", err)
		}
		s, err := ingestbench.SQLSource("mysql", *my)
		if err != nil {
			return err
		}
		if r, err = ingestbench.Land(ctx, db, "bench_mysql", s); err != nil {
			return err
		}
		results = append(results, r)
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "path\trows\tseconds\trows/s\tvs read_csv\t")
	base := results[0].RowsPerSec()
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.2f×\t\n", r.Name, r.Rows, r.Seconds, r.RowsPerSec(), r.RowsPerSec()/base)
	}
	return tw.Flush()
}

// benchReconcile writes and syncs a district (about four source records a resident), then
// times a full reconcile — raw rows to golden records — and reports pairs scored per second and
// the process's peak memory.
func benchReconcile(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench reconcile", flag.ContinueOnError)
	residents := fs.Int("residents", 250000, "residents (≈ 1 000 000 source records at 250 000)")
	dir := fs.String("dir", "", "work folder (default: a temporary one, removed after)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cleanup, err := workDir(dir, "hub-bench-reconcile-")
	if err != nil {
		return err
	}
	defer cleanup()
	t0 := time.Now()
	res, err := deptsim.Write(ctx, deptsim.Options{Dir: *dir, Residents: *residents, Seed: 1})
	if err != nil {
		return err
	}
	stop, err := startDemoAPIs(ctx, *dir, res.Manifest.Tokens)
	if err != nil {
		return err
	}
	defer stop()
	cfg, err := jobs.Load(filepath.Join(*dir, deptsim.ConfigFile))
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg.DatabasePath())
	if err != nil {
		return err
	}
	defer db.Close()
	sr, err := jobs.Sync(ctx, cfg, db, jobs.SyncOptions{})
	if err != nil {
		return err
	}
	if f := sr.Failed(); len(f) > 0 {
		return fmt.Errorf("sync: %v", f[0].Err)
	}
	fmt.Printf("district of %d residents written and synced in %.1fs\n", *residents, time.Since(t0).Seconds())
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(3584 << 20))
	r, err := jobs.Reconcile(ctx, cfg, db, jobs.ReconcileOptions{Full: true})
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	s := r.Stats
	fmt.Printf("reconcile end to end: %d records → %d persons in %.1fs (%.0f records/s); %d candidate pairs scored at %.0f pairs/s; peak RSS of the process %.2f GiB\n",
		s.Records, r.Persons, r.Seconds, float64(s.Records)/r.Seconds, s.Pairs, s.PairsPerSec, float64(ru.Maxrss)/(1<<20))
	return nil
}

// benchReport builds every report kind for every community of a large district and the
// street roll-up. With --dir naming a folder that already holds a reconciled district (from an
// earlier bench report or bench reconcile --dir), the district is reused.
func benchReport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench report", flag.ContinueOnError)
	residents := fs.Int("residents", 250000, "residents (100 communities at 250 000)")
	dir := fs.String("dir", "", "work folder (default: a temporary one, removed after); reused when it holds a reconciled district")
	period := fs.String("period", "2026-10", "report period")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cleanup, err := workDir(dir, "hub-bench-report-")
	if err != nil {
		return err
	}
	defer cleanup()
	cfgPath := filepath.Join(*dir, deptsim.ConfigFile)
	if _, err := os.Stat(cfgPath); err != nil {
		t0 := time.Now()
		res, err := deptsim.Write(ctx, deptsim.Options{Dir: *dir, Residents: *residents, Seed: 1})
		if err != nil {
			return err
		}
		if err := syncDemo(ctx, *dir, res.Manifest.Tokens); err != nil {
			return err
		}
		fmt.Printf("district of %d residents written, synced and reconciled in %.1fs\n", *residents, time.Since(t0).Seconds())
	}
	cfg, err := jobs.Load(cfgPath)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg.DatabasePath())
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := periodFlag(*period)
	if err != nil {
		return err
	}
	if err := buildReports(ctx, cfg, db, jobs.BuildReportsOptions{Period: p}, os.Stdout); err != nil {
		return err
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("peak RSS of the process %.2f GiB\n", float64(ru.Maxrss)/(1<<20))
	return nil
}

// workDir makes *dir a temporary folder when it is empty; cleanup removes it (and nothing a
// caller named).
func workDir(dir *string, prefix string) (cleanup func(), err error) {
	if *dir != "" {
		return func() {}, nil
	}
	d, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	*dir = d
	return func() { os.RemoveAll(d) }, nil
}
