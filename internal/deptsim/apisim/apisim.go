// Package apisim serves the simulated departmental HTTP APIs (systems 2, 4
// and 10) of the street office from in-memory data, for tests, benchmarks
// and the embedded demo.
//
// The three APIs deliberately behave like fragile real government APIs:
// they page, they require credentials, and they can be told to answer with
// injected 429 Too Many Requests (with Retry-After) and 5xx errors, both at
// random and when too many requests are in flight.
//
// Wire protocols (all GET only, all answers "application/json; charset=utf-8"):
//
//   - Floating (system 2): GET /api/v1/residents?page=N&size=M&updatedAfter=T
//     page is 1-based (default 1), size defaults to 100 and is clamped to
//     Config.MaxPage. Each item has a last-update time: the server's own
//     bookkeeping in Config.Updated (not part of the item, as in the
//     contract, whose items carry no update time), or else the item's string
//     field "updatedAt" (RFC 3339). With updatedAfter (RFC 3339, URL-encoded,
//     so a "+" offset must be sent as %2B) only items updated strictly later
//     are included. Included items are ordered by update time ascending, ties
//     in the original order. Answer:
//     {"total": <included>, "page": N, "size": <effective size>, "items": [...]}.
//     Authentication: "Authorization: Bearer <Token>".
//   - Elderly (system 4): GET /openapi/elders?offset=N&limit=M, offset
//     default 0, limit default 100 clamped to Config.MaxPage. Answer: a bare
//     JSON array in the original order ([] past the end) and the header
//     X-Total-Count with the number of items. Authentication:
//     "X-Api-Key: <Token>".
//   - Volunteers (system 10): GET /v2/volunteers?cursor=C&limit=M. An absent
//     or empty cursor starts at the beginning; limit default 100 clamped to
//     Config.MaxPage. Answer: {"data": [...], "nextCursor": "<opaque>"},
//     nextCursor is null on the last page. Cursors are opaque to clients; an
//     invalid one is answered 400. Authentication: "Authorization: Bearer <Token>".
//
// Items are sent verbatim (byte for byte as given, so non-ASCII text stays
// UTF-8). Pages are pure functions of the current data and the request
// parameters, so retrying a failed request returns the same page as long as
// the data has not been replaced with SetItems.
//
// Every request is processed in this order:
//
//  1. unknown path: 404 {"error": "..."};
//  2. method other than GET: 405 with an Allow header;
//  3. wrong or missing credentials: 401 {"error":"unauthorized"} (never
//     replaced by an injected fault);
//  4. in-flight limit (Faults.MaxInFlight): 429 with Retry-After;
//  5. random 429 with Retry-After (Faults.Rate429);
//  6. random 500, 502 or 503 with a small JSON body (Faults.Rate5xx);
//  7. bad parameters: 400 {"error": "..."};
//  8. the page, 200.
package apisim

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind selects the wire protocol of one API.
type Kind string

// The three simulated API kinds.
const (
	Floating   Kind = "floating"   // system 2: floating population (page/size, updatedAfter)
	Elderly    Kind = "elderly"    // system 4: elderly care (offset/limit, X-Api-Key)
	Volunteers Kind = "volunteers" // system 10: volunteers (opaque cursor)
)

// Path returns the URL path the API of kind k is served on, or "" for an
// unknown kind.
func (k Kind) Path() string {
	switch k {
	case Floating:
		return "/api/v1/residents"
	case Elderly:
		return "/openapi/elders"
	case Volunteers:
		return "/v2/volunteers"
	}
	return ""
}

// DefaultMaxPage is the largest page size honoured when Config.MaxPage is 0.
const DefaultMaxPage = 500

// defaultPageSize is the page size used when the client does not ask for one.
const defaultPageSize = 100

