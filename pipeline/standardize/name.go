package standardize

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/mozillazg/go-pinyin"
	"golang.org/x/text/unicode/norm"
)

// Name is a standardized personal name.
type Name struct {
	// Std is the name in NFKC with white space removed — except that a run of white space
	// between two letters or digits that are not Han (Latin, Cyrillic …) becomes one ASCII
	// space, so that "Elizabeth  Wright" keeps its word boundary while "王 伟" becomes "王伟" —,
	// every middle-dot variant (and "." between Han characters) unified to "·" (U+00B7), runs of
	// dots collapsed and dots at the ends dropped, and traditional characters mapped to
	// simplified ones.
	Std string
	// NoDot is Std without "·" (阿卜杜·热合曼 → 阿卜杜热合曼), for comparing dotted names
	// written with and without the dot.
	NoDot string
	// Pinyin is the toneless pinyin of NoDot, one syllable per Han character joined by
	// spaces ("zhang wei"); ü is written "v" (吕 → "lv"). The surname takes its surname
	// reading (单 → "shan", 曾 → "zeng"); a Han character with no known reading stands for
	// itself; a run of other characters is one lower-cased token. A name with no Han
	// character is just NoDot lower-cased.
	Pinyin string
	// Surname is the family name of a Han name: a compound surname (欧阳, 司马, 诸葛 …) when the
	// name has at least three characters and starts with one, else the first character. A
	// dotted name is split the same way as its NoDot (买买提·吐尔逊 → 买, 买提吐尔逊): its dot parts
	// are not surname and given name in the Chinese sense, but written with or without the dot
	// the name must give the same Surname and Given, which blocking and comparisons key on. It
	// is empty for names not starting with a Han character and for empty names.
	Surname string
	// Given is NoDot after Surname; empty whenever Surname is.
	Given string
	// Flags says what was found, in this order when present: NameTraditional,
	// NameDotVariant, NameSpaces, NameFullwidth, NameNonHan.
	Flags []string
}

// Name flags.
const (
	NameTraditional = "traditional" // traditional characters were mapped to simplified ones
	NameDotVariant  = "dot_variant" // a middle-dot variant other than U+00B7 (or "." between Han) was unified
	NameSpaces      = "spaces"      // white space (or a zero-width space) was removed, or a run of it (or a non-ASCII space) between words made one ASCII space
	NameFullwidth   = "fullwidth"   // full-width ASCII forms (Ａ, １ …) were folded
	NameNonHan      = "non_han"     // NoDot has characters that are not Han
)

// nameDot is the one middle dot of a standard name.
const nameDot = '·'

// nameIsDotVariant reports whether r is written for the dot between the parts of a
// transcribed name (U+00B7 itself included). ASCII "." counts only between Han characters.
func nameIsDotVariant(r rune) bool {
	switch r {
	case 0x00B7, // · middle dot
		0x0387, // · Greek ano teleia
		0x2022, // • bullet
		0x2024, // ․ one dot leader
		0x2027, // ‧ hyphenation point
		0x2219, // ∙ bullet operator
		0x22C5, // ⋅ dot operator
		0x2E31, // ⸱ word separator middle dot
		0x30FB, // ・ katakana middle dot
		0xA78F, // ꞏ Latin letter sinological dot
		0xFE52, // ﹒ small full stop
		0xFF0E, // ． full-width full stop
		0xFF65: // ･ half-width katakana middle dot
		return true
	}
	return false
}

// nameIsSpace reports whether r is white space (Unicode White_Space, U+3000 included) or an
// invisible space-like format character.
func nameIsSpace(r rune) bool {
	switch r {
	case 0x180E, 0x200B, 0x2060, 0xFEFF: // Mongolian vowel separator, zero-width space, word joiner, BOM
		return true
	}
	return unicode.IsSpace(r)
}

func nameIsHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// nameIsWord reports whether r is a letter or digit of a script written with spaces between
// words: not Han.
func nameIsWord(r rune) bool {
	return (unicode.IsLetter(r) || unicode.IsNumber(r)) && !nameIsHan(r)
}

