package facts

import (
	"encoding/json"
	"math/big"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"communityhub/pipeline/standardize"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// The value parsers: each takes a value as the source wrote it (never empty: absent values are
// not parsed) and returns the typed value and whether it could be read. They are pure and must
// not panic on any input (FuzzParsers).

// clean folds full-width characters and trims white space.
func clean(s string) string { return strings.TrimSpace(standardize.Fold(s)) }

// squeezed folds full-width characters and removes all white space.
func squeezed(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, standardize.Fold(s))
}

// parseText is a text value trimmed and folded; white space alone is no value.
func parseText(s string) (string, bool) {
	t := clean(s)
	return t, t != ""
}

// parseNumber is a number such as a family or household number: folded, white space removed, a
// number cell's ".0" dropped (100001.0 is 100001).
func parseNumber(s string) (string, bool) {
	v := squeezed(s)
	if t, ok := strings.CutSuffix(v, ".0"); ok && t != "" && strings.Trim(t, "0123456789") == "" {
		v = t
	}
	return v, v != ""
}

// parseDay reads a calendar date in any of the contract's formats (standardize.ParseDate:
// 19580304, 1958-03-04, 1958/3/4, 1958年3月4日, an Excel serial of five digits or more, a
// timestamp's date part). A year and month without a day, an impossible day (1958-02-30), a
// number of fewer than five digits (a bare year) or text that is no date is unreadable.
func parseDay(s string) (time.Time, bool) {
	d, flag, err := standardize.ParseDate(s)
	if err != nil || (flag != standardize.DateOK && flag != standardize.DateSerial) || shortSerial(s, flag) {
		return time.Time{}, false
	}
	return d.Time(), true
}

// shortSerial says whether s is a number of fewer than five digits that ParseDate read as an
// Excel serial: a bare year (2023) or a code, not a day before 1927-05-18 (serial 10000).
func shortSerial(s string, flag standardize.DateFlag) bool {
	if flag != standardize.DateSerial {
		return false
	}
	v := strings.TrimSuffix(squeezed(s), ".0")
	return len(v) < 5
}

// parseMonth reads a year and month (1975.06, 2023-05, 195803, 1958年3月) — or a whole date
// (an Excel serial of five digits or more too), of which only its month is kept, also when the
// day is impossible — as the first day of that month. A bare year (2023) is unreadable.
func parseMonth(s string) (time.Time, bool) {
	d, flag, err := standardize.ParseDate(s)
	switch {
	case err == nil && (flag == standardize.DateOK || flag == standardize.DateSerial || flag == standardize.DateYearMonth),
		flag == standardize.DateImpossible:
	default:
		return time.Time{}, false
	}
	if shortSerial(s, flag) {
		return time.Time{}, false
	}
	if d.Year == 0 || d.Month < 1 || d.Month > 12 {
		return time.Time{}, false
	}
	return time.Date(d.Year, time.Month(d.Month), 1, 0, 0, 0, 0, time.UTC), true
}

// parseBool reads true/false, 是/否, 1/0, Y/N, yes/no, T/F, 有/无, √/× (case-insensitive).
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(squeezed(s)) {
	case "true", "t", "y", "yes", "1", "是", "有", "√", "1.0":
		return true, true
	case "false", "f", "n", "no", "0", "否", "无", "×", "0.0":
		return false, true
	}
	return false, false
}

// parseCount reads a whole number of persons (3, 3人, 3.0, 3口): 1 to 999.
func parseCount(s string) (int32, bool) {
	v := squeezed(s)
	for _, suf := range []string{"人", "口"} {
		v = strings.TrimSuffix(v, suf)
	}
	n, err := standardize.ParseInt(v)
	if err != nil || n < 1 || n > 999 {
		return 0, false
	}
	return int32(n), true
}

// parseYear reads a year (2026, 2026年, 2026.0): 1900 to 2200.
func parseYear(s string) (int32, bool) {
	v := strings.TrimSuffix(squeezed(s), "年")
	n, err := standardize.ParseInt(v)
	if err != nil || n < 1900 || n > 2200 {
		return 0, false
	}
	return int32(n), true
}

// decimalSpec is a DECIMAL(width, scale) column.
type decimalSpec struct{ width, scale uint8 }

var (
	amountSpec = decimalSpec{12, 2} // facts.relief.monthly_amount
	hoursSpec  = decimalSpec{10, 1} // facts.volunteers.service_hours
)

