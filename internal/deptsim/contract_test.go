package deptsim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"communityhub/internal/deptsim/apisim"
)

// contractColumns are the columns ../shared/spec/departments.md lists for each table, file or API
// item, keyed by the table name in district.json (or the system name for files and APIs).
var contractColumns = map[string][]string{
	"hj.person":    {"公民身份号码", "姓名", "性别", "民族", "出生日期", "户号", "与户主关系", "户籍地址", "居住地址", "人员状态", "状态变更日期", "gxsj"},
	"hj.household": {"户号", "户主身份号码", "户籍地址", "户别", "gxsj"},
	"floating":     {"idCard", "name", "gender", "birthday", "hukouAddress", "currentAddress", "permitNo", "registeredAt", "phone", "status"},
	"jz_family":    {"family_id", "户主姓名", "户主身份证", "家庭地址", "保障类型", "保障人口数", "月保障金额", "起始年月", "状态", "update_time"},
	"jz_member":    {"family_id", "姓名", "身份证", "与户主关系", "是否残疾"},
	"elderly":      {"xm", "sfzh", "csrq", "lxdh", "jzdz", "gljt", "dj", "fwlx"},
	"disabled":     {"残疾证号", "姓名", "性别", "残疾类别", "残疾等级", "监护人姓名", "监护人电话", "现住址", "发证日期", "两项补贴"},
	"jy_register":  {"身份证号码", "姓名", "性别", "出生日期", "文化程度", "就业状态", "登记日期", "就业困难人员类别", "联系电话", "居住地址", "xgsj"},
	"yb.cbry":      {"个人编号", "证件类型", "证件号码", "姓名", "性别", "出生日期", "参保类别", "参保状态", "缴费年度", "所属社区", "last_modified"},
	"health":       {"档案编号", "姓名", "身份证号", "出生日期", "联系电话", "签约医生", "签约日期", "慢病标签", "女方姓名", "女方身份证", "男方姓名", "男方身份证", "子女出生日期", "生育登记日期"},
	// A ledger's 序号 column is layout, not data (the contract's 台账 have one).
	"veterans":   {"序号", "基本信息/姓名", "基本信息/性别", "基本信息/身份证号", "基本信息/出生年月", "服役信息/入伍时间", "服役信息/退役时间", "服役信息/部队番号", "优抚类别", "联系方式"},
	"volunteers": {"volunteerNo", "realName", "mobile", "idNoMasked", "registerDate", "serviceHours", "team"},
	"party":      {"姓名", "性别", "出生年月", "身份证号", "所在党组织", "报到社区", "报到日期", "手机号码"},
	"grid":       {"网格编号", "姓名", "性别", "身份证号", "手机号", "住址", "人员类型", "标签", "采集日期"},
}

// writtenColumns returns the column set each table, file or API of a written district carries,
// read from the files themselves (SQLite columns, JSON keys, CSV headers, xlsx headers).
func writtenColumns(t *testing.T, dir string, m *Manifest) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	add := func(name string, cols []string) {
		set := map[string]bool{}
		for _, c := range append(out[name], cols...) {
			set[c] = true
		}
		var all []string
		for c := range set {
			all = append(all, c)
		}
		sort.Strings(all)
		out[name] = all
	}
	for _, s := range m.Systems {
		if s.Name == "ledger" {
			continue // the community ledgers are not one of the contract's systems
		}
		rows := readSystem(t, dir, s)
		for loc, r := range rows {
			if r.Unreadable != "" {
				continue
			}
			name := s.Name
			if s.Access == "sqlite" {
				name = loc[:strings.Index(loc, ":")]
			}
			var cols []string
			for c := range r.Cols {
				cols = append(cols, c)
			}
			add(name, cols)
		}
	}
	return out
}

