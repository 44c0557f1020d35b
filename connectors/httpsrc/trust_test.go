package httpsrc

// Tests of the "trustworthy nightly runs" guarantees: bounded reads, paging that must advance,
// the API's total, the cursor modes, schema drift, secrets in URLs and cancellation. Every
// server is a real HTTP server (httptest, or the simulated APIs of apisim).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"communityhub/connectors"
	"communityhub/connectors/conntest"
	"communityhub/internal/deptsim/apisim"
)

// recorder serves h and keeps the query of every request.
type recorder struct {
	h       http.Handler
	mu      sync.Mutex
	queries []url.Values
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.queries = append(r.queries, req.URL.Query())
	r.mu.Unlock()
	r.h.ServeHTTP(w, req)
}

func (r *recorder) take() []url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queries
	r.queries = nil
	return q
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// pageAPI answers page/size requests from items as {"total": total(len(items)), "items": […]};
// with ignorePage it answers the first page whatever page is asked.
type pageAPI struct {
	items      []json.RawMessage
	total      func(n int) int
	ignorePage bool
	requests   atomic.Int64
}

func (a *pageAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.requests.Add(1)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	size, _ := strconv.Atoi(r.URL.Query().Get("size"))
	if page < 1 || size < 1 {
		http.Error(w, `{"error":"bad page or size"}`, http.StatusBadRequest)
		return
	}
	if a.ignorePage {
		page = 1
	}
	lo := min((page-1)*size, len(a.items))
	hi := min(lo+size, len(a.items))
	items := a.items[lo:hi]
	if items == nil {
		items = []json.RawMessage{}
	}
	body, _ := json.Marshal(map[string]any{"total": a.total(len(a.items)), "page": page, "items": items})
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func pageOpts(base string) map[string]any {
	return map[string]any{
		"url": base + "/residents", "paging": "page", "items_path": "items", "total_path": "total",
		"key_field": "permitNo", "columns": floatingCols, "backoff": "1ms",
	}
}

func TestResponseBytesLimit(t *testing.T) {
	t.Run("streams forever", func(t *testing.T) {
		var requests atomic.Int64
		ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			w.Header().Set("Content-Type", "application/json")
			chunk := []byte(`{"xm":"` + strings.Repeat("x", 4000) + `"},`)
			w.Write([]byte("["))
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}))
		src, err := openLimits(map[string]any{"url": ts.URL + "/elders", "paging": "offset", "columns": []string{"xm"}},
			nil, connectors.Limits{ResponseBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		t0 := time.Now()
		_, err = conntest.Read(ctx, src, "")
		if el := time.Since(t0); el > 5*time.Second {
			t.Fatalf("the read took %v", el)
		}
		if err == nil || !strings.Contains(err.Error(), "limits.response_bytes") || !strings.Contains(err.Error(), "1 MiB") {
			t.Fatalf("want an error naming limits.response_bytes, got %v", err)
		}
		if n := requests.Load(); n != 1 {
			t.Errorf("an answer over the limit is not retried: %d requests", n)
		}
		if n := inner(src).BytesRead(); n > 1<<20+1 {
			t.Errorf("read %d bytes of a 1 MiB limit", n)
		}
	})
	t.Run("content length", func(t *testing.T) {
		big := "[" + strings.Repeat(`{"xm":"abcdefgh"},`, 100_000) + `{"xm":"end"}]`
		ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body := big // all at offset 0, then the end
			if r.URL.Query().Get("offset") != "0" {
				body = "[]"
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write([]byte(body))
		}))
		opts := map[string]any{"url": ts.URL + "/elders", "paging": "offset", "columns": []string{"xm"}}
		src, err := openLimits(opts, nil, connectors.Limits{ResponseBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		_, err = conntest.Read(context.Background(), src, "")
		if err == nil || !strings.Contains(err.Error(), "Content-Length") || !strings.Contains(err.Error(), "limits.response_bytes") {
			t.Fatalf("got %v", err)
		}
		if n := inner(src).BytesRead(); n != 0 {
			t.Errorf("read %d bytes of an answer announced too big", n)
		}
		// With the default limit (64 MiB) the same answer reads.
		src, err = openLimits(opts, nil, connectors.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if c := read(t, src, ""); len(c.Rows) != 100_001 {
			t.Errorf("%d rows", len(c.Rows))
		}
	})
}

func TestValueAndRowLimits(t *testing.T) {
	items := elderlyItems(4)
	long := map[string]any{"xm": strings.Repeat("长", 700), "sfzh": "1", "csrq": "1", "lxdh": "1", "jzdz": "1", "gljt": "1", "dj": 1, "fwlx": nil}
	wide := map[string]any{"dj": 1, "fwlx": nil}
	for _, c := range []string{"xm", "sfzh", "csrq", "lxdh", "jzdz", "gljt"} {
		wide[c] = strings.Repeat("a", 500)
	}
	items[1], items[2] = mustJSON(long), mustJSON(wide)
	srv := start(t, apisim.Elderly, items, elderlyKey, apisim.Faults{})
	src, err := openLimits(elderlyOpts(srv.URL()), testEnv, connectors.Limits{ValueBytes: 1024, RowBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	c := read(t, src, "")
	if len(c.Rows) != 2 || c.Rows[0].Loc != "#0" || c.Rows[1].Loc != "#3" {
		t.Fatalf("rows %+v", c.Rows)
	}
	if len(c.Rejects) != 2 {
		t.Fatalf("rejects %+v", c.Rejects)
	}
	if r := c.Rejects[0]; r.Loc != "#1" || !strings.Contains(r.Reason, "field xm (2100 bytes)") || !strings.Contains(r.Reason, "limits.value_bytes") {
		t.Errorf("reject %s: %s", r.Loc, r.Reason)
	}
	if r := c.Rejects[0]; utf8.RuneCountInString(r.Raw) > rejectRawRunes+1 || !strings.HasPrefix(r.Raw, `{"csrq":"1"`) {
		t.Errorf("the reject keeps %d runes: %.40s…", utf8.RuneCountInString(r.Raw), r.Raw)
	}
	if r := c.Rejects[1]; r.Loc != "#2" || !strings.Contains(r.Reason, "3001 bytes") || !strings.Contains(r.Reason, "limits.row_bytes") {
		t.Errorf("reject %s: %s", r.Loc, r.Reason)
	}
}

func TestPagingThatDoesNotAdvanceFails(t *testing.T) {
	t.Run("page ignored", func(t *testing.T) {
		api := &pageAPI{items: floatingItems(250), total: func(n int) int { return n }, ignorePage: true}
		ts := serve(t, api)
		_, err := conntest.Read(context.Background(), open(t, pageOpts(ts.URL)), "")
		if err == nil || !strings.Contains(err.Error(), "does not advance") || !strings.Contains(err.Error(), `"page"`) {
			t.Fatalf("got %v", err)
		}
		if n := api.requests.Load(); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
	t.Run("offset ignored", func(t *testing.T) {
		page := mustJSON(elderlyItems(100))
		ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(page) }))
		_, err := conntest.Read(context.Background(), open(t, with(elderlyOpts(ts.URL), "auth", "none", "token_env", "", "key_header", "")), "")
		if err == nil || !strings.Contains(err.Error(), "does not advance") || !strings.Contains(err.Error(), "offset=100") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("cursor repeats", func(t *testing.T) {
		var n atomic.Int64
		ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			i := int(n.Add(1))
			fmt.Fprintf(w, `{"data":[{"volunteerNo":"V%d","realName":"x"}],"nextCursor":"c1"}`, i)
		}))
		opts := with(volunteerOpts(ts.URL), "auth", "none", "token_env", "", "columns", []string{"volunteerNo", "realName"})
		_, err := conntest.Read(context.Background(), open(t, opts), "")
		if err == nil || !strings.Contains(err.Error(), "already used") || !strings.Contains(err.Error(), "does not advance") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestTotal(t *testing.T) {
	for _, tc := range []struct {
		name     string
		total    func(int) int
		want     string // "" = no error
		requests int64
	}{
		// The API serves fewer items than it says it has: not a quiet early end.
		{"larger", func(int) int { return 400 }, "the API says total 400 but 250 items were read", 4},
		// The API says fewer than it serves: read on to the end, then fail.
		{"smaller", func(int) int { return 50 }, "the API says total 50 but 250 items were read", 4},
		{"right", func(n int) int { return n }, "", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &pageAPI{items: floatingItems(250), total: tc.total}
			ts := serve(t, api)
			c, err := conntest.Read(context.Background(), open(t, pageOpts(ts.URL)), "")
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want == "":
				exactlyOnce(t, c, 250, func(i int) string { return "permitNo=" + permitNo(i) })
			case err == nil || !strings.Contains(err.Error(), tc.want):
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			// Pages 1, 2 and the short page 3 (50 items), then the empty page 4 that confirms the end.
			if n := api.requests.Load(); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		ts := serve(t, &pageAPI{items: floatingItems(10), total: func(n int) int { return n }})
		_, err := conntest.Read(context.Background(), open(t, with(pageOpts(ts.URL), "total_path", "meta.count")), "")
		if err == nil || !strings.Contains(err.Error(), `no total at "meta.count" (total_path)`) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("changes during the run", func(t *testing.T) {
		var n atomic.Int64
		api := &pageAPI{items: floatingItems(250), total: func(int) int { return 250 + int(n.Add(1)) }}
		ts := serve(t, api)
		_, err := conntest.Read(context.Background(), open(t, pageOpts(ts.URL)), "")
		if err == nil || !strings.Contains(err.Error(), "total changed from 251 to 252") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("filtered incremental run", func(t *testing.T) {
		// apisim's floating API counts the filtered items in total: the check holds there too.
		srv := start(t, apisim.Floating, floatingItems(450), floatingToken, apisim.Faults{})
		src := open(t, floatingOpts(srv.URL()))
		c := read(t, src, baseTime.Add(200*time.Minute).Format(time.RFC3339))
		if len(c.Rows) != 250 {
			t.Errorf("%d rows after the cursor, want 250 (items 200..449)", len(c.Rows))
		}
	})
}

func TestColumnCursor(t *testing.T) {
	rec := &recorder{h: apisim.Handler(apisim.Config{Kind: apisim.Floating, Items: floatingItems(600), Token: floatingToken})}
	ts := serve(t, rec)
	src := open(t, floatingOpts(ts.URL))
	cc, ok := src.(connectors.ColumnCursor)
	if !ok || cc.CursorColumn() != "updatedAt" {
		t.Fatalf("%T is not a ColumnCursor on updatedAt", src)
	}
	if _, ok := src.(connectors.KeyLister); !ok {
		t.Errorf("%T lost ListKeys", src)
	}
	if s, ok := open(t, with(floatingOpts(ts.URL), "key_field", "")).(connectors.ColumnCursor); !ok || s.CursorColumn() != "updatedAt" {
		t.Errorf("without key_field: not a ColumnCursor")
	}
	for _, opts := range []map[string]any{elderlyOpts(ts.URL), volunteerOpts(ts.URL), with(floatingOpts(ts.URL), "updated_field", "")} {
		if _, ok := open(t, opts).(connectors.ColumnCursor); ok {
			t.Errorf("%v: a ColumnCursor", opts["url"])
		}
	}

	// A cursor as a landing may write a typed timestamp: 08:30Z is item 510 (baseTime is
	// 00:00Z, one item a minute). The filter is cursor − overlap, so item 510 itself (equal
	// to the cursor) is read again: column >= cursor.
	rec.take()
	c := read(t, src, "2026-01-01 08:30:00+00")
	for _, q := range rec.take() {
		if got := q.Get("updatedAfter"); got != "2026-01-01T08:29:59Z" {
			t.Fatalf("updatedAfter=%q, want 2026-01-01T08:29:59Z", got)
		}
	}
	exactlyOnce(t, c, 90, func(i int) string { return "permitNo=" + permitNo(510+i) })
}

func TestStartTimeCursor(t *testing.T) {
	now := time.Now()
	items := make([]json.RawMessage, 250)
	for i := range items {
		items[i] = floatingItem(i, now.Add(-48*time.Hour+time.Duration(i)*time.Second))
	}
	api := apisim.New(apisim.Config{Kind: apisim.Floating, Items: items, Token: floatingToken})
	rec := &recorder{h: api}
	ts := serve(t, rec)
	// The contract's system 2 items carry no update time: updated_param without updated_field.
	cols := floatingCols[:len(floatingCols)-1]
	src := open(t, with(floatingOpts(ts.URL), "updated_field", "", "columns", cols, "overlap", "10m"))
	if !src.(connectors.Incremental).Incremental() {
		t.Fatal("not incremental")
	}
	if _, ok := src.(connectors.KeyLister); !ok {
		t.Errorf("%T: key_field is set, want a KeyLister", src)
	}

	// First run: no filter, everything, one checkpoint after the last row: the start time.
	t0 := time.Now().UTC().Truncate(time.Second)
	w := &orderWriter{}
	if err := src.Read(context.Background(), connectors.ReadRequest{}, w); err != nil {
		t.Fatal(err)
	}
	t1 := time.Now().UTC()
	if len(w.Rows) != 250 || len(w.checkpoints) != 1 || w.rowsAt[0] != 250 {
		t.Fatalf("%d rows, checkpoints %v after %v rows", len(w.Rows), w.checkpoints, w.rowsAt)
	}
	for _, q := range rec.take() {
		if q.Has("updatedAfter") {
			t.Fatalf("a first run sends no filter: %v", q)
		}
	}
	cp := w.checkpoints[0]
	ct, err := time.Parse(time.RFC3339, cp)
	if err != nil || !strings.HasSuffix(cp, "Z") || ct.Before(t0) || ct.After(t1) {
		t.Fatalf("checkpoint %q is not the run's start in [%s, %s] UTC", cp, t0.Format(time.RFC3339), t1.Format(time.RFC3339))
	}

	// Three items change after the first run.
	for _, i := range []int{3, 70, 249} {
		items[i] = floatingItem(i, time.Now().Add(time.Second))
	}
	api.SetItems(items)
	c := read(t, src, cp)
	want := ct.Add(-10 * time.Minute).Format(time.RFC3339)
	qs := rec.take()
	if len(qs) == 0 {
		t.Fatal("no request")
	}
	for _, q := range qs {
		if got := q.Get("updatedAfter"); got != want {
			t.Fatalf("second run sent updatedAfter=%q, want the first run's start − overlap %q", got, want)
		}
	}
	if len(c.Rows) != 3 || c.ByLoc()["permitNo="+permitNo(70)].Loc == "" || len(c.Checkpoints) != 1 || c.Checkpoints[0] < cp {
		t.Errorf("second run: %d rows, checkpoints %v", len(c.Rows), c.Checkpoints)
	}

	// A failed run checkpoints nothing.
	ts.Close()
	c = &conntest.Collector{}
	if err := src.Read(context.Background(), connectors.ReadRequest{Cursor: cp}, c); err == nil || len(c.Checkpoints) != 0 {
		t.Errorf("failed run: %v, checkpoints %v", err, c.Checkpoints)
	}
}

func TestSchemaDrift(t *testing.T) {
	items := []json.RawMessage{
		json.RawMessage(`{"idCard":"320102199001010011","name":"甲","phone":null}`),
		json.RawMessage(`{"idCard":"320102199001010022","name":"乙","hukouAddress":"合肥"}`),
	}
	srv := start(t, apisim.Elderly, items, "", apisim.Faults{})
	opts := map[string]any{"url": srv.URL() + "/openapi/elders", "paging": "offset", "columns": []string{"idcard", "name"}}
	_, err := conntest.Read(context.Background(), open(t, opts), "")
	if err == nil || !strings.Contains(err.Error(), "field idcard: no item of this run has it; mistyped? the items have: idCard, hukouAddress, phone") {
		t.Fatalf("got %v", err)
	}
	// Two missing: the first is named, the other counted.
	_, err = conntest.Read(context.Background(), open(t, with(opts, "columns", []string{"name", "idcard", "status"})), "")
	if err == nil || !strings.Contains(err.Error(), "field idcard: no item of this run has it (nor 1 more: status)") {
		t.Fatalf("got %v", err)
	}
	// null carries the field; a field only some items have is fine.
	c := read(t, open(t, with(opts, "columns", []string{"idCard", "name", "phone", "hukouAddress"})), "")
	if len(c.Rows) != 2 {
		t.Errorf("%d rows", len(c.Rows))
	}
	// A run that read no item proves nothing.
	empty := start(t, apisim.Elderly, nil, "", apisim.Faults{})
	if c := read(t, open(t, with(opts, "url", empty.URL()+"/openapi/elders")), ""); len(c.Rows) != 0 {
		t.Errorf("%d rows", len(c.Rows))
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	const appkey, token = "s3cr3tvalue", "tok-in-header-SECRET"
	// A server failing forever and echoing what it got, as real gateways do.
	ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"error":"upstream down","request":%q,"auth":%q}`, r.URL.String(), r.Header.Get("Authorization"))
	}))
	env := map[string]string{"T": token}
	opts := map[string]any{
		"url": ts.URL + "/api/elders?appkey=" + appkey + "&type=1", "auth": "bearer", "token_env": "T",
		"paging": "offset", "columns": []string{"xm"}, "retries": 1, "backoff": "1ms",
	}
	src, err := openErr(opts, env)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		if msg := err.Error(); strings.Contains(msg, appkey) || strings.Contains(msg, token) {
			t.Errorf("%s leaks a secret: %s", what, msg)
		}
	}
	_, err = conntest.Read(context.Background(), src, "")
	check("read", err)
	if !strings.Contains(err.Error(), "giving up after 2 attempts") || !strings.Contains(err.Error(), "appkey=***") {
		t.Errorf("read: %v", err)
	}
	check("probe", src.(connectors.Prober).Probe(context.Background()))
	if u := inner(src).URL(); strings.Contains(u, appkey) || !strings.Contains(u, "type=1") {
		t.Errorf("URL() = %s", u)
	}

	// A base URL from url_env with ?token=…, on a server that is gone: net/http's *url.Error
	// would print the whole URL.
	dead := httptest.NewServer(http.NotFoundHandler())
	base := dead.URL
	dead.Close()
	env = map[string]string{"BASE": base + "/api/elders?token=tok-url-SECRET", "T": token}
	src, err = openErr(with(opts, "url", "", "url_env", "BASE"), env)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conntest.Read(context.Background(), src, "")
	check("read from a dead server", err)
	if strings.Contains(err.Error(), "tok-url-SECRET") {
		t.Errorf("read leaks the URL's token: %v", err)
	}
	perr := src.(connectors.Prober).Probe(context.Background())
	check("probe of a dead server", perr)
	if strings.Contains(perr.Error(), "tok-url-SECRET") {
		t.Errorf("probe leaks the URL's token: %v", perr)
	}
}

func TestCancelWhileServerHangs(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`[{"xm":"a"},`))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer ts.Close()
	defer close(release)
	src := open(t, map[string]any{"url": ts.URL + "/elders", "paging": "offset", "columns": []string{"xm"}, "timeout": "10m"})
	for name, call := range map[string]func(ctx context.Context) error{
		"read":  func(ctx context.Context) error { _, err := conntest.Read(ctx, src, ""); return err },
		"probe": func(ctx context.Context) error { return src.(connectors.Prober).Probe(ctx) },
	} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		t0 := time.Now()
		err := call(ctx)
		if el := time.Since(t0); el > 5*time.Second {
			t.Errorf("%s: returned %v after the cancel", name, el)
		}
		if err != context.Canceled {
			t.Errorf("%s: want ctx.Err(), got %v", name, err)
		}
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	src := open(t, map[string]any{"url": ts.URL + "/elders", "paging": "offset", "columns": []string{"xm"}, "backoff": "1m", "retries": 5})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	t0 := time.Now()
	_, err := conntest.Read(ctx, src, "")
	if el := time.Since(t0); el > 5*time.Second {
		t.Errorf("returned %v after the cancel", el)
	}
	if !errors.Is(err, context.Canceled) || err != context.Canceled {
		t.Errorf("want ctx.Err(), got %v", err)
	}
}
