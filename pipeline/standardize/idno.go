package standardize

import (
	"strings"

	"communityhub/pipeline/standardize/idcard"
)

// IDClass says what an ID value turned out to be.
type IDClass string

const (
	IDValid    IDClass = "valid"     // 18 characters, check character right, real birth date
	IDLegacy   IDClass = "legacy15"  // a valid 15-digit legacy number, upgraded to 18 (Std holds the 18-character form)
	IDBadCheck IDClass = "bad_check" // 18 characters of the right shape whose check character is wrong (a typo somewhere)
	IDMasked   IDClass = "masked"    // some characters hidden with * (or ×, x in the middle, ●): Known keeps the visible ones
	IDNumeric  IDClass = "numeric"   // typed into Excel as a number: the last digits are lost (3.20105E+17, or an 18-digit number cell) — never guessed
	IDAbsent   IDClass = "absent"    // empty, or a placeholder (无, 不详, 0, -, /)
	IDInvalid  IDClass = "invalid"   // anything else (wrong length, letters, impossible birth date …)
)

// ID is a standardized resident identity number (GB 11643); the raw value is kept by the caller.
type ID struct {
	Class IDClass
	// Std is the 18-character number for valid and legacy15; for bad_check the normalized 18
	// characters as typed; "" otherwise.
	Std string
	// Known is the number as 18 characters with '?' at unknown positions: masked → "3201??????????1234";
	// numeric → the significant digits Excel kept, then '?'; valid, legacy15 and bad_check → Std;
	// absent and invalid → "". A 15-digit value (masked or numeric) is laid out in the upgraded
	// form: century "19" inserted after the region, '?' for the check character.
	Known string
	// Birth is yyyy-mm-dd when positions 7-14 are known and form a real date (always for valid and
	// legacy15), else "".
	Birth string
	// Sex is 1 (male) or 2 (female) from the parity of the 17th character when it is known, else 0.
	Sex int
	// Region is the 6-digit division code when the first six characters are known, else "".
	Region string
}

// Birth years outside this range are impossible for a living resident's number; a check-passing
// number claiming one is invalid rather than valid.
const (
	idMinBirthYear = 1850
	idMaxBirthYear = 2099
)

// idPlaceholders are the values sources write for "no number" (compared after Fold, squeeze and
// upper-casing). A value of zeros only ("0", "000000000000000000") is a placeholder too.
var idPlaceholders = map[string]bool{
	"": true, "无": true, "不详": true, "未知": true, "暂无": true, "空": true, "没有": true, "无证": true,
	"-": true, "--": true, "—": true, "——": true, "/": true, "\\": true, ".": true, "…": true,
	"NULL": true, "NONE": true, "N/A": true, "NA": true, "NAN": true,
}

