package connectors

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, c := range []struct{ in, secret string }{
		{`Get "https://api.example/v1?appkey=K3Y-VALUE&page=2": EOF`, "K3Y-VALUE"},
		{`GET https://x/list?access_token=tok123456 500`, "tok123456"},
		{`postgres://hub:pa55word@db:5432/hj failed`, "pa55word"},
		{`dial: hub:pa55word@tcp(127.0.0.1:3306)/jy`, "pa55word"},
		{`host=db password=pa55word dbname=hj`, "pa55word"},
		{`the value s3cr3t-from-env leaked`, "s3cr3t-from-env"},
	} {
		got := Redact(c.in, "s3cr3t-from-env")
		if strings.Contains(got, c.secret) || !strings.Contains(got, Redacted) {
			t.Errorf("Redact(%q) = %q", c.in, got)
		}
	}
	if got := Redact("page=2&size=100 ok"); got != "page=2&size=100 ok" {
		t.Errorf("ordinary text changed: %q", got)
	}
	u, _ := url.Parse("https://u:pw@x/api?appKey=abc&page=1")
	if got := RedactURL(u); strings.Contains(got, "abc") || strings.Contains(got, ":pw@") || !strings.Contains(got, "page=1") {
		t.Errorf("RedactURL = %q", got)
	}
}

func TestLimitsAndExcerpt(t *testing.T) {
	l := Limits{ValueBytes: 10}.Or(Limits{ValueBytes: 20, Pages: 3}).WithDefaults()
	if l.ValueBytes != 10 || l.Pages != 3 || l.RowBytes != DefaultLimits().RowBytes {
		t.Errorf("layered limits %+v", l)
	}
	if got := Excerpt("ab\ncd"+strings.Repeat("x", 50), 5); got != "ab·cd…" {
		t.Errorf("Excerpt = %q", got)
	}
	if msg := Exceeded("a value of 2000000 bytes", 1<<20, "value_bytes"); !strings.Contains(msg, "1 MiB") || !strings.Contains(msg, "limits.value_bytes") {
		t.Errorf("Exceeded = %q", msg)
	}
}
