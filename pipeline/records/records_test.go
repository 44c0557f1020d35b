package records

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"communityhub/pipeline/standardize"
	"communityhub/pipeline/store"
	"communityhub/schema"
)

// rawRow is one row of a raw table made for a test: its identity, reader flags and values by
// source column (a column left out is NULL).
type rawRow struct {
	ident, flags string
	vals         map[string]string
	ended        bool // not _current: a superseded version, which Extract must not read
}

// testDB opens a fresh hub database in a temporary directory.
func testDB(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "hub.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// createRaw makes raw.<name> as the landing does (source columns as text, then the meta
// columns) and fills it.
func createRaw(t *testing.T, db *sql.DB, name string, cols []string, rows []rawRow) {
	t.Helper()
	ctx := context.Background()
	defs := make([]string, 0, len(cols)+4)
	for _, c := range cols {
		defs = append(defs, quote(c)+" VARCHAR")
	}
	defs = append(defs, "_ident VARCHAR", "_loc VARCHAR", "_flags VARCHAR", "_current BOOLEAN")
	if _, err := db.ExecContext(ctx, "CREATE TABLE raw."+quote(name)+" ("+strings.Join(defs, ", ")+")"); err != nil {
		t.Fatal(err)
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(cols)+4), ", ")
	for i, r := range rows {
		args := make([]any, 0, len(cols)+4)
		for _, c := range cols {
			if v, ok := r.vals[c]; ok {
				args = append(args, v)
			} else {
				args = append(args, nil)
			}
		}
		args = append(args, r.ident, name+":"+strings.Repeat("x", i), r.flags, !r.ended)
		if _, err := db.ExecContext(ctx, "INSERT INTO raw."+quote(name)+" VALUES ("+marks+")", args...); err != nil {
			t.Fatal(err)
		}
	}
}

