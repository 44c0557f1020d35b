// Package land writes what connectors read into the unified DuckDB database: one raw table per
// source holding every row as it came (source columns as text, plus identity, hash, run,
// location, flags and fetch time), the quarantine of unreadable rows, schema drift, run
// statistics and each source's cursor. A source lands in one transaction: its rows, deletions,
// quarantine, statistics and cursor commit together or not at all, so a failed or killed run
// leaves the source exactly at its previous state. It does not interpret values beyond
// checking that required fields parse. It also owns the database handle and the transactional
// table writes (Replace, Append) that later stages use for their derived tables.
package land

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver

	"communityhub/connectors"
	"communityhub/schema"
)

// DB is the unified resident database.
type DB struct {
	db   *sql.DB
	Path string
}

// Open opens (creating if needed) the DuckDB file and brings the hub's tables up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return nil, err
	}
	// DuckDB takes 80% of the machine by default; the hub's Go side needs its share.
	limit := os.Getenv("HUB_DUCKDB_MEMORY")
	if limit == "" {
		limit = "2GB"
	}
	if _, err := db.ExecContext(ctx, "SET memory_limit = '"+strings.ReplaceAll(limit, "'", "")+"'"); err != nil {
		db.Close()
		return nil, fmt.Errorf("HUB_DUCKDB_MEMORY %q: %w", limit, err)
	}
	for _, stmt := range append(append([]string(nil), schema.HubDDL...), schema.ResolveDDL...) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("%s: schema: %w", path, err)
		}
	}
	var v sql.NullInt64
	db.QueryRowContext(ctx, "SELECT max(version) FROM meta.schema_version").Scan(&v)
	if !v.Valid || v.Int64 < schema.Version {
		if _, err := db.ExecContext(ctx, "INSERT INTO meta.schema_version VALUES (?, now())", schema.Version); err != nil {
			db.Close()
			return nil, err
		}
	}
	return &DB{db: db, Path: path}, nil
}

// SQL is the database handle, for queries by other stages.
func (d *DB) SQL() *sql.DB { return d.db }

// Close closes the database (checkpointing its WAL).
func (d *DB) Close() error { return d.db.Close() }

// BeginSync records a sync invocation and returns its id (one more than the last).
func (d *DB) BeginSync(ctx context.Context, config string) (int64, error) {
	var id int64
	if err := d.db.QueryRowContext(ctx, "SELECT coalesce(max(sync_id), 0) + 1 FROM meta.syncs").Scan(&id); err != nil {
		return 0, err
	}
	_, err := d.db.ExecContext(ctx, "INSERT INTO meta.syncs (sync_id, started_at, config) VALUES (?, now(), ?)", id, config)
	return id, err
}

// EndSync records how a sync ended.
func (d *DB) EndSync(ctx context.Context, id int64, ok bool) error {
	_, err := d.db.ExecContext(ctx, "UPDATE meta.syncs SET finished_at = now(), ok = ? WHERE sync_id = ?", ok, id)
	return err
}

// Limits are a source's error thresholds: the run fails (and lands nothing) when more than
// MaxCount rows are quarantined, or — once at least MinRows rows were read — when the
// quarantined share exceeds MaxRatio. Zero disables a limit.
type Limits struct {
	MaxCount int
	MaxRatio float64
	MinRows  int
}

// Spec is what the landing needs to know about a source.
type Spec struct {
	Source string
	Kind   string
	Key    []string // key columns; rows are identified by key (else by content) and occurrence
	// Required lists source columns that must hold a value that parses as the type; a row
	// that fails goes to quarantine.
	Required map[string]schema.Type
	// Mapped lists the source columns the deployment's mapping uses: if one disappears the
	// source fails with a message naming it.
	Mapped []string
	Limits Limits
	// KeyCheck asks an incremental source for all its keys in this run and marks current rows
	// whose key is gone as deleted.
	KeyCheck bool
}

// Stats are one source's figures for one run.
type Stats struct {
	Source       string
	Kind         string
	Read         int64 // rows the source handed over, quarantined ones included
	Landed       int64 // new or changed rows written
	Unchanged    int64
	Quarantined  int64
	Skipped      int64 // blank, 合计 and note rows
	Deleted      int64 // current rows marked deleted
	Current      int64 // current rows after the run
	Bytes        int64
	Seconds      float64
	CursorBefore string
	CursorAfter  string
	KeyCheck     bool
	Err          error
}

// RowsPerSec is Read over Seconds.
func (s Stats) RowsPerSec() float64 {
	if s.Seconds <= 0 {
		return 0
	}
	return float64(s.Read) / s.Seconds
}