// Faults configures injected failures. The zero value injects no faults.
//
// Rate429 and Rate5xx are fractions of all requests that pass the
// authentication check and the in-flight limit: one uniform number u in
// [0,1) is drawn per such request; u < Rate429 gives a 429 and
// Rate429 <= u < Rate429+Rate5xx gives a 5xx (a second draw picks 500, 502
// or 503). Their sum should not exceed 1.
//
// The draws come from a math/rand/v2 PCG generator seeded with Seed, so a
// sequential client sees the same sequence of answers for the same Seed.
type Faults struct {
	// Rate429 is the probability that a request is answered 429 with a
	// Retry-After header.
	Rate429 float64
	// RetryAfter is the value of the Retry-After header sent with every 429
	// (random or in-flight), written as whole seconds rounded up; zero or
	// negative durations are written as "0".
	RetryAfter time.Duration
	// Rate5xx is the probability that a request is answered 500, 502 or
	// 503 with a small JSON error body.
	Rate5xx float64
	// MaxInFlight, when > 0, is the number of requests processed
	// concurrently; a request arriving while that many are in flight is
	// answered 429 with Retry-After (the "under load" case).
	MaxInFlight int
	// Seed seeds the PCG generator the random faults are drawn from.
	Seed uint64
}

// Config is one API's data and behaviour.
type Config struct {
	// Kind selects the wire protocol.
	Kind Kind
	// Items are the records, in the system's stable order. Each must be a
	// valid JSON object (not validated); they are copied and later sent
	// verbatim. For Floating an item without an update time (see Updated)
	// sorts first and is never newer than any updatedAfter.
	Items []json.RawMessage
	// Updated (Floating only) is each item's last-update time, index for
	// index with Items: the server's internal column that updatedAfter
	// filters on, never sent. Nil takes the time from each item's string
	// field "updatedAt" (RFC 3339) instead; a zero time means none.
	Updated []time.Time
	// Token is the credential: for Floating and Volunteers the request
	// needs "Authorization: Bearer <Token>", for Elderly "X-Api-Key: <Token>".
	// Empty means no authentication check.
	Token string
	// Faults configures injected failures.
	Faults Faults
	// MaxPage is the largest page size honoured (DefaultMaxPage when <= 0);
	// bigger requests are clamped to it.
	MaxPage int
}

// Stats are counters since the API was created. Every request is counted in
// Requests and in exactly one of the other fields.
type Stats struct {
	Requests     int64 // all requests
	OK           int64 // 200 answers
	Unauthorized int64 // 401 answers
	TooMany      int64 // 429 answers, random or in-flight
	ServerErrors int64 // injected 500/502/503 answers
	BadRequests  int64 // 400, 404 and 405 answers
}

// dataset is one immutable snapshot of the served items.
type dataset struct {
	items [][]byte
	// Floating only: order lists item indexes sorted by (updatedAt, index)
	// and times holds their updatedAt in that order.
	order []int
	times []time.Time
}

// API is the http.Handler of one simulated API. It is safe for concurrent
// use. Create it with New.
type API struct {
	kind    Kind
	path    string
	token   string
	faults  Faults
	maxPage int

	data atomic.Pointer[dataset]

	rngMu sync.Mutex
	rng   *rand.Rand

	inFlight atomic.Int64

	requests, ok, unauthorized, tooMany, serverErrors, badRequests atomic.Int64

	// hold, when set (tests only), is called for every request that passed
	// the fault checks while it still counts as in flight.
	hold func()
}

// New builds the API described by cfg. It panics if cfg.Kind is not one of
// Floating, Elderly or Volunteers.
func New(cfg Config) *API {
	p := cfg.Kind.Path()
	if p == "" {
		panic(fmt.Sprintf("apisim: unknown kind %q", cfg.Kind))
	}
	a := &API{
		kind:    cfg.Kind,
		path:    p,
		token:   cfg.Token,
		faults:  cfg.Faults,
		maxPage: cfg.MaxPage,
		rng:     rand.New(rand.NewPCG(cfg.Faults.Seed, cfg.Faults.Seed^0x9e3779b97f4a7c15)),
	}
	if a.maxPage <= 0 {
		a.maxPage = DefaultMaxPage
	}
	a.SetData(cfg.Items, cfg.Updated)
	return a
}

