package deptsim

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The simulated street: 兴隆街道 of 南京市建邺区 (region code 320105).
const (
	province     = "江苏省"
	city         = "南京市"
	district     = "建邺区"
	districtCode = "320105"
	streetName   = "兴隆街道"
	streetCode   = "320105004" // district + 3-digit street
)

// birthRegions are real GB/T 2260 codes: where locals and migrants were born (the ID's first six digits).
var (
	localRegions   = []string{"320105", "320105", "320105", "320102", "320104", "320106", "320111", "320113", "320114", "320115"}
	migrantRegions = []string{"340102", "340104", "341202", "341502", "410102", "410105", "411302", "420102", "430102", "510104",
		"370102", "320303", "321002", "320583", "360102", "350102", "130102", "230102", "500101", "520102"}
	// migrantHukou are the registered addresses that go with migrantRegions, index for index.
	migrantHukou = []string{"安徽省合肥市瑶海区", "安徽省合肥市蜀山区", "安徽省阜阳市颍州区", "安徽省六安市金安区", "河南省郑州市中原区",
		"河南省郑州市金水区", "河南省南阳市宛城区", "湖北省武汉市江岸区", "湖南省长沙市芙蓉区", "四川省成都市锦江区",
		"山东省济南市历下区", "江苏省徐州市云龙区", "江苏省扬州市广陵区", "江苏省昆山市", "江西省南昌市东湖区",
		"福建省福州市鼓楼区", "河北省石家庄市长安区", "黑龙江省哈尔滨市道里区", "重庆市万州区", "贵州省贵阳市南明区"}
)

var communityNames = []string{"梦都", "奥体", "贤坤", "奥南", "碧瑶", "新城", "双和", "莲花", "怡康", "嘉陵", "云锦", "金穗", "富春", "庐山", "清江", "滨江"}
var roadNames = []string{"梦都大街", "江东中路", "奥体大街", "嘉陵江东街", "乐山路", "庐山路", "兴隆大街", "云龙山路", "白龙江东街",
	"楠溪江东街", "富春江东街", "黄山路", "泰山路", "恒山路", "衡山路", "燕山路", "金沙江东街", "雨润大街", "康文路", "贤坤路"}

// laneNames are door-plate names of old lanes and estates that carry no 路/街/巷 suffix; every
// community has one of them among its roads (吉兆营92号18栋…, typed 吉兆营92-18-4-502).
var laneNames = []string{"吉兆营", "螺丝营", "茶亭东", "江东门", "沙洲圩", "南湖东", "七家湾", "菜市口"}

// bareRoad reports whether a road's name has no road suffix (路, 街, 巷, 大街 …).
func bareRoad(road string) bool {
	for _, suf := range []string{"路", "街", "巷", "道"} {
		if strings.HasSuffix(road, suf) {
			return false
		}
	}
	return true
}

// Community is one 社区 with its grids and the roads its flats are on.
type Community struct {
	Index int
	Name  string // e.g. 梦都社区
	Code  string // street code + 3 digits
	Roads []string
	Grids []string // grid codes: community code + 3 digits
}

func makeCommunities(r *rand.Rand, n, gridsPer int) []Community {
	cs := make([]Community, n)
	for i := range cs {
		name := communityNames[i%len(communityNames)]
		if i >= len(communityNames) {
			name += fmt.Sprintf("%d", i/len(communityNames)+1)
		}
		c := Community{Index: i, Name: name + "社区", Code: fmt.Sprintf("%s%03d", streetCode, i+1)}
		for k := 0; k < 3; k++ {
			c.Roads = append(c.Roads, roadNames[(i*3+k+r.IntN(2))%len(roadNames)])
		}
		c.Roads = append(c.Roads, laneNames[i%len(laneNames)])
		for g := 0; g < gridsPer; g++ {
			c.Grids = append(c.Grids, fmt.Sprintf("%s%03d", c.Code, g+1))
		}
		cs[i] = c
	}
	return cs
}

// Address is one flat: road and house number (one estate), building, unit and room.
type Address struct {
	Road     string
	Number   int
	Building int
	Unit     int
	Room     int // floor*100 + door, e.g. 501
}

// Canonical is the clean short form: 梦都大街18号3栋2单元501室.
func (a Address) Canonical() string {
	return fmt.Sprintf("%s%d号%d栋%d单元%d室", a.Road, a.Number, a.Building, a.Unit, a.Room)
}

// Full prefixes the canonical form with province, city, district and street.
func (a Address) Full() string {
	return province + city + district + streetName + a.Canonical()
}

// Key identifies the flat, whatever way it is written.
func (a Address) Key() string {
	return fmt.Sprintf("%s|%d|%d|%d|%d", a.Road, a.Number, a.Building, a.Unit, a.Room)
}

// addressStyles are the ways clerks write the same flat (see the contract's common quirks).
var addressStyles = []func(a Address) string{
	func(a Address) string { return district + streetName + a.Canonical() },
	func(a Address) string {
		return fmt.Sprintf("%s%d号%d幢%d-%d", a.Road, a.Number, a.Building, a.Unit, a.Room)
	},
	func(a Address) string {
		return fmt.Sprintf("%s%s%d-%d-%d-%d", streetName, a.Road, a.Number, a.Building, a.Unit, a.Room)
	},
	func(a Address) string {
		return fmt.Sprintf("%s%s%s%d号%d号楼%d单元%d", city, district, a.Road, a.Number, a.Building, a.Unit, a.Room)
	},
	func(a Address) string {
		return fmt.Sprintf("%s%d号%d栋%d单元%d", a.Road, a.Number, a.Building, a.Unit, a.Room)
	},
	func(a Address) string { return a.Full() },
}

// fullWidthDigits rewrites ASCII digits and '-' as their full-width forms (１８号).
func fullWidthDigits(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c - '0' + '０')
		case c == '-':
			b.WriteRune('－')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// flatAllocator hands out distinct flats in a community.
// An estate (road and house number) belongs to one community, so an address alone tells the community.
type flatAllocator struct {
	used   map[string]bool
	estate map[string]int // road|number -> community index
}

func (fa *flatAllocator) next(r *rand.Rand, c *Community) Address {
	for {
		a := Address{
			Road:     c.Roads[r.IntN(len(c.Roads))],
			Number:   1 + r.IntN(120),
			Building: 1 + r.IntN(24),
			Unit:     1 + r.IntN(4),
			Room:     (1+r.IntN(18))*100 + 1 + r.IntN(4),
		}
		ek := fmt.Sprintf("%s|%d", a.Road, a.Number)
		if owner, ok := fa.estate[ek]; ok && owner != c.Index {
			continue
		}
		if !fa.used[a.Key()] {
			fa.estate[ek] = c.Index
			fa.used[a.Key()] = true
			return a
		}
	}
}
