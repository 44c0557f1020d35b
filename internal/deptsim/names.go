package deptsim

import (
	"math/rand/v2"
	"sort"
	"strings"
)

// surnames with rough shares of the Han population (percent); the long tail is cut.
// The skew is the point: 王, 李 and 张 alone cover a fifth of people.
var surnames = weighted[string]{
	items: []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
		"郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
		"余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
		"石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯",
		"龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "武", "戴", "莫", "孔", "汤", "欧阳", "司马", "诸葛", "上官"},
	weights: []float64{7.1, 7.0, 6.7, 5.4, 4.5, 3.1, 2.2, 2.1, 2.0, 1.9, 1.8, 1.6, 1.5, 1.3, 1.3, 1.2, 1.2, 1.1, 1.1, 0.9,
		0.9, 0.9, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.6, 0.6, 0.6, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,
		0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3,
		0.3, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2,
		0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.02, 0.01, 0.01, 0.01},
}

// Whole given names that many people share; drawn with Zipf-like weights 1/(rank+4) so that 王伟, 李娜 and
// 张敏 recur as different people.
var (
	commonMale = weighted[string]{items: []string{"伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞",
		"波", "斌", "宇", "浩", "凯", "健", "俊", "峰", "亮", "建国", "建华", "志强", "国强", "文博", "子轩", "浩然", "宇轩", "俊杰", "建军", "海涛"}}
	commonFemale = weighted[string]{items: []string{"敏", "静", "丽", "娜", "芳", "艳", "娟", "霞", "婷", "秀英", "桂英", "玉兰", "雪", "琳", "颖",
		"洁", "慧", "晶", "燕", "红", "丹", "萍", "玲", "欣怡", "梓涵", "诗涵", "雨欣", "子涵", "佳怡", "淑珍", "秀兰", "凤英", "丽娟", "海燕", "春梅"}}
	// Characters for composing rarer two-character given names.
	maleChars   = []rune("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林国志建文东峰亮成荣新春海山德福贵宝庆永立正江松毅晨阳博睿泽铭昊轩")
	femaleChars = []rune("芳娜敏静丽艳娟霞秀英桂玉兰婷雪琳颖洁慧晶燕红丹萍玲凤梅云淑珍欣怡涵诗雨佳月莉倩璐瑶琪菲萱妍薇蓉彤悦馨")
)

// minorityNames are Uyghur-style names written with a separating dot; ethnicity code 05.
var minorityGiven = []string{"阿卜杜", "买买提", "艾力", "古丽", "热依拉", "努尔", "阿依", "吐尔逊", "帕提古丽", "迪丽"}
var minorityFamily = []string{"热合曼", "艾力", "努尔", "阿不都", "买买提", "吐尔洪", "肉孜", "依明", "卡德尔", "沙吾提"}

// tradOf is the simplified→traditional mapping for the characters this simulator writes in names.
// It is deliberately small and only holds pairs that exist in Unicode's own variant data, so the
// hub's standardizer (built from that data) can undo every one of them.
var tradOf = map[rune]rune{
	'张': '張', '刘': '劉', '陈': '陳', '杨': '楊', '黄': '黃', '赵': '趙', '吴': '吳', '孙': '孫', '马': '馬', '郑': '鄭',
	'罗': '羅', '谢': '謝', '许': '許', '韩': '韓', '冯': '馮', '邓': '鄧', '蒋': '蔣', '叶': '葉', '苏': '蘇', '吕': '呂',
	'卢': '盧', '钟': '鍾', '谭': '譚', '陆': '陸', '贾': '賈', '韦': '韋', '邹': '鄒', '龙': '龍', '贺': '賀', '顾': '顧',
	'龚': '龔', '万': '萬', '钱': '錢', '严': '嚴', '汤': '湯', '伟': '偉', '军': '軍', '杰': '傑', '涛': '濤', '华': '華',
	'飞': '飛', '辉': '輝', '鹏': '鵬', '刚': '剛', '凯': '凱', '帅': '帥', '国': '國', '强': '強', '红': '紅', '丽': '麗',
	'艳': '豔', '兰': '蘭', '静': '靜', '颖': '穎', '洁': '潔', '凤': '鳳', '云': '雲', '轩': '軒', '诗': '詩', '东': '東',
	'荣': '榮', '贵': '貴', '宝': '寶', '庆': '慶', '欧': '歐', '诸': '諸', '葛': '葛', '阳': '陽', '义': '義', '丰': '豐',
	'铭': '銘', '进': '進', '宁': '寧', '鑫': '鑫', '泽': '澤', '睿': '睿', '娟': '娟', '凌': '淩', '毅': '毅', '爱': '愛',
}