// Handler returns the handler of the API described by cfg, for use with
// httptest or an external server. It is New(cfg); use New directly to keep
// access to SetItems and Stats. It panics on an unknown kind.
func Handler(cfg Config) http.Handler { return New(cfg) }

// SetItems atomically replaces the served data (used to simulate changes
// between sync runs), taking Floating's update times from the items'
// "updatedAt" fields. It is SetData(items, nil).
func (a *API) SetItems(items []json.RawMessage) { a.SetData(items, nil) }

// SetData atomically replaces the served data and, for Floating, the
// internal update times (updated, index for index with items; nil: from
// each item's "updatedAt"). The items are copied. Requests already being
// answered finish with the old data; every page is built from a single
// snapshot. It panics when updated is given with another length than items.
func (a *API) SetData(items []json.RawMessage, updated []time.Time) {
	if updated != nil && len(updated) != len(items) {
		panic(fmt.Sprintf("apisim: %d update times for %d items", len(updated), len(items)))
	}
	size := 0
	for _, it := range items {
		size += len(it)
	}
	buf := make([]byte, 0, size)
	ds := &dataset{items: make([][]byte, len(items))}
	for i, it := range items {
		start := len(buf)
		buf = append(buf, it...)
		ds.items[i] = buf[start:len(buf):len(buf)]
	}
	if a.kind == Floating {
		type stamp struct {
			UpdatedAt string `json:"updatedAt"`
		}
		times := make([]time.Time, len(items))
		ds.order = make([]int, len(items))
		for i, it := range ds.items {
			ds.order[i] = i
			if updated != nil {
				times[i] = updated[i]
				continue
			}
			var s stamp
			if json.Unmarshal(it, &s) == nil {
				if t, err := time.Parse(time.RFC3339, s.UpdatedAt); err == nil {
					times[i] = t
				}
			}
		}
		sort.SliceStable(ds.order, func(x, y int) bool {
			return times[ds.order[x]].Before(times[ds.order[y]])
		})
		ds.times = make([]time.Time, len(items))
		for i, idx := range ds.order {
			ds.times[i] = times[idx]
		}
	}
	a.data.Store(ds)
}

// Stats returns the counters since the API was created.
func (a *API) Stats() Stats {
	return Stats{
		Requests:     a.requests.Load(),
		OK:           a.ok.Load(),
		Unauthorized: a.unauthorized.Load(),
		TooMany:      a.tooMany.Load(),
		ServerErrors: a.serverErrors.Load(),
		BadRequests:  a.badRequests.Load(),
	}
}