// nameSettleSpaces turns each run of ASCII spaces in s into one space when it stands between two
// nameIsWord runes (Elizabeth Wright) and removes it otherwise (王 伟, a space before a
// combining mark or a dot, at the ends). It reports whether anything but a single kept space
// changed.
func nameSettleSpaces(s string) (string, bool) {
	if !strings.ContainsRune(s, ' ') {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	changed := false
	var prev rune = -1 // the last rune written
	for i := 0; i < len(s); {
		if s[i] != ' ' {
			r, n := utf8.DecodeRuneInString(s[i:])
			b.WriteString(s[i : i+n])
			prev = r
			i += n
			continue
		}
		j := i
		for j < len(s) && s[j] == ' ' {
			j++
		}
		next, _ := utf8.DecodeRuneInString(s[j:])
		if j < len(s) && prev >= 0 && nameIsWord(prev) && nameIsWord(next) {
			b.WriteByte(' ')
			changed = changed || j-i > 1
		} else {
			changed = true
		}
		i = j
	}
	return b.String(), changed
}

// ParseName standardizes a personal name; see Name for what each field holds.
func ParseName(raw string) Name {
	var dotVariant, spaces, fullwidth bool
	s := raw
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}

	// Dot variants first: NFKC would turn ． and ﹒ into a plain ".".
	s = strings.Map(func(r rune) rune {
		switch {
		case nameIsDotVariant(r):
			if r != nameDot {
				dotVariant = true
			}
			return nameDot
		case nameIsSpace(r):
			if r != ' ' {
				spaces = true
			}
			return ' '
		case r >= 0xFF01 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6:
			fullwidth = true
		}
		return r
	}, s)

	// NFKC, then settle the white space (that it may produce too: ¨ → " ̈"), until nothing
	// changes: removing a space can bring a combining mark next to a base it composes with.
	for range 8 {
		t := norm.NFKC.String(s)
		t = strings.Map(func(r rune) rune {
			switch {
			case nameIsSpace(r):
				if r != ' ' {
					spaces = true
				}
				return ' '
			case nameIsDotVariant(r) && r != nameDot: // from NFKC (･ → ・)
				dotVariant = true
				return nameDot
			}
			return r
		}, t)
		var changed bool
		if t, changed = nameSettleSpaces(t); changed {
			spaces = true
		}
		if t == s {
			break
		}
		s = t
	}

	simp := Simplify(s)
	traditional := simp != s
	s = simp

	// "." between two Han characters, then collapse dot runs and trim dots at the ends.
	if strings.ContainsRune(s, '.') || strings.ContainsRune(s, nameDot) {
		rs := []rune(s)
		out := rs[:0:0]
		for i, r := range rs {
			if r == '.' && i > 0 && i+1 < len(rs) && nameIsHan(rs[i-1]) && nameIsHan(rs[i+1]) {
				dotVariant = true
				r = nameDot
			}
			if r == nameDot && (len(out) == 0 || out[len(out)-1] == nameDot) {
				continue
			}
			out = append(out, r)
		}
		for len(out) > 0 && out[len(out)-1] == nameDot {
			out = out[:len(out)-1]
		}
		s = string(out)
	}

	n := Name{Std: s, NoDot: strings.ReplaceAll(s, string(nameDot), "")}
	hasHan, nonHan := false, false
	for _, r := range n.NoDot {
		if nameIsHan(r) {
			hasHan = true
		} else {
			nonHan = true
		}
	}

	if first, _ := utf8.DecodeRuneInString(n.NoDot); nameIsHan(first) {
		n.Surname = nameSurname(n.NoDot)
		n.Given = n.NoDot[len(n.Surname):]
	}
	if hasHan {
		n.Pinyin = namePinyin(n.NoDot, n.Surname)
	} else {
		n.Pinyin = strings.ToLower(n.NoDot)
	}

	for _, f := range []struct {
		on   bool
		flag string
	}{
		{traditional, NameTraditional},
		{dotVariant, NameDotVariant},
		{spaces, NameSpaces},
		{fullwidth, NameFullwidth},
		{nonHan, NameNonHan},
	} {
		if f.on {
			n.Flags = append(n.Flags, f.flag)
		}
	}
	return n
}

// nameCompoundSurnames are the two-character surnames recognised at the start of a name of
// three or more characters. Left out on purpose: pairs whose first character is itself a
// common surname and whose second is a common first character of a given name (钟离, 单于,
// 第五), where the split is a guess either way.
var nameCompoundSurnames = map[string]bool{
	"欧阳": true, "司马": true, "诸葛": true, "上官": true, "东方": true, "皇甫": true,
	"尉迟": true, "公孙": true, "慕容": true, "长孙": true, "宇文": true, "司徒": true,
	"夏侯": true, "令狐": true, "万俟": true, "轩辕": true, "端木": true, "独孤": true,
	"南宫": true, "西门": true, "澹台": true, "公冶": true, "宗政": true, "濮阳": true,
	"淳于": true, "太叔": true, "申屠": true, "仲孙": true, "赫连": true, "呼延": true,
	"拓跋": true, "闻人": true, "司空": true, "百里": true, "东郭": true, "左丘": true,
	"梁丘": true, "公羊": true, "乐正": true, "亓官": true,
}

