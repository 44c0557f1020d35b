package jobs

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"communityhub/pipeline/report"
	"communityhub/pipeline/report/deliver"
	"communityhub/pipeline/store"
)

// ReportsConfig is a deployment's [reports] table.
type ReportsConfig struct {
	// KindsDir is a folder of report kind folders (kind.toml + template.xlsx) that add kinds to
	// the built-in R01–R12 or override them by code; relative to the config's folder.
	KindsDir string `toml:"kinds_dir"`
	// Out is where filled workbooks go (default "reports" beside the config).
	Out string `toml:"out"`
	// Street is the roll-up's 填报单位 (default "全街道").
	Street string `toml:"street"`
}

func (c *Config) rel(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// ReportKinds loads the built-in kinds and the deployment's own.
func (c *Config) ReportKinds() ([]*report.Kind, error) {
	return report.Load(c.rel(c.Reports.KindsDir))
}

// ReportsOut is the folder filled workbooks are written to.
func (c *Config) ReportsOut() string {
	if c.Reports.Out == "" {
		return filepath.Join(c.Dir, "reports")
	}
	return c.rel(c.Reports.Out)
}

// BuildReportsOptions say which reports to build.
type BuildReportsOptions struct {
	Kinds       []string // codes; nil = every kind
	Communities []string // nil = every placed community (and the roll-up)
	Period      report.Period
	// Role, RequestedBy, Purpose: see report.Options (full ID numbers and phones).
	Role, RequestedBy, Purpose string
	// Trace receives each kind's timings (report.Options.Trace).
	Trace io.Writer
}

// BuildReports fills the chosen kinds from the database and records the builds.
func BuildReports(ctx context.Context, cfg *Config, db *store.DB, o BuildReportsOptions) (*report.Result, error) {
	all, err := cfg.ReportKinds()
	if err != nil {
		return nil, err
	}
	kinds, err := pickKinds(all, o.Kinds)
	if err != nil {
		return nil, err
	}
	noRollup := false
	var comms []string
	if o.Communities != nil {
		noRollup = true
		for _, c := range o.Communities {
			if c == report.Rollup {
				noRollup = false
			} else {
				comms = append(comms, c)
			}
		}
		if comms == nil {
			comms = []string{}
		}
	}
	return report.Build(ctx, db, kinds, report.Options{
		Period: o.Period, Communities: comms, NoRollup: noRollup, OutDir: cfg.ReportsOut(), StreetName: cfg.Reports.Street,
		Role: o.Role, RequestedBy: o.RequestedBy, Purpose: o.Purpose, Trace: o.Trace,
	})
}

func pickKinds(all []*report.Kind, codes []string) ([]*report.Kind, error) {
	if len(codes) == 0 {
		return all, nil
	}
	byCode := map[string]*report.Kind{}
	var known []string
	for _, k := range all {
		byCode[k.Code] = k
		known = append(known, k.Code)
	}
	var out []*report.Kind
	for _, c := range codes {
		k, ok := byCode[strings.ToUpper(strings.TrimSpace(c))]
		if !ok {
			return nil, fmt.Errorf("report kind %q is unknown (kinds: %s)", c, strings.Join(known, ", "))
		}
		out = append(out, k)
	}
	return out, nil
}

// PushReportsOptions say which stored builds to push.
type PushReportsOptions struct {
	Period string   // YYYY-MM
	Kinds  []string // nil: every kind
	Getenv func(string) string
	// Deliver tunes retries (deliver.Options); zero: its defaults.
	Deliver deliver.Options
}

// PushReports sends the latest build of each kind and community of the period to every
// [[delivery]] target that serves the kind's department. What the ledger has as sent is not sent
// again (deliver.Push).
func PushReports(ctx context.Context, cfg *Config, db *store.DB, o PushReportsOptions) (deliver.Summary, error) {
	var sum deliver.Summary
	kinds, err := cfg.ReportKinds()
	if err != nil {
		return sum, err
	}
	picked, err := pickKinds(kinds, o.Kinds)
	if err != nil {
		return sum, err
	}
	dept := map[string]string{}
	for _, k := range picked {
		dept[k.Code] = k.Department
	}
	targets, err := cfg.DeliveryTargets(o.Getenv)
	if err != nil {
		return sum, err
	}
	defer func() {
		for _, t := range targets {
			t.Close()
		}
	}()
	if len(targets) == 0 {
		return sum, fmt.Errorf("no [[delivery]] target in %s", cfg.Path)
	}
	rows, err := db.SQL().QueryContext(ctx, `SELECT arg_max(build_id, version), kind, community, arg_max(file, version) FROM report.builds
		WHERE period = ? GROUP BY kind, community ORDER BY kind, community`, o.Period)
	if err != nil {
		return sum, fmt.Errorf("report.builds: %w", err)
	}
	var pkgs []deliver.Package
	for rows.Next() {
		var p deliver.Package
		var file string
		if err := rows.Scan(&p.BuildID, &p.Kind, &p.Community, &file); err != nil {
			rows.Close()
			return sum, err
		}
		d, ok := dept[p.Kind]
		if !ok {
			continue
		}
		p.Period, p.Department, p.FileName = o.Period, d, filepath.Base(file)
		if p.Body, err = os.ReadFile(file); err != nil {
			rows.Close()
			return sum, fmt.Errorf("build %d (%s %s): %w", p.BuildID, p.Kind, p.Community, err)
		}
		pkgs = append(pkgs, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sum, err
	}
	if len(pkgs) == 0 {
		return sum, fmt.Errorf("no report built for %s (run hub report build --period %s)", o.Period, o.Period)
	}
	for _, t := range targets {
		var mine []deliver.Package
		for _, p := range pkgs {
			if t.Accepts(p) {
				mine = append(mine, p)
			}
		}
		if len(mine) == 0 {
			continue
		}
		s, err := deliver.Push(ctx, db, mine, []deliver.Target{t}, o.Deliver)
		sum.Sent = append(sum.Sent, s.Sent...)
		sum.AlreadySent = append(sum.AlreadySent, s.AlreadySent...)
		sum.Failed = append(sum.Failed, s.Failed...)
		if err != nil {
			return sum, err
		}
	}
	return sum, nil
}