// homophones are near-homophone substitutions a clerk typing by pinyin makes (张伟 → 张玮).
var homophones = map[rune][]rune{
	'伟': []rune("玮炜"), '敏': []rune("民闵"), '静': []rune("婧晶"), '丽': []rune("莉俐"), '娜': []rune("那"), '军': []rune("君钧"),
	'华': []rune("桦"), '杰': []rune("洁捷"), '明': []rune("铭鸣"), '磊': []rune("垒"), '芳': []rune("方"), '强': []rune("墙"),
	'勇': []rune("永咏"), '涛': []rune("韬"), '红': []rune("虹宏"), '燕': []rune("艳雁"), '霞': []rune("侠"), '平': []rune("萍苹"),
	'玲': []rune("琳凌"), '建': []rune("健"), '志': []rune("智"), '文': []rune("雯"), '婷': []rune("亭"), '斌': []rune("彬"),
	'鹏': []rune("朋"), '辉': []rune("晖"), '飞': []rune("菲"), '宇': []rune("雨语"), '浩': []rune("昊"), '俊': []rune("骏峻"),
	'峰': []rune("锋丰"), '英': []rune("瑛"), '兰': []rune("岚"), '梅': []rune("玫"), '云': []rune("芸"), '超': []rune("潮"),
	'刚': []rune("钢"), '波': []rune("博"), '亮': []rune("靓"), '颖': []rune("莹"), '慧': []rune("惠"), '琳': []rune("林"),
}

// weighted is a discrete distribution. With no weights the items follow a Zipf-like 1/(rank+4).
type weighted[T any] struct {
	items   []T
	weights []float64
	cum     []float64
}

func (w *weighted[T]) pick(r *rand.Rand) T {
	if w.cum == nil {
		w.cum = make([]float64, len(w.items))
		total := 0.0
		for i := range w.items {
			x := 1.0 / float64(i+4)
			if w.weights != nil {
				x = w.weights[i]
			}
			total += x
			w.cum[i] = total
		}
	}
	x := r.Float64() * w.cum[len(w.cum)-1]
	return w.items[sort.SearchFloat64s(w.cum, x)]
}

func init() {
	// Build the cumulative tables once, before any goroutine draws from them.
	r := rand.New(rand.NewPCG(0, 0))
	surnames.pick(r)
	commonMale.pick(r)
	commonFemale.pick(r)
}

// newName draws a Han name for the given sex, sharing the surname when one is given.
func newName(r *rand.Rand, sex int, surname string) string {
	if surname == "" {
		surname = surnames.pick(r)
	}
	common, chars := &commonMale, maleChars
	if sex == 2 {
		common, chars = &commonFemale, femaleChars
	}
	switch x := r.Float64(); {
	case x < 0.25:
		return surname + common.pick(r)
	case x < 0.45:
		return surname + string(chars[r.IntN(len(chars))])
	default:
		return surname + string(chars[r.IntN(len(chars))]) + string(chars[r.IntN(len(chars))])
	}
}

// newMinorityName draws a dotted Uyghur-style name, e.g. 阿卜杜·热合曼.
func newMinorityName(r *rand.Rand) string {
	return minorityGiven[r.IntN(len(minorityGiven))] + "·" + minorityFamily[r.IntN(len(minorityFamily))]
}

// toTraditional rewrites every character that has a traditional form; ok is false when none has.
func toTraditional(name string) (string, bool) {
	changed := false
	out := []rune(name)
	for i, c := range out {
		if t, ok := tradOf[c]; ok && t != c {
			out[i] = t
			changed = true
		}
	}
	return string(out), changed
}

// homophoneTypo replaces one given-name character with a near-homophone; ok is false when the
// name has no character with a known homophone.
func homophoneTypo(r *rand.Rand, name string) (string, bool) {
	rs := []rune(name)
	var cand []int
	for i := 1; i < len(rs); i++ {
		if _, ok := homophones[rs[i]]; ok {
			cand = append(cand, i)
		}
	}
	if len(cand) == 0 {
		return name, false
	}
	i := cand[r.IntN(len(cand))]
	alts := homophones[rs[i]]
	rs[i] = alts[r.IntN(len(alts))]
	return string(rs), true
}

// dotVariants are the ways systems write the separator of a dotted name; the canonical one is "·".
// A GBK system cannot store "•" (U+2022), so it uses the variants GBK has.
var (
	dotVariants    = []string{"•", "．", ""}
	gbkDotVariants = []string{"﹒", "．", ""}
)

func dotVariant(r *rand.Rand, name string, gbk bool) (string, bool) {
	if !strings.Contains(name, "·") {
		return name, false
	}
	vs := dotVariants
	if gbk {
		vs = gbkDotVariants
	}
	return strings.ReplaceAll(name, "·", vs[r.IntN(len(vs))]), true
}

// strayspace puts one or two spaces inside a name (张  三) or around it.
func strayspace(r *rand.Rand, name string) string {
	rs := []rune(name)
	switch r.IntN(3) {
	case 0:
		return " " + name
	case 1:
		return name + " "
	default:
		if len(rs) < 2 {
			return name + " "
		}
		i := 1 + r.IntN(len(rs)-1)
		return string(rs[:i]) + strings.Repeat(" ", 1+r.IntN(2)) + string(rs[i:])
	}
}
