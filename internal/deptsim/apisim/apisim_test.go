package apisim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var kinds = []Kind{Floating, Elderly, Volunteers}

var base = time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)

// genItems builds n records whose updatedAt values are out of order, have
// ties and use two time zones, with non-ASCII text.
func genItems(n int, tag string) []json.RawMessage {
	cst := time.FixedZone("CST", 8*3600)
	items := make([]json.RawMessage, n)
	for i := range items {
		t := base.Add(time.Duration((i*7919)%600) * time.Minute)
		if i%2 == 0 {
			t = t.In(cst)
		}
		items[i] = json.RawMessage(fmt.Sprintf(`{"id":"%s-%d","name":"居民%d号","updatedAt":%q}`, tag, i, i, t.Format(time.RFC3339)))
	}
	return items
}

func updatedAt(t *testing.T, it json.RawMessage) time.Time {
	t.Helper()
	var s struct {
		UpdatedAt string `json:"updatedAt"`
	}
	if err := json.Unmarshal(it, &s); err != nil {
		t.Fatal(err)
	}
	tm, err := time.Parse(time.RFC3339, s.UpdatedAt)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// floatingOrder returns the items newer than after (all if zero) ordered by
// (updatedAt, original order).
func floatingOrder(t *testing.T, items []json.RawMessage, after time.Time) []json.RawMessage {
	var out []json.RawMessage
	for _, it := range items {
		if after.IsZero() || updatedAt(t, it).After(after) {
			out = append(out, it)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return updatedAt(t, out[i]).Before(updatedAt(t, out[j])) })
	return out
}

// client is a real HTTP client of one API.
type client struct {
	t     *testing.T
	base  string
	kind  Kind
	token string
	retry bool // retry 429 and 5xx answers (immediately, to keep tests fast)
	hc    *http.Client
	calls int
}

func newClient(t *testing.T, baseURL string, kind Kind, token string) *client {
	return &client{t: t, base: baseURL, kind: kind, token: token, hc: &http.Client{Timeout: 5 * time.Second}}
}

func (c *client) auth(req *http.Request) {
	if c.token == "" {
		return
	}
	if c.kind == Elderly {
		req.Header.Set("X-Api-Key", c.token)
	} else {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
}

// do performs one GET and returns status, header and body.
func (c *client) do(q url.Values) (int, http.Header, []byte) {
	c.t.Helper()
	u := c.base + c.kind.Path()
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	c.auth(req)
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	c.calls++
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		c.t.Fatalf("Content-Type = %q", ct)
	}
	return resp.StatusCode, resp.Header, body
}

// get performs a GET that must end in 200, retrying faults if c.retry.
func (c *client) get(q url.Values) (http.Header, []byte) {
	c.t.Helper()
	for range 200 {
		code, h, body := c.do(q)
		switch {
		case code == http.StatusOK:
			return h, body
		case c.retry && (code == http.StatusTooManyRequests || code >= 500):
			continue
		default:
			c.t.Fatalf("GET %v: %d %s", q, code, body)
		}
	}
	c.t.Fatalf("GET %v: still failing after 200 attempts", q)
	return nil, nil
}

// fetchAll pages through the whole API with the given page size.
func (c *client) fetchAll(size int, updatedAfter string) []json.RawMessage {
	c.t.Helper()
	var all []json.RawMessage
	switch c.kind {
	case Floating:
		for page := 1; ; page++ {
			q := url.Values{"page": {strconv.Itoa(page)}, "size": {strconv.Itoa(size)}}
			if updatedAfter != "" {
				q.Set("updatedAfter", updatedAfter)
			}
			_, body := c.get(q)
			var r struct {
				Total, Page, Size int
				Items             []json.RawMessage
			}
			if err := json.Unmarshal(body, &r); err != nil {
				c.t.Fatal(err)
			}
			if r.Page != page || r.Size != size || r.Items == nil {
				c.t.Fatalf("page %d: got page=%d size=%d items=%d", page, r.Page, r.Size, len(r.Items))
			}
			all = append(all, r.Items...)
			if page*size >= r.Total {
				if len(all) != r.Total {
					c.t.Fatalf("collected %d items, total %d", len(all), r.Total)
				}
				return all
			}
		}
	case Elderly:
		for off := 0; ; off += size {
			// size is <= MaxPage here, so every full page has size items.
			h, body := c.get(url.Values{"offset": {strconv.Itoa(off)}, "limit": {strconv.Itoa(size)}})
			var items []json.RawMessage
			if err := json.Unmarshal(body, &items); err != nil {
				c.t.Fatal(err)
			}
			if items == nil {
				c.t.Fatalf("offset %d: body %s is not an array", off, body)
			}
			if len(items) == 0 {
				if tc := h.Get("X-Total-Count"); tc != strconv.Itoa(len(all)) {
					c.t.Fatalf("X-Total-Count = %q, collected %d", tc, len(all))
				}
				return all
			}
			all = append(all, items...)
		}
	case Volunteers:
		cursor := ""
		for {
			_, body := c.get(url.Values{"cursor": {cursor}, "limit": {strconv.Itoa(size)}})
			var r struct {
				Data       []json.RawMessage
				NextCursor *string
			}
			if err := json.Unmarshal(body, &r); err != nil {
				c.t.Fatal(err)
			}
			all = append(all, r.Data...)
			if r.NextCursor == nil {
				return all
			}
			if *r.NextCursor == "" || len(r.Data) != size {
				c.t.Fatalf("bad page: %d items, cursor %q", len(r.Data), *r.NextCursor)
			}
			cursor = *r.NextCursor
		}
	}
	panic("unreachable")
}

func sameItems(t *testing.T, got, want []json.RawMessage) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d items, want %d", len(got), len(want))
	}
	seen := make(map[string]bool, len(got))
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("item %d = %s, want %s", i, got[i], want[i])
		}
		if seen[string(got[i])] {
			t.Fatalf("item %d duplicated: %s", i, got[i])
		}
		seen[string(got[i])] = true
	}
}

