package deliver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"communityhub/connectors"
)

// XLSXType is the Content-Type of a workbook.
const XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// HTTP posts each package's workbook to a department's endpoint.
//
// The request carries Idempotency-Key: key (the same on every retry: the endpoint is expected to
// answer a key it has seen with the first answer, or at least not to store the report twice),
// Content-Type: XLSXType, Content-Disposition with the file name, and the headers X-Report-Kind,
// X-Report-Community, X-Report-Period, X-Report-Department, X-Report-File-Name and
// X-Report-Sha256, whose values are percent-encoded UTF-8 (ASCII letters, digits and -._~ stay
// as they are, so "R05" and "2026-11" read as written; decode with url.PathUnescape), plus the caller's Header (e.g.
// Authorization). 2xx is delivered (the receipt is the Location, else the first 200 bytes of the
// answer); 429 (and 503) are retried after their Retry-After; 408, 5xx and network errors are
// retried; any other status is a permanent failure.
type HTTP struct {
	URL    string
	Header map[string]string // sent with every request; its values are secrets (redacted from errors)
	Client *http.Client      // nil: a client with a 60 s timeout
	// Label is the target's name ("http:" + the URL without credentials when empty).
	Label string
}

// Name is the target's name in the ledger and the key.
func (h HTTP) Name() string {
	if h.Label != "" {
		return h.Label
	}
	if u, err := url.Parse(h.URL); err == nil {
		return "http:" + connectors.RedactURL(u)
	}
	return "http:" + h.URL
}

// Kind is "http".
func (h HTTP) Kind() string { return "http" }

// Secrets are the header values and the URL's password and query, removed from every error.
func (h HTTP) Secrets() []string {
	var out []string
	for _, v := range h.Header {
		out = append(out, v)
		if _, tok, ok := strings.Cut(v, " "); ok { // "Bearer TOKEN": the token alone too
			out = append(out, tok)
		}
	}
	if u, err := url.Parse(h.URL); err == nil {
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
		for k, vs := range u.Query() {
			if connectors.SecretParam(k) {
				out = append(out, vs...)
			}
		}
	}
	return out
}

// defaultClient is used when HTTP.Client is nil.
var defaultClient = &http.Client{Timeout: 60 * time.Second}

// maxAnswer bounds what is read of an answer.
const maxAnswer = 64 << 10

// Send posts the workbook.
func (h HTTP) Send(ctx context.Context, p Package, key string) (string, error) {
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", Permanent(fmt.Errorf("http: url %q is not an http(s) URL", connectors.Redact(h.URL, h.Secrets()...)))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(p.Body))
	if err != nil {
		return "", Permanent(fmt.Errorf("http: %w", err))
	}
	for k, v := range h.Header {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(p.Body)
	req.Header.Set("Content-Type", XLSXType)
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("Content-Disposition", "attachment; filename*=UTF-8''"+pctEncode(p.FileName))
	for _, x := range []struct{ name, v string }{
		{"X-Report-Kind", p.Kind}, {"X-Report-Community", p.Community}, {"X-Report-Period", p.Period},
		{"X-Report-Department", p.Department}, {"X-Report-File-Name", p.FileName}, {"X-Report-Sha256", hex.EncodeToString(sum[:])},
	} {
		req.Header.Set(x.name, pctEncode(x.v))
	}
	client := h.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("http: %w", ctx.Err())
		}
		return "", fmt.Errorf("http: POST %s: %w", connectors.RedactURL(u), unwrapURLError(err))
	}
	answer, readErr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if cerr := resp.Body.Close(); readErr == nil {
		readErr = cerr
	}
	status := fmt.Sprintf("HTTP %d", resp.StatusCode)
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		if loc := resp.Header.Get("Location"); loc != "" {
			return status + " " + loc, nil
		}
		if readErr != nil {
			return status + " (the answer could not be read: " + readErr.Error() + ")", nil
		}
		if r := excerpt(answer, 200); r != "" {
			return status + " " + r, nil
		}
		return status, nil
	}
	if readErr != nil {
		answer = append(answer, []byte(" (the answer could not be read: "+readErr.Error()+")")...)
	}
	fail := fmt.Errorf("http: POST %s: %s: %s", connectors.RedactURL(u), status, excerpt(answer, 300))
	switch c := resp.StatusCode; {
	case c == http.StatusTooManyRequests || c == http.StatusServiceUnavailable:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return "", RetryAfter(fail, d)
		}
		return "", fail
	case c == http.StatusRequestTimeout || c >= 500:
		return "", fail
	}
	return "", Permanent(fail)
}

// unwrapURLError drops *url.Error's repetition of the method and URL (the URL may hold a secret;
// the caller names the redacted URL itself).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// excerpt is at most max bytes of b (a character cut in two, and bytes that are not UTF-8,
// dropped), trimmed, control characters shown as "·".
func excerpt(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	return connectors.Excerpt(strings.TrimSpace(strings.ToValidUTF8(string(b), "")), max)
}

// pctEncode percent-encodes every byte of s's UTF-8 but the unreserved characters of RFC 3986
// (A–Z a–z 0–9 - . _ ~): a header value any receiver decodes with url.PathUnescape, and an
// RFC 5987 ext-value for Content-Disposition.
func pctEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
