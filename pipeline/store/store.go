// Package store owns the unified resident database: opening the DuckDB file, its versioned
// migrations (the schema version is recorded and migrations apply in order, each in its own
// transaction), and the transactional write helpers every stage writes through — a transaction
// on one connection (Tx), replacing derived tables inside it (Replace) and bulk appends (Append).
// The sync and run bookkeeping tables (meta.syncs, meta.runs) are written here too, so that every
// attempted run leaves its row even when its stage failed before writing anything.
//
// Stages own their own read queries; they reach the handle through SQL().
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2" // also the "duckdb" database/sql driver
)

// Options tune how the database is opened.
type Options struct {
	// MemoryLimit is DuckDB's memory_limit ("2GB" when empty): DuckDB takes 80% of the machine
	// by default, and the hub's Go side needs its share.
	MemoryLimit string
	// Trace, when set, receives each landing statement with its time.
	Trace io.Writer
}

// DB is the unified resident database.
type DB struct {
	db    *sql.DB
	Path  string
	Trace io.Writer
}

// Open opens (creating if needed) the DuckDB file and applies the migrations it lacks.
func Open(ctx context.Context, path string, o Options) (*DB, error) {
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	limit := o.MemoryLimit
	if limit == "" {
		limit = "2GB"
	}
	if _, err := db.ExecContext(ctx, "SET memory_limit = '"+strings.ReplaceAll(limit, "'", "")+"'"); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: memory limit %q: %w", path, limit, err)
	}
	d := &DB{db: db, Path: path, Trace: o.Trace}
	if err := d.migrate(ctx, Latest()); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// SQL is the database handle, for the read queries of the stages.
func (d *DB) SQL() *sql.DB { return d.db }

// Close closes the database (checkpointing its WAL).
func (d *DB) Close() error { return d.db.Close() }

// Tx runs fn in one transaction on one connection: it commits when fn returns nil and rolls
// back otherwise (also when ctx is cancelled or the process dies: DuckDB's WAL never holds an
// uncommitted transaction). Readers see everything fn wrote or none of it.
func (d *DB) Tx(ctx context.Context, fn func(conn *sql.Conn) error) error {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := fn(conn); err != nil {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			return errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Replace empties the given tables on conn (inside the caller's transaction), for a stage that
// rewrites its derived tables whole.
func Replace(ctx context.Context, conn *sql.Conn, tables ...string) error {
	for _, t := range tables {
		if _, err := conn.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("empty %s: %w", t, err)
		}
	}
	return nil
}

// Append writes n rows to schema.table through DuckDB's appender on conn (within its
// transaction). row(i) gives the i-th row's values in column order.
func Append(conn *sql.Conn, schemaName, table string, n int, row func(i int) []driver.Value) error {
	return appendTo(conn, "", schemaName, table, n, row)
}

// AppendTemp is Append to a temporary table of conn.
func AppendTemp(conn *sql.Conn, table string, n int, row func(i int) []driver.Value) error {
	return appendTo(conn, "temp", "main", table, n, row)
}

func appendTo(conn *sql.Conn, catalog, schemaName, table string, n int, row func(i int) []driver.Value) error {
	if n == 0 {
		return nil
	}
	err := conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), catalog, schemaName, table)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := app.AppendRow(row(i)...); err != nil {
				app.Close()
				return err
			}
		}
		return app.Close()
	})
	if err != nil {
		return fmt.Errorf("%s.%s: %w", schemaName, table, err)
	}
	return nil
}

// BeginSync records a sync invocation and returns its id (one more than the last).
func (d *DB) BeginSync(ctx context.Context, config string) (int64, error) {
	var id int64
	err := d.Tx(ctx, func(conn *sql.Conn) error {
		if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(sync_id), 0) + 1 FROM meta.syncs").Scan(&id); err != nil {
			return err
		}
		_, err := conn.ExecContext(ctx, "INSERT INTO meta.syncs (sync_id, started_at, config) VALUES (?, now(), ?)", id, config)
		return err
	})
	return id, err
}

