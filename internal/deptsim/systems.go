package deptsim

import (
	"fmt"
	"strings"
	"time"
)

// System describes one simulated departmental system and how it is reached.
type System struct {
	No     int
	Name   string // short name used in files, configs and the truth
	Title  string // 户籍人口管理系统 …
	Access string // postgres, mysql, http, csv, xlsx
}

// Systems lists the twelve systems and the ledgers, in the contract's order.
var Systems = []System{
	{1, "hj", "户籍人口管理系统", "postgres"},
	{2, "floating", "流动人口管理系统", "http"},
	{3, "relief", "社会救助系统", "mysql"},
	{4, "elderly", "养老服务系统", "http"},
	{5, "disabled", "残疾人信息管理系统", "csv"},
	{6, "employment", "就业失业登记系统", "mysql"},
	{7, "insurance", "城乡居民医保参保系统", "postgres"},
	{8, "health", "生育登记与家庭医生签约系统", "xlsx"},
	{9, "veterans", "退役军人信息采集系统", "xlsx"},
	{10, "volunteers", "志愿服务系统", "http"},
	{11, "party", "党员信息管理系统", "csv"},
	{12, "grid", "网格化社会治理平台", "csv"},
	{0, "ledger", "社区台账", "xlsx"},
}

// updateTime draws a last-update timestamp: recent for people whose life changed, older otherwise.
func (rd *renderer) updateTime(p *Person) time.Time {
	asOf := rd.pop.AsOf
	var t time.Time
	switch {
	case p.Status != Active:
		t = p.StatusDate
	case !p.MovedIn.IsZero():
		t = p.MovedIn
	case rd.pop.Age(p) == 0:
		t = p.Birth.AddDate(0, 0, 10)
	default:
		t = asOf.AddDate(-1-rd.q.r.IntN(8), 0, -rd.q.r.IntN(365))
	}
	t = t.Add(time.Duration(8*3600+rd.q.r.IntN(10*3600)) * time.Second)
	if t.After(asOf) {
		t = asOf.Add(-time.Hour)
	}
	return t
}

var relText = map[string][]string{"01": {"本人", "户主"}, "02": {"妻", "丈夫", "配偶"}, "20": {"儿子", "子", "长子"}, "30": {"女儿", "女", "长女"}, "50": {"父亲", "母亲"}}

// renderHJ: system 1, PostgreSQL schema hj. The authority: valid IDs (some legacy 15-digit).
func (rd *renderer) renderHJ() []*Table {
	person := &Table{System: "hj", Name: "person", KeyCol: 0, Cols: []Col{{"公民身份号码", Text}, {"姓名", Text}, {"性别", Text}, {"民族", Text},
		{"出生日期", Date}, {"户号", Text}, {"与户主关系", Text}, {"户籍地址", Text}, {"居住地址", Text}, {"人员状态", Text}, {"状态变更日期", Date}, {"gxsj", Timestamp}}}
	hh := &Table{System: "hj", Name: "household", KeyCol: 0, Cols: []Col{{"户号", Text}, {"户主身份号码", Text}, {"户籍地址", Text}, {"户别", Text}, {"gxsj", Timestamp}}}
	for hi := range rd.pop.Households {
		h := &rd.pop.Households[hi]
		if h.Residence != Hukou {
			continue
		}
		var head *Person
		var latest time.Time
		for _, m := range h.Members {
			p := rd.person(m)
			if head == nil && p.Relation == "01" {
				head = p
			}
			id := rd.idText("公民身份号码", p, true)
			addr := rd.addrOf("居住地址", p)
			var changed any
			if p.Status != Active {
				changed = p.StatusDate
			}
			gx := rd.updateTime(p)
			if gx.After(latest) {
				latest = gx
			}
			relation := p.Relation
			rd.add(person, []any{id, p.Name, fmt.Sprint(p.Sex), p.Ethnicity, p.Birth, h.HuHao, relation, h.Addr.Full(), addr,
				fmt.Sprint(int(p.Status)), changed, gx}, id, resident(p))
		}
		if head == nil {
			head = rd.person(h.Members[0])
		}
		rd.add(hh, []any{h.HuHao, head.IDNo, h.Addr.Full(), h.Kind, latest}, h.HuHao, Role{"householder", head.TID})
	}
	return []*Table{person, hh}
}

