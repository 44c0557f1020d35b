package standardize

import (
	"strings"
	"unicode"
)

// Address is a parsed Chinese street address down to the room.
type Address struct {
	Road     string   // 梦都大街 (a road: ends with 路, 街, 大街, 道, 大道, 巷, 弄, 里, 段, 胡同, 东街/西街…; or a bare place name with a house number: 吉兆营)
	Number   string   // house number on the road: "18" ("18-1" for 18-1号); for an estate without road, a 号院 number
	Estate   string   // a named compound (小区/花园/苑/新村/公寓/家园/城 …, with its phase: 金陵小区2期) if written instead of or besides a road number
	Building string   // "3"
	Unit     string   // "2"
	Room     string   // "501"
	Rest     string   // what could not be parsed, standardized (empty when fully parsed; the whole text when nothing was)
	Flags    []string // AddrPrefixDropped, AddrFullwidth, AddrDashForm, AddrNoRoomSuffix
}

// Flags ParseAddress reports.
const (
	AddrPrefixDropped = "prefix_dropped" // province/city/district/street/community prefixes were dropped
	AddrFullwidth     = "fullwidth"      // full-width digits, letters or dashes were folded (１８号, －)
	AddrDashForm      = "dash_form"      // numbers were joined by dashes (18-3-2-501, 2-501)
	AddrNoRoomSuffix  = "no_room_suffix" // the room is a trailing number without 室
)

// Key is the flat's identity for matching: road|number|building|unit|room, or
// estate|number|building|unit|room when there is no road or the road has no house number but an
// estate is named. It always has four '|' and is empty when neither road nor estate was found.
func (a Address) Key() string {
	head, num := a.keyHead()
	if head == "" {
		return ""
	}
	return head + "|" + num + "|" + a.Building + "|" + a.Unit + "|" + a.Room
}

// BuildingKey is road|number|building (estate|number|building as in Key) — for comparing
// addresses at building level. Empty when Key is.
func (a Address) BuildingKey() string {
	head, num := a.keyHead()
	if head == "" {
		return ""
	}
	return head + "|" + num + "|" + a.Building
}

func (a Address) keyHead() (string, string) {
	if a.Road != "" && (a.Number != "" || a.Estate == "") {
		return a.Road, a.Number
	}
	return a.Estate, a.Number
}

// String is the canonical rendering of the parsed parts, "梦都大街18号3栋2单元501室" (an estate
// without road: "金陵小区5栋1单元302室", its number as "3号院"); Rest is left out. When neither road
// nor estate was found it is Rest. ParseAddress(a.String()) gives the same parts back.
func (a Address) String() string {
	if a.Road == "" && a.Estate == "" {
		return a.Rest
	}
	var b strings.Builder
	if a.Road != "" {
		b.WriteString(a.Road)
		if a.Number != "" {
			b.WriteString(a.Number + "号")
		}
		b.WriteString(a.Estate)
	} else {
		b.WriteString(a.Estate)
		if a.Number != "" {
			b.WriteString(a.Number + "号院")
		}
	}
	if a.Building != "" {
		b.WriteString(a.Building + "栋")
	}
	if a.Unit != "" {
		b.WriteString(a.Unit + "单元")
	}
	if a.Room != "" {
		b.WriteString(a.Room + "室")
	}
	return b.String()
}

