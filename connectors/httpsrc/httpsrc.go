// Package httpsrc is the "http" source kind: a departmental JSON API that lists its records page
// by page (page/size, offset/limit or an opaque cursor), behind a bearer token or an API key.
//
// Every item of the listing becomes one row: the configured columns are read from the item's
// fields and written as text (strings as they are, numbers as their JSON text, booleans
// "true"/"false", arrays and objects as compact JSON, null or absent as NULL). An item that is
// not a JSON object, or whose values exceed limits.value_bytes / limits.row_bytes, is rejected.
// Locations are "<key_field>=<value>" when a key field is configured, else "#<index>", the
// item's 0-based position in the listing of the run.
//
// A run fails rather than land a listing it cannot trust: an answer over limits.response_bytes,
// more pages than limits.pages, paging that does not advance (a repeated cursor, a page equal
// byte for byte to the one before), a count that differs from the API's total (total_path), or
// a configured column that no item of the run carries.
//
// Transient failures (network errors, 429, 500, 502, 503, 504) are retried with exponential
// backoff and jitter, honouring Retry-After; requests can be rate limited. The source is
// incremental by a time filter (updated_param, with the cursor taken from updated_field or from
// the run's start time) or by resuming from the API's own paging cursor (resume_cursor). See
// README.md for the options.
//
// No secret appears in an error: the token, and the values of query parameters of the
// configured URL that look like credentials (appkey, token, sign, …), are replaced by "***" in
// every message Read, ListKeys, Probe and New return.
package httpsrc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"communityhub/connectors"
)

func init() { connectors.Register("http", New) }

// Options are the kind's options, from the source's [source.options] table.
type Options struct {
	URL       string `json:"url"`        // full URL of the list endpoint, or a path appended to url_env's base
	URLEnv    string `json:"url_env"`    // environment variable holding the base URL
	Auth      string `json:"auth"`       // "none" (default) | "bearer" | "api_key"
	TokenEnv  string `json:"token_env"`  // environment variable with the token or key
	KeyHeader string `json:"key_header"` // header for api_key auth, default "X-Api-Key"
	Paging    string `json:"paging"`     // "page" | "offset" | "cursor"
	PageParam string `json:"page_param"` // default "page" / "offset" / "cursor"
	SizeParam string `json:"size_param"` // default "size" (page) / "limit" (offset, cursor)
	PageSize  int    `json:"page_size"`  // default 100
	ItemsPath string `json:"items_path"` // dotted path of the item array in the answer; "" = the answer is the array
	NextPath  string `json:"next_path"`  // cursor paging: dotted path of the next cursor; null/""/absent = last page
	TotalPath string `json:"total_path"` // dotted path of the listing's item count in every answer; "" = no check
	// Columns are the item fields to read, in order (required: the API has no header).
	Columns  []string `json:"columns"`
	KeyField string   `json:"key_field"` // field identifying an item: locations "<key_field>=<value>", else "#<index>"
	// Incremental by a time filter.
	UpdatedParam string `json:"updated_param"` // query parameter filtering on the time, e.g. "updatedAfter"
	UpdatedField string `json:"updated_field"` // item field with the time (RFC 3339), e.g. "updatedAt"; "" = cursor is the run's start time
	Overlap      string `json:"overlap"`       // re-read window before the cursor, default "1s", must be positive
	// Incremental by the API's own cursor (cursor paging only).
	ResumeCursor bool `json:"resume_cursor"`
	// Resilience.
	Retries       int     `json:"retries"`         // retries per request, default 8; negative = none
	Backoff       string  `json:"backoff"`         // initial backoff, default "200ms", doubling with jitter, capped at 10s
	MaxRetryAfter string  `json:"max_retry_after"` // cap on a server's Retry-After, default "60s"
	RatePerSec    float64 `json:"rate_per_sec"`    // requests per second, 0 = unlimited
	Timeout       string  `json:"timeout"`         // per request, default "30s"
}

// Paging modes.
const (
	pagingPage   = "page"
	pagingOffset = "offset"
	pagingCursor = "cursor"
)

const (
	defaultPageSize = 100
	defaultRetries  = 8
	maxBackoff      = 10 * time.Second
	errBodyBytes    = 200
	errBodyRead     = 64 << 10 // what is read of a non-2xx answer: enough for the message
	rejectRawRunes  = 1024     // what a reject over a value/row limit keeps of the item
	locRunes        = 200      // a key value longer than this is cut in the location
	driftKeys       = 32       // other field names remembered for the drift message
	driftShown      = 8        // … and shown in it
)

// waiter is what the rate limiter offers (the method set of golang.org/x/time/rate.Limiter that
// the source uses).
type waiter interface {
	Wait(ctx context.Context) error
}