// renderFloating: system 2, HTTP API items (JSON objects as ordered key/value pairs).
func (rd *renderer) renderFloating() []*Table {
	t := &Table{System: "floating", Name: "residents", KeyCol: 5, Cols: []Col{{"idCard", Text}, {"name", Text}, {"gender", Text}, {"birthday", Text},
		{"hukouAddress", Text}, {"permitNo", Text}, {"currentAddress", Text}, {"registeredAt", Text}, {"phone", Text}, {"status", Text}}}
	seq := 0
	emit := func(p *Person, withID bool) {
		seq++
		status := "有效"
		if !rd.present(p) {
			if p.Status == Dead {
				return
			}
			status = "注销"
		}
		id := rd.idText("idCard", p, withID)
		name := rd.nameOf("name", p)
		sex := sexLabel(rd.sexOf("gender", p))
		birth := rd.birthOf("birthday", p, fmtISO, false)
		addr := rd.addrOf("currentAddress", p)
		phone := rd.phoneOf("phone", p)
		hukou := ""
		for i, code := range migrantRegions {
			if strings.HasPrefix(p.IDNo, code) {
				hukou = migrantHukou[i]
			}
		}
		reg := rd.pop.AsOf.AddDate(0, 0, -30-rd.q.r.IntN(2000))
		upd := reg
		if p.Status != Active {
			upd = p.StatusDate
		}
		upd = upd.Add(time.Duration(rd.q.r.IntN(86400)) * time.Second)
		permit := fmt.Sprintf("%s%02d%07d", districtCode, reg.Year()%100, seq)
		rd.add(t, []any{id, name, sex, birth, hukou, permit, addr, reg.Format(fmtISO), phone, status}, permit, resident(p))
		t.Recs[len(t.Recs)-1].Updated = upd // the API's own column: filtered on, never served
	}
	for i := range rd.pop.People {
		p := rd.person(i)
		if p.Residence != Floating {
			continue
		}
		rd.twice(p, func(withID bool) { emit(p, withID) })
	}
	return []*Table{t}
}

// renderRelief: system 3, MySQL jz_family and jz_member.
func (rd *renderer) renderRelief() []*Table {
	fam := &Table{System: "relief", Name: "jz_family", KeyCol: 0, Cols: []Col{{"family_id", Int}, {"户主姓名", Text}, {"户主身份证", Text}, {"家庭地址", Text},
		{"保障类型", Text}, {"保障人口数", Int}, {"月保障金额", Decimal}, {"起始年月", Text}, {"状态", Text}, {"update_time", Timestamp}}}
	// jz_member has no member id of its own (the contract lists none): a member is family_id,
	// 姓名 and 与户主关系 (a father and son of one name differ in the relation), see hub.toml.tmpl.
	mem := &Table{System: "relief", Name: "jz_member", KeyCol: -1, Cols: []Col{{"family_id", Int}, {"姓名", Text}, {"身份证", Text}, {"与户主关系", Text}, {"是否残疾", Text}}}
	famID := 100000
	for hi := range rd.pop.Households {
		h := &rd.pop.Households[hi]
		if h.Relief == nil {
			continue
		}
		famID++
		head := rd.person(h.Members[0])
		for _, m := range h.Members {
			if rd.person(m).Relation == "01" {
				head = rd.person(m)
			}
		}
		status := "停保"
		if h.Relief.Active {
			status = "在保"
			if head.Status != Active && !rd.present(head) {
				status = "停保"
			}
		}
		hid := rd.idText("户主身份证", head, true)
		hname := rd.nameOf("户主姓名", head)
		addr := rd.addrOf("家庭地址", head)
		upd := rd.updateTime(head)
		if h.Relief.Since.After(upd) {
			upd = h.Relief.Since.Add(9 * time.Hour)
		}
		key := fmt.Sprint(famID)
		rd.add(fam, []any{int64(famID), hname, hid, addr, h.Relief.Type, int64(h.Relief.FamilyN), h.Relief.Amount, h.Relief.Since.Format("2006-01"), status, upd}, key, Role{"householder", head.TID})
		for _, m := range h.Members {
			p := rd.person(m)
			if p.Status != Active && !rd.present(p) {
				continue
			}
			emit := func(withID bool) {
				id := rd.kinID("身份证", p, p.Idx != head.Idx, withID)
				name := rd.nameOf("姓名", p)
				rels := relText[p.Relation]
				if p.Idx == head.Idx {
					rels = relText["01"]
				}
				rel := rels[rd.q.r.IntN(len(rels))]
				dis := "否"
				if p.Disability != nil {
					dis = "是"
				}
				rd.add(mem, []any{int64(famID), name, id, rel, dis}, sqlKey(famID, name, rel), resident(p))
			}
			rd.twice(p, emit)
		}
	}
	return []*Table{fam, mem}
}

