package jobs

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"communityhub/connectors"
	"communityhub/pipeline/land"
)

// SourceCheck is what `hub sources check` found for one source.
type SourceCheck struct {
	Source, Kind string
	Columns      []string
	Unmapped     []string          // source columns no mapping uses (kept raw)
	Renamed      map[string]string // source column → the raw table's column, where they differ
	Err          error             // nil when the source is ready; secrets redacted
}

// CheckSources probes every source the way a sync reads it: the connector is made and probed
// (reachable, credentials accepted), its columns are read and checked as the landing checks
// them (key, mapped, required and cursor columns; landed names), so that a check fails wherever
// a sync would fail before reading. getenv supplies secrets (os.Getenv when nil).
func CheckSources(ctx context.Context, cfg *Config, getenv func(string) string) []SourceCheck {
	if getenv == nil {
		getenv = os.Getenv
	}
	var out []SourceCheck
	for i := range cfg.Sources {
		s := &cfg.Sources[i]
		sec := &secrets{getenv: getenv}
		c := SourceCheck{Source: s.Name, Kind: s.Kind}
		c.Err = checkSource(ctx, cfg, s, sec, &c)
		if c.Err != nil {
			c.Err = fmt.Errorf("%s", sec.redact(c.Err.Error()))
		}
		out = append(out, c)
	}
	return out
}

func checkSource(ctx context.Context, cfg *Config, s *SourceConfig, sec *secrets, c *SourceCheck) error {
	src, err := cfg.Open(s, sec.get)
	if err != nil {
		return err
	}
	if cl, ok := src.(io.Closer); ok {
		defer cl.Close()
	}
	if p, ok := src.(connectors.Prober); ok {
		if err := p.Probe(ctx); err != nil {
			return err
		}
	}
	cols, err := src.Columns(ctx)
	if err != nil {
		return err
	}
	c.Columns = cols
	names, err := land.CheckColumns(s.Spec(SpecOptions{Redact: sec.redact}), src, cols)
	if err != nil {
		return err
	}
	for i, col := range cols {
		if names[i] != col {
			if c.Renamed == nil {
				c.Renamed = map[string]string{}
			}
			c.Renamed[col] = names[i]
		}
		if _, ok := s.MappingRefs()[col]; !ok {
			c.Unmapped = append(c.Unmapped, col)
		}
	}
	sort.Strings(c.Unmapped)
	return nil
}

// Detail is a one-line summary of a check, for printing.
func (c SourceCheck) Detail() string {
	if c.Err != nil {
		return c.Err.Error()
	}
	d := fmt.Sprintf("%d columns", len(c.Columns))
	if len(c.Renamed) > 0 {
		var r []string
		for from, to := range c.Renamed {
			r = append(r, fmt.Sprintf("%q → %q", from, to))
		}
		sort.Strings(r)
		d += "; landed as " + strings.Join(r, ", ")
	}
	if len(c.Unmapped) > 0 {
		d += "; not mapped (kept raw): " + strings.Join(c.Unmapped, ", ")
	}
	return d
}