// ErrThreshold marks a run failed by its error thresholds.
var ErrThreshold = errors.New("error threshold exceeded")

// state is a source's committed position.
type state struct {
	cursor  string
	columns []string
}

func (d *DB) state(ctx context.Context, source string) (state, error) {
	var st state
	var cur, cols sql.NullString
	err := d.db.QueryRowContext(ctx, "SELECT cursor, columns FROM meta.source_state WHERE source = ?", source).Scan(&cur, &cols)
	if err == sql.ErrNoRows {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.cursor = cur.String
	if cols.Valid {
		json.Unmarshal([]byte(cols.String), &st.columns)
	}
	return st, nil
}

// Cursor returns a source's committed cursor ("" if none).
func (d *DB) Cursor(ctx context.Context, source string) (string, error) {
	st, err := d.state(ctx, source)
	return st.cursor, err
}

// drift compares the source's columns with the mapping and with the columns seen last time.
// A mapped column that is gone fails the source; other changes are recorded.
func drift(spec Spec, prev, cols []string) (changes [][3]string, err error) {
	have := map[string]bool{}
	for _, c := range cols {
		have[c] = true
	}
	was := map[string]bool{}
	for _, c := range prev {
		was[c] = true
	}
	var added, removed []string
	for _, c := range cols {
		if len(prev) > 0 && !was[c] {
			added = append(added, c)
			changes = append(changes, [3]string{"added", c, "new column kept in the raw landing"})
		}
	}
	for _, c := range prev {
		if !have[c] {
			removed = append(removed, c)
			changes = append(changes, [3]string{"removed", c, "column no longer sent"})
		}
	}
	var missing []string
	for _, c := range spec.Mapped {
		if !have[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("mapped column(s) %s missing at the source", strings.Join(missing, ", "))
		if len(added) > 0 {
			msg += fmt.Sprintf(" (new column(s) %s: renamed? update the mapping)", strings.Join(added, ", "))
		}
		return changes, fmt.Errorf("schema drift: %s; columns now: %s", msg, strings.Join(cols, ", "))
	}
	return changes, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func rawTable(source string) string { return schema.RawSchema + "." + quoteIdent(source) }

// recordFailure stores a failed run's statistics outside the rolled-back transaction.
func (d *DB) recordFailure(ctx context.Context, syncID int64, st Stats, started time.Time) {
	d.db.ExecContext(context.WithoutCancel(ctx), `INSERT INTO meta.runs (sync_id, source, kind, started_at, seconds, rows_read, rows_landed,
		rows_unchanged, rows_quarantined, rows_skipped, rows_deleted, rows_current, bytes, rows_per_sec, cursor_before, cursor_after, key_check, ok, error)
		VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, 0, NULL, ?, ?, ?, ?, ?, false, ?)`,
		syncID, st.Source, st.Kind, started, st.Seconds, st.Read, st.Quarantined, st.Skipped, st.Bytes, st.RowsPerSec(),
		st.CursorBefore, st.CursorBefore, st.KeyCheck, st.Err.Error())
}

// Land reads the source and lands it in one transaction. progress, if not nil, is called
// now and then with the figures so far (from the reading goroutine). Whatever happens, the
// returned Stats say it; on error nothing of this run is kept but a failed entry in meta.runs.
func (d *DB) Land(ctx context.Context, syncID int64, spec Spec, src connectors.Source, progress func(Stats)) (Stats, error) {
	started := time.Now()
	st := Stats{Source: spec.Source, Kind: spec.Kind, KeyCheck: spec.KeyCheck}
	fail := func(err error) (Stats, error) {
		st.Err = err
		st.Seconds = time.Since(started).Seconds()
		d.recordFailure(ctx, syncID, st, started)
		return st, err
	}
	prev, err := d.state(ctx, spec.Source)
	if err != nil {
		return fail(err)
	}
	st.CursorBefore, st.CursorAfter = prev.cursor, prev.cursor
	cols, err := src.Columns(ctx)
	if err != nil {
		return fail(err)
	}
	changes, err := drift(spec, prev.columns, cols)
	if err != nil {
		return fail(err)
	}
	for _, k := range spec.Key {
		if indexOf(cols, k) < 0 {
			return fail(fmt.Errorf("key column %s is not among the source's columns", k))
		}
	}
	if err := d.landTx(ctx, syncID, spec, src, cols, prev, changes, &st, started, progress); err != nil {
		return fail(err)
	}
	return st, nil
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}
