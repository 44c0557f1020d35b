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

	mu       sync.Mutex // guards the figures below, read by progress reporting
	read     int64
	bytes    int64
	rejects  []connectors.Reject
	skipped  map[string]int
	cursor   string
	cursored bool
	progress func(read, quarantined, bytes int64)
}

type reqCol struct {
	idx  int
	name string
	typ  schema.Type
}

func newRelay(ctx context.Context, cols []string, spec Spec) (*relay, error) {
	r := &relay{ctx: ctx, cols: cols, limits: spec.Limits, out: make(chan arrow.RecordBatch, 2), skipped: map[string]int{}, seen: map[uint64]uint32{}}
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
	fields := append([]arrow.Field(nil), connectors.BatchSchema(cols).Fields()...)
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

// Write validates and hashes the batch and sends it on.
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
	var keep []int // rows kept when some fail; nil = all
	var bytes int64
	var bad []connectors.Reject
	for row := 0; row < n; row++ {
		h := uint64(fnvOffset)
		reason := ""
		for i := 0; i < nc; i++ {
			if strs[i].IsNull(row) {
				h = (h ^ 0xFF) * fnvPrime
			} else {
				v := strs[i].Value(row)
				bytes += int64(len(v))
				for j := 0; j < len(v); j++ {
					h = (h ^ uint64(v[j])) * fnvPrime
				}
				if reason == "" && !utf8.ValidString(v) {
					reason = fmt.Sprintf("column %s: invalid UTF-8", r.cols[i])
				}
			}
			h = (h ^ 0x1F) * fnvPrime
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
		if reason != "" {
			if keep == nil {
				keep = make([]int, 0, n)
				for k := 0; k < row; k++ {
					keep = append(keep, k)
				}
			}
			bad = append(bad, connectors.Reject{Loc: strs[nc].Value(row), Raw: rowText(strs[:nc], row), Reason: reason})
			continue
		}
		if keep != nil {
			keep = append(keep, row)
		}
		hb.UnsafeAppend(h)
		ident = r.ident(ident[:0], strs, row, h)
		ib.BinaryBuilder.Append(ident)
	}
	hashes := hb.NewUint64Array()
	defer hashes.Release()
	idents := ib.NewStringArray()
	defer idents.Release()
	r.mu.Lock()
	r.read += int64(n - len(bad)) // Reject counts the others
	r.bytes += bytes
	r.mu.Unlock()
	for _, rj := range bad {
		if err := r.Reject(rj); err != nil {
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
		out = filtered(r.schema, strs, keep, hashes, idents)
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

// filtered rebuilds a batch from the kept rows (rare: only batches with rejected rows).
func filtered(schema *arrow.Schema, strs []*array.String, keep []int, hashes *array.Uint64, idents *array.String) arrow.RecordBatch {
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	for i, s := range strs {
		sb := rb.Field(i).(*array.StringBuilder)
		for _, row := range keep {
			if s.IsNull(row) {
				sb.AppendNull()
			} else {
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

// Reject keeps a row for the quarantine and enforces the count threshold.
func (r *relay) Reject(rj connectors.Reject) error {
	rj.Raw = strings.ToValidUTF8(rj.Raw, "\uFFFD")
	rj.Loc = strings.ToValidUTF8(rj.Loc, "\uFFFD")
	if len(rj.Raw) > 4096 {
		rj.Raw = rj.Raw[:4096]
		rj.Raw = strings.ToValidUTF8(rj.Raw, "")
	}
	r.mu.Lock()
	r.rejects = append(r.rejects, rj)
	r.read++
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
	r.cursor, r.cursored = cursor, true
	r.mu.Unlock()
}

func (r *relay) report() {
	if r.progress == nil {
		return
	}
	r.mu.Lock()
	read, q, b := r.read, int64(len(r.rejects)), r.bytes
	r.mu.Unlock()
	r.progress(read, q, b)
}

// checkRatio applies the ratio threshold once the source has ended.
func (r *relay) checkRatio() error {
	q := int64(len(r.rejects))
	if r.limits.MaxRatio > 0 && r.read >= int64(r.limits.MinRows) && r.read > 0 {
		if ratio := float64(q) / float64(r.read); ratio > r.limits.MaxRatio {
			return fmt.Errorf("%w: %d of %d rows quarantined (%.2f%% > %.2f%%)", ErrThreshold, q, r.read, 100*ratio, 100*r.limits.MaxRatio)
		}
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