// Source is one JSON API. It is safe for sequential use; Read, ListKeys and Probe may also run
// concurrently (the rate limit is shared).
type Source struct {
	o        Options
	limits   connectors.Limits
	endpoint *url.URL // the list endpoint, with any query parameters of the configuration
	display  string   // endpoint for messages (credentials redacted)
	token    string
	keyHdr   string
	secrets  []string // values redacted from every message: the token, secret query values

	pageParam, sizeParam string
	overlap              time.Duration
	retries              int
	backoff              time.Duration
	maxRetryAfter        time.Duration
	timeout              time.Duration

	client  *http.Client
	limiter waiter // nil = unlimited

	bytesRead atomic.Int64

	// batchRows is how many rows are gathered before a batch is written (and the cursor
	// checkpointed); connectors.DefaultBatchRows unless a test lowers it.
	batchRows int
	// now is the clock of the start-time cursor (time.Now unless a test sets it).
	now func() time.Time
}

// KeyedSource is a Source that can list its keys (connectors.KeyLister): New returns it when
// key_field is set and the source is incremental.
type KeyedSource struct{ *Source }

// CursorSource is a Source whose cursor is the largest updated_field of the rows that landed
// (connectors.ColumnCursor): New returns it when updated_param and updated_field are set and
// key_field is not.
type CursorSource struct{ *Source }

// KeyedCursorSource is both a KeyedSource and a CursorSource: New returns it when key_field,
// updated_param and updated_field are set.
type KeyedCursorSource struct{ KeyedSource }

// CursorColumn is updated_field: the landing computes the cursor from the landed rows.
func (s CursorSource) CursorColumn() string { return s.o.UpdatedField }

// CursorColumn is updated_field: the landing computes the cursor from the landed rows.
func (s KeyedCursorSource) CursorColumn() string { return s.o.UpdatedField }

var (
	_ connectors.Source       = (*Source)(nil)
	_ connectors.Incremental  = (*Source)(nil)
	_ connectors.Prober       = (*Source)(nil)
	_ connectors.KeyLister    = KeyedSource{}
	_ connectors.ColumnCursor = CursorSource{}
	_ connectors.ColumnCursor = KeyedCursorSource{}
	_ connectors.KeyLister    = KeyedCursorSource{}
)

// New makes an http source from its config. It validates the options and reads the secrets from
// the environment but does not contact the server. What it returns depends on the abilities the
// configuration gives: *Source, KeyedSource, CursorSource or KeyedCursorSource.
func New(cfg connectors.Config) (connectors.Source, error) {
	s, err := newSource(cfg)
	if err != nil {
		return nil, err
	}
	keyed := s.o.KeyField != "" && s.Incremental()
	column := s.o.UpdatedParam != "" && s.o.UpdatedField != ""
	switch {
	case keyed && column:
		return KeyedCursorSource{KeyedSource{s}}, nil
	case keyed:
		return KeyedSource{s}, nil
	case column:
		return CursorSource{s}, nil
	}
	return s, nil
}

