package resolve

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"communityhub/pipeline/records"
	"communityhub/pipeline/standardize"
)

// rc builds a record as pipeline/records would, from raw values.
type rc struct {
	key, id, name, sex, birth, phone, addr, group, rel string
}

func (c rc) record() records.Record {
	r := records.Record{Key: c.key, Source: strings.SplitN(c.key, ":", 2)[0], Loc: c.key, Role: "resident", IDRaw: c.id, NameRaw: c.name,
		Group: c.group, Relation: c.rel, Fields: map[string]string{}}
	r.ID = standardize.ParseID(c.id, false)
	r.Name = standardize.ParseName(c.name)
	switch c.sex {
	case "1":
		r.Sex = 1
	case "2":
		r.Sex = 2
	}
	if c.birth != "" {
		r.Fields["birth_date"] = c.birth
		if d, flag, err := standardize.ParseDate(c.birth); err == nil {
			r.Birth, r.BirthFlag = d.String(), flag
		}
	}
	if c.phone != "" {
		r.Phones = []string{c.phone}
	}
	if c.addr != "" {
		r.AddrRaw, r.Addr = c.addr, standardize.ParseAddress(c.addr)
	}
	for k, v := range map[string]string{"id_no": c.id, "name": c.name, "sex": c.sex, "phone": c.phone, "address": c.addr} {
		if v != "" {
			r.Fields[k] = v
		}
	}
	return r
}

