// Package sqlsrc is the source kind for departmental systems in SQL databases: postgres, mysql
// (MariaDB) and sqlite, all through database/sql. A table is read whole, or — with a cursor
// column — only rows whose cursor is at or after the last committed cursor.
//
// Every identifier the source sends to the server is quoted as one identifier with the dialect's
// escaping (see quoteIdent), so column names such as `a.b`, `x"y`, "x`y" or a mixed-case `Name`
// read exactly as Columns reports them. Probe runs the very SELECT that Read runs (with LIMIT 0),
// so `hub sources check` fails wherever `hub sync` would.
package sqlsrc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
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
	// Table is the table (or view) to read: "table" or "schema.table" (mysql: "database.table").
	// A part holding other characters than letters, digits, "_" and "$" (a dot, a space) is
	// written quoted, with "…" or `…` and the quote character doubled inside:
	// `"my.schema"."t"`.
	Table string `json:"table"`
	// Cursor is the column that tells when a row last changed (gxsj, update_time …), exactly as
	// the table names it. With it the source is incremental (see CursorColumn).
	Cursor    string `json:"cursor"`
	BatchRows int    `json:"batch_rows"`
}

// Source reads one table.
type Source struct {
	name    string
	kind    string
	opts    Options
	table   []string // Table parsed into its unquoted parts (1 or 2)
	path    string   // sqlite file, resolved
	key     []string
	limits  connectors.Limits
	target  string   // what connection errors name: "sqlite file …", "postgres host:port/db"
	secrets []string // values no message may contain (the DSN, its password)

	connect func() (*sql.DB, error) // opens the pool (no round trip)
	db      *sql.DB
}

// bare is a table part or attach name that needs no quotes in the option.
var bare = regexp.MustCompile(`^[\p{L}\p{N}_$]+$`)

// New validates the options and parses the DSN; it does not connect.
func New(cfg connectors.Config) (connectors.Source, error) {
	var o Options
	if err := connectors.DecodeOptions(cfg, &o); err != nil {
		return nil, err
	}
	s := &Source{name: cfg.Name, kind: cfg.Kind, opts: o, key: cfg.Key, limits: cfg.Limits.WithDefaults()}
	parts, err := parseTable(o.Table)
	if err != nil {
		return nil, fmt.Errorf("option table: %w", err)
	}
	s.table = parts
	if strings.ContainsRune(o.Cursor, 0) {
		return nil, fmt.Errorf("option cursor: %q is not a column name", o.Cursor)
	}
	for _, k := range cfg.Key {
		if k == "" || strings.ContainsRune(k, 0) {
			return nil, fmt.Errorf("key: %q is not a column name", k)
		}
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
		s.target = "sqlite file " + p
		dsn := sqliteURI(p)
		if o.AttachAs != "" {
			if !bare.MatchString(o.AttachAs) {
				return nil, fmt.Errorf("option attach_as: %q is not a schema name", o.AttachAs)
			}
			dsn = ":memory:"
		}
		s.connect = func() (*sql.DB, error) { return sql.Open("sqlite", dsn) }
	case "postgres", "mysql":
		dsn, err := connectors.Secret(cfg, "dsn_env", o.DSNEnv)
		if err != nil {
			return nil, err
		}
		if dsn == "" {
			return nil, fmt.Errorf("option dsn_env: required")
		}
		s.secrets = []string{dsn}
		if cfg.Kind == "postgres" {
			err = s.postgres(dsn)
		} else {
			err = s.mysql(dsn)
		}
		if err != nil {
			return nil, fmt.Errorf("option dsn_env: the DSN in %s: %s", o.DSNEnv, connectors.Redact(err.Error(), s.secrets...))
		}
	default:
		return nil, fmt.Errorf("kind %q is not one of postgres, mysql, sqlite", cfg.Kind)
	}
	return s, nil
}

// postgres parses a postgres:// URL or keyword DSN. On a cancelled context pgx drops the
// connection at once and sends the server a cancel request, so a long query stops there too.
func (s *Source) postgres(dsn string) error {
	pc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return err
	}
	if pc.Password != "" {
		s.secrets = append(s.secrets, pc.Password)
	}
	s.target = "postgres " + hostPort(pc.Host, strconv.Itoa(int(pc.Port))) + "/" + pc.Database
	s.connect = func() (*sql.DB, error) { return stdlib.OpenDB(*pc), nil }
	return nil
}

// mysql parses a go-sql-driver DSN (user:pass@tcp(host:port)/db?…).
func (s *Source) mysql(dsn string) error {
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		return err
	}
	if mc.Passwd != "" {
		s.secrets = append(s.secrets, mc.Passwd)
	}
	s.target = "mysql " + mc.Addr + "/" + mc.DBName
	s.connect = func() (*sql.DB, error) {
		c, err := mysql.NewConnector(mc)
		if err != nil {
			return nil, err
		}
		return sql.OpenDB(c), nil
	}
	return nil
}

