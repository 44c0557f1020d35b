package standardize

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// The contract's list: the same flat written many ways.
var sameFlat = []string{
	"建邺区兴隆街道梦都大街18号3栋2单元501室",
	"梦都大街18号3幢2-501",
	"兴隆街道梦都大街18-3-2-501",
	"南京市建邺区梦都大街18号3号楼2单元501",
	"梦都大街18号3栋2单元501",
	"江苏省南京市建邺区兴隆街道梦都大街18号3栋2单元501室",
	"梦都大街１８号３栋２单元５０１室",
	"梦都大街１８－３－２－５０１",
}

func TestParseAddressSameFlat(t *testing.T) {
	more := []string{
		"梦都大街18号3栋二单元501室",
		"梦都大街18号三栋二单元五〇一室",
		"梦都大街 18 号 3 栋 2 单元 501 室",
		"梦都大街18号3#2单元501",
		"梦都大街18号3#楼2单元0501室",
		"梦都大街18号第3栋2单元501室",
		"梦都大街18号3楼2单元501",
		"梦都大街18号03栋02单元0501室",
		"梦都大街18号3栋2单元5层501室",
		"梦都大街18号3栋2单元5楼501室",
		"梦都大街18号3栋2单元5层1室",
		"梦都大街18号3-2-501",
		"梦都大街18号3栋2-501室",
		"梦都大街18-3-2-501室",
		"梦都大街18号3栋-2单元-501室",
		"中国江苏省南京市建邺区兴隆街道梦都大街18号3栋2单元501室",
		"江苏南京市建邺区梦都大街18号3栋2单元501室",
		"南京市建邺区兴隆街道梦都社区梦都大街18号3栋2单元501室",
		"210019 南京市建邺区梦都大街18号3栋2单元501室",
		"梦都大街18号3栋2单元501室（出租）",
		"梦都大街18号，3栋，2单元，501室",
		"梦都大街18号3栋2单元501室",
	}
	const want = "梦都大街|18|3|2|501"
	for _, in := range append(slices.Clone(sameFlat), more...) {
		a := ParseAddress(in)
		if a.Key() != want {
			t.Errorf("ParseAddress(%q).Key() = %q (%+v); want %q", in, a.Key(), a, want)
		}
		if a.BuildingKey() != "梦都大街|18|3" {
			t.Errorf("ParseAddress(%q).BuildingKey() = %q", in, a.BuildingKey())
		}
		if a.String() != "梦都大街18号3栋2单元501室" {
			t.Errorf("ParseAddress(%q).String() = %q", in, a.String())
		}
	}
}