func mapping(t *testing.T, m map[string]string) schema.Mapping {
	t.Helper()
	mp, err := schema.ParseMapping(m)
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

// byKey indexes records by source, row identity and role.
func byKey(recs []Record) map[string]Record {
	out := map[string]Record{}
	for _, r := range recs {
		out[r.Key] = r
	}
	return out
}

func key(source, ident, role string) string { return source + "\x1f" + ident + "\x1f" + role }

func statsOf(t *testing.T, stats []SourceStats, source string) SourceStats {
	t.Helper()
	for _, s := range stats {
		if s.Source == source {
			return s
		}
	}
	t.Fatalf("no stats for %s in %+v", source, stats)
	return SourceStats{}
}

// The household register: persons grouped by 户号 with GB/T 4761 codes, and the household table,
// whose householder shares the group and takes the row's 户号 and address.
func TestExtractHukouGroups(t *testing.T) {
	db := testDB(t)
	ctx := context.Background()
	createRaw(t, db.SQL(), "huji_person", []string{"公民身份号码", "姓名", "户号", "与户主关系"}, []rawRow{
		{ident: "p1", vals: map[string]string{"公民身份号码": "320105198001011237", "姓名": "王建国", "户号": "H0001", "与户主关系": "01"}},
		{ident: "p2", vals: map[string]string{"公民身份号码": "320105198203041223", "姓名": "李梅", "户号": " H0001 ", "与户主关系": "02"}},
		{ident: "p3", vals: map[string]string{"姓名": "王小明", "户号": "H0001", "与户主关系": "20"}},
		{ident: "p4", vals: map[string]string{"姓名": "王建军", "户号": "H0002", "与户主关系": "50"}},
		{ident: "p5", vals: map[string]string{"姓名": "赵六"}},
		{ident: "old", vals: map[string]string{"姓名": "已变更", "户号": "H0001"}, ended: true},
	})
	createRaw(t, db.SQL(), "huji_household", []string{"户号", "户主身份号码", "户籍地址"}, []rawRow{
		{ident: "H0001", vals: map[string]string{"户号": "H0001", "户主身份号码": "320105198001011237", "户籍地址": "梦都大街18号3栋2单元501室"}},
	})
	srcs := []Source{
		{Name: "huji_person", Role: "hukou", Mapping: mapping(t, map[string]string{"公民身份号码": "id_no", "姓名": "name", "户号": "household_no", "与户主关系": "relation"})},
		{Name: "huji_household", Role: "hukou_household", Mapping: mapping(t, map[string]string{"户号": "household_no", "户主身份号码": "householder_id_no", "户籍地址": "hukou_address"})},
	}
	recs, stats, err := Extract(ctx, db.SQL(), srcs)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 {
		t.Fatalf("got %d records, want 6 (5 persons and 1 householder; the ended row not read): %+v", len(recs), recs)
	}
	m := byKey(recs)
	const h1 = "role:hukou\x1fhousehold_no\x1fH0001"
	for _, c := range []struct{ key, group, rel string }{
		{key("huji_person", "p1", "resident"), h1, RelHead},
		{key("huji_person", "p2", "resident"), h1, RelSpouse},
		{key("huji_person", "p3", "resident"), h1, RelChild},
		{key("huji_person", "p5", "resident"), "", ""},
		{key("huji_household", "H0001", "householder"), h1, RelHead},
	} {
		r, ok := m[c.key]
		if !ok {
			t.Fatalf("no record %q", c.key)
		}
		if r.Group != c.group || r.Relation != c.rel {
			t.Errorf("%q: Group %q Relation %q; want %q %q", c.key, r.Group, r.Relation, c.group, c.rel)
		}
		if r.SourceRole == "" {
			t.Errorf("%q: no SourceRole", c.key)
		}
	}
	if r := m[key("huji_person", "p4", "resident")]; r.Group != "role:hukou\x1fhousehold_no\x1fH0002" || r.Relation != RelParent {
		t.Errorf("p4 Group %q Relation %q", r.Group, r.Relation)
	}
	hh := m[key("huji_household", "H0001", "householder")]
	if hh.ID.Class != standardize.IDValid || hh.Fields["household_no"] != "H0001" || hh.Fields["hukou_address"] == "" {
		t.Errorf("householder = %+v; want the valid ID with the row's 户号 and address", hh)
	}
	hs := statsOf(t, stats, "huji_household")
	if hs.Rows != 1 || hs.Records != 1 || hs.MergedIntoHouseholder != 1 || hs.Skipped[SkipNoPerson] != 0 || hs.RowsWithoutRecord != 0 {
		t.Errorf("household stats = %+v", hs)
	}
	ps := statsOf(t, stats, "huji_person")
	if ps.Rows != 5 || ps.Records != 5 || ps.Grouped != 4 || ps.NoName != 0 {
		t.Errorf("person stats = %+v", ps)
	}
}

// Social relief: the family row's householder and the member rows share the family's group
// across the two tables; free-text relations are normalized; a member without an ID takes part.
func TestExtractReliefFamilies(t *testing.T) {
	db := testDB(t)
	ctx := context.Background()
	createRaw(t, db.SQL(), "fam", []string{"family_id", "户主姓名", "户主身份证", "家庭地址", "状态"}, []rawRow{
		{ident: "100001", vals: map[string]string{"family_id": "100001", "户主姓名": "张伟", "户主身份证": "320105197001011232", "家庭地址": "吉兆营92-18-4-502", "状态": "在保"}},
		{ident: "100002", vals: map[string]string{"family_id": "100002", "家庭地址": "梦都大街1号", "状态": "停保"}}, // names nobody
	})
	createRaw(t, db.SQL(), "mem", []string{"family_id", "姓名", "身份证", "与户主关系"}, []rawRow{
		{ident: "m1", vals: map[string]string{"family_id": "100001", "姓名": "张伟", "身份证": "320105197001011232", "与户主关系": "本人"}},
		{ident: "m2", vals: map[string]string{"family_id": "100001", "姓名": "刘芳", "与户主关系": "妻"}},
		{ident: "m3", vals: map[string]string{"family_id": "１０００01.0", "姓名": "张小宝", "与户主关系": "孙女"}},
		{ident: "m4", vals: map[string]string{"family_id": "100001", "姓名": "张二", "与户主关系": "兒子"}},
		{ident: "m5", vals: map[string]string{"family_id": "100001", "与户主关系": "儿子"}}, // names nobody
	})
	srcs := []Source{
		{Name: "fam", Role: "relief_family", Mapping: mapping(t, map[string]string{"family_id": "family_id", "户主姓名": "householder_name", "户主身份证": "householder_id_no", "家庭地址": "address", "状态": "status"})},
		{Name: "mem", Role: "relief_member", Mapping: mapping(t, map[string]string{"family_id": "family_id", "姓名": "name", "身份证": "id_no", "与户主关系": "relation"})},
	}
	recs, stats, err := Extract(ctx, db.SQL(), srcs)
	if err != nil {
		t.Fatal(err)
	}
	m := byKey(recs)
	const g = "role:relief\x1ffamily_id\x1f100001"
	for _, c := range []struct{ key, rel string }{
		{key("fam", "100001", "householder"), RelHead},
		{key("mem", "m1", "resident"), RelHead},
		{key("mem", "m2", "resident"), RelSpouse},
		{key("mem", "m3", "resident"), RelGrandchild},
		{key("mem", "m4", "resident"), RelChild},
	} {
		r, ok := m[c.key]
		if !ok {
			t.Fatalf("no record %q in %d records", c.key, len(recs))
		}
		if r.Group != g || r.Relation != c.rel {
			t.Errorf("%q: Group %q Relation %q; want %q %q", c.key, r.Group, r.Relation, g, c.rel)
		}
	}
	if len(recs) != 5 {
		t.Errorf("got %d records, want 5", len(recs))
	}
	hh := m[key("fam", "100001", "householder")]
	if hh.Name.Std != "张伟" || hh.ID.Class != standardize.IDValid || hh.Addr.Key() != "吉兆营|92|18|4|502" || hh.Fields["status"] != "在保" {
		t.Errorf("householder = name %q id %s addr %q fields %v", hh.Name.Std, hh.ID.Class, hh.Addr.Key(), hh.Fields)
	}
	if r := m[key("mem", "m2", "resident")]; r.ID.Class != standardize.IDAbsent || r.Name.Std != "刘芳" {
		t.Errorf("member without ID = %+v", r)
	}
	fs := statsOf(t, stats, "fam")
	if fs.Rows != 2 || fs.Records != 1 || fs.RowsWithoutRecord != 1 || fs.Skipped[SkipNoPerson] != 1 || fs.MergedIntoHouseholder != 1 {
		t.Errorf("family stats = %+v", fs)
	}
	ms := statsOf(t, stats, "mem")
	if ms.Rows != 5 || ms.Records != 4 || ms.RowsWithoutRecord != 1 || ms.Skipped[SkipNoPerson] != 1 || ms.Grouped != 4 {
		t.Errorf("member stats = %+v", ms)
	}
}

// A birth registration names the resident, the mother and the father: one row group, the
// parents RelParent of the resident. A row naming only its resident has no group; a father
// column with only a phone names nobody and is counted.
func TestExtractMultiPersonRow(t *testing.T) {
	db := testDB(t)
	ctx := context.Background()
	createRaw(t, db.SQL(), "birth", []string{"姓名", "身份证号", "女方姓名", "女方身份证", "男方姓名", "男方电话"}, []rawRow{
		{ident: "A1", vals: map[string]string{"姓名": "陈小宝", "女方姓名": "林娜", "女方身份证": "320105199001011223", "男方姓名": "陈刚"}},
		{ident: "A2", vals: map[string]string{"姓名": "周一", "身份证号": "320105195001011233", "男方电话": "13800001111"}},
	})
	srcs := []Source{{Name: "birth", Role: "health", Mapping: mapping(t, map[string]string{"姓名": "name", "身份证号": "id_no",
		"女方姓名": "mother.name", "女方身份证": "mother.id_no", "男方姓名": "father.name", "男方电话": "father.phone"})}}
	recs, stats, err := Extract(ctx, db.SQL(), srcs)
	if err != nil {
		t.Fatal(err)
	}
	m := byKey(recs)
	const g = "source:birth\x1frow\x1fA1"
	for _, c := range []struct{ key, rel string }{
		{key("birth", "A1", "resident"), RelHead},
		{key("birth", "A1", "mother"), RelParent},
		{key("birth", "A1", "father"), RelParent},
	} {
		r, ok := m[c.key]
		if !ok {
			t.Fatalf("no record %q", c.key)
		}
		if r.Group != g || r.Relation != c.rel {
			t.Errorf("%q: Group %q Relation %q; want %q %q", c.key, r.Group, r.Relation, g, c.rel)
		}
	}
	if r := m[key("birth", "A1", "mother")]; r.ID.Class != standardize.IDValid || r.Name.Std != "林娜" {
		t.Errorf("mother = %+v", r)
	}
	alone, ok := m[key("birth", "A2", "resident")]
	if !ok || alone.Group != "" || alone.Relation != "" {
		t.Errorf("single-person row: %+v (present %v); want no group", alone, ok)
	}
	if _, ok := m[key("birth", "A2", "father")]; ok {
		t.Error("a father part with only a phone made a record")
	}
	st := statsOf(t, stats, "birth")
	if st.Rows != 2 || st.Records != 4 || st.Skipped[SkipNoPerson] != 1 || st.RowsWithoutRecord != 0 || st.Grouped != 3 {
		t.Errorf("stats = %+v", st)
	}
}

// 残疾证号: trimmed before it is cut; 20 characters give the 18-character ID, 17 the legacy
// 15-digit one.
func TestExtractDisabilityCert(t *testing.T) {
	db := testDB(t)
	ctx := context.Background()
	createRaw(t, db.SQL(), "dis", []string{"残疾证号", "姓名"}, []rawRow{
		{ident: "c20", vals: map[string]string{"残疾证号": "32010519800101123742", "姓名": "甲"}},
		{ident: "c20sp", vals: map[string]string{"残疾证号": "  32010519800101123742 ", "姓名": "乙"}},
		{ident: "c20wide", vals: map[string]string{"残疾证号": "３２０１０５１９８０01011237４２", "姓名": "丙"}},
		{ident: "c17", vals: map[string]string{"残疾证号": " 32010580010112341 ", "姓名": "丁"}},
		{ident: "c18", vals: map[string]string{"残疾证号": "320105198001011237", "姓名": "戊"}},
		{ident: "c18sp", vals: map[string]string{"残疾证号": " 320105198001011237 ", "姓名": "庚"}}, // 20 bytes with its spaces
		{ident: "c17wide", vals: map[string]string{"残疾证号": "３２０１０５８００１０１１２３４１", "姓名": "辛"}},
		{ident: "junk", vals: map[string]string{"残疾证号": "12345", "姓名": "己"}},
	})
	srcs := []Source{{Name: "dis", Role: "disabled", Mapping: mapping(t, map[string]string{"残疾证号": "disability_cert", "姓名": "name"})}}
	recs, _, err := Extract(ctx, db.SQL(), srcs)
	if err != nil {
		t.Fatal(err)
	}
	m := byKey(recs)
	for _, c := range []struct {
		ident string
		class standardize.IDClass
		std   string
	}{
		{"c20", standardize.IDValid, "320105198001011237"},
		{"c20sp", standardize.IDValid, "320105198001011237"},
		{"c20wide", standardize.IDValid, "320105198001011237"},
		{"c17", standardize.IDLegacy, "320105198001011237"},
		{"c18", standardize.IDValid, "320105198001011237"},
		{"c18sp", standardize.IDValid, "320105198001011237"},
		{"c17wide", standardize.IDLegacy, "320105198001011237"},
		{"junk", standardize.IDInvalid, ""},
	} {
		r := m[key("dis", c.ident, "resident")]
		if r.ID.Class != c.class || r.ID.Std != c.std {
			t.Errorf("%s: cert %q → ID raw %q class %s std %q; want %s %q", c.ident, r.Fields["disability_cert"], r.IDRaw, r.ID.Class, r.ID.Std, c.class, c.std)
		}
	}
}

// Nothing dropped silently: records without a name but with an ID take part; rows naming nobody,
// guardians and contacts, unreadable birth dates are counted; a never-landed source says so.
func TestExtractCounts(t *testing.T) {
	db := testDB(t)
	ctx := context.Background()
	createRaw(t, db.SQL(), "grid", []string{"姓名", "身份证号", "出生日期", "手机号", "住址", "监护人姓名"}, []rawRow{
		{ident: "g1", vals: map[string]string{"身份证号": "320105198001011237", "出生日期": "不详"}},
		{ident: "g2", vals: map[string]string{"姓名": "买买提•吐尔逊", "出生日期": "1958-02-30", "手机号": "+86 138-0000-1111", "住址": "吉兆营92-18-4-502"}},
		{ident: "g3", vals: map[string]string{"手机号": "13800002222", "监护人姓名": "某人"}},
		{ident: "g4", vals: map[string]string{"姓名": "Elizabeth  Wright", "出生日期": "1990.3", "监护人姓名": "某人"}},
		{ident: "g5", vals: map[string]string{"姓名": "  ", "身份证号": ""}},
	})
	srcs := []Source{
		{Name: "grid", Role: "grid", Mapping: mapping(t, map[string]string{"姓名": "name", "身份证号": "id_no", "出生日期": "birth_date",
			"手机号": "phone", "住址": "address", "监护人姓名": "guardian.name", "不在表里": "note"})},
		{Name: "never", Role: "ledger", Mapping: mapping(t, map[string]string{"姓名": "name"})},
	}
	recs, stats, err := Extract(ctx, db.SQL(), srcs)
	if err != nil {
		t.Fatal(err)
	}
	m := byKey(recs)
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3: %+v", len(recs), recs)
	}
	noName := m[key("grid", "g1", "resident")]
	if noName.Name.Std != "" || noName.ID.Class != standardize.IDValid || noName.Birth != "" || noName.BirthFlag != standardize.DateUnparsed {
		t.Errorf("record without name = %+v", noName)
	}
	g2 := m[key("grid", "g2", "resident")]
	if g2.Name.Std != "买买提·吐尔逊" || g2.Name.Pinyin != "mai mai ti tu er xun" || g2.Name.Surname == "" {
		t.Errorf("dotted name = %+v", g2.Name)
	}
	if g2.Birth != "1958-02" || g2.BirthFlag != standardize.DateImpossible {
		t.Errorf("impossible date: Birth %q flag %q; want the year and month", g2.Birth, g2.BirthFlag)
	}
	if len(g2.Phones) != 1 || g2.Phones[0] != "13800001111" || g2.Addr.Key() != "吉兆营|92|18|4|502" {
		t.Errorf("phones %v address %q", g2.Phones, g2.Addr.Key())
	}
	if g4 := m[key("grid", "g4", "resident")]; g4.Name.Std != "Elizabeth Wright" || g4.Birth != "1990-03" || g4.BirthFlag != standardize.DateYearMonth {
		t.Errorf("g4 = name %q birth %q %q", g4.Name.Std, g4.Birth, g4.BirthFlag)
	}
	st := statsOf(t, stats, "grid")
	want := SourceStats{Source: "grid", Landed: true, Rows: 5, Records: 3, RowsWithoutRecord: 2, NoName: 1, BirthUnusable: 1}
	if st.Source != want.Source || st.Landed != want.Landed || st.Rows != want.Rows || st.Records != want.Records ||
		st.RowsWithoutRecord != want.RowsWithoutRecord || st.NoName != want.NoName || st.BirthUnusable != want.BirthUnusable ||
		st.Grouped != 0 || st.MergedIntoHouseholder != 0 {
		t.Errorf("stats = %+v; want %+v", st, want)
	}
	if st.Skipped[SkipNoPerson] != 1 || st.Skipped[SkipInPassing] != 2 || len(st.Skipped) != 2 {
		t.Errorf("skipped = %v; want 1 %s (g3; g5 has no value), 2 %s", st.Skipped, SkipNoPerson, SkipInPassing)
	}
	if nv := statsOf(t, stats, "never"); nv.Landed || nv.Rows != 0 {
		t.Errorf("never-landed source stats = %+v", nv)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i-1].Key >= recs[i].Key {
			t.Fatalf("records not sorted by key: %q before %q", recs[i-1].Key, recs[i].Key)
		}
	}
}

