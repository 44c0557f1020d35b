package report

import (
	"strings"
	"unicode/utf8"
)

// MaskID shows an ID number as its first 6 and last 4 characters (320102********1234); a
// shorter value keeps only its last 2. Staff outputs show IDs this way unless a definition
// allows full values for the asking role.
func MaskID(s string) string {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	rs := []rune(s)
	switch {
	case n == 0:
		return ""
	case n >= 11:
		return string(rs[:6]) + strings.Repeat("*", n-10) + string(rs[n-4:])
	case n > 2:
		return strings.Repeat("*", n-2) + string(rs[n-2:])
	default:
		return strings.Repeat("*", n)
	}
}

// MaskPhone shows each number of a phone cell as its first 3 and last 4 digits (138****5678,
// 025****1234); separators between numbers are kept.
func MaskPhone(s string) string {
	var b strings.Builder
	var num []rune
	flush := func() {
		digits := 0
		for _, r := range num {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits < 7 {
			b.WriteString(strings.Repeat("*", len(num)))
			num = num[:0]
			return
		}
		seen := 0
		for _, r := range num {
			if r >= '0' && r <= '9' {
				seen++
				if seen > 3 && seen <= digits-4 {
					r = '*'
				}
			} else if seen > 3 && seen < digits-4 {
				continue // a dash inside the hidden part goes with it
			}
			b.WriteRune(r)
		}
		num = num[:0]
	}
	for _, r := range s {
		if r >= '0' && r <= '9' || r == '-' || r == '+' {
			num = append(num, r)
			continue
		}
		if len(num) > 0 {
			flush()
		}
		b.WriteRune(r)
	}
	if len(num) > 0 {
		flush()
	}
	return b.String()
}

func maskValue(kind, v string) string {
	switch kind {
	case MaskKindID:
		return MaskID(v)
	case MaskKindPhone:
		return MaskPhone(v)
	}
	return v
}