func hostPort(host, port string) string {
	if strings.HasPrefix(host, "/") { // a unix socket directory
		return host + ":" + port
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// sqliteURI is the read-only URI of a database file, with the characters URIs reserve escaped.
func sqliteURI(p string) string {
	return (&url.URL{Scheme: "file", OmitHost: true, Path: filepath.ToSlash(p), RawQuery: "mode=ro"}).String()
}

// parseTable splits the table option into its parts, unquoting "…" and `…` parts (the quote
// doubled inside stands for itself). It accepts one or two parts, none empty.
func parseTable(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("the table name is required")
	}
	var parts []string
	rest := s
	for {
		var part string
		if rest != "" && (rest[0] == '"' || rest[0] == '`') {
			q := rest[0]
			var b strings.Builder
			i := 1
			closed := false
			for i < len(rest) {
				if rest[i] == q {
					if i+1 < len(rest) && rest[i+1] == q {
						b.WriteByte(q)
						i += 2
						continue
					}
					closed = true
					i++
					break
				}
				b.WriteByte(rest[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("%q is not a table name: the quote %c is not closed", s, q)
			}
			part, rest = b.String(), rest[i:]
			if part == "" || strings.ContainsRune(part, 0) {
				return nil, fmt.Errorf("%q is not a table name: an empty or NUL-holding quoted part", s)
			}
		} else {
			end := strings.IndexByte(rest, '.')
			if end < 0 {
				end = len(rest)
			}
			part, rest = rest[:end], rest[end:]
			if !bare.MatchString(part) {
				return nil, fmt.Errorf("%q is not a table name: write a part holding other characters than letters, digits, _ and $ quoted (\"my.schema\".\"t\")", s)
			}
		}
		parts = append(parts, part)
		if rest == "" {
			break
		}
		if rest[0] != '.' || len(rest) == 1 {
			return nil, fmt.Errorf("%q is not a table name: expected a dot between schema and table", s)
		}
		rest = rest[1:]
	}
	if len(parts) > 2 {
		return nil, fmt.Errorf("%q is not a table name: at most schema.table", s)
	}
	return parts, nil
}

// Incremental reports whether a cursor column is configured.
func (s *Source) Incremental() bool { return s.opts.Cursor != "" }

// CursorColumn implements connectors.ColumnCursor: the cursor is the largest value of the
// cursor column among the rows that landed, computed by the landing. Read selects rows with
// cursor >= req.Cursor, compared as the column's type (see cursorParam), and does not call
// Checkpoint.
func (s *Source) CursorColumn() string { return s.opts.Cursor }

// quoteIdent quotes name as one identifier of the kind's dialect: "…" with " doubled
// (postgres, sqlite), `…` with ` doubled (mysql).
func quoteIdent(kind, name string) string {
	if kind == "mysql" {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func (s *Source) quote(name string) string { return quoteIdent(s.kind, name) }

// quotedTable is the table for SQL: each part quoted, joined by a dot.
func (s *Source) quotedTable() string {
	q := make([]string, len(s.table))
	for i, p := range s.table {
		q[i] = s.quote(p)
	}
	return strings.Join(q, ".")
}

// redact is an error's text without any secret of the source's DSN.
func (s *Source) redact(err error) string { return connectors.Redact(err.Error(), s.secrets...) }

// fail is err for a caller: ctx.Err() when the context is done (the contract of Read), else err
// reworded as "what: err" with secrets removed.
func (s *Source) fail(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.New(what + ": " + s.redact(err))
}

func (s *Source) open(ctx context.Context) (*sql.DB, error) {
	if s.db != nil {
		return s.db, nil
	}
	if s.kind == "sqlite" {
		fi, err := os.Stat(s.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("%s: no such file", s.target)
		case err != nil:
			return nil, fmt.Errorf("%s: %v", s.target, err)
		case !fi.Mode().IsRegular():
			return nil, fmt.Errorf("%s: not a regular file", s.target)
		}
	}
	db, err := s.connect()
	if err != nil {
		return nil, s.fail(ctx, "connect "+s.target, err)
	}
	if s.kind == "sqlite" {
		db.SetMaxOpenConns(1) // ATTACH is per connection
		if s.opts.AttachAs != "" {
			if _, err := db.ExecContext(ctx, "ATTACH DATABASE ? AS "+s.quote(s.opts.AttachAs), sqliteURI(s.path)); err != nil {
				db.Close()
				return nil, s.fail(ctx, "attach "+s.target, err)
			}
		}
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, s.fail(ctx, "connect "+s.target, err)
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

// Columns connects and returns the table's columns, as the server names them.
func (s *Source) Columns(ctx context.Context) ([]string, error) {
	cols, _, err := s.columns(ctx)
	return cols, err
}

func (s *Source) columns(ctx context.Context) ([]string, []*sql.ColumnType, error) {
	db, err := s.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+s.quotedTable()+" WHERE 1 = 0")
	if err != nil {
		return nil, nil, s.fail(ctx, "table "+s.opts.Table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, s.fail(ctx, "table "+s.opts.Table, err)
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, nil, s.fail(ctx, "table "+s.opts.Table, err)
	}
	return cols, types, nil
}

// plan is the SELECT of a read: every column as text, filtered by the cursor when asked.
type plan struct {
	cols   []string
	keyIdx []int
	curIdx int    // -1 without a cursor
	sel    string // SELECT … FROM …
	where  string // " WHERE cursor >= param", "" without a cursor
}

// prepare connects, checks that the key and cursor columns exist and builds the read's SELECT.
// Read and Probe both use it.
func (s *Source) prepare(ctx context.Context) (*plan, error) {
	cols, types, err := s.columns(ctx)
	if err != nil {
		return nil, err
	}
	p := &plan{cols: cols, curIdx: -1}
	for _, k := range s.key {
		i := indexOf(cols, k)
		if i < 0 {
			return nil, fmt.Errorf("table %s: key column %q not in the table (columns: %s)", s.opts.Table, k, strings.Join(cols, ", "))
		}
		p.keyIdx = append(p.keyIdx, i)
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = s.asText(c)
	}
	p.sel = "SELECT " + strings.Join(sel, ", ") + " FROM " + s.quotedTable()
	if s.opts.Cursor != "" {
		if p.curIdx = indexOf(cols, s.opts.Cursor); p.curIdx < 0 {
			return nil, fmt.Errorf("table %s: cursor column %q not in the table (columns: %s)", s.opts.Table, s.opts.Cursor, strings.Join(cols, ", "))
		}
		param, err := s.cursorParam(ctx, types[p.curIdx])
		if err != nil {
			return nil, err
		}
		p.where = " WHERE " + s.quote(s.opts.Cursor) + " >= " + param
	}
	return p, nil
}

// cursorParam is the cursor's parameter as an expression of the cursor column's type, so that
// the filter compares as that type (a timestamp with a timestamp, an integer with an integer)
// and not as text:
//   - postgres: CAST($1::text AS <the column's type>), the type read from the catalogue
//     without its modifier (so varchar(5) does not cut the value);
//   - mysql: CAST(? AS DATETIME(6) | DATE | TIME(6) | SIGNED | UNSIGNED | DECIMAL(65,30)) by the
//     column's type, a plain ? for text and floating types (compared as the column's type by
//     MySQL's own rules);
//   - sqlite: a plain ?, compared as text, or as a number when the column has numeric affinity.
func (s *Source) cursorParam(ctx context.Context, ct *sql.ColumnType) (string, error) {
	switch s.kind {
	case "postgres":
		var typ string
		err := s.db.QueryRowContext(ctx, `SELECT format_type(a.atttypid, NULL) FROM pg_attribute a
			WHERE a.attrelid = $1::regclass AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
			s.quotedTable(), s.opts.Cursor).Scan(&typ)
		if err != nil {
			return "", s.fail(ctx, fmt.Sprintf("table %s: type of cursor column %q", s.opts.Table, s.opts.Cursor), err)
		}
		return "CAST($1::text AS " + typ + ")", nil
	case "mysql":
		t := ct.DatabaseTypeName()
		switch {
		case t == "DATETIME" || t == "TIMESTAMP":
			return "CAST(? AS DATETIME(6))", nil
		case t == "DATE":
			return "CAST(? AS DATE)", nil
		case t == "TIME":
			return "CAST(? AS TIME(6))", nil
		case t == "DECIMAL":
			return "CAST(? AS DECIMAL(65,30))", nil
		case strings.HasPrefix(t, "UNSIGNED "):
			return "CAST(? AS UNSIGNED)", nil
		case strings.HasSuffix(t, "INT") || t == "YEAR":
			return "CAST(? AS SIGNED)", nil
		}
	}
	return "?", nil
}

// Probe connects and runs Read's own SELECT (and ListKeys' when there is a key) with LIMIT 0, so
// that a table, column, cast or permission that would fail a sync fails the check.
func (s *Source) Probe(ctx context.Context) error {
	p, err := s.prepare(ctx)
	if err != nil {
		return err
	}
	var args []any
	q := p.sel
	if p.where != "" {
		q += p.where
		args = append(args, nil)
	}
	if err := s.probe(ctx, q+" LIMIT 0", args...); err != nil {
		return err
	}
	if len(s.key) > 0 {
		return s.probe(ctx, s.keysQuery()+" LIMIT 0")
	}
	return nil
}

func (s *Source) probe(ctx context.Context, q string, args ...any) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return s.fail(ctx, "read "+s.opts.Table, err)
	}
	for rows.Next() {
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return s.fail(ctx, "read "+s.opts.Table, err)
	}
	return nil
}

// asText selects a column as text, so every kind hands over the server's own rendering
// (dates as 1958-03-04, timestamps without a time zone suffix, a postgres infinity as
// "infinity").
func (s *Source) asText(col string) string {
	switch s.kind {
	case "postgres":
		return s.quote(col) + "::text"
	case "mysql":
		return "CAST(" + s.quote(col) + " AS CHAR)"
	}
	return "CAST(" + s.quote(col) + " AS TEXT)"
}

// Read selects every column as text, filtered by cursor >= req.Cursor when there is a cursor.
// Values are handed over as the server gives them (NUL bytes included: the landing flags them).
// A value over limits.value_bytes or a row over limits.row_bytes is rejected, not written.
func (s *Source) Read(ctx context.Context, req connectors.ReadRequest, w connectors.Writer) error {
	p, err := s.prepare(ctx)
	if err != nil {
		return err
	}
	q := p.sel
	var args []any
	if p.where != "" && req.Cursor != "" {
		q += p.where
		args = append(args, req.Cursor)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return s.fail(ctx, "read "+s.opts.Table, err)
	}
	defer rows.Close()
	cols := p.cols
	b := connectors.NewBatchBuilder(cols, s.opts.BatchRows)
	defer b.Release()
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	var loc strings.Builder
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return s.fail(ctx, fmt.Sprintf("read %s row %d", s.opts.Table, n+1), err)
		}
		n++
		loc.Reset()
		loc.WriteString(s.opts.Table)
		if len(p.keyIdx) > 0 {
			loc.WriteByte(':')
			for j, i := range p.keyIdx {
				if j > 0 {
					loc.WriteByte(',')
				}
				loc.WriteString(vals[i].String)
			}
		} else {
			fmt.Fprintf(&loc, "#%d", n)
		}
		if reason := s.overLimit(cols, vals); reason != "" {
			if err := w.Reject(connectors.Reject{Loc: loc.String(), Raw: rawExcerpt(vals), Reason: reason}); err != nil {
				return err
			}
		} else {
			for i, v := range vals {
				if v.Valid {
					b.Set(i, v.String)
				}
			}
			if err := b.EndRow(loc.String(), "", w); err != nil {
				return err
			}
		}
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err := rows.Err(); err != nil {
		return s.fail(ctx, fmt.Sprintf("read %s after row %d", s.opts.Table, n), err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return b.Flush(w)
}

// overLimit is the reason a row breaks limits.value_bytes or limits.row_bytes, or "".
func (s *Source) overLimit(cols []string, vals []sql.NullString) string {
	var total int64
	for i, v := range vals {
		l := int64(len(v.String))
		if l > s.limits.ValueBytes {
			return connectors.Exceeded(fmt.Sprintf("column %s (%d bytes)", cols[i], l), s.limits.ValueBytes, "value_bytes")
		}
		total += l + 1
	}
	if total > s.limits.RowBytes {
		return connectors.Exceeded(fmt.Sprintf("the row (%d bytes)", total), s.limits.RowBytes, "row_bytes")
	}
	return ""
}

// rawExcerpt is what a reject keeps of a row: the start of each value, tab-separated.
func rawExcerpt(vals []sql.NullString) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = connectors.Excerpt(v.String, 40)
	}
	return strings.Join(parts, "\t")
}

func (s *Source) keysQuery() string {
	sel := make([]string, len(s.key))
	for i, k := range s.key {
		sel[i] = s.asText(k)
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM " + s.quotedTable()
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
	rows, err := db.QueryContext(ctx, s.keysQuery())
	if err != nil {
		return s.fail(ctx, "list keys of "+s.opts.Table, err)
	}
	defer rows.Close()
	vals := make([]sql.NullString, len(s.key))
	ptrs := make([]any, len(s.key))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	key := make([]string, len(s.key))
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return s.fail(ctx, fmt.Sprintf("list keys of %s row %d", s.opts.Table, n+1), err)
		}
		n++
		for i, v := range vals {
			key[i] = v.String
		}
		if err := emit(key); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.fail(ctx, "list keys of "+s.opts.Table, err)
	}
	return nil
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}