func expected(t *testing.T, kind Kind, items []json.RawMessage) []json.RawMessage {
	if kind == Floating {
		return floatingOrder(t, items, time.Time{})
	}
	return items
}

func TestPagingAllKinds(t *testing.T) {
	items := genItems(1234, "p")
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			ts := httptest.NewServer(Handler(Config{Kind: kind, Items: items, Token: "tok"}))
			defer ts.Close()
			c := newClient(t, ts.URL, kind, "tok")
			for _, size := range []int{100, 77, 500, 1} {
				sameItems(t, c.fetchAll(size, ""), expected(t, kind, items))
			}
		})
	}
}

func TestDefaultsClampAndVerbatim(t *testing.T) {
	items := genItems(450, "c")
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			ts := httptest.NewServer(Handler(Config{Kind: kind, Items: items, MaxPage: 200}))
			defer ts.Close()
			c := newClient(t, ts.URL, kind, "")
			// Default page size is 100.
			_, body := c.get(nil)
			if !bytes.Contains(body, []byte("居民")) {
				t.Fatalf("non-ASCII text not sent as UTF-8: %.200s", body)
			}
			if n := bytes.Count(body, []byte(`"id":`)); n != 100 {
				t.Fatalf("default page has %d items, want 100", n)
			}
			// Oversized pages are clamped to MaxPage.
			q := url.Values{"limit": {"1000"}, "size": {"1000"}}
			_, body = c.get(q)
			if n := bytes.Count(body, []byte(`"id":`)); n != 200 {
				t.Fatalf("clamped page has %d items, want 200", n)
			}
			if kind == Floating && !bytes.Contains(body, []byte(`"size":200`)) {
				t.Fatalf("floating answer does not report the clamped size: %.80s", body)
			}
			// Past the end: an empty page.
			q = url.Values{"page": {"99"}, "offset": {"9999"}, "cursor": {encodeCursor(9999)}}
			h, body := c.get(q)
			switch kind {
			case Floating:
				if want := `{"total":450,"page":99,"size":100,"items":[]}`; string(body) != want {
					t.Fatalf("past end = %s, want %s", body, want)
				}
			case Elderly:
				if string(body) != "[]" || h.Get("X-Total-Count") != "450" {
					t.Fatalf("past end = %s, X-Total-Count %q", body, h.Get("X-Total-Count"))
				}
			case Volunteers:
				if want := `{"data":[],"nextCursor":null}`; string(body) != want {
					t.Fatalf("past end = %s, want %s", body, want)
				}
			}
		})
	}
}