// nameSurnameReadings are the readings of surnames that differ from (or must not depend on)
// go-pinyin's default reading of the character.
var nameSurnameReadings = map[string]string{
	"单": "shan", "曾": "zeng", "区": "ou", "仇": "qiu", "解": "xie", "朴": "piao",
	"查": "zha", "盖": "ge", "乐": "yue", "覃": "qin", "翟": "zhai", "缪": "miao",
	"华": "hua", "任": "ren", "种": "chong", "秘": "bi", "繁": "po", "员": "yun",
	"召": "shao", "句": "gou", "洗": "xian", "尉": "wei",
	"尉迟": "yu chi", "长孙": "zhang sun", "万俟": "mo qi", "澹台": "tan tai",
	"乐正": "yue zheng", "亓官": "qi guan",
}

// nameSurname returns the surname at the start of s, which starts with a Han character.
func nameSurname(s string) string {
	if utf8.RuneCountInString(s) >= 3 {
		_, n1 := utf8.DecodeRuneInString(s)
		_, n2 := utf8.DecodeRuneInString(s[n1:])
		if nameCompoundSurnames[s[:n1+n2]] {
			return s[:n1+n2]
		}
	}
	_, n := utf8.DecodeRuneInString(s)
	return s[:n]
}

var namePinyinArgs = pinyin.Args{
	Style: pinyin.Normal,
	// A Han character go-pinyin does not know stands for itself, so that two unknown
	// characters never get the same key.
	Fallback: func(r rune, _ pinyin.Args) []string { return []string{string(r)} },
}

// namePinyin is the pinyin of s (a name with at least one Han character), whose first
// len(surname) bytes are its surname.
func namePinyin(s, surname string) string {
	var tokens []string
	rest := s
	if reading, ok := nameSurnameReadings[surname]; ok && surname != "" {
		tokens = append(tokens, reading)
		rest = s[len(surname):]
	}
	var other strings.Builder // a run of non-Han characters
	flush := func() {
		if other.Len() > 0 {
			tokens = append(tokens, strings.ToLower(other.String()))
			other.Reset()
		}
	}
	for _, r := range rest {
		if !nameIsHan(r) {
			other.WriteRune(r)
			continue
		}
		flush()
		py := pinyin.SinglePinyin(r, namePinyinArgs)
		if len(py) == 0 || py[0] == "" {
			tokens = append(tokens, string(r))
			continue
		}
		tokens = append(tokens, py[0])
	}
	flush()
	return strings.Join(tokens, " ")
}

// t2sTable is t2s_data.go's pairs as a map from traditional to simplified.
var t2sTable = sync.OnceValue(func() map[rune]rune {
	m := make(map[rune]rune, t2sCount)
	var from rune = -1
	for _, r := range t2sPairs {
		if from < 0 {
			from = r
			continue
		}
		m[from] = r
		from = -1
	}
	return m
})

// Simplify maps each traditional character to its simplified form (Unihan kSimplifiedVariant,
// from t2s_data.go); every other character is kept. A character that Unihan lists as its own
// simplified variant (著, 乾 …) is kept too.
func Simplify(s string) string {
	m := t2sTable()
	i := strings.IndexFunc(s, func(r rune) bool { _, ok := m[r]; return ok })
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if to, ok := m[r]; ok {
			r = to
		}
		b.WriteRune(r)
	}
	return b.String()
}

// JaroWinkler is the Jaro–Winkler similarity (0..1) of two strings compared rune by rune
// (standard prefix scale 0.1, max prefix 4). Two empty strings are identical (1); an empty
// and a non-empty string have nothing in common (0).
func JaroWinkler(a, b string) float64 {
	if a == b {
		return 1
	}
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 || len(rb) == 0 {
		return 0
	}
	window := max(len(ra), len(rb))/2 - 1
	window = max(window, 0)
	matchA := make([]bool, len(ra))
	matchB := make([]bool, len(rb))
	matches := 0
	for i, r := range ra {
		lo, hi := max(0, i-window), min(len(rb)-1, i+window)
		for j := lo; j <= hi; j++ {
			if !matchB[j] && rb[j] == r {
				matchA[i], matchB[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	transpositions := 0
	j := 0
	for i := range ra {
		if !matchA[i] {
			continue
		}
		for !matchB[j] {
			j++
		}
		if ra[i] != rb[j] {
			transpositions++
		}
		j++
	}
	m := float64(matches)
	jaro := (m/float64(len(ra)) + m/float64(len(rb)) + (m-float64(transpositions)/2)/m) / 3
	prefix := 0
	for prefix < min(4, len(ra), len(rb)) && ra[prefix] == rb[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}
