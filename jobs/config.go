// Package jobs runs the hub's work: it reads a deployment's config (the sources, their
// schedules, mappings and error thresholds), and drives syncs — each source read by its
// connector and landed by pipeline/land — now or on a cron schedule. It holds no pipeline logic.
package jobs

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/robfig/cron/v3"

	"communityhub/connectors"
	_ "communityhub/connectors/all" // every source kind
	"communityhub/pipeline/golden"
	"communityhub/pipeline/land"
	"communityhub/schema"
)

// Config is one deployment: its database and its sources.
type Config struct {
	Path string `toml:"-"` // the file it was read from
	Dir  string `toml:"-"` // relative paths are relative to this folder

	// Database is the DuckDB file, relative to Dir.
	Database string `toml:"database"`
	// Workers is how many sources sync at once (default 2).
	Workers int `toml:"workers"`
	// KeyCheckEvery: every Nth sync also asks incremental sources for all their keys and marks
	// rows deleted at the source (default 7).
	KeyCheckEvery int `toml:"key_check_every"`
	// Errors are the default thresholds of every source.
	Errors Limits `toml:"errors"`
	// MaxDeleteRatio is the default share of a source's current rows one run may end
	// (default 0.10); a run that would end more fails until `hub sync --accept-deletes NAME`.
	MaxDeleteRatio *float64 `toml:"max_delete_ratio"`
	// ReadLimits are the default read limits of every source ([limits]; see connectors.Limits).
	ReadLimits connectors.Limits `toml:"limits"`
	// Schedule is the default cron schedule (5 fields) of every source.
	Schedule string         `toml:"schedule"`
	Sources  []SourceConfig `toml:"source"`
	// Survivorship is a survivorship rules file (pipeline/golden's survivorship.toml format),
	// relative to Dir; "" = the built-in rules. It is loaded and checked with the config.
	Survivorship string `toml:"survivorship"`
	// Reports says where report kinds and filled workbooks are ([reports]; see jobs/reports.go).
	Reports ReportsConfig `toml:"reports"`
	// Register is the street office's reference data that places each golden person in a
	// community ([register]); loaded and checked with the config.
	Register RegisterConfig `toml:"register"`
	// Deliveries say where filled reports are pushed ([[delivery]]; see jobs/delivery.go).
	Deliveries []DeliveryConfig `toml:"delivery"`

	survivorship *golden.Rules
	register     *golden.Register
}

// RegisterConfig is the [register] table: the community register (社区辖区表) and the grid
// register (网格划分表), each a .xlsx or .csv file relative to Dir (pipeline/golden LoadRegister).
// Without either, golden persons stay unplaced ("no community register configured").
type RegisterConfig struct {
	Communities string `toml:"communities"`
	Grids       string `toml:"grids"`
}

// Limits are error thresholds as written in the config; see land.Limits.
type Limits struct {
	MaxCount *int     `toml:"max_count"`
	MaxRatio *float64 `toml:"max_ratio"`
	MinRows  *int     `toml:"min_rows"`
}

// SourceConfig is one [[source]] block.
type SourceConfig struct {
	Name string `toml:"name"`
	Kind string `toml:"kind"`
	// Role says what kind of system this is (schema.SourceRoles: hukou, floating, grid, …);
	// survivorship and the other per-system rules key on it, never on the name. A source
	// without a role is an authority for nothing and ranks last.
	Role     string            `toml:"role"`
	Schedule string            `toml:"schedule"`
	Disabled bool              `toml:"disabled"`
	Key      []string          `toml:"key"`
	Required []string          `toml:"required"` // source columns that must hold a parseable value (typed by the mapping)
	Options  map[string]any    `toml:"options"`
	Mapping  map[string]string `toml:"mapping"`
	Errors   Limits            `toml:"errors"`
	// MaxDeleteRatio overrides the config's max_delete_ratio for this source.
	MaxDeleteRatio *float64 `toml:"max_delete_ratio"`
	// CursorType is how the cursor column's values compare: timestamp, number or token
	// (default: inferred from the values).
	CursorType string `toml:"cursor_type"`
	// CursorFuture is how far ahead of now a cursor value may lie before its row is quarantined
	// (a Go duration, default "24h").
	CursorFuture string `toml:"cursor_future"`
	// ReadLimits override the config's [limits] for this source ([source.limits]).
	ReadLimits connectors.Limits `toml:"limits"`

	mapping        schema.Mapping
	limits         land.Limits
	readLimits     connectors.Limits
	maxDeleteRatio float64
	cursorFuture   time.Duration
}

var nameRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Load reads and validates a config file. Every error names the file, the source and the field.
func Load(path string) (*Config, error) {
	var c Config
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		var keys []string
		for _, k := range und {
			if len(k) >= 2 && k[0] == "source" && k[1] == "options" {
				continue // a kind's own options: its factory checks them
			}
			if len(k) >= 2 && k[0] == "source" && secretName(k[len(k)-1]) {
				return nil, fmt.Errorf("%s: %s: secrets never sit in the config file; put the value in an environment variable and name it with %s_env", path, k, k[len(k)-1])
			}
			keys = append(keys, k.String())
		}
		if len(keys) > 0 {
			return nil, fmt.Errorf("%s: unknown setting(s) %s", path, strings.Join(keys, ", "))
		}
	}
	abs, _ := filepath.Abs(path)
	c.Path, c.Dir = abs, filepath.Dir(abs)
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

