package land

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"communityhub/connectors"
	"communityhub/pipeline/standardize"
	"communityhub/schema"
)

// relay is the connectors.Writer the landing hands to a source. It checks each row (valid
// UTF-8, required fields parse), moves failing rows to the quarantine, adds the row hash,
// enforces the count threshold, and passes batches on to DuckDB through a channel.
type relay struct {
	ctx      context.Context
	cols     []string
	required []reqCol
	limits   Limits
	out      chan arrow.RecordBatch
	schema   *arrow.Schema // cols + _loc + _flags + _hash + _ident
	keyIdx   []int         // key columns; none = identify rows by content
	seen     map[uint64]uint32
	read     connectors.Limits
	cursor   *cursorParser // nil unless the source is a ColumnCursor
	curIdx   int

	mu         sync.Mutex // guards the figures below, read by progress reporting
	rows       int64
	bytes      int64
	rejects    []connectors.Reject
	failed     []failedRow // rejected rows with their identity, for holding the last good version
	curRejects int64       // rejects because of the cursor value
	skipped    map[string]int
	checkpoint string
	cursored   bool
	progress   func(read, quarantined, bytes int64)
}

// failedRow is a data row that failed its checks: its identity (keyed sources) and location
// find the last good version to hold.
type failedRow struct {
	ident, loc, reason string
}

type reqCol struct {
	idx  int
	name string
	typ  schema.Type
}

// newRelay makes the writer for a source with the given columns, landed under names.
func newRelay(ctx context.Context, cols, names []string, spec Spec) (*relay, error) {
	r := &relay{ctx: ctx, cols: cols, limits: spec.Limits, read: spec.ReadLimits.WithDefaults(), out: make(chan arrow.RecordBatch, 2),
		skipped: map[string]int{}, seen: map[uint64]uint32{}, curIdx: -1}
	for _, k := range spec.Key {
		i := indexOf(cols, k)
		if i < 0 {
			return nil, fmt.Errorf("key column %s is not among the source's columns", k)
		}
		r.keyIdx = append(r.keyIdx, i)
	}
	for c, t := range spec.Required {
		i := indexOf(cols, c)
		if i < 0 {
			return nil, fmt.Errorf("required column %s is not among the source's columns", c)
		}
		r.required = append(r.required, reqCol{i, c, t})
	}
	fields := append([]arrow.Field(nil), connectors.BatchSchema(names).Fields()...)
	fields = append(fields, arrow.Field{Name: "_hash", Type: arrow.PrimitiveTypes.Uint64}, arrow.Field{Name: "_ident", Type: arrow.BinaryTypes.String})
	r.schema = arrow.NewSchema(fields, nil)
	return r, nil
}

