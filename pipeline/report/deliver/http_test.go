package deliver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const secretToken = "s3cr3t-token-7f3a9c"

// endpoint is a department's HTTP endpoint: it answers the first failFirst POSTs with fail (503
// unless set), then accepts each Idempotency-Key once and rejects a repeated one with 409.
type endpoint struct {
	srv       *httptest.Server
	mu        sync.Mutex
	failFirst int
	fail      int
	retryIn   string // Retry-After of the failures
	posts     int
	keys      []string // the key of every POST, in order
	accepted  map[string][]byte
	headers   []http.Header
}

func newEndpoint(t *testing.T, failFirst int) *endpoint {
	e := &endpoint{failFirst: failFirst, fail: http.StatusServiceUnavailable, accepted: map[string][]byte{}}
	e.srv = httptest.NewServer(e)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	e.posts++
	key := r.Header.Get("Idempotency-Key")
	e.keys = append(e.keys, key)
	e.headers = append(e.headers, r.Header.Clone())
	if e.posts <= e.failFirst {
		if e.retryIn != "" {
			w.Header().Set("Retry-After", e.retryIn)
		}
		// A careless gateway echoing the credentials it got: they must not reach the ledger.
		http.Error(w, "upstream down ("+r.Header.Get("Authorization")+")", e.fail)
		return
	}
	if key == "" {
		http.Error(w, "Idempotency-Key required", http.StatusBadRequest)
		return
	}
	if _, dup := e.accepted[key]; dup {
		http.Error(w, "duplicate Idempotency-Key "+key, http.StatusConflict)
		return
	}
	e.accepted[key] = body
	w.Header().Set("Location", fmt.Sprintf("/reports/%d", len(e.accepted)))
	w.WriteHeader(http.StatusCreated)
	fmt.Fprint(w, `{"ok":true}`)
}

func (e *endpoint) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.posts
}

func (e *endpoint) target() HTTP {
	return HTTP{URL: e.srv.URL + "/inbox", Header: map[string]string{"Authorization": "Bearer " + secretToken}, Label: "残联:http"}
}

