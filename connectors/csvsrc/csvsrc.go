// Package csvsrc is the csv source kind: CSV drops in UTF-8, UTF-8 with BOM, GBK or GB18030,
// selected from a drop folder with filedrop (every file matching a glob, or the newest per
// group), streamed record by record into Arrow batches. Every row's location is
// "<file>:<line>", the physical line where its record starts. Records with bytes invalid in the
// file's encoding, a wrong number of fields or broken quoting are rejected one by one; blank
// lines are counted as skipped. See README.md.
package csvsrc

import (
	"context"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"communityhub/connectors"
	"communityhub/connectors/filedrop"
)

func init() { connectors.Register("csv", New) }

// Options are the csv kind's options.
type Options struct {
	filedrop.Options        // root, glob, newest
	Encoding         string `json:"encoding"`   // auto (default), utf-8, utf-8-bom, gbk, gb18030
	Delimiter        string `json:"delimiter"`  // one character; default ","
	Header           *int   `json:"header_row"` // 1-based line of the header; default 1
	BatchRows        int    `json:"batch_rows"` // rows per Arrow batch; default connectors.DefaultBatchRows
}

// Source reads the CSV files of a drop folder.
type Source struct {
	cfg       connectors.Config
	opts      Options
	enc       encKind
	delim     byte
	headerRow int
}

var (
	_ connectors.Source = (*Source)(nil)
	_ connectors.Prober = (*Source)(nil)
)

// New makes a csv Source. It validates the options and does not touch the files.
func New(cfg connectors.Config) (connectors.Source, error) {
	var o Options
	if err := connectors.DecodeOptions(cfg, &o); err != nil {
		return nil, err
	}
	s := &Source{cfg: cfg, opts: o, headerRow: 1, delim: ','}
	enc, ok := encNames[strings.ToLower(strings.TrimSpace(o.Encoding))]
	if o.Encoding == "" {
		enc, ok = encAuto, true
	}
	if !ok {
		return nil, fmt.Errorf("option encoding: unknown encoding %q (want auto, utf-8, utf-8-bom, gbk or gb18030)", o.Encoding)
	}
	s.enc = enc
	switch d := o.Delimiter; {
	case d == "":
	case d == `\t` || strings.EqualFold(d, "tab"):
		s.delim = '\t'
	case len(d) == 1 && d[0] < utf8.RuneSelf && d[0] != '"' && d[0] != '\n' && d[0] != '\r' && (d[0] < '0' || d[0] > '9'):
		s.delim = d[0]
	default:
		return nil, fmt.Errorf("option delimiter: %q is not one ASCII character other than a quote, a line break or a digit", d)
	}
	if o.Header != nil {
		if *o.Header < 1 {
			return nil, fmt.Errorf("option header_row: %d is not a line number (1 is the first line)", *o.Header)
		}
		s.headerRow = *o.Header
	}
	if o.BatchRows < 0 {
		return nil, fmt.Errorf("option batch_rows: %d is negative", o.BatchRows)
	}
	if err := o.Options.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Source) files() ([]filedrop.File, error) {
	return filedrop.Select(s.cfg.BaseDir, s.opts.Options)
}

// Columns reads the header of every selected file; they must all be the same.
func (s *Source) Columns(ctx context.Context) ([]string, error) {
	files, err := s.files()
	if err != nil {
		return nil, err
	}
	return s.headers(ctx, files)
}

// Probe checks that files are selected and that the header of each is readable (and the same).
func (s *Source) Probe(ctx context.Context) error {
	_, err := s.Columns(ctx)
	return err
}

func (s *Source) headers(ctx context.Context, files []filedrop.File) ([]string, error) {
	var cols []string
	r := &fileReader{src: s}
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := r.open(f)
		r.close()
		if err != nil {
			return nil, err
		}
		if i == 0 {
			cols = hdr
		} else if d := diffHeaders(cols, hdr); d != "" {
			return nil, fmt.Errorf("%s: header differs from %s: %s", f.Rel, files[0].Rel, d)
		}
	}
	return cols, nil
}

// diffHeaders describes how got differs from want, or "".
func diffHeaders(want, got []string) string {
	var parts []string
	for i := 0; i < max(len(want), len(got)); i++ {
		if len(parts) == 5 {
			parts = append(parts, "…")
			break
		}
		switch {
		case i >= len(got):
			parts = append(parts, fmt.Sprintf("column %d %q missing", i+1, want[i]))
		case i >= len(want):
			parts = append(parts, fmt.Sprintf("column %d %q extra", i+1, got[i]))
		case want[i] != got[i]:
			parts = append(parts, fmt.Sprintf("column %d is %q, not %q", i+1, got[i], want[i]))
		}
	}
	return strings.Join(parts, "; ")
}

// Read streams every selected file in order.
func (s *Source) Read(ctx context.Context, req connectors.ReadRequest, w connectors.Writer) error {
	files, err := s.files()
	if err != nil {
		return err
	}
	cols, err := s.headers(ctx, files)
	if err != nil {
		return err
	}
	b := connectors.NewBatchBuilder(cols, s.opts.BatchRows)
	defer b.Release()
	r := &fileReader{src: s}
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := r.open(f)
		if err == nil && i > 0 {
			if d := diffHeaders(cols, hdr); d != "" {
				err = fmt.Errorf("%s: header differs from %s: %s", f.Rel, files[0].Rel, d)
			}
		}
		if err == nil {
			err = r.rows(ctx, len(cols), b, w)
		}
		r.close()
		if err != nil {
			return err
		}
	}
	if err := b.Flush(w); err != nil {
		return err
	}
	w.Checkpoint(filedrop.Cursor(files))
	return nil
}