func TestFloatingUpdatedAfter(t *testing.T) {
	items := genItems(1234, "u")
	ts := httptest.NewServer(Handler(Config{Kind: Floating, Items: items}))
	defer ts.Close()
	c := newClient(t, ts.URL, Floating, "")
	sorted := floatingOrder(t, items, time.Time{})
	cutoff := updatedAt(t, sorted[600]) // a value that several items share
	for _, zone := range []*time.Location{time.UTC, time.FixedZone("EST", -5*3600), time.FixedZone("CST", 8*3600)} {
		want := floatingOrder(t, items, cutoff)
		if len(want) == 0 || len(want) >= 1234-600 {
			t.Fatalf("bad test data: %d newer items", len(want))
		}
		got := c.fetchAll(50, cutoff.In(zone).Format(time.RFC3339))
		sameItems(t, got, want)
		for i := 1; i < len(got); i++ {
			if updatedAt(t, got[i]).Before(updatedAt(t, got[i-1])) {
				t.Fatalf("item %d out of updatedAt order", i)
			}
		}
		for _, it := range got {
			if !updatedAt(t, it).After(cutoff) {
				t.Fatalf("item %s not newer than %v", it, cutoff)
			}
		}
	}
	// After the newest item: nothing.
	last := updatedAt(t, sorted[len(sorted)-1])
	if got := c.fetchAll(100, last.Format(time.RFC3339)); len(got) != 0 {
		t.Fatalf("got %d items newer than the newest", len(got))
	}
}

// The contract's items carry no update time: with Config.Updated the server filters on its own
// internal times, serves the items byte for byte without any time in them, and SetData moves
// exactly the items whose time it changes past an updatedAfter.
func TestFloatingInternalUpdateTimes(t *testing.T) {
	const n = 300
	items := make([]json.RawMessage, n)
	updated := make([]time.Time, n)
	for i := range items {
		items[i] = json.RawMessage(fmt.Sprintf(`{"permitNo":"P%03d","name":"居民%d号"}`, i, i))
		updated[i] = base.Add(time.Duration((i*37)%n) * time.Minute)
	}
	api := New(Config{Kind: Floating, Items: items, Updated: updated})
	ts := httptest.NewServer(api)
	defer ts.Close()
	c := newClient(t, ts.URL, Floating, "")
	cutoff := base.Add(199 * time.Minute) // 100 items are later
	got := c.fetchAll(40, cutoff.Format(time.RFC3339))
	if len(got) != 100 {
		t.Fatalf("%d items after %v, want 100", len(got), cutoff)
	}
	for k, it := range got {
		if strings.Contains(string(it), "updated") {
			t.Fatalf("item %s carries an update time", it)
		}
		var v struct{ PermitNo string }
		if err := json.Unmarshal(it, &v); err != nil {
			t.Fatal(err)
		}
		var i int
		fmt.Sscanf(v.PermitNo, "P%d", &i)
		if !updated[i].After(cutoff) || string(items[i]) != string(it) {
			t.Fatalf("item %d (%s) served after %v with internal time %v", i, it, cutoff, updated[i])
		}
		if want := base.Add(time.Duration(200+k) * time.Minute); !updated[i].Equal(want) { // the times are distinct minutes
			t.Fatalf("item %d served %d-th with time %v, want %v (update-time order)", i, k, updated[i], want)
		}
	}
	// Three items change now: after the newest old time exactly those are served.
	later := append([]time.Time(nil), updated...)
	for _, i := range []int{3, 150, 299} {
		later[i] = base.Add(48 * time.Hour)
	}
	api.SetData(items, later)
	got = c.fetchAll(100, base.Add(24*time.Hour).Format(time.RFC3339))
	if len(got) != 3 || string(got[0]) != string(items[3]) || string(got[1]) != string(items[150]) || string(got[2]) != string(items[299]) {
		t.Fatalf("after SetData: %d items %s", len(got), got)
	}
	defer func() {
		if recover() == nil {
			t.Error("SetData with fewer times than items did not panic")
		}
	}()
	api.SetData(items, later[:5])
}

func TestAuth(t *testing.T) {
	items := genItems(10, "a")
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			// Rate429=1: every authorised request is a 429, but 401 wins.
			for _, faults := range []Faults{{}, {Rate429: 1}} {
				api := New(Config{Kind: kind, Items: items, Token: "s3cret", Faults: faults})
				ts := httptest.NewServer(api)
				for _, tok := range []string{"", "wrong", "s3cret!", "S3CRET"} {
					code, _, body := newClient(t, ts.URL, kind, tok).do(nil)
					if code != http.StatusUnauthorized || string(body) != `{"error":"unauthorized"}` {
						t.Fatalf("token %q: %d %s", tok, code, body)
					}
				}
				// The right token in the other kind's header is refused.
				req, _ := http.NewRequest(http.MethodGet, ts.URL+kind.Path(), nil)
				if kind == Elderly {
					req.Header.Set("Authorization", "Bearer s3cret")
				} else {
					req.Header.Set("X-Api-Key", "s3cret")
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("wrong header style: %d", resp.StatusCode)
				}
				want := http.StatusOK
				if faults.Rate429 == 1 {
					want = http.StatusTooManyRequests
				}
				if code, _, body := newClient(t, ts.URL, kind, "s3cret").do(nil); code != want {
					t.Fatalf("right token: %d %s, want %d", code, body, want)
				}
				ts.Close()
				if s := api.Stats(); s.Unauthorized != 5 || s.Requests != 6 {
					t.Fatalf("stats = %+v", s)
				}
			}
		})
	}
}