func TestHTTPRetriesThenSendsOnceWithAStableKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := newEndpoint(t, 2)
	tgt := e.target()
	p := f.build("R05", "兴隆社区", "2026-11", "残联", "workbook bytes")
	var s sleeper
	sum, err := Push(ctx, f.db, []Package{p}, []Target{tgt}, Options{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Sent) != 1 || len(sum.Failed) != 0 || sum.Sent[0].Attempts != 3 {
		t.Fatalf("push: %+v, want one delivery in 3 attempts", sum)
	}
	if e.count() != 3 {
		t.Fatalf("the endpoint got %d POSTs, want 3 (2 failed, 1 accepted)", e.count())
	}
	if e.keys[0] == "" || e.keys[0] != e.keys[1] || e.keys[1] != e.keys[2] {
		t.Errorf("the retries sent keys %q: want one key on every attempt", e.keys)
	}
	if got := string(e.accepted[e.keys[2]]); got != "workbook bytes" {
		t.Errorf("the endpoint got body %q", got)
	}
	// The waits double (1 s then 2 s, each jittered to between half and all of it).
	if len(s.waits) != 2 || s.waits[0] < 500*time.Millisecond || s.waits[0] > time.Second ||
		s.waits[1] < time.Second || s.waits[1] > 2*time.Second {
		t.Errorf("waits %v, want one in [0.5s, 1s] then one in [1s, 2s]", s.waits)
	}
	h := e.headers[2]
	for name, want := range map[string]string{
		"Content-Type": XLSXType, "Authorization": "Bearer " + secretToken,
		"X-Report-Kind": "R05", "X-Report-Period": "2026-11", // ASCII values read as written
	} {
		if got := h.Get(name); got != want {
			t.Errorf("header %s: %q, want %q", name, got, want)
		}
	}
	for name, want := range map[string]string{"X-Report-Community": "兴隆社区", "X-Report-Department": "残联", "X-Report-File-Name": p.FileName} {
		raw := h.Get(name)
		got, err := url.PathUnescape(raw)
		if err != nil || got != want || raw == want {
			t.Errorf("header %s: %q decodes to %q (%v), want %q percent-encoded", name, raw, got, err, want)
		}
	}
	if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename*=UTF-8''") {
		t.Errorf("Content-Disposition %q", cd)
	}
	led := f.ledger()
	if len(led) != 1 {
		t.Fatalf("ledger: %+v", led)
	}
	r := led[0]
	if r.Status != "sent" || r.Attempts != 3 || r.TargetKind != "http" || r.Key != e.keys[0] || !r.SentAt.Valid ||
		!strings.Contains(r.Receipt.String, "/reports/1") {
		t.Errorf("ledger row: %+v", r)
	}
	if !strings.Contains(r.Err.String, "503") || strings.Contains(r.Err.String, secretToken) {
		t.Errorf("ledger error %q: want the last failure (503) without the token", r.Err.String)
	}

	// A second push sends nothing.
	sum, err = Push(ctx, f.db, []Package{p}, []Target{tgt}, Options{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.AlreadySent) != 1 || len(sum.Sent) != 0 || e.count() != 3 {
		t.Errorf("second push: %v, endpoint POSTs %d: want already sent and no POST", sum, e.count())
	}

	// A hub that lost its ledger sends the same key again: the endpoint recognises it (here it
	// rejects it, 409, a permanent failure), so the key is stable across runs too.
	g := newFixture(t)
	g.build("R01", "兴隆社区", "2026-11", "民政", "another build first") // so that q's build id differs from p's
	q := g.build("R05", "兴隆社区", "2026-11", "残联", "workbook bytes")
	if q.BuildID == p.BuildID {
		t.Fatal("the re-run's build has the first run's id")
	}
	sum, err = Push(ctx, g.db, []Package{q}, []Target{tgt}, Options{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if e.count() != 4 || e.keys[3] != e.keys[0] {
		t.Fatalf("the re-run sent key %q (POST %d), want the first key %q", e.keys[len(e.keys)-1], e.count(), e.keys[0])
	}
	if len(sum.Failed) != 1 || !sum.Failed[0].Permanent || sum.Failed[0].Attempts != 1 || !strings.Contains(sum.Failed[0].Err, "409") {
		t.Errorf("re-run: %+v, want one permanent 409 failure", sum)
	}
}

func TestHTTPPermanentFailureIsNotRetriedAndOthersStillGo(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := newEndpoint(t, 1000)
	e.fail = http.StatusBadRequest
	out := Outbox{Dir: t.TempDir(), Label: "残联:outbox"}
	p := f.build("R05", "兴隆社区", "2026-11", "残联", "workbook")
	var s sleeper
	sum, err := Push(ctx, f.db, []Package{p}, []Target{e.target(), out}, Options{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if e.count() != 1 || len(s.waits) != 0 {
		t.Errorf("a 400 was retried: %d POSTs, waits %v", e.count(), s.waits)
	}
	if len(sum.Failed) != 1 || sum.Failed[0].Target != "残联:http" || !sum.Failed[0].Permanent || len(sum.Sent) != 1 || sum.Sent[0].Target != "残联:outbox" {
		t.Errorf("summary %+v: want the http delivery failed and the outbox one sent", sum)
	}
	led := f.ledger()
	if len(led) != 2 {
		t.Fatalf("ledger %+v", led)
	}
	if r := led[0]; r.Target != "残联:http" || r.Status != "failed" || r.Attempts != 1 || !strings.Contains(r.Err.String, "400") ||
		strings.Contains(r.Err.String, secretToken) || r.SentAt.Valid {
		t.Errorf("http ledger row: %+v", r)
	}
	if r := led[1]; r.Target != "残联:outbox" || r.Status != "sent" {
		t.Errorf("outbox ledger row: %+v", r)
	}

	// A failed delivery is tried again by the next push (the endpoint may have been fixed).
	e.mu.Lock()
	e.failFirst = 0
	e.mu.Unlock()
	sum, err = Push(ctx, f.db, []Package{p}, []Target{e.target(), out}, Options{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Sent) != 1 || sum.Sent[0].Target != "残联:http" || len(sum.AlreadySent) != 1 {
		t.Errorf("after the fix: %+v", sum)
	}
	if r := f.ledger()[0]; r.Status != "sent" || r.Attempts != 2 {
		t.Errorf("http ledger row after the fix: %+v", r)
	}
}

func TestHTTPTooManyRequestsHonoursRetryAfter(t *testing.T) {
	f := newFixture(t)
	e := newEndpoint(t, 1)
	e.fail, e.retryIn = http.StatusTooManyRequests, "7"
	p := f.build("R05", "兴隆社区", "2026-11", "残联", "workbook")
	var s sleeper
	sum, err := Push(context.Background(), f.db, []Package{p}, []Target{e.target()}, Options{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Sent) != 1 || e.count() != 2 {
		t.Fatalf("summary %v after %d POSTs", sum, e.count())
	}
	if len(s.waits) != 1 || s.waits[0] != 7*time.Second {
		t.Errorf("waits %v, want the 7 s the endpoint asked for", s.waits)
	}
	if d, ok := parseRetryAfter(time.Date(2026, 12, 1, 8, 0, 30, 0, time.UTC).Format(http.TimeFormat), time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)); !ok || d != 30*time.Second {
		t.Errorf("Retry-After as a date: %v %v", d, ok)
	}
}

func TestHTTPUnreachableGivesUpAndSparesTheRest(t *testing.T) {
	f := newFixture(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // nothing listens there any more
	tgt := HTTP{URL: dead.URL + "/inbox?access_token=" + secretToken}
	p1 := f.build("R05", "兴隆社区", "2026-11", "残联", "one")
	p2 := f.build("R05", "江东社区", "2026-11", "残联", "two")
	var s sleeper
	sum, err := Push(context.Background(), f.db, []Package{p1, p2}, []Target{tgt}, Options{MaxAttempts: 3, Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Failed) != 2 || sum.Failed[0].Attempts != 3 || sum.Failed[1].Attempts != 1 {
		t.Fatalf("summary %+v: want 3 attempts for the first package, 1 for the second (the target is down)", sum)
	}
	if len(s.waits) != 2 {
		t.Errorf("waits %v, want 2 (between the first package's attempts only)", s.waits)
	}
	if strings.Contains(tgt.Name(), secretToken) {
		t.Errorf("the target's name shows the token: %s", tgt.Name())
	}
	for _, r := range f.ledger() {
		if r.Status != "failed" || !strings.Contains(r.Err.String, "refused") || strings.Contains(r.Err.String, secretToken) {
			t.Errorf("ledger row %+v: want failed, connection refused, no token", r)
		}
	}
}

func TestPushStopsWaitingWhenCancelled(t *testing.T) {
	f := newFixture(t)
	e := newEndpoint(t, 1000)
	p := f.build("R05", "兴隆社区", "2026-11", "残联", "workbook")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The real sleep, with an hour's backoff: only the context can end the wait.
	sum, err := Push(ctx, f.db, []Package{p}, []Target{e.target()}, Options{Backoff: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Push error %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("Push took %v after its context ended", took)
	}
	if len(sum.Failed) != 1 || e.count() != 1 {
		t.Errorf("summary %+v after %d POSTs", sum, e.count())
	}
	if led := f.ledger(); len(led) != 1 || led[0].Status != "failed" || led[0].Attempts != 1 || !strings.Contains(led[0].Err.String, "interrupted") {
		t.Errorf("ledger %+v: want the interrupted delivery recorded as failed", led)
	}
}