func run(t *testing.T, m *Model, cs []rc, opts Options) (*Result, []records.Record) {
	t.Helper()
	recs := make([]records.Record, len(cs))
	for i, c := range cs {
		recs[i] = c.record()
	}
	n := 0
	opts.Model = m
	if opts.NextID == nil {
		opts.NextID = func() string { n++; return fmt.Sprintf("n%03d", n) }
	}
	res, err := Resolve(recs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res, recs
}

func builtIn(t *testing.T) *Model {
	t.Helper()
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// id makes a valid GB 11643 number from 17 digits.
func id(t *testing.T, d17 string) string {
	t.Helper()
	for _, c := range "0123456789X" {
		if x := standardize.ParseID(d17+string(c), false); x.Class == standardize.IDValid {
			return d17 + string(c)
		}
	}
	t.Fatalf("no check character for %s", d17)
	return ""
}

func TestModelErrorsListChoices(t *testing.T) {
	base := "threshold = 0.5\nreview_low = 0.1\nprior = 0.001\n"
	cases := map[string]string{
		base + "colour = 1\n":             "valid here: threshold",
		base + "prior_from = \"guess\"\n": "want one of em, fixed, ids",
		base + "[[comparison]]\nname = \"shoe\"\nlevels = [{name=\"a\", rule=\"name_exact\", m=0.5, u=0.5}, {name=\"b\", rule=\"else\", m=0.5, u=0.5}]\n":                               "built-ins: address, birth",
		base + "[[comparison]]\nname = \"n\"\nfield = \"name\"\nlevels = [{name=\"a\", rule=\"soundalike\", m=0.5, u=0.5}, {name=\"b\", rule=\"else\", m=0.5, u=0.5}]\n":                "functions: date_days, date_swap, exact, jaro_winkler",
		base + "[[comparison]]\nname = \"n\"\nfield = \"nmae\"\nlevels = [{name=\"a\", rule=\"exact\", m=0.5, u=0.5}, {name=\"b\", rule=\"else\", m=0.5, u=0.5}]\n":                     "declare it in extra_fields",
		base + "[[comparison]]\nname = \"n\"\nfield = \"name\"\nlevels = [{name=\"a\", rule=\"jaro_winkler\", threshold=2, m=0.5, u=0.5}, {name=\"b\", rule=\"else\", m=0.5, u=0.5}]\n": "want a similarity",
		base + "[[comparison]]\nname = \"id\"\nlevels = [{name=\"a\", rule=\"id_same & nose\", m=0.5, u=0.5}, {name=\"b\", rule=\"else\", m=0.5, u=0.5}]\n":                             "built-in rules: addr_building",
		base + "[[blocking]]\nname = \"b\"\nkeys = [\"surname_soundex\"]\n":                                                                                                             "built-in keys: birth, birth_year",
		base + "[[blocking]]\nname = \"b\"\nkeys = [\"name[:x]\"]\n":                                                                                                                    "NAME[:N]",
		base + "[[comparison]]\nname = \"n\"\nfield = \"name\"\nlevels = [{name=\"a\", rule=\"exact\", m=0.5, u=0.5, colour=1}, {name=\"b\", rule=\"else\", m=0.5, u=0.5}]\n":           "valid here: name, rule, threshold, m, u",
	}
	for text, want := range cases {
		_, err := ParseModel([]byte(text), "x.toml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("model\n%s\nerror %v, want it to say %q", text, err, want)
		}
	}
	if _, err := ParseModel([]byte(base+"extra_fields = [\"postcode\"]\n[[blocking]]\nname = \"b\"\nkeys = [\"postcode[:2]\", \"soundex(name)\", \"tokens(address)\"]\n"), "ok.toml"); err != nil {
		t.Errorf("a valid model: %v", err)
	}
}

func TestFieldFunctions(t *testing.T) {
	cases := []struct {
		fn   string
		th   float64
		a, b string
		want bool
	}{
		{"exact", 0, "smith", "smith", true},
		{"exact", 0, "smith", "smyth", false},
		{"jaro_winkler", 0.9, "martha", "marhta", true},
		{"jaro_winkler", 0.9, "martha", "mary", false},
		{"levenshtein", 1, "smith", "smth", true},
		{"levenshtein", 1, "smith", "smyht", false},
		{"levenshtein", 2, "smith", "smiht", true},
		{"numeric", 2, "42", "44", true},
		{"numeric", 2, "42", "45", false},
		{"numeric", 2, "42", "x", false},
		{"date_days", 3, "1990-01-30", "1990-02-01", true},
		{"date_days", 3, "1990-01-30", "1990-02-03", false},
		{"date_days", 3, "1990-01", "1990-01", false},
		{"date_swap", 0, "19900304", "1990-04-03", true},
		{"date_swap", 0, "19900304", "19900305", true},
		{"date_swap", 0, "19900304", "19910305", false},
		{"token_set", 1, "elizabeth wright", "wright elizabeth", true},
		{"token_set", 1, "elizabeth wright", "liz wright", false},
		{"token_set", 0.3, "elizabeth wright", "liz wright", true},
		{"prefix", 3, "william", "willis", true},
		{"prefix", 3, "william", "wi", false},
	}
	for _, c := range cases {
		f, err := functions[c.fn].make(c.th)
		if err != nil {
			t.Fatalf("%s(%g): %v", c.fn, c.th, err)
		}
		if got := f(c.a, c.b); got != c.want {
			t.Errorf("%s(%g)(%q, %q) = %v, want %v", c.fn, c.th, c.a, c.b, got, c.want)
		}
	}
	if got := soundex("Robert"); got != "R163" {
		t.Errorf("soundex(Robert) = %s, want R163", got)
	}
	if got := soundex("Ashcraft"); got != "A261" {
		t.Errorf("soundex(Ashcraft) = %s, want A261", got)
	}
	if got := normText("  Mary-Ann  O'Neil, Jr. "); got != "mary-ann o'neil jr" {
		t.Errorf("normText = %q", got)
	}
}

func TestBuiltinRules(t *testing.T) {
	m := builtIn(t)
	a := prepare(ptr(rc{key: "a", id: id(t, "32010519800101123"), name: "張偉", sex: "1", birth: "1980-01-01", phone: "13800000001", addr: "梦都大街18号3栋2单元501室"}.record()), m)
	b := prepare(ptr(rc{key: "b", id: "3201**********" + a.idStd[14:], name: "张伟", birth: "1980-01-07", phone: "13800000001", addr: "梦都大街18-3-2-501"}.record()), m)
	c := prepare(ptr(rc{key: "c", name: "张玮", sex: "2", birth: "19800101", addr: "梦都大街18号3栋1单元101室"}.record()), m)
	check := func(rule string, x, y *rec, want bool) {
		t.Helper()
		f, err := builtinRule(rule)
		if err != nil {
			t.Fatal(err)
		}
		if got := f(x, y); got != want {
			t.Errorf("%s = %v, want %v", rule, got, want)
		}
	}
	check("name_exact", &a, &b, true) // traditional 張 is simplified
	check("name_exact", &a, &c, false)
	check("name_pinyin", &a, &c, true)
	check("id_compatible", &a, &b, true)
	check("id_same", &a, &b, false)
	check("birth_typo", &a, &b, true)
	check("birth_exact", &a, &c, true)
	check("addr_flat & phone_shared", &a, &b, true)
	check("addr_flat", &a, &c, false)
	check("addr_building", &a, &c, true)
	check("id_contradicts", &a, &c, true) // c's own sex contradicts a's ID
}

func ptr(r records.Record) *records.Record { return &r }

func TestDifferentValidIDsNeverMergeAndDecisionsWin(t *testing.T) {
	m := builtIn(t)
	id1, id2 := id(t, "32010519800101123"), id(t, "32010519800101125")
	cs := []rc{
		{key: "s:1", id: id1, name: "王伟", sex: "1", birth: "1980-01-01", phone: "13800000001", addr: "梦都大街18号3栋2单元501室"},
		{key: "s:2", id: id2, name: "王伟", sex: "1", birth: "1980-01-01", phone: "13800000001", addr: "梦都大街18号3栋2单元501室"},
		{key: "t:1", name: "李娜", sex: "2", birth: "1990-05-05", phone: "13900000002", addr: "梦都大街20号1栋1单元101室"},
		{key: "t:2", name: "李娜", sex: "2", birth: "1990-05-05", phone: "13900000002", addr: "梦都大街20号1栋1单元101室"},
		{key: "u:1", name: "赵六", sex: "1", birth: "1970-07-07"},
		{key: "u:2", name: "钱七", sex: "2", birth: "1960-06-06"},
	}
	res, _ := run(t, m, cs, Options{})
	if res.Person[0] == res.Person[1] {
		t.Error("two different valid IDs merged")
	}
	for _, l := range res.Review {
		if l.A <= 1 && l.B <= 1 {
			t.Error("a pair of two different valid IDs is in the review queue")
		}
	}
	if res.Person[2] != res.Person[3] {
		t.Errorf("identical records without IDs not merged: %v", res.Person)
	}
	if res.Person[4] == res.Person[5] {
		t.Error("unrelated records merged")
	}
	res, _ = run(t, m, cs, Options{Decisions: []Decision{{A: "t:1", B: "t:2", Same: false}, {A: "u:1", B: "u:2", Same: true}}})
	if res.Person[2] == res.Person[3] {
		t.Error("a reviewer's \"different\" was overruled")
	}
	if res.Person[4] != res.Person[5] {
		t.Error("a reviewer's \"same\" was ignored")
	}
}

func TestStableIDsAndRevival(t *testing.T) {
	m := builtIn(t)
	id1 := id(t, "32010519800101123")
	cs := []rc{
		{key: "s:1", id: id1, name: "王伟", sex: "1", birth: "1980-01-01"},
		{key: "g:1", name: "王伟", sex: "1", birth: "1980-01-01", phone: "13800000001"},
		{key: "s:2", id: id(t, "32010519900202223"), name: "李娜", sex: "2", birth: "1990-02-02"},
	}
	first, recs := run(t, m, cs, Options{})
	prev := map[string]Prev{}
	for i, r := range recs {
		prev[r.Key] = Prev{first.Person[i], r.Hash}
	}
	again, _ := run(t, m, cs, Options{Previous: prev, Params: &first.Params, NextID: func() string { return "fresh" }})
	for i := range cs {
		if again.Person[i] != first.Person[i] {
			t.Errorf("record %s: person %s, then %s on an unchanged re-run", cs[i].key, first.Person[i], again.Person[i])
		}
	}
	// 李娜's record vanishes for a run, then returns: she gets her id back.
	gone := map[string]Prev{"s:1": prev["s:1"], "g:1": prev["g:1"]}
	back, _ := run(t, m, cs, Options{Previous: gone, Returned: map[string]Prev{"s:2": prev["s:2"]}, Params: &first.Params, NextID: func() string { return "fresh" }})
	if back.Person[2] != first.Person[2] {
		t.Errorf("returning record got %s, want its old person %s", back.Person[2], first.Person[2])
	}
	revived := false
	for _, e := range back.Events {
		revived = revived || (e.Kind == "revived" && e.Person == first.Person[2])
	}
	if !revived {
		t.Errorf("no revived event: %+v", back.Events)
	}
}

// A district of unrelated filler residents, so that u and the prior are estimated on data.
func filler(t *testing.T, n int) []rc {
	var out []rc
	sur := []rune("赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜")
	giv := []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红")
	for i := 0; i < n; i++ {
		name := string(sur[i%len(sur)]) + string(giv[(i/len(sur))%len(giv)]) + string(giv[(i*7/len(sur))%len(giv)])
		birth := fmt.Sprintf("19%02d-%02d-%02d", 30+i%70, 1+i%12, 1+i%28)
		d17 := fmt.Sprintf("320105%s%03d", strings.ReplaceAll(birth, "-", ""), i%1000)
		addr := fmt.Sprintf("梦都大街%d号%d栋%d单元%d室", 1+i%90, 1+i%20, 1+i%4, 101+i%18)
		valid := id(t, d17)
		out = append(out, rc{key: fmt.Sprintf("h:%d", i), id: valid, name: name, sex: fmt.Sprint(1 + i%2), birth: birth, addr: addr},
			rc{key: fmt.Sprintf("i:%d", i), id: valid, name: name, sex: fmt.Sprint(1 + i%2), birth: birth})
	}
	return out
}

func TestSameNameSameFlatAcrossGenerationsGoesToReview(t *testing.T) {
	m := builtIn(t)
	flat := "兴隆大街53号21栋2单元1102室"
	father, son := id(t, "32010519600101123"), id(t, "32010519900303123")
	cs := append(filler(t, 400),
		rc{key: "hj:f", id: father, name: "王福", sex: "1", birth: "1960-01-01", addr: flat, group: "hh1", rel: records.RelHead},
		rc{key: "hj:s", id: son, name: "王福", sex: "1", birth: "1990-03-03", addr: flat, group: "hh1", rel: records.RelChild},
		rc{key: "ins:f", id: father, name: "王福", sex: "1", birth: "1960-01-01"},
		rc{key: "ins:s", id: son, name: "王福", sex: "1", birth: "1990-03-03"},
		// The son's grid row: no ID, no birth date — nothing tells father from son.
		rc{key: "grid:s", name: "王福", sex: "1", addr: flat, phone: "18015044744"},
		// The father's grid row with his birth date: decided by it.
		rc{key: "grid:f", name: "王福", sex: "1", addr: flat, birth: "1960-01-01"},
	)
	res, recs := run(t, m, cs, Options{})
	at := map[string]int{}
	for i, r := range recs {
		at[r.Key] = i
	}
	if res.Person[at["hj:f"]] == res.Person[at["hj:s"]] {
		t.Fatal("father and son merged")
	}
	if p := res.Person[at["grid:s"]]; p == res.Person[at["hj:f"]] || p == res.Person[at["hj:s"]] {
		t.Errorf("the ambiguous grid row was merged (into %s)", p)
	}
	queued := false
	for _, l := range res.Review {
		queued = queued || l.A == at["grid:s"] || l.B == at["grid:s"]
	}
	if !queued || res.Stats.Ambiguous == 0 {
		t.Errorf("the ambiguous grid row is not in review (ambiguous %d)", res.Stats.Ambiguous)
	}
	// Equally like father and son: each of its pairs to them is ≈ 0.5, not ≈ 1.
	for _, l := range res.Review {
		other := l.A + l.B - at["grid:s"]
		if (l.A == at["grid:s"] || l.B == at["grid:s"]) && (other == at["hj:f"] || other == at["hj:s"]) {
			if l.Rule != "ambiguous" || l.Competing != 1 || l.P < 0.4 || l.P > 0.6 {
				t.Errorf("grid:s–%s: rule %s, %d competing, p %.3f; want ambiguous, 1, ≈ 0.5", recs[other].Key, l.Rule, l.Competing, l.P)
			}
			if e := Explain(m, res.Params, l); !strings.Contains(e, "against 1 competing person") {
				t.Errorf("explanation does not name the competition:\n%s", e)
			}
		}
	}
	if res.Person[at["grid:f"]] != res.Person[at["hj:f"]] {
		t.Error("the grid row with the father's birth date was not linked to him")
	}
	for i := 1; i < len(res.Review); i++ {
		if res.Review[i].Gain > res.Review[i-1].Gain {
			t.Fatal("review queue not ordered by expected gain")
		}
	}
}

func TestFamilyLinksMemberWithoutID(t *testing.T) {
	m := builtIn(t)
	head, child := id(t, "32010519700101123"), id(t, "32010520100505123")
	cs := append(filler(t, 400),
		rc{key: "hj:h", id: head, name: "陈建国", sex: "1", birth: "1970-01-01", addr: "燕山路9号7栋1单元1104室", group: "hj\x1f1", rel: records.RelHead},
		rc{key: "hj:c", id: child, name: "陈小雨", sex: "2", birth: "2010-05-05", addr: "燕山路9号7栋1单元1104室", group: "hj\x1f1", rel: records.RelChild},
		rc{key: "ins:c", id: child, name: "陈小雨", sex: "2", birth: "2010-05-05"},
		// A relief family: the householder with an ID, the child with a name only.
		rc{key: "jz:h", id: head, name: "陈建国", group: "jz\x1f9", rel: records.RelHead},
		rc{key: "jz:c", name: "陈小雨", group: "jz\x1f9", rel: records.RelChild},
		// The same name in another family: not linked.
		rc{key: "jz2:h", id: id(t, "32010519650101123"), name: "刘强", group: "jz\x1f10", rel: records.RelHead},
		rc{key: "jz2:c", name: "陈小雨", group: "jz\x1f10", rel: records.RelChild},
	)
	res, recs := run(t, m, cs, Options{})
	at := map[string]int{}
	for i, r := range recs {
		at[r.Key] = i
	}
	if res.Person[at["jz:c"]] != res.Person[at["hj:c"]] || res.Person[at["hj:c"]] != res.Person[at["ins:c"]] {
		t.Errorf("the relief member without ID was not linked through her family: %s %s %s", res.Person[at["jz:c"]], res.Person[at["hj:c"]], res.Person[at["ins:c"]])
	}
	if res.Person[at["jz2:c"]] == res.Person[at["hj:c"]] {
		t.Error("a same-named member of another family was linked")
	}
}

func TestNothingDroppedSilently(t *testing.T) {
	m := builtIn(t)
	m.MaxBlock = 3
	cs := filler(t, 60)
	for i := 0; i < 5; i++ {
		cs = append(cs, rc{key: fmt.Sprintf("g:%d", i), name: "王伟", sex: "1", birth: "1980-01-01", phone: fmt.Sprintf("1380000%04d", i)})
	}
	cs = append(cs, rc{key: "x:noname", id: id(t, "32010519800101123"), birth: "1980-01-01"},
		rc{key: "x:old", name: "张三", birth: "1750-01-01"},
		rc{key: "x:bad", name: "李四", birth: "待定"})
	res, _ := run(t, m, cs, Options{})
	found := false
	for _, b := range res.Stats.OversizeBlocks {
		found = found || (b.Blocking == "name_birth" && b.Key == "wang wei|1980" && b.Size == 5)
	}
	if !found || res.Stats.BlocksSkipped != len(res.Stats.OversizeBlocks) {
		t.Errorf("oversize block not reported: %+v", res.Stats.OversizeBlocks)
	}
	for reason, want := range map[string]int{ReasonNoName: 1, ReasonBirthBefore1800: 1, ReasonBirthUnparsed: 1} {
		if got := res.Stats.Counts[reason]; got != want {
			t.Errorf("count %s = %d, want %d", reason, got, want)
		}
	}
	if len(res.Person) != len(cs) {
		t.Errorf("%d records in, %d assigned", len(cs), len(res.Person))
	}
}

func TestFixedPriorRespected(t *testing.T) {
	m := builtIn(t)
	m.PriorFrom, m.Prior = FromFixed, 0.00123
	res, _ := run(t, m, filler(t, 300), Options{})
	if res.Params.Lambda != 0.00123 || res.Stats.PriorFrom != FromFixed {
		t.Errorf("prior %g from %s, want the fixed 0.00123", res.Params.Lambda, res.Stats.PriorFrom)
	}
	m.PriorFrom = FromIDs
	res, _ = run(t, m, filler(t, 300), Options{})
	// 300 equal-ID pairs among 600 records carrying a valid ID.
	if want := 300.0 / (600 * 599 / 2); res.Stats.PriorFrom != FromIDs || res.Params.Lambda != want {
		t.Errorf("prior %g from %s, want %g from ids", res.Params.Lambda, res.Stats.PriorFrom, want)
	}
	if res.Stats.MFrom["name"] != FromIDs || res.Stats.MFrom["id"] != FromEM {
		t.Errorf("m from %v: want name from ids, id (which reads the ID) from em", res.Stats.MFrom)
	}
}

// An ambiguous pair's probability is its odds against "neither" and each competing person.
func TestAmbiguousProbabilitySharedAmongCompetitors(t *testing.T) {
	xs := []rec{{}, {idStd: "A"}, {idStd: "B"}, {idStd: "C"}, {}}
	cases := []struct {
		name    string
		links   []Link // links of record 0 (no ID) to 1, 2, 3
		want    []float64
		compete int
	}{
		{"two equal", []Link{{A: 0, B: 1, W: 20}, {A: 0, B: 2, W: 20}}, []float64{0.5, 0.5}, 1},
		{"three equal", []Link{{A: 0, B: 1, W: 20}, {A: 0, B: 2, W: 20}, {A: 0, B: 3, W: 20}}, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, 2},
		{"2 bits apart", []Link{{A: 0, B: 1, W: 22}, {A: 0, B: 2, W: 20}}, []float64{0.8, 0.2}, 1},
		{"weak pair: neither counts", []Link{{A: 0, B: 1, W: 1}, {A: 0, B: 2, W: 1}}, []float64{2.0 / 5, 2.0 / 5}, 1},
	}
	for _, c := range cases {
		links := append([]Link{{A: 1, B: 4, W: 30}}, c.links...) // an unrelated link stays
		kept, review, comp := ambiguous(xs, links, nil, 4, nil)
		if comp.ambiguous != 1 || len(kept) != 1 || kept[0].B != 4 || len(review) != len(c.links) {
			t.Fatalf("%s: %d ambiguous, kept %v, %d in review", c.name, comp.ambiguous, kept, len(review))
		}
		total := 0.0
		for i, l := range review {
			if math.Abs(l.P-c.want[i]) > 1e-4 || l.Competing != c.compete || l.Rule != "ambiguous" {
				t.Errorf("%s: pair %d: p %.5f, %d competing, rule %s; want %.5f, %d", c.name, i, l.P, l.Competing, l.Rule, c.want[i], c.compete)
			}
			total += l.P
		}
		if total > 1+1e-9 {
			t.Errorf("%s: the record's pairs sum to %.4f > 1: it cannot be several persons", c.name, total)
		}
	}
	// Huge weights do not overflow.
	_, review, _ := ambiguous(xs, []Link{{A: 0, B: 1, W: 1500}, {A: 0, B: 2, W: 1500}}, nil, 4, nil)
	for _, l := range review {
		if math.IsNaN(l.P) || math.Abs(l.P-0.5) > 1e-9 {
			t.Errorf("weight 1500: p %v, want 0.5", l.P)
		}
	}
}

// gridded is filler(n) with every person also listed, ID and flat, in a source "grid": a list
// that covers nearly everyone and lists nobody twice.
func gridded(t *testing.T, n int) []rc {
	cs := filler(t, n)
	for _, c := range cs {
		if strings.HasPrefix(c.key, "h:") {
			g := c
			g.key, g.birth = "grid:"+strings.TrimPrefix(c.key, "h:"), ""
			cs = append(cs, g)
		}
	}
	return cs
}

// A source lists a person once: the son's grid row (no ID, no birth) is equally like father
// and son, but the father already has his own grid row with his ID, so it is the son's.
func TestOneRowPerSourceDecidesNamesake(t *testing.T) {
	flat := "兴隆大街53号21栋2单元1102室"
	father, son := id(t, "32010519600101123"), id(t, "32010519900303123")
	cs := append(gridded(t, 400),
		rc{key: "hj:f", id: father, name: "王福", sex: "1", birth: "1960-01-01", addr: flat, group: "hh1", rel: records.RelHead},
		rc{key: "hj:s", id: son, name: "王福", sex: "1", birth: "1990-03-03", addr: flat, group: "hh1", rel: records.RelChild},
		rc{key: "ins:f", id: father, name: "王福", sex: "1", birth: "1960-01-01"},
		rc{key: "ins:s", id: son, name: "王福", sex: "1", birth: "1990-03-03"},
		rc{key: "grid:f", id: father, name: "王福", sex: "1", addr: flat},
		rc{key: "grid:s", name: "王福", sex: "1", addr: flat},
		// A person's second grid row without an ID (a duplicate listing), nobody competing:
		// still theirs.
		rc{key: "grid:dup5", name: "", sex: "", addr: ""},
	)
	for _, c := range cs {
		if c.key == "grid:5" {
			cs[len(cs)-1] = rc{key: "grid:dup5", name: c.name, sex: c.sex, addr: c.addr}
		}
	}
	for _, on := range []bool{true, false} {
		m := builtIn(t)
		m.OneRowPerSource = &on
		res, recs := run(t, m, cs, Options{})
		at := map[string]int{}
		for i, r := range recs {
			at[r.Key] = i
		}
		gs := res.Person[at["grid:s"]]
		if on {
			if gs != res.Person[at["hj:s"]] || res.Stats.DecidedBySource != 1 || res.Stats.Ambiguous != 0 {
				t.Errorf("on: the son's grid row is with %s (son %s, father %s); decided by source %d, ambiguous %d; want the son's, 1, 0",
					gs, res.Person[at["hj:s"]], res.Person[at["hj:f"]], res.Stats.DecidedBySource, res.Stats.Ambiguous)
			}
			for _, l := range res.Review {
				if l.A == at["grid:s"] || l.B == at["grid:s"] {
					t.Errorf("on: a decided record still in review: %s – %s", recs[l.A].Key, recs[l.B].Key)
				}
			}
		} else if gs == res.Person[at["hj:s"]] || gs == res.Person[at["hj:f"]] || res.Stats.Ambiguous != 1 || res.Stats.DecidedBySource != 0 {
			t.Errorf("off: the son's grid row is with %s; ambiguous %d, decided by source %d; want neither, 1, 0", gs, res.Stats.Ambiguous, res.Stats.DecidedBySource)
		}
		if res.Person[at["hj:f"]] == res.Person[at["hj:s"]] {
			t.Fatal("father and son merged")
		}
		if res.Person[at["grid:dup5"]] != res.Person[at["h:5"]] {
			t.Errorf("on=%v: a duplicate grid row without ID, with nobody competing, was not linked to its person", on)
		}
	}
}

// The evidence of a list: log2(d/c) for a competitor already listed with a valid ID,
// log2((1-d)/(1-c)) for one who is not; a list as likely to hold a person twice as at all, or
// with too few IDs, says nothing.
func TestSourceListBits(t *testing.T) {
	var xs []rec
	add := func(src, role, id string) { xs = append(xs, rec{idStd: id, list: src + "\x1f" + role}) }
	for i := 0; i < 200; i++ {
		id := fmt.Sprintf("P%03d", i)
		add("hj", "resident", id)
		if i < 150 {
			add("grid", "resident", id) // 150 of 200 persons, 3 of them twice
			if i < 3 {
				add("grid", "resident", id)
			}
		}
		if i < 120 {
			add("health", "mother", id) // mothers of two children each: a list of repeats
			add("health", "mother", id)
		}
		if i < 50 {
			add("party", "resident", id) // too few to say
		}
	}
	s := newSourceLists(xs)
	d, c := 3.5/151, 150.5/201
	if got, want := s.bits(&rec{list: "grid\x1fresident"}, "P010"), math.Log2(d/c); math.Abs(got-want) > 1e-9 {
		t.Errorf("listed competitor: %.4f bits, want %.4f", got, want)
	}
	if got, want := s.bits(&rec{list: "grid\x1fresident"}, "P180"), math.Log2((1-d)/(1-c)); math.Abs(got-want) > 1e-9 || got <= 0 {
		t.Errorf("unlisted competitor: %.4f bits, want %.4f > 0", got, want)
	}
	for _, list := range []string{"health\x1fmother", "party\x1fresident", "hj\x1fresident"} {
		if got := s.bits(&rec{list: list}, "P010"); list != "hj\x1fresident" && got != 0 {
			t.Errorf("%q: %.4f bits, want none", list, got)
		}
	}
	if (*sourceLists)(nil).bits(&rec{list: "grid\x1fresident"}, "P010") != 0 {
		t.Error("the rule off still weighs")
	}
}

// Two records of one row are different persons: a birth registration's father named like his
// child is never linked to the child's record of that row, and so is not ambiguous between
// them — he links to his own hukou record through the child they share.
func TestRecordsOfOneRowNeverOnePerson(t *testing.T) {
	flat := "燕山路9号7栋1单元1104室"
	father, child := id(t, "32010519850101123"), id(t, "32010520250505123")
	cs := append(filler(t, 400),
		rc{key: "hj\x1f1\x1fresident", id: father, name: "马宇华", sex: "1", birth: "1985-01-01", addr: flat, group: "hu\x1f1", rel: records.RelHead},
		rc{key: "hj\x1f2\x1fresident", id: child, name: "马宇华", sex: "1", birth: "2025-05-05", addr: flat, group: "hu\x1f1", rel: records.RelChild},
		rc{key: "health\x1fb1\x1fresident", id: child, name: "马宇华", sex: "1", birth: "2025-05-05", group: "row\x1fb1", rel: records.RelHead},
		rc{key: "health\x1fb1\x1ffather", name: "马宇华", group: "row\x1fb1", rel: records.RelParent},
	)
	for _, on := range []bool{true, false} {
		m := builtIn(t)
		m.OneRowPerSource = &on
		res, recs := run(t, m, cs, Options{})
		at := map[string]int{}
		for i, r := range recs {
			at[r.Key] = i
		}
		fa, ch := res.Person[at["health\x1fb1\x1ffather"]], res.Person[at["hj\x1f2\x1fresident"]]
		if on && (fa != res.Person[at["hj\x1f1\x1fresident"]] || res.Stats.Ambiguous != 0) {
			t.Errorf("on: the father's birth-row record is with %s (father %s, child %s), %d ambiguous", fa, res.Person[at["hj\x1f1\x1fresident"]], ch, res.Stats.Ambiguous)
		}
		if fa == ch {
			t.Errorf("on=%v: the father's record was merged into his child", on)
		}
		for _, l := range append(append([]Link(nil), res.Review...), res.Links...) {
			if on && rowOf(recs[l.A].Key) == rowOf(recs[l.B].Key) {
				t.Errorf("on: two records of one row paired: %q – %q", recs[l.A].Key, recs[l.B].Key)
			}
		}
	}
}
