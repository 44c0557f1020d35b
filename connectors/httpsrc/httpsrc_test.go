package httpsrc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"communityhub/connectors"
	"communityhub/connectors/conntest"
	"communityhub/internal/deptsim/apisim"
)

const (
	nItems         = 2500
	floatingToken  = "tok-floating-SECRET"
	elderlyKey     = "key-elderly-SECRET"
	volunteerToken = "tok-volunteers-SECRET"
)

var floatingCols = []string{"idCard", "name", "gender", "birthday", "hukouAddress", "permitNo", "currentAddress", "registeredAt", "phone", "status", "updatedAt"}
var elderlyCols = []string{"xm", "sfzh", "csrq", "lxdh", "jzdz", "gljt", "dj", "fwlx"}
var volunteerCols = []string{"volunteerNo", "realName", "mobile", "idNoMasked", "registerDate", "serviceHours", "team"}

var (
	cst      = time.FixedZone("CST", 8*3600)
	baseTime = time.Date(2026, 1, 1, 8, 0, 0, 0, cst)
)

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func permitNo(i int) string { return fmt.Sprintf("LD%06d", i) }

func floatingItem(i int, updated time.Time) json.RawMessage {
	return mustJSON(map[string]any{
		"idCard": fmt.Sprintf("32010219900101%04d", i), "name": fmt.Sprintf("流动%d", i), "gender": "男",
		"birthday": "1990-01-01", "hukouAddress": "安徽省合肥市", "permitNo": permitNo(i),
		"currentAddress": "南京市建邺区", "registeredAt": "2025-03-01", "phone": "13800000000",
		"status": "有效", "updatedAt": updated.Format(time.RFC3339),
	})
}

func floatingItems(n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = floatingItem(i, baseTime.Add(time.Duration(i)*time.Minute))
	}
	return out
}

func elderlyItems(n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = mustJSON(map[string]any{
			"xm": fmt.Sprintf("老人%d", i), "sfzh": fmt.Sprintf("32010219400101%04d", i), "csrq": "1940-01-01",
			"lxdh": "025-8888", "jzdz": "梦都社区", "gljt": "自理", "dj": i % 4, "fwlx": []string{"助餐", "助洁"},
		})
	}
	return out
}

func volunteerNo(i int) string { return fmt.Sprintf("V%06d", i) }

func volunteerItems(n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = mustJSON(map[string]any{
			"volunteerNo": volunteerNo(i), "realName": fmt.Sprintf("志愿者%d", i), "mobile": "13900000000",
			"idNoMasked": "3201**********1234", "registerDate": "2024-05-01", "serviceHours": 12.5, "team": "青年队",
		})
	}
	return out
}