// checkValue says why a required value is not acceptable ("" if it is).
func checkValue(t schema.Type, v string) string {
	if strings.TrimSpace(v) == "" {
		return "empty"
	}
	var err error
	switch t {
	case schema.Date:
		_, _, err = standardize.ParseDate(v)
	case schema.Timestamp:
		_, err = standardize.ParseTimestamp(v)
	case schema.Int:
		_, err = standardize.ParseInt(v)
	case schema.Decimal:
		_, err = standardize.ParseDecimal(v)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

const fnvOffset, fnvPrime = 14695981039346656037, 1099511628211

// Write validates and hashes the batch and sends it on: rows that fail a check (invalid
// UTF-8, a required field, a value or row limit, the cursor value) go to the quarantine; NUL
// bytes are removed from values and flagged ("column:nul").
func (r *relay) Write(b arrow.RecordBatch) error {
	n := int(b.NumRows())
	nc := len(r.cols)
	if int(b.NumCols()) != nc+2 {
		return fmt.Errorf("batch has %d columns, want %d", b.NumCols(), nc+2)
	}
	strs := make([]*array.String, nc+2)
	for i := range strs {
		s, ok := b.Column(i).(*array.String)
		if !ok {
			return fmt.Errorf("column %d is %s, want utf8", i, b.Column(i).DataType())
		}
		strs[i] = s
	}
	hb := array.NewUint64Builder(memory.DefaultAllocator)
	defer hb.Release()
	hb.Reserve(n)
	ib := array.NewStringBuilder(memory.DefaultAllocator)
	defer ib.Release()
	ib.Reserve(n)
	var ident []byte
	var keep []int           // rows kept when some fail or change; nil = all, as they came
	var fixes map[int]string // row → flags, for rows whose values had NUL bytes removed
	var bytes int64
	var bad []connectors.Reject
	var failed []failedRow
	curBad := int64(0)
	for row := 0; row < n; row++ {
		h := uint64(fnvOffset)
		reason := ""
		rowBytes := int64(0)
		nul := ""
		for i := 0; i < nc; i++ {
			if strs[i].IsNull(row) {
				h = (h ^ 0xFF) * fnvPrime
			} else {
				v := strs[i].Value(row)
				bytes += int64(len(v))
				rowBytes += int64(len(v)) + 1
				if reason == "" && int64(len(v)) > r.read.ValueBytes {
					reason = fmt.Sprintf("column %s: %s", r.cols[i], connectors.Exceeded(fmt.Sprintf("a value of %d bytes", len(v)), r.read.ValueBytes, "value_bytes"))
				}
				if strings.IndexByte(v, 0) >= 0 {
					nul += r.cols[i] + ":nul;"
					v = strings.ReplaceAll(v, "\x00", "")
				}
				for j := 0; j < len(v); j++ {
					h = (h ^ uint64(v[j])) * fnvPrime
				}
				if reason == "" && !utf8.ValidString(v) {
					reason = fmt.Sprintf("column %s: invalid UTF-8", r.cols[i])
				}
			}
			h = (h ^ 0x1F) * fnvPrime
		}
		if reason == "" && rowBytes > r.read.RowBytes {
			reason = connectors.Exceeded(fmt.Sprintf("a row of %d bytes", rowBytes), r.read.RowBytes, "row_bytes")
		}
		for _, rc := range r.required {
			if reason != "" {
				break
			}
			v := ""
			if strs[rc.idx].IsValid(row) {
				v = strs[rc.idx].Value(row)
			}
			if why := checkValue(rc.typ, v); why != "" {
				reason = fmt.Sprintf("required column %s (%s): %s", rc.name, rc.typ, why)
			}
		}
		if reason == "" && r.cursor != nil && strs[r.curIdx].IsValid(row) {
			if why := r.cursor.check(strs[r.curIdx].Value(row)); why != "" {
				reason = why
				curBad++
			}
		}
		if reason != "" || (nul != "" && keep == nil) {
			if keep == nil {
				keep = make([]int, 0, n)
				for k := 0; k < row; k++ {
					keep = append(keep, k)
				}
			}
		}
		ident = r.ident(ident[:0], strs, row, h)
		if reason != "" {
			loc := strs[nc].Value(row)
			bad = append(bad, connectors.Reject{Loc: loc, Raw: rowText(strs[:nc], row), Reason: reason})
			fr := failedRow{loc: loc, reason: reason}
			if len(r.keyIdx) > 0 {
				fr.ident = string(ident)
			}
			failed = append(failed, fr)
			continue
		}
		if keep != nil {
			keep = append(keep, row)
		}
		if nul != "" {
			if fixes == nil {
				fixes = map[int]string{}
			}
			fl := strs[nc+1].Value(row)
			if fl != "" && !strings.HasSuffix(fl, ";") {
				fl += ";"
			}
			fixes[row] = strings.TrimSuffix(fl+nul, ";")
		}
		hb.UnsafeAppend(h)
		ib.BinaryBuilder.Append(ident)
	}
	hashes := hb.NewUint64Array()
	defer hashes.Release()
	idents := ib.NewStringArray()
	defer idents.Release()
	r.mu.Lock()
	r.rows += int64(n - len(bad)) // Reject counts the others
	r.bytes += bytes
	r.failed = append(r.failed, failed...)
	r.curRejects += curBad
	r.mu.Unlock()
	for _, rj := range bad {
		if err := r.reject(rj); err != nil {
			return err
		}
	}
	var out arrow.RecordBatch
	if keep == nil {
		cols := make([]arrow.Array, 0, nc+3)
		for i := 0; i < nc+2; i++ {
			cols = append(cols, b.Column(i))
		}
		cols = append(cols, hashes, idents)
		out = array.NewRecordBatch(r.schema, cols, int64(n))
	} else {
		out = filtered(r.schema, strs, keep, fixes, hashes, idents)
	}
	if out.NumRows() == 0 {
		out.Release()
		return nil
	}
	select {
	case r.out <- out:
		r.report()
		return nil
	case <-r.ctx.Done():
		out.Release()
		return r.ctx.Err()
	}
}

// filtered rebuilds a batch from the kept rows, with NUL bytes removed and flagged in the rows of
// fixes (rare: only batches with rejected or fixed rows).
func filtered(schema *arrow.Schema, strs []*array.String, keep []int, fixes map[int]string, hashes *array.Uint64, idents *array.String) arrow.RecordBatch {
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	flagsCol := len(strs) - 1
	for i, s := range strs {
		sb := rb.Field(i).(*array.StringBuilder)
		for _, row := range keep {
			fl, fixed := fixes[row]
			switch {
			case i == flagsCol && fixed:
				sb.Append(fl)
			case s.IsNull(row):
				sb.AppendNull()
			case fixed:
				sb.Append(strings.ReplaceAll(s.Value(row), "\x00", ""))
			default:
				sb.Append(s.Value(row))
			}
		}
	}
	hb := rb.Field(len(strs)).(*array.Uint64Builder)
	ib := rb.Field(len(strs) + 1).(*array.StringBuilder)
	for k := range keep {
		hb.Append(hashes.Value(k))
		ib.Append(idents.Value(k))
	}
	return rb.NewRecordBatch()
}

// ident appends the row's identity to buf: its key values (or, without a key, its content
// hash), then "\x1e" and the occurrence of that key (or content) so far in this read — so two
// identical rows at the source are two rows in the landing, and a stable file gets stable
// identities.
func (r *relay) ident(buf []byte, strs []*array.String, row int, h uint64) []byte {
	if len(r.keyIdx) == 0 {
		buf = strconv.AppendUint(buf, h, 16)
	} else {
		for j, i := range r.keyIdx {
			if j > 0 {
				buf = append(buf, 0x1f)
			}
			if strs[i].IsValid(row) {
				buf = append(buf, strs[i].Value(row)...)
			}
		}
	}
	k := uint64(fnvOffset)
	for _, c := range buf {
		k = (k ^ uint64(c)) * fnvPrime
	}
	r.seen[k]++
	buf = append(buf, 0x1e)
	return strconv.AppendUint(buf, uint64(r.seen[k]), 10)
}

func rowText(cols []*array.String, row int) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		if c.IsValid(row) {
			parts[i] = strings.ToValidUTF8(c.Value(row), "\uFFFD")
		}
	}
	return strings.Join(parts, "\t")
}

