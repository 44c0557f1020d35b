package reporttpl

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"communityhub/pipeline/standardize/idcard"
)

// The seeded district: two communities, a dozen persons whose figures are worked out by hand
// below (ref_date 2026-11-30, period 2026-11).
const (
	commA = "兴隆社区"
	commB = "梦都社区"
)

type seedPerson struct {
	id, name string
	sex      int
	birth    string // "" unknown
	comm, hh string
	status   string // 户籍 status: 正常, 死亡, 迁出, ""
	ptype    string
	seq      int // ID sequence (odd: male); 0: no ID
}

var seedPersons = []seedPerson{
	{"p01", "张建国", 1, "1940-05-01", commA, "h1", "正常", "户籍", 11},  // 86
	{"p02", "张小雨", 2, "2020-11-30", commA, "h1", "正常", "户籍", 22},  // 6 on the reference date
	{"p03", "李朵朵", 2, "2020-12-01", commB, "h2", "", "流动", 32},    // 5
	{"p04", "无名", 0, "", commB, "", "", "", 0},                    // age, sex, type unknown; no household
	{"p05", "王德福", 1, "1935-02-02", commA, "h3", "死亡", "户籍", 51},  // dead
	{"p06", "赵迁", 1, "1980-01-01", commB, "h4", "迁出", "户籍", 61},   // moved out, holds a residence permit
	{"p07", "钱走", 2, "1985-06-15", commA, "h5", "迁出", "户籍", 72},   // moved out
	{"p08", "孙百岁", 2, "1926-01-01", commA, "h6", "正常", "户籍", 82},  // 100
	{"p09", "周失业", 1, "1981-03-03", commA, "h7", "正常", "户籍", 91},  // 45
	{"p10", "吴老六", 1, "1961-07-07", commB, "h8", "正常", "户籍", 101}, // 65
	{"p11", "郑九十", 2, "1935-11-30", commB, "h8", "正常", "户籍", 112}, // 91 on the reference date
	{"p12", "未落位", 1, "1950-01-01", "", "h9", "正常", "户籍", 121},    // not placed in a community
}

var fullID = regexp.MustCompile(`[0-9]{17}[0-9Xx]`)

// wrongCheck is a check character that is not id's.
func wrongCheck(id string) string {
	if id[17] == '1' {
		return "2"
	}
	return "1"
}

func seedID(p seedPerson) string {
	if p.seq == 0 {
		return ""
	}
	b, err := time.Parse("2006-01-02", p.birth)
	if err != nil {
		panic(err)
	}
	id, err := idcard.Build("320105", b, p.seq)
	if err != nil {
		panic(err)
	}
	return id
}

// stdRec is a std.records row resolved to a person.
type stdRec struct {
	key, source, part, person, class string
	id                               string // id_raw = id_std; "" → the person's
	known                            string // "" → the id
	sex                              int    // -1 → the person's
	birth                            string // "-" → the person's
	loc                              string // "" → source:key
}