func TestParseAddressFields(t *testing.T) {
	cases := []struct {
		in                                               string
		road, number, estate, building, unit, room, rest string
		key                                              string
		flags                                            []string
	}{
		{in: "江苏省南京市建邺区兴隆街道梦都大街18号3栋2单元501室", road: "梦都大街", number: "18", building: "3", unit: "2", room: "501",
			key: "梦都大街|18|3|2|501", flags: []string{AddrPrefixDropped}},
		{in: "梦都大街18号3幢2-501", road: "梦都大街", number: "18", building: "3", unit: "2", room: "501",
			key: "梦都大街|18|3|2|501", flags: []string{AddrDashForm, AddrNoRoomSuffix}},
		{in: "兴隆街道梦都大街18-3-2-501", road: "梦都大街", number: "18", building: "3", unit: "2", room: "501",
			key: "梦都大街|18|3|2|501", flags: []string{AddrPrefixDropped, AddrDashForm, AddrNoRoomSuffix}},
		{in: "梦都大街１８号３栋２单元５０１室", road: "梦都大街", number: "18", building: "3", unit: "2", room: "501",
			key: "梦都大街|18|3|2|501", flags: []string{AddrFullwidth}},
		{in: "梦都大街18号3栋2单元501", road: "梦都大街", number: "18", building: "3", unit: "2", room: "501",
			key: "梦都大街|18|3|2|501", flags: []string{AddrNoRoomSuffix}},
		// 兴隆街道 is a street prefix, 兴隆大街 a road.
		{in: "兴隆大街18号3栋2单元501室", road: "兴隆大街", number: "18", building: "3", unit: "2", room: "501", key: "兴隆大街|18|3|2|501"},
		{in: "建邺区兴隆街道兴隆大街5号", road: "兴隆大街", number: "5", key: "兴隆大街|5|||", flags: []string{AddrPrefixDropped}},
		{in: "18-3-501", key: "", rest: "18-3-501"},
		{in: "梦都大街18-3-501", road: "梦都大街", number: "18", building: "3", room: "501", key: "梦都大街|18|3||501",
			flags: []string{AddrDashForm, AddrNoRoomSuffix}},
		{in: "江东中路100号", road: "江东中路", number: "100", key: "江东中路|100|||"},
		{in: "南京市建邺区江东中路100号", road: "江东中路", number: "100", key: "江东中路|100|||", flags: []string{AddrPrefixDropped}},
		{in: "人民南路二段18号", road: "人民南路二段", number: "18", key: "人民南路二段|18|||"},
		{in: "南锣鼓巷胡同7号", road: "南锣鼓巷胡同", number: "7", key: "南锣鼓巷胡同|7|||"},
		{in: "金陵小区5栋1单元302", estate: "金陵小区", building: "5", unit: "1", room: "302", key: "金陵小区||5|1|302",
			flags: []string{AddrNoRoomSuffix}},
		{in: "南京市鼓楼区金陵小区5栋1单元302室", estate: "金陵小区", building: "5", unit: "1", room: "302", key: "金陵小区||5|1|302",
			flags: []string{AddrPrefixDropped}},
		{in: "锦绣花园东区12幢3单元1101室", estate: "锦绣花园东区", building: "12", unit: "3", room: "1101", key: "锦绣花园东区||12|3|1101"},
		{in: "金陵小区二期5栋302室", estate: "金陵小区2期", building: "5", room: "302", key: "金陵小区2期||5||302"},
		{in: "梦都新村5-302", estate: "梦都新村", building: "5", room: "302", key: "梦都新村||5||302",
			flags: []string{AddrDashForm, AddrNoRoomSuffix}},
		{in: "怡园5栋", estate: "怡园", building: "5", key: "怡园||5||"},
		{in: "金陵小区", estate: "金陵小区", key: "金陵小区||||"},
		{in: "万科城市花园A座1201", estate: "万科城市花园", building: "A", room: "1201", key: "万科城市花园||A||1201",
			flags: []string{AddrNoRoomSuffix}},
		{in: "梦都大街18号金陵小区3栋2单元501室", road: "梦都大街", number: "18", estate: "金陵小区", building: "3", unit: "2", room: "501",
			key: "梦都大街|18|3|2|501"},
		{in: "梦都大街金陵小区3栋2单元501室", road: "梦都大街", estate: "金陵小区", building: "3", unit: "2", room: "501",
			key: "金陵小区||3|2|501"},
		{in: "建国路88号院3号楼2单元501", road: "建国路", number: "88", building: "3", unit: "2", room: "501",
			key: "建国路|88|3|2|501", flags: []string{AddrNoRoomSuffix}},
		{in: "梦都大街18-1号", road: "梦都大街", number: "18-1", key: "梦都大街|18-1|||"},
		{in: "梦都大街18号3楼301室", road: "梦都大街", number: "18", room: "301", key: "梦都大街|18|||301"},
		{in: "梦都大街18号3楼", road: "梦都大街", number: "18", rest: "3楼", key: "梦都大街|18|||"},
		{in: "梦都大街十八号", road: "梦都大街", number: "18", key: "梦都大街|18|||"},
		{in: "梦都大街100", road: "梦都大街", number: "100", key: "梦都大街|100|||"},
		{in: "梦都大街18号501", road: "梦都大街", number: "18", room: "501", key: "梦都大街|18|||501", flags: []string{AddrNoRoomSuffix}},
		{in: "江北新区大道100号", road: "江北新区大道", number: "100", key: "江北新区大道|100|||"},
		{in: "上海市浦东新区世纪大道100号", road: "世纪大道", number: "100", key: "世纪大道|100|||", flags: []string{AddrPrefixDropped}},
		{in: "兴隆社区3栋2单元501室", estate: "兴隆社区", building: "3", unit: "2", room: "501", key: "兴隆社区||3|2|501"},
		{in: "金陵小区3号院5栋", estate: "金陵小区", number: "3", building: "5", key: "金陵小区|3|5||"},
		{in: "梦都大街18号附近", road: "梦都大街", number: "18", rest: "附近", key: "梦都大街|18|||"},
		{in: "梦都大街18号3栋2单元501室（出租）", road: "梦都大街", number: "18", building: "3", unit: "2", room: "501",
			rest: "出租", key: "梦都大街|18|3|2|501"},
		{in: "中山市场路5号", road: "中山市场路", number: "5", key: "中山市场路|5|||"},
		{in: "建邺区老城区路5号", road: "老城区路", number: "5", key: "老城区路|5|||", flags: []string{AddrPrefixDropped}},
		// Roads without a 路/街/巷 suffix (old place names on door plates).
		{in: "吉兆营92-18-4-502", road: "吉兆营", number: "92", building: "18", unit: "4", room: "502", key: "吉兆营|92|18|4|502",
			flags: []string{AddrDashForm, AddrNoRoomSuffix}},
		{in: "兴隆街道吉兆营92-18-4-502室", road: "吉兆营", number: "92", building: "18", unit: "4", room: "502", key: "吉兆营|92|18|4|502",
			flags: []string{AddrPrefixDropped, AddrDashForm}},
		{in: "吉兆营92号18栋4单元502室", road: "吉兆营", number: "92", building: "18", unit: "4", room: "502", key: "吉兆营|92|18|4|502"},
		{in: "吉兆营92号", road: "吉兆营", number: "92", key: "吉兆营|92|||"},
		{in: "东方明珠A3栋", estate: "东方明珠", building: "A3", key: "东方明珠||A3||"},
		{in: "梦都A区3号", estate: "梦都A区", building: "3", key: "梦都A区||3||"},
		// An estate written like a road: its number first.
		{in: "七家湾33-7-3-1104", estate: "七家湾", number: "33", building: "7", unit: "3", room: "1104", key: "七家湾|33|7|3|1104",
			flags: []string{AddrDashForm, AddrNoRoomSuffix}},
		{in: "七家湾33号7栋3单元1104室", estate: "七家湾", number: "33", building: "7", unit: "3", room: "1104", key: "七家湾|33|7|3|1104"},
		{in: "梦都新村5-3-302", estate: "梦都新村", building: "5", unit: "3", room: "302", key: "梦都新村||5|3|302",
			flags: []string{AddrDashForm, AddrNoRoomSuffix}},
		{in: "不详", rest: "不详"},
		{in: "", rest: ""},
		{in: "无固定住所", rest: "无固定住所"},
		{in: "南京市建邺区", rest: "南京市建邺区"},
		{in: "同上", rest: "同上"},
		{in: "null", rest: "NULL"},
	}
	for _, c := range cases {
		a := ParseAddress(c.in)
		got := [7]string{a.Road, a.Number, a.Estate, a.Building, a.Unit, a.Room, a.Rest}
		want := [7]string{c.road, c.number, c.estate, c.building, c.unit, c.room, c.rest}
		if got != want {
			t.Errorf("ParseAddress(%q) = %q; want %q", c.in, got, want)
		}
		if a.Key() != c.key {
			t.Errorf("ParseAddress(%q).Key() = %q; want %q", c.in, a.Key(), c.key)
		}
		if !slices.Equal(a.Flags, c.flags) {
			t.Errorf("ParseAddress(%q).Flags = %q; want %q", c.in, a.Flags, c.flags)
		}
	}
}

