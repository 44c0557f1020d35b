package connectors

import (
	"net/url"
	"regexp"
	"strings"
)

// Redacted is what replaces a secret in any message or table.
const Redacted = "***"

// secretWords are the parts of a parameter name that say it carries a credential: "appkey",
// "api_key", "accessToken", "app_secret", "sign", "ticket", "passwd" …
var secretWords = []string{"key", "token", "secret", "sign", "auth", "pass", "pwd", "credential", "ticket"}

// credentialPatterns find credentials inside free text: URL user info (scheme://user:pass@),
// query parameters named like secrets (?token=…&), key=value pairs of DSNs (password=…), and
// MySQL DSNs (user:pass@tcp(…)).
var credentialPatterns = []*regexp.Regexp{
	regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)([^@\s]+)(@)`),
	regexp.MustCompile(`(?i)([?&;\s][a-z0-9_.-]*(?:key|token|secret|sign|auth|pass|pwd|credential|ticket)[a-z0-9_.-]*=)([^&\s"']+)`),
	regexp.MustCompile(`(?i)(^|[\s(])([^\s:@/()]+:)([^@\s]+)(@tcp\()`),
}

// Redact returns s with every given secret value and every credential it recognises replaced by
// Redacted. Callers pass the secret values their config resolved (tokens, DSNs, passwords);
// values shorter than 4 characters are not searched for (they would mask ordinary text).
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	s = credentialPatterns[0].ReplaceAllString(s, "${1}"+Redacted+"${3}")
	s = credentialPatterns[1].ReplaceAllString(s, "${1}"+Redacted)
	s = credentialPatterns[2].ReplaceAllString(s, "${1}${2}"+Redacted+"${4}")
	return s
}

// RedactURL is u for messages: user info and secret-looking query parameters replaced.
func RedactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), Redacted)
		}
	}
	q := c.Query()
	changed := false
	for k := range q {
		if SecretParam(k) {
			q[k] = []string{Redacted}
			changed = true
		}
	}
	if changed {
		c.RawQuery = strings.ReplaceAll(q.Encode(), url.QueryEscape(Redacted), Redacted)
	}
	return c.String()
}

// SecretParam reports whether a parameter name looks like it carries a credential.
func SecretParam(name string) bool {
	l := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}
