package standardize

import (
	"math"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestParseNameTraditional(t *testing.T) {
	n := ParseName("張偉")
	if n.Std != "张伟" || n.NoDot != "张伟" {
		t.Errorf("Std, NoDot = %q, %q; want 张伟", n.Std, n.NoDot)
	}
	if n.Pinyin != "zhang wei" {
		t.Errorf("Pinyin = %q, want %q", n.Pinyin, "zhang wei")
	}
	if n.Surname != "张" || n.Given != "伟" {
		t.Errorf("Surname, Given = %q, %q; want 张, 伟", n.Surname, n.Given)
	}
	if !slices.Equal(n.Flags, []string{NameTraditional}) {
		t.Errorf("Flags = %v, want [traditional]", n.Flags)
	}
}

func TestParseNameSpaces(t *testing.T) {
	for _, raw := range []string{"张  三", " 张三 ", "张\u3000三", "张\t三\n", "张\u00a0三", "张\u200b三"} {
		n := ParseName(raw)
		if n.Std != "张三" || n.Pinyin != "zhang san" {
			t.Errorf("ParseName(%q) = %q %q, want 张三 zhang san", raw, n.Std, n.Pinyin)
		}
		if !slices.Contains(n.Flags, NameSpaces) {
			t.Errorf("ParseName(%q).Flags = %v, want spaces", raw, n.Flags)
		}
	}
	if n := ParseName("张三"); len(n.Flags) != 0 {
		t.Errorf("ParseName(张三).Flags = %v, want none", n.Flags)
	}
}

func TestParseNameDots(t *testing.T) {
	for _, raw := range []string{
		"阿卜杜·热合曼", "阿卜杜•热合曼", "阿卜杜．热合曼", "阿卜杜﹒热合曼", "阿卜杜・热合曼",
		"阿卜杜‧热合曼", "阿卜杜∙热合曼", "阿卜杜⋅热合曼", "阿卜杜.热合曼", "阿卜杜 . 热合曼",
		"阿卜杜･热合曼", "阿卜杜··热合曼", "·阿卜杜·热合曼·",
	} {
		n := ParseName(raw)
		if n.Std != "阿卜杜·热合曼" || n.NoDot != "阿卜杜热合曼" {
			t.Errorf("ParseName(%q) Std, NoDot = %q, %q", raw, n.Std, n.NoDot)
		}
		// Split like the undotted form, so that both get the same surname keys.
		if n.Surname != "阿" || n.Given != "卜杜热合曼" {
			t.Errorf("ParseName(%q) Surname, Given = %q, %q; want 阿, 卜杜热合曼 (as undotted)", raw, n.Surname, n.Given)
		}
		// 卜 is go-pinyin's default reading "bo": given names keep the default.
		if n.Pinyin != "a bo du re he man" {
			t.Errorf("ParseName(%q).Pinyin = %q", raw, n.Pinyin)
		}
		wantFlag := raw != "阿卜杜·热合曼" && raw != "阿卜杜··热合曼" && raw != "·阿卜杜·热合曼·"
		if got := slices.Contains(n.Flags, NameDotVariant); got != wantFlag {
			t.Errorf("ParseName(%q).Flags = %v, dot_variant want %v", raw, n.Flags, wantFlag)
		}
	}
	n := ParseName("阿卜杜热合曼")
	if n.Std != "阿卜杜热合曼" || n.NoDot != "阿卜杜热合曼" || n.Surname != "阿" || n.Given != "卜杜热合曼" || n.Pinyin != "a bo du re he man" {
		t.Errorf("undotted: %+v", n)
	}
	// "." between Latin letters is kept.
	if n := ParseName("J.K.Rowling"); n.Std != "J.K.Rowling" || n.Pinyin != "j.k.rowling" {
		t.Errorf("ParseName(J.K.Rowling) = %q %q", n.Std, n.Pinyin)
	}
}

// Dotted minority names, whatever the dot, get a name key, pinyin and surname keys — the same
// as the undotted spelling's.
func TestParseNameDottedMinority(t *testing.T) {
	undotted := ParseName("买买提吐尔逊")
	for _, raw := range []string{"买买提·吐尔逊", "买买提•吐尔逊", "买买提.吐尔逊", "买买提．吐尔逊", "买买提 · 吐尔逊", "買買提·吐爾遜"} {
		n := ParseName(raw)
		if n.Std != "买买提·吐尔逊" || n.NoDot != "买买提吐尔逊" {
			t.Errorf("ParseName(%q) Std, NoDot = %q, %q", raw, n.Std, n.NoDot)
		}
		if n.Pinyin != "mai mai ti tu er xun" || n.Surname != "买" || n.Given != "买提吐尔逊" {
			t.Errorf("ParseName(%q) = pinyin %q surname %q given %q", raw, n.Pinyin, n.Surname, n.Given)
		}
		if n.Pinyin != undotted.Pinyin || n.Surname != undotted.Surname || n.Given != undotted.Given {
			t.Errorf("ParseName(%q) = %+v, differs from undotted %+v", raw, n, undotted)
		}
	}
}

// Latin-script names keep one space between words; Han names lose every space.
func TestParseNameWordBoundaries(t *testing.T) {
	cases := []struct {
		raw, std, pinyin string
		spacesFlag       bool
	}{
		{"Elizabeth Wright", "Elizabeth Wright", "elizabeth wright", false},
		{"Elizabeth  Wright", "Elizabeth Wright", "elizabeth wright", true},
		{" Elizabeth\tWright ", "Elizabeth Wright", "elizabeth wright", true},
		{"Elizabeth\u3000Wright", "Elizabeth Wright", "elizabeth wright", true},
		{"Mary Ann van der Berg", "Mary Ann van der Berg", "mary ann van der berg", false},
		{"Иван Петров", "Иван Петров", "иван петров", false},
		{"Louis 14", "Louis 14", "louis 14", false},
		{"王 伟", "王伟", "wang wei", true},
		{"王  伟", "王伟", "wang wei", true},
		{"Wang 伟", "Wang伟", "wang wei", true},
		{"J. K. Rowling", "J.K.Rowling", "j.k.rowling", true},
	}
	for _, c := range cases {
		n := ParseName(c.raw)
		if n.Std != c.std || n.Pinyin != c.pinyin {
			t.Errorf("ParseName(%q) = Std %q Pinyin %q; want %q %q", c.raw, n.Std, n.Pinyin, c.std, c.pinyin)
		}
		if got := slices.Contains(n.Flags, NameSpaces); got != c.spacesFlag {
			t.Errorf("ParseName(%q).Flags = %v; spaces flag want %v", c.raw, n.Flags, c.spacesFlag)
		}
		if again := ParseName(n.Std); again.Std != n.Std || slices.Contains(again.Flags, NameSpaces) {
			t.Errorf("ParseName(%q) = %q is not stable: %+v", c.raw, n.Std, again)
		}
	}
}

func TestParseNameSurnames(t *testing.T) {
	tests := []struct {
		raw, surname, given, pinyin string
	}{
		{"欧阳娜娜", "欧阳", "娜娜", "ou yang na na"},
		{"歐陽娜娜", "欧阳", "娜娜", "ou yang na na"},
		{"司马光", "司马", "光", "si ma guang"},
		{"诸葛亮", "诸葛", "亮", "zhu ge liang"},
		{"尉迟恭", "尉迟", "恭", "yu chi gong"},
		{"长孙无忌", "长孙", "无忌", "zhang sun wu ji"},
		{"万俟丑", "万俟", "丑", "mo qi chou"},
		{"欧阳", "欧", "阳", "ou yang"}, // two characters: a single surname and a given name
		{"单雄信", "单", "雄信", "shan xiong xin"},
		{"曾国藩", "曾", "国藩", "zeng guo fan"},
		{"区志强", "区", "志强", "ou zhi qiang"},
		{"仇英", "仇", "英", "qiu ying"},
		{"解缙", "解", "缙", "xie jin"},
		{"朴槿惠", "朴", "槿惠", "piao jin hui"},
		{"查良镛", "查", "良镛", "zha liang yong"},
		{"盖聂", "盖", "聂", "ge nie"},
		{"乐毅", "乐", "毅", "yue yi"},
		{"覃雪梅", "覃", "雪梅", "qin xue mei"},
		{"翟志刚", "翟", "志刚", "zhai zhi gang"},
		{"缪斯", "缪", "斯", "miao si"},
		{"华罗庚", "华", "罗庚", "hua luo geng"},
		{"任正非", "任", "正非", "ren zheng fei"},
		{"种师道", "种", "师道", "chong shi dao"},
		{"张", "张", "", "zhang"},
		{"吕布", "吕", "布", "lv bu"},
	}
	for _, tt := range tests {
		n := ParseName(tt.raw)
		if n.Surname != tt.surname || n.Given != tt.given || n.Pinyin != tt.pinyin {
			t.Errorf("ParseName(%q) = surname %q given %q pinyin %q; want %q %q %q",
				tt.raw, n.Surname, n.Given, n.Pinyin, tt.surname, tt.given, tt.pinyin)
		}
		if n.Surname+n.Given != n.NoDot {
			t.Errorf("ParseName(%q): Surname+Given %q != NoDot %q", tt.raw, n.Surname+n.Given, n.NoDot)
		}
	}
	// The surname reading applies to the surname only; the given name keeps the default.
	if n := ParseName("王单"); n.Pinyin != "wang dan" {
		t.Errorf("ParseName(王单).Pinyin = %q, want wang dan", n.Pinyin)
	}
}

func TestParseNameFullwidthAndNonHan(t *testing.T) {
	n := ParseName("ＺＨＡＮＧ　Ｗｅｉ")
	if n.Std != "ZHANG Wei" || n.Pinyin != "zhang wei" {
		t.Errorf("Std, Pinyin = %q, %q", n.Std, n.Pinyin)
	}
	if n.Surname != "" || n.Given != "" {
		t.Errorf("Surname, Given = %q, %q; want empty for a non-Han name", n.Surname, n.Given)
	}
	if !slices.Equal(n.Flags, []string{NameSpaces, NameFullwidth, NameNonHan}) {
		t.Errorf("Flags = %v", n.Flags)
	}
	n = ParseName("张Ａ三")
	if n.Std != "张A三" || n.Pinyin != "zhang a san" || n.Surname != "张" || n.Given != "A三" {
		t.Errorf("mixed: %+v", n)
	}
	if !slices.Equal(n.Flags, []string{NameFullwidth, NameNonHan}) {
		t.Errorf("mixed Flags = %v", n.Flags)
	}
	// A compatibility ideograph is folded by NFKC (U+F9A8 → 令).
	if n := ParseName("\uF9A8狐冲"); n.Std != "令狐冲" || n.Surname != "令狐" {
		t.Errorf("compatibility ideograph: %+v", n)
	}
}

func TestParseNameUnknownReading(t *testing.T) {
	// A Han character go-pinyin has no reading for stands for itself in the key.
	const r = '\U0002A6D7' // an Extension B ideograph
	if _, ok := pinyinKnown(r); ok {
		t.Skipf("go-pinyin knows %c", r)
	}
	n := ParseName("张" + string(r))
	if n.Pinyin != "zhang "+string(r) {
		t.Errorf("Pinyin = %q", n.Pinyin)
	}
}

func pinyinKnown(r rune) (string, bool) {
	py := namePinyin(string(r), "")
	return py, py != string(r)
}

func TestParseNameEmpty(t *testing.T) {
	for _, raw := range []string{"", "   ", "·", "\xff"} {
		n := ParseName(raw)
		if n.Std != "" || n.NoDot != "" || n.Pinyin != "" || n.Surname != "" || n.Given != "" {
			t.Errorf("ParseName(%q) = %+v, want empty", raw, n)
		}
	}
}

func TestSimplify(t *testing.T) {
	// Pairs checked against Unihan_Variants.txt (Unicode 15.0.0) kSimplifiedVariant.
	tests := map[string]string{
		"國": "国", "龍": "龙", "鄧": "邓", "葉": "叶", "蘇": "苏", "鍾": "钟", "張": "张",
		"劉": "刘", "陳": "陈", "偉": "伟", "歐陽": "欧阳", "東方": "东方", "馬": "马",
		"中華民國": "中华民国", "abc 國 1": "abc 国 1", "": "",
		// 著 and 乾 list themselves among their simplified variants: kept.
		"著": "著", "乾": "乾",
	}
	for in, want := range tests {
		if got := Simplify(in); got != want {
			t.Errorf("Simplify(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestT2SData(t *testing.T) {
	m := t2sTable()
	if t2sCount < 2000 || len(m) != t2sCount {
		t.Fatalf("t2s table has %d pairs (t2sCount %d), want at least 2000", len(m), t2sCount)
	}
	if n := utf8.RuneCountInString(t2sPairs); n != 2*t2sCount {
		t.Fatalf("t2sPairs has %d runes, want %d", n, 2*t2sCount)
	}
	for _, r := range "张王李刘陈杨赵黄周吴国龙叶" {
		if to, ok := m[r]; ok {
			t.Errorf("simplified %c is mapped to %c", r, to)
		}
	}
	var prev rune = -1
	i := 0
	for _, r := range t2sPairs {
		if i%2 == 0 {
			if r <= prev {
				t.Fatalf("t2sPairs not sorted at %c (U+%04X)", r, r)
			}
			prev = r
		}
		i++
	}
	for from, to := range m {
		if _, ok := m[to]; ok {
			t.Errorf("%c → %c, which is itself mapped: the table must be idempotent", from, to)
		}
		if !unicode.Is(unicode.Han, from) || !unicode.Is(unicode.Han, to) {
			t.Errorf("%c → %c: not Han", from, to)
		}
		if s := string(to); norm.NFKC.String(s) != s {
			t.Errorf("%c → %c: the target is not NFKC-stable", from, to)
		}
	}
}

func TestJaroWinkler(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.9611},
		{"dwayne", "duane", 0.84},
		{"dixon", "dicksonx", 0.8133},
		{"张伟", "张伟", 1},
		{"", "", 1},
		{"", "张", 0},
		{"张", "", 0},
		{"abc", "xyz", 0},
		{"a", "a", 1},
		{"张伟", "张韦", 0.7},
		{"阿卜杜热合曼", "阿卜杜·热合曼", 0.9667},
	}
	for _, tt := range tests {
		got := JaroWinkler(tt.a, tt.b)
		if math.Abs(got-tt.want) > 0.0005 {
			t.Errorf("JaroWinkler(%q, %q) = %.4f, want %.4f", tt.a, tt.b, got, tt.want)
		}
		if back := JaroWinkler(tt.b, tt.a); math.Abs(back-got) > 1e-12 {
			t.Errorf("JaroWinkler not symmetric for %q, %q: %v vs %v", tt.a, tt.b, got, back)
		}
	}
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{
		"張偉", "张  三", "阿卜杜•热合曼", "阿卜杜．热合曼", "阿卜杜﹒热合曼", "欧阳娜娜", "ＺＨＡＮＧ　Ｗｅｉ",
		"J.K.Rowling", "Elizabeth  Wright", "王 伟", "买买提•吐尔逊", "Ab \u00a8 c", "·.张", "e \u0301", "a\u00a8\u0301", "\uF9A8狐冲", "\xff\xfe", "张.·三", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		n := ParseName(raw)
		for _, s := range []string{n.Std, n.NoDot, n.Pinyin, n.Surname, n.Given} {
			if !utf8.ValidString(s) {
				t.Fatalf("ParseName(%q): invalid UTF-8 %q", raw, s)
			}
		}
		rs := []rune(n.Std)
		for i, r := range rs {
			if nameIsSpace(r) && (r != ' ' || i == 0 || i == len(rs)-1 || !nameIsWord(rs[i-1]) || !nameIsWord(rs[i+1])) {
				t.Fatalf("ParseName(%q).Std = %q has white space other than single spaces between words", raw, n.Std)
			}
		}
		if strings.ContainsRune(n.NoDot, '·') {
			t.Fatalf("ParseName(%q).NoDot = %q has a dot", raw, n.NoDot)
		}
		if n.Surname != "" && n.Surname+n.Given != n.NoDot {
			t.Fatalf("ParseName(%q): Surname %q + Given %q != NoDot %q", raw, n.Surname, n.Given, n.NoDot)
		}
		if again := ParseName(n.Std); again.Std != n.Std {
			t.Fatalf("not idempotent: ParseName(%q).Std = %q, ParseName(that).Std = %q", raw, n.Std, again.Std)
		}
	})
}
