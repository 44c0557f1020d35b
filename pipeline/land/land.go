// Package land writes what connectors read into the unified database (through pipeline/store):
// one raw table per source holding every row as it came (source columns as text, plus identity,
// hash, run, location, flags and fetch time), the quarantine of unreadable rows, rows held at
// their last good version, schema drift, run statistics and each source's typed cursor.
//
// A source lands in one transaction: its rows, deletions, quarantine, statistics and cursor
// commit together or not at all, so a failed or killed run leaves the source exactly at its
// previous state. Guards fail a run instead of landing it when it would lose people: a pull
// that ends more than Spec.MaxDeleteRatio of the current rows (or reads nothing from a source
// that had rows), a run whose every row is quarantined, a cursor value that does not parse or
// lies in the future. A row that newly fails its checks keeps its last good version current
// (meta.held) while the failure is quarantined. Every attempted run leaves its meta.runs row.
//
// It does not interpret values beyond checking that required fields parse.
package land

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"communityhub/connectors"
	"communityhub/pipeline/store"
	"communityhub/schema"
)

// Limits are a source's error thresholds: the run fails (and lands nothing) when more than
// MaxCount rows are quarantined, or — once at least MinRows rows were read — when the
// quarantined share exceeds MaxRatio. Zero disables a limit. A run whose every row is
// quarantined fails whatever its size.
type Limits struct {
	MaxCount int
	MaxRatio float64
	MinRows  int
}

// DefaultMaxDeleteRatio is the share of a source's current rows one run may end without
// --accept-deletes.
const DefaultMaxDeleteRatio = 0.10

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
	// ReadLimits bound values and rows (ValueBytes, RowBytes): a row over one is quarantined.
	ReadLimits connectors.Limits
	// KeyCheck asks an incremental source for all its keys in this run and marks current rows
	// whose key is gone as deleted.
	KeyCheck bool
	// MaxDeleteRatio is the largest share of current rows a run may end (0: DefaultMaxDeleteRatio;
	// 1 allows any). AcceptDeletes lifts the guard for this run (hub sync --accept-deletes).
	MaxDeleteRatio float64
	AcceptDeletes  bool
	// CursorType is how a ColumnCursor source's cursor values compare (CursorTypes; "" infers it
	// from the stored cursor or the first value). CursorFuture is how far ahead of now a value
	// may lie (0: DefaultCursorFuture; negative: no check).
	CursorType   string
	CursorFuture time.Duration
	// Redact removes secrets from messages before they are stored or returned (nil: none known).
	Redact func(string) string
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
	Held         int64 // current rows kept at their last good version because the new one failed
	WouldDelete  int64 // rows a refused run would have ended (ErrDeletes)
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

// ErrDeletes marks a run refused because it would end too many current rows.
var ErrDeletes = errors.New("deletion guard")

// state is a source's committed position.
type state struct {
	cursor     string
	cursorType string
	columns    []string
	keyDef     []string
	keyKnown   bool // keyDef was recorded (databases from before recorded none)
}

func loadState(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, source string) (state, error) {
	var st state
	var cur, cols, key, typ sql.NullString
	err := q.QueryRowContext(ctx, "SELECT cursor, columns, key_def, cursor_type FROM meta.source_state WHERE source = ?", source).Scan(&cur, &cols, &key, &typ)
	if err == sql.ErrNoRows {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("meta.source_state: %w", err)
	}
	st.cursor, st.cursorType = cur.String, typ.String
	if cols.Valid {
		if err := json.Unmarshal([]byte(cols.String), &st.columns); err != nil {
			return st, fmt.Errorf("meta.source_state columns of %s: %w", source, err)
		}
	}
	if key.Valid {
		st.keyKnown = true
		if err := json.Unmarshal([]byte(key.String), &st.keyDef); err != nil {
			return st, fmt.Errorf("meta.source_state key_def of %s: %w", source, err)
		}
	}
	return st, nil
}

// Cursor returns a source's committed cursor ("" if none).
func Cursor(ctx context.Context, db *store.DB, source string) (string, error) {
	st, err := loadState(ctx, db.SQL(), source)
	return st.cursor, err
}