// Landed column names (a clash renamed "_loc" to "src_loc") are read through meta.source_state,
// and a number-cell flag makes the ID numeric.
func TestExtractLandedNamesAndFlags(t *testing.T) {
	db := testDB(t)
	ctx := context.Background()
	createRaw(t, db.SQL(), "led", []string{"姓名", "src_loc", "身份证号"}, []rawRow{
		{ident: "r1", flags: "身份证号:number", vals: map[string]string{"姓名": "王伟", "src_loc": "梦都大街18号", "身份证号": "320105198001011237"}},
	})
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO meta.source_state (source, columns, landed_names) VALUES (?, ?, ?)`,
		"led", `["姓名","_loc","身份证号"]`, `["姓名","src_loc","身份证号"]`); err != nil {
		t.Fatal(err)
	}
	srcs := []Source{{Name: "led", Role: "ledger", Mapping: mapping(t, map[string]string{"姓名": "name", "_loc": "address", "身份证号": "id_no"})}}
	recs, _, err := Extract(ctx, db.SQL(), srcs)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].AddrRaw != "梦都大街18号" || recs[0].ID.Class != standardize.IDNumeric {
		t.Fatalf("records = %+v", recs)
	}
}

// A failed query is an error, never an empty source.
func TestExtractQueryErrors(t *testing.T) {
	db := testDB(t)
	ctx := context.Background()
	// A raw table without the landing's meta columns: the row query fails.
	if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE raw.broken ("姓名" VARCHAR)`); err != nil {
		t.Fatal(err)
	}
	srcs := []Source{{Name: "broken", Mapping: mapping(t, map[string]string{"姓名": "name"})}}
	if recs, _, err := Extract(ctx, db.SQL(), srcs); err == nil || !strings.Contains(err.Error(), "source broken") {
		t.Fatalf("Extract on a broken raw table = %d records, %v; want an error naming the source", len(recs), err)
	}
	// Unreadable landed names in meta.source_state are an error too.
	createRaw(t, db.SQL(), "bad_state", []string{"姓名"}, []rawRow{{ident: "1", vals: map[string]string{"姓名": "王伟"}}})
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO meta.source_state (source, columns, landed_names) VALUES ('bad_state', '["姓名"]', 'not json')`); err != nil {
		t.Fatal(err)
	}
	srcs = []Source{{Name: "bad_state", Mapping: mapping(t, map[string]string{"姓名": "name"})}}
	if _, _, err := Extract(ctx, db.SQL(), srcs); err == nil || !strings.Contains(err.Error(), "landed_names") {
		t.Fatalf("Extract with unreadable landed names: %v; want an error", err)
	}
	// A closed database fails at once.
	db.Close()
	if _, _, err := Extract(ctx, db.SQL(), srcs); err == nil {
		t.Fatal("Extract on a closed database: no error")
	}
}

// build: the hash changes with every value the record depends on, the group included.
func TestBuildHash(t *testing.T) {
	base := func() *part {
		return &part{ident: "1", loc: "x", role: "resident", f: map[string]string{"name": "王伟", "family_id": "7"}, group: "source:s\x1ffamily_id\x1f7"}
	}
	a := build("s", base(), map[string]standardize.Address{})
	for name, change := range map[string]func(p *part){
		"value":   func(p *part) { p.f["name"] = "王玮" },
		"numeric": func(p *part) { p.numeric = true },
		"group":   func(p *part) { p.group = "source:s\x1ffamily_id\x1f8" },
		"multi":   func(p *part) { p.multi = true }, // Relation becomes RelHead
	} {
		p := base()
		change(p)
		if b := build("s", p, map[string]standardize.Address{}); b.Hash == a.Hash {
			t.Errorf("changing the %s left the hash %x", name, a.Hash)
		}
	}
	if again := build("s", base(), map[string]standardize.Address{}); again.Hash != a.Hash || again.Key != "s\x1f1\x1fresident" {
		t.Errorf("build is not deterministic: %x vs %x, key %q", again.Hash, a.Hash, again.Key)
	}
}

func TestParseRelation(t *testing.T) {
	cases := map[string]string{
		"": "", "  ": "",
		"01": RelHead, "1": RelHead, "03": RelHead, "02": RelSpouse, "10": RelSpouse, "11": RelSpouse, "12": RelSpouse,
		"20": RelChild, "22": RelChild, "27": RelChild, "29": RelChild, "30": RelChild, "32": RelChild, "39": RelChild,
		"28": RelOther, "38": RelOther, "40": RelGrandchild, "41": RelGrandchild, "44": RelGrandchild, "45": RelOther,
		"50": RelParent, "51": RelParent, "52": RelParent, "54": RelOther, "57": RelParent,
		"60": RelGrandparent, "63": RelGrandparent, "65": RelOther, "70": RelSibling, "71": RelSibling, "72": RelOther,
		"77": RelSibling, "80": RelOther, "93": RelOther, "99": RelOther, "０１": RelHead, "100": RelOther,
		"本人": RelHead, "户主": RelHead, " 户 主 ": RelHead, "本人（户主）": RelHead,
		"妻": RelSpouse, "丈夫": RelSpouse, "配偶": RelSpouse, "老伴": RelSpouse,
		"儿子": RelChild, "子": RelChild, "长子": RelChild, "女儿": RelChild, "长女": RelChild, "次女": RelChild,
		"三儿子": RelChild, "独生女": RelChild, "养女": RelChild, "兒子": RelChild,
		"孙女": RelGrandchild, "孙子": RelGrandchild, "外孙": RelGrandchild, "长孙": RelGrandchild, "孫女": RelGrandchild,
		"父亲": RelParent, "母亲": RelParent, "继母": RelParent,
		"祖母": RelGrandparent, "外婆": RelGrandparent, "爷爷": RelGrandparent,
		"哥哥": RelSibling, "妹妹": RelSibling, "大哥": RelSibling, "兄弟": RelSibling,
		"儿媳": RelOther, "女婿": RelOther, "岳母": RelOther, "其他": RelOther, "非亲属": RelOther, "邻居": RelOther,
	}
	for in, want := range cases {
		if got := ParseRelation(in); got != want {
			t.Errorf("ParseRelation(%q) = %q; want %q", in, got, want)
		}
	}
}
