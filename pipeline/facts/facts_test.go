package facts

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"communityhub/pipeline/records"
	"communityhub/pipeline/store"
	"communityhub/schema"
)

// rec is a record of source (with its role) for the person part role of row ident, with group
// and fields as pipeline/records would give them.
func rec(source, sourceRole, role, ident, group string, f map[string]string) records.Record {
	r := records.Record{Key: source + "\x1f" + ident + "\x1f" + role, Source: source, SourceRole: sourceRole, Loc: source + ":" + ident,
		Role: role, Group: group, Fields: f}
	switch {
	case role == "householder":
		r.Relation = records.RelHead
	case role == "mother" || role == "father":
		r.Relation = records.RelParent
	default:
		r.Relation = records.ParseRelation(f["relation"])
	}
	return r
}

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "hub.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func save(t *testing.T, db *store.DB, tb *Tables, counts []store.Count) {
	t.Helper()
	ctx := context.Background()
	err := db.Tx(ctx, func(conn *sql.Conn) error {
		if err := Save(ctx, conn, tb); err != nil {
			return err
		}
		return store.WriteCounts(conn, 1, counts)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rows runs q and returns every row's values as text ("NULL" for NULL), in the query's order.
func rows(t *testing.T, db *store.DB, q string) [][]string {
	t.Helper()
	rs, err := db.SQL().QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "NULL"
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// selectText is SELECT of cols, each cast to text, from facts.table ordered by record_key.
func selectText(table string, cols ...string) string {
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = "CAST(" + c + " AS VARCHAR)"
	}
	return "SELECT person_id, " + strings.Join(sel, ", ") + " FROM facts." + table + " ORDER BY record_key"
}

func wantRows(t *testing.T, db *store.DB, table string, cols []string, want [][]string) {
	t.Helper()
	got := rows(t, db, selectText(table, cols...))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("facts.%s (person_id, %s):\n got  %q\n want %q", table, strings.Join(cols, ", "), got, want)
	}
}

// countOf finds the count of (source, item).
func countOf(counts []store.Count, source, item string) (store.Count, bool) {
	for _, c := range counts {
		if c.Source == source && c.Item == item {
			return c, true
		}
	}
	return store.Count{}, false
}

const (
	reliefSpace = "role:relief\x1ffamily_id\x1f"
	dis20       = "32010519350621207442" // an 18-character ID, category 4, grade 2
)

// everyRole is a record of each role with a facts table, with the contract's quirks.
func everyRole() ([]records.Record, []string) {
	var recs []records.Record
	var person []string
	add := func(p string, r records.Record) {
		recs = append(recs, r)
		person = append(person, p)
	}
	// 户籍
	add("p01", rec("hj", "hukou", "resident", "h1", "role:hukou\x1fhousehold_no\x1f320105", map[string]string{
		"name": "周建国", "status": "1", "status_date": "2024/7/10", "household_no": "３２０１０５.0", "relation": " 02 "}))
	add("p02", rec("hj", "hukou", "resident", "h2", "", map[string]string{"name": "吴芳", "status": "9", "status_date": "2024-02-30"}))
	add("p02", rec("hj_hh", "hukou_household", "householder", "hh1", "", map[string]string{"household_no": "320105"})) // no table
	// 流动人口
	add("p03", rec("fl", "floating", "resident", "f1", "", map[string]string{"permit_no": "320105230000001", "registered_at": "2023-01-02T08:00:00Z", "status": "有效"}))
	add("p04", rec("fl", "floating", "resident", "f2", "", map[string]string{"registered_at": "20230102", "status": "已注销"}))
	// 养老服务, and ledgers
	add("p05", rec("eld", "elderly", "resident", "e1", "", map[string]string{"elder_allowance_band": "80-89周岁", "lives_alone": "true", "services": `["助餐","助洁"]`}))
	add("p06", rec("eld", "elderly", "resident", "e2", "", map[string]string{"elder_allowance_band": "百岁以上", "lives_alone": "false", "services": "[]"}))
	add("p07", rec("eld", "elderly", "resident", "e3", "", map[string]string{"elder_allowance_band": "100岁以上", "lives_alone": "是"}))
	add("p08", rec("ldg", "ledger", "resident", "l1", "", map[string]string{"name": "王秀英", "lives_alone": "Y"}))
	add("p09", rec("ldg", "ledger", "resident", "l2", "", map[string]string{"name": "李桂兰", "age": "85"})) // says neither: no row
	// 残疾人
	add("p10", rec("dis", "disabled", "resident", "d1", "", map[string]string{"disability_cert": " " + dis20 + " ", "disability_category": "肢体",
		"disability_grade": "二级", "disability_subsidy": "困难生活补贴、重度护理补贴", "issued_at": "2019-05-06", "guardian_name": "周明"}))
	add("p11", rec("dis", "disabled", "resident", "d2", "", map[string]string{"disability_cert": "320105193506212074" + "63"}))
	add("p12", rec("dis", "disabled", "resident", "d3", "", map[string]string{"name": "陈红", "disability_category": "肢体残疾", "disability_grade": "贰级"}))
	add("p13", rec("dis", "disabled", "resident", "d4", "", map[string]string{"disability_cert": "320105350621207" + "51", "disability_grade": "2",
		"disability_subsidy": "重度护理补贴"}))
	// 就业失业
	add("p14", rec("emp", "employment", "resident", "j1", "", map[string]string{"employment_status": "登记失业", "employment_difficulty": "4050",
		"registered_at": "2024年3月5日", "education": "高中"}))
	add("p15", rec("emp", "employment", "resident", "j2", "", map[string]string{"employment_status": "灵活就业", "registered_at": "2024-03-05 09:30:00"}))
	// 医保
	add("p16", rec("ins", "insurance", "resident", "i1", "", map[string]string{"record_no": "320100300000007", "insurance_category": "城乡居民",
		"status": "参保缴费", "insurance_year": "2026", "community": "兴隆社区"}))
	add("p17", rec("ins", "insurance", "resident", "i2", "", map[string]string{"insurance_category": "职工医保", "status": "暂停参保", "insurance_year": "２０２５"}))
	// 卫健: a signing, and a birth registration naming child, mother and father
	add("p18", rec("hl", "health", "resident", "k1", "", map[string]string{"record_no": "JK1", "doctor": "王建平", "signed_at": "2024.03.04", "chronic": "高血压;糖尿病"}))
	row := "source:hl\x1frow\x1fk2"
	add("p19", rec("hl", "health", "resident", "k2", row, map[string]string{"record_no": "JK2", "name": "周小宝", "child_birth_date": "2025-01-09",
		"birth_registered_at": "2025/2/10"}))
	add("p20", rec("hl", "health", "mother", "k2", row, map[string]string{"name": "吴芳"}))
	add("p01", rec("hl", "health", "father", "k2", row, map[string]string{"name": "周建国"}))
	// 退役军人: months
	add("p21", rec("vet", "veterans", "resident", "v1", "", map[string]string{"enlisted_at": "1975.06", "discharged_at": "1980-09-15", "unit": "73011部队",
		"youfu_category": "伤残军人"}))
	add("p22", rec("vet", "veterans", "resident", "v2", "", map[string]string{"enlisted_at": "29221", "discharged_at": "1980年13月"}))
	// 党员
	add("p23", rec("pty", "party", "resident", "y1", "", map[string]string{"party_org": "兴隆街道社区党委", "community": "兴隆社区", "reported_at": "2025-07-01"}))
	// 志愿服务
	add("p24", rec("vol", "volunteers", "resident", "o1", "", map[string]string{"volunteer_no": "V320100010003", "team": "助老志愿队", "service_hours": "12.5",
		"registered_at": "2020-01-01"}))
	add("p25", rec("vol", "volunteers", "resident", "o2", "", map[string]string{"service_hours": "1,250.25小时"}))
	// 网格
	add("p26", rec("grd", "grid", "resident", "g1", "", map[string]string{"grid": "3201050101", "person_type": "流动人口",
		"tags": "独居老人;残疾人，低保、退役军人", "collected_at": "20250101"}))
	add("p27", rec("grd", "grid", "resident", "g2", "", map[string]string{"person_type": "户籍"}))
	return recs, person
}

func TestBuildSaveEveryRole(t *testing.T) {
	recs, person := everyRole()
	tb, counts := Build(recs, person)
	db := openDB(t)
	save(t, db, tb, counts)

	wantRows(t, db, "hukou", []string{"status", "status_date", "household_no", "relation"}, [][]string{
		{"p01", "死亡", "2024-07-10", "320105", "02"},
		{"p02", "NULL", "NULL", "NULL", "NULL"},
	})
	wantRows(t, db, "floating", []string{"permit_no", "registered_at", "status"}, [][]string{
		{"p03", "320105230000001", "2023-01-02", "有效"},
		{"p04", "NULL", "2023-01-02", "注销"},
	})
	wantRows(t, db, "elderly", []string{"allowance_band", "lives_alone", "services", "len(services)"}, [][]string{
		{"p05", "80-89", "true", "[助餐, 助洁]", "2"},
		{"p06", "100+", "false", "[]", "0"},
		{"p07", "100+", "true", "NULL", "NULL"},
		{"p08", "NULL", "true", "NULL", "NULL"},
	})
	wantRows(t, db, "disabled", []string{"cert_no", "category", "category_name", "grade", "living_subsidy", "care_subsidy", "issued_at", "guardian_name"}, [][]string{
		{"p10", dis20, "4", "肢体", "2", "true", "true", "2019-05-06", "周明"},
		{"p11", "32010519350621207463", "6", "精神", "3", "false", "false", "NULL", "NULL"},
		{"p12", "NULL", "4", "肢体", "2", "false", "false", "NULL", "NULL"},
		{"p13", "32010535062120751", "5", "智力", "2", "false", "true", "NULL", "NULL"},
	})
	wantRows(t, db, "employment", []string{"status", "difficulty", "registered_at", "education"}, [][]string{
		{"p14", "登记失业", "4050人员", "2024-03-05", "高中"},
		{"p15", "灵活就业", "NULL", "2024-03-05", "NULL"},
	})
	wantRows(t, db, "insurance", []string{"record_no", "category", "status", "year", "community_text"}, [][]string{
		{"p16", "320100300000007", "城乡居民", "参保缴费", "2026", "兴隆社区"},
		{"p17", "NULL", "职工", "暂停", "2025", "NULL"},
	})
	wantRows(t, db, "health", []string{"role", "record_no", "doctor", "signed_at", "chronic", "child_birth_date", "birth_registered_at"}, [][]string{
		{"p18", "resident", "JK1", "王建平", "2024-03-04", "[高血压, 糖尿病]", "NULL", "NULL"},
		{"p01", "father", "JK2", "NULL", "NULL", "NULL", "2025-01-09", "2025-02-10"},
		{"p20", "mother", "JK2", "NULL", "NULL", "NULL", "2025-01-09", "2025-02-10"},
		{"p19", "resident", "JK2", "NULL", "NULL", "NULL", "2025-01-09", "2025-02-10"},
	})
	wantRows(t, db, "veterans", []string{"enlisted_at", "discharged_at", "unit", "youfu_category"}, [][]string{
		{"p21", "1975-06-01", "1980-09-01", "73011部队", "伤残军人"},
		{"p22", "1980-01-01", "NULL", "NULL", "NULL"}, // 29221 is Excel's serial for 1980-01-01
	})
	wantRows(t, db, "party", []string{"party_org", "reported_community", "reported_at"}, [][]string{
		{"p23", "兴隆街道社区党委", "兴隆社区", "2025-07-01"},
	})
	wantRows(t, db, "volunteers", []string{"volunteer_no", "team", "service_hours", "registered_at"}, [][]string{
		{"p24", "V320100010003", "助老志愿队", "12.5", "2020-01-01"},
		{"p25", "NULL", "NULL", "1250.3", "NULL"},
	})
	wantRows(t, db, "grid", []string{"grid", "person_type", "tags", "collected_at"}, [][]string{
		{"p26", "3201050101", "流动", "[独居老人, 残疾人, 低保, 退役军人]", "2025-01-01"},
		{"p27", "NULL", "户籍", "NULL", "NULL"},
	})

	// The values are typed: dates compare as dates, decimals sum exactly, lists unnest.
	got := rows(t, db, `SELECT
		(SELECT count(*) FROM facts.veterans WHERE enlisted_at < DATE '1976-01-01' AND discharged_at - enlisted_at > 1800),
		(SELECT CAST(sum(service_hours) AS VARCHAR) FROM facts.volunteers),
		(SELECT count(*) FROM (SELECT unnest(tags) AS tag FROM facts.grid) WHERE tag = '低保'),
		(SELECT count(*) FROM facts.disabled WHERE category = 4 AND grade <= 2)`)
	if want := [][]string{{"1", "1262.8", "1", "2"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("typed queries: got %q, want %q", got, want)
	}

	// What could not be read is counted, by source, with examples.
	for _, w := range []struct {
		source, item, detail string
		n                    int64
	}{
		{"hj", "unreadable:hukou.status", `"9"`, 1},
		{"hj", "unreadable:hukou.status_date", `"2024-02-30"`, 1},
		{"vet", "unreadable:veterans.discharged_at", `"1980年13月"`, 1},
	} {
		c, ok := countOf(counts, w.source, w.item)
		if !ok || c.N != w.n || c.Detail != w.detail || c.Stage != "facts" {
			t.Errorf("count %s %s: got %+v (found %v), want n %d detail %s", w.source, w.item, c, ok, w.n, w.detail)
		}
	}
	if len(counts) != 3 {
		t.Errorf("counts: got %+v, want only the three unreadable values", counts)
	}
	// And they land in resolve.counts with the run.
	got = rows(t, db, `SELECT stage, source, item, CAST(n AS VARCHAR), detail FROM resolve.counts WHERE run = 1 ORDER BY source, item`)
	if len(got) != 3 || got[0][0] != "facts" || got[0][2] != "unreadable:hukou.status" {
		t.Errorf("resolve.counts: %q", got)
	}
}

func TestReliefFamilyValuesOnMembers(t *testing.T) {
	g1, g2 := reliefSpace+"100001", reliefSpace+"100002"
	recs := []records.Record{
		// Family 100001: its householder record, whose person is also a member (twice listed).
		rec("jzf", "relief_family", "householder", "100001", g1, map[string]string{"family_id": "100001", "name": "赵大海", "relief_type": "低保",
			"status": "在保", "relief_amount": "1,250.00", "relief_persons": "3人", "relief_since": "2023-05"}),
		rec("jzm", "relief_member", "resident", "m1", g1, map[string]string{"family_id": "100001", "name": "赵大海", "relation": "本人", "disabled_flag": "否"}),
		rec("jzm", "relief_member", "resident", "m2", g1, map[string]string{"family_id": "100001.0", "name": "钱小红", "relation": "妻", "disabled_flag": "是"}),
		rec("jzm", "relief_member", "resident", "m3", g1, map[string]string{"family_id": "100001", "name": "赵小明", "relation": "儿子", "disabled_flag": "0"}),
		rec("jzm", "relief_member", "resident", "m4", g1, map[string]string{"family_id": "100001", "name": "赵小明", "relation": "长子"}), // registered twice
		// Family 100002: the family record's person is unknown (resolve gave none); its values
		// still reach the members, and the head is the member who says so.
		rec("jzf", "relief_family", "householder", "100002", g2, map[string]string{"family_id": "100002", "name": "孙老汉", "relief_type": "特困",
			"status": "停保", "relief_amount": "960元", "relief_persons": "2", "relief_since": "2021年3月"}),
		rec("jzm", "relief_member", "resident", "m5", g2, map[string]string{"family_id": "100002", "name": "孙老汉", "relation": "户主"}),
		rec("jzm", "relief_member", "resident", "m6", g2, map[string]string{"family_id": "100002", "name": "孙小妹", "relation": "孙女", "disabled_flag": "maybe"}),
		// A member of a family with no family record.
		rec("jzm", "relief_member", "resident", "m7", reliefSpace+"999", map[string]string{"family_id": "999", "name": "李四", "relation": "户主"}),
	}
	person := []string{"p1", "p1", "p2", "p3", "p3", "", "p5", "p6", "p7"}
	tb, counts := Build(recs, person)
	db := openDB(t)
	save(t, db, tb, counts)
	got := rows(t, db, `SELECT person_id, record_key, family_id, CAST(is_head AS VARCHAR), relation, relief_type, relief_status,
		CAST(monthly_amount AS VARCHAR), CAST(family_persons AS VARCHAR), CAST(since AS VARCHAR), CAST(disabled AS VARCHAR)
		FROM facts.relief ORDER BY family_id, person_id`)
	want := [][]string{
		{"p1", "jzf\x1f100001\x1fhouseholder", "100001", "true", "本人", "城市低保", "在保", "1250.00", "3", "2023-05-01", "false"},
		{"p2", "jzm\x1fm2\x1fresident", "100001", "false", "妻", "城市低保", "在保", "1250.00", "3", "2023-05-01", "true"},
		{"p3", "jzm\x1fm3\x1fresident", "100001", "false", "儿子", "城市低保", "在保", "1250.00", "3", "2023-05-01", "false"},
		{"p5", "jzm\x1fm5\x1fresident", "100002", "true", "户主", "特困供养", "停保", "960.00", "2", "2021-03-01", "NULL"},
		{"p6", "jzm\x1fm6\x1fresident", "100002", "false", "孙女", "特困供养", "停保", "960.00", "2", "2021-03-01", "NULL"},
		{"p7", "jzm\x1fm7\x1fresident", "999", "true", "户主", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("facts.relief:\n got  %q\n want %q", got, want)
	}
	// A family's amount is exact and counted once per family by a report's distinct unit.
	got = rows(t, db, `SELECT CAST(sum(a) AS VARCHAR) FROM (SELECT DISTINCT family_id, monthly_amount AS a FROM facts.relief WHERE relief_type IS NOT NULL)`)
	if got[0][0] != "2210.00" {
		t.Errorf("amount per family: got %q, want 2210.00", got)
	}
	for _, w := range []struct{ source, item string }{
		{"jzf", ItemNoPerson + ":relief"}, {"jzm", ItemNoFamily}, {"jzm", "unreadable:relief.disabled"},
	} {
		if c, ok := countOf(counts, w.source, w.item); !ok || c.N != 1 {
			t.Errorf("count %s %s: got %+v (found %v), want 1", w.source, w.item, c, ok)
		}
	}
}

// TestThroughRecords reads raw tables through pipeline/records, as a reconcile does, so that the
// Groups and person parts the facts rely on are the ones Extract makes.
func TestThroughRecords(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	raw := func(name string, cols []string, rows ...[]string) {
		defs := make([]string, 0, len(cols)+4)
		for _, c := range cols {
			defs = append(defs, `"`+c+`" VARCHAR`)
		}
		defs = append(defs, "_ident VARCHAR", "_loc VARCHAR", "_flags VARCHAR", "_current BOOLEAN")
		if _, err := db.SQL().ExecContext(ctx, "CREATE TABLE raw."+name+" ("+strings.Join(defs, ", ")+")"); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			args := []any{}
			for _, v := range r {
				if v == "" {
					args = append(args, nil)
				} else {
					args = append(args, v)
				}
			}
			args = append(args, r[0], name+":"+r[0], "", true)
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
			if _, err := db.SQL().ExecContext(ctx, "INSERT INTO raw."+name+" VALUES ("+marks+")", args...); err != nil {
				t.Fatalf("%s row %d: %v", name, i, err)
			}
		}
	}
	raw("jz_family", []string{"family_id", "户主姓名", "户主身份证", "家庭地址", "保障类型", "保障人口数", "月保障金额", "起始年月", "状态"},
		[]string{"100001", "赵大海", "", "梦都大街18号3栋2单元501室", "城市低保", "2", "1250.00", "2023-05", "在保"})
	raw("jz_member", []string{"family_id", "姓名", "身份证", "与户主关系", "是否残疾"},
		[]string{"100001", "赵大海", "", "本人", "否"},
		[]string{"100001.0", "钱小红", "", "妻", "是"})
	raw("fy", []string{"档案编号", "姓名", "签约医生", "慢病标签", "女方姓名", "男方姓名", "子女出生日期", "生育登记日期"},
		[]string{"JK7", "周小宝", "", "", "吴芳", "周建国", "2025-01-09", "2025-02-10"})
	mp := func(m map[string]string) schema.Mapping {
		out, err := schema.ParseMapping(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	srcs := []records.Source{
		{Name: "jz_family", Role: "relief_family", Mapping: mp(map[string]string{"family_id": "family_id", "户主姓名": "householder_name",
			"户主身份证": "householder_id_no", "家庭地址": "address", "保障类型": "relief_type", "保障人口数": "relief_persons", "月保障金额": "relief_amount",
			"起始年月": "relief_since", "状态": "status"})},
		{Name: "jz_member", Role: "relief_member", Mapping: mp(map[string]string{"family_id": "family_id", "姓名": "name", "身份证": "id_no",
			"与户主关系": "relation", "是否残疾": "disabled_flag"})},
		{Name: "fy", Role: "health", Mapping: mp(map[string]string{"档案编号": "record_no", "姓名": "name", "签约医生": "doctor", "慢病标签": "chronic",
			"女方姓名": "mother.name", "男方姓名": "father.name", "子女出生日期": "child_birth_date", "生育登记日期": "birth_registered_at"})},
	}
	recs, _, err := records.Extract(ctx, db.SQL(), srcs)
	if err != nil {
		t.Fatal(err)
	}
	// Persons by name, as resolve would link them.
	person := make([]string, len(recs))
	for i, r := range recs {
		person[i] = "p:" + r.NameRaw
	}
	tb, counts := Build(recs, person)
	if len(counts) != 0 {
		t.Errorf("counts: %+v", counts)
	}
	save(t, db, tb, counts)
	got := rows(t, db, `SELECT person_id, source, family_id, CAST(is_head AS VARCHAR), relation, relief_type, CAST(monthly_amount AS VARCHAR),
		CAST(since AS VARCHAR), CAST(disabled AS VARCHAR) FROM facts.relief ORDER BY person_id`)
	want := [][]string{
		{"p:赵大海", "jz_family", "100001", "true", "本人", "城市低保", "1250.00", "2023-05-01", "false"},
		{"p:钱小红", "jz_member", "100001", "false", "妻", "城市低保", "1250.00", "2023-05-01", "true"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("facts.relief through records:\n got  %q\n want %q", got, want)
	}
	got = rows(t, db, `SELECT person_id, role, record_no, CAST(child_birth_date AS VARCHAR), CAST(birth_registered_at AS VARCHAR) FROM facts.health ORDER BY role`)
	want = [][]string{
		{"p:周建国", "father", "JK7", "2025-01-09", "2025-02-10"},
		{"p:吴芳", "mother", "JK7", "2025-01-09", "2025-02-10"},
		{"p:周小宝", "resident", "JK7", "2025-01-09", "2025-02-10"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("facts.health through records:\n got  %q\n want %q", got, want)
	}
}

func TestUnreadableIsNullAndCounted(t *testing.T) {
	recs := []records.Record{
		rec("eld", "elderly", "resident", "e1", "", map[string]string{"elder_allowance_band": "七十岁", "lives_alone": "也许", "services": `["助餐"`}),
		rec("eld", "elderly", "resident", "e2", "", map[string]string{"elder_allowance_band": "75-79周岁"}),
		rec("eld", "elderly", "resident", "e3", "", map[string]string{"elder_allowance_band": "75-79周岁"}),
		rec("eld", "elderly", "resident", "e4", "", map[string]string{"elder_allowance_band": "60-69"}),
		rec("eld", "elderly", "resident", "e5", "", map[string]string{"elder_allowance_band": "不详"}),
		rec("dis", "disabled", "resident", "d1", "", map[string]string{"disability_category": "视觉", "disability_grade": "五级", "disability_subsidy": "其他补贴"}),
		rec("vol", "volunteers", "resident", "o1", "", map[string]string{"service_hours": "-3"}),
		rec("vol", "volunteers", "resident", "o2", "", map[string]string{"service_hours": "12,5"}),
		rec("vol", "volunteers", "resident", "o3", "", map[string]string{"service_hours": "1e3"}),
		rec("emp", "employment", "resident", "j1", "", map[string]string{"employment_status": "待业中", "employment_difficulty": "低收入", "registered_at": "1958.03"}),
		rec("ins", "insurance", "resident", "i1", "", map[string]string{"insurance_year": "去年", "status": "退保"}),
		rec("grd", "grid", "resident", "g1", "", map[string]string{"person_type": "常住", "collected_at": "上周"}),
		rec("jzf", "relief_family", "householder", "f1", reliefSpace+"1", map[string]string{"family_id": "1", "relief_type": "五保",
			"status": "审核中", "relief_amount": "约一千", "relief_persons": "0", "relief_since": "2023"}),
		rec("fl", "floating", "resident", "f1", "", map[string]string{"status": "过期"}),
		rec("vet", "veterans", "resident", "v1", "", map[string]string{"enlisted_at": "七五年"}),
		rec("hj", "hukou", "resident", "h1", "", map[string]string{"status": "失踪"}),
		rec("hl", "health", "resident", "k1", "", map[string]string{"signed_at": "2024-13-01", "chronic": "[1,"}),
		rec("pty", "party", "resident", "y1", "", map[string]string{"reported_at": "0"}),
	}
	person := make([]string, len(recs))
	for i := range person {
		person[i] = "p" + string(rune('a'+i))
	}
	tb, counts := Build(recs, person)
	db := openDB(t)
	save(t, db, tb, counts)

	// Every parsed column of these rows is NULL.
	for _, q := range []string{
		`SELECT count(*) FROM facts.elderly WHERE allowance_band IS NOT NULL OR lives_alone IS NOT NULL OR services IS NOT NULL`,
		`SELECT count(*) FROM facts.disabled WHERE category IS NOT NULL OR category_name IS NOT NULL OR grade IS NOT NULL OR living_subsidy IS NOT NULL OR care_subsidy IS NOT NULL`,
		`SELECT count(*) FROM facts.volunteers WHERE service_hours IS NOT NULL`,
		`SELECT count(*) FROM facts.employment WHERE status IS NOT NULL OR difficulty IS NOT NULL OR registered_at IS NOT NULL`,
		`SELECT count(*) FROM facts.insurance WHERE year IS NOT NULL OR status IS NOT NULL`,
		`SELECT count(*) FROM facts.grid WHERE person_type IS NOT NULL OR collected_at IS NOT NULL`,
		`SELECT count(*) FROM facts.relief WHERE relief_type IS NOT NULL OR relief_status IS NOT NULL OR monthly_amount IS NOT NULL OR family_persons IS NOT NULL OR since IS NOT NULL`,
		`SELECT count(*) FROM facts.floating WHERE status IS NOT NULL`,
		`SELECT count(*) FROM facts.veterans WHERE enlisted_at IS NOT NULL`,
		`SELECT count(*) FROM facts.hukou WHERE status IS NOT NULL`,
		`SELECT count(*) FROM facts.health WHERE signed_at IS NOT NULL OR chronic IS NOT NULL`,
		`SELECT count(*) FROM facts.party WHERE reported_at IS NOT NULL`,
	} {
		if got := rows(t, db, q); got[0][0] != "0" {
			t.Errorf("%s: %s", q, got[0][0])
		}
	}
	// Each row is there nevertheless.
	if got := rows(t, db, `SELECT (SELECT count(*) FROM facts.elderly), (SELECT count(*) FROM facts.volunteers), (SELECT count(*) FROM facts.relief)`); !reflect.DeepEqual(got, [][]string{{"5", "3", "1"}}) {
		t.Errorf("rows: %q", got)
	}

	want := map[[2]string]store.Count{}
	for _, c := range []store.Count{
		{Source: "eld", Item: "unreadable:elderly.allowance_band", N: 5, Detail: `"七十岁", "75-79周岁", "60-69"`},
		{Source: "eld", Item: "unreadable:elderly.lives_alone", N: 1, Detail: `"也许"`},
		{Source: "eld", Item: "unreadable:elderly.services", N: 1, Detail: `"[\"助餐\""`},
		{Source: "dis", Item: "unreadable:disabled.category", N: 1, Detail: `"视觉"`},
		{Source: "dis", Item: "unreadable:disabled.grade", N: 1, Detail: `"五级"`},
		{Source: "dis", Item: "unreadable:disabled.living_subsidy", N: 1, Detail: `"其他补贴"`},
		{Source: "dis", Item: "unreadable:disabled.care_subsidy", N: 1, Detail: `"其他补贴"`},
		{Source: "vol", Item: "unreadable:volunteers.service_hours", N: 3, Detail: `"-3", "12,5", "1e3"`},
		{Source: "emp", Item: "unreadable:employment.status", N: 1, Detail: `"待业中"`},
		{Source: "emp", Item: "unreadable:employment.difficulty", N: 1, Detail: `"低收入"`},
		{Source: "emp", Item: "unreadable:employment.registered_at", N: 1, Detail: `"1958.03"`},
		{Source: "ins", Item: "unreadable:insurance.year", N: 1, Detail: `"去年"`},
		{Source: "ins", Item: "unreadable:insurance.status", N: 1, Detail: `"退保"`},
		{Source: "grd", Item: "unreadable:grid.person_type", N: 1, Detail: `"常住"`},
		{Source: "grd", Item: "unreadable:grid.collected_at", N: 1, Detail: `"上周"`},
		{Source: "jzf", Item: "unreadable:relief.relief_type", N: 1, Detail: `"五保"`},
		{Source: "jzf", Item: "unreadable:relief.relief_status", N: 1, Detail: `"审核中"`},
		{Source: "jzf", Item: "unreadable:relief.monthly_amount", N: 1, Detail: `"约一千"`},
		{Source: "jzf", Item: "unreadable:relief.family_persons", N: 1, Detail: `"0"`},
		{Source: "jzf", Item: "unreadable:relief.since", N: 1, Detail: `"2023"`},
		{Source: "fl", Item: "unreadable:floating.status", N: 1, Detail: `"过期"`},
		{Source: "vet", Item: "unreadable:veterans.enlisted_at", N: 1, Detail: `"七五年"`},
		{Source: "hj", Item: "unreadable:hukou.status", N: 1, Detail: `"失踪"`},
		{Source: "hl", Item: "unreadable:health.signed_at", N: 1, Detail: `"2024-13-01"`},
		{Source: "hl", Item: "unreadable:health.chronic", N: 1, Detail: `"[1,"`},
		{Source: "pty", Item: "unreadable:party.reported_at", N: 1, Detail: `"0"`},
	} {
		c.Stage = "facts"
		want[[2]string{c.Source, c.Item}] = c
	}
	if len(counts) != len(want) {
		t.Errorf("got %d counts, want %d: %+v", len(counts), len(want), counts)
	}
	for _, c := range counts {
		if w, ok := want[[2]string{c.Source, c.Item}]; !ok || c != w {
			t.Errorf("count %+v, want %+v", c, w)
		}
	}
	for i := 1; i < len(counts); i++ {
		a, b := counts[i-1], counts[i]
		if a.Source > b.Source || a.Source == b.Source && a.Item >= b.Item {
			t.Errorf("counts not sorted by source and item: %+v before %+v", a, b)
		}
	}
}

func TestSaveReplaces(t *testing.T) {
	recs, person := everyRole()
	db := openDB(t)
	tb, _ := Build(recs, person)
	save(t, db, tb, nil)
	// The second reconcile knows one grid record only: every other table is emptied.
	tb, _ = Build(recs[len(recs)-1:], person[len(person)-1:])
	save(t, db, tb, nil)
	var parts []string
	for _, name := range TableNames {
		parts = append(parts, "(SELECT count(*) FROM "+name+")")
	}
	got := rows(t, db, "SELECT "+strings.Join(parts, ", "))
	want := []string{"0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "1"}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("rows per table after the second save: got %q, want %q", got[0], want)
	}
	// A failed save rolls back with the caller's transaction: the rows stay.
	ctx := context.Background()
	err := db.Tx(ctx, func(conn *sql.Conn) error {
		if err := Save(ctx, conn, &Tables{}); err != nil {
			return err
		}
		_, err := conn.ExecContext(ctx, "SELECT * FROM facts.no_such_table")
		return err
	})
	if err == nil {
		t.Fatal("expected the transaction to fail")
	}
	if got := rows(t, db, "SELECT count(*) FROM facts.grid"); got[0][0] != "1" {
		t.Errorf("facts.grid after a rolled-back save: %s rows", got[0][0])
	}
}

func TestParsers(t *testing.T) {
	day := func(s string) string {
		d, ok := parseDay(s)
		if !ok {
			return "-"
		}
		return d.Format("2006-01-02")
	}
	for in, want := range map[string]string{
		"19580304": "1958-03-04", "1958-03-04": "1958-03-04", "1958/3/4": "1958-03-04", "1958.03.04": "1958-03-04", "1958年3月4日": "1958-03-04",
		"１９５８－０３－０４": "1958-03-04", "21248": "1958-03-04", "2026-01-02 10:00:00": "2026-01-02",
		"1958.03": "-", "1958-02-30": "-", "不详": "-", "0": "-",
	} {
		if got := day(in); got != want {
			t.Errorf("parseDay(%q) = %s, want %s", in, got, want)
		}
	}
	month := func(s string) string {
		d, ok := parseMonth(s)
		if !ok {
			return "-"
		}
		return d.Format("2006-01-02")
	}
	for in, want := range map[string]string{
		"1975.06": "1975-06-01", "2023-05": "2023-05-01", "195803": "1958-03-01", "1958年3月": "1958-03-01",
		"1980-09-15": "1980-09-01", "1958-02-30": "1958-02-01", "1980年13月": "-", "2023": "-",
	} {
		if got := month(in); got != want {
			t.Errorf("parseMonth(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"true": "true", "FALSE": "false", "是": "true", "否": "false", "1": "true", "0": "false", "Y": "true", "n": "false", " 是 ": "true", "也许": "-",
	} {
		v, ok := parseBool(in)
		got := "-"
		if ok {
			got = map[bool]string{true: "true", false: "false"}[v]
		}
		if got != want {
			t.Errorf("parseBool(%q) = %s, want %s", in, got, want)
		}
	}
	dec := func(s string, spec decimalSpec) string {
		d, ok := parseDecimal(s, spec)
		if !ok {
			return "-"
		}
		return d.Value.String() + "e-" + string(rune('0'+d.Scale))
	}
	for _, c := range []struct {
		in   string
		spec decimalSpec
		want string
	}{
		{"1,250.00", amountSpec, "125000e-2"}, {"1250元", amountSpec, "125000e-2"}, {"￥1 250.5", amountSpec, "125050e-2"}, {"１２５０", amountSpec, "125000e-2"},
		{"0.005", amountSpec, "1e-2"}, {"0.004", amountSpec, "0e-2"}, {"9999999999.99", amountSpec, "999999999999e-2"}, {"10000000000", amountSpec, "-"},
		{"9999999999.995", amountSpec, "-"}, {"12.5", hoursSpec, "125e-1"}, {"12.25", hoursSpec, "123e-1"}, {"12.24", hoursSpec, "122e-1"},
		{"-3", amountSpec, "-"}, {"1,25", amountSpec, "-"}, {"12,5", hoursSpec, "-"}, {"1.2.3", amountSpec, "-"}, {"1e3", amountSpec, "-"}, {".5", amountSpec, "-"},
		{"5.", amountSpec, "-"}, {"元", amountSpec, "-"}, {"1,234,567.8", amountSpec, "123456780e-2"},
	} {
		if got := dec(c.in, c.spec); got != c.want {
			t.Errorf("parseDecimal(%q, %v) = %s, want %s", c.in, c.spec, got, c.want)
		}
	}
	for in, want := range map[string][]string{
		`["助餐","助洁"]`: {"助餐", "助洁"},
		`[]`:          {},
		"高血压;糖尿病":     {"高血压", "糖尿病"},
		"独居老人；残疾人，低保、退役军人": {"独居老人", "残疾人", "低保", "退役军人"},
		"a, b ,,a":       {"a", "b"},
		`["x", null, 3]`: {"x", "3"},
	} {
		got, ok := parseList(in)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("parseList(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	if _, ok := parseList(`["a"`); ok {
		t.Error(`parseList("[\"a\"") read a broken JSON array`)
	}
	for in, want := range map[string]string{
		"80-89周岁": "80-89", "80～89岁": "80-89", "90-99周岁": "90-99", "90-99": "90-99", "百岁以上": "100+", "100岁以上": "100+", "100周岁及以上": "100+", "100+": "100+",
		"75-79周岁": "-", "": "-",
	} {
		got, ok := parseBand(in)
		if !ok {
			got = "-"
		}
		if got != want {
			t.Errorf("parseBand(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]int32{"视力": 1, "听力残疾": 2, "言语": 3, "肢体": 4, "肢体残疾": 4, "智力": 5, "精神残疾": 6, "多重": 7, "4": 4, "视觉": 0, "8": 0} {
		if got, _ := parseCategory(in); got != want {
			t.Errorf("parseCategory(%q) = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]int32{"一级": 1, "二级": 2, "2": 2, "贰级": 2, "叁级": 3, "四级残疾": 4, "5": 0, "五级": 0} {
		if got, _ := parseGrade(in); got != want {
			t.Errorf("parseGrade(%q) = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string][2]int32{dis20: {4, 2}, "32010535062120751": {5, 1}, "320105193506212074": {0, 0}, "32010519350621207409": {0, 0}} {
		c, _ := certCategory(in)
		g, _ := certGrade(in)
		if [2]int32{c, g} != want {
			t.Errorf("cert %q: category %d grade %d, want %v", in, c, g, want)
		}
	}
	for in, want := range map[string]subsidies{"困难生活补贴、重度护理补贴": {true, true}, "困难生活补贴": {true, false}, "重度护理补贴": {false, true}, "无": {}} {
		if got, ok := parseSubsidies(in); !ok || got != want {
			t.Errorf("parseSubsidies(%q) = %+v %v, want %+v", in, got, ok, want)
		}
	}
	for _, c := range []struct {
		parse   func(string) (string, bool)
		in, out string
	}{
		{parseHukouStatus, "0", "正常"}, {parseHukouStatus, "2", "迁出"}, {parseHukouStatus, "死亡", "死亡"},
		{parseReliefType, "低保", "城市低保"}, {parseReliefType, "特困人员", "特困供养"}, {parseReliefStatus, "停保", "停保"},
		{parseEmploymentStatus, "失业", "登记失业"}, {parseEmploymentStatus, "就业", "就业"}, {parseDifficulty, "零就业家庭", "零就业家庭"},
		{parseInsuranceCategory, "居民", "城乡居民"}, {parseInsuranceStatus, "终止", "终止"}, {parsePersonType, "境外人员", "境外"},
		{parseFloatingStatus, " 有效 ", "有效"}, {parseNumber, "100001.0", "100001"}, {parseNumber, "１０ ０", "100"}, {parseNumber, "1.05", "1.05"},
	} {
		if got, ok := c.parse(c.in); !ok || got != c.out {
			t.Errorf("%q read as %q %v, want %q", c.in, got, ok, c.out)
		}
	}
	if y, ok := parseYear("２０２５年"); !ok || y != 2025 {
		t.Errorf("parseYear: %d %v", y, ok)
	}
	if n, ok := parseCount("3人"); !ok || n != 3 {
		t.Errorf("parseCount: %d %v", n, ok)
	}
}

// FuzzParsers: no value parser panics, and what they read keeps their promises.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{"1,250.00", "1250元", "19580304", "1958.03", "21248", "80-89周岁", "百岁以上", `["助餐","助洁"]`, "[", "高血压;糖尿病",
		"肢体残疾", "贰级", dis20, "32010535062120751", "困难生活补贴、重度护理补贴", "是", "１２５０", "9999999999.995", "1e400", "\xff\xfe", "", " ", "，，", "[null]", "[[1]]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := parseDay(s); ok && (d.Year() < 1800 || d.Year() > 2200) {
			t.Errorf("parseDay(%q) = %v", s, d)
		}
		if d, ok := parseMonth(s); ok && d.Day() != 1 {
			t.Errorf("parseMonth(%q) = %v", s, d)
		}
		for _, spec := range []decimalSpec{amountSpec, hoursSpec} {
			if d, ok := parseDecimal(s, spec); ok {
				if d.Value == nil || d.Value.Sign() < 0 || len(d.Value.String()) > int(spec.width) || d.Scale != spec.scale || d.Width != spec.width {
					t.Errorf("parseDecimal(%q) = %+v", s, d)
				}
			}
		}
		if l, ok := parseList(s); ok {
			for _, it := range l {
				if it == "" || strings.TrimSpace(it) != it {
					t.Errorf("parseList(%q) has item %q", s, it)
				}
			}
		}
		if c, ok := parseCategory(s); ok && (c < 1 || c > 7) {
			t.Errorf("parseCategory(%q) = %d", s, c)
		}
		if g, ok := parseGrade(s); ok && (g < 1 || g > 4) {
			t.Errorf("parseGrade(%q) = %d", s, g)
		}
		if c, ok := certCategory(s); ok && (c < 1 || c > 7) {
			t.Errorf("certCategory(%q) = %d", s, c)
		}
		if g, ok := certGrade(s); ok && (g < 1 || g > 4) {
			t.Errorf("certGrade(%q) = %d", s, g)
		}
		if b, ok := parseBand(s); ok && b != "80-89" && b != "90-99" && b != "100+" {
			t.Errorf("parseBand(%q) = %q", s, b)
		}
		parseBool(s)
		parseSubsidies(s)
		parseCount(s)
		parseYear(s)
		parseNumber(s)
		parseCert(s)
		for _, p := range []func(string) (string, bool){parseHukouStatus, parseReliefType, parseReliefStatus, parseEmploymentStatus, parseDifficulty,
			parseInsuranceCategory, parseInsuranceStatus, parsePersonType, parseFloatingStatus} {
			p(s)
		}
		// Build itself takes any value in any field.
		fields := map[string]string{}
		for _, k := range []string{"status", "status_date", "relief_amount", "relief_since", "disability_cert", "disability_category", "disability_grade",
			"disability_subsidy", "services", "tags", "service_hours", "enlisted_at", "insurance_year", "relief_persons", "lives_alone", "family_id"} {
			fields[k] = s
		}
		var recs []records.Record
		for _, role := range []string{"hukou", "floating", "relief_family", "relief_member", "elderly", "ledger", "disabled", "employment", "insurance",
			"health", "veterans", "party", "volunteers", "grid"} {
			recs = append(recs, rec("s"+role, role, "resident", s, reliefSpace+s, fields))
		}
		person := make([]string, len(recs)-1) // one record short, and every other one without a person
		for i := range person {
			if i%2 == 0 {
				person[i] = "p"
			}
		}
		Build(recs, person)
	})
}
