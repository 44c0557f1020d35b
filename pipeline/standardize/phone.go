package standardize

import (
	"strings"
	"unicode"
)

// Phone is one standardized number.
type Phone struct {
	Std    string // mobile: 11 digits "13812345678"; landline: "025-86660000" (area code with leading 0, dash, local number of 7–8 digits); "" if unusable
	Mobile bool
}

// Flags ParsePhones reports, always in this order.
const (
	PhonePlus86     = "plus86"     // a +86 / 86 / 0086 country code was stripped
	PhoneSeparators = "separators" // spaces, dashes, dots or brackets inside a number were normalized away
	PhoneMultiple   = "multiple"   // the cell holds more than one distinct usable number
	PhoneLandline   = "landline"   // at least one usable number is a landline
	PhoneInvalid    = "invalid"    // some part of the cell is not a phone number
)

// ParsePhones splits a cell that may hold several numbers (separators ; ； , ， / 、 | 或, new
// lines, and white space between complete numbers) and standardizes each:
//
//   - a mobile is 11 digits 1[3-9]xxxxxxxxx: a +86 / 86 / 0086 prefix (with or without space or
//     dash) is stripped and spaces, dashes and dots inside are removed;
//   - a landline is written area-dash-local: "025 86660000", "(025)86660000", "025-8666-0000" and
//     "02586660000" all give "025-86660000". The area code is 010, 020–029, or 0xxx (03xx–09xx);
//     the local number has 7–8 digits and does not start with 0 or 1. "+86 25 86660000" (the
//     international form without the trunk 0) is accepted;
//   - a bare 7–8 digit local number following a landline in the same cell takes that landline's
//     area code ("025-86660000/86660001"); elsewhere it is unusable (no area code);
//   - an extension ("转123", "分机123", "ext123", or a third dash group of a landline) is dropped,
//     so are labels in front of a number ("电话：", "Tel:", a name) and bracketed notes without
//     digits ("(本人)").
//
// It returns the usable numbers in order without duplicates, and the flags PhonePlus86,
// PhoneSeparators, PhoneMultiple, PhoneLandline and PhoneInvalid that apply, in that order.
func ParsePhones(raw string) (phones []Phone, flags []string) {
	s := phoneDropNotes(Fold(strings.ToValidUTF8(raw, "")))
	var plus86, seps, invalid bool
	seen := map[string]bool{}
	area := "" // area code of the last landline, for bare local numbers after it
	for _, part := range strings.FieldsFunc(s, phoneHardSep) {
		toks := strings.FieldsFunc(part, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
		for i := 0; i < len(toks); {
			// Numbers are often written with spaces inside ("138 1234 5678"): take the longest
			// run of tokens that reads as one number.
			best, end := phoneRes{}, -1
			joined := ""
			for j := i; j < len(toks) && j < i+8; j++ {
				if j > i {
					joined += " "
				}
				joined += toks[j]
				if len(joined) > 64 {
					break
				}
				if r := phoneParseOne(joined); r.kind >= phoneMob {
					best, end = r, j
				}
			}
			if end < 0 {
				if phoneParseOne(toks[i]).kind == phoneBad {
					invalid = true
				}
				i++
				continue
			}
			i = end + 1
			if best.kind == phoneLocal {
				if area == "" {
					invalid = true
					continue
				}
				best.kind, best.std = phoneLand, area+"-"+best.std
			}
			if best.kind == phoneLand {
				area = best.std[:strings.IndexByte(best.std, '-')]
			}
			plus86 = plus86 || best.cc
			seps = seps || best.sep
			if seen[best.std] {
				continue
			}
			seen[best.std] = true
			phones = append(phones, Phone{Std: best.std, Mobile: best.kind == phoneMob})
		}
	}
	landline := false
	for _, p := range phones {
		landline = landline || !p.Mobile
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{plus86, PhonePlus86}, {seps, PhoneSeparators}, {len(phones) > 1, PhoneMultiple}, {landline, PhoneLandline}, {invalid, PhoneInvalid}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	return phones, flags
}

// Kinds of one parsed part; everything from phoneMob up is usable.
const (
	phoneEmpty = iota // nothing but punctuation
	phoneBad          // not a phone number
	phoneMob          // a mobile
	phoneLand         // a landline with area code
	phoneLocal        // 7–8 digits without area code
)

type phoneRes struct {
	kind int
	std  string // standard form (for phoneLocal: the digits)
	cc   bool   // a country code was stripped
	sep  bool   // separators inside the number were normalized
}

func phoneHardSep(r rune) bool {
	switch r {
	case ';', ',', '/', '\\', '|', '、', '或', '\n', '\r', '；', '，', '。':
		return true
	}
	return false
}

// phoneDropNotes removes bracketed notes without digits, "(本人)", "[儿子]"; Fold has already
// turned full-width brackets into ASCII ones.
func phoneDropNotes(s string) string {
	if !strings.ContainsAny(s, "([") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexAny(s, "([")
		if i < 0 {
			break
		}
		closer := byte(')')
		if s[i] == '[' {
			closer = ']'
		}
		j := strings.IndexByte(s[i+1:], closer)
		if j < 0 {
			break
		}
		inner := s[i+1 : i+1+j]
		b.WriteString(s[:i])
		if strings.IndexFunc(inner, phoneIsDigit) >= 0 {
			b.WriteString(s[i : i+2+j])
		} else {
			b.WriteByte(' ')
		}
		s = s[i+2+j:]
	}
	b.WriteString(s)
	return b.String()
}

func phoneIsDigit(r rune) bool { return r >= '0' && r <= '9' }

// phoneParseOne reads one candidate number (which may contain spaces).
func phoneParseOne(p string) phoneRes {
	p = strings.TrimSpace(p)
	letters := false
	p = strings.TrimLeftFunc(p, func(r rune) bool {
		if unicode.IsLetter(r) {
			letters = true
			return true
		}
		return r == ':' || unicode.IsSpace(r)
	})
	for _, ext := range []string{"转", "分机", "ext", "EXT", "Ext"} {
		if i := strings.Index(p, ext); i >= 0 {
			p = p[:i]
		}
	}
	p = strings.TrimRight(p, " -.:")
	if p == "" {
		if letters {
			return phoneRes{kind: phoneBad}
		}
		return phoneRes{kind: phoneEmpty}
	}
	r := phoneParseCore(p)
	if r.kind == phoneBad && strings.Count(p, "-") >= 2 {
		// A landline with a dash extension: 025-86660000-123.
		i := strings.LastIndexByte(p, '-')
		if tail := p[i+1:]; len(tail) >= 1 && len(tail) <= 5 && allDigits(tail) {
			if r2 := phoneParseCore(p[:i]); r2.kind == phoneLand {
				return r2
			}
		}
	}
	return r
}

func phoneParseCore(p string) phoneRes {
	bad := phoneRes{kind: phoneBad}
	var d []byte
	plus := false
	for _, r := range p {
		switch {
		case r >= '0' && r <= '9':
			d = append(d, byte(r))
		case r == '+' && len(d) == 0 && !plus:
			plus = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return bad
		}
	}
	digits := string(d)
	if len(digits) < 7 || len(digits) > 20 {
		return bad
	}
	rest, ccLen := digits, 0
	switch {
	case plus:
		if !strings.HasPrefix(digits, "86") {
			return bad // a foreign number
		}
		rest, ccLen = digits[2:], 2
	case strings.HasPrefix(digits, "0086"):
		rest, ccLen = digits[4:], 4
	case strings.HasPrefix(digits, "86") && len(digits) >= 12:
		if k, _ := phoneClassify(digits[2:], true); k == phoneMob || k == phoneLand && digits[2] == '0' {
			rest, ccLen = digits[2:], 2
		}
	}
	kind, std := phoneClassify(rest, ccLen > 0)
	if kind == phoneBad {
		return bad
	}
	res := phoneRes{kind: kind, std: std, cc: ccLen > 0}
	// The number as written after the country code, to tell whether separators were removed.
	body := p
	if ccLen > 0 {
		n := 0
		for i := 0; i < len(body); i++ {
			if body[i] >= '0' && body[i] <= '9' {
				n++
				if n == ccLen {
					body = body[i+1:]
					break
				}
			}
		}
		body = strings.TrimLeft(body, " -.)")
	}
	res.sep = strings.ContainsAny(body, " -.()") && body != std
	return res
}

// phoneClassify reads digits without country code.
func phoneClassify(d string, cc bool) (int, string) {
	switch {
	case phoneIsMobile(d):
		return phoneMob, d
	case len(d) == 12 && d[0] == '0' && phoneIsMobile(d[1:]):
		return phoneMob, d[1:]
	}
	if std, ok := phoneLandline(d); ok {
		return phoneLand, std
	}
	if cc && d != "" && d[0] != '0' {
		if std, ok := phoneLandline("0" + d); ok {
			return phoneLand, std
		}
	}
	if !cc && (len(d) == 7 || len(d) == 8) && d[0] >= '2' && d[0] <= '9' {
		return phoneLocal, d
	}
	return phoneBad, ""
}

func phoneIsMobile(d string) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9' && allDigits(d)
}

// phoneLandline splits area code and local number: 010, 02x, or 0xxx (03xx–09xx), then 7–8
// digits not starting with 0 or 1.
func phoneLandline(d string) (string, bool) {
	if len(d) < 10 || d[0] != '0' || !allDigits(d) {
		return "", false
	}
	n := 0
	switch {
	case d[1] == '1' && d[2] == '0':
		n = 3
	case d[1] == '2':
		n = 3
	case d[1] >= '3':
		n = 4
	default:
		return "", false
	}
	local := d[n:]
	if len(local) < 7 || len(local) > 8 || local[0] < '2' {
		return "", false
	}
	return d[:n] + "-" + local, true
}