// drift compares the source's columns with the mapping and with the columns seen last time
// (case-insensitively, as DuckDB does: a case-only rename is recorded, not a new column). A
// mapped column that is gone fails the source; other changes are recorded.
func drift(spec Spec, prev, cols []string) (changes [][3]string, err error) {
	have := map[string]string{}
	for _, c := range cols {
		have[strings.ToLower(c)] = c
	}
	was := map[string]string{}
	for _, c := range prev {
		was[strings.ToLower(c)] = c
	}
	var added []string
	for _, c := range cols {
		if len(prev) == 0 {
			break
		}
		if p, ok := was[strings.ToLower(c)]; !ok {
			added = append(added, c)
			changes = append(changes, [3]string{"added", c, "new column kept in the raw landing"})
		} else if p != c {
			changes = append(changes, [3]string{"renamed", c, fmt.Sprintf("was %s (case only): lands in the same column", p)})
		}
	}
	for _, c := range prev {
		if _, ok := have[strings.ToLower(c)]; !ok {
			changes = append(changes, [3]string{"removed", c, "column no longer sent"})
		}
	}
	var missing []string
	for _, c := range spec.Mapped {
		if _, ok := have[strings.ToLower(c)]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 && len(missing) == len(spec.Mapped) && len(spec.Mapped) > 1 {
		// Nothing in common: not this source's export (a wrong file behind a link, a key file).
		// Its "columns" are not listed: they may be anything, secrets included.
		return changes, fmt.Errorf("schema drift: none of the %d mapped columns is among the source's %d column(s): is this the right file or table?", len(spec.Mapped), len(cols))
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("mapped column(s) %s missing at the source", strings.Join(missing, ", "))
		if len(added) > 0 {
			msg += fmt.Sprintf(" (new column(s) %s: renamed? update the mapping)", strings.Join(excerpts(added, 8), ", "))
		}
		return changes, fmt.Errorf("schema drift: %s; columns now: %s", msg, strings.Join(excerpts(cols, 30), ", "))
	}
	return changes, nil
}

// excerpts shortens a list of names for a message: at most n, each at most 40 characters.
func excerpts(names []string, n int) []string {
	var out []string
	for i, c := range names {
		if i == n {
			out = append(out, fmt.Sprintf("… (%d more)", len(names)-n))
			break
		}
		out = append(out, connectors.Excerpt(c, 40))
	}
	return out
}

func rawTable(source string) string { return schema.RawSchema + "." + store.QuoteIdent(source) }

func (spec Spec) redact(s string) string {
	if spec.Redact == nil {
		return connectors.Redact(s)
	}
	return spec.Redact(s)
}

// Land reads the source and lands it in one transaction. progress, if not nil, is called
// now and then with the figures so far (from the reading goroutine). Whatever happens, the
// returned Stats say it and meta.runs holds a row for the attempt; on error nothing else of this
// run is kept.
func Land(ctx context.Context, db *store.DB, syncID int64, spec Spec, src connectors.Source, progress func(Stats)) (Stats, error) {
	started := time.Now()
	st := Stats{Source: spec.Source, Kind: spec.Kind, KeyCheck: spec.KeyCheck}
	fail := func(err error) (Stats, error) {
		err = redactedError{err, spec.redact(err.Error())}
		st.Err = err
		st.Seconds = time.Since(started).Seconds()
		if rerr := db.RecordFailure(ctx, failedRun(syncID, st, started)); rerr != nil {
			err = errors.Join(err, rerr)
			st.Err = err
		}
		return st, err
	}
	prev, err := loadState(ctx, db.SQL(), spec.Source)
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
	if err := landTx(ctx, db, syncID, spec, src, cols, prev, changes, &st, started, progress); err != nil {
		return fail(err)
	}
	return st, nil
}

// FailedRun records a run that failed before it could reach Land (its connector could not be
// made, say), so that every attempt leaves its meta.runs row.
func FailedRun(ctx context.Context, db *store.DB, syncID int64, st Stats) error {
	return db.RecordFailure(ctx, failedRun(syncID, st, time.Now().Add(-time.Duration(st.Seconds*float64(time.Second)))))
}

func failedRun(syncID int64, st Stats, started time.Time) store.Run {
	msg := ""
	if st.Err != nil {
		msg = st.Err.Error()
	}
	return store.Run{SyncID: syncID, Source: st.Source, Kind: st.Kind, StartedAt: started, Seconds: st.Seconds, Read: st.Read,
		Quarantined: st.Quarantined, Skipped: st.Skipped, WouldDelete: st.WouldDelete, Bytes: st.Bytes, RowsPerSec: st.RowsPerSec(),
		CursorBefore: st.CursorBefore, CursorAfter: st.CursorBefore, KeyCheck: st.KeyCheck, Error: msg}
}

// redactedError keeps the error chain (errors.Is works) but prints without secrets.
type redactedError struct {
	err error
	msg string
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// CheckColumns is what `hub sources check` asks of a source's columns, the same checks the
// landing makes before reading: key, mapped and cursor columns present (case-insensitively, as
// DuckDB names them). It returns the landed names (LandedNames of a new table).
func CheckColumns(spec Spec, src connectors.Source, cols []string) ([]string, error) {
	if _, err := drift(spec, nil, cols); err != nil {
		return nil, err
	}
	for _, k := range spec.Key {
		if indexOf(cols, k) < 0 {
			return nil, fmt.Errorf("key column %s is not among the source's columns", k)
		}
	}
	for c := range spec.Required {
		if indexOf(cols, c) < 0 {
			return nil, fmt.Errorf("required column %s is not among the source's columns", c)
		}
	}
	if cc, ok := src.(connectors.ColumnCursor); ok && cc.CursorColumn() != "" && indexOf(cols, cc.CursorColumn()) < 0 {
		return nil, fmt.Errorf("cursor column %s is not among the source's columns", cc.CursorColumn())
	}
	return LandedNames(cols, nil), nil
}