func seed(t *testing.T, conn *sql.Conn) {
	t.Helper()
	ctx := context.Background()
	byID := map[string]seedPerson{}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, p := range seedPersons {
		byID[p.id] = p
		exec(`INSERT INTO golden.person (person_id, name, id_no, sex, birth_date, phone, address, household_id,
			hukou_status, status_date, person_type, community) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.id, p.name, seedID(p), p.sex, p.birth, "13800001111", "梦都大街18号", p.hh, p.status,
			map[bool]string{true: "2026-03-01", false: ""}[p.status == "死亡" || p.status == "迁出"], p.ptype, p.comm)
	}
	for _, q := range []string{
		`INSERT INTO facts.elderly (person_id, record_key, source, allowance_band, lives_alone) VALUES
			('p01', 'eld:p01', 'elderly', '80-89', true),
			('p10', 'eld:p10', 'elderly', NULL, false),
			('p11', 'eld:p11', 'elderly', '90-99', false)`,
		`INSERT INTO facts.grid (person_id, record_key, source, grid, person_type, tags) VALUES
			('p08', 'grid:1', 'grid', 'G01', '户籍', ['独居老人']),
			('p08', 'grid:2', 'grid', 'G02', '户籍', []),
			('p11', 'grid:3', 'grid', 'G03', '户籍', ['低保'])`,
		`INSERT INTO facts.relief (person_id, record_key, source, family_id, is_head, relief_type, relief_status, monthly_amount) VALUES
			('p01', 'rel:f1:p01', 'relief_member', 'f1', true, '城市低保', '在保', 800.00),
			('p02', 'rel:f1:p02', 'relief_member', 'f1', false, '城市低保', '在保', 800.00),
			('p05', 'rel:f2:p05', 'relief_member', 'f2', true, '特困供养', '在保', 1200.50),
			('p10', 'rel:f3:p10', 'relief_member', 'f3', true, '城市低保', '停保', 700.00),
			('p10', 'rel:f5:p10', 'relief_member', 'f5', true, '城市低保', '在保', 600.00),
			('p11', 'rel:f4:p11', 'relief_member', 'f4', true, '特困供养', '在保', 1500.00)`,
		`INSERT INTO facts.disabled (person_id, record_key, source, category, grade, living_subsidy, care_subsidy) VALUES
			('p01', 'dis:p01a', 'disabled', 4, 2, true, false),
			('p01', 'dis:p01b', 'disabled', 1, 3, false, false),
			('p09', 'dis:p09', 'disabled', 6, 1, false, true),
			('p03', 'dis:p03', 'disabled', NULL, NULL, false, false),
			('p05', 'dis:p05', 'disabled', 2, 2, false, false)`,
		`INSERT INTO facts.employment (person_id, record_key, source, status, difficulty) VALUES
			('p09', 'emp:p09', 'employment', '登记失业', NULL),
			('p10', 'emp:p10', 'employment', '登记失业', '4050人员'),
			('p04', 'emp:p04', 'employment', '灵活就业', '零就业家庭')`,
		`INSERT INTO facts.insurance (person_id, record_key, source, category, status, year) VALUES
			('p01', 'ins:p01', 'insurance', '职工', '参保缴费', 2026),
			('p02', 'ins:p02', 'insurance', '城乡居民', '参保缴费', 2026),
			('p08', 'ins:p08a', 'insurance', '职工', '暂停', 2025),
			('p08', 'ins:p08b', 'insurance', '城乡居民', '参保缴费', 2026),
			('p09', 'ins:p09', 'insurance', '城乡居民', '终止', 2024),
			('p03', 'ins:p03', 'insurance', '城乡居民', '暂停', 2026),
			('p10', 'ins:p10', 'insurance', '城乡居民', NULL, 2026),
			('p07', 'ins:p07', 'insurance', '城乡居民', '参保缴费', 2026),
			('p06', 'ins:p06', 'insurance', '职工', '参保缴费', 2026)`,
		`INSERT INTO facts.floating (person_id, record_key, source, permit_no, status) VALUES
			('p06', 'flo:p06', 'floating', 'J001', '有效'),
			('p03', 'flo:p03', 'floating', 'J002', '有效')`,
		`INSERT INTO facts.veterans (person_id, record_key, source, enlisted_at, discharged_at, youfu_category) VALUES
			('p10', 'vet:p10', 'veterans', DATE '1979-12-01', DATE '1984-12-01', '带病回乡')`,
		`INSERT INTO facts.party (person_id, record_key, source, party_org, reported_community, reported_at) VALUES
			('p09', 'par:p09', 'party', '区交通局机关党委', '兴隆社区', DATE '2026-11-15'),
			('p10', 'par:p10', 'party', '某公司党支部', '兴隆', DATE '2025-01-01'),
			('p05', 'par:p05', 'party', '区交通局机关党委', '兴隆社区', DATE '2020-01-01')`,
		`INSERT INTO facts.volunteers (person_id, record_key, source, volunteer_no, service_hours) VALUES
			('p09', 'vol:p09a', 'volunteers', 'V1', 10.5),
			('p09', 'vol:p09b', 'volunteers', 'V2', 12.0),
			('p02', 'vol:p02', 'volunteers', 'V3', 3.0),
			('p11', 'vol:p11', 'volunteers', 'V4', 20.0)`,
		`INSERT INTO facts.health (person_id, record_key, source, role) VALUES
			('p03', 'hea:1:mother', 'health', 'mother'),
			('p03', 'hea:2:mother', 'health', 'mother')`,
	} {
		exec(q)
	}
	p09 := seedID(byID["p09"])
	p09bad := p09[:17] + wrongCheck(p09)
	recs := []stdRec{
		{key: "rel:f1:p01", source: "relief_member", part: "resident", person: "p01", class: "valid", sex: -1, birth: "-"},
		{key: "rel:f2:p05", source: "relief_member", part: "resident", person: "p05", class: "valid", sex: -1, birth: "-"},
		{key: "par:p05", source: "party", part: "resident", person: "p05", class: "valid", sex: -1, birth: "1935-02"},
		{key: "dis:p05", source: "disabled", part: "resident", person: "p05", class: "valid", sex: -1, birth: ""},
		{key: "ins:p07", source: "insurance", part: "resident", person: "p07", class: "valid", sex: -1, birth: "-"},
		{key: "ins:p06", source: "insurance", part: "resident", person: "p06", class: "valid", sex: -1, birth: "-"},
		{key: "flo:p06", source: "floating", part: "resident", person: "p06", class: "valid", sex: -1, birth: "-"},
		{key: "emp:p09", source: "employment", part: "resident", person: "p09", class: "bad_check", id: p09bad, sex: -1, birth: "-",
			loc: "jy_register:" + p09bad + ",周失业,2024-01-01"},
		{key: "eld:p10", source: "elderly", part: "resident", person: "p10", class: "valid", sex: -1, birth: "1961-07-08"},
		{key: "dis:p01a", source: "disabled", part: "resident", person: "p01", class: "valid", sex: 2, birth: "-"},
		{key: "dis:p01b", source: "disabled", part: "resident", person: "p01", class: "valid", sex: -1, birth: "-"},
		{key: "grid:1", source: "grid", part: "resident", person: "p08", class: "absent", id: "-", sex: -1, birth: "-"},
		{key: "grid:2", source: "grid", part: "resident", person: "p08", class: "valid", sex: -1, birth: "-"},
		{key: "vol:p09a", source: "volunteers", part: "resident", person: "p09", class: "masked", id: "3201**********" + seedID(byID["p09"])[14:], sex: -1, birth: ""},
		{key: "vol:p09b", source: "volunteers", part: "resident", person: "p09", class: "masked", id: "3201**********" + seedID(byID["p09"])[14:], sex: -1, birth: ""},
		{key: "vol:p02", source: "volunteers", part: "resident", person: "p02", class: "masked", id: "3201**********9999", sex: -1, birth: ""},
		{key: "grid:3", source: "grid", part: "resident", person: "p11", class: "invalid", id: "3201051935", sex: -1, birth: "-"},
		{key: "flo:p03", source: "floating", part: "resident", person: "p03", class: "invalid", id: "E12345678", sex: -1, birth: "-"},
		{key: "hea:1:mother", source: "health", part: "mother", person: "p03", class: "valid", sex: -1, birth: "-"},
		{key: "hea:2:mother", source: "health", part: "mother", person: "p03", class: "valid", sex: -1, birth: "-"},
	}
	for i, r := range recs {
		p := byID[r.person]
		id := r.id
		switch id {
		case "":
			id = seedID(p)
		case "-":
			id = ""
		}
		known := id
		if r.class == "masked" {
			known = strings.ReplaceAll(id, "*", "?")
		}
		std := id
		switch r.class {
		case "masked":
			std = ""
		case "absent", "invalid":
			std, known = "", ""
		}
		sex := r.sex
		if sex < 0 {
			sex = p.sex
		}
		birth := r.birth
		if birth == "-" {
			birth = p.birth
		}
		loc := r.loc
		if loc == "" {
			loc = r.source + ":" + r.key
		}
		// The seeded sources are named by their roles.
		exec(`INSERT INTO std.records (record_key, source, loc, role, record_hash, id_raw, id_std, id_class, id_known,
			name_raw, sex, birth, source_role) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.key, r.source, loc, r.part, uint64(i+1), id, std, r.class, known, p.name, sex, birth, r.source)
		exec(`INSERT INTO resolve.record_person (record_key, person_id, probability, rule) VALUES (?, ?, 1, 'test')`, r.key, r.person)
	}
}