// ParseAddress parses a Chinese street address written any of the usual ways:
//
//   - full-width digits, letters and dashes are folded, white space removed, letters upper-cased;
//   - leading administrative prefixes are dropped when a road or estate follows: province (…省,
//     …自治区, 北京市 …), city (…市), district/county (…区, …县, …旗), street/town (…街道, …镇,
//     …乡) and community (…社区, …居委会) — "…街道" but never "…大街"/"…街";
//   - the road (ending 路/街/道/巷/弄/里/段/胡同) and its number (18号, 18-1号), an estate
//     (金陵小区, 锦绣花园东区, or any name followed by building numbers) with phase (2期), the
//     building (3栋, 3幢, 3座, 3号楼, 3#, 3楼 when a unit or another room number follows),
//     unit (2单元, 二单元), floor (5层, 5楼: kept only to complete a 1–2 digit room) and room
//     (501室, or a trailing 3–4 digit number);
//   - dash forms: 18-3-2-501 (number, building, unit, room), 18-3-501 (number, building, room),
//     3幢2-501 (unit-room after the building);
//   - a name with neither road nor estate suffix is a road when a house number with 号 or the
//     four-part dash form follows it directly (吉兆营92号18栋…, 吉兆营92-18-4-502), else an
//     estate when numbers follow (东方明珠A3栋: building A3); an estate followed by the
//     four-part dash form takes its first part as its number, as 七家湾33号7栋… does
//     (七家湾33-7-3-1104);
//   - Chinese numerals 一…九十 before a marker (二单元 → 2); leading zeros are stripped.
//
// Text it cannot place goes to Rest. It never panics.
func ParseAddress(raw string) Address {
	norm, wide := addrNormalize(raw)
	a, dropped := addrParseNorm(norm)
	// The canonical rendering must parse back to the same parts. In the rare case it would not
	// (an estate whose name runs into the road or number once rendered), the estate goes to
	// Rest; failing that, nothing is parsed.
	if a.Key() != "" && !addrStable(a) {
		if a.Estate != "" {
			a.Rest, a.Estate = a.Estate+a.Rest, ""
		}
		if a.Key() == "" || !addrStable(a) {
			a, dropped = Address{Rest: norm}, false
		}
	}
	var flags []string
	if dropped {
		flags = append(flags, AddrPrefixDropped)
	}
	if wide {
		flags = append(flags, AddrFullwidth)
	}
	a.Flags = append(flags, a.Flags...)
	return a
}

func addrStable(a Address) bool {
	s, _ := addrNormalize(a.String())
	b, _ := addrParseNorm(s)
	return b.Road == a.Road && b.Number == a.Number && b.Estate == a.Estate && b.Building == a.Building &&
		b.Unit == a.Unit && b.Room == a.Room && b.Rest == ""
}

// addrParseNorm parses a normalized address; dropped tells whether a prefix was dropped.
func addrParseNorm(norm string) (a Address, dropped bool) {
	toks := addrTokenize(norm)
	if len(toks) > 1 && toks[0].kind == atNum && len(toks[0].text) == 6 && toks[1].kind == atText && allDigits(toks[0].text) {
		toks, dropped = toks[1:], true // a postcode
	}
	if len(toks) > 0 && toks[0].kind == atText {
		t := []rune(toks[0].text)
		for _, c := range addrCuts(t) {
			if a, ok := addrParse(string(t[c:]), toks[1:]); ok {
				return a, dropped || c > 0
			}
		}
	}
	return Address{Rest: norm}, false
}

// addrNormalize folds full width, removes white space, control/format characters and
// punctuation (but between two numbers), turns dash look-alikes into '-' and upper-cases ASCII
// letters. It reports whether full-width digits, letters or dashes were folded.
func addrNormalize(raw string) (string, bool) {
	s := strings.ToValidUTF8(raw, "")
	wide := false
	for _, r := range s {
		// Full-width digits, letters and the dash; full-width ，（）are ordinary Chinese punctuation.
		if r >= '０' && r <= '９' || r >= 'Ａ' && r <= 'Ｚ' || r >= 'ａ' && r <= 'ｚ' || r == '－' {
			wide = true
			break
		}
	}
	rs := make([]rune, 0, len(s))
	for _, r := range Fold(s) {
		switch {
		case unicode.IsSpace(r) || unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar:
		case r >= 0x2010 && r <= 0x2015 || r == 0x2212 || r == 0xFE58 || r == 0xFE63:
			rs = append(rs, '-')
		case r >= 'a' && r <= 'z':
			rs = append(rs, r-'a'+'A')
		default:
			rs = append(rs, r)
		}
	}
	// Punctuation only matters between two numbers (18,3); elsewhere it goes, so that "A!号"
	// reads like "A号". A '#' is kept only after a number (3#).
	out := rs[:0]
	for i, r := range rs {
		after := len(out) > 0 && addrIsAlnum(out[len(out)-1])
		switch {
		case r == '#':
			if !after {
				continue
			}
		case addrIsSep(r):
			j := i + 1
			for j < len(rs) && addrIsSep(rs[j]) {
				j++
			}
			if !after || j == len(rs) || !addrIsAlnum(rs[j]) {
				continue
			}
		}
		out = append(out, r)
	}
	return string(out), wide
}

