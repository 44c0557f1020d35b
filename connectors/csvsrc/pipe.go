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
}

type entry struct {
	line int
	rej  int32 // index in rejects, or -1 for a row
}

func (c *chunk) reset() {
	c.data, c.offs, c.ents, c.rejects, c.blank = c.data[:0], c.offs[:0], c.ents[:0], c.rejects[:0], 0
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

// rows streams the data records of the open file into b.
func (r *fileReader) rows(ctx context.Context, ncols int, b *connectors.BatchBuilder, w connectors.Writer) error {
	if r.preamble > 0 {
		w.Skipped("preamble", r.preamble)
	}
	p := &pipe{full: make(chan *chunk, nChunks), free: make(chan *chunk, nChunks), stop: make(chan struct{})}
	perr := make(chan error, 1)
	go func() { perr <- r.produce(ctx, ncols, p) }()

	loc := append([]byte(r.file.Rel), ':')
	prefix := len(loc)
	blank := 0
	var err error
	for c := range p.full {
		if err == nil {
			if err = ctx.Err(); err == nil {
				blank += c.blank
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
	return err
}

// produce splits, checks and decodes the file's records into chunks.
func (r *fileReader) produce(ctx context.Context, ncols int, p *pipe) error {
	defer close(p.full)
	sc := &r.sc
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
		if reason == "" && !r.decode() {
			reason = r.invalidReason()
		}
		if reason == "" && len(sc.fields) != ncols {
			reason = fmt.Sprintf("%d fields, header has %d", len(sc.fields), ncols)
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