// computed is what a kind's queries give, aggregated as pipeline/report/README.md says:
// per community (and "*", the street) and figure key, distinct units counted or each unit's
// value summed once; band rows per community.
type computed map[string]map[string]float64

func compute(t *testing.T, conn *sql.Conn, k *kindDef) (computed, map[string][][]string) {
	t.Helper()
	out := computed{}
	add := func(community, key string, v float64) {
		if out[community] == nil {
			out[community] = map[string]float64{}
		}
		out[community][key] += v
	}
	// units[community][key][unit] = value
	aggregate := func(where, q string, sum bool, keys func(row map[string]string) []string) {
		if sum { // DECIMAL does not scan into text
			q = "SELECT * REPLACE (CAST(value AS DOUBLE) AS value) FROM (" + q + ") AS q"
		}
		units := map[string]map[string]map[string]float64{}
		for _, row := range rowsOf(t, conn, where, q) {
			unit := row["unit"]
			if unit == "" {
				unit = row["person_id"]
			}
			v := 1.0
			if sum {
				if _, err := fmt.Sscan(row["value"], &v); err != nil {
					v = 0
				}
			}
			for _, c := range []string{row["community"], "*"} {
				if c == "" {
					continue
				}
				for _, key := range keys(row) {
					if units[c] == nil {
						units[c] = map[string]map[string]float64{}
					}
					if units[c][key] == nil {
						units[c][key] = map[string]float64{}
					}
					if old, ok := units[c][key][unit]; !ok || v > old {
						units[c][key][unit] = v
					}
				}
			}
		}
		for c, byKey := range units {
			for key, us := range byKey {
				for _, v := range us {
					add(c, key, v)
				}
			}
		}
	}
	for _, f := range k.Figure {
		anchor := f.Anchor
		aggregate(k.Code+" "+anchor, f.SQL, f.Measure == "sum", func(map[string]string) []string { return []string{anchor} })
	}
	for _, m := range k.Matrix {
		anchor := m.Anchor
		aggregate(k.Code+" "+anchor, m.SQL, false, func(row map[string]string) []string {
			r, c := row["row_key"], row["col_key"]
			return []string{
				fmt.Sprintf("%s[%s,%s]", anchor, r, c), fmt.Sprintf("%s[%s,*]", anchor, r),
				fmt.Sprintf("%s[*,%s]", anchor, c), anchor + "[*,*]",
			}
		})
	}
	bands := map[string][][]string{}
	for _, b := range k.Band {
		for _, row := range rowsOf(t, conn, k.Code+" "+b.Anchor, b.SQL) {
			if row["community"] == "" {
				continue
			}
			add(row["community"], b.Anchor+".rows", 1)
			add("*", b.Anchor+".rows", 1)
			var cells []string
			for _, c := range b.Columns {
				cells = append(cells, row[c])
			}
			bands[b.Anchor+"@"+row["community"]] = append(bands[b.Anchor+"@"+row["community"]], cells)
		}
	}
	return out, bands
}