// parseDecimal reads a non-negative amount exactly into a DECIMAL of spec: folded, white space
// removed, a leading ¥/￥ and a trailing 元 or 小时 dropped, thousands separators allowed where
// they group three digits (1,250.00). More fraction digits than the column keeps are rounded half
// up; a value too large for the column, a negative value, or anything else is unreadable.
func parseDecimal(s string, spec decimalSpec) (duckdb.Decimal, bool) {
	v := squeezed(s)
	for _, pre := range []string{"¥", "￥"} {
		v = strings.TrimPrefix(v, pre)
	}
	for _, suf := range []string{"元", "小时"} {
		v = strings.TrimSuffix(v, suf)
	}
	v = strings.TrimPrefix(v, "+")
	whole, frac, hasPoint := strings.Cut(v, ".")
	if hasPoint && frac == "" || whole == "" || !digits(frac) && frac != "" {
		return duckdb.Decimal{}, false
	}
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		if len(groups[0]) < 1 || len(groups[0]) > 3 {
			return duckdb.Decimal{}, false
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return duckdb.Decimal{}, false
			}
		}
		whole = strings.Join(groups, "")
	}
	if !digits(whole) {
		return duckdb.Decimal{}, false
	}
	whole = strings.TrimLeft(whole, "0")
	intDigits := int(spec.width) - int(spec.scale)
	if len(whole) > intDigits {
		return duckdb.Decimal{}, false
	}
	keep := int(spec.scale)
	roundUp := false
	if len(frac) > keep {
		roundUp = frac[keep] >= '5'
		frac = frac[:keep]
	}
	frac += strings.Repeat("0", keep-len(frac))
	units, ok := new(big.Int).SetString("0"+whole+frac, 10)
	if !ok {
		return duckdb.Decimal{}, false
	}
	if roundUp {
		units.Add(units, big.NewInt(1))
	}
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(spec.width)), nil)
	if units.Cmp(limit) >= 0 {
		return duckdb.Decimal{}, false
	}
	return duckdb.Decimal{Width: spec.width, Scale: spec.scale, Value: units}, true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// listSeparators split a cell of several values: ; ； , ， 、 (and line breaks).
func listSeparator(r rune) bool {
	switch r {
	case ';', '；', ',', '，', '、', '\n', '\r':
		return true
	}
	return false
}

// parseList reads several values in one cell: a JSON array of strings (how the HTTP connector
// lands a JSON list: ["助餐","助洁"]; [] is an empty list) or text split on ; ； , ， 、. Items
// are trimmed and folded, empty items dropped, each kept once in its first place. A cell that
// opens a JSON array but is not one is unreadable.
func parseList(s string) ([]string, bool) {
	t := clean(s)
	var items []string
	if strings.HasPrefix(t, "[") {
		var raw []any
		if err := json.Unmarshal([]byte(t), &raw); err != nil {
			return nil, false
		}
		for _, it := range raw {
			switch v := it.(type) {
			case string:
				items = append(items, v)
			case nil:
			default:
				b, err := json.Marshal(v)
				if err != nil {
					return nil, false
				}
				items = append(items, string(b))
			}
		}
	} else {
		items = strings.FieldsFunc(t, listSeparator)
	}
	out := []string{}
	seen := map[string]bool{}
	for _, it := range items {
		it = clean(it)
		if it == "" || seen[it] {
			continue
		}
		seen[it] = true
		out = append(out, it)
	}
	return out, true
}

// code folds a coded value to one of the schema's spellings through a table of the spellings
// sources write (compared folded, without white space and upper-cased).
func code(table map[string]string) func(string) (string, bool) {
	return func(s string) (string, bool) {
		v, ok := table[strings.ToUpper(squeezed(s))]
		return v, ok
	}
}

var (
	// 人员状态: GB codes or their words.
	parseHukouStatus = code(map[string]string{"0": "正常", "00": "正常", "1": "死亡", "01": "死亡", "2": "迁出", "02": "迁出",
		"正常": "正常", "死亡": "死亡", "迁出": "迁出", "已死亡": "死亡", "已迁出": "迁出"})
	// 流动人口 permit status.
	parseFloatingStatus = code(map[string]string{"有效": "有效", "注销": "注销", "已注销": "注销"})
	// 保障类型.
	parseReliefType = code(map[string]string{"城市低保": "城市低保", "低保": "城市低保", "城市居民最低生活保障": "城市低保", "最低生活保障": "城市低保",
		"特困供养": "特困供养", "特困": "特困供养", "特困人员": "特困供养", "特困人员供养": "特困供养", "临时救助": "临时救助"})
	// 救助状态.
	parseReliefStatus = code(map[string]string{"在保": "在保", "保障中": "在保", "正常": "在保", "停保": "停保", "已停保": "停保", "停止": "停保", "终止": "停保"})
	// 就业状态.
	parseEmploymentStatus = code(map[string]string{"登记失业": "登记失业", "失业": "登记失业", "失业登记": "登记失业", "就业": "就业", "已就业": "就业",
		"灵活就业": "灵活就业"})
	// 就业困难人员类别.
	parseDifficulty = code(map[string]string{"4050人员": "4050人员", "4050": "4050人员", "零就业家庭": "零就业家庭", "零就业家庭成员": "零就业家庭",
		"残疾人": "残疾人", "残疾": "残疾人"})
	// 参保类别.
	parseInsuranceCategory = code(map[string]string{"职工": "职工", "职工医保": "职工", "城镇职工": "职工", "城镇职工基本医疗保险": "职工",
		"城乡居民": "城乡居民", "居民": "城乡居民", "城乡居民医保": "城乡居民", "城乡居民基本医疗保险": "城乡居民"})
	// 参保状态.
	parseInsuranceStatus = code(map[string]string{"参保缴费": "参保缴费", "参保": "参保缴费", "正常参保": "参保缴费", "缴费": "参保缴费", "正常缴费": "参保缴费",
		"暂停": "暂停", "暂停参保": "暂停", "暂停缴费": "暂停", "终止": "终止", "终止参保": "终止"})
	// 人员类型.
	parsePersonType = code(map[string]string{"户籍": "户籍", "户籍人口": "户籍", "流动": "流动", "流动人口": "流动", "境外": "境外", "境外人员": "境外",
		"境外人口": "境外"})
)

