package jobs

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"communityhub/connectors"
	"communityhub/pipeline/report/deliver"
)

// DeliveryConfig is one [[delivery]] block: which filled reports are pushed to a department and
// how (pipeline/report/deliver). Secrets are named by *_env options, never written inline.
//
//	[[delivery]]
//	department = "残联"          # the kinds' department (kind.toml's department)
//	kinds = ["R05"]             # report codes; empty or absent: every kind of the department
//	target = "outbox"           # outbox | http | table
//	name = "残联-outbox"         # the delivery's identity in the ledger (default "残联:outbox"); never rename it
//	disabled = false
//	[delivery.options]
//	dir = "outbox"              # outbox: the folder, relative to the config's
//	url = "https://…"           # http: the endpoint (or url_env, when the URL holds a key)
//	token_env = "CL_TOKEN"      # http: sends Authorization: Bearer <the variable's value>
//	header_env = "CL_HEADER"    # http: a whole header from the environment, "X-Api-Key: …"
//	timeout = "60s"             # http: per request
//	driver = "postgres"         # table: postgres | mysql (MariaDB too)
//	dsn_env = "CL_DSN"          # table: the DSN's environment variable
//	table = "hub_reports"       # table: the department's table (and <table>_rows), made when missing
type DeliveryConfig struct {
	Department string
	Kinds      []string
	Target     string
	Name       string
	Disabled   bool
	Options    map[string]any

	unknown []string // settings of the block that are not the above, reported by validate
	opts    deliveryOptions
}

type deliveryOptions struct {
	Dir       string `json:"dir"`
	URL       string `json:"url"`
	URLEnv    string `json:"url_env"`
	TokenEnv  string `json:"token_env"`
	HeaderEnv string `json:"header_env"`
	Timeout   string `json:"timeout"`
	Driver    string `json:"driver"`
	DSNEnv    string `json:"dsn_env"`
	Table     string `json:"table"`

	timeout time.Duration
}

// deliveryTargets are the target kinds and the options each takes.
var deliveryTargets = map[string][]string{
	"outbox": {"dir"},
	"http":   {"url", "url_env", "token_env", "header_env", "timeout"},
	"table":  {"driver", "dsn_env", "table"},
}

var deliverySettings = []string{"department", "kinds", "target", "name", "disabled", "options"}

// UnmarshalTOML decodes a [[delivery]] block. Settings it does not know are kept for validate,
// which names them (and says *_env for a secret written inline).
func (d *DeliveryConfig) UnmarshalTOML(data any) error {
	m, ok := data.(map[string]any)
	if !ok {
		return fmt.Errorf("delivery: want a table ([[delivery]]), got %T", data)
	}
	str := func(k string) (string, error) {
		v, ok := m[k]
		if !ok {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("delivery: %s: want a string, got %v", k, v)
		}
		return s, nil
	}
	var err error
	if d.Department, err = str("department"); err != nil {
		return err
	}
	if d.Target, err = str("target"); err != nil {
		return err
	}
	if d.Name, err = str("name"); err != nil {
		return err
	}
	if v, ok := m["kinds"]; ok {
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("delivery: kinds: want a list of report codes, got %v", v)
		}
		for _, x := range list {
			s, ok := x.(string)
			if !ok {
				return fmt.Errorf("delivery: kinds: want report codes (strings), got %v", x)
			}
			d.Kinds = append(d.Kinds, s)
		}
	}
	if v, ok := m["disabled"]; ok {
		if d.Disabled, ok = v.(bool); !ok {
			return fmt.Errorf("delivery: disabled: want true or false, got %v", v)
		}
	}
	if v, ok := m["options"]; ok {
		if d.Options, ok = v.(map[string]any); !ok {
			return fmt.Errorf("delivery: options: want a table ([delivery.options]), got %v", v)
		}
	}
	for k := range m {
		if !contains(deliverySettings, k) {
			d.unknown = append(d.unknown, k)
		}
	}
	sort.Strings(d.unknown)
	return nil
}

var kindCodeRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// validateDeliveries checks every [[delivery]] block: its settings, its target and the options
// that target takes, secrets only through *_env names, and names used once.
func (c *Config) validateDeliveries() error {
	seen := map[string]bool{}
	for i := range c.Deliveries {
		d := &c.Deliveries[i]
		where := fmt.Sprintf("delivery #%d", i+1)
		if d.Department != "" {
			where = fmt.Sprintf("delivery #%d (%s %s)", i+1, d.Department, d.Target)
		}
		for _, k := range d.unknown {
			if secretName(k) {
				return fmt.Errorf("%s: %s: secrets never sit in the config file; put the value in an environment variable and name it with %s_env", where, k, k)
			}
			return fmt.Errorf("%s: unknown setting %s (known: %s)", where, k, strings.Join(deliverySettings, ", "))
		}
		d.Department = strings.TrimSpace(d.Department)
		if d.Department == "" {
			return fmt.Errorf("%s: department: required (the department the reports go to, as in kind.toml)", where)
		}
		allowed, ok := deliveryTargets[d.Target]
		if !ok {
			return fmt.Errorf("%s: target %q unknown (known: http, outbox, table)", where, d.Target)
		}
		for j, k := range d.Kinds {
			k = strings.ToUpper(strings.TrimSpace(k))
			if !kindCodeRe.MatchString(k) {
				return fmt.Errorf("%s: kinds: %q is not a report code (R05)", where, d.Kinds[j])
			}
			d.Kinds[j] = k
		}
		if d.Name = strings.TrimSpace(d.Name); d.Name == "" {
			d.Name = d.Department + ":" + d.Target
		}
		if seen[d.Name] {
			return fmt.Errorf("%s: name %q used twice: give each delivery its own name", where, d.Name)
		}
		seen[d.Name] = true
		if err := checkInlineSecrets(d.Options); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		for k := range d.Options {
			if !contains(allowed, k) {
				return fmt.Errorf("%s: options: %s is not an option of target %s (its options: %s)", where, k, d.Target, strings.Join(allowed, ", "))
			}
		}
		if err := connectors.DecodeOptions(connectors.Config{Options: d.Options}, &d.opts); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if err := d.opts.check(d.Target); err != nil {
			return fmt.Errorf("%s: options: %w", where, err)
		}
	}
	return nil
}

func (o *deliveryOptions) check(target string) error {
	switch target {
	case "outbox":
		if o.Dir == "" {
			return errors.New("dir: required (the outbox folder)")
		}
	case "http":
		if o.URL == "" && o.URLEnv == "" {
			return errors.New("url or url_env: required (the endpoint)")
		}
		if o.URL != "" && o.URLEnv != "" {
			return errors.New("url and url_env: give one of them, not both")
		}
		if o.URL != "" {
			if err := checkHTTPURL(o.URL); err != nil {
				return fmt.Errorf("url: %w", err)
			}
		}
		if o.Timeout != "" {
			d, err := time.ParseDuration(o.Timeout)
			if err != nil || d <= 0 {
				return fmt.Errorf("timeout %q: want a positive Go duration (60s)", o.Timeout)
			}
			o.timeout = d
		}
	case "table":
		if o.Driver != "postgres" && o.Driver != "mysql" {
			return fmt.Errorf("driver %q unknown (known: mysql, postgres)", o.Driver)
		}
		if o.DSNEnv == "" {
			return errors.New("dsn_env: required (the environment variable holding the DSN)")
		}
		if err := deliver.CheckTableName(o.Table); err != nil {
			return err
		}
	}
	return nil
}

// checkHTTPURL refuses what is not an http(s) URL with a host. The URL may be a secret (url_env):
// the message does not repeat it.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("not an http(s) URL with a host")
	}
	return nil
}

// DeliveryTarget is a [[delivery]] block made into a target: the deliver.Target itself, whom it
// serves, and the secrets it looked up (removed from everything the ledger keeps).
type DeliveryTarget struct {
	deliver.Target
	Department string
	Kinds      []string // empty: every kind of the department

	secrets []string
	db      *sql.DB // a table target's database, closed by Close
}

// Accepts reports whether the package is for this delivery: its department, and one of its kinds.
func (t DeliveryTarget) Accepts(p deliver.Package) bool {
	return p.Department == t.Department && (len(t.Kinds) == 0 || contains(t.Kinds, strings.ToUpper(p.Kind)))
}