// A flat on a road without suffix, and on an estate written like a road, is one key however
// it is written (the simulator's address styles).
func TestParseAddressBareRoadSameFlat(t *testing.T) {
	for name, want := range map[string]string{"吉兆营": "吉兆营|92|18|4|502", "南湖东": "南湖东|92|18|4|502", "七家湾": "七家湾|92|18|4|502"} {
		for _, form := range []string{
			"建邺区兴隆街道%s92号18栋4单元502室", "%s92号18幢4-502", "兴隆街道%s92-18-4-502", "南京市建邺区%s92号18号楼4单元502",
			"%s92号18栋4单元502", "江苏省南京市建邺区兴隆街道%s92号18栋4单元502室", "%s９２－１８－４－５０２",
		} {
			in := strings.Replace(form, "%s", name, 1)
			if got := ParseAddress(in).Key(); got != want {
				t.Errorf("ParseAddress(%q).Key() = %q; want %q", in, got, want)
			}
			checkAddress(t, in)
		}
	}
}

func TestParseAddressGarbage(t *testing.T) {
	for _, in := range []string{"不详", "", "无固定住所", "  ", "-", "18号3栋", "暂无", "N/A", "南京市", "？？？"} {
		a := ParseAddress(in)
		if a.Key() != "" || a.BuildingKey() != "" {
			t.Errorf("ParseAddress(%q).Key() = %q, BuildingKey %q; want empty", in, a.Key(), a.BuildingKey())
		}
		if a.String() != a.Rest {
			t.Errorf("ParseAddress(%q).String() = %q; want Rest %q", in, a.String(), a.Rest)
		}
	}
}