// Every system carries exactly the contract's columns: no extra keys, ids or update times.
func TestSystemsCarryExactlyTheContractColumns(t *testing.T) {
	dir, res := defaultDistrict(t)
	got := writtenColumns(t, dir, &res.Manifest)
	for name, want := range contractColumns {
		w := append([]string(nil), want...)
		sort.Strings(w)
		if !slices.Equal(got[name], w) {
			t.Errorf("%s carries %v, the contract lists %v", name, got[name], w)
		}
	}
	for name := range got {
		if _, ok := contractColumns[name]; !ok {
			t.Errorf("%s is not a table of the contract", name)
		}
	}
}

// The written config names only contract columns (keys, required, cursors, API columns and the
// mapping), so a deployer who copies it asks no system for a column it does not have.
func TestConfigNamesOnlyContractColumns(t *testing.T) {
	dir, _ := defaultDistrict(t)
	cfg := readDeployConfig(t, dir)
	table := map[string]string{"hj_person": "hj.person", "hj_household": "hj.household", "relief_family": "jz_family", "relief_member": "jz_member",
		"employment": "jy_register", "insurance": "yb.cbry"}
	checked := 0
	for _, src := range cfg.Source {
		name := src.Name
		if tb, ok := table[name]; ok {
			name = tb
		}
		want, ok := contractColumns[name]
		if !ok {
			continue // the ledgers
		}
		checked++
		known := map[string]bool{}
		for _, c := range want {
			known[c] = true
		}
		if sc, ok := src.Options["sheet_column"].(string); ok {
			known[sc] = true // the connector's own column: the sheet name
		}
		var named []string
		named = append(named, src.Key...)
		named = append(named, src.Required...)
		if src.Cursor != "" {
			named = append(named, src.Cursor)
		}
		for _, o := range []string{"key_field", "updated_field"} {
			if v, ok := src.Options[o].(string); ok {
				named = append(named, v)
			}
		}
		if cols, ok := src.Options["columns"].([]any); ok {
			for _, c := range cols {
				named = append(named, fmt.Sprint(c))
			}
		}
		for col := range src.Mapping {
			named = append(named, col)
		}
		for _, c := range named {
			if !known[c] {
				t.Errorf("source %s names column %q, which the contract does not list for %s", src.Name, c, name)
			}
		}
	}
	if checked != len(contractColumns) {
		t.Errorf("checked %d sources against the contract, want %d", checked, len(contractColumns))
	}
	for _, src := range cfg.Source {
		if src.Name == "floating" {
			if _, ok := src.Options["updated_field"]; ok || src.Options["updated_param"] != "updatedAfter" {
				t.Errorf("floating options %v: want incremental by the run's start time (updated_param without updated_field)", src.Options)
			}
		}
	}
}

// Every location the truth lists names one true person per role, however often it repeats (a
// person registered twice can share a key): the evaluation can tell every row's people.
func TestTruthLocationsNameOnePersonEach(t *testing.T) {
	dir, res := defaultDistrict(t)
	for _, s := range res.Manifest.Systems {
		who := map[string]string{}
		repeated := 0
		for _, tr := range readTruthRecords(t, dir, s.Name) {
			for role, p := range tr.Persons {
				k := tr.Locator + "\x1f" + role
				if prev, ok := who[k]; ok {
					repeated++
					if prev != p {
						t.Errorf("%s: %s names %s as %s and also %s", s.Name, tr.Locator, role, prev, p)
					}
				}
				who[k] = p
			}
		}
		if s.Name == "grid" && repeated != 0 {
			t.Errorf("grid: %d repeated file:line locations", repeated)
		}
	}
}