// Tokens.

type addrTokKind uint8

const (
	atText addrTokKind = iota
	atNum
	atDash
	atMark
)

type addrMark uint8

const (
	amNone   addrMark = iota
	amHao             // 号: the road number, or a building
	amNumber          // 号院
	amBldg            // 栋 幢 座 号楼 #
	amLou             // 楼: building or floor
	amUnit            // 单元
	amFloor           // 层
	amRoom            // 室 房 户
	amPhase           // 期
)

type addrTok struct {
	kind addrTokKind
	text string // the text; a number's standard value; a marker as written
	raw  string // a number as written
	mark addrMark
}

var addrMarks = []struct {
	s string
	m addrMark
}{
	{"号楼", amBldg}, {"號樓", amBldg}, {"号樓", amBldg}, {"號楼", amBldg},
	{"号院", amNumber}, {"號院", amNumber},
	{"单元", amUnit}, {"單元", amUnit},
	{"#楼", amBldg}, {"#", amBldg},
	{"号", amHao}, {"號", amHao},
	{"栋", amBldg}, {"棟", amBldg}, {"幢", amBldg}, {"座", amBldg},
	{"楼", amLou}, {"樓", amLou},
	{"层", amFloor}, {"層", amFloor},
	{"室", amRoom}, {"房", amRoom}, {"户", amRoom},
	{"期", amPhase},
}

// addrMarkAt matches a marker at rs[i:], returning it and its length in runes.
func addrMarkAt(rs []rune, i int) (addrMark, int) {
	m, n, _ := addrMarkText(rs, i)
	return m, n
}

// addrMarkText is addrMarkAt that also returns the marker as written (a constant: no allocation).
func addrMarkText(rs []rune, i int) (addrMark, int, string) {
	for _, m := range addrMarks {
		n := 0
		ok := true
		for _, r := range m.s {
			if i+n >= len(rs) || rs[i+n] != r {
				ok = false
				break
			}
			n++
		}
		if ok {
			return m.m, n, m.s
		}
	}
	return amNone, 0, ""
}

func addrIsDigit(r rune) bool { return r >= '0' && r <= '9' }
func addrIsUpper(r rune) bool { return r >= 'A' && r <= 'Z' }
func addrIsAlnum(r rune) bool { return addrIsDigit(r) || addrIsUpper(r) }

// addrIsSep reports punctuation and symbols (other than '-' and '#'), which are dropped: they end
// a number but not a name.
func addrIsSep(r rune) bool {
	if r < 0x80 {
		return !addrIsAlnum(r) && r != '-' && r != '#'
	}
	return unicode.IsPunct(r) || unicode.IsSymbol(r)
}

const addrCNumRunes = "零〇一二三四五六七八九十两"

