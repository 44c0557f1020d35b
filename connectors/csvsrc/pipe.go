package csvsrc

import (
	"context"
	"fmt"
	"strconv"

	"communityhub/connectors"
)

// Reading a file is a pipeline of two goroutines: one splits, checks and decodes records into
// chunks (owned copies of the rows' text), the other appends them to the Arrow builder, which
// is the larger half of the work.

const (
	chunkRows  = 4096    // records per chunk, at most
	chunkBytes = 1 << 20 // text per chunk, about
	nChunks    = 4       // chunks in flight
)

// chunk is a run of consecutive records: rows (their fields' text) and rejects, in file order.
type chunk struct {
	data    []byte
	offs    []int32 // per row, per column: start and end in data; start -1 for NULL
	ents    []entry
	rejects []connectors.Reject
	blank   int
	header  int // repeated header rows
}

type entry struct {
	line int
	rej  int32 // index in rejects, or -1 for a row
}

func (c *chunk) reset() {
	c.data, c.offs, c.ents, c.rejects, c.blank, c.header = c.data[:0], c.offs[:0], c.ents[:0], c.rejects[:0], 0, 0
}

type pipe struct {
	full chan *chunk   // from the producer, in order; closed when it stops
	free chan *chunk   // back from the consumer
	stop chan struct{} // closed by the consumer when it gives up
	made int
}

// get is an empty chunk for the producer, or nil when the consumer gave up.
func (p *pipe) get() *chunk {
	select {
	case c := <-p.free:
		c.reset()
		return c
	default:
	}
	if p.made < nChunks {
		p.made++
		return &chunk{}
	}
	select {
	case c := <-p.free:
		c.reset()
		return c
	case <-p.stop:
		return nil
	}
}

// put hands a chunk to the consumer; false when the consumer gave up.
func (p *pipe) put(c *chunk) bool {
	select {
	case p.full <- c:
		return true
	case <-p.stop:
		return false
	}
}

// rows streams the data records of the open file into b. A file without a single data record
// (landed or rejected; blank lines and repeated headers do not count) is an error: an empty
// export is a failed delivery, not an empty system.
func (r *fileReader) rows(ctx context.Context, b *connectors.BatchBuilder, w connectors.Writer) error {
	ncols := len(r.names)
	if r.preamble > 0 {
		w.Skipped("preamble", r.preamble)
	}
	p := &pipe{full: make(chan *chunk, nChunks), free: make(chan *chunk, nChunks), stop: make(chan struct{})}
	perr := make(chan error, 1)
	go func() { perr <- r.produce(ctx, ncols, p) }()

	loc := append([]byte(r.file.Rel), ':')
	prefix := len(loc)
	blank, header, data := 0, 0, 0
	var err error
	for c := range p.full {
		if err == nil {
			if err = ctx.Err(); err == nil {
				blank += c.blank
				header += c.header
				data += len(c.ents)
				k := 0
				for _, e := range c.ents {
					if e.rej >= 0 {
						if err = w.Reject(c.rejects[e.rej]); err != nil {
							break
						}
						continue
					}
					for i := range ncols {
						if s := c.offs[k]; s >= 0 {
							b.Set(i, view(c.data[s:c.offs[k+1]]))
						}
						k += 2
					}
					loc = strconv.AppendInt(loc[:prefix], int64(e.line), 10)
					if err = b.EndRow(view(loc), "", w); err != nil {
						break
					}
				}
			}
			if err != nil {
				close(p.stop)
			}
		}
		p.free <- c // never blocks: it holds every chunk made
	}
	if perr := <-perr; err == nil {
		err = perr
	}
	if blank > 0 {
		w.Skipped("blank", blank)
	}
	if header > 0 {
		w.Skipped("header", header)
	}
	if err == nil && data == 0 {
		err = fmt.Errorf("file %s has a header but no data rows (%d blank lines, %d repeated header rows): an empty export is a failed delivery", r.file.Rel, blank, header)
	}
	return err
}