func (c *Config) validate() error {
	if c.Database == "" {
		return fmt.Errorf("database: required (the DuckDB file)")
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.KeyCheckEvery <= 0 {
		c.KeyCheckEvery = 7
	}
	if c.Schedule == "" {
		c.Schedule = "0 2 * * *"
	}
	if c.Survivorship != "" {
		path := c.Survivorship
		if !filepath.IsAbs(path) {
			path = filepath.Join(c.Dir, path)
		}
		r, err := golden.LoadRules(path)
		if err != nil {
			return fmt.Errorf("survivorship: %w", err)
		}
		c.survivorship = r
	}
	if c.Register.Communities != "" || c.Register.Grids != "" {
		reg, err := golden.LoadRegister(c.rel(c.Register.Communities), c.rel(c.Register.Grids))
		if err != nil {
			return fmt.Errorf("register: %w", err)
		}
		c.register = reg
	}
	if err := c.validateDeliveries(); err != nil {
		return err
	}
	def := land.Limits{MaxCount: 0, MaxRatio: 0.05, MinRows: 100}
	apply(&def, c.Errors)
	if len(c.Sources) == 0 {
		return fmt.Errorf("no [[source]] blocks")
	}
	seen := map[string]bool{}
	for i := range c.Sources {
		s := &c.Sources[i]
		where := fmt.Sprintf("source %q", s.Name)
		if s.Name == "" {
			where = fmt.Sprintf("source #%d", i+1)
		}
		if !nameRe.MatchString(s.Name) {
			return fmt.Errorf("%s: name must be lower-case letters, digits and _", where)
		}
		if seen[s.Name] {
			return fmt.Errorf("%s: name used twice", where)
		}
		seen[s.Name] = true
		if s.Role != "" && !contains(schema.SourceRoleNames(), s.Role) {
			return fmt.Errorf("%s: role %q unknown (known: %s)", where, s.Role, strings.Join(schema.SourceRoleNames(), ", "))
		}
		if !contains(connectors.Kinds(), s.Kind) {
			return fmt.Errorf("%s: kind %q unknown (known: %s)", where, s.Kind, strings.Join(connectors.Kinds(), ", "))
		}
		if s.Schedule == "" {
			s.Schedule = c.Schedule
		}
		if _, err := cron.ParseStandard(s.Schedule); err != nil {
			return fmt.Errorf("%s: schedule %q: %w", where, s.Schedule, err)
		}
		m, err := schema.ParseMapping(s.Mapping)
		if err != nil {
			return fmt.Errorf("%s: mapping: %w", where, err)
		}
		s.mapping = m
		for _, r := range s.Required {
			if _, ok := m[r]; !ok {
				return fmt.Errorf("%s: required column %q is not in the mapping (its type comes from the mapping)", where, r)
			}
		}
		if err := checkInlineSecrets(s.Options); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		s.limits = def
		apply(&s.limits, s.Errors)
		s.readLimits = s.ReadLimits.Or(c.ReadLimits).WithDefaults()
		s.maxDeleteRatio = land.DefaultMaxDeleteRatio
		if c.MaxDeleteRatio != nil {
			s.maxDeleteRatio = *c.MaxDeleteRatio
		}
		if s.MaxDeleteRatio != nil {
			s.maxDeleteRatio = *s.MaxDeleteRatio
		}
		if s.maxDeleteRatio <= 0 || s.maxDeleteRatio > 1 {
			return fmt.Errorf("%s: max_delete_ratio must be in (0, 1] (1 allows any share)", where)
		}
		if s.CursorType != "" && !contains(land.CursorTypes, s.CursorType) {
			return fmt.Errorf("%s: cursor_type %q unknown (known: %s)", where, s.CursorType, strings.Join(land.CursorTypes, ", "))
		}
		if s.CursorFuture != "" {
			d, err := time.ParseDuration(s.CursorFuture)
			if err != nil {
				return fmt.Errorf("%s: cursor_future %q: %w", where, s.CursorFuture, err)
			}
			s.cursorFuture = d
		}
		if s.limits.MaxRatio < 0 || s.limits.MaxRatio > 1 || s.limits.MaxCount < 0 || s.limits.MinRows < 0 {
			return fmt.Errorf("%s: errors: max_ratio must be in [0,1], max_count and min_rows not negative", where)
		}
	}
	return nil
}

// secretName reports whether a setting's name says it holds a secret itself (token, dsn,
// password, api_key …) rather than the name of the environment variable holding it (token_env).
func secretName(name string) bool {
	return !strings.HasSuffix(name, "_env") && secretOptionRe.MatchString(name)
}

var secretOptionRe = regexp.MustCompile(`(?i)^(dsn|token|access_token|password|passwd|pwd|secret|api_key|apikey|key|credentials?|.*_(token|password|secret|key|dsn))$`)

// checkInlineSecrets refuses secrets written into a source's options: a secret option (token =,
// dsn =, password =) and a URL with credentials in it, with the *_env hint.
func checkInlineSecrets(opts map[string]any) error {
	for k, v := range opts {
		if secretName(k) {
			return fmt.Errorf("options: %s: secrets never sit in the config file; put the value in an environment variable and name it with %s_env", k, k)
		}
		str, ok := v.(string)
		if !ok {
			continue
		}
		if u, err := url.Parse(str); err == nil && u.Scheme != "" && u.Host != "" {
			if _, has := u.User.Password(); has {
				return fmt.Errorf("options: %s: the URL holds a password; put it in an environment variable and name it with %s_env", k, k)
			}
			for p := range u.Query() {
				if connectors.SecretParam(p) {
					return fmt.Errorf("options: %s: query parameter %s looks like a credential; put the URL in an environment variable and name it with url_env", k, p)
				}
			}
		}
	}
	return nil
}

func apply(l *land.Limits, o Limits) {
	if o.MaxCount != nil {
		l.MaxCount = *o.MaxCount
	}
	if o.MaxRatio != nil {
		l.MaxRatio = *o.MaxRatio
	}
	if o.MinRows != nil {
		l.MinRows = *o.MinRows
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// survivorshipRules are the rules a reconcile chooses golden fields by: override when given,
// else the config's survivorship file, else the built-in rules.
func (c *Config) survivorshipRules(override *golden.Rules) (*golden.Rules, error) {
	switch {
	case override != nil:
		return override, nil
	case c.survivorship != nil:
		return c.survivorship, nil
	}
	return golden.DefaultRules()
}

// DatabasePath is the DuckDB file's path.
func (c *Config) DatabasePath() string {
	if filepath.IsAbs(c.Database) {
		return c.Database
	}
	return filepath.Join(c.Dir, c.Database)
}

// Source finds a source by name.
func (c *Config) Source(name string) (*SourceConfig, bool) {
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i], true
		}
	}
	return nil, false
}