func addrTokenize(s string) []addrTok {
	rs := []rune(s)
	toks := make([]addrTok, 0, 12) // a full address has about ten
	var text []rune
	flush := func() {
		if len(text) > 0 {
			toks = append(toks, addrTok{kind: atText, text: string(text)})
			text = text[:0]
		}
	}
	// afterNum: a Chinese numeral here may take a weak marker (号, 楼) — it follows a number or
	// marker directly, as in 18号三楼.
	afterNum := func() bool {
		if len(text) > 0 || len(toks) == 0 {
			return false
		}
		k := toks[len(toks)-1].kind
		return k == atNum || k == atMark
	}
	// emit a number, then the marker right after it if any; returns the new index.
	emit := func(val, raw string, i int) int {
		flush()
		toks = append(toks, addrTok{kind: atNum, text: val, raw: raw})
		if m, n, text := addrMarkText(rs, i); n > 0 {
			toks = append(toks, addrTok{kind: atMark, text: text, mark: m})
			i += n
		}
		return i
	}
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case addrIsDigit(r):
			j := i
			for j < len(rs) && addrIsAlnum(rs[j]) {
				j++
			}
			raw := string(rs[i:j])
			i = emit(addrStdNum(raw), raw, j)
		case addrIsUpper(r):
			j := i
			for j < len(rs) && addrIsUpper(rs[j]) {
				j++
			}
			if j < len(rs) && addrIsDigit(rs[j]) { // B501, A3
				k := j
				for k < len(rs) && addrIsAlnum(rs[k]) {
					k++
				}
				raw := string(rs[i:k])
				i = emit(addrStdNum(raw), raw, k)
				continue
			}
			if j-i == 1 {
				_, n := addrMarkAt(rs, j)
				prevDash := len(text) == 0 && len(toks) > 0 && toks[len(toks)-1].kind == atDash
				if n > 0 || (j < len(rs) && rs[j] == '-') || prevDash { // A座, A-501, 3-B
					i = emit(string(r), string(r), j)
					continue
				}
			}
			text = append(text, rs[i:j]...)
			i = j
		case r == '-':
			flush()
			toks = append(toks, addrTok{kind: atDash, text: "-"})
			i++
		case r == '第' && i+1 < len(rs) && (addrIsDigit(rs[i+1]) || addrCNumOK(rs, i+1, afterNum())):
			i++ // 第3栋
		case strings.ContainsRune(addrCNumRunes, r):
			// 梦都大街十八号: a weak marker also after a road name.
			weak := afterNum() || len(text) > 0 && strings.ContainsRune("路街道巷弄里段同", text[len(text)-1])
			if v, n, ok := addrCNumAt(rs, i, weak); ok {
				i = emit(v, string(rs[i:i+n]), i+n)
				continue
			}
			text = append(text, r)
			i++
		case addrIsSep(r) || r == '#': // a '#' after a number was taken as its marker
			i++
		default:
			text = append(text, r)
			i++
		}
	}
	flush()
	return toks
}

// addrStdNum strips leading zeros: 0501 → 501, 03A → 3A, 0 → 0.
func addrStdNum(s string) string {
	for len(s) > 1 && s[0] == '0' && addrIsDigit(rune(s[1])) {
		s = s[1:]
	}
	return s
}

func addrCNumOK(rs []rune, i int, weak bool) bool {
	_, _, ok := addrCNumAt(rs, i, weak)
	return ok
}

// addrCNumAt reads a Chinese numeral at rs[i:] that is followed by a marker (a weak one, 号 or
// 楼, only when weak is set) and returns its value in digits and its length.
func addrCNumAt(rs []rune, i int, weak bool) (string, int, bool) {
	j := i
	for j < len(rs) && j-i < 8 && strings.ContainsRune(addrCNumRunes, rs[j]) {
		j++
	}
	m, n := addrMarkAt(rs, j)
	if n == 0 || rs[j] == '#' || ((m == amHao || m == amLou || m == amNumber) && !weak) {
		return "", 0, false
	}
	v, ok := addrCNumValue(rs[i:j])
	if !ok {
		return "", 0, false
	}
	return v, j - i, true
}

// addrCNumValue converts 三 → 3, 十二 → 12, 二十 → 20, 五〇一 → 501.
func addrCNumValue(rs []rune) (string, bool) {
	digit := func(r rune) int {
		switch r {
		case '零', '〇':
			return 0
		case '一':
			return 1
		case '二', '两':
			return 2
		case '三':
			return 3
		case '四':
			return 4
		case '五':
			return 5
		case '六':
			return 6
		case '七':
			return 7
		case '八':
			return 8
		case '九':
			return 9
		}
		return -1
	}
	ten := -1
	for k, r := range rs {
		if r == '十' {
			if ten >= 0 {
				return "", false
			}
			ten = k
		}
	}
	if ten < 0 {
		b := make([]byte, 0, len(rs))
		for _, r := range rs {
			b = append(b, byte('0'+digit(r)))
		}
		return addrStdNum(string(b)), len(b) > 0
	}
	if ten > 1 || len(rs)-ten > 2 {
		return "", false
	}
	tens, ones := 1, 0
	if ten == 1 {
		if tens = digit(rs[0]); tens <= 0 {
			return "", false
		}
	}
	if ten+1 < len(rs) {
		if ones = digit(rs[ten+1]); ones <= 0 {
			return "", false
		}
	}
	n := tens*10 + ones
	return string([]byte{byte('0' + n/10), byte('0' + n%10)}), true
}