var serviceTypes = []string{"助餐", "助洁", "助浴", "助医", "助急", "精神慰藉", "日间照料"}

// renderElderly: system 4, HTTP API items (pinyin-initial field names).
func (rd *renderer) renderElderly() []*Table {
	t := &Table{System: "elderly", Name: "elders", KeyCol: -1, Cols: []Col{{"xm", Text}, {"sfzh", Text}, {"csrq", Text}, {"lxdh", Text}, {"jzdz", Text}, {"gljt", Text}, {"dj", Text}, {"fwlx", Text}}}
	for i := range rd.pop.People {
		p := rd.person(i)
		if !p.ElderCare || p.Residence == Foreign || !rd.present(p) {
			continue
		}
		emit := func(withID bool) {
			name := rd.nameOf("xm", p)
			id := rd.idText("sfzh", p, withID)
			birth := rd.birthOf("csrq", p, fmtCompact, false)
			phone := rd.phoneOf("lxdh", p)
			addr := rd.addrOf("jzdz", p)
			band := ""
			switch age := rd.pop.Age(p); {
			case age >= 100:
				band = "百岁以上"
			case age >= 90:
				band = "90-99周岁"
			case age >= 80:
				band = "80-89周岁"
			}
			var services []string
			for _, s := range serviceTypes {
				if rd.q.r.Float64() < 0.25 {
					services = append(services, s)
				}
			}
			rd.add(t, []any{name, id, birth, phone, addr, band, rd.pop.Alone(p) || (p.Status != Active && len(rd.hh(p).Members) == 1), services}, "", resident(p))
		}
		rd.twice(p, emit)
	}
	return []*Table{t}
}

var disCategory = [...]string{"", "视力", "听力", "言语", "肢体", "智力", "精神", "多重"}
var gradeText = [...]string{"", "一级", "二级", "三级", "四级"}