// EndSync records how a sync ended.
func (d *DB) EndSync(ctx context.Context, id int64, ok bool) error {
	_, err := d.db.ExecContext(ctx, "UPDATE meta.syncs SET finished_at = now(), ok = ? WHERE sync_id = ?", ok, id)
	return err
}

// Run is one source's row in meta.runs: the figures of one attempt, ok or not.
type Run struct {
	SyncID                               int64
	Source, Kind                         string
	StartedAt                            time.Time
	Seconds                              float64
	Read, Landed, Unchanged, Quarantined int64
	Skipped, Deleted, Held, WouldDelete  int64
	Current                              *int64 // nil when the run failed
	Bytes                                int64
	RowsPerSec                           float64
	CursorBefore, CursorAfter            string
	KeyCheck, OK                         bool
	Error                                string
}

const insertRun = `INSERT INTO meta.runs (sync_id, source, kind, started_at, finished_at, seconds, rows_read, rows_landed,
	rows_unchanged, rows_quarantined, rows_skipped, rows_deleted, rows_held, rows_would_delete, rows_current, bytes, rows_per_sec,
	cursor_before, cursor_after, key_check, ok, error) VALUES (?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func (r Run) args() []any {
	var cur any
	if r.Current != nil {
		cur = *r.Current
	}
	var errText any
	if r.Error != "" {
		errText = r.Error
	}
	return []any{r.SyncID, r.Source, r.Kind, r.StartedAt, r.Seconds, r.Read, r.Landed, r.Unchanged, r.Quarantined, r.Skipped,
		r.Deleted, r.Held, r.WouldDelete, cur, r.Bytes, r.RowsPerSec, r.CursorBefore, r.CursorAfter, r.KeyCheck, r.OK, errText}
}

// WriteRun writes a run's row on conn, inside the transaction that lands the run's data.
func WriteRun(ctx context.Context, conn *sql.Conn, r Run) error {
	_, err := conn.ExecContext(ctx, insertRun, r.args()...)
	return err
}

// RecordFailure writes a failed run's row in a write of its own, apart from the rolled-back
// landing, retrying a few times (a full disk may free up, a checkpoint may end): every attempted
// run leaves its row. It ignores ctx's cancellation, so an interrupted run is recorded too.
func (d *DB) RecordFailure(ctx context.Context, r Run) error {
	ctx = context.WithoutCancel(ctx)
	r.OK = false
	var err error
	for attempt, wait := 0, 50*time.Millisecond; attempt < 5; attempt, wait = attempt+1, wait*3 {
		if _, err = d.db.ExecContext(ctx, insertRun, r.args()...); err == nil {
			return nil
		}
		time.Sleep(wait)
	}
	// Last resort: the row without the statistics (a smaller write).
	if _, err2 := d.db.ExecContext(ctx, `INSERT INTO meta.runs (sync_id, source, kind, started_at, finished_at, ok, error)
		VALUES (?, ?, ?, ?, now(), false, ?)`, r.SyncID, r.Source, r.Kind, r.StartedAt, r.Error); err2 == nil {
		return nil
	}
	return fmt.Errorf("meta.runs: recording the failure of %s: %w", r.Source, err)
}

// Count is one figure of a reconcile run for resolve.counts: a stage ("records", "resolve"),
// the source it concerns ("" for all), what was counted, how many, and a detail (a blocking key).
type Count struct {
	Stage, Source, Item string
	N                   int64
	Detail              string
}

// WriteCounts appends a run's counts on conn, inside the run's transaction.
func WriteCounts(conn *sql.Conn, run int64, counts []Count) error {
	return Append(conn, "resolve", "counts", len(counts), func(i int) []driver.Value {
		c := counts[i]
		var detail any
		if c.Detail != "" {
			detail = c.Detail
		}
		return []driver.Value{run, c.Stage, c.Source, c.Item, c.N, detail}
	})
}