// ParseID standardizes an ID cell.
//
// Normalization: Fold (full-width → ASCII), drop all white space, zero-width characters and '-'
// separators, unwrap Excel's ="…" and a leading apostrophe (text markers), drop a trailing ".0",
// upper-case x. The mask characters *, ＊, ●, •, ○, ?, × and an X anywhere but the last position
// hide a character; a trailing × is read as the check character X when (and only when) X is the
// right check character for the 17 digits before it.
//
// numericCell says the reader saw a number cell (an xlsx "col:number" flag). Excel keeps 15
// significant digits, so an 18-digit value from a number cell is always IDNumeric with Known = the
// first 15 digits + "???", even when its last three digits are not 000 and happen to pass the
// check: a number cell written by a program holds a float64, which is exact to only 15-17 digits,
// and a mangled tail passes the MOD 11-2 check one time in eleven. A 15-digit (legacy) value fits in
// 15 significant digits, loses nothing, and is classified as usual. Scientific notation text
// ("3.20105E+17") is IDNumeric whatever the flag, with Known from the mantissa's digits; if the
// mantissa carries every digit (as many as the exponent says), nothing was lost and the digits are
// classified as if typed. A plain 18-digit text value ending in "000" is not numeric by itself: it is
// valid or bad_check by its check character.
//
// Caveat: Excel truncates a typed number to 15 digits, but its scientific display rounds the last
// shown digit, so the last digit of a short mantissa ("3.20106E+17") may be one higher than the real
// one, and IDCompatible may then reject the true number. Known keeps the digits as shown; it does
// not guess.
func ParseID(raw string, numericCell bool) ID {
	s, ok := normalizeID(raw)
	if !ok {
		return ID{Class: IDInvalid}
	}
	if idPlaceholders[s] || strings.Trim(s, "0") == "" {
		return ID{Class: IDAbsent}
	}

	if digits, exp, isSci := parseSci(s); isSci {
		switch {
		case exp != 17 && exp != 14, len(digits) > exp+1:
			return ID{Class: IDInvalid}
		case len(digits) < exp+1:
			return numericID(digits, exp+1)
		}
		s = digits // every digit is there: nothing was lost
	}

	if numericCell && len(s) == 18 && allDigits(s) {
		return numericID(s[:15], 18)
	}

	if isMasked(s) {
		if strings.Trim(s, "*X") == "" {
			return ID{Class: IDAbsent} // nothing visible: ****** is a placeholder
		}
		return maskedID(s)
	}

	switch len(s) {
	case 18:
		if !allDigits(s[:17]) || !(isDigit(s[17]) || s[17] == 'X') {
			return ID{Class: IDInvalid}
		}
		c, _ := idcard.CheckChar(s[:17])
		if c != s[17] {
			return withFields(ID{Class: IDBadCheck, Std: s, Known: s})
		}
		if !birthOK(s) {
			return ID{Class: IDInvalid}
		}
		return withFields(ID{Class: IDValid, Std: s, Known: s})
	case 15:
		if !allDigits(s) {
			return ID{Class: IDInvalid}
		}
		std, err := idcard.Upgrade(s)
		if err != nil || !birthOK(std) {
			return ID{Class: IDInvalid}
		}
		return withFields(ID{Class: IDLegacy, Std: std, Known: std})
	}
	return ID{Class: IDInvalid}
}

// normalizeID returns the value in canonical form: ASCII digits, upper-case letters, '*' for every
// mask character, placeholders (which may contain non-ASCII text) upper-cased but otherwise
// untouched. ok is false when a character outside that alphabet remains.
func normalizeID(raw string) (string, bool) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
			return -1
		}
		return r
	}, squeeze(Fold(raw)))
	if len(s) >= 3 && strings.HasPrefix(s, `="`) && strings.HasSuffix(s, `"`) {
		s = s[2 : len(s)-1]
	}
	s = strings.TrimLeft(s, "'‘’`")
	s = strings.ToUpper(s)
	if idPlaceholders[s] {
		return s, true
	}
	if strings.Contains(s, "E-") {
		return "", false // a tiny number, not a '-'-separated ID
	}
	s = strings.ReplaceAll(s, "-", "")
	if i := strings.LastIndexByte(s, '.'); i > 0 && i < len(s)-1 && allDigits(s[:i]) && strings.Trim(s[i+1:], "0") == "" {
		s = s[:i] // 320105195803041000.0
	}
	// A trailing × is the check character X if X is right for the digits before it.
	if strings.HasSuffix(s, "×") && len(s) == 17+len("×") && allDigits(s[:17]) {
		if c, _ := idcard.CheckChar(s[:17]); c == 'X' {
			s = s[:17] + "X"
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r == '×' || r == '●' || r == '•' || r == '○' || r == '✕':
			b.WriteByte('*')
		default:
			return "", false
		}
	}
	s = strings.ReplaceAll(b.String(), "?", "*")
	return s, true
}

// parseSci reads Excel's scientific notation (3.20105E+17, 3.20105195803041E+17): the mantissa's
// digits without the point, and the exponent.
func parseSci(s string) (digits string, exp int, ok bool) {
	e := strings.IndexByte(s, 'E')
	if e < 1 || s[0] < '1' || s[0] > '9' {
		return "", 0, false
	}
	mant, ex := s[:e], strings.TrimPrefix(s[e+1:], "+")
	if !allDigits(ex) || len(ex) > 2 {
		return "", 0, false
	}
	digits = mant[:1]
	if len(mant) > 1 {
		if mant[1] != '.' && mant[1] != ',' || !allDigits(mant[2:]) {
			return "", 0, false
		}
		digits += mant[2:]
	}
	for _, c := range ex {
		exp = exp*10 + int(c-'0')
	}
	return digits, exp, true
}