// renderDisabled: system 5, a GBK CSV export.
func (rd *renderer) renderDisabled() []*Table {
	t := &Table{System: "disabled", Name: "残疾人信息", KeyCol: -1, Cols: []Col{{"残疾证号", Text}, {"姓名", Text}, {"性别", Text}, {"残疾类别", Text}, {"残疾等级", Text},
		{"监护人姓名", Text}, {"监护人电话", Text}, {"现住址", Text}, {"发证日期", Text}, {"两项补贴", Text}}}
	for i := range rd.pop.People {
		p := rd.person(i)
		if p.Disability == nil || !rd.present(p) {
			continue
		}
		dd := p.Disability
		emit := func() {
			cert := rd.idText("残疾证号", p, true) + fmt.Sprintf("%d%d", dd.Category, dd.Grade)
			if strings.TrimSpace(cert) == cert[len(cert)-2:] {
				cert = "" // an empty ID gives an empty certificate number
			} else if len([]rune(cert)) == 20 && rd.q.hit(CertSpaces) {
				cert = []string{" " + cert, cert + "  ", " " + cert + " "}[rd.q.r.IntN(3)]
			}
			name := rd.nameOf("姓名", p)
			guardian, gphone := "", ""
			if rd.pop.Age(p) < 18 || dd.Category == 5 || dd.Category == 6 {
				for _, m := range rd.hh(p).Members {
					if o := rd.person(m); o.Idx != p.Idx && rd.pop.Age(o) >= 18 {
						guardian, gphone = o.Name, o.Phone
						break
					}
				}
			}
			if gphone == "" {
				gphone = rd.phoneOf("监护人电话", p)
			}
			addr := rd.addrOf("现住址", p)
			issued := rd.dateOf("发证日期", dd.Issued, fmtISO, false).(string)
			var sub []string
			if rd.hh(p).Relief != nil || rd.q.r.Float64() < 0.15 {
				sub = append(sub, "困难生活补贴")
			}
			if dd.Grade <= 2 {
				sub = append(sub, "重度护理补贴")
			}
			sex := sexLabel(rd.sexOf("性别", p))
			rd.add(t, []any{cert, name, sex, disCategory[dd.Category], gradeText[dd.Grade], guardian, gphone, addr, issued, strings.Join(sub, "、")}, cert, resident(p))
		}
		rd.twice(p, func(bool) { emit() }) // the certificate number is the key: a duplicate keeps it
	}
	return []*Table{t}
}

var education = []string{"小学", "初中", "高中", "中专", "大专", "本科", "硕士研究生"}

// renderEmployment: system 6, MySQL jy_register.
func (rd *renderer) renderEmployment() []*Table {
	// jy_register has no row id of its own (the contract lists none): a registration is
	// 身份证号码, 姓名 and 登记日期 (one made without an ID has only the other two), see hub.toml.tmpl.
	t := &Table{System: "employment", Name: "jy_register", KeyCol: -1, Cols: []Col{{"身份证号码", Text}, {"姓名", Text}, {"性别", Text}, {"出生日期", Text},
		{"文化程度", Text}, {"就业状态", Text}, {"登记日期", Date}, {"就业困难人员类别", Text}, {"联系电话", Text}, {"居住地址", Text}, {"xgsj", Timestamp}}}
	for i := range rd.pop.People {
		p := rd.person(i)
		if p.Employment == "" || !rd.present(p) {
			continue
		}
		emit := func(withID bool) {
			idno := rd.idText("身份证号码", p, withID)
			name := rd.nameOf("姓名", p)
			sex := sexLabel(rd.sexOf("性别", p))
			birth := rd.birthOf("出生日期", p, fmtISO, false)
			phone := rd.phoneOf("联系电话", p)
			addr := rd.addrOf("居住地址", p)
			cat := ""
			age := rd.pop.Age(p)
			if p.Employment == "登记失业" {
				switch {
				case p.Disability != nil:
					cat = "残疾人"
				case (p.Sex == 2 && age >= 40) || (p.Sex == 1 && age >= 50):
					if rd.q.r.Float64() < 0.6 {
						cat = "4050人员"
					}
				case rd.hh(p).Relief != nil:
					cat = "零就业家庭"
				}
			}
			reg := rd.pop.AsOf.AddDate(0, 0, -rd.q.r.IntN(1500))
			upd := reg.Add(time.Duration(rd.q.r.IntN(86400*30)) * time.Second)
			if upd.After(rd.pop.AsOf) {
				upd = rd.pop.AsOf.Add(-time.Hour)
			}
			rd.add(t, []any{idno, name, sex, birth, education[rd.q.r.IntN(len(education))], p.Employment, reg, cat, phone, addr, upd}, sqlKey(idno, name, reg.Format(fmtISO)), resident(p))
		}
		rd.twice(p, emit)
	}
	return []*Table{t}
}

