package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"communityhub/internal/deptsim"
	"communityhub/internal/deptsim/apisim"
	"communityhub/internal/evaltruth"
	"communityhub/jobs"
	"communityhub/pipeline/report"
)

// districtFlags are the flags shared by demo and sim serve.
type districtFlags struct {
	out       string
	residents int
	seed      uint64
	quirks    string
	asOf      string
}

func (f *districtFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.out, "out", "demo-district", "folder to write the district into")
	fs.IntVar(&f.residents, "residents", 20000, "number of residents")
	fs.Uint64Var(&f.seed, "seed", 1, "random seed: the same seed writes the same district")
	fs.StringVar(&f.quirks, "quirks", "", "JSON file of quirk rates per system, over the defaults")
	fs.StringVar(&f.asOf, "as-of", deptsim.DefaultAsOf.Format("2006-01-02"), "date the district describes")
}

func (f *districtFlags) options() (deptsim.Options, error) {
	q, err := deptsim.LoadQuirks(f.quirks)
	if err != nil {
		return deptsim.Options{}, err
	}
	asOf, err := time.Parse("2006-01-02", f.asOf)
	if err != nil {
		return deptsim.Options{}, fmt.Errorf("--as-of: %w", err)
	}
	return deptsim.Options{Dir: f.out, Residents: f.residents, Seed: f.seed, Quirks: q, AsOf: asOf}, nil
}

func runDemo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var df districtFlags
	df.register(fs)
	noSync := fs.Bool("no-sync", false, "only write the district")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts, err := df.options()
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := deptsim.Write(ctx, opts)
	if err != nil {
		return err
	}
	printDistrict(res, time.Since(start))
	if *noSync {
		return nil
	}
	return syncDemo(ctx, opts.Dir, res.Manifest.Tokens)
}