// numericID builds the IDNumeric value for the significant digits Excel kept of an n-digit number
// (n is 18, or 15 for a legacy number, which is laid out in the upgraded form).
func numericID(digits string, n int) ID {
	known := digits + strings.Repeat("?", n-len(digits))
	if n == 15 {
		known = known[:6] + "19" + known[6:] + "?"
	}
	return withFields(ID{Class: IDNumeric, Known: known})
}

// isMasked reports whether s hides some characters: a '*' anywhere, or an X before the last position.
func isMasked(s string) bool {
	return strings.IndexByte(s, '*') >= 0 || (len(s) > 1 && strings.IndexByte(s[:len(s)-1], 'X') >= 0)
}

// maskedID classifies a value with hidden characters. It must have 18 characters (or 15, a masked
// legacy number) of digits and masks, with an optional X check character at the end of 18. A value
// with nothing visible is a placeholder.
func maskedID(s string) ID {
	if len(s) != 18 && len(s) != 15 {
		return ID{Class: IDInvalid}
	}
	k := []byte(s)
	visible := false
	for i, c := range k {
		switch {
		case isDigit(c):
			visible = true
		case c == 'X' && i == 17:
			visible = true
		case c == '*' || c == 'X' && i < len(k)-1:
			k[i] = '?'
		default:
			return ID{Class: IDInvalid}
		}
	}
	if !visible {
		return ID{Class: IDAbsent}
	}
	known := string(k)
	if len(known) == 15 {
		known = known[:6] + "19" + known[6:] + "?"
	}
	return withFields(ID{Class: IDMasked, Known: known})
}

// withFields fills Birth, Sex and Region from the known positions of id.Known.
func withFields(id ID) ID {
	k := id.Known
	if len(k) != 18 {
		return id
	}
	if allDigits(k[:6]) {
		id.Region = idcard.Region(k)
	}
	if birthOK(k) {
		t, _ := idcard.BirthDate(k)
		id.Birth = t.Format("2006-01-02")
	}
	if isDigit(k[16]) {
		id.Sex, _ = idcard.Sex(k)
	}
	return id
}

// birthOK reports whether positions 7-14 of an 18-character (possibly partly known) number are a
// real calendar date in a plausible year.
func birthOK(k string) bool {
	if len(k) != 18 || !allDigits(k[6:14]) {
		return false
	}
	t, err := idcard.BirthDate(k)
	return err == nil && t.Year() >= idMinBirthYear && t.Year() <= idMaxBirthYear
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isKnown(c byte) bool { return c != '?' }

// IDCompatible reports whether two standardized IDs could be the same person's number: every
// position known in both agrees. Two valid (or legacy) IDs are compatible only if equal. An ID
// without Known (absent, invalid) is compatible with nothing: a missing number is no evidence,
// not agreement.
func IDCompatible(a, b ID) bool {
	return IDDistance(a, b) == 0
}

// IDDistance counts the positions (of 18) where both are known and differ; -1 if either has no Known.
func IDDistance(a, b ID) int {
	ka, kb := a.Known, b.Known
	if len(ka) != 18 || len(kb) != 18 {
		return -1
	}
	n := 0
	for i := 0; i < 18; i++ {
		if isKnown(ka[i]) && isKnown(kb[i]) && ka[i] != kb[i] {
			n++
		}
	}
	return n
}

// IDTransposed reports whether b equals a with two adjacent known characters swapped (a common
// typo): the positions known in both differ at exactly two neighbours i and i+1, known in both,
// holding each other's characters.
func IDTransposed(a, b ID) bool {
	ka, kb := a.Known, b.Known
	if len(ka) != 18 || len(kb) != 18 {
		return false
	}
	first, count := -1, 0
	for i := 0; i < 18; i++ {
		if isKnown(ka[i]) && isKnown(kb[i]) && ka[i] != kb[i] {
			if first < 0 {
				first = i
			}
			count++
		}
	}
	if count != 2 || first+1 >= 18 {
		return false
	}
	i, j := first, first+1
	return isKnown(ka[j]) && isKnown(kb[j]) && ka[i] == kb[j] && ka[j] == kb[i]
}