// A son given his father's name lives in his father's flat, the truth says so, and his grid row
// without an ID carries the name they share.
func TestNamesakesInOneFlat(t *testing.T) {
	dir, res := defaultDistrict(t)
	persons := readCSVFile(t, filepath.Join(dir, "truth", "persons.csv"))
	col := map[string]int{}
	for i, c := range persons[0] {
		col[c] = i
	}
	byID := map[string][]string{}
	for _, p := range persons[1:] {
		byID[p[0]] = p
	}
	pairs := 0
	for _, p := range persons[1:] {
		other := p[col["namesake"]]
		if other == "" {
			continue
		}
		o := byID[other]
		if o == nil || o[col["namesake"]] != p[0] || o[col["name"]] != p[col["name"]] || o[col["household_id"]] != p[col["household_id"]] || o[0] == p[0] {
			t.Fatalf("namesakes %s and %s: not two people of one name in one household who name each other", p[0], other)
		}
		if p[col["relation"]] == "20" {
			pairs++
			if o[col["relation"]] != "01" || o[col["sex"]] != "1" || o[col["birth"]] >= p[col["birth"]] {
				t.Errorf("namesake son %s: the other (%s) is not his older father", p[0], other)
			}
		}
	}
	var st QuirkStat
	for _, s := range res.Stats {
		if s.System == PopulationQuirks && s.Quirk == NameNamesake {
			st = s
		}
	}
	if pairs == 0 || pairs != st.Hits {
		t.Errorf("%d namesake sons in the truth, %d drawn (%+v)", pairs, st.Hits, st)
	}
	// Their grid rows without an ID: the name is the father's, and he lives in the same flat.
	noID := 0
	for _, tr := range readTruthRecords(t, dir, "grid") {
		if hasAny(tr.Quirks, IDMissingNamesake) {
			noID++
			p := byID[tr.Persons["resident"]]
			if p == nil || p[col["namesake"]] == "" || p[col["relation"]] != "20" {
				t.Errorf("grid %s: id_missing_namesake on someone who is not a namesake son", tr.Locator)
			}
		}
	}
	if noID == 0 {
		t.Error("no namesake son's grid row without an ID")
	}
}

// System 2's items carry no update time; the API filters updatedAfter on its own times (kept
// beside the items), and a changed item with a new internal time is served again.
func TestFloatingFiltersOnInternalUpdateTimes(t *testing.T) {
	dir, res := defaultDistrict(t)
	var path string
	for _, s := range res.Manifest.Systems {
		if s.Name == "floating" {
			path = filepath.Join(dir, s.Path)
		}
	}
	items, err := LoadItems(path)
	if err != nil {
		t.Fatal(err)
	}
	times, err := LoadUpdated(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != len(items) || len(items) == 0 {
		t.Fatalf("%d update times for %d items", len(times), len(items))
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "updatedAt") || strings.Contains(string(raw), "updated") {
		t.Fatal("the served items carry an update time")
	}
	cutoff := res.Manifest.AsOf + "T00:00:00Z"
	after, _ := time.Parse(time.RFC3339, cutoff)
	after = after.AddDate(0, -3, 0)
	want := 0
	for _, tm := range times {
		if tm.After(after) {
			want++
		}
		if tm.After(DefaultAsOf.Add(24 * time.Hour)) {
			t.Errorf("update time %v after the district's date", tm)
		}
	}
	if want == 0 || want == len(items) {
		t.Fatalf("bad test: %d of %d items updated after %v", want, len(items), after)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	servers, err := ServeAPIs(ctx, dir, nil, apisim.Faults{})
	if err != nil {
		t.Fatal(err)
	}
	srv := servers["floating"]
	total := func(after time.Time) int {
		req, _ := http.NewRequest("GET", srv.URL()+"/api/v1/residents?size=1&updatedAfter="+url.QueryEscape(after.Format(time.RFC3339)), nil)
		req.Header.Set("Authorization", "Bearer "+res.Manifest.Tokens["floating"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var b struct{ Total int }
		if err := json.Unmarshal(body, &b); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %s: %v", resp.StatusCode, body, err)
		}
		return b.Total
	}
	if got := total(after); got != want {
		t.Errorf("updatedAfter %v: total %d, want %d", after, got, want)
	}
	now := time.Now()
	if got := total(now); got != 0 {
		t.Errorf("updatedAfter now: total %d, want 0", got)
	}
	times[5] = now.Add(time.Minute)
	srv.SetData(items, times)
	if got := total(now); got != 1 {
		t.Errorf("after one item changed: total %d, want 1", got)
	}
}
