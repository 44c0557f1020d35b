package csvsrc

import (
	"bytes"
	"context"
	"io"
)

// Scanner states while a record is being split.
const (
	stFieldStart = iota // at the start of a field
	stUnquoted          // inside an unquoted field
	stQuoted            // inside a quoted field
	stQuoteSeen         // just after a quote inside a quoted field: closing or the first of ""
	stClosed            // after a closing quote: a delimiter or the end of the line must follow
)

// Record statuses.
const (
	recOK           = iota
	recBadQuote     // text after a closing quote
	recUnterminated // a quoted field that never closes: the record runs to the end of the file
	recTooLong      // longer than the scanner's maxRec: not kept, only its head
)

// Tunables; variables so that tests can make them small.
var (
	readBufSize = 1 << 20 // the initial read buffer
)

const (
	sniffSize = 64 << 10 // how much of a file encoding detection looks at
	rawMax    = 4 << 10  // the most of a record's text a reject carries
)

// field is one field of the current record: its content as offsets into the record (inside the
// quotes for a quoted field).
type field struct {
	s, e int
	q    uint8 // 0 unquoted, 1 quoted, 2 quoted with doubled quotes to undo
}

// scanner splits a byte stream into CSV records (RFC 4180: a field that starts with a quote is
// quoted; in it delimiters and newlines are data and "" is a quote) and each record into fields,
// without decoding: it works on the file's bytes, so that bad bytes and bad quoting can be
// rejected per record. A quote inside an unquoted field is data. Records end at eol: "\n" (a
// "\r" before it is dropped, so CRLF works too) or, for a file with old Mac line endings, "\r".
//
// It keeps one buffer; a record is a slice of it, valid until the next call of next. A record
// longer than maxRec is scanned to its end without being kept (only its first rawMax bytes), so
// that an unterminated quote or a 200 MB line costs neither the memory nor more than one reject.
type scanner struct {
	ctx             context.Context // checked at every read: a cancelled scan stops within a buffer
	rd              io.Reader
	buf             []byte
	start, pos, end int  // record start, scan position, end of data in buf
	eof             bool // rd is exhausted: buf[start:end] is all that is left

	delim byte
	eol   byte // the record end: '\n' (LF and CRLF files) or '\r' (CR files)
	// maxRec is the longest record kept in memory (0: 16 MiB); a longer one is recTooLong.
	maxRec int
	// gbAware: the file is GBK/GB18030 and the delimiter can be the second byte of a two-byte
	// character (0x40-0x7E, e.g. '|'), so lead bytes are tracked to skip their trail byte.
	gbAware bool

	nextLine int // the physical line where the next record starts

	// The current record.
	line    int     // its first physical line
	rec     []byte  // its bytes without the line end; nil when too long to keep
	head    []byte  // its first rawMax bytes when rec is nil
	fields  []field // its fields (not kept when too long)
	nf      int     // fields seen, also when not kept
	quoted  bool    // it has a quoted field (so it is not blank)
	status  int
	badAt   int  // record offset of the first bad quote
	badFld  int  // 1-based field of the first bad quote
	nl      int  // newlines inside quoted fields
	endsNL  bool // the last byte of an unterminated record is a newline
	discard bool

	// Resumable split state.
	st        int
	afterLead bool
	fs        int // current field's start, relative to the record
	fq        uint8
	closeAt   int // relative offset of the closing quote
}

// reset starts on a new input of about size bytes (to size the buffer; it grows as needed).
func (s *scanner) reset(rd io.Reader, size int64) {
	s.rd = rd
	if want := int(min(int64(readBufSize), max(4096, size+1))); len(s.buf) < want {
		s.buf = make([]byte, want)
	}
	s.start, s.pos, s.end = 0, 0, 0
	s.eof = false
	s.nextLine = 1
	s.eol = '\n'
}

// stripCR says a "\r" before the record end is part of the line end, not data.
func (s *scanner) stripCR() bool { return s.eol == '\n' }

