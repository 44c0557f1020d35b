// Package standardize turns raw source values into standard ones: each standardizer takes the
// text as the source wrote it and returns the standard value with flags saying what it found
// (year-month only, impossible date, …). They are pure functions — no database, no I/O — and
// fuzzed. The raw value is always kept beside the standard one by the caller.
package standardize

import (
	"strings"
	"unicode"
)

// Fold maps full-width ASCII (０-９, Ａ-Ｚ, －, ．, ／ …) to ASCII and the ideographic space to a
// space; everything else is kept.
func Fold(s string) string {
	if !hasWide(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			b.WriteRune(r - 0xFEE0)
		case r == 0x3000:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hasWide(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

// squeeze removes all white space.
func squeeze(s string) string {
	if strings.IndexFunc(s, unicode.IsSpace) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