// Prefixes.

var addrAdminSuffixes = []string{"街道办事处", "街道办", "办事处", "居民委员会", "村民委员会", "居委会", "村委会",
	"自治州", "街道", "社区", "地区", "省", "市", "区", "县", "旗", "盟", "镇", "乡"}

// addrCuts lists where the road or estate may start after dropping administrative prefixes from
// the leading name t: the farthest first, 0 last.
func addrCuts(t []rune) []int {
	n := 0
	for n < len(t) && n < 64 && unicode.Is(unicode.Han, t[n]) {
		n++
	}
	reach := make([]bool, n+1)
	reach[0] = true
	cut := make([]bool, n+1)
	for p := 0; p < n; p++ {
		if !reach[p] {
			continue
		}
		for e := p + 3; e <= n && e <= p+16; e++ {
			if addrAdminToken(t, p, e) {
				reach[e], cut[e] = true, true
			}
		}
	}
	var cuts []int
	for e := n; e > 0 && len(cuts) < 8; e-- {
		if cut[e] && e < len(t) {
			cuts = append(cuts, e)
		}
	}
	return append(cuts, 0)
}

// addrAdminToken reports whether t[p:e] is an administrative division: a name of at least two
// characters and a suffix (江苏省, 南京市, 建邺区, 兴隆街道, 梦都社区 …).
func addrAdminToken(t []rune, p, e int) bool {
	s := string(t[p:e])
	for _, sfx := range addrAdminSuffixes {
		if !strings.HasSuffix(s, sfx) || e-p-len([]rune(sfx)) < 2 {
			continue
		}
		switch sfx {
		case "区":
			if strings.HasSuffix(s, "小区") || strings.HasSuffix(s, "园区") {
				return false
			}
		case "市":
			if e < len(t) && strings.ContainsRune("场政府民", t[e]) { // 市场, 市政, 市府, 市民
				return false
			}
		}
		return true
	}
	return false
}

// Names.

var addrBareRoads = map[string]bool{"大街": true, "大道": true, "胡同": true, "马路": true, "道路": true,
	"公路": true, "小路": true, "大路": true, "小巷": true, "小街": true, "中路": true, "东路": true,
	"西路": true, "南路": true, "北路": true}

func addrIsRoad(rs []rune) bool {
	n := len(rs)
	if n < 2 {
		return false
	}
	switch last := rs[n-1]; {
	case last == '同':
		return n > 2 && rs[n-2] == '胡'
	case !strings.ContainsRune("路街道巷弄里段", last), last == '道' && rs[n-2] == '街':
		return false
	}
	return n > 2 || !addrBareRoads[string(rs)]
}

var addrGarbage = map[string]bool{"不详": true, "未知": true, "暂无": true, "无": true, "空": true,
	"其他": true, "其它": true, "不知道": true, "待定": true, "同上": true, "略": true, "无固定住所": true,
	"无住所": true, "无地址": true, "未填": true, "未填写": true, "NULL": true, "NONE": true, "NA": true,
	"农村": true, "外地": true, "本地": true, "本市": true, "市区": true, "城区": true, "郊区": true,
	"社区": true, "东区": true, "西区": true, "南区": true, "北区": true, "中区": true}

// Estate suffixes: the multi-character ones need a name of one character or more before them,
// the single ones two.
var addrEstateMulti = []string{"小区", "花园", "新村", "公寓", "家园", "山庄", "大厦", "广场", "公馆", "庄园",
	"花苑", "华庭", "雅苑", "名苑", "新城", "国际", "中心", "大楼", "宿舍", "别墅", "华府", "名邸", "雅居"}

const addrEstateSingle = "苑园城村府庭居阁湾邸轩坊院舍墅庄寓楼"