// renderInsurance: system 7, PostgreSQL schema yb, table cbry.
func (rd *renderer) renderInsurance() []*Table {
	t := &Table{System: "insurance", Name: "cbry", KeyCol: 0, Cols: []Col{{"个人编号", Text}, {"证件类型", Text}, {"证件号码", Text}, {"姓名", Text}, {"性别", Text},
		{"出生日期", Date}, {"参保类别", Text}, {"参保状态", Text}, {"缴费年度", Int}, {"所属社区", Text}, {"last_modified", Timestamp}}}
	n := 0
	for i := range rd.pop.People {
		p := rd.person(i)
		if !p.Insured {
			continue
		}
		status := []string{"参保缴费", "参保缴费", "参保缴费", "参保缴费", "参保缴费", "参保缴费", "参保缴费", "参保缴费", "暂停", "终止"}[rd.q.r.IntN(10)]
		if p.Status != Active {
			if !rd.present(p) {
				status = "终止"
			} else if status == "终止" {
				status = "暂停" // the stale record planted as an anomaly is still in force
			}
		}
		emit := func(withID bool) {
			n++
			key := fmt.Sprintf("32010%09d", 300000000+n*7)
			id := rd.idText("证件号码", p, withID)
			name := rd.nameOf("姓名", p)
			sex := fmt.Sprint(rd.sexOf("性别", p))
			rd.col("出生日期")
			birth := p.Birth // a DATE column: only a mismatch, no format quirks
			if p.IDNo != "" && rd.q.hit(BirthMismatch) {
				birth = birth.AddDate(0, 0, 1+rd.q.r.IntN(60))
				rd.anomaly("birth_mismatch", p, fmt.Sprintf("birth %s vs ID %s", birth.Format(fmtISO), p.Birth.Format(fmtISO)))
			}
			cat := "城乡居民"
			if age := rd.pop.Age(p); age >= 18 && age < 60 && rd.q.r.Float64() < 0.55 {
				cat = "职工"
			}
			comm := rd.pop.Communities[rd.hh(p).Comm].Name
			switch rd.q.r.IntN(4) {
			case 0:
				comm = strings.TrimSuffix(comm, "社区")
			case 1:
				comm = district + streetName + comm + "居委会"
			}
			rd.add(t, []any{key, "01", id, name, sex, birth, cat, status, int64(rd.pop.AsOf.Year()), comm, rd.updateTime(p)}, key, resident(p))
		}
		rd.twice(p, emit)
	}
	return []*Table{t}
}

var doctors = []string{"王建平", "李秀梅", "陈志刚", "刘慧", "张丽华", "赵明", "周燕", "吴刚"}

// renderHealth: system 8, an xlsx export with one sheet per community. A birth registration row
// names the child, the mother and the father.
func (rd *renderer) renderHealth() []*Table {
	var out []*Table
	for ci := range rd.pop.Communities {
		t := &Table{System: "health", Name: rd.pop.Communities[ci].Name, KeyCol: 0, Cols: []Col{{"档案编号", Text}, {"姓名", Text}, {"身份证号", Text}, {"出生日期", Text},
			{"联系电话", Text}, {"签约医生", Text}, {"签约日期", Text}, {"慢病标签", Text}, {"女方姓名", Text}, {"女方身份证", Text}, {"男方姓名", Text}, {"男方身份证", Text}, {"子女出生日期", Text}, {"生育登记日期", Text}}}
		out = append(out, t)
	}
	n := 0
	for i := range rd.pop.People {
		p := rd.person(i)
		if !(p.Doctor || p.BirthReg) || !rd.present(p) {
			continue
		}
		t := out[rd.hh(p).Comm]
		emit := func(withID bool) {
			n++
			key := fmt.Sprintf("JK%s%07d", districtCode, n)
			name := rd.nameOf("姓名", p)
			id := rd.idOf("身份证号", p, withID, true)
			birth := rd.birthOf("出生日期", p, fmtISO, true)
			phone := rd.phoneOf("联系电话", p)
			vals := []any{key, name, id, birth, phone, nil, nil, strings.Join(p.Chronic, ";"), nil, nil, nil, nil, nil, nil}
			roles := []Role{resident(p)}
			if p.Doctor {
				vals[5] = doctors[rd.q.r.IntN(len(doctors))]
				vals[6] = rd.dateOf("签约日期", rd.pop.AsOf.AddDate(0, 0, -rd.q.r.IntN(1000)), fmtISO, true)
			}
			if p.BirthReg {
				var mother, father *Person
				for _, m := range rd.hh(p).Members {
					o := rd.person(m)
					if o.Relation == "01" || o.Relation == "02" {
						if o.Sex == 2 {
							mother = o
						} else {
							father = o
						}
					}
				}
				roles = append(roles, Role{"mother", ""}, Role{"father", ""})
				if mother != nil {
					vals[8] = rd.nameOf("女方姓名", mother)
					vals[9] = rd.kinIDOf("女方身份证", mother, true, true, true)
					roles[1].Person = mother.TID
				}
				if father != nil {
					vals[10] = rd.nameOf("男方姓名", father)
					vals[11] = rd.kinIDOf("男方身份证", father, true, true, true)
					roles[2].Person = father.TID
				}
				vals[12] = p.Birth
				vals[13] = p.Birth.AddDate(0, 0, 20+rd.q.r.IntN(60))
				if vals[13].(time.Time).After(rd.pop.AsOf) {
					vals[13] = rd.pop.AsOf
				}
			}
			rd.add(t, vals, key, roles...)
		}
		rd.twice(p, emit)
	}
	return out
}