func TestFaultRates(t *testing.T) {
	const n = 2000
	faults := Faults{Rate429: 0.3, Rate5xx: 0.2, RetryAfter: 1500 * time.Millisecond, Seed: 42}
	api := New(Config{Kind: Elderly, Items: genItems(50, "f"), Token: "k", Faults: faults})
	ts := httptest.NewServer(api)
	defer ts.Close()
	c := newClient(t, ts.URL, Elderly, "k")
	var seq []int
	var n429, n5xx, n200 int
	for range n {
		code, h, body := c.do(url.Values{"offset": {"0"}, "limit": {"5"}})
		seq = append(seq, code)
		switch code {
		case http.StatusOK:
			n200++
		case http.StatusTooManyRequests:
			n429++
			if ra := h.Get("Retry-After"); ra != "2" {
				t.Fatalf("Retry-After = %q, want \"2\"", ra)
			}
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable:
			n5xx++
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
				t.Fatalf("5xx body %s", body)
			}
		default:
			t.Fatalf("unexpected %d %s", code, body)
		}
	}
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"429", float64(n429) / n, faults.Rate429},
		{"5xx", float64(n5xx) / n, faults.Rate5xx},
		{"200", float64(n200) / n, 1 - faults.Rate429 - faults.Rate5xx},
	} {
		if math.Abs(f.got-f.want) > 0.05 {
			t.Errorf("%s fraction %.3f, want %.2f±0.05", f.name, f.got, f.want)
		}
	}
	if s := api.Stats(); s.Requests != n || s.OK != int64(n200) || s.TooMany != int64(n429) || s.ServerErrors != int64(n5xx) {
		t.Errorf("stats %+v, counted 200=%d 429=%d 5xx=%d", s, n200, n429, n5xx)
	}

	// Same seed, sequential client: same sequence of answers.
	ts2 := httptest.NewServer(Handler(Config{Kind: Elderly, Items: genItems(50, "f"), Token: "k", Faults: faults}))
	defer ts2.Close()
	c2 := newClient(t, ts2.URL, Elderly, "k")
	for i := range 300 {
		if code, _, _ := c2.do(url.Values{"limit": {"5"}}); code != seq[i] {
			t.Fatalf("request %d: %d, first run %d", i, code, seq[i])
		}
	}
}

func TestRetryingClientGetsEverything(t *testing.T) {
	items := genItems(1234, "r")
	faults := Faults{Rate429: 0.3, Rate5xx: 0.2, RetryAfter: time.Second, Seed: 7}
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			api := New(Config{Kind: kind, Items: items, Token: "tok", Faults: faults})
			ts := httptest.NewServer(api)
			defer ts.Close()
			c := newClient(t, ts.URL, kind, "tok")
			c.retry = true
			sameItems(t, c.fetchAll(100, ""), expected(t, kind, items))
			s := api.Stats()
			if s.TooMany == 0 || s.ServerErrors == 0 || s.Requests != int64(c.calls) {
				t.Fatalf("stats %+v after %d calls", s, c.calls)
			}
		})
	}
}

func TestMaxInFlight(t *testing.T) {
	const clients, limit = 8, 2
	api := New(Config{Kind: Volunteers, Items: genItems(30, "m"), Faults: Faults{MaxInFlight: limit, RetryAfter: 3 * time.Second}})
	entered := make(chan struct{}, clients)
	release := make(chan struct{})
	api.hold = func() {
		entered <- struct{}{}
		<-release
	}
	ts := httptest.NewServer(api)
	defer ts.Close()

	type result struct {
		code       int
		retryAfter string
	}
	results := make(chan result, clients)
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 5 * time.Second}
	for range clients {
		wg.Go(func() {
			resp, err := hc.Get(ts.URL + Volunteers.Path())
			if err != nil {
				t.Error(err)
				results <- result{}
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			results <- result{resp.StatusCode, resp.Header.Get("Retry-After")}
		})
	}
	timeout := time.After(4 * time.Second)
	// Exactly limit requests get in and are held; every other one is
	// turned away while they are held.
	for range limit {
		select {
		case <-entered:
		case <-timeout:
			t.Fatal("requests were not admitted")
		}
	}
	for range clients - limit {
		select {
		case r := <-results:
			if r.code != http.StatusTooManyRequests || r.retryAfter != "3" {
				t.Fatalf("while held: %d Retry-After %q, want 429 \"3\"", r.code, r.retryAfter)
			}
		case <-timeout:
			t.Fatal("rejected requests did not return")
		}
	}
	close(release)
	wg.Wait()
	close(results)
	for r := range results {
		if r.code != http.StatusOK {
			t.Fatalf("held request: %d", r.code)
		}
	}
	if s := api.Stats(); s.TooMany != clients-limit || s.OK != limit {
		t.Fatalf("stats %+v", s)
	}
}