// Open makes the source's connector. getenv supplies secrets (os.Getenv when nil).
func (c *Config) Open(s *SourceConfig, getenv func(string) string) (connectors.Source, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	return connectors.Open(connectors.Config{Name: s.Name, Kind: s.Kind, BaseDir: c.Dir, Key: s.Key, Options: s.Options, Getenv: getenv, Limits: s.readLimits})
}

// SpecOptions are the per-run parts of a landing spec.
type SpecOptions struct {
	KeyCheck      bool                // ask an incremental source for all its keys
	AcceptDeletes bool                // lift the deletion guard for this run
	Redact        func(string) string // remove secrets from messages
}

// Spec is what the landing needs for the source.
func (s *SourceConfig) Spec(o SpecOptions) land.Spec {
	req := map[string]schema.Type{}
	for _, r := range s.Required {
		req[r] = s.mapping[r].Field.Type
	}
	return land.Spec{Source: s.Name, Kind: s.Kind, Key: s.Key, Required: req, Mapped: s.mapping.Columns(), Limits: s.limits,
		ReadLimits: s.readLimits, KeyCheck: o.KeyCheck, MaxDeleteRatio: s.maxDeleteRatio, AcceptDeletes: o.AcceptDeletes,
		CursorType: s.CursorType, CursorFuture: s.cursorFuture, Redact: o.Redact}
}

// Warnings are what a deployment should know before it syncs, found by making every enabled
// source's connector (without contacting it): today, incremental sources without key columns,
// whose deletions at the source cannot be detected. getenv supplies secrets (os.Getenv when nil).
func (c *Config) Warnings(getenv func(string) string) []string {
	var out []string
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.Disabled {
			continue
		}
		src, err := c.Open(s, getenv)
		if err != nil {
			continue // sources check and sync report it
		}
		if inc, ok := src.(connectors.Incremental); ok && inc.Incremental() && len(s.Key) == 0 {
			out = append(out, fmt.Sprintf("source %s: incremental without key columns: rows deleted at the source cannot be detected; "+
				"set key = [\"…\"] (the columns that identify a row) to have them found every %d-th sync", s.Name, c.KeyCheckEvery))
		}
		if cl, ok := src.(io.Closer); ok {
			cl.Close()
		}
	}
	return out
}

// MappingRefs is the source's parsed mapping.
func (s *SourceConfig) MappingRefs() schema.Mapping { return s.mapping }

// Names lists the enabled sources, in config order, optionally only those named.
func (c *Config) Names(only []string) ([]string, error) {
	var out []string
	for _, s := range c.Sources {
		if s.Disabled && len(only) == 0 {
			continue
		}
		if len(only) == 0 || contains(only, s.Name) {
			out = append(out, s.Name)
		}
	}
	for _, o := range only {
		if _, ok := c.Source(o); !ok {
			var names []string
			for _, s := range c.Sources {
				names = append(names, s.Name)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("no source %q (sources: %s)", o, strings.Join(names, ", "))
		}
	}
	return out, nil
}