func newSource(cfg connectors.Config) (*Source, error) {
	var o Options
	if err := connectors.DecodeOptions(cfg, &o); err != nil {
		return nil, err
	}
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
		cfg.Getenv = getenv
	}
	s := &Source{o: o, limits: cfg.Limits.WithDefaults(), batchRows: connectors.DefaultBatchRows, now: time.Now}

	// Endpoint.
	raw := o.URL
	if o.URLEnv != "" {
		base, err := connectors.Secret(cfg, "url_env", o.URLEnv)
		if err != nil {
			return nil, err
		}
		raw = base
		if o.URL != "" {
			raw = strings.TrimRight(base, "/") + "/" + strings.TrimLeft(o.URL, "/")
		}
	}
	if raw == "" {
		return nil, errors.New("option url: required (or url_env)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// *url.Error quotes the whole URL, query string and all: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("option url: not a valid URL: %s", connectors.Redact(err.Error()))
	}
	s.endpoint = u
	s.display, s.secrets = displayURL(u)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("option url: %q is not an absolute http(s) URL", s.display)
	}

	// Authentication.
	switch o.Auth {
	case "", "none":
		if o.TokenEnv != "" {
			return nil, fmt.Errorf("option token_env: set but auth is %q (want bearer or api_key)", "none")
		}
	case "bearer", "api_key":
		if o.TokenEnv == "" {
			return nil, fmt.Errorf("option token_env: required with auth %q", o.Auth)
		}
		if s.token, err = connectors.Secret(cfg, "token_env", o.TokenEnv); err != nil {
			return nil, err
		}
		s.secrets = append(s.secrets, s.token, url.QueryEscape(s.token))
		s.keyHdr = o.KeyHeader
		if o.Auth == "api_key" && s.keyHdr == "" {
			s.keyHdr = "X-Api-Key"
		}
	default:
		return nil, fmt.Errorf("option auth: unknown %q (want none, bearer or api_key)", o.Auth)
	}
	if o.KeyHeader != "" && o.Auth != "api_key" {
		return nil, fmt.Errorf("option key_header: only used with auth \"api_key\"")
	}

	// Paging.
	switch o.Paging {
	case pagingPage:
		s.pageParam, s.sizeParam = "page", "size"
	case pagingOffset:
		s.pageParam, s.sizeParam = "offset", "limit"
	case pagingCursor:
		s.pageParam, s.sizeParam = "cursor", "limit"
		if o.NextPath == "" {
			return nil, errors.New("option next_path: required with cursor paging")
		}
		if o.ItemsPath == "" {
			return nil, errors.New("option items_path: required with cursor paging (the answer must be an object holding the items and the next cursor)")
		}
	case "":
		return nil, errors.New("option paging: required (page, offset or cursor)")
	default:
		return nil, fmt.Errorf("option paging: unknown %q (want page, offset or cursor)", o.Paging)
	}
	if o.NextPath != "" && o.Paging != pagingCursor {
		return nil, errors.New("option next_path: only used with cursor paging")
	}
	if o.PageParam != "" {
		s.pageParam = o.PageParam
	}
	if o.SizeParam != "" {
		s.sizeParam = o.SizeParam
	}
	if s.pageParam == s.sizeParam {
		return nil, fmt.Errorf("option page_param: same as size_param (%q)", s.pageParam)
	}
	switch {
	case o.PageSize < 0:
		return nil, fmt.Errorf("option page_size: %d is negative", o.PageSize)
	case o.PageSize == 0:
		s.o.PageSize = defaultPageSize
	}
	if err := checkPath("items_path", o.ItemsPath); err != nil {
		return nil, err
	}
	if err := checkPath("next_path", o.NextPath); err != nil {
		return nil, err
	}
	if err := checkPath("total_path", o.TotalPath); err != nil {
		return nil, err
	}
	if o.TotalPath != "" && o.ItemsPath == "" {
		return nil, errors.New("option total_path: needs items_path (the answer must be an object holding the items and the total)")
	}
	if o.TotalPath != "" && o.ResumeCursor {
		return nil, errors.New("option total_path: cannot be combined with resume_cursor (a resumed run reads only part of the listing the total counts)")
	}

	// Columns.
	if len(o.Columns) == 0 {
		return nil, errors.New("option columns: required (the item fields to read, in order)")
	}
	seen := map[string]bool{}
	for _, c := range o.Columns {
		switch {
		case c == "":
			return nil, errors.New("option columns: empty column name")
		case c == connectors.LocColumn || c == connectors.FlagsColumn:
			return nil, fmt.Errorf("option columns: %q is reserved", c)
		case seen[c]:
			return nil, fmt.Errorf("option columns: %q given twice", c)
		}
		seen[c] = true
	}

	// Incremental.
	if o.UpdatedField != "" && o.UpdatedParam == "" {
		return nil, errors.New("option updated_param: required with updated_field")
	}
	if o.UpdatedField != "" && !seen[o.UpdatedField] {
		return nil, fmt.Errorf("option updated_field: %q is not among the columns (the cursor is computed from the landed column)", o.UpdatedField)
	}
	if o.UpdatedParam != "" && (o.UpdatedParam == s.pageParam || o.UpdatedParam == s.sizeParam) {
		return nil, fmt.Errorf("option updated_param: %q is also the page or size parameter", o.UpdatedParam)
	}
	if o.ResumeCursor && o.Paging != pagingCursor {
		return nil, errors.New("option resume_cursor: needs cursor paging")
	}
	if o.ResumeCursor && o.UpdatedParam != "" {
		return nil, errors.New("option resume_cursor: cannot be combined with updated_param (choose one incremental mode)")
	}
	if o.Overlap != "" && o.UpdatedParam == "" {
		return nil, errors.New("option overlap: only used with updated_param")
	}

	// Resilience.
	// The overlap must be positive: updated_param filters strictly after its value, and rows
	// with a time equal to the cursor must be read again.
	if s.overlap, err = duration("overlap", o.Overlap, time.Second, false); err != nil {
		return nil, err
	}
	if s.backoff, err = duration("backoff", o.Backoff, 200*time.Millisecond, true); err != nil {
		return nil, err
	}
	if s.maxRetryAfter, err = duration("max_retry_after", o.MaxRetryAfter, 60*time.Second, true); err != nil {
		return nil, err
	}
	if s.timeout, err = duration("timeout", o.Timeout, 30*time.Second, false); err != nil {
		return nil, err
	}
	switch {
	case o.Retries < 0:
		s.retries = 0
	case o.Retries == 0:
		s.retries = defaultRetries
	default:
		s.retries = o.Retries
	}
	switch {
	case o.RatePerSec < 0:
		return nil, fmt.Errorf("option rate_per_sec: %v is negative", o.RatePerSec)
	case o.RatePerSec > 0:
		s.limiter = newLimiter(o.RatePerSec)
	}

	tr := http.DefaultTransport.(*http.Transport).Clone()
	s.client = &http.Client{Transport: tr}
	return s, nil
}