// addrEstate decides whether rs names an estate: by its suffix (金陵小区, 锦绣花园东区), or — when
// numbers follow (followed) — any other name that is not an administrative division (byNum).
func addrEstate(rs []rune, followed bool) (est string, byNum, ok bool) {
	if len(rs) < 2 || len(rs) > 40 {
		return "", false, false
	}
	s := string(rs)
	last := rs[len(rs)-1]
	if addrGarbage[s] || addrIsAlnum(last) || last == '第' || strings.ContainsRune("路街道巷弄里段", last) || strings.HasSuffix(s, "胡同") {
		return "", false, false
	}
	base := rs
	if len(rs) >= 4 && strings.ContainsRune("区院", last) &&
		(strings.ContainsRune("东西南北中上下前后甲乙丙丁一二三四五六七八九十", rs[len(rs)-2]) || addrIsUpper(rs[len(rs)-2])) {
		base = rs[:len(rs)-2] // 东区, A区, 二区
	}
	bs := string(base)
	for _, sfx := range addrEstateMulti {
		if strings.HasSuffix(bs, sfx) {
			if len(bs) == len(sfx) {
				return "", false, false // 花园, 小区 alone
			}
			return s, false, true
		}
	}
	if strings.ContainsRune(addrEstateSingle, base[len(base)-1]) {
		if len(base) == 1 {
			return "", false, false
		}
		if len(base) >= 3 {
			return s, false, true
		}
	}
	if !followed || addrEndsAdmin(bs) {
		return "", false, false
	}
	return s, true, true
}

func addrEndsAdmin(s string) bool {
	for _, sfx := range []string{"省", "市", "县", "镇", "乡", "旗", "盟", "街道", "办事处", "委员会", "居委会", "村委会"} {
		if strings.HasSuffix(s, sfx) {
			return true
		}
	}
	return strings.HasSuffix(s, "区") && !strings.HasSuffix(s, "小区") && !strings.HasSuffix(s, "园区") && !strings.HasSuffix(s, "社区")
}

// addrSplitName reads the leading name: a road, a road followed by an estate, or an estate.
func addrSplitName(t string, followed bool) (road, est string, byNum, ok bool) {
	rs := []rune(t)
	if addrIsRoad(rs) {
		return t, "", false, true
	}
	for e := len(rs) - 2; e >= 2 && e >= len(rs)-40; e-- {
		if addrIsRoad(rs[:e]) {
			if est, byNum, ok := addrEstate(rs[e:], followed); ok {
				return string(rs[:e]), est, byNum, true
			}
		}
	}
	if est, byNum, ok := addrEstate(rs, followed); ok {
		return "", est, byNum, true
	}
	return "", "", false, false
}

// Numbers.

const (
	slotNum = iota
	slotBldg
	slotUnit
	slotRoom
)

type addrSeg struct {
	vals, raws []string
	mark       addrMark
	markText   string
}

func (s *addrSeg) String() string { return strings.Join(s.raws, "-") + s.markText }

type addrItem struct {
	text string
	seg  *addrSeg
}

type addrState struct {
	hasRoad  bool
	est      string
	f        [4]string
	cursor   int
	floor    string
	floorRaw string
	rest     []string
	dash     bool
	noSuffix bool

	// An estate accepted only because numbers follow it must get a building, unit or room
	// (or, without road, a number) after it, or it goes back to Rest.
	estByNum  bool
	estMid    bool // the estate came after the road number
	estRestAt int
	estSnap   [4]string
}