var unitNames = []string{"73011部队", "83201部队", "31666部队", "65521部队", "武警江苏总队", "东海舰队某部", "南京军区某部"}
var youfu = []string{"", "", "", "", "", "", "伤残军人", "带病回乡退伍军人", "参战参试人员", "在乡复员军人"}

// renderVeterans: system 9, an xlsx ledger with a title and a two-row header.
func (rd *renderer) renderVeterans() []*Table {
	t := &Table{System: "veterans", Name: "退役军人信息采集表", KeyCol: -1, Cols: []Col{{"基本信息/姓名", Text}, {"基本信息/性别", Text}, {"基本信息/身份证号", Text},
		{"基本信息/出生年月", Text}, {"服役信息/入伍时间", Text}, {"服役信息/退役时间", Text}, {"服役信息/部队番号", Text}, {"优抚类别", Text}, {"联系方式", Text}}}
	for i := range rd.pop.People {
		p := rd.person(i)
		if !p.Veteran || !rd.present(p) {
			continue
		}
		enlist := p.Birth.AddDate(18+rd.q.r.IntN(3), rd.q.r.IntN(12), 0)
		discharge := enlist.AddDate(2+rd.q.r.IntN(14), rd.q.r.IntN(12), 0)
		if discharge.After(rd.pop.AsOf) {
			discharge = rd.pop.AsOf.AddDate(0, -1, 0)
		}
		emit := func(withID bool) {
			name := rd.nameOf("基本信息/姓名", p)
			sex := sexLabel(rd.sexOf("基本信息/性别", p))
			id := rd.idOf("基本信息/身份证号", p, withID, true)
			birth := rd.birthOf("基本信息/出生年月", p, fmtYM, false)
			en := rd.dateOf("服役信息/入伍时间", enlist, fmtYM, true)
			dis := rd.dateOf("服役信息/退役时间", discharge, fmtYM, true)
			phone := rd.phoneOf("联系方式", p)
			yf := youfu[rd.q.r.IntN(len(youfu))]
			if rd.pop.Age(p) < 60 && yf == "在乡复员军人" {
				yf = ""
			}
			rd.add(t, []any{name, sex, id, birth, en, dis, unitNames[rd.q.r.IntN(len(unitNames))], yf, phone}, "", resident(p))
		}
		rd.twice(p, emit)
	}
	return []*Table{t}
}

var teams = []string{"社区志愿服务队", "青年志愿者协会", "红十字志愿服务队", "文明实践志愿队", "平安巡防队", "助老志愿队"}