// syncDemo serves the district's APIs in-process on loopback (with a little injected 429 and
// 5xx, as real ones have) and syncs the district's hub.toml.
func syncDemo(ctx context.Context, dir string, tokens map[string]string) error {
	stop, err := startDemoAPIs(ctx, dir, tokens)
	if err != nil {
		return err
	}
	defer stop()
	cfg, err := jobs.Load(filepath.Join(dir, deptsim.ConfigFile))
	if err != nil {
		return err
	}
	// A freshly written district starts a fresh database: an old one describes other people.
	for _, suffix := range []string{"", ".wal"} {
		if err := os.Remove(cfg.DatabasePath() + suffix); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	fmt.Printf("\nsyncing %s into %s\n", cfg.Path, cfg.DatabasePath())
	res, err := syncConfig(ctx, cfg, jobs.SyncOptions{}, true, os.Stdout)
	if err != nil {
		return err
	}
	if f := res.Failed(); len(f) > 0 {
		return fmt.Errorf("%d of %d sources failed", len(f), len(res.Stats))
	}
	if err := reconcileAfterSync(ctx, cfg); err != nil {
		return err
	}
	fmt.Printf("\nhub eval --truth %s (the simulator's truth; the hub never reads it):\n", dir)
	db, err := openDB(ctx, cfg.DatabasePath())
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := evaltruth.Evaluate(ctx, db.SQL(), dir)
	if err != nil {
		return err
	}
	printEval(os.Stdout, rep)
	// The reports of the month the district describes, filled for every community.
	m, err := deptsim.ReadManifest(dir)
	if err != nil {
		return err
	}
	asOf, err := time.Parse("2006-01-02", m.AsOf)
	if err != nil {
		return fmt.Errorf("the district's as-of date: %w", err)
	}
	fmt.Println()
	return buildReports(ctx, cfg, db, jobs.BuildReportsOptions{Period: report.PeriodOf(asOf.AddDate(0, 1, 0))}, os.Stdout)
}

func printDistrict(res *deptsim.Result, took time.Duration) {
	m := res.Manifest
	fmt.Printf("district %s: %d residents in %d communities, as of %s (seed %d)\n", m.Street, m.Residents, len(m.Communities), m.AsOf, m.Seed)
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tsystem\taccess\trows\twhere")
	for _, s := range m.Systems {
		where := s.Path
		if len(s.Tables) > 0 {
			where = strings.TrimSpace(where + " " + strings.Join(s.Tables, ","))
		}
		fmt.Fprintf(tw, "%d\t%s %s\t%s\t%d\t%s\n", s.No, s.Name, s.Title, s.Access, s.Rows, where)
	}
	tw.Flush()
	kinds := map[string]int{}
	for _, a := range res.Anomalies {
		kinds[a.Kind]++
	}
	fmt.Printf("planted anomalies: %v\nwritten in %.1fs; the truth is in truth/ (never read by the hub)\n", kinds, took.Seconds())
}

// startDemoAPIs serves the district's three APIs in-process on loopback and points the
// config's URL and token variables at them; stop closes them.
func startDemoAPIs(ctx context.Context, dir string, tokens map[string]string) (stop func(), err error) {
	servers, err := deptsim.ServeAPIs(ctx, dir, nil, apisim.Faults{Rate429: 0.02, Rate5xx: 0.01, Seed: 1})
	if err != nil {
		return nil, err
	}
	for name, s := range servers {
		urlVar, tokenVar := deptsim.APIEnv(name)
		os.Setenv(urlVar, s.URL())
		os.Setenv(tokenVar, tokens[name])
	}
	return func() {
		for _, s := range servers {
			s.Close()
		}
	}, nil
}

func runSim(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "serve" {
		return fmt.Errorf("usage: hub sim serve --pg DSN --mysql DSN [--floating ADDR --elderly ADDR --volunteers ADDR] [district flags]")
	}
	fs := flag.NewFlagSet("sim serve", flag.ContinueOnError)
	var df districtFlags
	df.register(fs)
	pg := fs.String("pg", os.Getenv("HUB_TEST_POSTGRES"), "PostgreSQL DSN for systems 1 and 7")
	my := fs.String("mysql", os.Getenv("HUB_TEST_MYSQL"), "MySQL/MariaDB DSN for systems 3 and 6")
	addrs := map[string]*string{}
	for i, name := range []string{"floating", "elderly", "volunteers"} {
		addrs[name] = fs.String(name, fmt.Sprintf("127.0.0.1:%d", 18081+i), "listen address of the "+name+" API")
	}
	r429 := fs.Float64("rate-429", 0.02, "share of API requests answered 429")
	r5xx := fs.Float64("rate-5xx", 0.01, "share of API requests answered 5xx")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *pg == "" || *my == "" {
		return fmt.Errorf("--pg and --mysql are required (or HUB_TEST_POSTGRES / HUB_TEST_MYSQL)")
	}
	opts, err := df.options()
	if err != nil {
		return err
	}
	opts.PostgresDSN, opts.MySQLDSN = *pg, *my
	start := time.Now()
	res, err := deptsim.Write(ctx, opts)
	if err != nil {
		return err
	}
	printDistrict(res, time.Since(start))
	listen := map[string]string{}
	for k, v := range addrs {
		listen[k] = *v
	}
	servers, err := deptsim.ServeAPIs(ctx, opts.Dir, listen, apisim.Faults{Rate429: *r429, Rate5xx: *r5xx, RetryAfter: time.Second, Seed: opts.Seed})
	if err != nil {
		return err
	}
	fmt.Printf("\nserving the APIs until interrupted; to sync this district from another shell:\n")
	fmt.Printf("export %s='%s'\nexport %s='%s'\n", deptsim.EnvPostgresDSN, *pg, deptsim.EnvMySQLDSN, *my)
	for name, s := range servers {
		urlVar, tokenVar := deptsim.APIEnv(name)
		fmt.Printf("export %s='%s' %s='%s'\n", urlVar, s.URL(), tokenVar, res.Manifest.Tokens[name])
	}
	fmt.Printf("hub sync --config %s\n", filepath.Join(opts.Dir, deptsim.ConfigFile))
	<-ctx.Done()
	for _, s := range servers {
		s.Close()
	}
	return nil
}
