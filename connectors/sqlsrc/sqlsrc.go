// Package sqlsrc is the source kind for departmental systems in SQL databases: postgres, mysql
// (MariaDB) and sqlite, all through database/sql. A table is read whole, or — with a cursor
// column — only rows updated since the last committed cursor.
package sqlsrc

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"communityhub/connectors"
)

func init() {
	for _, k := range []string{"postgres", "mysql", "sqlite"} {
		connectors.Register(k, New)
	}
}

// Options of the postgres, mysql and sqlite kinds.
type Options struct {
	// DSNEnv names the environment variable holding the DSN (postgres, mysql). Secrets never
	// sit in the config file.
	DSNEnv string `json:"dsn_env"`
	// Path is the database file (sqlite), relative to the config's folder.
	Path string `json:"path"`
	// AttachAs attaches the sqlite file under this schema name, so that Table can be
	// schema-qualified the same way as on the server ("hj.person").
	AttachAs string `json:"attach_as"`
	// Table is the table to read, optionally schema-qualified.
	Table string `json:"table"`
	// Cursor is the column that tells when a row last changed (gxsj, update_time …). With it
	// the source is incremental: rows with cursor >= the last committed value are read again
	// (the landing skips the unchanged ones), so a row committed late with an equal time is
	// never lost.
	Cursor    string `json:"cursor"`
	BatchRows int    `json:"batch_rows"`
}

// Source reads one table.
type Source struct {
	name   string
	kind   string
	driver string
	dsn    string
	opts   Options
	path   string // sqlite file, resolved
	key    []string
	db     *sql.DB
}

var ident = regexp.MustCompile(`^[\p{L}\p{N}_]+(\.[\p{L}\p{N}_]+)?$`)

// New validates the options; it does not connect.
func New(cfg connectors.Config) (connectors.Source, error) {
	var o Options
	if err := connectors.DecodeOptions(cfg, &o); err != nil {
		return nil, err
	}
	s := &Source{name: cfg.Name, kind: cfg.Kind, opts: o, key: cfg.Key}
	if !ident.MatchString(o.Table) {
		return nil, fmt.Errorf("option table: %q is not a table name", o.Table)
	}
	if o.Cursor != "" && !ident.MatchString(o.Cursor) {
		return nil, fmt.Errorf("option cursor: %q is not a column name", o.Cursor)
	}
	switch cfg.Kind {
	case "sqlite":
		if o.Path == "" {
			return nil, fmt.Errorf("option path: the sqlite file is required")
		}
		p := o.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(cfg.BaseDir, p)
		}
		s.path = p
		s.driver, s.dsn = "sqlite", "file:"+p+"?mode=ro"
		if o.AttachAs != "" {
			if !ident.MatchString(o.AttachAs) || strings.Contains(o.AttachAs, ".") {
				return nil, fmt.Errorf("option attach_as: %q is not a schema name", o.AttachAs)
			}
			s.dsn = ":memory:"
		}
	case "postgres", "mysql":
		dsn, err := connectors.Secret(cfg, "dsn_env", o.DSNEnv)
		if err != nil {
			return nil, err
		}
		if dsn == "" {
			return nil, fmt.Errorf("option dsn_env: required")
		}
		s.driver, s.dsn = map[string]string{"postgres": "pgx", "mysql": "mysql"}[cfg.Kind], dsn
	}
	return s, nil
}

func (s *Source) Incremental() bool { return s.opts.Cursor != "" }

func (s *Source) quote(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		if s.kind == "mysql" {
			parts[i] = "`" + p + "`"
		} else {
			parts[i] = `"` + p + `"`
		}
	}
	return strings.Join(parts, ".")
}

func (s *Source) open(ctx context.Context) (*sql.DB, error) {
	if s.db != nil {
		return s.db, nil
	}
	db, err := sql.Open(s.driver, s.dsn)
	if err != nil {
		return nil, err
	}
	if s.kind == "sqlite" {
		db.SetMaxOpenConns(1) // ATTACH is per connection
		if s.opts.AttachAs != "" {
			if _, err := db.ExecContext(ctx, "ATTACH DATABASE ? AS "+s.opts.AttachAs, "file:"+s.path+"?mode=ro"); err != nil {
				db.Close()
				return nil, fmt.Errorf("attach %s: %w", s.path, err)
			}
		}
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	s.db = db
	return db, nil
}

// Close releases the connection pool.
func (s *Source) Close() error {
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// Probe connects and reads the table's columns.
func (s *Source) Probe(ctx context.Context) error {
	_, err := s.Columns(ctx)
	return err
}

func (s *Source) Columns(ctx context.Context) ([]string, error) {
	db, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+s.quote(s.opts.Table)+" WHERE 1 = 0")
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", s.opts.Table, err)
	}
	defer rows.Close()
	return rows.Columns()
}