// renderVolunteers: system 10, a cursor-paged HTTP API; the ID is always masked.
func (rd *renderer) renderVolunteers() []*Table {
	t := &Table{System: "volunteers", Name: "volunteers", KeyCol: 0, Cols: []Col{{"volunteerNo", Text}, {"realName", Text}, {"mobile", Text}, {"idNoMasked", Text},
		{"registerDate", Text}, {"serviceHours", Decimal}, {"team", Text}}}
	n := 0
	for i := range rd.pop.People {
		p := rd.person(i)
		if !p.Volunteer || !rd.present(p) {
			continue
		}
		emit := func(withID bool) {
			n++
			key := fmt.Sprintf("V%s%08d", districtCode[:4], 10000000+n*3)
			name := rd.nameOf("realName", p)
			phone := rd.phoneOf("mobile", p)
			masked := ""
			if withID && p.IDNo != "" {
				masked = maskID(p.IDNo)
			} else if p.Passport != "" {
				masked = maskID(p.Passport + "0000")
			}
			hours := float64(rd.q.r.IntN(400)) / 2
			reg := rd.pop.AsOf.AddDate(0, 0, -rd.q.r.IntN(3000))
			rd.add(t, []any{key, name, phone, masked, reg.Format(fmtISO), hours, teams[rd.q.r.IntN(len(teams))]}, key, resident(p))
		}
		rd.twice(p, emit)
	}
	return []*Table{t}
}

var partyOrgs = []string{"建邺区机关工委第一党支部", "南京市江东商贸集团党委", "兴隆街道社区党委", "南京某高校计算机学院党总支", "建邺区教育局党委", "江苏某银行南京分行党委", "退休党员党支部"}

// renderParty: system 11, a UTF-8 CSV with a BOM; birth is year and month only.
func (rd *renderer) renderParty() []*Table {
	t := &Table{System: "party", Name: "党员报到", KeyCol: -1, Cols: []Col{{"姓名", Text}, {"性别", Text}, {"出生年月", Text}, {"身份证号", Text}, {"所在党组织", Text},
		{"报到社区", Text}, {"报到日期", Text}, {"手机号码", Text}}}
	for i := range rd.pop.People {
		p := rd.person(i)
		if !p.Party || !rd.present(p) {
			continue
		}
		emit := func(withID bool) {
			name := rd.nameOf("姓名", p)
			sex := sexLabel(rd.sexOf("性别", p))
			birth := rd.birthOf("出生年月", p, fmtYM, false)
			id := rd.idText("身份证号", p, withID)
			phone := rd.phoneOf("手机号码", p)
			rep := rd.pop.AsOf.AddDate(0, 0, -rd.q.r.IntN(1500))
			rd.add(t, []any{name, sex, birth, id, partyOrgs[rd.q.r.IntN(len(partyOrgs))], rd.pop.Communities[rd.hh(p).Comm].Name, rep.Format(fmtISO), phone}, "", resident(p))
		}
		rd.twice(p, emit)
	}
	return []*Table{t}
}

// renderGrid: system 12, one CSV per grid, collected door to door: people actually living there.
func (rd *renderer) renderGrid() []*Table {
	byGrid := map[string]*Table{}
	var out []*Table
	for ci := range rd.pop.Communities {
		for _, g := range rd.pop.Communities[ci].Grids {
			t := &Table{System: "grid", Name: g, KeyCol: -1, Cols: []Col{{"网格编号", Text}, {"姓名", Text}, {"性别", Text}, {"身份证号", Text}, {"手机号", Text},
				{"住址", Text}, {"人员类型", Text}, {"标签", Text}, {"采集日期", Text}}}
			byGrid[g] = t
			out = append(out, t)
		}
	}
	for hi := range rd.pop.Households {
		h := &rd.pop.Households[hi]
		if !h.Collected {
			continue
		}
		t := byGrid[h.Grid]
		visited := rd.pop.AsOf.AddDate(0, 0, -rd.q.r.IntN(180))
		for _, m := range h.Members {
			p := rd.person(m)
			if p.Status != Active {
				continue
			}
			emit := func(withID bool) {
				name := rd.nameOf("姓名", p)
				var id string
				// A son who bears his father's name is often written down without his ID.
				if !(withID && p.Namesake != "" && p.Relation == "20" && rd.col("身份证号").q.hit(IDMissingNamesake)) {
					id = rd.idText("身份证号", p, withID)
				}
				if p.Passport != "" && withID {
					id = p.Passport
				}
				phone := rd.phoneOf("手机号", p)
				addr := rd.addrOf("住址", p)
				var tags []string
				if rd.pop.Alone(p) && rd.pop.Age(p) >= 60 {
					tags = append(tags, "独居老人")
				}
				if p.Disability != nil {
					tags = append(tags, "残疾人")
				}
				if h.Relief != nil && h.Relief.Active {
					tags = append(tags, "低保")
				}
				if p.Veteran {
					tags = append(tags, "退役军人")
				}
				sex := sexLabel(rd.sexOf("性别", p))
				rd.add(t, []any{h.Grid, name, sex, id, phone, addr, p.Residence.Label(), strings.Join(tags, ";"), visited.Format(fmtISO)}, "", resident(p))
			}
			rd.twice(p, emit)
		}
	}
	return out
}