func TestAddressString(t *testing.T) {
	cases := []struct {
		a    Address
		want string
	}{
		{Address{Road: "梦都大街", Number: "18", Building: "3", Unit: "2", Room: "501"}, "梦都大街18号3栋2单元501室"},
		{Address{Estate: "金陵小区", Building: "5", Unit: "1", Room: "302"}, "金陵小区5栋1单元302室"},
		{Address{Estate: "金陵小区", Number: "3", Building: "5"}, "金陵小区3号院5栋"},
		{Address{Road: "梦都大街", Number: "18", Estate: "金陵小区", Building: "3"}, "梦都大街18号金陵小区3栋"},
		{Address{Road: "江东中路", Number: "100"}, "江东中路100号"},
		{Address{Rest: "不详"}, "不详"},
	}
	for _, c := range cases {
		if got := c.a.String(); got != c.want {
			t.Errorf("%+v.String() = %q; want %q", c.a, got, c.want)
		}
		b := ParseAddress(c.want)
		if b.Key() != c.a.Key() || b.String() != c.want {
			t.Errorf("ParseAddress(%q) = %+v, Key %q; want Key %q", c.want, b, b.Key(), c.a.Key())
		}
	}
}

func checkAddress(t *testing.T, in string) {
	a := ParseAddress(in)
	for _, s := range []string{a.Road, a.Number, a.Estate, a.Building, a.Unit, a.Room, a.Rest, a.Key(), a.BuildingKey(), a.String()} {
		if !utf8.ValidString(s) {
			t.Fatalf("ParseAddress(%q): invalid UTF-8 %q in %+v", in, s, a)
		}
	}
	for _, f := range a.Flags {
		switch f {
		case AddrPrefixDropped, AddrFullwidth, AddrDashForm, AddrNoRoomSuffix:
		default:
			t.Fatalf("ParseAddress(%q): unknown flag %q", in, f)
		}
	}
	key := a.Key()
	if key == "" {
		if a.Road != "" || a.Estate != "" || a.BuildingKey() != "" {
			t.Fatalf("ParseAddress(%q) = %+v: empty key with road or estate", in, a)
		}
		if b := ParseAddress(a.String()); b.Key() != "" || b.String() != a.String() {
			t.Fatalf("ParseAddress(%q) = %+v; reparsed %+v", in, a, b)
		}
		return
	}
	if strings.Count(key, "|") != 4 || strings.Count(a.BuildingKey(), "|") != 2 {
		t.Fatalf("ParseAddress(%q): key %q, building key %q", in, key, a.BuildingKey())
	}
	if !strings.HasPrefix(key, a.BuildingKey()+"|") {
		t.Fatalf("ParseAddress(%q): key %q does not extend building key %q", in, key, a.BuildingKey())
	}
	canon := a.String()
	b := ParseAddress(canon)
	if b.Key() != key || b.String() != canon || b.Rest != "" || b.Road != a.Road || b.Estate != a.Estate {
		t.Fatalf("ParseAddress(%q) = %+v (key %q) renders %q, which parses to %+v (key %q)", in, a, key, canon, b, b.Key())
	}
}

func TestParseAddressInvariants(t *testing.T) {
	for _, in := range addrSeeds() {
		checkAddress(t, in)
	}
}

func addrSeeds() []string {
	return append(slices.Clone(sameFlat),
		"金陵小区5栋1单元302", "江东中路100号", "不详", "", "无固定住所", "梦都大街18号金陵小区2期3栋", "梦都大街18号,楼外楼3栋",
		"梦都大街金陵一号花园18号3栋", "锦绣5层", "梦都大街锦绣18号", "东方明珠18号", "东方明珠A3栋", "金陵小区A,3栋",
		"梦都大街18号3楼", "吉兆营92-18-4-502", "七家湾33-7-3-1104", "吉兆营92号", "\xff\xfe梦都大街", "梦都大街|18号|3栋", "兴隆社区3栋2单元501", "3栋梦都大街", "梦都大街十八号", "A!#00", "A!号000")
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range addrSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkAddress(t, in)
	})
}

// addrPieces are the building blocks of the generated addresses in TestParseAddressGenerated.
var addrPieces = []string{"江苏省", "南京市", "建邺区", "兴隆街道", "梦都社区", "居委会", "梦都大街", "兴隆大街", "江东中路", "路", "街", "道",
	"大道", "胡同", "里", "金陵小区", "花园", "小区", "新村", "苑", "园", "东区", "锦绣", "A", "B", "楼外楼", "一号", "三", "十", "二十",
	"五〇一", "第", "期", "18", "3", "2", "501", "0", "007", "1203", "号", "号楼", "号院", "栋", "幢", "座", "楼", "单元", "层", "室",
	"#", "-", "－", "１８", " ", ",", "（", "）", "|", "不详", "市", "区", "县", "镇", "市场", "城市", "院", "段"}

func TestParseAddressGenerated(t *testing.T) {
	state := uint64(1)
	next := func(n int) int { // xorshift: deterministic, no math/rand seeding
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		return int(state % uint64(n))
	}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for range n {
		var b strings.Builder
		for range 1 + next(10) {
			b.WriteString(addrPieces[next(len(addrPieces))])
		}
		checkAddress(t, b.String())
	}
}