// fileReader reads one file at a time; its buffers are reused from file to file.
type fileReader struct {
	src      *Source
	sc       scanner
	fh       *os.File
	file     filedrop.File
	enc      encKind
	gb       *gbDecoder // nil for UTF-8
	preamble int
	text     []byte // decoded fields (GBK/GB18030)
	offs     []int
	tmp      []byte
}

func (r *fileReader) close() {
	if r.fh != nil {
		r.fh.Close()
		r.fh = nil
	}
}

// open opens a file, settles its encoding, skips the preamble and reads the header.
func (r *fileReader) open(f filedrop.File) ([]string, error) {
	fh, err := os.Open(f.Path)
	if err != nil {
		return nil, err
	}
	r.fh, r.file = fh, f
	sc := &r.sc
	sc.reset(fh, f.Size)
	sc.delim = r.src.delim
	if err := sc.fill(sniffSize + 1); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Rel, err)
	}
	sample := sc.buf[sc.start:sc.end]
	enc := r.src.enc
	if enc == encAuto {
		enc = detect(sample, sc.eof)
	}
	if (enc == encUTF8 || enc == encUTF8BOM) && len(sample) >= 3 && string(sample[:3]) == string(bom) {
		sc.start += 3
		sc.pos = sc.start
	}
	r.enc, r.gb = enc, nil
	if enc == encGBK || enc == encGB18030 {
		r.gb = newGBDecoder(enc)
	}
	sc.gbAware = r.gb != nil && sc.delim >= 0x40

	r.preamble = 0
	if n := r.src.headerRow - 1; n > 0 {
		got, err := sc.skipLines(n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Rel, err)
		}
		if got < n {
			return nil, fmt.Errorf("%s: no header: the file has %d lines, header_row is %d", f.Rel, got, r.src.headerRow)
		}
		r.preamble = n
	}
	ok, err := sc.next()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Rel, err)
	}
	if !ok {
		return nil, fmt.Errorf("%s: no header: the file is empty", f.Rel)
	}
	where := fmt.Sprintf("%s:%d: header", f.Rel, sc.line)
	if sc.blank() {
		return nil, fmt.Errorf("%s is blank", where)
	}
	if reason := r.check(); reason != "" {
		return nil, fmt.Errorf("%s: %s", where, reason)
	}
	if !r.decode() {
		return nil, fmt.Errorf("%s: %s", where, r.invalidReason())
	}
	names := make([]string, len(sc.fields))
	seen := make(map[string]int, len(names))
	for i := range sc.fields {
		n := strings.Clone(strings.TrimSpace(strings.TrimPrefix(r.value(i), "\uFEFF")))
		if n == "" {
			return nil, fmt.Errorf("%s column %d has no name", where, i+1)
		}
		if j, dup := seen[n]; dup {
			return nil, fmt.Errorf("%s column %d %q duplicates column %d", where, i+1, n, j+1)
		}
		seen[n] = i
		names[i] = n
	}
	return names, nil
}

// check is the reject reason for the record's structure, or "".
func (r *fileReader) check() string {
	sc := &r.sc
	switch sc.status {
	case recBadQuote:
		return fmt.Sprintf("broken quoted field %d: text after the closing quote at byte %d", sc.badFld, sc.badAt+1)
	case recUnterminated:
		lines := sc.nl + 1
		if sc.endsNL {
			lines--
		}
		return fmt.Sprintf("unterminated quote in field %d: the rest of the file (%d lines) is one broken record", sc.nf+1, lines)
	case recTooLong:
		return fmt.Sprintf("record longer than %d bytes (ends at line %d; unbalanced quote?)", maxRecord, sc.line+sc.nl)
	}
	return ""
}

// decode checks the record's bytes and, for GBK/GB18030, decodes its fields into r.text.
func (r *fileReader) decode() bool {
	sc := &r.sc
	if r.gb == nil {
		return utf8.Valid(sc.rec)
	}
	r.text, r.offs = r.text[:0], r.offs[:0]
	ok := true
	for _, f := range sc.fields {
		src := sc.rec[f.s:f.e]
		if f.q == 2 {
			r.tmp = unescape(r.tmp[:0], src)
			src = r.tmp
		}
		st := len(r.text)
		var good bool
		r.text, good = r.gb.appendDecoded(r.text, src)
		ok = ok && good
		r.offs = append(r.offs, st, len(r.text))
	}
	return ok
}

func (r *fileReader) invalidReason() string {
	var at int
	if r.gb == nil {
		at = firstInvalidUTF8(r.sc.rec)
	} else {
		at = r.gb.firstInvalid(r.sc.rec)
	}
	if at < 0 { // not expected: the record as a whole decodes where a field did not
		return fmt.Sprintf("invalid %s bytes", r.enc)
	}
	return fmt.Sprintf("invalid %s bytes at byte %d", r.enc, at+1)
}

// value is field i of a decoded record as a string over the reader's buffers: valid until the
// next record. The UTF-8 path undoes "" into r.tmp, so call it for one field at a time.
func (r *fileReader) value(i int) string {
	if r.gb != nil {
		return view(r.text[r.offs[2*i]:r.offs[2*i+1]])
	}
	f := r.sc.fields[i]
	if f.q == 2 {
		r.tmp = unescape(r.tmp[:0], r.sc.rec[f.s:f.e])
		return view(r.tmp)
	}
	return view(r.sc.rec[f.s:f.e])
}
