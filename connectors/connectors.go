// Package connectors defines how the hub reads a departmental system: the Source contract, the
// registry of source kinds by name, and the Arrow batch layout every kind produces.
//
// It is shaped like database/sql: a tiny required interface (Source), kinds registered by name
// (Register, Open — each kind lives in its own sub-package and registers itself in init), and
// extra abilities as small optional interfaces discovered with a type assertion (Incremental,
// Prober, KeyLister). A connector knows its source and nothing else: not the canonical model, not
// DuckDB. Landing, quarantine thresholds and cursors are the caller's (pipeline/land).
package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// Source is one departmental system, file drop or ledger that the hub pulls.
type Source interface {
	// Columns returns the columns every row carries, in order, as the source names them
	// (spreadsheet headers flattened as "组/列"). It may contact the source.
	Columns(ctx context.Context) ([]string, error)

	// Read streams the source's rows to w until end of input.
	//
	// Contract:
	//   - Rows go to w.Write as Arrow record batches laid out by BatchSchema(Columns()): every
	//     source column as nullable utf8, then LocColumn (where the row sits: "file:line",
	//     "file!sheet!row", "table:key", "permitNo=…" or "#offset") and FlagsColumn.
	//   - A row that cannot be read (bad bytes, wrong column count, a broken record) goes to
	//     w.Reject with its location, raw text and reason, and Read goes on with the next row.
	//     Rows that are not data by design (blank, 合计, notes) are counted with w.Skipped.
	//   - An incremental source starts after req.Cursor and calls w.Checkpoint with the cursor
	//     to resume from once everything before it has been written. The caller commits the
	//     cursor only together with the rows, so a cursor must never run ahead of written rows.
	//   - Transient failures (HTTP 429/5xx, a dropped connection) are retried inside Read as the
	//     source is configured; Read returns an error only when it gives up. Any error means the
	//     run failed: the caller keeps nothing of it.
	//   - Read stops promptly when ctx is cancelled and returns ctx.Err().
	//   - Read returns nil at end of input, after its last Write.
	Read(ctx context.Context, req ReadRequest, w Writer) error
}

// ReadRequest says where a run starts.
type ReadRequest struct {
	Cursor string // the last committed cursor; "" reads from the beginning
}

// Writer receives what a Source reads. Calls come from one goroutine at a time.
type Writer interface {
	// Write takes a batch laid out by BatchSchema. The writer retains what it keeps; the
	// source may release the batch after Write returns. An error stops the read.
	Write(batch arrow.RecordBatch) error
	// Reject records a row that could not be read.
	Reject(r Reject) error
	// Skipped counts rows that are not data by design, by reason ("blank", "total", "note").
	Skipped(reason string, n int)
	// Checkpoint records the cursor to resume from after everything written so far.
	Checkpoint(cursor string)
}

// Reject is a row that could not be read: where it is, its raw text, and why.
type Reject struct {
	Loc    string
	Raw    string
	Reason string
}

// Incremental is implemented by sources that resume from a cursor. A source that does not
// implement it (or answers false) is pulled whole every run, and the caller marks rows that
// disappeared as deleted.
type Incremental interface {
	Incremental() bool
}

// ColumnCursor is implemented by incremental sources whose cursor is the largest value of one of
// their columns (an update time, a sequence number). The landing then owns the cursor: it parses
// the column's values as the configured or inferred type, quarantines rows whose value does not
// parse, is a sentinel (infinity, 9999-…) or lies too far in the future, and moves the cursor
// only by rows that landed. Such a source need not call Checkpoint; if it does, the landing
// ignores it. The source filters with "column >= cursor" so that a row committed late with an
// equal value is read again.
type ColumnCursor interface {
	CursorColumn() string
}

// Prober is implemented by sources that can check, cheaply and without reading data, that they
// are reachable and accept the configured credentials.
type Prober interface {
	Probe(ctx context.Context) error
}

// KeyLister is implemented by incremental sources that can list the keys of every row they
// hold, so that the caller can find rows deleted at the source (key reconciliation). Each call
// of emit gets the values of the key columns, in the configured order.
type KeyLister interface {
	ListKeys(ctx context.Context, emit func(key []string) error) error
}

// Config is what a kind's factory gets: the source's name, the kind's own options as decoded
// from the deployment's config file, and the environment for secrets.
type Config struct {
	Name    string         // the source's name in the config, for messages
	Kind    string         // the registered kind
	BaseDir string         // relative paths in Options are relative to this folder
	Key     []string       // the key columns, if the deployment names any
	Options map[string]any // the kind's options
	// Getenv looks up secrets (tokens, passwords, DSNs). Connectors never read secrets from the
	// config file itself.
	Getenv func(string) string
	// Limits bound what a read may hold in memory (zero fields: DefaultLimits).
	Limits Limits
}

// Factory makes a Source from its config; it validates options but should not contact the source.
type Factory func(cfg Config) (Source, error)

var (
	mu    sync.RWMutex
	kinds = map[string]Factory{}
)

// Register makes a kind available by name. It panics if the name is taken, like sql.Register.
func Register(kind string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := kinds[kind]; dup {
		panic("connectors: Register called twice for kind " + kind)
	}
	kinds[kind] = f
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	mu.RLock()
	defer mu.RUnlock()
	var out []string
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Open makes a Source of the configured kind.
func Open(cfg Config) (Source, error) {
	mu.RLock()
	f, ok := kinds[cfg.Kind]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("source %s: unknown kind %q (known: %v)", cfg.Name, cfg.Kind, Kinds())
	}
	if cfg.Getenv == nil {
		return nil, fmt.Errorf("source %s: no Getenv for secrets", cfg.Name)
	}
	cfg.Limits = cfg.Limits.WithDefaults()
	s, err := f(cfg)
	if err != nil {
		return nil, fmt.Errorf("source %s (%s): %w", cfg.Name, cfg.Kind, err)
	}
	return s, nil
}

// DecodeOptions decodes cfg.Options into a kind's options struct (fields tagged `json:"…"`).
// An option the struct does not know is an error that names it.
func DecodeOptions(cfg Config, into any) error {
	raw, err := json.Marshal(cfg.Options)
	if err != nil {
		return fmt.Errorf("options: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	return nil
}

// Secret reads the environment variable named by an option (e.g. token_env = "HJ_TOKEN").
// An empty name gives ""; a named variable that is unset is an error naming it.
func Secret(cfg Config, option, envName string) (string, error) {
	if envName == "" {
		return "", nil
	}
	v := cfg.Getenv(envName)
	if v == "" {
		return "", fmt.Errorf("option %s: environment variable %s is not set", option, envName)
	}
	return v, nil
}