// renderLedgers: per community, 80周岁以上老人花名册 and 独居老人走访台账, typed by hand.
func (rd *renderer) renderLedgers() []*Table {
	var out []*Table
	for ci := range rd.pop.Communities {
		c := &rd.pop.Communities[ci]
		old := &Table{System: "ledger", Name: c.Name + "/80周岁以上老人花名册", KeyCol: -1, Cols: []Col{{"基本信息/姓名", Text}, {"基本信息/性别", Text}, {"基本信息/身份证号", Text},
			{"基本信息/出生日期", Text}, {"基本信息/年龄", Int}, {"联系信息/居住地址", Text}, {"联系信息/联系电话", Text}, {"备注", Text}}}
		alone := &Table{System: "ledger", Name: c.Name + "/独居老人走访台账", KeyCol: -1, Cols: []Col{{"老人信息/姓名", Text}, {"老人信息/身份证号", Text}, {"老人信息/年龄", Int},
			{"居住地址", Text}, {"紧急联系人/姓名", Text}, {"紧急联系人/电话", Text}, {"走访日期", Text}, {"走访情况", Text}, {"走访人", Text}}}
		out = append(out, old, alone)
	}
	visits := []string{"身体状况良好", "行动不便，需助餐", "血压偏高，已提醒就医", "家中无人，电话联系正常", "需要助洁服务"}
	for i := range rd.pop.People {
		p := rd.person(i)
		age := rd.pop.Age(p)
		if age < 80 && !(age >= 60 && rd.pop.Alone(p)) || p.Residence == Foreign {
			continue
		}
		if !rd.present(p) {
			continue
		}
		ci := rd.hh(p).Comm
		if age >= 80 {
			name := rd.nameOf("基本信息/姓名", p)
			id := rd.idOf("基本信息/身份证号", p, true, true)
			birth := rd.dateOf("基本信息/出生日期", p.Birth, fmtISO, true)
			addr := rd.addrOf("联系信息/居住地址", p)
			phone := rd.phoneOf("联系信息/联系电话", p)
			sex := sexLabel(rd.sexOf("基本信息/性别", p))
			rd.add(out[2*ci], []any{name, sex, id, birth, int64(age), addr, phone, ""}, "", resident(p))
		}
		if age >= 60 && (rd.pop.Alone(p) || p.Status != Active) {
			name := rd.nameOf("老人信息/姓名", p)
			id := rd.idOf("老人信息/身份证号", p, true, true)
			addr := rd.addrOf("居住地址", p)
			contact, cphone := "", p.Phone // no family here: the elder's own number
			if o := rd.relative(p); o != nil {
				contact, cphone = o.Name, o.Phone
			}
			visit := rd.dateOf("走访日期", rd.pop.AsOf.AddDate(0, 0, -rd.q.r.IntN(90)), fmtISO, true)
			rd.add(out[2*ci+1], []any{name, id, int64(age), addr, contact, cphone, visit, visits[rd.q.r.IntN(len(visits))], "网格员"}, "", resident(p))
		}
	}
	return out
}