// addrParse parses the address whose leading name is t (prefixes dropped) and whose following
// tokens are toks.
func addrParse(t string, toks []addrTok) (Address, bool) {
	followed := false
	for _, tk := range toks {
		if tk.kind == atNum {
			followed = true
			break
		}
	}
	road, est, byNum, ok := addrSplitName(t, followed)
	if !ok {
		return Address{}, false
	}
	items := addrItems(toks)
	if road == "" && byNum && addrBareRoad(est, items) {
		road, est, byNum = est, "", false
	}
	st := &addrState{hasRoad: road != "", est: est, estByNum: byNum}
	for i, it := range items {
		if it.seg == nil {
			st.text(it.text, addrFollowed(items[i+1:]))
			continue
		}
		var next *addrSeg
		last := true
		for _, later := range items[i+1:] {
			if later.seg != nil {
				if next == nil {
					next = later.seg
				}
				last = false
			}
		}
		st.segment(it.seg, next, last)
	}
	// The floor only completes a short room number (5层2室 → 502).
	if st.floor != "" {
		room := st.f[slotRoom]
		switch {
		case room == "":
			st.rest = append(st.rest, st.floorRaw)
		case len(room) <= 2 && allDigits(room) && allDigits(st.floor):
			if len(room) == 1 {
				room = "0" + room
			}
			st.f[slotRoom] = st.floor + room
		}
	}
	if st.est != "" && st.estByNum {
		gained := false
		for k := slotNum; k <= slotRoom; k++ {
			if k == slotNum && st.hasRoad {
				continue
			}
			gained = gained || (st.estSnap[k] == "" && st.f[k] != "")
		}
		if !gained {
			if !st.hasRoad {
				return Address{}, false
			}
			st.dropEstate()
		}
	}
	a := Address{Road: road, Estate: st.est, Number: st.f[slotNum], Building: st.f[slotBldg],
		Unit: st.f[slotUnit], Room: st.f[slotRoom], Rest: strings.Join(st.rest, "")}
	if st.dash {
		a.Flags = append(a.Flags, AddrDashForm)
	}
	if st.noSuffix && a.Room != "" {
		a.Flags = append(a.Flags, AddrNoRoomSuffix)
	}
	return a, true
}

// addrBareRoad decides that a name with neither a road nor an estate suffix (吉兆营, 石鼓营,
// 新街口 — old place names on door plates) is a road, from the numbers right after it: a house
// number with 号 (吉兆营92号…) or the full dash form number-building-unit-room (吉兆营92-18-4-502).
// A zone (…区, …院) stays an estate; so do the shorter dash forms, which read as
// building-unit-room there (5-1-302).
func addrBareRoad(name string, items []addrItem) bool {
	if strings.HasSuffix(name, "区") || strings.HasSuffix(name, "院") || len(items) == 0 || items[0].seg == nil {
		return false
	}
	return items[0].seg.mark == amHao || addrFullDash(items[0].seg)
}

// addrFullDash reports the four-part dash form number-building-unit-room (92-18-4-502, with or
// without 室).
func addrFullDash(s *addrSeg) bool {
	return len(s.vals) == 4 && (s.mark == amNone || s.mark == amRoom)
}

func (st *addrState) dropEstate() {
	at := 0
	if st.estMid {
		at = st.estRestAt
	}
	st.rest = append(st.rest[:at], append([]string{st.est}, st.rest[at:]...)...)
	st.est = ""
}

func addrItems(toks []addrTok) []addrItem {
	var items []addrItem
	for i := 0; i < len(toks); {
		tk := toks[i]
		switch tk.kind {
		case atText:
			items = append(items, addrItem{text: tk.text})
			i++
		case atNum:
			seg := &addrSeg{vals: []string{tk.text}, raws: []string{tk.raw}}
			i++
			for i+1 < len(toks) && toks[i].kind == atDash && toks[i+1].kind == atNum {
				seg.vals = append(seg.vals, toks[i+1].text)
				seg.raws = append(seg.raws, toks[i+1].raw)
				i += 2
			}
			if i < len(toks) && toks[i].kind == atMark {
				seg.mark, seg.markText = toks[i].mark, toks[i].text
				i++
			}
			items = append(items, addrItem{seg: seg})
		default: // a stray dash
			i++
		}
	}
	return items
}

func addrFollowed(items []addrItem) bool {
	for _, it := range items {
		if it.seg != nil {
			return true
		}
	}
	return false
}

// text handles a name after the numbers began: an estate after the road number, else Rest.
func (st *addrState) text(t string, followed bool) {
	if st.hasRoad && st.est == "" && st.f[slotBldg] == "" && st.f[slotUnit] == "" && st.f[slotRoom] == "" {
		if est, byNum, ok := addrEstate([]rune(t), followed); ok {
			st.est, st.estByNum, st.estMid, st.estRestAt, st.estSnap = est, byNum, true, len(st.rest), st.f
			return
		}
	}
	st.rest = append(st.rest, t)
}

