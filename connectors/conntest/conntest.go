// Package conntest is a connectors.Writer that collects what a Source reads, for the tests of
// every kind: rows as strings by column, rejects, skip counts and checkpoints.
package conntest

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"communityhub/connectors"
)

// Row is one collected row.
type Row struct {
	Vals  map[string]string // column -> value; NULL columns are absent
	Loc   string
	Flags string
}

// Collector implements connectors.Writer.
type Collector struct {
	Columns     []string
	Rows        []Row
	Rejects     []connectors.Reject
	Skips       map[string]int
	Checkpoints []string
	Batches     int
}

var _ connectors.Writer = (*Collector)(nil)

// Write checks the batch layout and collects its rows.
func (c *Collector) Write(b arrow.RecordBatch) error {
	c.Batches++
	s := b.Schema()
	n := int(b.NumCols())
	if n < 2 || s.Field(n-2).Name != connectors.LocColumn || s.Field(n-1).Name != connectors.FlagsColumn {
		return fmt.Errorf("conntest: batch does not end with %s, %s: %v", connectors.LocColumn, connectors.FlagsColumn, s)
	}
	if c.Columns == nil {
		for i := 0; i < n-2; i++ {
			c.Columns = append(c.Columns, s.Field(i).Name)
		}
	}
	cols := make([]*array.String, n)
	for i := 0; i < n; i++ {
		sc, ok := b.Column(i).(*array.String)
		if !ok {
			return fmt.Errorf("conntest: column %s is %s, want utf8", s.Field(i).Name, b.Column(i).DataType())
		}
		cols[i] = sc
	}
	for r := 0; r < int(b.NumRows()); r++ {
		row := Row{Vals: map[string]string{}, Loc: cols[n-2].Value(r), Flags: cols[n-1].Value(r)}
		for i := 0; i < n-2; i++ {
			if cols[i].IsValid(r) {
				row.Vals[s.Field(i).Name] = cols[i].Value(r)
			}
		}
		c.Rows = append(c.Rows, row)
	}
	return nil
}

func (c *Collector) Reject(r connectors.Reject) error {
	c.Rejects = append(c.Rejects, r)
	return nil
}

func (c *Collector) Skipped(reason string, n int) {
	if c.Skips == nil {
		c.Skips = map[string]int{}
	}
	c.Skips[reason] += n
}

func (c *Collector) Checkpoint(cursor string) { c.Checkpoints = append(c.Checkpoints, cursor) }

// Read runs src into a new Collector.
func Read(ctx context.Context, src connectors.Source, cursor string) (*Collector, error) {
	c := &Collector{}
	err := src.Read(ctx, connectors.ReadRequest{Cursor: cursor}, c)
	return c, err
}

// ByLoc indexes the rows by location.
func (c *Collector) ByLoc() map[string]Row {
	m := make(map[string]Row, len(c.Rows))
	for _, r := range c.Rows {
		m[r.Loc] = r
	}
	return m
}
