package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"communityhub/jobs"
	"communityhub/pipeline/report"
	"communityhub/pipeline/store"
)

func init() {
	commands["report"] = command{"report build|explain|kinds: fill the departments' report templates, explain a figure", runReport}
}

func runReport(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: hub report build|explain|kinds|push [flags]")
	}
	switch args[0] {
	case "build":
		return runReportBuild(ctx, args[1:])
	case "explain":
		return runReportExplain(ctx, args[1:])
	case "kinds":
		return runReportKinds(ctx, args[1:])
	case "push":
		return runReportPush(ctx, args[1:])
	}
	return fmt.Errorf("hub report %s: unknown (build, explain, kinds, push)", args[0])
}

// periodDB parses the flags, opens the config's database and reads the --period flag.
func periodDB(ctx context.Context, fs *flag.FlagSet, args []string, period *string) (*jobs.Config, *store.DB, report.Period, error) {
	cfg, db, err := configDB(ctx, fs, args)
	if err != nil {
		return nil, nil, report.Period{}, err
	}
	p, err := periodFlag(*period)
	if err != nil {
		db.Close()
		return nil, nil, report.Period{}, err
	}
	return cfg, db, p, nil
}

func periodFlag(s string) (report.Period, error) {
	if s == "" {
		return report.PeriodOf(time.Now()), nil
	}
	return report.ParsePeriod(s)
}

func runReportBuild(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report build", flag.ContinueOnError)
	kind := fs.String("kind", "", "kinds to build, comma-separated (default: all)")
	community := fs.String("community", "", "communities, comma-separated; * is the street roll-up (default: all and the roll-up)")
	period := fs.String("period", "", "YYYY-MM (default: last month)")
	role := fs.String("role", "", "ask for full ID numbers and phones as this role (only kinds that allow the role show them; recorded)")
	by := fs.String("by", "", "who asks (recorded with full-value outputs and builds)")
	purpose := fs.String("purpose", "", "why full values are needed (recorded)")
	cfg, db, p, err := periodDB(ctx, fs, args, period)
	if err != nil {
		return err
	}
	defer db.Close()
	o := jobs.BuildReportsOptions{Kinds: splitList(*kind), Communities: splitList(*community), Period: p, Role: *role, RequestedBy: *by, Purpose: *purpose}
	if os.Getenv("HUB_REPORT_TRACE") != "" {
		o.Trace = os.Stderr
	}
	return buildReports(ctx, cfg, db, o, os.Stdout)
}

func buildReports(ctx context.Context, cfg *jobs.Config, db *store.DB, o jobs.BuildReportsOptions, out io.Writer) error {
	res, err := jobs.BuildReports(ctx, cfg, db, o)
	if err != nil {
		return err
	}
	type agg struct{ n, rows, failed, changed, version int }
	by := map[string]*agg{}
	var codes []string
	for _, b := range res.Builds {
		a := by[b.Kind]
		if a == nil {
			a = &agg{}
			by[b.Kind] = a
			codes = append(codes, b.Kind)
		}
		a.n++
		a.rows += b.Rows
		a.failed += b.ChecksFailed
		a.changed += b.Changed
		a.version = max(a.version, b.Version)
	}
	sort.Strings(codes)
	fmt.Fprintf(out, "reports for %s: %d workbooks in %.1fs (%.0f/s) under %s\n", o.Period.Code, len(res.Builds), res.Seconds, float64(len(res.Builds))/max(res.Seconds, 1e-9), filepath.Join(cfg.ReportsOut(), o.Period.Code))
	fmt.Fprintf(out, "  %-5s %10s %8s %8s %8s %8s\n", "kind", "workbooks", "version", "rows", "changed", "checks✗")
	for _, c := range codes {
		a := by[c]
		fmt.Fprintf(out, "  %-5s %10d %8d %8d %8d %8d\n", c, a.n, a.version, a.rows, a.changed, a.failed)
	}
	shown := 0
	for _, c := range res.Checks {
		if !c.OK && shown < 10 {
			fmt.Fprintf(out, "  check failed: %s %s: %s — %s\n", c.Kind, c.Community, c.Rule, c.Detail)
			shown++
		}
	}
	return nil
}

// reorder puts flags before positional arguments (flag stops at the first positional one).
func reorder(args []string, takesValue map[string]bool) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func runReportExplain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report explain", flag.ContinueOnError)
	community := fs.String("community", report.Rollup, "community (* = the street roll-up)")
	period := fs.String("period", "", "YYYY-MM (default: last month)")
	version := fs.Int("version", 0, "build version (default: the latest)")
	cfg, db, err := configDB(ctx, fs, reorder(args, map[string]bool{"community": true, "period": true, "version": true, "config": true}))
	if err != nil {
		return err
	}
	defer db.Close()
	_ = cfg
	if fs.NArg() != 2 {
		return fmt.Errorf("usage: hub report explain KIND CELL [--community C] [--period YYYY-MM] [--version N]")
	}
	p, err := periodFlag(*period)
	if err != nil {
		return err
	}
	ex, err := report.Explain(ctx, db, report.ExplainQuery{Kind: strings.ToUpper(fs.Arg(0)), Cell: fs.Arg(1), Community: *community, Period: p.Code, Version: *version})
	if err != nil {
		return err
	}
	prev := ""
	if ex.Previous != nil {
		prev = fmt.Sprintf(" (version %d: %g)", ex.Version-1, *ex.Previous)
	}
	fmt.Printf("%s %s %s v%d — %s %s = %g%s; %d persons:\n", fs.Arg(0), *community, p.Code, ex.Version, ex.Cell, ex.Label, ex.Value, prev, len(ex.Persons))
	for _, x := range ex.Persons {
		fmt.Printf("  %s  %-8s %s  %s\n", x.ID, x.Name, x.IDNo, x.Address)
	}
	return nil
}

func runReportKinds(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report kinds", flag.ContinueOnError)
	config := fs.String("config", "", "deployment config (its [reports] kinds_dir adds kinds)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var kinds []*report.Kind
	var err error
	if *config == "" {
		kinds, err = report.Builtins()
	} else {
		var cfg *jobs.Config
		if cfg, err = jobs.Load(*config); err == nil {
			kinds, err = cfg.ReportKinds()
		}
	}
	if err != nil {
		return err
	}
	for _, k := range kinds {
		fmt.Printf("%-5s %-24s %-8s %d figures, %d matrices, %d bands, %d checks  (%s)\n", k.Code, k.Title, k.Department, len(k.Figures), len(k.Matrices), len(k.Bands), len(k.Checks), k.From)
	}
	return nil
}

func runReportPush(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report push", flag.ContinueOnError)
	kind := fs.String("kind", "", "kinds to push, comma-separated (default: all)")
	period := fs.String("period", "", "YYYY-MM (default: last month)")
	cfg, db, p, err := periodDB(ctx, fs, args, period)
	if err != nil {
		return err
	}
	defer db.Close()
	sum, err := jobs.PushReports(ctx, cfg, db, jobs.PushReportsOptions{Period: p.Code, Kinds: splitList(*kind), Getenv: os.Getenv})
	fmt.Printf("report push %s: %s\n", p.Code, sum)
	for _, f := range sum.Failed {
		fmt.Printf("  failed: %s %s → %s after %d attempts: %s\n", f.Kind, f.Community, f.Target, f.Attempts, f.Err)
	}
	return err
}