// Secrets are the secret values the target was made with (deliver.Secretive).
func (t DeliveryTarget) Secrets() []string {
	out := append([]string(nil), t.secrets...)
	if s, ok := t.Target.(deliver.Secretive); ok {
		out = append(out, s.Secrets()...)
	}
	return out
}

// Close releases what the target holds (a table target's database handle).
func (t DeliveryTarget) Close() error {
	if t.db != nil {
		return t.db.Close()
	}
	return nil
}

// DeliveryTargets makes the enabled [[delivery]] blocks' targets, in config order. getenv supplies
// secrets (os.Getenv when nil). Nothing is contacted; a table target's database handle is opened
// lazily and released by Close.
func (c *Config) DeliveryTargets(getenv func(string) string) ([]DeliveryTarget, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var out []DeliveryTarget
	fail := func(err error) ([]DeliveryTarget, error) {
		for _, t := range out {
			if cerr := t.Close(); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}
		return nil, err
	}
	for i := range c.Deliveries {
		d := &c.Deliveries[i]
		if d.Disabled {
			continue
		}
		t, err := c.deliveryTarget(d, getenv)
		if err != nil {
			return fail(fmt.Errorf("delivery %s: %w", d.Name, err))
		}
		out = append(out, t)
	}
	return out, nil
}

func (c *Config) deliveryTarget(d *DeliveryConfig, getenv func(string) string) (DeliveryTarget, error) {
	t := DeliveryTarget{Department: d.Department, Kinds: d.Kinds}
	secret := func(option, env string) (string, error) {
		v, err := connectors.Secret(connectors.Config{Getenv: getenv}, option, env)
		if v != "" {
			t.secrets = append(t.secrets, v)
		}
		return v, err
	}
	o := d.opts
	switch d.Target {
	case "outbox":
		t.Target = deliver.Outbox{Dir: c.rel(o.Dir), Label: d.Name}
	case "http":
		u := o.URL
		if o.URLEnv != "" {
			var err error
			if u, err = secret("url_env", o.URLEnv); err != nil {
				return t, err
			}
			if err := checkHTTPURL(u); err != nil {
				return t, fmt.Errorf("option url_env: the URL in %s: %w", o.URLEnv, err)
			}
		}
		header := map[string]string{}
		if o.TokenEnv != "" {
			tok, err := secret("token_env", o.TokenEnv)
			if err != nil {
				return t, err
			}
			header["Authorization"] = "Bearer " + tok
		}
		if o.HeaderEnv != "" {
			h, err := secret("header_env", o.HeaderEnv)
			if err != nil {
				return t, err
			}
			name, value, ok := strings.Cut(h, ":")
			name, value = strings.TrimSpace(name), strings.TrimSpace(value)
			if !ok || name == "" || value == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
				return t, fmt.Errorf("option header_env: %s must hold one header, \"Name: value\"", o.HeaderEnv)
			}
			t.secrets = append(t.secrets, value)
			header[http.CanonicalHeaderKey(name)] = value
		}
		timeout := o.timeout
		if timeout == 0 {
			timeout = 60 * time.Second
		}
		t.Target = deliver.HTTP{URL: u, Header: header, Client: &http.Client{Timeout: timeout}, Label: d.Name}
	case "table":
		dsn, err := secret("dsn_env", o.DSNEnv)
		if err != nil {
			return t, err
		}
		db, err := openDeliveryDB(o.Driver, dsn, &t.secrets)
		if err != nil {
			return t, fmt.Errorf("option dsn_env: the DSN in %s: %s", o.DSNEnv, connectors.Redact(err.Error(), t.secrets...))
		}
		t.db = db
		t.Target = deliver.Table{DB: db, Dialect: o.Driver, Table: o.Table, Label: d.Name}
	default:
		return t, fmt.Errorf("target %q unknown", d.Target) // validate refused it already
	}
	return t, nil
}

// openDeliveryDB parses the DSN (adding its password to secrets) and opens a handle without
// connecting.
func openDeliveryDB(driver, dsn string, secrets *[]string) (*sql.DB, error) {
	if driver == "postgres" {
		pc, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, err
		}
		if pc.Password != "" {
			*secrets = append(*secrets, pc.Password)
		}
		return stdlib.OpenDB(*pc), nil
	}
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if mc.Passwd != "" {
		*secrets = append(*secrets, mc.Passwd)
	}
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}