// ServeHTTP answers one request following the order described in the
// package documentation.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.requests.Add(1)
	if r.URL.Path != a.path {
		a.fail(w, http.StatusNotFound, "not found: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		a.fail(w, http.StatusMethodNotAllowed, "method not allowed: "+r.Method)
		return
	}
	if !a.authorized(r) {
		if a.kind != Elderly {
			w.Header().Set("WWW-Authenticate", `Bearer realm="apisim"`)
		}
		a.fail(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	n := a.inFlight.Add(1)
	defer a.inFlight.Add(-1)
	if a.faults.MaxInFlight > 0 && n > int64(a.faults.MaxInFlight) {
		a.tooManyRequests(w, "too many concurrent requests")
		return
	}
	if code := a.drawFault(); code == http.StatusTooManyRequests {
		a.tooManyRequests(w, "rate limit exceeded")
		return
	} else if code != 0 {
		a.reply(w, code, fmt.Appendf(nil, `{"error":%q,"status":%d}`,
			"simulated upstream failure: "+http.StatusText(code), code))
		return
	}
	if a.hold != nil {
		a.hold()
	}
	ds := a.data.Load()
	q := r.URL.Query()
	var (
		body []byte
		err  error
	)
	switch a.kind {
	case Floating:
		body, err = a.floating(ds, q.Get("page"), q.Get("size"), q.Get("updatedAfter"))
	case Elderly:
		body, err = a.elderly(w, ds, q.Get("offset"), q.Get("limit"))
	case Volunteers:
		body, err = a.volunteers(ds, q.Get("cursor"), q.Get("limit"))
	}
	if err != nil {
		a.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	a.reply(w, http.StatusOK, body)
}

// authorized reports whether r carries the configured credential.
func (a *API) authorized(r *http.Request) bool {
	if a.token == "" {
		return true
	}
	var got string
	if a.kind == Elderly {
		got = r.Header.Get("X-Api-Key")
	} else {
		h := r.Header.Get("Authorization")
		scheme, cred, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return false
		}
		got = cred
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) == 1
}

// drawFault returns 0 (no fault), 429, or one of 500, 502, 503.
func (a *API) drawFault() int {
	f := a.faults
	if f.Rate429 <= 0 && f.Rate5xx <= 0 {
		return 0
	}
	a.rngMu.Lock()
	defer a.rngMu.Unlock()
	u := a.rng.Float64()
	switch {
	case u < f.Rate429:
		return http.StatusTooManyRequests
	case u < f.Rate429+f.Rate5xx:
		return [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[a.rng.IntN(3)]
	}
	return 0
}

func (a *API) tooManyRequests(w http.ResponseWriter, msg string) {
	secs := int64(0)
	if a.faults.RetryAfter > 0 {
		secs = int64(math.Ceil(a.faults.RetryAfter.Seconds()))
	}
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	a.fail(w, http.StatusTooManyRequests, msg)
}

func (a *API) fail(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	a.reply(w, code, b)
}

// reply writes one JSON answer and counts it.
func (a *API) reply(w http.ResponseWriter, code int, body []byte) {
	switch {
	case code == http.StatusOK:
		a.ok.Add(1)
	case code == http.StatusUnauthorized:
		a.unauthorized.Add(1)
	case code == http.StatusTooManyRequests:
		a.tooMany.Add(1)
	case code >= 500:
		a.serverErrors.Add(1)
	default:
		a.badRequests.Add(1)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}

// intParam parses an optional non-negative integer query parameter; an
// empty value gives def.
func intParam(name, v string, def, min int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, fmt.Errorf("invalid %s %q: want an integer >= %d", name, v, min)
	}
	return n, nil
}

// window returns [start, end) of the page of the given size beginning at
// off in a list of n items.
func window(off, size, n int) (int, int) {
	if off >= n {
		return n, n
	}
	end := n
	if size < n-off {
		end = off + size
	}
	return off, end
}

func appendItems(b []byte, items [][]byte, idx func(int) int, start, end int) []byte {
	b = append(b, '[')
	for i := start; i < end; i++ {
		if i > start {
			b = append(b, ',')
		}
		b = append(b, items[idx(i)]...)
	}
	return append(b, ']')
}

func identity(i int) int { return i }

func (a *API) floating(ds *dataset, pageS, sizeS, afterS string) ([]byte, error) {
	page, err := intParam("page", pageS, 1, 1)
	if err != nil {
		return nil, err
	}
	size, err := intParam("size", sizeS, defaultPageSize, 1)
	if err != nil {
		return nil, err
	}
	size = min(size, a.maxPage)
	first := 0
	if afterS != "" {
		after, err := time.Parse(time.RFC3339, afterS)
		if err != nil {
			return nil, fmt.Errorf("invalid updatedAfter %q: want RFC 3339 (URL-encode '+' as %%2B)", afterS)
		}
		first = sort.Search(len(ds.times), func(i int) bool { return ds.times[i].After(after) })
	}
	total := len(ds.order) - first
	off := total // past the end unless the page exists
	if page-1 < (total+size-1)/size {
		off = (page - 1) * size
	}
	start, end := window(off, size, total)
	b := fmt.Appendf(nil, `{"total":%d,"page":%d,"size":%d,"items":`, total, page, size)
	b = appendItems(b, ds.items, func(i int) int { return ds.order[first+i] }, start, end)
	return append(b, '}'), nil
}

func (a *API) elderly(w http.ResponseWriter, ds *dataset, offS, limS string) ([]byte, error) {
	off, err := intParam("offset", offS, 0, 0)
	if err != nil {
		return nil, err
	}
	limit, err := intParam("limit", limS, defaultPageSize, 1)
	if err != nil {
		return nil, err
	}
	limit = min(limit, a.maxPage)
	start, end := window(off, limit, len(ds.items))
	w.Header().Set("X-Total-Count", strconv.Itoa(len(ds.items)))
	return appendItems(nil, ds.items, identity, start, end), nil
}

// cursorTag prefixes the offset inside a volunteers cursor.
const cursorTag = "vol1:"

func encodeCursor(off int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorTag + strconv.Itoa(off)))
}

func decodeCursor(c string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if s, ok := bytes.CutPrefix(raw, []byte(cursorTag)); ok {
			if n, err := strconv.Atoi(string(s)); err == nil && n >= 0 && strconv.Itoa(n) == string(s) {
				return n, nil
			}
		}
	}
	return 0, errors.New("invalid cursor")
}