// displayURL is u for messages, with the password of the user info and the values of query
// parameters named like credentials replaced by connectors.Redacted; secrets are the replaced
// values (as they are and query-escaped), to be redacted from any other text as well.
func displayURL(u *url.URL) (display string, secrets []string) {
	c := *u
	if c.User != nil {
		if p, ok := c.User.Password(); ok {
			secrets = append(secrets, p, url.QueryEscape(p))
		}
	}
	if c.RawQuery != "" {
		q := c.Query()
		changed := false
		for k, vs := range q {
			if !connectors.SecretParam(k) {
				continue
			}
			for _, v := range vs {
				secrets = append(secrets, v, url.QueryEscape(v))
			}
			q[k] = []string{connectors.Redacted}
			changed = true
		}
		if changed {
			c.RawQuery = strings.ReplaceAll(q.Encode(), url.QueryEscape(connectors.Redacted), connectors.Redacted)
		}
	}
	return connectors.RedactURL(&c), secrets
}

func duration(option, v string, def time.Duration, zeroOK bool) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("option %s: %w", option, err)
	}
	if d < 0 || (d == 0 && !zeroOK) {
		return 0, fmt.Errorf("option %s: %q must be positive", option, v)
	}
	return d, nil
}

func checkPath(option, p string) error {
	if p == "" {
		return nil
	}
	for _, seg := range strings.Split(p, ".") {
		if seg == "" {
			return fmt.Errorf("option %s: %q has an empty segment", option, p)
		}
	}
	return nil
}

// Columns returns the configured columns; it does not contact the server.
func (s *Source) Columns(ctx context.Context) ([]string, error) {
	return append([]string(nil), s.o.Columns...), nil
}

// Incremental reports whether the source resumes from a cursor (updated_param or resume_cursor).
func (s *Source) Incremental() bool { return s.o.UpdatedParam != "" || s.o.ResumeCursor }

// BytesRead is the total size of the response bodies read so far (all requests, including
// retried and failed ones).
func (s *Source) BytesRead() int64 { return s.bytesRead.Load() }

// URL is the list endpoint, with credentials (user info, secret query parameters) redacted.
func (s *Source) URL() string { return s.display }

