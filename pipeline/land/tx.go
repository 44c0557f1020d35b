//go:build duckdb_arrow

package land

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"communityhub/connectors"
	"communityhub/schema"
)

var viewSeq atomic.Int64

// landTx runs the source into a staging table through Arrow and merges it into the raw table,
// all in one transaction on one connection.
func (d *DB) landTx(ctx context.Context, syncID int64, spec Spec, src connectors.Source, cols []string, prev state,
	changes [][3]string, st *Stats, started time.Time, progress func(Stats)) (err error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	exec := func(q string, args ...any) (int64, error) {
		t0 := time.Now()
		defer func() {
			if os.Getenv("HUB_LAND_TRACE") != "" {
				fmt.Fprintf(os.Stderr, "%6.2fs %s\n", time.Since(t0).Seconds(), firstLine(q))
			}
		}()
		res, err := conn.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", firstLine(q), err)
		}
		n, _ := res.RowsAffected()
		return n, nil
	}
	if _, err := exec("BEGIN TRANSACTION"); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	table := rawTable(spec.Source)
	if err := ensureRawTable(exec, conn, ctx, table, spec.Source, cols); err != nil {
		return err
	}

	// Read the source into a temporary staging table through an Arrow stream.
	readCtx, cancelRead := context.WithCancel(ctx)
	defer cancelRead()
	rel, err := newRelay(readCtx, cols, spec)
	if err != nil {
		return err
	}
	if progress != nil {
		rel.progress = func(read, q, b int64) {
			s := *st
			s.Read, s.Quarantined, s.Bytes, s.Seconds = read, q, b, time.Since(started).Seconds()
			progress(s)
		}
	}
	var readErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(rel.out)
		readErr = src.Read(readCtx, connectors.ReadRequest{Cursor: prev.cursor}, rel)
	}()
	view := fmt.Sprintf("hub_stage_view_%d", viewSeq.Add(1))
	var release func()
	err = conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		release, err = ar.RegisterView(&chanReader{schema: rel.schema, in: rel.out}, view)
		return err
	})
	if err != nil {
		cancelRead()
		drain(rel.out)
		wg.Wait()
		return err
	}
	qcols := make([]string, len(cols))
	for i, c := range cols {
		qcols[i] = quoteIdent(c)
	}
	colList := strings.Join(qcols, ", ")
	now := time.Now().UTC()
	var current int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE _current").Scan(&current); err != nil {
		cancelRead()
		drain(rel.out)
		wg.Wait()
		release()
		return err
	}
	// With no current rows (a first landing) every row is new: stream straight into the raw
	// table. Otherwise stage the read and merge it.
	var stageErr error
	if current == 0 {
		st.Landed, stageErr = exec(fmt.Sprintf(`INSERT INTO %s (%s, _ident, _hash, _run, _loc, _flags, _fetched_at, _current)
			SELECT %s, _ident, _hash, ?, _loc, _flags, ?, true FROM %s`, table, colList, colList, view), syncID, now)
	} else {
		_, stageErr = exec(fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE hub_stage AS SELECT * FROM %s`, view))
	}
	cancelRead()
	drain(rel.out)
	wg.Wait()
	release()
	if readErr != nil && !(errors.Is(readErr, context.Canceled) && stageErr != nil) {
		return readErr
	}
	if stageErr != nil {
		return stageErr
	}
	if err := rel.checkRatio(); err != nil {
		st.Read, st.Quarantined = rel.read, int64(len(rel.rejects))
		return err
	}
	st.Read, st.Bytes, st.Quarantined = rel.read, rel.bytes, int64(len(rel.rejects))
	for _, n := range rel.skipped {
		st.Skipped += int64(n)
	}
	if rel.cursored {
		st.CursorAfter = rel.cursor
	}
	incremental := false
	if inc, ok := src.(connectors.Incremental); ok {
		incremental = inc.Incremental()
	}
	if current > 0 {
		if err := merge(exec, table, colList, syncID, now, st); err != nil {
			return err
		}
		if !incremental {
			// A whole pull: rows not seen any more were deleted at the source.
			if st.Deleted, err = exec(fmt.Sprintf(`UPDATE %[1]s SET _current = false, _ended_run = ?, _end_reason = 'deleted'
				WHERE _current AND _ident IN (SELECT r._ident FROM (SELECT _ident FROM %[1]s WHERE _current) r ANTI JOIN hub_stage s ON s._ident = r._ident)`, table), syncID); err != nil {
				return err
			}
		}
		exec("DROP TABLE hub_stage")
	}
	st.Unchanged = st.Read - st.Quarantined - st.Landed
	if incremental && spec.KeyCheck {
		if st.Deleted, err = d.keyCheck(ctx, conn, exec, table, spec, src, syncID); err != nil {
			return err
		}
	}

	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE _current").Scan(&st.Current); err != nil {
		return err
	}

	// Quarantine, drift, skips, statistics and the cursor commit with the rows.
	for _, rj := range rel.rejects {
		if _, err := exec("INSERT INTO meta.quarantine VALUES (?, ?, ?, ?, ?, ?)", syncID, spec.Source, rj.Loc, rj.Raw, rj.Reason, now); err != nil {
			return err
		}
	}
	for _, c := range changes {
		if _, err := exec("INSERT INTO meta.schema_drift VALUES (?, ?, ?, ?, ?, ?)", syncID, spec.Source, c[0], c[1], c[2], now); err != nil {
			return err
		}
	}
	for reason, n := range rel.skipped {
		if _, err := exec("INSERT INTO meta.skipped VALUES (?, ?, ?, ?)", syncID, spec.Source, reason, n); err != nil {
			return err
		}
	}
	colsJSON, _ := json.Marshal(cols)
	if _, err := exec("INSERT OR REPLACE INTO meta.source_state VALUES (?, ?, ?, ?, ?, ?)", spec.Source, st.CursorAfter, syncID, st.Current, string(colsJSON), now); err != nil {
		return err
	}
	st.Seconds = time.Since(started).Seconds()
	if _, err := exec(`INSERT INTO meta.runs (sync_id, source, kind, started_at, seconds, rows_read, rows_landed, rows_unchanged, rows_quarantined,
		rows_skipped, rows_deleted, rows_current, bytes, rows_per_sec, cursor_before, cursor_after, key_check, ok, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true, NULL)`,
		syncID, spec.Source, spec.Kind, started, st.Seconds, st.Read, st.Landed, st.Unchanged, st.Quarantined, st.Skipped, st.Deleted,
		st.Current, st.Bytes, st.RowsPerSec(), st.CursorBefore, st.CursorAfter, spec.KeyCheck); err != nil {
		return err
	}
	if _, err := exec("COMMIT"); err != nil {
		return err
	}
	committed = true
	return nil
}

// merge lands the staged rows that are new or changed, moves unchanged rows whose location
// changed, and ends the versions that changed.
func merge(exec func(string, ...any) (int64, error), table, colList string, syncID int64, now time.Time, st *Stats) error {
	var err error
	if st.Landed, err = exec(fmt.Sprintf(`INSERT INTO %[1]s (%[2]s, _ident, _hash, _run, _loc, _flags, _fetched_at, _current)
		SELECT %[2]s, s._ident, s._hash, ?, _loc, _flags, ?, true FROM hub_stage s
		ANTI JOIN (SELECT _ident, _hash FROM %[1]s WHERE _current) r ON r._ident = s._ident AND r._hash = s._hash`, table, colList), syncID, now); err != nil {
		return err
	}
	// Unchanged rows that moved (a line inserted above them) get their new location.
	if _, err := exec(fmt.Sprintf(`UPDATE %[1]s r SET _loc = s._loc, _flags = s._flags FROM hub_stage s
		WHERE r._current AND r._run <> ? AND r._ident = s._ident AND r._hash = s._hash AND r._loc IS DISTINCT FROM s._loc`, table), syncID); err != nil {
		return err
	}
	// Older versions of rows that changed are no longer current.
	_, err = exec(fmt.Sprintf(`UPDATE %[1]s SET _current = false, _ended_run = ?, _end_reason = 'changed'
		WHERE _current AND _run <> ? AND _ident IN (SELECT _ident FROM %[1]s WHERE _run = ?)`, table), syncID, syncID, syncID)
	return err
}

// keyCheck lists every key the source still holds and marks current rows with other keys deleted.
func (d *DB) keyCheck(ctx context.Context, conn *sql.Conn, exec func(string, ...any) (int64, error), table string, spec Spec,
	src connectors.Source, syncID int64) (int64, error) {
	kl, ok := src.(connectors.KeyLister)
	if !ok || len(spec.Key) == 0 {
		return 0, fmt.Errorf("key check: source %s cannot list its keys (needs key columns and a kind that lists keys)", spec.Source)
	}
	var defs, eq []string
	for i, k := range spec.Key {
		defs = append(defs, fmt.Sprintf("k%d VARCHAR", i))
		eq = append(eq, fmt.Sprintf("k.k%d = coalesce(r.%s, '')", i, quoteIdent(k)))
	}
	if _, err := exec("CREATE OR REPLACE TEMP TABLE hub_keys (" + strings.Join(defs, ", ") + ")"); err != nil {
		return 0, err
	}
	var app *duckdb.Appender
	err := conn.Raw(func(dc any) error {
		var err error
		app, err = duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "hub_keys")
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("key check: %w", err)
	}
	args := make([]driver.Value, len(spec.Key))
	err = kl.ListKeys(ctx, func(key []string) error {
		for i, v := range key {
			args[i] = v
		}
		return app.AppendRow(args...)
	})
	if cerr := app.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("key check: %w", err)
	}
	n, err := exec(fmt.Sprintf(`UPDATE %s r SET _current = false, _ended_run = ?, _end_reason = 'deleted'
		WHERE _current AND NOT EXISTS (SELECT 1 FROM hub_keys k WHERE %s)`, table, strings.Join(eq, " AND ")), syncID)
	exec("DROP TABLE hub_keys")
	return n, err
}

func ensureRawTable(exec func(string, ...any) (int64, error), conn *sql.Conn, ctx context.Context, table, source string, cols []string) error {
	defs := make([]string, 0, len(cols)+10)
	for _, c := range cols {
		defs = append(defs, quoteIdent(c)+" VARCHAR")
	}
	defs = append(defs, "_ident VARCHAR NOT NULL", "_hash UBIGINT NOT NULL", "_run BIGINT NOT NULL", "_loc VARCHAR", "_flags VARCHAR",
		"_fetched_at TIMESTAMP NOT NULL", "_current BOOLEAN NOT NULL", "_ended_run BIGINT", "_end_reason VARCHAR")
	if _, err := exec(fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", table, strings.Join(defs, ", "))); err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?", schema.RawSchema, source)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var c string
		rows.Scan(&c)
		have[c] = true
	}
	rows.Close()
	for _, c := range cols {
		if !have[c] {
			if _, err := exec(fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s VARCHAR", table, quoteIdent(c))); err != nil {
				return err
			}
		}
	}
	return nil
}

// drain releases what the relay still sends until it closes the channel.
func drain(ch <-chan arrow.RecordBatch) {
	for b := range ch {
		b.Release()
	}
}

func firstLine(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '\n'); i > 0 {
		q = q[:i]
	}
	if len(q) > 120 {
		q = q[:120]
	}
	return q
}