func TestBadRequests(t *testing.T) {
	items := genItems(20, "b")
	cases := []struct {
		kind Kind
		q    url.Values
	}{
		{Floating, url.Values{"page": {"0"}}},
		{Floating, url.Values{"page": {"-1"}}},
		{Floating, url.Values{"page": {"abc"}}},
		{Floating, url.Values{"size": {"0"}}},
		{Floating, url.Values{"size": {"1.5"}}},
		{Floating, url.Values{"updatedAfter": {"yesterday"}}},
		{Floating, url.Values{"updatedAfter": {"2024-03-01"}}},
		{Elderly, url.Values{"offset": {"-1"}}},
		{Elderly, url.Values{"limit": {"x"}}},
		{Elderly, url.Values{"limit": {"0"}}},
		{Volunteers, url.Values{"cursor": {"garbage!"}}},
		{Volunteers, url.Values{"cursor": {"MTA"}}}, // base64url("10"), no tag
		{Volunteers, url.Values{"cursor": {encodeCursor(5) + "A"}}},
		{Volunteers, url.Values{"limit": {"-3"}}},
	}
	for _, kind := range kinds {
		ts := httptest.NewServer(Handler(Config{Kind: kind, Items: items}))
		c := newClient(t, ts.URL, kind, "")
		for _, tc := range cases {
			if tc.kind != kind {
				continue
			}
			code, _, body := c.do(tc.q)
			var e struct{ Error string }
			if code != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Error == "" {
				t.Errorf("%s %v: %d %s, want 400 with error", kind, tc.q, code, body)
			}
		}
		// Unknown path: 404; other methods: 405.
		resp, err := http.Get(ts.URL + "/api/v2/nothing")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s unknown path: %d", kind, resp.StatusCode)
		}
		resp, err = http.Post(ts.URL+kind.Path(), "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET" {
			t.Errorf("%s POST: %d", kind, resp.StatusCode)
		}
		ts.Close()
	}
}

func TestServerSetItemsAndShutdown(t *testing.T) {
	if _, err := Start(t.Context(), "0.0.0.0:0", Config{Kind: Elderly}); err == nil {
		t.Fatal("Start on a non-loopback address succeeded")
	}
	if _, err := Start(t.Context(), "127.0.0.1:0", Config{Kind: "nope"}); err == nil {
		t.Fatal("Start with an unknown kind succeeded")
	}

	first, second := genItems(250, "v1"), genItems(120, "v2")
	srv, err := Start(t.Context(), "127.0.0.1:0", Config{Kind: Volunteers, Items: first, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL = %q", srv.URL())
	}
	c := newClient(t, srv.URL(), Volunteers, "t")
	sameItems(t, c.fetchAll(100, ""), first)
	srv.SetItems(second)
	sameItems(t, c.fetchAll(100, ""), second)
	if s := srv.Stats(); s.OK != 5 || s.Requests != 5 {
		t.Fatalf("stats %+v", s)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := http.Get(srv.URL() + Volunteers.Path()); err == nil {
		t.Fatal("server still answering after Close")
	}

	// Cancelling the context stops the server too.
	ctx, cancel := context.WithCancel(context.Background())
	srv2, err := Start(ctx, "127.0.0.1:0", Config{Kind: Floating, Items: first})
	if err != nil {
		t.Fatal(err)
	}
	sameItems(t, newClient(t, srv2.URL(), Floating, "").fetchAll(500, ""), floatingOrder(t, first, time.Time{}))
	cancel()
	deadline := time.Now().Add(3 * time.Second)
	for {
		resp, err := http.Get(srv2.URL() + Floating.Path())
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still answering after ctx was cancelled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv2.Close(); err != nil {
		t.Fatalf("Close after cancel: %v", err)
	}
}