// Reject keeps a row the source could not read for the quarantine (its location finds the last
// good version to hold) and enforces the count threshold.
func (r *relay) Reject(rj connectors.Reject) error {
	r.mu.Lock()
	r.failed = append(r.failed, failedRow{loc: rj.Loc, reason: rj.Reason})
	r.mu.Unlock()
	return r.reject(rj)
}

func (r *relay) reject(rj connectors.Reject) error {
	rj.Raw = strings.ToValidUTF8(rj.Raw, "\uFFFD")
	rj.Loc = strings.ToValidUTF8(rj.Loc, "\uFFFD")
	if len(rj.Raw) > 4096 {
		rj.Raw = rj.Raw[:4096]
		rj.Raw = strings.ToValidUTF8(rj.Raw, "")
	}
	r.mu.Lock()
	r.rejects = append(r.rejects, rj)
	r.rows++
	q := len(r.rejects)
	r.mu.Unlock()
	if r.limits.MaxCount > 0 && q > r.limits.MaxCount {
		return fmt.Errorf("%w: more than %d rows quarantined (last: %s at %s)", ErrThreshold, r.limits.MaxCount, rj.Reason, rj.Loc)
	}
	return nil
}

func (r *relay) Skipped(reason string, n int) {
	r.mu.Lock()
	r.skipped[reason] += n
	r.mu.Unlock()
}

func (r *relay) Checkpoint(cursor string) {
	r.mu.Lock()
	r.checkpoint, r.cursored = cursor, true
	r.mu.Unlock()
}

func (r *relay) report() {
	if r.progress == nil {
		return
	}
	r.mu.Lock()
	read, q, b := r.rows, int64(len(r.rejects)), r.bytes
	r.mu.Unlock()
	r.progress(read, q, b)
}

// checkRatio applies the ratio threshold once the source has ended.
func (r *relay) checkRatio() error {
	q := int64(len(r.rejects))
	if r.limits.MaxRatio > 0 && r.rows >= int64(r.limits.MinRows) && r.rows > 0 {
		if ratio := float64(q) / float64(r.rows); ratio > r.limits.MaxRatio {
			return fmt.Errorf("%w: %d of %d rows quarantined (%.2f%% > %.2f%%)", ErrThreshold, q, r.rows, 100*ratio, 100*r.limits.MaxRatio)
		}
	}
	// Every row quarantined is a broken delivery at any size. (Rows refused only for their cursor
	// value are read again by every incremental run until fixed at the source: they alone do not
	// fail it.)
	if q > 0 && q == r.rows && q > r.curRejects {
		last := r.rejects[len(r.rejects)-1]
		return fmt.Errorf("%w: all %d rows quarantined (last: %s at %s)", ErrThreshold, q, last.Reason, last.Loc)
	}
	return nil
}

// chanReader is the array.RecordReader DuckDB scans: it yields what the relay sends.
type chanReader struct {
	schema *arrow.Schema
	in     <-chan arrow.RecordBatch
	cur    arrow.RecordBatch
}

func (c *chanReader) Retain()               {}
func (c *chanReader) Release()              {}
func (c *chanReader) Schema() *arrow.Schema { return c.schema }
func (c *chanReader) Next() bool {
	if c.cur != nil {
		c.cur.Release()
		c.cur = nil
	}
	b, ok := <-c.in
	if !ok {
		return false
	}
	c.cur = b
	return true
}
func (c *chanReader) Record() arrow.RecordBatch      { return c.cur }
func (c *chanReader) RecordBatch() arrow.RecordBatch { return c.cur }
func (c *chanReader) Err() error                     { return nil }