// parseBand reads a 高龄津贴 band as 80-89, 90-99 or 100+: 80-89周岁, 80～89岁, 90-99, 百岁以上,
// 100岁以上, 100周岁及以上, 100+.
func parseBand(s string) (string, bool) {
	v := strings.ToUpper(squeezed(s))
	for _, dash := range []string{"～", "~", "—", "－", "–", "至", "到"} {
		v = strings.ReplaceAll(v, dash, "-")
	}
	for _, w := range []string{"周岁", "岁", "及以上", "以上", "档"} {
		v = strings.ReplaceAll(v, w, "")
	}
	switch v {
	case "80-89":
		return "80-89", true
	case "90-99":
		return "90-99", true
	case "百", "100", "100+":
		return "100+", true
	}
	return "", false
}

// categoryNames are the 残疾类别 by number (1–7), as the schema spells them.
var categoryNames = [...]string{"", "视力", "听力", "言语", "肢体", "智力", "精神", "多重"}

// parseCategory reads a spelled-out 残疾类别 (肢体, 肢体残疾, 多重残疾) or its number (4, 4类).
func parseCategory(s string) (int32, bool) {
	v := squeezed(s)
	v = strings.TrimSuffix(v, "残疾")
	v = strings.TrimSuffix(v, "类")
	for i, n := range categoryNames {
		if i > 0 && v == n {
			return int32(i), true
		}
	}
	if len(v) == 1 && v[0] >= '1' && v[0] <= '7' {
		return int32(v[0] - '0'), true
	}
	return 0, false
}

// gradeWords are the 残疾等级 numerals, plain and formal (一/壹 …).
var gradeWords = map[string]int32{"1": 1, "2": 2, "3": 3, "4": 4, "一": 1, "二": 2, "三": 3, "四": 4, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4,
	"I": 1, "II": 2, "III": 3, "IV": 4}

// parseGrade reads a 残疾等级: 二级, 2, 贰级, 2级, 二级残疾.
func parseGrade(s string) (int32, bool) {
	v := strings.ToUpper(squeezed(s))
	v = strings.TrimSuffix(v, "残疾")
	v = strings.TrimSuffix(v, "级")
	if g, ok := gradeWords[v]; ok {
		return g, true
	}
	return 0, false
}

// parseCert cleans a 残疾证号: folded, white space removed, x upper-cased.
func parseCert(s string) (string, bool) {
	v := strings.ToUpper(squeezed(s))
	return v, v != ""
}

// certDigits are the category and grade digits of a cleaned 残疾证号: its 19th and 20th characters
// (the 18-character ID followed by the two), or the 16th and 17th of the 17-character form (a
// legacy 15-digit ID followed by the two). ok is false for any other length.
func certDigits(cert string) (cat, grade byte, ok bool) {
	switch len(cert) {
	case 20:
		return cert[18], cert[19], true
	case 17:
		return cert[15], cert[16], true
	}
	return 0, 0, false
}

// certCategory is the category (1–7) a 残疾证号 carries.
func certCategory(cert string) (int32, bool) {
	c, _, ok := certDigits(cert)
	if !ok || c < '1' || c > '7' {
		return 0, false
	}
	return int32(c - '0'), true
}

// certGrade is the grade (1–4) a 残疾证号 carries.
func certGrade(cert string) (int32, bool) {
	_, g, ok := certDigits(cert)
	if !ok || g < '1' || g > '4' {
		return 0, false
	}
	return int32(g - '0'), true
}

// subsidies are the two 两项补贴 flags.
type subsidies struct{ living, care bool }

// parseSubsidies reads a 两项补贴 list (困难生活补贴、重度护理补贴, either, or a word for none: 无,
// 否): an item naming 生活补贴 sets living, one naming 护理补贴 sets care. A list none of whose
// items is either (and that is no word for none) is unreadable.
func parseSubsidies(s string) (subsidies, bool) {
	items, ok := parseList(s)
	if !ok {
		return subsidies{}, false
	}
	var out subsidies
	known := false
	for _, it := range items {
		it = squeezed(it)
		switch {
		case strings.Contains(it, "生活补贴"):
			out.living, known = true, true
		case strings.Contains(it, "护理补贴"):
			out.care, known = true, true
		case it == "无" || it == "否" || it == "-" || it == "/" || it == "未享受":
			known = true
		}
	}
	return out, known
}

// example shortens a value for a count's detail.
func example(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}
