package records

import (
	"strings"

	"communityhub/pipeline/standardize"
)

// ParseRelation normalizes a relation to the householder (与户主关系) to RelHead, RelSpouse,
// RelChild, RelParent, RelGrandchild, RelGrandparent, RelSibling or RelOther; "" for an empty
// value.
//
// Codes are GB/T 4761 (two digits; one digit is read with a leading zero, as Excel leaves it):
// 01 本人, 02, 03 户主 → head, except that 02 is the spouse, as the integration contract
// (departments.md: "02 配偶") and its systems write it; 10–12 配偶 → spouse; 20–27, 29 子 and
// 30–37, 39 女 → child; 40–44, 49 孙子女 → grandchild; 50–52, 57–59 父母 → parent; 60–64, 66,
// 67, 69 祖父母 → grandparent; 70, 71, 73, 75, 77, 79 兄弟姐妹 → sibling; in-laws (28 女婿,
// 38 儿媳, 45–48, 53–56, 65, 68, 72, 74, 76, 78), 80–97 other relatives and 99 非亲属 → other.
//
// Free text (social relief writes 妻, 儿子, 孙女 …) is folded, stripped of white space and
// simplified (兒子 = 儿子) and read by the same categories: 本人/户主, 配偶/妻/丈夫/老伴, 儿子/长女/
// 养子 …, 孙子/外孙女 …, 父亲/母亲/继父 …, 祖父/外婆/爷爷 …, 哥哥/妹妹/兄弟 …; in-laws (儿媳,
// 女婿, 岳母 …) and anything not understood → other.
func ParseRelation(raw string) string {
	s := strings.Join(strings.Fields(standardize.Fold(raw)), "")
	if s == "" {
		return ""
	}
	if strings.Trim(s, "0123456789") == "" {
		return relationCode(s)
	}
	s = standardize.Simplify(s)
	if r, ok := relationText[s]; ok {
		return r
	}
	// Ordinals and kinds before a child's, grandchild's or sibling's word: 长子, 次女, 三儿子,
	// 独生女, 长孙, 大哥, 二妹.
	for _, pre := range []string{"独生", "长", "次", "大", "二", "三", "四", "五", "六", "小", "幼", "养", "继"} {
		if t, ok := strings.CutPrefix(s, pre); ok {
			if r, ok := relationText[t]; ok && (r == RelChild || r == RelSibling || r == RelGrandchild) {
				return r
			}
		}
	}
	return RelOther
}

// relationCode reads a GB/T 4761 code (see ParseRelation).
func relationCode(s string) string {
	s = strings.TrimLeft(s, "0")
	if len(s) > 2 {
		return RelOther
	}
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	switch {
	case n == 1 || n == 3:
		return RelHead
	case n == 2 || n >= 10 && n <= 12:
		return RelSpouse
	case n >= 20 && n <= 39 && n != 28 && n != 38:
		return RelChild
	case n >= 40 && n <= 44 || n == 49:
		return RelGrandchild
	case n >= 50 && n <= 52 || n >= 57 && n <= 59:
		return RelParent
	case n >= 60 && n <= 64 || n == 66 || n == 67 || n == 69:
		return RelGrandparent
	case n >= 70 && n <= 79 && n%2 == 1 || n == 70:
		return RelSibling
	}
	return RelOther
}

// relationText is the free-text spellings of relations, after simplification.
var relationText = func() map[string]string {
	m := map[string]string{}
	for rel, words := range map[string][]string{
		RelHead:   {"本人", "户主", "户主本人", "本人户主", "本人(户主)", "申请人"},
		RelSpouse: {"配偶", "妻", "妻子", "夫", "丈夫", "老伴", "爱人", "夫妻", "之妻", "之夫"},
		RelChild: {"子", "儿子", "儿", "女", "女儿", "子女", "儿女", "独子", "独女", "孩子", "之子", "之女",
			"养子", "养女", "继子", "继女"},
		RelGrandchild: {"孙", "孙子", "孙女", "外孙", "外孙子", "外孙女", "孙子女", "外孙子女", "曾孙", "曾孙子", "曾孙女",
			"外曾孙", "外曾孙子", "外曾孙女"},
		RelParent: {"父", "母", "父亲", "母亲", "父母", "爸爸", "妈妈", "继父", "继母", "养父", "养母"},
		RelGrandparent: {"祖父", "祖母", "外祖父", "外祖母", "祖父母", "外祖父母", "爷爷", "奶奶", "外公", "外婆",
			"姥爷", "姥姥", "曾祖父", "曾祖母"},
		RelSibling: {"兄", "弟", "姐", "妹", "哥", "哥哥", "弟弟", "姐姐", "妹妹", "兄弟", "姐妹", "兄弟姐妹", "兄妹", "姐弟"},
		RelOther: {"其他", "其它", "非亲属", "亲属", "儿媳", "媳妇", "女婿", "孙媳", "孙媳妇", "孙女婿", "公公", "婆婆",
			"岳父", "岳母", "嫂", "嫂子", "弟媳", "姐夫", "妹夫", "侄子", "侄女", "外甥", "外甥女", "保姆", "租户"},
	} {
		for _, w := range words {
			m[w] = rel
		}
	}
	return m
}()