func (a *API) volunteers(ds *dataset, cursor, limS string) ([]byte, error) {
	off := 0
	if cursor != "" {
		var err error
		if off, err = decodeCursor(cursor); err != nil {
			return nil, err
		}
	}
	limit, err := intParam("limit", limS, defaultPageSize, 1)
	if err != nil {
		return nil, err
	}
	limit = min(limit, a.maxPage)
	start, end := window(off, limit, len(ds.items))
	b := appendItems([]byte(`{"data":`), ds.items, identity, start, end)
	if end < len(ds.items) {
		b = fmt.Appendf(b, `,"nextCursor":%q}`, encodeCursor(end))
	} else {
		b = append(b, `,"nextCursor":null}`...)
	}
	return b, nil
}

// Server is one API running on its own loopback listener.
type Server struct {
	api  *API
	ln   net.Listener
	srv  *http.Server
	stop func() bool // stops the context watcher

	once     sync.Once
	closeErr error
	served   chan struct{}
	serveErr error
}

// Start listens on addr (a loopback address such as "127.0.0.1:0"; other
// hosts are refused) and serves the API described by cfg in a background
// goroutine until Close is called or ctx is done, whichever comes first.
func Start(ctx context.Context, addr string, cfg Config) (*Server, error) {
	if cfg.Kind.Path() == "" {
		return nil, fmt.Errorf("apisim: unknown kind %q", cfg.Kind)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("apisim: bad address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("apisim: address %q is not loopback", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("apisim: %w", err)
	}
	s := &Server{
		api:    New(cfg),
		ln:     ln,
		served: make(chan struct{}),
	}
	s.srv = &http.Server{Handler: s.api, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = err
		}
	}()
	s.stop = context.AfterFunc(ctx, func() { s.shutdown() })
	return s, nil
}

// URL returns the base URL of the server, e.g. "http://127.0.0.1:PORT".
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// API returns the handler being served.
func (s *Server) API() *API { return s.api }

// Close shuts the server down gracefully, waiting up to 5 seconds for
// requests in flight, then closing remaining connections. It is safe to call
// more than once and after ctx is done; it returns the first error.
func (s *Server) Close() error {
	s.stop()
	return s.shutdown()
}

func (s *Server) shutdown() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
			s.closeErr = err
		}
		<-s.served
		if s.closeErr == nil {
			s.closeErr = s.serveErr
		}
	})
	return s.closeErr
}

// Stats returns the counters since start.
func (s *Server) Stats() Stats { return s.api.Stats() }

// SetItems atomically replaces the served data; see API.SetItems.
func (s *Server) SetItems(items []json.RawMessage) { s.api.SetItems(items) }

// SetData replaces the served items and their internal update times (see API.SetData).
func (s *Server) SetData(items []json.RawMessage, updated []time.Time) { s.api.SetData(items, updated) }