// redactedError is an error whose message had secrets in it: Error gives the redacted text;
// Unwrap keeps the original chain for errors.Is/As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// finish is what Read, ListKeys and Probe return for err: ctx.Err() itself once ctx is done,
// else err with every secret of the source redacted from its message.
func (s *Source) finish(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	msg := err.Error()
	if red := connectors.Redact(msg, s.secrets...); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

// Read lists the API and writes one row per item; see connectors.Source.
func (s *Source) Read(ctx context.Context, req connectors.ReadRequest, w connectors.Writer) error {
	return s.finish(ctx, s.read(ctx, req, w))
}

func (s *Source) read(ctx context.Context, req connectors.ReadRequest, w connectors.Writer) error {
	runStart := s.now().UTC()
	cols := s.o.Columns
	colIdx := make(map[string]int, len(cols))
	for i, c := range cols {
		colIdx[c] = i
	}
	// The builder never flushes on its own: batches are written at page ends so that every
	// checkpoint follows the Write of all the rows it covers.
	b := connectors.NewBatchBuilder(cols, int(^uint(0)>>1))
	defer b.Release()

	var (
		filter  string // updated_param value
		maxT    time.Time
		maxText string // original text of the newest updated_field seen (or the start cursor)
		start   string // cursor to start paging from (resume_cursor)
		pending string // the cursor to checkpoint once the gathered rows are written
		havePnd bool
	)
	switch {
	case s.o.UpdatedParam != "":
		if req.Cursor != "" {
			t, err := parseCursor(req.Cursor)
			if err != nil {
				return fmt.Errorf("%s: cursor %q is not an RFC 3339 time: %w", s.display, req.Cursor, err)
			}
			if s.o.UpdatedField != "" {
				maxT, maxText = t, req.Cursor
			}
			filter = t.Add(-s.overlap).UTC().Truncate(time.Second).Format(time.RFC3339)
		}
	case s.o.ResumeCursor:
		start = req.Cursor
	}

	flush := func() error {
		if err := b.Flush(w); err != nil {
			return err
		}
		if havePnd {
			w.Checkpoint(pending)
			havePnd = false
		}
		return nil
	}

	var (
		index   int
		objects int                       // items that were objects
		carried = make([]bool, len(cols)) // column i is a key of some item (null counts)
		others  = map[string]bool{}       // other keys of the items, up to driftKeys
		vals    = make([]string, len(cols))
		has     = make([]bool, len(cols))
		sb      strings.Builder
	)
	err := s.walk(ctx, filter, start, func(items []json.RawMessage, used string) error {
		for _, raw := range items {
			idx := index
			index++
			fields, kind := object(raw)
			if fields == nil {
				if err := w.Reject(connectors.Reject{
					Loc:    "#" + strconv.Itoa(idx),
					Raw:    s.rejectRaw(raw),
					Reason: "item is not a JSON object but " + kind,
				}); err != nil {
					return err
				}
				continue
			}
			objects++
			if len(others) < driftKeys {
				for name := range fields {
					if _, ok := colIdx[name]; !ok && len(others) < driftKeys {
						others[name] = true
					}
				}
			}
			// Values in column order, so that the first value over a limit is the one named.
			over := ""
			rowBytes := int64(0)
			for i, c := range cols {
				has[i] = false
				v, ok := fields[c]
				if !ok {
					continue
				}
				carried[i] = true
				text, ok := render(v)
				if !ok {
					continue
				}
				vals[i], has[i] = text, true
				rowBytes += int64(len(text))
				if over == "" && int64(len(text)) > s.limits.ValueBytes {
					over = connectors.Exceeded(fmt.Sprintf("field %s (%d bytes)", c, len(text)), s.limits.ValueBytes, "value_bytes")
				}
			}
			if over == "" && rowBytes > s.limits.RowBytes {
				over = connectors.Exceeded(fmt.Sprintf("item (%d bytes in its columns)", rowBytes), s.limits.RowBytes, "row_bytes")
			}
			loc := ""
			if s.o.KeyField != "" {
				if text, ok := render(fields[s.o.KeyField]); ok {
					if len(text) > locRunes {
						text = connectors.Excerpt(text, locRunes)
					}
					sb.Reset()
					sb.WriteString(s.o.KeyField)
					sb.WriteByte('=')
					sb.WriteString(text)
					loc = sb.String()
				}
			}
			if loc == "" {
				loc = "#" + strconv.Itoa(idx)
			}
			if over != "" {
				if err := w.Reject(connectors.Reject{Loc: loc, Raw: s.rejectRaw(raw), Reason: over}); err != nil {
					return err
				}
				continue
			}
			for i := range cols {
				if has[i] {
					b.Set(i, vals[i])
				}
			}
			if s.o.UpdatedField != "" {
				if text, ok := render(fields[s.o.UpdatedField]); ok {
					if t, err := time.Parse(time.RFC3339, text); err == nil && (maxText == "" || t.After(maxT)) {
						maxT, maxText = t, text
					}
				}
			}
			if err := b.EndRow(loc, "", w); err != nil {
				return err
			}
		}
		switch {
		case s.o.UpdatedField != "" && maxText != "":
			pending, havePnd = maxText, true
		case s.o.ResumeCursor:
			pending, havePnd = used, true
		}
		if b.Len() >= s.batchRows {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if objects > 0 {
		if err := s.drift(carried, others); err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if s.o.UpdatedParam != "" && s.o.UpdatedField == "" {
		// Incremental by the run's start time: everything the API held when the run began has
		// been written; the next run asks for what changed since (minus the overlap).
		w.Checkpoint(runStart.Truncate(time.Second).Format(time.RFC3339))
	}
	return nil
}

// rejectRaw is what a reject keeps of an item: its compact JSON, cut to an excerpt when it is
// longer than limits.value_bytes.
func (s *Source) rejectRaw(raw json.RawMessage) string {
	if int64(len(raw)) > s.limits.ValueBytes {
		return connectors.Excerpt(string(bytes.TrimSpace(raw)), rejectRawRunes)
	}
	return compact(raw)
}

// drift fails the run when a configured column is a key of no item: a mistyped column (idcard
// for idCard) would otherwise land as NULL forever. The message names the first such column,
// counts the others, and lists some of the fields the items do have (case-insensitive matches
// first).
func (s *Source) drift(carried []bool, others map[string]bool) error {
	var missing []string
	for i, c := range s.o.Columns {
		if !carried[i] {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	first := missing[0]
	var near, rest []string
	for k := range others {
		if strings.EqualFold(k, first) {
			near = append(near, k)
		} else {
			rest = append(rest, k)
		}
	}
	sort.Strings(near)
	sort.Strings(rest)
	list := append(near, rest...)
	have := "no other fields"
	if len(list) > 0 {
		more := ""
		if len(list) > driftShown {
			list, more = list[:driftShown], ", …"
		}
		have = strings.Join(list, ", ") + more
	}
	also := ""
	if n := len(missing) - 1; n > 0 {
		shown := missing[1:min(len(missing), 1+driftShown)]
		also = fmt.Sprintf(" (nor %d more: %s)", n, strings.Join(shown, ", "))
		if n > driftShown {
			also = also[:len(also)-1] + ", …)"
		}
	}
	return fmt.Errorf("%s: field %s: no item of this run has it%s; mistyped? the items have: %s", s.display, first, also, have)
}

// cursorLayouts are the forms of a time cursor Read accepts: RFC 3339 (what this source
// checkpoints) and the timestamp texts a landing may compute from a typed column.
var cursorLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// parseCursor reads a time cursor; a text without a zone is UTC.
func parseCursor(c string) (time.Time, error) {
	c = strings.TrimSpace(c)
	var first error
	for _, l := range cursorLayouts {
		t, err := time.Parse(l, c)
		if err == nil {
			return t, nil
		}
		if first == nil {
			first = err
		}
	}
	return time.Time{}, first
}

// ListKeys lists the key_field of every item, paging through the whole listing without the
// incremental filter (and from the start for cursor paging).
func (k KeyedSource) ListKeys(ctx context.Context, emit func(key []string) error) error {
	s := k.Source
	if s.o.KeyField == "" {
		return errors.New("list keys: option key_field is not set")
	}
	return s.finish(ctx, s.walk(ctx, "", "", func(items []json.RawMessage, _ string) error {
		for _, raw := range items {
			fields, _ := object(raw)
			if fields == nil {
				continue // rejected by Read as well: it has no key
			}
			if text, ok := render(fields[s.o.KeyField]); ok {
				if err := emit([]string{text}); err != nil {
					return err
				}
			}
		}
		return nil
	}))
}

// Probe requests the first page with a page size of 1 and checks that the answer parses.
func (s *Source) Probe(ctx context.Context) error {
	return s.finish(ctx, s.probe(ctx))
}

func (s *Source) probe(ctx context.Context) error {
	q := url.Values{}
	q.Set(s.sizeParam, "1")
	switch s.o.Paging {
	case pagingPage:
		q.Set(s.pageParam, "1")
	case pagingOffset:
		q.Set(s.pageParam, "0")
	}
	body, err := s.fetch(ctx, q)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("probe: %w", err)
	}
	if _, _, _, err := s.parse(body); err != nil {
		return fmt.Errorf("probe: %s (%s): %w", s.display, q.Encode(), err)
	}
	return nil
}

// walk pages through the listing, calling onPage with each page's items and the cursor the page
// was fetched with (cursor paging). filter is the updated_param value ("" = none); start is the
// cursor to begin with (cursor paging).
//
// The listing ends at an empty page (page and offset paging) or at a page without a next cursor
// (cursor paging). In page paging a short page is followed by one more request, which must be
// empty: a non-empty one means the server caps the page size. A total (total_path) never ends
// the listing early; it is compared with the items read once the listing has ended.
func (s *Source) walk(ctx context.Context, filter, start string, onPage func(items []json.RawMessage, used string) error) error {
	size := s.o.PageSize
	pageNo, offset, cursor := 1, 0, start
	seen := map[string]bool{}
	if start != "" {
		seen[start] = true
	}
	read := 0
	total := -1
	prevShort := false
	var prevSum [sha256.Size]byte
	havePrev := false
	for n := 0; ; n++ {
		if n >= s.limits.Pages {
			return fmt.Errorf("%s: the listing has more than %d pages, giving up (a listing that never ends? raise limits.pages)", s.display, s.limits.Pages)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		q := url.Values{}
		q.Set(s.sizeParam, strconv.Itoa(size))
		if filter != "" {
			q.Set(s.o.UpdatedParam, filter)
		}
		switch s.o.Paging {
		case pagingPage:
			q.Set(s.pageParam, strconv.Itoa(pageNo))
		case pagingOffset:
			q.Set(s.pageParam, strconv.Itoa(offset))
		case pagingCursor:
			if cursor != "" {
				q.Set(s.pageParam, cursor)
			}
		}
		body, err := s.fetch(ctx, q)
		if err != nil {
			return err
		}
		where := s.display + " (" + q.Encode() + ")"
		items, next, pageTotal, err := s.parse(body)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		body = nil
		if s.o.TotalPath != "" {
			switch {
			case total < 0:
				total = pageTotal
			case pageTotal != total:
				return fmt.Errorf("%s: the API's total changed from %d to %d during the run: the listing changed while it was read, run again", where, total, pageTotal)
			}
		}
		if s.o.Paging != pagingCursor && len(items) == 0 {
			return s.checkTotal(read, total)
		}
		if len(items) > 0 {
			sum := digest(items)
			if havePrev && sum == prevSum {
				return fmt.Errorf("%s: this page's %d items are byte for byte those of the page before: the API does not advance (does it ignore %q?), giving up",
					where, len(items), s.pageParam)
			}
			prevSum, havePrev = sum, true
		}
		if s.o.Paging == pagingPage && prevShort {
			return fmt.Errorf("%s: page %d had fewer than %d items but page %d is not empty: the server caps the page size, lower page_size",
				s.display, pageNo-1, size, pageNo)
		}
		if err := onPage(items, cursor); err != nil {
			return err
		}
		read += len(items)
		switch s.o.Paging {
		case pagingPage:
			prevShort = len(items) < size
			pageNo++
		case pagingOffset:
			offset += len(items)
		case pagingCursor:
			if next == "" {
				return s.checkTotal(read, total)
			}
			if seen[next] {
				return fmt.Errorf("%s: the next cursor %q was already used: the API does not advance, giving up", where, connectors.Excerpt(next, 80))
			}
			seen[next] = true
			cursor = next
		}
	}
}

// checkTotal compares the items read with the API's total (total_path), once the listing ended.
func (s *Source) checkTotal(read, total int) error {
	if s.o.TotalPath == "" || total < 0 || read == total {
		return nil
	}
	return fmt.Errorf("%s: the API says total %d but %d items were read (%s %q); the listing is incomplete or its total is wrong",
		s.display, total, read, "total_path", s.o.TotalPath)
}

// digest identifies a page by its items' bytes.
func digest(items []json.RawMessage) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for _, it := range items {
		l := len(it)
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(it)
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// parse reads one answer: the items, the next cursor (cursor paging; "" = last page) and the
// total at total_path (-1 when total_path is not set).
func (s *Source) parse(body []byte) (items []json.RawMessage, next string, total int, err error) {
	total = -1
	if s.o.ItemsPath == "" {
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, "", 0, fmt.Errorf("answer is not a JSON array (items_path is \"\"): %w", err)
		}
		return items, "", total, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, "", 0, fmt.Errorf("answer is not a JSON object: %w", err)
	}
	v, ok := lookup(top, s.o.ItemsPath)
	if !ok {
		return nil, "", 0, fmt.Errorf("answer has no %q", s.o.ItemsPath)
	}
	if !isNull(v) {
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, "", 0, fmt.Errorf("%q is not an array: %w", s.o.ItemsPath, err)
		}
	}
	if s.o.NextPath != "" {
		if v, ok := lookup(top, s.o.NextPath); ok {
			t := bytes.TrimSpace(v)
			if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
				return nil, "", 0, fmt.Errorf("%q is not a string", s.o.NextPath)
			}
			next, _ = render(v)
		}
	}
	if s.o.TotalPath != "" {
		v, ok := lookup(top, s.o.TotalPath)
		if !ok || isNull(v) {
			return nil, "", 0, fmt.Errorf("answer has no total at %q (total_path)", s.o.TotalPath)
		}
		text, _ := render(v)
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil || n < 0 {
			return nil, "", 0, fmt.Errorf("total %q at %q (total_path) is not a count", connectors.Excerpt(text, 40), s.o.TotalPath)
		}
		total = n
	}
	return items, next, total, nil
}

// lookup follows a dotted path through nested objects.
func lookup(top map[string]json.RawMessage, path string) (json.RawMessage, bool) {
	segs := strings.Split(path, ".")
	cur := top
	for i, seg := range segs {
		v, ok := cur[seg]
		if !ok {
			return nil, false
		}
		if i == len(segs)-1 {
			return v, true
		}
		cur = nil
		if err := json.Unmarshal(v, &cur); err != nil || cur == nil {
			return nil, false
		}
	}
	return nil, false
}

func isNull(v json.RawMessage) bool {
	t := bytes.TrimSpace(v)
	return len(t) == 0 || string(t) == "null"
}

// object decodes an item's fields; for an item that is not an object it returns nil and what the
// item is.
func object(raw json.RawMessage) (map[string]json.RawMessage, string) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return nil, kindOf(t)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil || m == nil {
		return nil, "invalid JSON"
	}
	return m, "object"
}

func kindOf(t []byte) string {
	if len(t) == 0 {
		return "empty"
	}
	switch t[0] {
	case '"':
		return "a string"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// render writes a JSON value as text; ok is false for null or an absent value (NULL).
func render(v json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(v)
	if len(t) == 0 || string(t) == "null" {
		return "", false
	}
	switch t[0] {
	case '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return string(t), true
		}
		return s, true
	case '[', '{':
		return compact(t), true
	}
	// Numbers keep their JSON text ("12.5", "1e3"); true and false are already their text.
	return string(t), true
}

func compact(v []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return string(bytes.TrimSpace(v))
	}
	return buf.String()
}

// permanentError is a failure of one request that retrying cannot cure (an answer over
// limits.response_bytes).
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

// fetch GETs the endpoint with the given query parameters, retrying transient failures.
func (s *Source) fetch(ctx context.Context, params url.Values) ([]byte, error) {
	u := *s.endpoint
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	where := s.display
	if len(params) > 0 {
		where += " (" + params.Encode() + ")"
	}

	var last string
	for attempt := 0; ; attempt++ {
		if s.limiter != nil {
			if err := s.limiter.Wait(ctx); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, err
			}
		}
		status, hdr, body, err := s.do(ctx, u.String())
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var wait time.Duration
		var perm *permanentError
		switch {
		case errors.As(err, &perm):
			return nil, fmt.Errorf("%s: %s", where, perm.msg)
		case err != nil:
			last = err.Error()
		case status >= 200 && status < 300:
			return body, nil
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return nil, fmt.Errorf("authentication failed (%d) at %s", status, s.display)
		case status == http.StatusTooManyRequests || status == http.StatusInternalServerError ||
			status == http.StatusBadGateway || status == http.StatusServiceUnavailable ||
			status == http.StatusGatewayTimeout:
			last = fmt.Sprintf("HTTP %d: %s", status, snippet(body))
			if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
				if d, ok := retryAfter(hdr.Get("Retry-After"), time.Now()); ok && d > 0 {
					wait = min(d, s.maxRetryAfter)
				}
			}
		default:
			return nil, fmt.Errorf("%s: HTTP %d %s: %s", where, status, http.StatusText(status), snippet(body))
		}
		if attempt >= s.retries {
			return nil, fmt.Errorf("%s: giving up after %d attempts: %s", where, attempt+1, last)
		}
		if wait == 0 {
			wait = s.backoffFor(attempt)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// do makes one request and reads the body: a 2xx body up to limits.response_bytes (more is a
// permanentError), any other body up to errBodyRead bytes.
func (s *Source) do(ctx context.Context, u string) (int, http.Header, []byte, error) {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, nil, s.scrub(ctx, rctx, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "communityhub-httpsrc")
	switch s.o.Auth {
	case "bearer":
		req.Header.Set("Authorization", "Bearer "+s.token)
	case "api_key":
		req.Header.Set(s.keyHdr, s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, nil, s.scrub(ctx, rctx, err)
	}
	defer resp.Body.Close()
	limit := s.limits.ResponseBytes
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if !ok {
		limit = errBodyRead
	} else if resp.ContentLength > limit {
		return 0, nil, nil, &permanentError{connectors.Exceeded(fmt.Sprintf("the answer (Content-Length %d)", resp.ContentLength), limit, "response_bytes")}
	}
	var buf bytes.Buffer
	if ok && resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength) + 1)
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	s.bytesRead.Add(n)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading the answer: %w", s.scrub(ctx, rctx, err))
	}
	body := buf.Bytes()
	if int64(len(body)) > limit {
		if ok {
			return 0, nil, nil, &permanentError{connectors.Exceeded("the answer", limit, "response_bytes")}
		}
		body = body[:limit]
	}
	return resp.StatusCode, resp.Header, body, nil
}

// scrub drops the *url.Error wrapper (whose text repeats the full URL, query string and all)
// and keeps the cause, and names a per-request timeout as such.
func (s *Source) scrub(ctx, rctx context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(rctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s (timeout)", s.timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func snippet(body []byte) string {
	b := bytes.TrimSpace(body)
	if len(b) > errBodyBytes {
		b = b[:errBodyBytes]
	}
	return strings.ToValidUTF8(string(b), "")
}

// retryAfter parses a Retry-After header: whole seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// backoffFor is the wait before retry attempt+1: backoff·2^attempt capped at 10s, with jitter
// (a uniform draw in its upper half).
func (s *Source) backoffFor(attempt int) time.Duration {
	d := s.backoff
	for i := 0; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// sleep waits d or until ctx is done (then it returns ctx.Err()).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// limiter spaces requests at least 1/rate apart (a token bucket of size 1), waiting with ctx.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func newLimiter(perSec float64) *limiter {
	return &limiter{interval: time.Duration(float64(time.Second) / perSec)}
}

func (l *limiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	now := time.Now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	return sleep(ctx, d)
}