func start(t *testing.T, kind apisim.Kind, items []json.RawMessage, token string, f apisim.Faults) *apisim.Server {
	t.Helper()
	srv, err := apisim.Start(context.Background(), "127.0.0.1:0", apisim.Config{Kind: kind, Items: items, Token: token, Faults: f})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

var testEnv = map[string]string{
	"FLOATING_TOKEN": floatingToken, "ELDERLY_KEY": elderlyKey, "VOLUNTEERS_TOKEN": volunteerToken,
}

func open(t *testing.T, opts map[string]any) connectors.Source {
	t.Helper()
	src, err := openErr(opts, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func openErr(opts map[string]any, env map[string]string) (connectors.Source, error) {
	return openLimits(opts, env, connectors.Limits{})
}

func openLimits(opts map[string]any, env map[string]string, l connectors.Limits) (connectors.Source, error) {
	return connectors.Open(connectors.Config{Name: "test", Kind: "http", Options: opts, Getenv: func(k string) string { return env[k] }, Limits: l})
}

// inner is the *Source behind whatever New returned.
func inner(src connectors.Source) *Source {
	switch s := src.(type) {
	case *Source:
		return s
	case KeyedSource:
		return s.Source
	case CursorSource:
		return s.Source
	case KeyedCursorSource:
		return s.Source
	}
	panic(fmt.Sprintf("not an http source: %T", src))
}

func floatingOpts(base string) map[string]any {
	return map[string]any{
		"url": base + "/api/v1/residents", "auth": "bearer", "token_env": "FLOATING_TOKEN",
		"paging": "page", "items_path": "items", "key_field": "permitNo",
		"updated_param": "updatedAfter", "updated_field": "updatedAt", "total_path": "total",
		"columns": floatingCols, "backoff": "1ms",
	}
}

func elderlyOpts(base string) map[string]any {
	return map[string]any{
		"url": base + "/openapi/elders", "auth": "api_key", "token_env": "ELDERLY_KEY", "key_header": "X-Api-Key",
		"paging": "offset", "items_path": "", "columns": elderlyCols, "backoff": "1ms",
	}
}

func volunteerOpts(base string) map[string]any {
	return map[string]any{
		"url": base + "/v2/volunteers", "auth": "bearer", "token_env": "VOLUNTEERS_TOKEN",
		"paging": "cursor", "items_path": "data", "next_path": "nextCursor", "key_field": "volunteerNo",
		"resume_cursor": true, "columns": volunteerCols, "backoff": "1ms",
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func read(t *testing.T, src connectors.Source, cursor string) *conntest.Collector {
	t.Helper()
	c, err := conntest.Read(context.Background(), src, cursor)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// exactlyOnce checks that the rows carry exactly the locations want(0..n-1), once each.
func exactlyOnce(t *testing.T, c *conntest.Collector, n int, want func(i int) string) {
	t.Helper()
	if len(c.Rejects) != 0 {
		t.Fatalf("rejects: %+v", c.Rejects[:min(3, len(c.Rejects))])
	}
	if len(c.Rows) != n {
		t.Fatalf("got %d rows, want %d", len(c.Rows), n)
	}
	seen := map[string]int{}
	for _, r := range c.Rows {
		seen[r.Loc]++
	}
	for i := 0; i < n; i++ {
		if seen[want(i)] != 1 {
			t.Fatalf("location %s seen %d times", want(i), seen[want(i)])
		}
	}
}

func TestRegistered(t *testing.T) {
	found := false
	for _, k := range connectors.Kinds() {
		found = found || k == "http"
	}
	if !found {
		t.Fatal("kind http is not registered")
	}
}

func TestPagingModesReadAllOnce(t *testing.T) {
	fl := start(t, apisim.Floating, floatingItems(nItems), floatingToken, apisim.Faults{})
	el := start(t, apisim.Elderly, elderlyItems(nItems), elderlyKey, apisim.Faults{})
	vo := start(t, apisim.Volunteers, volunteerItems(nItems), volunteerToken, apisim.Faults{})

	t.Run("page", func(t *testing.T) {
		src := open(t, floatingOpts(fl.URL()))
		c := read(t, src, "")
		exactlyOnce(t, c, nItems, func(i int) string { return "permitNo=" + permitNo(i) })
		r := c.ByLoc()["permitNo="+permitNo(7)]
		if r.Vals["name"] != "流动7" || r.Vals["updatedAt"] != baseTime.Add(7*time.Minute).Format(time.RFC3339) {
			t.Errorf("row 7: %+v", r.Vals)
		}
		if cols, _ := src.Columns(context.Background()); strings.Join(cols, ",") != strings.Join(floatingCols, ",") || strings.Join(c.Columns, ",") != strings.Join(floatingCols, ",") {
			t.Errorf("columns %v / batch %v", cols, c.Columns)
		}
		// 25 full pages, then the empty page that ends the listing.
		if got := fl.Stats().Requests; got != nItems/100+1 {
			t.Errorf("%d requests, want %d", got, nItems/100+1)
		}
		if src.(interface{ BytesRead() int64 }).BytesRead() < int64(nItems*200) {
			t.Errorf("bytes read %d", src.(interface{ BytesRead() int64 }).BytesRead())
		}
	})
	t.Run("offset", func(t *testing.T) {
		src := open(t, with(elderlyOpts(el.URL()), "page_size", 300))
		c := read(t, src, "")
		exactlyOnce(t, c, nItems, func(i int) string { return fmt.Sprintf("#%d", i) })
		for _, r := range c.Rows {
			if r.Vals["xm"] != "老人"+strings.TrimPrefix(r.Loc, "#") {
				t.Fatalf("row %s is %s", r.Loc, r.Vals["xm"])
			}
		}
		if _, ok := src.(connectors.KeyLister); ok {
			t.Error("a non-incremental source without key_field should not be a KeyLister")
		}
		if src.(connectors.Incremental).Incremental() {
			t.Error("elderly is not incremental")
		}
		if len(c.Checkpoints) != 0 {
			t.Errorf("a full source checkpoints nothing: %v", c.Checkpoints)
		}
	})
	t.Run("cursor", func(t *testing.T) {
		src := open(t, volunteerOpts(vo.URL()))
		c := read(t, src, "")
		exactlyOnce(t, c, nItems, func(i int) string { return "volunteerNo=" + volunteerNo(i) })
		if v := c.ByLoc()["volunteerNo="+volunteerNo(3)].Vals["serviceHours"]; v != "12.5" {
			t.Errorf("serviceHours %q", v)
		}
	})
}

func TestFaultsRetriedExactlyOnce(t *testing.T) {
	f := apisim.Faults{Rate429: 0.3, Rate5xx: 0.2, RetryAfter: 0, Seed: 42}
	fl := start(t, apisim.Floating, floatingItems(nItems), floatingToken, f)
	el := start(t, apisim.Elderly, elderlyItems(nItems), elderlyKey, f)
	vo := start(t, apisim.Volunteers, volunteerItems(nItems), volunteerToken, f)
	cases := []struct {
		name string
		srv  *apisim.Server
		opts map[string]any
		loc  func(int) string
	}{
		{"page", fl, floatingOpts(fl.URL()), func(i int) string { return "permitNo=" + permitNo(i) }},
		{"offset", el, elderlyOpts(el.URL()), func(i int) string { return fmt.Sprintf("#%d", i) }},
		{"cursor", vo, volunteerOpts(vo.URL()), func(i int) string { return "volunteerNo=" + volunteerNo(i) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := open(t, with(tc.opts, "retries", 12))
			c := read(t, src, "")
			exactlyOnce(t, c, nItems, tc.loc)
			st := tc.srv.Stats()
			if st.TooMany == 0 || st.ServerErrors == 0 {
				t.Errorf("no faults were injected: %+v", st)
			}
		})
	}
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	srv := start(t, apisim.Elderly, elderlyItems(10), elderlyKey, apisim.Faults{Rate429: 1, RetryAfter: 5 * time.Second})
	src := open(t, with(elderlyOpts(srv.URL()), "retries", 2, "max_retry_after", "60ms", "backoff", "1ms"))
	t0 := time.Now()
	_, err := conntest.Read(context.Background(), src, "")
	el := time.Since(t0)
	if err == nil || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("want giving up on 429 after 3 attempts, got %v", err)
	}
	if el < 110*time.Millisecond || el > 3*time.Second {
		t.Errorf("two capped Retry-After waits of 60ms took %v", el)
	}
	if st := srv.Stats(); st.Requests != 3 {
		t.Errorf("%d requests, want 3", st.Requests)
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{" 120 ", 2 * time.Minute, true},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		got, ok := retryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	s := &Source{backoff: 100 * time.Millisecond}
	for attempt, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond} {
		for range 50 {
			d := s.backoffFor(attempt)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: %v not in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
	if d := s.backoffFor(40); d > maxBackoff || d < maxBackoff/2 {
		t.Errorf("capped backoff %v", d)
	}
}

func TestNetworkErrorRetriedThenFails(t *testing.T) {
	srv := start(t, apisim.Elderly, elderlyItems(1), elderlyKey, apisim.Faults{})
	url := srv.URL()
	srv.Close()
	src := open(t, with(elderlyOpts(url), "retries", 2))
	_, err := conntest.Read(context.Background(), src, "")
	if err == nil || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("want giving up after 3 attempts, got %v", err)
	}
}

func TestWrongTokenIs401WithoutToken(t *testing.T) {
	srv := start(t, apisim.Floating, floatingItems(10), floatingToken, apisim.Faults{})
	env := map[string]string{"FLOATING_TOKEN": "wrong-SECRET-xyz"}
	src, err := openErr(floatingOpts(srv.URL()), env)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conntest.Read(context.Background(), src, "")
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "/api/v1/residents") {
		t.Fatalf("want an authentication error naming the URL, got %v", err)
	}
	if strings.Contains(err.Error(), "wrong-SECRET-xyz") || strings.Contains(err.Error(), floatingToken) {
		t.Fatalf("error leaks the token: %v", err)
	}
	if st := srv.Stats(); st.Requests != 1 {
		t.Errorf("401 must not be retried: %d requests", st.Requests)
	}
	perr := src.(connectors.Prober).Probe(context.Background())
	if perr == nil || !strings.Contains(perr.Error(), "401") || strings.Contains(perr.Error(), "wrong-SECRET-xyz") {
		t.Errorf("probe: %v", perr)
	}
}

func TestOther4xxIsErrorWithBody(t *testing.T) {
	srv := start(t, apisim.Volunteers, volunteerItems(10), volunteerToken, apisim.Faults{})
	src := open(t, volunteerOpts(srv.URL()))
	_, err := conntest.Read(context.Background(), src, "not-a-cursor")
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "invalid cursor") {
		t.Fatalf("want 400 with the body, got %v", err)
	}
	if st := srv.Stats(); st.Requests != 1 {
		t.Errorf("400 must not be retried: %d requests", st.Requests)
	}
}

func TestIncrementalFloating(t *testing.T) {
	items := floatingItems(nItems)
	srv := start(t, apisim.Floating, items, floatingToken, apisim.Faults{})
	src := open(t, floatingOpts(srv.URL()))
	if !src.(connectors.Incremental).Incremental() {
		t.Fatal("floating should be incremental")
	}
	c := read(t, src, "")
	if len(c.Rows) != nItems {
		t.Fatalf("first run: %d rows", len(c.Rows))
	}
	maxText := baseTime.Add((nItems - 1) * time.Minute).Format(time.RFC3339)
	if len(c.Checkpoints) == 0 || c.Checkpoints[len(c.Checkpoints)-1] != maxText {
		t.Fatalf("first run checkpoints %v, want last %s", c.Checkpoints, maxText)
	}
	cursor := c.Checkpoints[len(c.Checkpoints)-1]

	// 1% of the items change, with a newer updatedAt; the newest is given in UTC to check that
	// times are compared as times and the text kept as it came.
	changed := map[string]bool{}
	newest := ""
	for k := 0; k < nItems/100; k++ {
		i := (k*97 + 13) % nItems
		ts := baseTime.Add(time.Duration(nItems+60+k) * time.Minute)
		if k == nItems/100-1 {
			ts = ts.UTC()
			newest = ts.Format(time.RFC3339)
		}
		items[i] = floatingItem(i, ts)
		changed["permitNo="+permitNo(i)] = true
	}
	srv.SetItems(items)
	c = read(t, src, cursor)
	got := c.ByLoc()
	for loc := range changed {
		if _, ok := got[loc]; !ok {
			t.Errorf("changed item %s not read", loc)
		}
	}
	if len(c.Rows) < len(changed) || len(c.Rows) > len(changed)+5 {
		t.Errorf("incremental run read %d rows for %d changes", len(c.Rows), len(changed))
	}
	if last := c.Checkpoints[len(c.Checkpoints)-1]; last != newest {
		t.Errorf("checkpoint %s, want %s", last, newest)
	}

	// Nothing new: the run reads at most the overlap window and keeps the cursor.
	c = read(t, src, newest)
	if len(c.Rows) > 1 {
		t.Errorf("a run with nothing new read %d rows", len(c.Rows))
	}
	for _, cp := range c.Checkpoints {
		if cp != newest {
			t.Errorf("checkpoint moved to %s", cp)
		}
	}

	// ListKeys ignores the updated filter.
	keys := 0
	seen := map[string]bool{}
	if err := src.(connectors.KeyLister).ListKeys(context.Background(), func(k []string) error {
		keys++
		seen[k[0]] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if keys != nItems || len(seen) != nItems || !seen[permitNo(0)] || !seen[permitNo(nItems-1)] {
		t.Errorf("ListKeys gave %d keys (%d distinct)", keys, len(seen))
	}

	if _, err := conntest.Read(context.Background(), src, "yesterday"); err == nil || !strings.Contains(err.Error(), "RFC 3339") {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestCheckpointFollowsWrites(t *testing.T) {
	srv := start(t, apisim.Floating, floatingItems(450), floatingToken, apisim.Faults{})
	src := inner(open(t, floatingOpts(srv.URL())))
	src.batchRows = 1 // a batch and a checkpoint per page
	w := &orderWriter{}
	if err := src.Read(context.Background(), connectors.ReadRequest{}, w); err != nil {
		t.Fatal(err)
	}
	if len(w.checkpoints) != 5 {
		t.Fatalf("checkpoints %v, want one per page", w.checkpoints)
	}
	for i, cp := range w.checkpoints {
		rows := min((i+1)*100, 450)
		if w.rowsAt[i] != rows {
			t.Errorf("checkpoint %d came after %d written rows, want %d", i, w.rowsAt[i], rows)
		}
		if want := baseTime.Add(time.Duration(rows-1) * time.Minute).Format(time.RFC3339); cp != want {
			t.Errorf("checkpoint %d = %s, want %s", i, cp, want)
		}
	}
}

type orderWriter struct {
	conntest.Collector
	checkpoints []string
	rowsAt      []int
}

func (w *orderWriter) Checkpoint(c string) {
	w.checkpoints = append(w.checkpoints, c)
	w.rowsAt = append(w.rowsAt, len(w.Rows))
}

func TestResumeCursorVolunteers(t *testing.T) {
	items := volunteerItems(nItems + 37)
	srv := start(t, apisim.Volunteers, items[:nItems], volunteerToken, apisim.Faults{})
	src := open(t, volunteerOpts(srv.URL()))
	if !src.(connectors.Incremental).Incremental() {
		t.Fatal("volunteers should be incremental")
	}
	c := read(t, src, "")
	if len(c.Rows) != nItems || len(c.Checkpoints) == 0 {
		t.Fatalf("first run: %d rows, checkpoints %v", len(c.Rows), c.Checkpoints)
	}
	cursor := c.Checkpoints[len(c.Checkpoints)-1]
	if cursor == "" {
		t.Fatal("the last page's cursor should not be the start")
	}
	srv.SetItems(items)
	c = read(t, src, cursor)
	got := c.ByLoc()
	for i := nItems; i < nItems+37; i++ {
		if _, ok := got["volunteerNo="+volunteerNo(i)]; !ok {
			t.Errorf("appended %s not read", volunteerNo(i))
		}
	}
	if len(c.Rows) > 37+100 {
		t.Errorf("resumed run read %d rows, want at most the appended 37 and the last page", len(c.Rows))
	}
	// ListKeys starts from the beginning.
	n := 0
	if err := src.(connectors.KeyLister).ListKeys(context.Background(), func(k []string) error {
		if k[0] != volunteerNo(n) {
			return fmt.Errorf("key %d is %s", n, k[0])
		}
		n++
		return nil
	}); err != nil || n != nItems+37 {
		t.Fatalf("ListKeys: %d keys, %v", n, err)
	}
}

func TestValues(t *testing.T) {
	items := []json.RawMessage{
		json.RawMessage(`{"xm":"张三","n":12.5,"i":42,"big":12345678901234567890,"e":1e3,"b":true,"f":false,` +
			`"arr":[ "助餐", "助洁" ],"obj":{ "a" : 1, "b":[1, 2] },"nul":null,"esc":"a\"b\u00e9"}`),
		json.RawMessage(`"just a string"`),
		json.RawMessage(`[1, 2]`),
		json.RawMessage(`{"xm":"李四","absent":null}`), // null counts as carrying the field
	}
	srv := start(t, apisim.Elderly, items, "", apisim.Faults{})
	src := open(t, map[string]any{
		"url": srv.URL() + "/openapi/elders", "paging": "offset",
		"columns": []string{"xm", "n", "i", "big", "e", "b", "f", "arr", "obj", "nul", "absent", "esc"},
	})
	c := read(t, src, "")
	if len(c.Rows) != 2 || len(c.Rejects) != 2 {
		t.Fatalf("rows %d rejects %+v", len(c.Rows), c.Rejects)
	}
	want := map[string]string{"xm": "张三", "n": "12.5", "i": "42", "big": "12345678901234567890", "e": "1e3",
		"b": "true", "f": "false", "arr": `["助餐","助洁"]`, "obj": `{"a":1,"b":[1,2]}`, "esc": `a"bé`}
	r := c.ByLoc()["#0"]
	for k, v := range want {
		if r.Vals[k] != v {
			t.Errorf("%s = %q, want %q", k, r.Vals[k], v)
		}
	}
	for _, k := range []string{"nul", "absent"} {
		if v, ok := r.Vals[k]; ok {
			t.Errorf("%s should be NULL, is %q", k, v)
		}
	}
	if r := c.ByLoc()["#3"]; r.Vals["xm"] != "李四" || len(r.Vals) != 1 {
		t.Errorf("row #3: %+v", r.Vals)
	}
	if rj := c.Rejects[0]; rj.Loc != "#1" || rj.Raw != `"just a string"` || !strings.Contains(rj.Reason, "not a JSON object") {
		t.Errorf("reject %+v", rj)
	}
	if rj := c.Rejects[1]; rj.Loc != "#2" || rj.Raw != `[1,2]` {
		t.Errorf("reject %+v", rj)
	}
}

func TestKeyFieldMissingFallsBackToIndex(t *testing.T) {
	items := []json.RawMessage{json.RawMessage(`{"volunteerNo":"V1","realName":"a"}`), json.RawMessage(`{"realName":"b"}`)}
	srv := start(t, apisim.Volunteers, items, volunteerToken, apisim.Faults{})
	c := read(t, open(t, with(volunteerOpts(srv.URL()), "columns", []string{"volunteerNo", "realName"})), "")
	if len(c.Rows) != 2 || c.Rows[0].Loc != "volunteerNo=V1" || c.Rows[1].Loc != "#1" {
		t.Fatalf("rows %+v", c.Rows)
	}
}

func TestCancelDuringRetryAfter(t *testing.T) {
	srv := start(t, apisim.Floating, floatingItems(10), floatingToken, apisim.Faults{Rate429: 1, RetryAfter: 30 * time.Second})
	src := open(t, floatingOpts(srv.URL()))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	t0 := time.Now()
	_, err := conntest.Read(ctx, src, "")
	if !errors.Is(err, context.Canceled) || err != context.Canceled {
		t.Fatalf("want ctx.Err(), got %v", err)
	}
	if el := time.Since(t0); el > 2*time.Second {
		t.Fatalf("cancellation took %v", el)
	}
}

func TestRateLimit(t *testing.T) {
	srv := start(t, apisim.Elderly, elderlyItems(1900), elderlyKey, apisim.Faults{})
	src := open(t, with(elderlyOpts(srv.URL()), "rate_per_sec", 100.0))
	t0 := time.Now()
	c := read(t, src, "")
	el := time.Since(t0)
	if len(c.Rows) != 1900 {
		t.Fatalf("%d rows", len(c.Rows))
	}
	reqs := srv.Stats().Requests // 19 pages and the empty one
	if reqs != 20 {
		t.Errorf("%d requests", reqs)
	}
	// A lower bound only: the limiter spaces requests at least 10 ms apart (how many of them
	// actually waited depends on how slow the machine is, so it is not asserted).
	if el < 150*time.Millisecond {
		t.Errorf("20 requests at 100/s took %v", el)
	}
	// Back to back, all but the first wait.
	l := newLimiter(100)
	t0 = time.Now()
	for range 20 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(t0); el < 150*time.Millisecond {
		t.Errorf("20 waits at 100/s took only %v", el)
	}
	// The limiter's wait respects ctx.
	l = newLimiter(0.5)
	l.Wait(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("limiter wait: %v", err)
	}
}

func TestProbe(t *testing.T) {
	fl := start(t, apisim.Floating, floatingItems(10), floatingToken, apisim.Faults{})
	el := start(t, apisim.Elderly, elderlyItems(10), elderlyKey, apisim.Faults{})
	vo := start(t, apisim.Volunteers, volunteerItems(10), volunteerToken, apisim.Faults{})
	for _, opts := range []map[string]any{floatingOpts(fl.URL()), elderlyOpts(el.URL()), volunteerOpts(vo.URL())} {
		if err := open(t, opts).(connectors.Prober).Probe(context.Background()); err != nil {
			t.Errorf("probe %s: %v", opts["url"], err)
		}
	}
	if n := fl.Stats().Requests; n != 1 {
		t.Errorf("probe made %d requests", n)
	}
	// The answer does not parse as configured: elderly answers a bare array.
	err := open(t, with(elderlyOpts(el.URL()), "items_path", "items")).(connectors.Prober).Probe(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("probe of a misconfigured items_path: %v", err)
	}
	// Unreachable.
	dead := start(t, apisim.Elderly, nil, "", apisim.Faults{})
	u := dead.URL()
	dead.Close()
	err = open(t, with(elderlyOpts(u), "retries", -1)).(connectors.Prober).Probe(context.Background())
	if err == nil || !strings.Contains(err.Error(), "probe") {
		t.Errorf("probe of a dead server: %v", err)
	}
	// Wrong path: 404 with the body.
	err = open(t, with(elderlyOpts(el.URL()), "url", el.URL()+"/nope")).(connectors.Prober).Probe(context.Background())
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "not found") {
		t.Errorf("probe of a wrong path: %v", err)
	}
}

func TestURLEnvAndHTTPTest(t *testing.T) {
	ts := httptest.NewServer(apisim.Handler(apisim.Config{Kind: apisim.Floating, Items: floatingItems(250), Token: floatingToken}))
	defer ts.Close()
	opts := with(floatingOpts(""), "url_env", "FLOATING_URL", "url", "/api/v1/residents", "page_size", 60)
	env := map[string]string{"FLOATING_URL": ts.URL + "/", "FLOATING_TOKEN": floatingToken}
	src, err := openErr(opts, env)
	if err != nil {
		t.Fatal(err)
	}
	if got := inner(src).URL(); got != ts.URL+"/api/v1/residents" {
		t.Errorf("url %s", got)
	}
	c := read(t, src, "")
	exactlyOnce(t, c, 250, func(i int) string { return "permitNo=" + permitNo(i) })
	if _, err := openErr(opts, map[string]string{"FLOATING_TOKEN": "x"}); err == nil || !strings.Contains(err.Error(), "FLOATING_URL") {
		t.Errorf("unset url_env: %v", err)
	}
}

func TestServerCappedPageSize(t *testing.T) {
	srv := start(t, apisim.Floating, floatingItems(nItems), floatingToken, apisim.Faults{})
	_, err := conntest.Read(context.Background(), open(t, with(floatingOpts(srv.URL()), "page_size", 600)), "")
	if err == nil || !strings.Contains(err.Error(), "page_size") {
		t.Fatalf("want an error about the capped page size, got %v", err)
	}
}

func TestPagesLimit(t *testing.T) {
	srv := start(t, apisim.Volunteers, volunteerItems(50), volunteerToken, apisim.Faults{})
	src, err := openLimits(with(volunteerOpts(srv.URL()), "page_size", 10), testEnv, connectors.Limits{Pages: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, err = conntest.Read(context.Background(), src, "")
	if err == nil || !strings.Contains(err.Error(), "more than 3 pages") || !strings.Contains(err.Error(), "limits.pages") {
		t.Fatalf("got %v", err)
	}
	if n := srv.Stats().Requests; n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	// Five pages fit a limit of 6 (the sixth request is not needed: the fifth has no cursor).
	src, err = openLimits(with(volunteerOpts(srv.URL()), "page_size", 10), testEnv, connectors.Limits{Pages: 6})
	if err != nil {
		t.Fatal(err)
	}
	if c := read(t, src, ""); len(c.Rows) != 50 {
		t.Errorf("%d rows", len(c.Rows))
	}
}

func TestBadOptions(t *testing.T) {
	base := elderlyOpts("http://127.0.0.1:1")
	cases := []struct {
		opts map[string]any
		want string
	}{
		{with(base, "paging", "sideways"), "paging"},
		{with(base, "paging", ""), "paging"},
		{with(base, "auth", "kerberos"), "auth"},
		{with(base, "columns", []string{}), "columns"},
		{with(base, "columns", []string{"a", "a"}), "columns"},
		{with(base, "columns", []string{"_loc"}), "columns"},
		{with(base, "paging", "cursor"), "next_path"},
		{with(base, "paging", "cursor", "next_path", "next"), "items_path"},
		{with(base, "next_path", "nextCursor"), "next_path"},
		{with(base, "updated_param", "updatedAfter", "updated_field", "updatedAt"), "updated_field"}, // not a column
		{with(base, "updated_param", "updatedAfter", "overlap", "0s"), "overlap"},
		{with(base, "total_path", "total"), "total_path"}, // the answer is a bare array
		{with(base, "items_path", "items", "total_path", "a..b"), "total_path"},
		{with(volunteerOpts("http://127.0.0.1:1"), "total_path", "total"), "total_path"}, // with resume_cursor
		{with(base, "url", "http://[::1/x?appkey=s3cr3tvalue"), "option url"},
		{with(base, "updated_field", "updatedAt"), "updated_param"},
		{with(base, "resume_cursor", true), "resume_cursor"},
		{with(base, "backoff", "soon"), "backoff"},
		{with(base, "timeout", "0s"), "timeout"},
		{with(base, "max_retry_after", "-1s"), "max_retry_after"},
		{with(base, "updated_param", "u", "overlap", "x"), "overlap"},
		{with(base, "page_size", -1), "page_size"},
		{with(base, "rate_per_sec", -2.0), "rate_per_sec"},
		{with(base, "url", ""), "url"},
		{with(base, "url", "ftp://x/y"), "url"},
		{with(base, "url", "/relative"), "url"},
		{with(base, "token_env", ""), "token_env"},
		{with(base, "token_env", "UNSET_VAR"), "UNSET_VAR"},
		{with(base, "auth", "none"), "token_env"},
		{with(base, "frobnicate", 1), "frobnicate"},
	}
	for _, tc := range cases {
		_, err := openErr(tc.opts, testEnv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error naming %s", tc.opts, err, tc.want)
		} else if strings.Contains(err.Error(), "s3cr3tvalue") {
			t.Errorf("the error leaks the URL's key: %v", err)
		}
	}
	// New does not contact the server: port 1 is closed, and it still works.
	if _, err := openErr(base, testEnv); err != nil {
		t.Errorf("valid options: %v", err)
	}
}

// sampleSources reads sample.toml with a parser just big enough for it: [[source]] blocks,
// [source.options] tables, and key = string | bool | integer | [strings] lines.
func sampleSources(t *testing.T) map[string]map[string]any {
	t.Helper()
	raw, err := os.ReadFile("sample.toml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	var name string
	var cur map[string]any
	for n, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "[[source]]":
			name, cur = "", nil
		case line == "[source.options]":
			cur = map[string]any{}
			out[name] = cur
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("sample.toml:%d: %q", n+1, line)
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			var val any
			if err := json.Unmarshal([]byte(v), &val); err != nil {
				t.Fatalf("sample.toml:%d: %s: %v", n+1, v, err)
			}
			if cur == nil {
				if k == "name" {
					name = val.(string)
				}
				continue
			}
			cur[k] = val
		}
	}
	return out
}

func TestSampleConfig(t *testing.T) {
	srcs := sampleSources(t)
	if len(srcs) != 3 {
		t.Fatalf("sample.toml has %d sources", len(srcs))
	}
	fl := start(t, apisim.Floating, floatingItems(450), floatingToken, apisim.Faults{})
	el := start(t, apisim.Elderly, elderlyItems(450), elderlyKey, apisim.Faults{})
	vo := start(t, apisim.Volunteers, volunteerItems(450), volunteerToken, apisim.Faults{})
	env := map[string]string{
		"FLOATING_URL": fl.URL(), "FLOATING_TOKEN": floatingToken,
		"ELDERLY_URL": el.URL(), "ELDERLY_KEY": elderlyKey,
		"VOLUNTEERS_URL": vo.URL(), "VOLUNTEERS_TOKEN": volunteerToken,
	}
	wantLoc := map[string]string{"floating": "permitNo=" + permitNo(449), "elderly": "#449", "volunteers": "volunteerNo=" + volunteerNo(449)}
	for name, opts := range srcs {
		src, err := openErr(opts, env)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := read(t, src, "")
		if len(c.Rows) != 450 || len(c.Rejects) != 0 {
			t.Errorf("%s: %d rows, %d rejects", name, len(c.Rows), len(c.Rejects))
		}
		if _, ok := c.ByLoc()[wantLoc[name]]; !ok {
			t.Errorf("%s: no row at %s", name, wantLoc[name])
		}
	}
}
