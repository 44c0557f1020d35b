package store

import (
	"context"
	"database/sql"
	"fmt"

	"communityhub/schema"
)

// Migration is one step of the schema. Up runs inside a transaction with the version row, so a
// database is always at a whole version. Migrations are never edited once released: a change
// is a new migration.
type Migration struct {
	Version int
	Name    string
	Up      func(ctx context.Context, conn *sql.Conn) error
}

// statements is a migration step made of plain SQL statements.
func statements(stmts ...string) func(context.Context, *sql.Conn) error {
	return func(ctx context.Context, conn *sql.Conn) error {
		for _, s := range stmts {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", firstLine(s), err)
			}
		}
		return nil
	}
}

// Migrations are the schema's history, in order.
var Migrations = []Migration{
	{1, "meta, raw, std, resolve and golden tables", statements(append(append([]string(nil), schema.HubDDL...), schema.ResolveDDL...)...)},
	{2, "trustworthy runs: run audit columns, held rows, key definitions, typed cursors, fingerprints, record history", func(ctx context.Context, conn *sql.Conn) error {
		if err := statements(
			`ALTER TABLE meta.runs ADD COLUMN IF NOT EXISTS finished_at TIMESTAMP`,
			`ALTER TABLE meta.runs ADD COLUMN IF NOT EXISTS rows_held BIGINT`,
			`ALTER TABLE meta.runs ADD COLUMN IF NOT EXISTS rows_would_delete BIGINT`,
			`ALTER TABLE meta.source_state ADD COLUMN IF NOT EXISTS key_def VARCHAR`,
			`ALTER TABLE meta.source_state ADD COLUMN IF NOT EXISTS cursor_type VARCHAR`,
			`ALTER TABLE meta.source_state ADD COLUMN IF NOT EXISTS landed_names VARCHAR`,
			// Rows whose newer version failed its checks: the last good version stays current and
			// is listed here until a good version lands or the row is deleted at the source.
			`CREATE TABLE IF NOT EXISTS meta.held (
				source VARCHAR NOT NULL, ident VARCHAR NOT NULL, loc VARCHAR, since_sync BIGINT NOT NULL, last_sync BIGINT NOT NULL, reason VARCHAR)`,
			`ALTER TABLE resolve.runs ADD COLUMN IF NOT EXISTS model_fp VARCHAR`,
			`ALTER TABLE resolve.runs ADD COLUMN IF NOT EXISTS sources_fp VARCHAR`,
			// Every record's last person, kept after the record is gone, so a record that returns
			// gets its person id back.
			`CREATE TABLE IF NOT EXISTS resolve.record_history (
				record_key VARCHAR NOT NULL, person_id VARCHAR NOT NULL, record_hash UBIGINT, last_run BIGINT)`,
			`INSERT INTO resolve.record_history SELECT record_key, person_id, record_hash, run FROM resolve.record_person`,
		)(ctx, conn); err != nil {
			return err
		}
		// Earlier landings left DuckDB's Arrow scan views behind (persistent, over pointers of a
		// process long gone: reading one crashed the reader).
		return dropStageViews(ctx, conn)
	}},
	{3, "reconcile counts, review gain and rule, the prior of each run", statements(
		// One row per figure of a reconcile run: nothing a stage leaves out goes uncounted (records
		// skipped and why, blocks over max_block with their key, records missing a name …).
		`CREATE TABLE IF NOT EXISTS resolve.counts (
			run BIGINT NOT NULL, stage VARCHAR NOT NULL, source VARCHAR, item VARCHAR NOT NULL, n BIGINT NOT NULL, detail VARCHAR)`,
		// The queue is worked in order of gain; rule says why a pair is there (model | ambiguous).
		`ALTER TABLE resolve.review ADD COLUMN IF NOT EXISTS gain DOUBLE`,
		`ALTER TABLE resolve.review ADD COLUMN IF NOT EXISTS rule VARCHAR`,
		`ALTER TABLE resolve.runs ADD COLUMN IF NOT EXISTS prior DOUBLE`,
		`ALTER TABLE resolve.runs ADD COLUMN IF NOT EXISTS prior_from VARCHAR`,
		`ALTER TABLE resolve.runs ADD COLUMN IF NOT EXISTS prior_capped BOOLEAN`,
	)},
	{4, "reports: where persons live, department facts, report builds and deliveries",
		statements(append(append(append([]string(nil), schema.PlaceDDL...), schema.FactsDDL...), schema.ReportDDL...)...)},
}

// Latest is the newest schema version.
func Latest() int { return Migrations[len(Migrations)-1].Version }

func dropStageViews(ctx context.Context, conn *sql.Conn) error {
	rows, err := conn.QueryContext(ctx, `SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal AND view_name LIKE 'hub\_stage\_view%' ESCAPE '\'`)
	if err != nil {
		return fmt.Errorf("list stage views: %w", err)
	}
	var names [][2]string
	for rows.Next() {
		var s, v string
		if err := rows.Scan(&s, &v); err != nil {
			rows.Close()
			return err
		}
		names = append(names, [2]string{s, v})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`DROP VIEW IF EXISTS %s.%s`, QuoteIdent(n[0]), QuoteIdent(n[1]))); err != nil {
			return fmt.Errorf("drop %s.%s: %w", n[0], n[1], err)
		}
	}
	return nil
}

// Version reads the database's schema version (0 for a new file).
func (d *DB) Version(ctx context.Context) (int, error) { return version(ctx, d.db) }

type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func version(ctx context.Context, q querier) (int, error) {
	var exists bool
	if err := q.QueryRowContext(ctx, `SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'meta' AND table_name = 'schema_version'`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(version) FROM meta.schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return int(v.Int64), nil
}

// migrate applies, in order and each in its own transaction, the migrations above the
// database's version up to target.
func (d *DB) migrate(ctx context.Context, target int) error {
	have, err := version(ctx, d.db)
	if err != nil {
		return err
	}
	if have > Latest() {
		return fmt.Errorf("schema version %d is newer than this hub knows (%d): use a newer hub", have, Latest())
	}
	for _, m := range Migrations {
		if m.Version <= have || m.Version > target {
			continue
		}
		err := d.Tx(ctx, func(conn *sql.Conn) error {
			if err := m.Up(ctx, conn); err != nil {
				return err
			}
			_, err := conn.ExecContext(ctx, "INSERT INTO meta.schema_version VALUES (?, now())", m.Version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// QuoteIdent quotes one SQL identifier for DuckDB.
func QuoteIdent(s string) string {
	out := make([]byte, 0, len(s)+2)
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}

func firstLine(q string) string {
	for i := 0; i < len(q); i++ {
		if q[i] == '\n' {
			q = q[:i]
			break
		}
	}
	if len(q) > 120 {
		q = q[:120]
	}
	return q
}
