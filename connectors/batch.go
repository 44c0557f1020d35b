package connectors

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The two columns every batch carries after the source's own.
const (
	LocColumn   = "_loc"   // where the row sits in its source
	FlagsColumn = "_flags" // reader notes on values, "column:flag;…" (e.g. "身份证号:number")
)

// DefaultBatchRows is the batch size sources use unless told otherwise: a multiple of DuckDB's
// vector size, measured as the sweet spot for Arrow ingestion.
const DefaultBatchRows = 122880

// BatchSchema is the Arrow layout of a source's batches: its columns as nullable utf8, then
// LocColumn and FlagsColumn.
func BatchSchema(columns []string) *arrow.Schema {
	fields := make([]arrow.Field, 0, len(columns)+2)
	for _, c := range columns {
		fields = append(fields, arrow.Field{Name: c, Type: arrow.BinaryTypes.String, Nullable: true})
	}
	fields = append(fields,
		arrow.Field{Name: LocColumn, Type: arrow.BinaryTypes.String},
		arrow.Field{Name: FlagsColumn, Type: arrow.BinaryTypes.String})
	return arrow.NewSchema(fields, nil)
}

// BatchBuilder accumulates rows and hands full batches to a Writer. Use it from one goroutine:
//
//	b := connectors.NewBatchBuilder(cols, 0)
//	defer b.Release()
//	for … { b.Set(i, v) …; if err := b.EndRow(loc, flags, w); err != nil { … } }
//	return b.Flush(w)
//
// Columns not Set in a row are NULL.
type BatchBuilder struct {
	schema *arrow.Schema
	rb     *array.RecordBuilder
	cols   []*array.StringBuilder
	set    []bool
	rows   int
	size   int
	data   []int // value bytes per column in the last batch: the next one reserves as much
}

// NewBatchBuilder makes a builder for the given source columns; size <= 0 means DefaultBatchRows.
func NewBatchBuilder(columns []string, size int) *BatchBuilder {
	if size <= 0 {
		size = DefaultBatchRows
	}
	schema := BatchSchema(columns)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	b := &BatchBuilder{schema: schema, rb: rb, set: make([]bool, len(columns)), size: size}
	for i := range schema.Fields() {
		b.cols = append(b.cols, rb.Field(i).(*array.StringBuilder))
	}
	return b
}

// Schema is the layout of the batches this builder makes.
func (b *BatchBuilder) Schema() *arrow.Schema { return b.schema }

// Set gives column i of the current row a value.
func (b *BatchBuilder) Set(i int, v string) {
	b.cols[i].Append(v)
	b.set[i] = true
}

// EndRow closes the current row with its location and flags, and writes a batch when full.
func (b *BatchBuilder) EndRow(loc, flags string, w Writer) error {
	for i, ok := range b.set {
		if !ok {
			b.cols[i].AppendNull()
		}
		b.set[i] = false
	}
	n := len(b.set)
	b.cols[n].Append(loc)
	b.cols[n+1].Append(flags)
	b.rows++
	if b.rows >= b.size {
		return b.Flush(w)
	}
	return nil
}

// Len is the number of rows not yet written.
func (b *BatchBuilder) Len() int { return b.rows }

// Flush writes the pending rows, if any, as one batch.
func (b *BatchBuilder) Flush(w Writer) error {
	if b.rows == 0 {
		return nil
	}
	if b.data == nil {
		b.data = make([]int, len(b.cols))
	}
	for i, c := range b.cols {
		b.data[i] = c.DataLen()
	}
	rows := b.rows
	rec := b.rb.NewRecordBatch()
	defer rec.Release()
	b.rows = 0
	// Reserve what the last batch needed, so the builders do not regrow from empty.
	for i, c := range b.cols {
		c.Reserve(rows)
		c.ReserveData(b.data[i] + b.data[i]/8)
	}
	return w.Write(rec)
}

// Release frees the builder's buffers.
func (b *BatchBuilder) Release() { b.rb.Release() }
