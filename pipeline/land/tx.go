//go:build duckdb_arrow

package land

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"communityhub/connectors"
	"communityhub/pipeline/store"
	"communityhub/schema"
)

var viewSeq atomic.Int64

// execer runs one statement of a landing, naming it in errors (and tracing it when asked).
type execer func(q string, args ...any) (int64, error)

// landTx runs the source into a staging table through Arrow and merges it into the raw table,
// all in one transaction on one connection.
func landTx(ctx context.Context, db *store.DB, syncID int64, spec Spec, src connectors.Source, cols []string, prev state,
	changes [][3]string, st *Stats, started time.Time, progress func(Stats)) error {
	return db.Tx(ctx, func(conn *sql.Conn) error {
		exec := func(q string, args ...any) (int64, error) {
			t0 := time.Now()
			defer func() {
				if db.Trace != nil {
					fmt.Fprintf(db.Trace, "%6.2fs %s\n", time.Since(t0).Seconds(), firstLine(q))
				}
			}()
			res, err := conn.ExecContext(ctx, q, args...)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", firstLine(q), err)
			}
			n, _ := res.RowsAffected()
			return n, nil
		}
		return landConn(ctx, conn, exec, syncID, spec, src, cols, prev, changes, st, started, progress)
	})
}

func landConn(ctx context.Context, conn *sql.Conn, exec execer, syncID int64, spec Spec, src connectors.Source, cols []string, prev state,
	changes [][3]string, st *Stats, started time.Time, progress func(Stats)) error {
	table := rawTable(spec.Source)
	names, err := ensureRawTable(ctx, exec, conn, table, spec.Source, cols)
	if err != nil {
		return err
	}
	landed := func(c string) string { return store.QuoteIdent(names[indexOf(cols, c)]) }
	var current int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE _current").Scan(&current); err != nil {
		return err
	}
	// A changed key definition re-identifies the current rows before anything is merged, so the
	// new read finds them under their new identities (no second current row per person).
	if prev.keyKnown && !slices.Equal(prev.keyDef, spec.Key) && current > 0 {
		if err := reidentify(exec, table, spec.Key, landed); err != nil {
			return fmt.Errorf("re-identifying rows for the new key (%s → %s): %w", strings.Join(prev.keyDef, ","), strings.Join(spec.Key, ","), err)
		}
		changes = append(changes, [3]string{"key", strings.Join(spec.Key, ","), fmt.Sprintf("key was %q: current rows re-identified", strings.Join(prev.keyDef, ","))})
	}

	readCtx, cancelRead := context.WithCancel(ctx)
	defer cancelRead()
	rel, err := newRelay(readCtx, cols, names, spec)
	if err != nil {
		return err
	}
	if cc, ok := src.(connectors.ColumnCursor); ok && cc.CursorColumn() != "" {
		if rel.curIdx = indexOf(cols, cc.CursorColumn()); rel.curIdx < 0 {
			return fmt.Errorf("cursor column %s is not among the source's columns", cc.CursorColumn())
		}
		typ := spec.CursorType
		if typ == "" {
			typ = prev.cursorType
		}
		future := spec.CursorFuture
		if future == 0 {
			future = DefaultCursorFuture
		}
		rel.cursor = &cursorParser{column: cc.CursorColumn(), typ: typ, future: future, now: time.Now().UTC()}
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
	stop := func() {
		cancelRead()
		drain(rel.out)
		wg.Wait()
	}
	// DuckDB's Arrow scan is registered as a view on this connection; it is dropped inside the
	// transaction, so no committed database ever holds it (a view over pointers of a process
	// long gone crashes whoever reads it).
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
		stop()
		return err
	}
	qnames := make([]string, len(names))
	for i, c := range names {
		qnames[i] = store.QuoteIdent(c)
	}
	colList := strings.Join(qnames, ", ")
	now := time.Now().UTC()
	// With no current rows (a first landing) every row is new: stream straight into the raw
	// table. Otherwise stage the read and merge it.
	var stageErr error
	if current == 0 {
		st.Landed, stageErr = exec(fmt.Sprintf(`INSERT INTO %s (%s, _ident, _hash, _run, _loc, _flags, _fetched_at, _current)
			SELECT %s, _ident, _hash, ?, _loc, _flags, ?, true FROM %s`, table, colList, colList, view), syncID, now)
	} else {
		_, stageErr = exec(fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE hub_stage AS SELECT * FROM %s`, view))
	}
	stop()
	release()
	if _, err := exec("DROP VIEW IF EXISTS " + store.QuoteIdent(view)); err != nil && stageErr == nil {
		stageErr = err
	}
	if readErr != nil && !(errors.Is(readErr, context.Canceled) && stageErr != nil) {
		return readErr
	}
	if stageErr != nil {
		return stageErr
	}
	st.Read, st.Bytes, st.Quarantined = rel.rows, rel.bytes, int64(len(rel.rejects))
	for _, n := range rel.skipped {
		st.Skipped += int64(n)
	}
	if err := rel.checkRatio(); err != nil {
		return err
	}
	if rel.cursor != nil {
		st.CursorAfter = rel.cursor.after(prev.cursor)
	} else if rel.cursored {
		st.CursorAfter = rel.checkpoint
	}
	incremental := false
	if inc, ok := src.(connectors.Incremental); ok {
		incremental = inc.Incremental()
	}
	dataRows := st.Read - st.Quarantined

	// Rows whose new version failed: their last good version stays current, and is held.
	heldCond := "false"
	if len(rel.failed) > 0 {
		if err := stageFailed(ctx, exec, conn, rel.failed); err != nil {
			return err
		}
		heldCond = `(_ident IN (SELECT ident FROM hub_failed WHERE ident IS NOT NULL) OR _loc IN (SELECT loc FROM hub_failed WHERE loc IS NOT NULL))`
	}
	if current > 0 {
		if !incremental && dataRows == 0 && !spec.AcceptDeletes {
			st.WouldDelete = current
			return fmt.Errorf("%w: the pull read no data rows but the source has %d current rows; nothing was ended. If the source really is empty now, run `hub sync --accept-deletes %s`",
				ErrDeletes, current, spec.Source)
		}
		if err := merge(exec, table, colList, syncID, now, st); err != nil {
			return err
		}
		if !incremental {
			// A whole pull: rows not seen any more were deleted at the source.
			gone := fmt.Sprintf(`_current AND _run <> %d AND NOT %s AND _ident IN (SELECT r._ident FROM (SELECT _ident FROM %s WHERE _current) r ANTI JOIN hub_stage s ON s._ident = r._ident)`, syncID, heldCond, table)
			if err := guardDeletes(ctx, conn, spec, table, gone, current, "the pull", st); err != nil {
				return err
			}
			if st.Deleted, err = exec(fmt.Sprintf(`UPDATE %s SET _current = false, _ended_run = ?, _end_reason = 'deleted' WHERE %s`, table, gone), syncID); err != nil {
				return err
			}
		}
		if _, err := exec("DROP TABLE hub_stage"); err != nil {
			return err
		}
	}
	st.Unchanged = dataRows - st.Landed
	if incremental && spec.KeyCheck {
		if st.Deleted, err = keyCheck(ctx, conn, exec, table, spec, src, syncID, landed, current, st); err != nil {
			return err
		}
	}
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE _current").Scan(&st.Current); err != nil {
		return err
	}
	// Held rows: current rows whose source row failed this run (none in the usual run: then only
	// the source's old entries go).
	if len(rel.failed) == 0 {
		if _, err := exec(`DELETE FROM meta.held WHERE source = ?`, spec.Source); err != nil {
			return err
		}
	} else {
		if _, err := exec(`DELETE FROM meta.held WHERE source = ? AND ident NOT IN (SELECT _ident FROM `+table+` WHERE _current AND `+heldCond+`)`, spec.Source); err != nil {
			return err
		}
		if _, err := exec(`UPDATE meta.held SET last_sync = ? WHERE source = ?`, syncID, spec.Source); err != nil {
			return err
		}
		if _, err := exec(`INSERT INTO meta.held SELECT ?, r._ident, r._loc, ?, ?, (SELECT min(reason) FROM hub_failed f WHERE f.ident = r._ident OR f.loc = r._loc)
			FROM `+table+` r WHERE r._current AND `+heldCond+` AND r._ident NOT IN (SELECT ident FROM meta.held WHERE source = ?)`, spec.Source, syncID, syncID, spec.Source); err != nil {
			return err
		}
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM meta.held WHERE source = ?`, spec.Source).Scan(&st.Held); err != nil {
			return err
		}
		if _, err := exec("DROP TABLE hub_failed"); err != nil {
			return err
		}
	}

	// Quarantine, drift, skips, statistics and the cursor commit with the rows.
	err = store.Append(conn, "meta", "quarantine", len(rel.rejects), func(i int) []driver.Value {
		rj := rel.rejects[i]
		return []driver.Value{syncID, spec.Source, rj.Loc, spec.redact(rj.Raw), spec.redact(rj.Reason), now}
	})
	if err != nil {
		return err
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
	keyJSON, _ := json.Marshal(append([]string{}, spec.Key...))
	namesJSON, _ := json.Marshal(names)
	curType := ""
	if rel.cursor != nil {
		curType = rel.cursor.typ
	}
	if _, err := exec(`INSERT OR REPLACE INTO meta.source_state (source, cursor, last_sync, rows_current, columns, updated_at, key_def, cursor_type, landed_names)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, spec.Source, st.CursorAfter, syncID, st.Current, string(colsJSON), now, string(keyJSON), curType, string(namesJSON)); err != nil {
		return err
	}
	st.Seconds = time.Since(started).Seconds()
	cur := st.Current
	return store.WriteRun(ctx, conn, store.Run{SyncID: syncID, Source: spec.Source, Kind: spec.Kind, StartedAt: started, Seconds: st.Seconds,
		Read: st.Read, Landed: st.Landed, Unchanged: st.Unchanged, Quarantined: st.Quarantined, Skipped: st.Skipped, Deleted: st.Deleted,
		Held: st.Held, Current: &cur, Bytes: st.Bytes, RowsPerSec: st.RowsPerSec(), CursorBefore: st.CursorBefore, CursorAfter: st.CursorAfter,
		KeyCheck: spec.KeyCheck, OK: true})
}

// guardDeletes refuses a run that would end more than the allowed share of current rows.
func guardDeletes(ctx context.Context, conn *sql.Conn, spec Spec, table, cond string, current int64, what string, st *Stats) error {
	var would int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE "+cond).Scan(&would); err != nil {
		return err
	}
	ratio := spec.MaxDeleteRatio
	if ratio == 0 {
		ratio = DefaultMaxDeleteRatio
	}
	if spec.AcceptDeletes || would == 0 || float64(would) <= ratio*float64(current) {
		return nil
	}
	st.WouldDelete = would
	return fmt.Errorf("%w: %s would end %d of %d current rows (%.1f%% > max_delete_ratio %.0f%%); nothing was ended. If they really are gone at the source, run `hub sync --accept-deletes %s`",
		ErrDeletes, what, would, current, 100*float64(would)/float64(current), 100*ratio, spec.Source)
}

// stageFailed puts the identities and locations of this run's failed rows in hub_failed.
func stageFailed(ctx context.Context, exec execer, conn *sql.Conn, failed []failedRow) error {
	if _, err := exec("CREATE OR REPLACE TEMP TABLE hub_failed (ident VARCHAR, loc VARCHAR, reason VARCHAR)"); err != nil {
		return err
	}
	return store.AppendTemp(conn, "hub_failed", len(failed), func(i int) []driver.Value {
		f := failed[i]
		var id, loc any
		if f.ident != "" {
			id = f.ident
		}
		if f.loc != "" {
			loc = f.loc
		}
		return []driver.Value{id, loc, f.reason}
	})
}

// reidentify recomputes the identity of every current row under the key columns key (as the
// relay computes it: key values joined by \x1f, or the content hash, then \x1e and the
// occurrence).
func reidentify(exec execer, table string, key []string, landed func(string) string) error {
	k := "lower(printf('%x', _hash))"
	if len(key) > 0 {
		parts := make([]string, len(key))
		for i, c := range key {
			parts[i] = "coalesce(" + landed(c) + ", '')"
		}
		k = strings.Join(parts, " || chr(31) || ")
	}
	_, err := exec(fmt.Sprintf(`UPDATE %[1]s t SET _ident = n.id FROM (
		SELECT rid, k || chr(30) || CAST(row_number() OVER (PARTITION BY k ORDER BY _loc, rid) AS VARCHAR) AS id
		FROM (SELECT rowid AS rid, _loc, %[2]s AS k FROM %[1]s WHERE _current)) n
		WHERE t.rowid = n.rid`, table, k))
	return err
}

// merge lands the staged rows that are new or changed, moves unchanged rows whose location
// changed, and ends the versions that changed.
func merge(exec execer, table, colList string, syncID int64, now time.Time, st *Stats) error {
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

// keyCheck lists every key the source still holds and marks current rows with other keys
// deleted, within the deletion guard.
func keyCheck(ctx context.Context, conn *sql.Conn, exec execer, table string, spec Spec, src connectors.Source, syncID int64,
	landed func(string) string, current int64, st *Stats) (int64, error) {
	kl, ok := src.(connectors.KeyLister)
	if !ok || len(spec.Key) == 0 {
		return 0, fmt.Errorf("key check: source %s cannot list its keys (needs key columns and a kind that lists keys)", spec.Source)
	}
	var defs, eq []string
	for i, k := range spec.Key {
		defs = append(defs, fmt.Sprintf("k%d VARCHAR", i))
		eq = append(eq, fmt.Sprintf("k.k%d = coalesce(r.%s, '')", i, landed(k)))
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
	gone := fmt.Sprintf(`_current AND NOT EXISTS (SELECT 1 FROM hub_keys k WHERE %s)`, strings.Join(eq, " AND "))
	if err := guardDeletes(ctx, conn, spec, table+" r", gone, max(current, 1), "the key check", st); err != nil {
		return 0, err
	}
	n, err := exec(fmt.Sprintf(`UPDATE %s r SET _current = false, _ended_run = ?, _end_reason = 'deleted' WHERE %s`, table, gone), syncID)
	if err != nil {
		return 0, err
	}
	_, err = exec("DROP TABLE hub_keys")
	return n, err
}

// ensureRawTable creates the raw table or adds the columns it lacks, and returns the landed
// names of cols (LandedNames).
func ensureRawTable(ctx context.Context, exec execer, conn *sql.Conn, table, source string, cols []string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position", schema.RawSchema, source)
	if err != nil {
		return nil, err
	}
	var existing []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return nil, err
		}
		existing = append(existing, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	names := LandedNames(cols, existing)
	if len(existing) == 0 {
		defs := make([]string, 0, len(cols)+10)
		for _, c := range names {
			defs = append(defs, store.QuoteIdent(c)+" VARCHAR")
		}
		defs = append(defs, "_ident VARCHAR NOT NULL", "_hash UBIGINT NOT NULL", "_run BIGINT NOT NULL", "_loc VARCHAR", "_flags VARCHAR",
			"_fetched_at TIMESTAMP NOT NULL", "_current BOOLEAN NOT NULL", "_ended_run BIGINT", "_end_reason VARCHAR")
		_, err := exec(fmt.Sprintf("CREATE TABLE %s (%s)", table, strings.Join(defs, ", ")))
		return names, err
	}
	have := map[string]bool{}
	for _, c := range existing {
		have[strings.ToLower(c)] = true
	}
	for _, c := range names {
		if !have[strings.ToLower(c)] {
			if _, err := exec(fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s VARCHAR", table, store.QuoteIdent(c))); err != nil {
				return nil, err
			}
		}
	}
	return names, nil
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