// asText selects a column as text, so every kind hands over the server's own rendering
// (dates as 1958-03-04, timestamps without a time zone suffix).
func (s *Source) asText(col string) string {
	switch s.kind {
	case "postgres":
		return s.quote(col) + "::text"
	case "mysql":
		return "CAST(" + s.quote(col) + " AS CHAR)"
	}
	return "CAST(" + s.quote(col) + " AS TEXT)"
}

func (s *Source) placeholder() string {
	if s.kind == "postgres" {
		return "$1"
	}
	return "?"
}

// Read selects every column as text, filtered by the cursor when there is one. The cursor
// checkpoint is the largest cursor value read, given after the last batch.
func (s *Source) Read(ctx context.Context, req connectors.ReadRequest, w connectors.Writer) error {
	cols, err := s.Columns(ctx)
	if err != nil {
		return err
	}
	keyIdx := make([]int, 0, len(s.key))
	for _, k := range s.key {
		i := indexOf(cols, k)
		if i < 0 {
			return fmt.Errorf("key column %s not in table %s", k, s.opts.Table)
		}
		keyIdx = append(keyIdx, i)
	}
	curIdx := -1
	if s.opts.Cursor != "" {
		if curIdx = indexOf(cols, s.opts.Cursor); curIdx < 0 {
			return fmt.Errorf("cursor column %s not in table %s", s.opts.Cursor, s.opts.Table)
		}
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = s.asText(c)
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + s.quote(s.opts.Table)
	var args []any
	if curIdx >= 0 && req.Cursor != "" {
		q += " WHERE " + s.quote(s.opts.Cursor) + " >= " + s.placeholder()
		args = append(args, req.Cursor)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", s.opts.Table, err)
	}
	defer rows.Close()
	b := connectors.NewBatchBuilder(cols, s.opts.BatchRows)
	defer b.Release()
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	maxCursor := req.Cursor
	n := 0
	var loc strings.Builder
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read %s row %d: %w", s.opts.Table, n+1, err)
		}
		n++
		for i, v := range vals {
			if v.Valid {
				b.Set(i, v.String)
			}
		}
		loc.Reset()
		loc.WriteString(s.opts.Table)
		if len(keyIdx) > 0 {
			loc.WriteByte(':')
			for j, i := range keyIdx {
				if j > 0 {
					loc.WriteByte(',')
				}
				loc.WriteString(vals[i].String)
			}
		} else {
			fmt.Fprintf(&loc, "#%d", n)
		}
		if curIdx >= 0 && vals[curIdx].String > maxCursor {
			maxCursor = vals[curIdx].String
		}
		if err := b.EndRow(loc.String(), "", w); err != nil {
			return err
		}
		if n%8192 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", s.opts.Table, err)
	}
	if err := b.Flush(w); err != nil {
		return err
	}
	if curIdx >= 0 {
		w.Checkpoint(maxCursor)
	}
	return nil
}

// ListKeys lists the key of every row, for finding rows deleted at the source.
func (s *Source) ListKeys(ctx context.Context, emit func(key []string) error) error {
	if len(s.key) == 0 {
		return fmt.Errorf("no key columns configured")
	}
	db, err := s.open(ctx)
	if err != nil {
		return err
	}
	sel := make([]string, len(s.key))
	for i, k := range s.key {
		sel[i] = s.asText(k)
	}
	rows, err := db.QueryContext(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+s.quote(s.opts.Table))
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]sql.NullString, len(s.key))
	ptrs := make([]any, len(s.key))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	key := make([]string, len(s.key))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			key[i] = v.String
		}
		if err := emit(key); err != nil {
			return err
		}
	}
	return rows.Err()
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}