// more makes room in the buffer and reads into it.
func (s *scanner) more() error {
	if s.start > 0 {
		n := copy(s.buf, s.buf[s.start:s.end])
		s.pos -= s.start
		s.end = n
		s.start = 0
	}
	if s.ctx != nil {
		if err := s.ctx.Err(); err != nil {
			return err
		}
	}
	if s.end == len(s.buf) {
		maxRec := s.maxRec
		if maxRec <= 0 {
			maxRec = 16 << 20
		}
		if limit := max(maxRec, 2*sniffSize); len(s.buf) < limit {
			nb := make([]byte, min(2*len(s.buf), limit))
			copy(nb, s.buf[:s.end])
			s.buf = nb
		} else {
			// The record fills the largest buffer: keep its head and drop what was scanned.
			if !s.discard {
				s.head = append(s.head[:0], s.buf[:min(rawMax, s.pos)]...)
				s.discard = true
			}
			n := copy(s.buf, s.buf[s.pos:s.end])
			s.end = n
			s.pos = 0
		}
	}
	for {
		n, err := s.rd.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
			return nil
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
}

// fill reads until n bytes from the record start are buffered or the input ends.
func (s *scanner) fill(n int) error {
	for s.end-s.start < n && !s.eof {
		if err := s.more(); err != nil {
			return err
		}
	}
	return nil
}

// skipLines skips n physical lines (no quote handling: a preamble is not CSV) and returns how
// many there were.
func (s *scanner) skipLines(n int) (int, error) {
	done := 0
	for done < n {
		if i := bytes.IndexByte(s.buf[s.start:s.end], s.eol); i >= 0 {
			s.start += i + 1
			s.pos = s.start
			done++
			s.nextLine++
			continue
		}
		if s.eof {
			if s.start < s.end {
				s.start, s.pos = s.end, s.end
				done++
				s.nextLine++
			}
			break
		}
		s.start, s.pos = s.end, s.end
		if err := s.more(); err != nil {
			return done, err
		}
	}
	return done, nil
}

// next reads the next record. It returns false at the end of input.
func (s *scanner) next() (bool, error) {
	s.fields = s.fields[:0]
	s.nf = 0
	s.status, s.quoted, s.discard, s.nl, s.endsNL = recOK, false, false, 0, false
	s.st, s.afterLead = stFieldStart, false
	s.head = s.head[:0]
	s.rec = nil
	s.line = s.nextLine
	s.pos = s.start
	for {
		if s.pos == s.start && !s.discard {
			// Fast path: a whole line without quotes.
			data := s.buf[s.start:s.end]
			i := bytes.IndexByte(data, s.eol)
			if i >= 0 || (s.eof && len(data) > 0) {
				n := i
				if i < 0 {
					n = len(data)
				}
				line := data[:n]
				if bytes.IndexByte(line, '"') < 0 {
					if n > 0 && line[n-1] == '\r' && s.stripCR() {
						line = line[:n-1]
					}
					s.splitPlain(line)
					s.rec = line
					next := s.start + n + 1
					if i < 0 {
						next = s.end
					}
					s.start, s.pos = next, next
					s.nextLine++
					return true, nil
				}
			}
		}
		if s.scan() {
			return true, nil
		}
		if s.eof {
			return s.finishEOF(), nil
		}
		if err := s.more(); err != nil {
			return false, err
		}
	}
}

// splitPlain splits a line without quotes into fields.
func (s *scanner) splitPlain(line []byte) {
	if !s.gbAware {
		off := 0
		for {
			j := bytes.IndexByte(line[off:], s.delim)
			if j < 0 {
				s.fields = append(s.fields, field{s: off, e: len(line)})
				break
			}
			s.fields = append(s.fields, field{s: off, e: off + j})
			off += j + 1
		}
	} else {
		fs, lead := 0, false
		for i, c := range line {
			if lead {
				lead = false
				if isTrail(c) {
					continue
				}
			}
			if c == s.delim {
				s.fields = append(s.fields, field{s: fs, e: i})
				fs = i + 1
				continue
			}
			lead = isLead(c)
		}
		s.fields = append(s.fields, field{s: fs, e: len(line)})
	}
	s.nf = len(s.fields)
}

// isLead: the first byte of a GBK/GB18030 multi-byte character.
func isLead(c byte) bool { return c >= 0x81 && c != 0xff }

// isTrail: a byte that, after a lead byte, is the second byte of a two-byte character.
func isTrail(c byte) bool { return c >= 0x40 && c != 0x7f && c != 0xff }

func (s *scanner) endField(e int) {
	s.nf++
	if !s.discard {
		s.fields = append(s.fields, field{s: s.fs, e: e, q: s.fq})
	}
}

// finish closes the record whose content ends at buf[end] and sets the next record's start.
func (s *scanner) finish(end, next int) {
	if s.discard {
		if s.status != recUnterminated {
			s.status = recTooLong
		}
	} else {
		rec := s.buf[s.start:end]
		if n := len(rec); n > 0 && rec[n-1] == '\r' && s.status != recUnterminated && s.stripCR() {
			rec = rec[:n-1]
		}
		s.rec = rec
	}
	s.start, s.pos = next, next
	s.nextLine = s.line + 1 + s.nl
}

// scan runs the split state machine over the buffered bytes. It returns true when the record
// ended at a newline; false when it needs more input.
func (s *scanner) scan() bool {
	buf := s.buf[:s.end]
	i := s.pos
	for i < len(buf) {
		switch s.st {
		case stFieldStart:
			s.afterLead = false
			if buf[i] == '"' {
				s.st, s.fq, s.fs, s.quoted = stQuoted, 1, i+1-s.start, true
				i++
				continue
			}
			s.st, s.fq, s.fs = stUnquoted, 0, i-s.start
		case stUnquoted:
			for ; i < len(buf); i++ {
				c := buf[i]
				if s.afterLead {
					s.afterLead = false
					if isTrail(c) {
						continue
					}
				}
				if c == s.delim {
					s.endField(i - s.start)
					s.st = stFieldStart
					i++
					break
				}
				if c == s.eol {
					e := i
					if e > 0 && buf[e-1] == '\r' && e-1-s.start >= s.fs && s.stripCR() {
						e--
					}
					s.endField(e - s.start)
					s.finish(i, i+1)
					return true
				}
				if s.gbAware && isLead(c) {
					s.afterLead = true
				}
			}
		case stQuoted:
			j := bytes.IndexByte(buf[i:], '"')
			if j < 0 {
				s.nl += bytes.Count(buf[i:], []byte{s.eol})
				s.endsNL = buf[len(buf)-1] == s.eol
				i = len(buf)
				continue
			}
			s.endsNL = false
			s.nl += bytes.Count(buf[i:i+j], []byte{s.eol})
			i += j + 1
			s.st = stQuoteSeen
		case stQuoteSeen:
			if buf[i] == '"' {
				s.fq = 2
				s.st = stQuoted
				i++
				continue
			}
			s.closeAt = i - 1 - s.start
			s.st = stClosed
		case stClosed:
			switch c := buf[i]; {
			case c == s.delim:
				s.endField(s.closeAt)
				s.st = stFieldStart
				i++
			case c == s.eol:
				s.endField(s.closeAt)
				s.finish(i, i+1)
				return true
			case c == '\r' && s.stripCR():
				i++ // of a CRLF
			default:
				if s.status == recOK {
					s.status, s.badAt, s.badFld = recBadQuote, i-s.start, s.nf+1
				}
				// Go on as if the field were unquoted, so that the record ends at the line end.
				s.st = stUnquoted
				s.afterLead = false
			}
		}
	}
	s.pos = i
	return false
}

// finishEOF closes the last record at the end of input; false if there is none.
func (s *scanner) finishEOF() bool {
	if s.start == s.end && s.st == stFieldStart && s.nf == 0 && !s.discard {
		return false
	}
	switch s.st {
	case stFieldStart:
		s.endField(s.end - s.start)
	case stUnquoted:
		e := s.end
		if e > 0 && s.buf[e-1] == '\r' && e-1-s.start >= s.fs && s.stripCR() {
			e--
		}
		s.endField(e - s.start)
	case stQuoted:
		s.status = recUnterminated
	case stQuoteSeen:
		s.endField(s.end - 1 - s.start)
	case stClosed:
		s.endField(s.closeAt)
	}
	s.finish(s.end, s.end)
	return true
}

// blank reports whether the record holds nothing but spaces, tabs and delimiters.
func (s *scanner) blank() bool {
	if s.quoted || s.rec == nil {
		return false
	}
	for _, c := range s.rec {
		if c != ' ' && c != '\t' && c != '\r' && c != s.delim {
			return false
		}
	}
	return true
}