// rowsOf runs q and returns its rows as text by column name (NULL is "").
func rowsOf(t *testing.T, conn *sql.Conn, where, q string) []map[string]string {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = vals[i].String
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return out
}

// TestFiguresOnASeededDistrict runs every kind on a small district whose figures are worked
// out by hand, checks those figures and rows, and checks that every [[check]] rule holds for
// each community and the street (the data are consistent, so a rule that fails is a wrong
// query or a wrong rule).
func TestFiguresOnASeededDistrict(t *testing.T) {
	_, conn := openDB(t)
	seed(t, conn)
	kinds := loadKinds(t)
	all := map[string]computed{}
	bands := map[string]map[string][][]string{}
	for _, k := range kinds {
		all[k.Code], bands[k.Code] = compute(t, conn, k)
	}
	type want struct {
		kind, key, community string
		v                    float64
	}
	for _, w := range []want{
		// R01: A = p01 p02 p08 p09; B = p03 p04 p10 p11 (the dead, the moved out and the unplaced are not residents).
		{"R01", "res_total", commA, 4}, {"R01", "res_total", commB, 4}, {"R01", "res_total", "*", 8},
		{"R01", "hh_total", commA, 3}, {"R01", "hh_total", commB, 2}, {"R01", "hh_total", "*", 5},
		{"R01", "res_hukou", commB, 2}, {"R01", "res_floating", commB, 1}, {"R01", "res_other", commB, 1},
		{"R01", "res_male", commA, 2}, {"R01", "res_female", commB, 2}, {"R01", "sex_unknown", commB, 1},
		{"R01", "age_0_6", commA, 1}, {"R01", "age_0_6", commB, 1}, {"R01", "age_7_17", "*", 0},
		{"R01", "age_35_59", commA, 1}, {"R01", "age_60_79", commB, 1}, {"R01", "age_80_plus", commA, 2},
		{"R01", "age_80_plus", commB, 1}, {"R01", "age_unknown", commB, 1},
		// R03
		{"R03", "age_80_89", commA, 1}, {"R03", "age_100_plus", commA, 1}, {"R03", "age_90_99", commB, 1},
		{"R03", "alone_total", commA, 2}, {"R03", "alone_100_plus", commA, 1}, {"R03", "alone_total", commB, 0},
		{"R03", "allowance_80_89", commA, 1}, {"R03", "allowance_90_99", commB, 1}, {"R03", "allowance_total", "*", 2},
		// R04: f1 (p01, p02) 800 in A; f5 (p10) 600 and f4 (p11) 1500 in B; f2's only member is dead, f3 停保.
		{"R04", "dibao_hh", commA, 1}, {"R04", "dibao_persons", commA, 2}, {"R04", "dibao_amount", commA, 800},
		{"R04", "tekun_hh", commA, 0}, {"R04", "tekun_amount", commB, 1500}, {"R04", "dibao_amount", commB, 600},
		{"R04", "hh_total", "*", 3}, {"R04", "persons_total", "*", 4}, {"R04", "amount_total", "*", 2900},
		// R05: p01 counts once at 肢体 二级 (the more severe of 4/2 and 1/3); p09 精神 一级; p03 unknown.
		{"R05", "by_cat_grade[4,2]", commA, 1}, {"R05", "by_cat_grade[1,3]", commA, 0}, {"R05", "by_cat_grade[6,1]", commA, 1},
		{"R05", "by_cat_grade[*,*]", commA, 2}, {"R05", "disabled_all", commB, 1}, {"R05", "disabled_unknown", commB, 1},
		{"R05", "living_subsidy", commA, 1}, {"R05", "care_subsidy", commA, 1}, {"R05", "disabled_all", "*", 3},
		// R06
		{"R06", "unemployed_total", commA, 1}, {"R06", "unemployed_in_dibao", commA, 0}, {"R06", "unemployed_in_dibao", commB, 1},
		{"R06", "difficulty_total", commB, 2}, {"R06", "difficulty_4050", commB, 1}, {"R06", "difficulty_zero_job", commB, 1},
		{"R06", "difficulty_in_dibao", commB, 1},
		// R08
		{"R08", "party_total", commA, 1}, {"R08", "party_new", commA, 1}, {"R08", "party_new", commB, 0},
		{"R08", "party_elsewhere", commA, 0}, {"R08", "party_elsewhere", commB, 1}, {"R08", "org_count", "*", 2},
		// R09: p09's two registrations count once, with 12 hours.
		{"R09", "vol_total", commA, 2}, {"R09", "hours_total", commA, 15}, {"R09", "hours_35_59", commA, 12},
		{"R09", "vol_0_17", commA, 1}, {"R09", "hours_60_plus", commB, 20},
		// R10
		{"R10", "ins_paying", commA, 3}, {"R10", "ins_worker", commA, 1}, {"R10", "ins_resident", commA, 2},
		{"R10", "ins_terminated", commA, 1}, {"R10", "ins_suspended", commB, 1}, {"R10", "ins_unknown", commB, 1},
		{"R10", "ins_none", commB, 2},
		// Rosters.
		{"R02", "elders.rows", commA, 2}, {"R02", "elders.rows", commB, 2}, {"R07", "veterans.rows", commB, 1},
		{"R07", "veterans.rows", commA, 0}, {"R08", "members.rows", "*", 2}, {"R11", "care_list.rows", commA, 2},
		{"R11", "care_list.rows", commB, 1}, {"R12", "issues.rows", commA, 13}, {"R12", "issues.rows", commB, 2},
	} {
		if got := all[w.kind][w.community][w.key]; math.Abs(got-w.v) > 1e-9 {
			t.Errorf("%s %s in %s = %g, want %g", w.kind, w.key, w.community, got, w.v)
		}
	}

	// Rows, in order.
	names := func(kind, anchor, community string, col int) string {
		var out []string
		for _, r := range bands[kind][anchor+"@"+community] {
			out = append(out, r[col])
		}
		return strings.Join(out, ",")
	}
	if got := names("R02", "elders", commA, 1); got != "孙百岁,张建国" {
		t.Errorf("R02 in %s: %s, want the oldest first", commA, got)
	}
	if r := bands["R02"]["elders@"+commA]; len(r) == 2 && (r[1][8] != "是" || r[1][9] != "80-89周岁" || r[0][8] != "是" || r[0][9] != "" || r[1][4] != "86") {
		t.Errorf("R02 rows %v: 张建国 lives alone (养老服务) with the 80-89 allowance, aged 86; 孙百岁 alone per the grid", r)
	}
	if got := names("R11", "care_list", commA, 1); got != "张建国,周失业" {
		t.Errorf("R11 in %s: %s, want 张建国 (3 groups) then 周失业 (2)", commA, got)
	}
	if r := bands["R11"]["care_list@"+commA]; len(r) > 0 && strings.Join(r[0][7:12], "|") != "√|√|√||3" {
		t.Errorf("R11 first row's groups %v", r[0][7:12])
	}
	if got := names("R11", "care_list", commB, 1); got != "吴老六" {
		t.Errorf("R11 in %s: %s", commB, got)
	}
	if r := bands["R07"]["veterans@"+commB]; len(r) != 1 || r[0][5] != "1979年12月" || r[0][7] != "带病回乡" {
		t.Errorf("R07 rows %v", r)
	}
	if r := bands["R08"]["members@"+commB]; len(r) != 1 || r[0][1] != "某公司党支部" || r[0][2] != "1" {
		t.Errorf("R08 rows %v", r)
	}
	var issues []string
	for _, c := range []string{commA, commB} {
		for _, r := range bands["R12"]["issues@"+c] {
			issues = append(issues, c+"|"+r[1]+"|"+r[3]+"|"+r[5])
		}
	}
	sort.Strings(issues)
	// Locations and notes show ID numbers masked, as the ID column is.
	var p09 string
	for _, p := range seedPersons {
		if p.id == "p09" {
			p09 = seedID(p)
		}
	}
	for _, c := range []string{commA, commB} {
		for _, r := range bands["R12"]["issues@"+c] {
			for _, cell := range []string{r[2], r[6]} {
				if fullID.MatchString(cell) {
					t.Errorf("R12 shows a full ID number in %q", cell)
				}
			}
			if r[3] == "周失业" && r[5] == "身份证号校验位错误" && r[2] != "jy_register:"+p09[:6]+"********"+p09[14:17]+wrongCheck(p09)+",周失业,2024-01-01" {
				t.Errorf("R12 location %q", r[2])
			}
		}
	}
	wantIssues := []string{
		commA + "|人社·就业失业|周失业|身份证号校验位错误",
		commA + "|医保|钱走|户籍已迁出，医保仍参保缴费",
		commA + "|团区委·志愿服务|周失业|同一系统内重复登记",
		commA + "|团区委·志愿服务|周失业|同一系统内重复登记",
		commA + "|团区委·志愿服务|张小雨|身份证号与统一记录不一致",
		commA + "|政法委·网格|孙百岁|同一系统内重复登记",
		commA + "|政法委·网格|孙百岁|同一系统内重复登记",
		commA + "|残联|张建国|同一系统内重复登记",
		commA + "|残联|张建国|同一系统内重复登记",
		commA + "|残联|张建国|性别与身份证号不符",
		commA + "|残联|王德福|户籍已死亡，残疾人信息仍在册",
		commA + "|民政·社会救助|王德福|户籍已死亡，社会救助仍在保",
		commA + "|组织部·党员|王德福|户籍已死亡，仍在社区报到名册",
		commB + "|民政·养老服务|吴老六|出生日期与身份证号不符",
		commB + "|政法委·网格|郑九十|身份证号无效",
	}
	sort.Strings(wantIssues)
	if strings.Join(issues, "\n") != strings.Join(wantIssues, "\n") {
		t.Errorf("R12 rows:\n%s\nwant:\n%s", strings.Join(issues, "\n"), strings.Join(wantIssues, "\n"))
	}

	// Every check holds everywhere.
	communities := []string{commA, commB, "*"}
	for _, k := range kinds {
		for _, c := range k.Check {
			sides := ruleSides(t, k.Code, c.Rule)
			for _, comm := range communities {
				var v [2]float64
				for i, side := range sides {
					for _, term := range side {
						kind, name := k.Code, term.name
						if before, after, ok := strings.Cut(name, "."); ok && after != "rows" {
							kind, name = before, after
						}
						v[i] += term.sign * all[kind][comm][name]
					}
				}
				ok := false
				switch ruleOp(c.Rule) {
				case "<=":
					ok = v[0] <= v[1]+1e-9
				case ">=":
					ok = v[0] >= v[1]-1e-9
				case "=":
					ok = math.Abs(v[0]-v[1]) < 1e-9
				case "<":
					ok = v[0] < v[1]
				case ">":
					ok = v[0] > v[1]
				}
				if !ok {
					t.Errorf("%s check %q fails in %s: %g vs %g", k.Code, c.Rule, comm, v[0], v[1])
				}
			}
		}
	}
}