func (st *addrState) segment(s, next *addrSeg, last bool) {
	k := len(s.vals)
	// An estate has no road number, unless it is written as one: 3号院, 60号19栋, or the full
	// dash form 60-19-1-1103 (number, building, unit, room as on a road).
	if !st.hasRoad && st.cursor == slotNum &&
		!(s.mark == amNumber || s.mark == amHao && next != nil && next.mark == amBldg || addrFullDash(s)) {
		st.cursor = slotBldg
	}
	target := -1
	switch s.mark {
	case amPhase:
		if k == 1 && st.est != "" && st.f[slotBldg] == "" && st.f[slotUnit] == "" && st.f[slotRoom] == "" {
			st.est += s.vals[0] + "期"
		} else {
			st.rest = append(st.rest, s.String())
		}
		return
	case amFloor:
		st.setFloor(s)
		return
	case amLou:
		if st.cursor > slotBldg || st.f[slotBldg] != "" || !addrLouIsBuilding(s, next) {
			st.setFloor(s)
			return
		}
		target = slotBldg
	case amHao:
		target = slotBldg
		if st.cursor == slotNum {
			target = slotNum
		}
	case amNumber:
		target = slotNum
	case amBldg:
		target = slotBldg
	case amUnit:
		target = slotUnit
	case amRoom:
		target = slotRoom
	}
	start := st.cursor
	if target >= 0 {
		if target < start {
			st.rest = append(st.rest, s.String())
			return
		}
		if target == slotNum {
			st.f[slotNum] = strings.Join(s.vals, "-") // 18-1号
			st.cursor = slotBldg
			return
		}
		if k-1 > target-start {
			st.rest = append(st.rest, s.String())
			return
		}
		copy(st.f[start:], s.vals[:k-1])
		st.f[target] = s.vals[k-1]
		st.cursor = target + 1
		st.dash = st.dash || k > 1
		return
	}
	// Unmarked numbers fill the slots in order; a trailing 3–4 digit number is the room.
	switch {
	case start > slotRoom:
		st.rest = append(st.rest, s.String())
		return
	case k == 1 && start == slotNum:
		st.f[slotNum] = s.vals[0]
		st.cursor = slotBldg
		return
	case last && k < 4-start && addrRoomLike(s.vals[k-1]):
		copy(st.f[start:], s.vals[:k-1])
		st.f[slotRoom] = s.vals[k-1]
		st.cursor = slotRoom + 1
		st.noSuffix = true
	case start+k > 4:
		st.rest = append(st.rest, s.String())
		return
	default:
		copy(st.f[start:], s.vals)
		st.cursor = start + k
		st.noSuffix = st.noSuffix || st.cursor == slotRoom+1
	}
	st.dash = st.dash || k > 1
}

func (st *addrState) setFloor(s *addrSeg) {
	if len(s.vals) == 1 && st.floor == "" && st.f[slotRoom] == "" {
		st.floor, st.floorRaw = s.vals[0], s.String()
		return
	}
	st.rest = append(st.rest, s.String())
}

// addrLouIsBuilding: "3楼" is building 3 when a unit or a room follows — unless the room starts
// with the same number (3楼301: floor 3).
func addrLouIsBuilding(s, next *addrSeg) bool {
	if len(s.vals) != 1 || next == nil {
		return false
	}
	switch next.mark {
	case amUnit:
		return true
	case amRoom, amNone:
		room := next.vals[len(next.vals)-1]
		if len(next.vals) == 1 && len(room) > len(s.vals[0]) && strings.HasPrefix(room, s.vals[0]) {
			return false
		}
		return next.mark == amRoom || addrRoomLike(room) || len(next.vals) > 1
	}
	return false
}

// addrRoomLike: 3–4 digits, optionally with a letter (501, 1203, 501A).
func addrRoomLike(v string) bool {
	d := strings.TrimRight(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	return len(d) >= 3 && len(d) <= 4 && len(v)-len(d) <= 1 && allDigits(d)
}