// produce splits, checks and decodes the file's records into chunks.
func (r *fileReader) produce(ctx context.Context, ncols int, p *pipe) error {
	defer close(p.full)
	sc := &r.sc
	lim := r.src.limits
	rowMax := int(min(lim.RowBytes, 1<<40))
	c := p.get()
	if c == nil {
		return nil
	}
	for n := 1; ; n++ {
		if n&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ok, err := sc.next()
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return fmt.Errorf("%s: %w", r.file.Rel, err)
		}
		if !ok {
			p.put(c)
			return nil
		}
		if sc.blank() {
			c.blank++
			continue
		}
		reason := r.check()
		if reason == "" && len(sc.rec) > rowMax {
			reason = tooLong(lim, sc.line+sc.nl, sc.quoted)
		}
		if reason == "" && !r.decode() {
			reason = r.invalidReason()
		}
		if reason == "" && len(sc.fields) != ncols {
			reason = fmt.Sprintf("%d fields, header has %d", len(sc.fields), ncols)
		}
		if reason == "" {
			reason = r.overLimit(rowMax)
		}
		if reason == "" && r.repeatsHeader() {
			c.header++
			continue
		}
		if reason != "" {
			raw := sc.rec
			if raw == nil {
				raw = sc.head
			}
			c.ents = append(c.ents, entry{line: sc.line, rej: int32(len(c.rejects))})
			c.rejects = append(c.rejects, connectors.Reject{
				Loc: r.file.Rel + ":" + strconv.Itoa(sc.line), Raw: rawText(raw, r.gb), Reason: reason,
			})
		} else {
			r.addRow(c)
		}
		if len(c.ents) >= chunkRows || len(c.data) >= chunkBytes {
			if !p.put(c) {
				return nil
			}
			if c = p.get(); c == nil {
				return nil
			}
		}
	}
}

// overLimit is the reject reason of a decoded record with a value over limits.value_bytes or,
// decoded, over limits.row_bytes; or "".
func (r *fileReader) overLimit(rowMax int) string {
	sc := &r.sc
	lim := r.src.limits
	valMax := int(min(lim.ValueBytes, 1<<40))
	if r.gb != nil && len(r.text)+len(sc.fields)-1 > rowMax {
		return tooLong(lim, sc.line+sc.nl, false)
	}
	for i, f := range sc.fields {
		n := f.e - f.s // the raw length bounds the value's
		if r.gb != nil {
			n = r.offs[2*i+1] - r.offs[2*i]
		}
		if n <= valMax {
			continue
		}
		if r.gb == nil && f.q == 2 {
			n = len(r.value(i))
		}
		if n > valMax {
			return fmt.Sprintf("column %d (%s): %s", i+1, connectors.Excerpt(r.names[i], 0), connectors.Exceeded("value", lim.ValueBytes, "value_bytes"))
		}
	}
	return ""
}

// repeatsHeader reports whether the decoded record is the header again, cell for cell after
// trimming spaces and a BOM, as where exports were concatenated.
func (r *fileReader) repeatsHeader() bool {
	for i := range r.names {
		if headerName(r.value(i)) != r.names[i] {
			return false
		}
	}
	return true
}

// addRow copies the checked record's fields into the chunk. An empty unquoted field is NULL.
func (r *fileReader) addRow(c *chunk) {
	sc := &r.sc
	base := len(c.data)
	if r.gb != nil {
		c.data = append(c.data, r.text...)
		for i, f := range sc.fields {
			if f.q == 0 && f.s == f.e {
				c.offs = append(c.offs, -1, -1)
				continue
			}
			c.offs = append(c.offs, int32(base+r.offs[2*i]), int32(base+r.offs[2*i+1]))
		}
	} else {
		c.data = append(c.data, sc.rec...)
		for _, f := range sc.fields {
			switch {
			case f.q == 0 && f.s == f.e:
				c.offs = append(c.offs, -1, -1)
			case f.q == 2:
				st := len(c.data)
				c.data = unescape(c.data, sc.rec[f.s:f.e])
				c.offs = append(c.offs, int32(st), int32(len(c.data)))
			default:
				c.offs = append(c.offs, int32(base+f.s), int32(base+f.e))
			}
		}
	}
	c.ents = append(c.ents, entry{line: sc.line, rej: -1})
}
