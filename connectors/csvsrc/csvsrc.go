// Package csvsrc is the csv source kind: CSV drops in UTF-8, UTF-8 with BOM, GBK or GB18030,
// selected from a drop folder with filedrop (every file matching a glob, or the newest per
// group), streamed record by record into Arrow batches. Every row's location is
// "<file>:<line>", the physical line where its record starts. Records with bytes invalid in the
// file's encoding, a wrong number of fields, broken quoting or a value or row over the read
// limits are rejected one by one; blank lines and repeated header rows are counted as skipped.
// LF, CRLF and CR line endings are recognised per file. A file that is empty, has a header but
// no data rows, or whose header looks like a whole file fails the read. See README.md.
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

// maxHeaderColumns is the most columns a header may have: more means the file was not split
// into lines (unrecognised line endings) or is not a CSV export at all.
const maxHeaderColumns = 1000

// Source reads the CSV files of a drop folder.
type Source struct {
	cfg       connectors.Config
	opts      Options
	enc       encKind
	delim     byte
	headerRow int
	limits    connectors.Limits
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
	s := &Source{cfg: cfg, opts: o, headerRow: 1, delim: ',', limits: cfg.Limits.WithDefaults()}
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
		hdr, err := r.open(ctx, f)
		r.close()
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, cerr
			}
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

// diffHeaders describes how got differs from want, or "". Names are quoted as excerpts only.
func diffHeaders(want, got []string) string {
	q := func(s string) string { return fmt.Sprintf("%q", connectors.Excerpt(s, 0)) }
	var parts []string
	for i := 0; i < max(len(want), len(got)); i++ {
		if len(parts) == 5 {
			parts = append(parts, "…")
			break
		}
		switch {
		case i >= len(got):
			parts = append(parts, fmt.Sprintf("column %d %s missing", i+1, q(want[i])))
		case i >= len(want):
			parts = append(parts, fmt.Sprintf("column %d %s extra", i+1, q(got[i])))
		case want[i] != got[i]:
			parts = append(parts, fmt.Sprintf("column %d is %s, not %s", i+1, q(got[i]), q(want[i])))
		}
	}
	return strings.Join(parts, "; ")
}

// Read streams every selected file in order. A cancelled ctx stops it within a buffer's worth
// of input (about 1 MiB), with ctx.Err().
func (s *Source) Read(ctx context.Context, req connectors.ReadRequest, w connectors.Writer) error {
	err := s.read(ctx, w)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (s *Source) read(ctx context.Context, w connectors.Writer) error {
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
		hdr, err := r.open(ctx, f)
		if err == nil && i > 0 {
			if d := diffHeaders(cols, hdr); d != "" {
				err = fmt.Errorf("%s: header differs from %s: %s", f.Rel, files[0].Rel, d)
			}
		}
		if err == nil {
			err = r.rows(ctx, b, w)
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
	names    []string // the open file's header
	eolSeen  string   // the line endings seen in the first bytes, for messages
	text     []byte   // decoded fields (GBK/GB18030)
	offs     []int
	tmp      []byte
}

func (r *fileReader) close() {
	if r.fh != nil {
		r.fh.Close()
		r.fh = nil
	}
}

// open opens a file, settles its encoding and line endings, skips the preamble and reads the
// header. Its errors name the file and line and quote at most an excerpt of the file.
func (r *fileReader) open(ctx context.Context, f filedrop.File) ([]string, error) {
	fh, err := filedrop.Open(f)
	if err != nil {
		return nil, err
	}
	lim := r.src.limits
	r.fh, r.file = fh, f
	sc := &r.sc
	sc.reset(fh, f.Size)
	sc.ctx = ctx
	sc.maxRec = int(min(lim.RowBytes+2, 1<<40)) // room for a CRLF after a row of RowBytes
	sc.delim = r.src.delim
	if err := sc.fill(sniffSize + 1); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Rel, err)
	}
	if sc.eof && sc.end == sc.start {
		return nil, fmt.Errorf("file %s is empty (0 bytes): an empty export is a failed delivery", f.Rel)
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
	sc.eol, r.eolSeen = detectEOL(sc.buf[sc.start:sc.end], sc.eof)
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
	wholeFile := func(what string) error {
		raw := sc.rec
		if raw == nil {
			raw = sc.head
		}
		return fmt.Errorf("%s %s: it looks like a whole file, not one line (line endings seen: %s); it starts %q",
			where, what, r.eolSeen, connectors.Excerpt(rawText(raw, r.gb), 0))
	}
	if sc.status == recTooLong || len(sc.rec) > int(min(lim.RowBytes, 1<<40)) {
		return nil, wholeFile(connectors.Exceeded("line", lim.RowBytes, "row_bytes"))
	}
	if sc.blank() {
		return nil, fmt.Errorf("%s is blank", where)
	}
	if reason := r.check(); reason != "" {
		return nil, fmt.Errorf("%s: %s", where, reason)
	}
	if len(sc.fields) > maxHeaderColumns {
		return nil, wholeFile(fmt.Sprintf("has %d columns, more than %d", len(sc.fields), maxHeaderColumns))
	}
	if !r.decode() {
		return nil, fmt.Errorf("%s: %s", where, r.invalidReason())
	}
	names := make([]string, len(sc.fields))
	seen := make(map[string]int, len(names))
	for i := range sc.fields {
		n := strings.Clone(headerName(r.value(i)))
		if n == "" {
			return nil, fmt.Errorf("%s column %d has no name", where, i+1)
		}
		if j, dup := seen[n]; dup {
			return nil, fmt.Errorf("%s column %d %q duplicates column %d", where, i+1, connectors.Excerpt(n, 0), j+1)
		}
		seen[n] = i
		names[i] = n
	}
	r.names = names
	return names, nil
}

// headerName is a header cell as a column name: trimmed of spaces and a stray BOM.
func headerName(v string) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "\uFEFF"))
}

// detectEOL picks the line end of a file from its first bytes: '\r' when lone CRs (old Mac
// exports) outnumber LFs and CRLFs, else '\n' (which also reads CRLF). seen describes what was
// found, for messages. complete says sample is the whole file.
func detectEOL(sample []byte, complete bool) (eol byte, seen string) {
	if !complete && len(sample) > 0 && sample[len(sample)-1] == '\r' {
		sample = sample[:len(sample)-1] // its LF may be in the next read
	}
	var cr, lf, crlf int
	for i := 0; i < len(sample); i++ {
		switch sample[i] {
		case '\r':
			if i+1 < len(sample) && sample[i+1] == '\n' {
				crlf++
				i++
			} else {
				cr++
			}
		case '\n':
			lf++
		}
	}
	var kinds []string
	for _, k := range []struct {
		n    int
		name string
	}{{lf, "LF"}, {crlf, "CRLF"}, {cr, "CR"}} {
		if k.n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", k.n, k.name))
		}
	}
	seen = "none"
	if len(kinds) > 0 {
		seen = strings.Join(kinds, ", ")
	}
	seen += " in the first " + humanSize(len(sample))
	if cr > lf+crlf {
		return '\r', seen
	}
	return '\n', seen
}

func humanSize(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
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
		return tooLong(r.src.limits, sc.line+sc.nl, sc.quoted)
	}
	return ""
}

// tooLong is the reject reason of a row over limits.row_bytes that ends at line end.
func tooLong(lim connectors.Limits, end int, quoted bool) string {
	hint := ""
	if quoted {
		hint = "; an unbalanced quote?"
	}
	return fmt.Sprintf("%s (the record ends at line %d%s)", connectors.Exceeded("row", lim.RowBytes, "row_bytes"), end, hint)
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
