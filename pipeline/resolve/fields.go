package resolve

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	"communityhub/pipeline/standardize"

	"golang.org/x/text/unicode/norm"
)

// Field comparisons and blocking expressions: the general part of the model, over any field a
// record carries in records.Record.Fields. README.md documents every function and key.

// normalizers prepare a field's raw value once per record.
var normalizers = map[string]func(string) string{
	// text: NFKC (full-width folded), lower case, punctuation other than "-" and "'" to spaces,
	// runs of white space to one space, trimmed. Word boundaries are kept.
	"text": normText,
	// digits: the digits only ("+61 2-9876 5432" → "61298765432").
	"digits": func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, norm.NFKC.String(s))
	},
	// none: the value as written, trimmed.
	"none": strings.TrimSpace,
}

func normText(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '\'' || unicode.Is(unicode.Mn, r) {
			return r
		}
		return ' '
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// fieldFunc decides a level of a field comparison from two non-empty normalized values.
type fieldFunc func(a, b string) bool

// levelFunc decides a level for a pair of records.
type levelFunc func(a, b *rec) bool

// function is a field comparison function: make builds it for a level's threshold.
type function struct {
	doc  string
	make func(t float64) (fieldFunc, error)
}

// functions are the field comparison functions a level's rule may name.
var functions = map[string]function{
	"exact": {"the values are equal", func(float64) (fieldFunc, error) {
		return func(a, b string) bool { return a == b }, nil
	}},
	"jaro_winkler": {"Jaro–Winkler similarity >= threshold (0..1)", func(t float64) (fieldFunc, error) {
		if t <= 0 || t > 1 {
			return nil, fmt.Errorf("threshold %g: want a similarity in (0,1]", t)
		}
		return func(a, b string) bool { return standardize.JaroWinkler(a, b) >= t }, nil
	}},
	"levenshtein": {"at most threshold edits (insert, delete, substitute one character)", func(t float64) (fieldFunc, error) {
		if t < 1 || t != math.Trunc(t) {
			return nil, fmt.Errorf("threshold %g: want a whole number of edits >= 1", t)
		}
		k := int(t)
		return func(a, b string) bool { return levenshtein(a, b, k) <= k }, nil
	}},
	"numeric": {"both parse as numbers at most threshold apart", func(t float64) (fieldFunc, error) {
		if t < 0 {
			return nil, fmt.Errorf("threshold %g: want a distance >= 0", t)
		}
		return func(a, b string) bool {
			x, e1 := strconv.ParseFloat(a, 64)
			y, e2 := strconv.ParseFloat(b, 64)
			return e1 == nil && e2 == nil && math.Abs(x-y) <= t
		}, nil
	}},
	"date_days": {"both parse as full dates (any format standardize.ParseDate reads) at most threshold days apart", func(t float64) (fieldFunc, error) {
		if t < 0 {
			return nil, fmt.Errorf("threshold %g: want a number of days >= 0", t)
		}
		return func(a, b string) bool {
			d, ok := daysApart(a, b)
			return ok && d <= t
		}, nil
	}},
	"date_swap": {"both full dates with day and month swapped (03/04 vs 04/03), or one digit different", func(float64) (fieldFunc, error) {
		return func(a, b string) bool {
			x, ok1 := isoDate(a)
			y, ok2 := isoDate(b)
			return ok1 && ok2 && dateTypo(x, y)
		}, nil
	}},
	"token_set": {"the words as sets: |shared| / |all| >= threshold (1 = the same words in any order)", func(t float64) (fieldFunc, error) {
		if t <= 0 || t > 1 {
			return nil, fmt.Errorf("threshold %g: want a share in (0,1]", t)
		}
		return func(a, b string) bool { return tokenSet(a, b) >= t }, nil
	}},
	"prefix": {"the first threshold characters are equal (both at least that long)", func(t float64) (fieldFunc, error) {
		if t < 1 || t != math.Trunc(t) {
			return nil, fmt.Errorf("threshold %g: want a whole number of characters >= 1", t)
		}
		k := int(t)
		return func(a, b string) bool {
			ra, rb := []rune(a), []rune(b)
			return len(ra) >= k && len(rb) >= k && string(ra[:k]) == string(rb[:k])
		}, nil
	}},
}

// levenshtein is the edit distance of a and b (rune-wise), or limit+1 once it must exceed limit.
func levenshtein(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev, cur := make([]int, len(rb)+1), make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func tokenSet(a, b string) float64 {
	ta, tb := strings.Fields(a), strings.Fields(b)
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	set := map[string]int{}
	for _, t := range ta {
		set[t] |= 1
	}
	for _, t := range tb {
		set[t] |= 2
	}
	shared := 0
	for _, v := range set {
		if v == 3 {
			shared++
		}
	}
	return float64(shared) / float64(len(set))
}

// isoDate parses a full date ("" and false for a year-month or anything unreadable).
func isoDate(s string) (string, bool) {
	d, _, err := standardize.ParseDate(s)
	if err != nil || d.Day == 0 {
		return "", false
	}
	return d.String(), true
}

func daysApart(a, b string) (float64, bool) {
	da, _, e1 := standardize.ParseDate(a)
	db, _, e2 := standardize.ParseDate(b)
	if e1 != nil || e2 != nil || da.Day == 0 || db.Day == 0 {
		return 0, false
	}
	return math.Abs(da.Time().Sub(db.Time()).Hours() / 24), true
}

// keyFunc computes a record's values for one blocking key (none: the record is in no block).
type keyFunc func(x *rec) []string

// parseKey compiles a blocking key: a built-in key, or an expression over a field —
// NAME (the field's text), NAME[:N] (its first N characters), soundex(NAME), tokens(NAME)
// (each word a value).
func parseKey(k string, known map[string]bool, slot func(f, norm string) int) (keyFunc, error) {
	if f, ok := builtinKeys[k]; ok {
		return f, nil
	}
	field, n, form := k, 0, "exact"
	switch {
	case strings.HasPrefix(k, "soundex(") && strings.HasSuffix(k, ")"):
		field, form = k[len("soundex("):len(k)-1], "soundex"
	case strings.HasPrefix(k, "tokens(") && strings.HasSuffix(k, ")"):
		field, form = k[len("tokens("):len(k)-1], "tokens"
	case strings.HasSuffix(k, "]") && strings.Contains(k, "[:"):
		i := strings.Index(k, "[:")
		v, err := strconv.Atoi(k[i+2 : len(k)-1])
		if err != nil || v < 1 {
			return nil, fmt.Errorf("key %q: want NAME[:N] with N >= 1", k)
		}
		field, n, form = k[:i], v, "prefix"
	}
	if !known[field] {
		return nil, fmt.Errorf("unknown key %q (built-in keys: %s; or an expression NAME, NAME[:N], soundex(NAME), tokens(NAME) over a canonical field or one in extra_fields)", k, choicesOf(builtinKeys))
	}
	s := slot(field, "text")
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}
	}
	switch form {
	case "soundex":
		return func(x *rec) []string { return one(soundex(x.fv[s])) }, nil
	case "tokens":
		return func(x *rec) []string { return strings.Fields(x.fv[s]) }, nil
	case "prefix":
		return func(x *rec) []string {
			r := []rune(x.fv[s])
			if len(r) < n {
				return one(string(r))
			}
			return one(string(r[:n]))
		}, nil
	}
	return func(x *rec) []string { return one(x.fv[s]) }, nil
}

// soundex is American Soundex of the value's Latin letters (first letter and three digits),
// "" when it has none.
func soundex(s string) string {
	code := func(r rune) byte {
		switch r {
		case 'b', 'f', 'p', 'v':
			return '1'
		case 'c', 'g', 'j', 'k', 'q', 's', 'x', 'z':
			return '2'
		case 'd', 't':
			return '3'
		case 'l':
			return '4'
		case 'm', 'n':
			return '5'
		case 'r':
			return '6'
		case 'h', 'w':
			return 'h'
		}
		return 0
	}
	var out []byte
	var last byte
	for _, r := range strings.ToLower(s) {
		if r < 'a' || r > 'z' {
			continue
		}
		c := code(r)
		if len(out) == 0 {
			out = append(out, byte(unicode.ToUpper(r)))
			last = c
			continue
		}
		if c == 'h' {
			continue // h and w do not separate equal codes
		}
		if c != 0 && c != last {
			out = append(out, c)
			if len(out) == 4 {
				break
			}
		}
		last = c
	}
	if len(out) == 0 {
		return ""
	}
	for len(out) < 4 {
		out = append(out, '0')
	}
	return string(out)
}
