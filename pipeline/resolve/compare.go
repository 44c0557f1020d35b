package resolve

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"communityhub/pipeline/records"
	"communityhub/pipeline/standardize"
)

// rec is a record prepared for comparison.
type rec struct {
	r          *records.Record
	idStd      string // a valid (or upgraded legacy) ID
	idClass    standardize.IDClass
	name       string // without dot
	pinyin     string
	surname    string
	given1     string
	birth      string // yyyy-mm-dd or yyyy-mm (from the record, else from its valid ID)
	birthOwn   string // from the record's own field only
	sex        int    // from the record, else from its ID
	sexOwn     int
	phones     []string
	flat       string
	building   string
	road       string
	idBirth    string // from a valid ID
	idSex      int
	surnamePin string
	fv         []string // the model's field values (Model.fields), normalized
	// Family context (see family): the valid IDs of the other members of the record's group,
	// and the group head's valid ID when it is not the record's own.
	anchors []string
	head    string
	// row is the record's source row (its Key without the role): the records of one row are
	// different persons. list is the source and role it is listed under (see sourceLists).
	row, list string
}

// prepare readies a record for comparison under model m (family context is added by family).
func prepare(r *records.Record, m *Model) rec {
	x := rec{r: r, idClass: r.ID.Class, name: r.Name.NoDot, pinyin: r.Name.Pinyin, surname: r.Name.Surname,
		birthOwn: r.Birth, sexOwn: r.Sex, phones: r.Phones, row: rowOf(r.Key), list: r.Source + "\x1f" + r.Role}
	if m.nFields > 0 {
		x.fv = make([]string, m.nFields)
		for i, f := range m.fields {
			x.fv[i] = normalizers[f.norm](r.Fields[f.field])
		}
	}
	if r.ID.Class == standardize.IDValid || r.ID.Class == standardize.IDLegacy {
		x.idStd, x.idBirth, x.idSex = r.ID.Std, r.ID.Birth, r.ID.Sex
	}
	if g := []rune(r.Name.Given); len(g) > 0 {
		x.given1 = string(g[0])
	}
	if sp := strings.Fields(r.Name.Pinyin); len(sp) > 0 && x.surname != "" {
		x.surnamePin = sp[0]
	}
	x.birth = r.Birth
	if x.birth == "" || r.BirthFlag == standardize.DateImpossible {
		x.birth = firstNonEmpty(x.idBirth, r.ID.Birth, x.birth)
	}
	x.sex = r.Sex
	if x.sex == 0 {
		x.sex = firstNonZero(x.idSex, r.ID.Sex)
	}
	x.flat, x.building = r.Addr.Key(), r.Addr.BuildingKey()
	if r.Addr.Road != "" {
		x.road = r.Addr.Road
	} else {
		x.road = r.Addr.Estate
	}
	return x
}

// rowOf is a record key's row: records.Record.Key is source \x1f row identity \x1f role, so
// the records of one multi-person row (a birth registration's resident, mother and father)
// share it. A key without a role part is its own row.
func rowOf(key string) string {
	if i := strings.LastIndexByte(key, '\x1f'); i > 0 {
		return key[:i]
	}
	return key
}

// sourceLists is the evidence of "a source lists a person once", per list (a source and the
// role its records have there: a birth registration lists the same mother under the role
// mother once per child, so the roles are told apart). For a record without a valid ID that
// could be person k, whether k already has another row with a valid ID in the record's list
// is evidence: if the record is k, that other row is a duplicate listing, which happens with
// the list's duplicate rate d (the share of its valid IDs listed more than once); if not, k is
// simply in the list, with its coverage c (the share of all valid IDs it lists). So a
// competitor with such a row takes log2(d/c) bits, one without log2((1-d)/(1-c)). A list with
// fewer than minListed valid IDs, or as likely to list a person twice as at all (d >= c),
// says nothing.
type sourceLists struct {
	has   map[string]map[string]bool // valid ID → the lists holding a row with it
	bitsH map[string]float64         // list → bits for a competitor listed there with a valid ID
	bitsL map[string]float64         // list → bits for one that is not
}

// minListed is the number of valid IDs a list needs for its duplicate rate and coverage.
const minListed = 100

// newSourceLists estimates every list's duplicate rate and coverage from the valid IDs.
func newSourceLists(xs []rec) *sourceLists {
	s := &sourceLists{has: map[string]map[string]bool{}, bitsH: map[string]float64{}, bitsL: map[string]float64{}}
	rows := map[string]map[string]int{} // list → valid ID → rows
	for i := range xs {
		x := &xs[i]
		if x.idStd == "" {
			continue
		}
		if s.has[x.idStd] == nil {
			s.has[x.idStd] = map[string]bool{}
		}
		s.has[x.idStd][x.list] = true
		if rows[x.list] == nil {
			rows[x.list] = map[string]int{}
		}
		rows[x.list][x.idStd]++
	}
	total := float64(len(s.has))
	for list, byID := range rows {
		n := float64(len(byID))
		if n < minListed {
			continue
		}
		twice := 0.0
		for _, k := range byID {
			if k > 1 {
				twice++
			}
		}
		d := (twice + 0.5) / (n + 1)
		c := (n + 0.5) / (total + 1)
		if d >= c {
			continue
		}
		s.bitsH[list], s.bitsL[list] = math.Log2(d/c), math.Log2((1-d)/(1-c))
	}
	return s
}

// bits is the evidence for "record x is the person of valid ID id" from x's list (0 on a nil
// sourceLists: the rule is off).
func (s *sourceLists) bits(x *rec, id string) float64 {
	if s == nil {
		return 0
	}
	if s.has[id][x.list] {
		return s.bitsH[x.list]
	}
	return s.bitsL[x.list]
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func firstNonZero(xs ...int) int {
	for _, x := range xs {
		if x != 0 {
			return x
		}
	}
	return 0
}

// family gives each record the valid IDs of the other members of its group (records.Record
// Group) and its group head's valid ID (the member with relation head), so that a record
// without an ID can be compared and blocked through relatives both sources know.
func family(xs []rec) {
	type grp struct {
		ids  []string
		head string
	}
	groups := map[string]*grp{}
	for i := range xs {
		g := xs[i].r.Group
		if g == "" {
			continue
		}
		if groups[g] == nil {
			groups[g] = &grp{}
		}
		if id := xs[i].idStd; id != "" {
			groups[g].ids = append(groups[g].ids, id)
			if xs[i].r.Relation == records.RelHead {
				groups[g].head = id
			}
		}
	}
	for _, g := range groups {
		sort.Strings(g.ids)
		g.ids = slices.Compact(g.ids)
	}
	for i := range xs {
		g := groups[xs[i].r.Group]
		if g == nil {
			continue
		}
		x := &xs[i]
		x.anchors = x.anchors[:0]
		for _, id := range g.ids {
			if id != x.idStd {
				x.anchors = append(x.anchors, id)
			}
		}
		if g.head != x.idStd {
			x.head = g.head
		}
	}
}

// shareAnchor reports whether two records' groups have a member's valid ID in common.
func shareAnchor(a, b *rec) bool {
	i, j := 0, 0
	for i < len(a.anchors) && j < len(b.anchors) {
		switch {
		case a.anchors[i] == b.anchors[j]:
			return true
		case a.anchors[i] < b.anchors[j]:
			i++
		default:
			j++
		}
	}
	return false
}

// builtinNull says, per built-in comparison, when it cannot be made.
var builtinNull = map[string]func(a, b *rec) bool{
	"id":             func(a, b *rec) bool { return !hasKnownID(a) || !hasKnownID(b) },
	"name":           func(a, b *rec) bool { return a.name == "" || b.name == "" },
	"birth":          func(a, b *rec) bool { return a.birth == "" || b.birth == "" },
	"sex":            func(a, b *rec) bool { return a.sex == 0 || b.sex == 0 },
	"phone":          func(a, b *rec) bool { return len(a.phones) == 0 || len(b.phones) == 0 },
	"address":        func(a, b *rec) bool { return a.road == "" || b.road == "" },
	"id_consistency": func(a, b *rec) bool { return a.idStd == "" && b.idStd == "" },
	"family":         func(a, b *rec) bool { return len(a.anchors) == 0 || len(b.anchors) == 0 },
	// home: where the person lives and how they are reached, as one comparison — a shared flat
	// and a shared phone are mostly one piece of evidence (a household), not two.
	"home": func(a, b *rec) bool {
		return (len(a.phones) == 0 || len(b.phones) == 0) && (a.road == "" || b.road == "")
	},
}

// builtinRule finds a built-in rule, or a conjunction of them ("addr_flat & phone_shared").
func builtinRule(name string) (func(a, b *rec) bool, error) {
	parts := strings.Split(name, "&")
	fs := make([]func(a, b *rec) bool, len(parts))
	for i, p := range parts {
		f, ok := rules[strings.TrimSpace(p)]
		if !ok {
			return nil, fmt.Errorf("unknown rule %q (built-in rules: %s, null, else; or several joined by &)", strings.TrimSpace(p), choicesOf(rules))
		}
		fs[i] = f
	}
	if len(fs) == 1 {
		return fs[0], nil
	}
	return func(a, b *rec) bool {
		for _, f := range fs {
			if !f(a, b) {
				return false
			}
		}
		return true
	}, nil
}

func hasKnownID(x *rec) bool { return x.r.ID.Known != "" }

// rules are the level predicates a model can use.
var rules = map[string]func(a, b *rec) bool{
	"id_same": func(a, b *rec) bool { return a.idStd != "" && a.idStd == b.idStd },
	"id_compatible": func(a, b *rec) bool {
		return (a.idStd == "" || b.idStd == "") && standardize.IDCompatible(a.r.ID, b.r.ID) && knownOverlap(a, b) >= 8
	},
	"id_one_typo": func(a, b *rec) bool {
		d := standardize.IDDistance(a.r.ID, b.r.ID)
		return (d == 1 && (a.idStd == "" || b.idStd == "")) || standardize.IDTransposed(a.r.ID, b.r.ID)
	},
	"name_exact":  func(a, b *rec) bool { return a.name == b.name },
	"name_pinyin": func(a, b *rec) bool { return a.pinyin != "" && a.pinyin == b.pinyin },
	"name_jw90":   func(a, b *rec) bool { return standardize.JaroWinkler(a.name, b.name) >= 0.9 },
	"name_jw75":   func(a, b *rec) bool { return standardize.JaroWinkler(a.name, b.name) >= 0.75 },
	"birth_exact": func(a, b *rec) bool { return a.birth == b.birth && len(a.birth) == 10 },
	"birth_year_month": func(a, b *rec) bool {
		return a.birth[:min(7, len(a.birth))] == b.birth[:min(7, len(b.birth))] && (len(a.birth) == 7 || len(b.birth) == 7 || a.birth[:7] == b.birth[:7])
	},
	"birth_typo": func(a, b *rec) bool { return dateTypo(a.birth, b.birth) },
	"sex_same":   func(a, b *rec) bool { return a.sex == b.sex },
	"phone_shared": func(a, b *rec) bool {
		for _, p := range a.phones {
			for _, q := range b.phones {
				if p == q {
					return true
				}
			}
		}
		return false
	},
	"addr_flat":     func(a, b *rec) bool { return a.flat != "" && a.flat == b.flat },
	"addr_building": func(a, b *rec) bool { return a.building != "" && a.building == b.building },
	"addr_road":     func(a, b *rec) bool { return a.road != "" && a.road == b.road },
	"id_contradicts": func(a, b *rec) bool {
		return contradicts(a, b) || contradicts(b, a)
	},
	"family_same_group": func(a, b *rec) bool { return a.r.Group == b.r.Group },
	"family_same_relation": func(a, b *rec) bool {
		return a.head != "" && a.head == b.head && a.r.Relation != "" && a.r.Relation == b.r.Relation
	},
	"family_other_relation": func(a, b *rec) bool {
		return a.head != "" && a.head == b.head && a.r.Relation != "" && b.r.Relation != "" && a.r.Relation != b.r.Relation
	},
	"family_shared": shareAnchor,
}

// contradicts: a has a valid ID and b's own birth date or sex disagrees with it (b having no
// valid ID of its own, else the id comparison decides).
func contradicts(a, b *rec) bool {
	if a.idStd == "" || b.idStd != "" {
		return false
	}
	if b.birthOwn != "" && len(b.birthOwn) == 10 && a.idBirth != "" && b.birthOwn != a.idBirth && !dateTypo(b.birthOwn, a.idBirth) {
		return true
	}
	if b.birthOwn != "" && len(b.birthOwn) == 7 && a.idBirth != "" && b.birthOwn != a.idBirth[:7] {
		return true
	}
	return b.sexOwn != 0 && a.idSex != 0 && b.sexOwn != a.idSex
}

func knownOverlap(a, b *rec) int {
	ka, kb := a.r.ID.Known, b.r.ID.Known
	if len(ka) != len(kb) {
		return 0
	}
	n := 0
	for i := 0; i < len(ka); i++ {
		if ka[i] != '?' && kb[i] != '?' {
			n++
		}
	}
	return n
}

// dateTypo: same length dates differing in one digit, or with day and month swapped.
func dateTypo(a, b string) bool {
	if len(a) != 10 || len(b) != 10 || a == b {
		return false
	}
	diff := 0
	for i := 0; i < 10; i++ {
		if a[i] != b[i] {
			diff++
		}
	}
	if diff == 1 {
		return true
	}
	return a[:4] == b[:4] && a[5:7] == b[8:10] && a[8:10] == b[5:7]
}

// builtinKeys compute a record's values for a built-in blocking key (none: in no block).
var builtinKeys = map[string]keyFunc{
	"id_std":         single(func(x *rec) string { return x.idStd }),
	"id_ends":        single(idEnds),
	"name_pinyin":    single(func(x *rec) string { return x.pinyin }),
	"birth_year":     single(func(x *rec) string { return x.birth[:min(4, len(x.birth))] }),
	"birth":          single(func(x *rec) string { return x.birth }),
	"surname":        single(func(x *rec) string { return x.surname }),
	"surname_pinyin": single(func(x *rec) string { return x.surnamePin }),
	"phone":          func(x *rec) []string { return x.phones },
	"flat":           single(func(x *rec) string { return x.flat }),
	"given_first":    single(func(x *rec) string { return x.given1 }),
	"family":         func(x *rec) []string { return x.anchors },
}

func single(f func(x *rec) string) keyFunc {
	return func(x *rec) []string {
		if v := f(x); v != "" {
			return []string{v}
		}
		return nil
	}
}

// idEnds is the first 4 and last 4 known characters of the ID: what a masked ID still shows.
func idEnds(x *rec) string {
	k := x.r.ID.Known
	if len(k) != 18 || strings.ContainsRune(k[:4], '?') || strings.ContainsRune(k[14:], '?') {
		return ""
	}
	return k[:4] + k[14:]
}

// keysOf returns the record's blocking key values for a rule (several when a key has several
// values, like phones), empty when any key is missing.
func keysOf(x *rec, keys []keyFunc) []string {
	out := []string{""}
	for _, k := range keys {
		vals := k(x)
		if len(vals) == 0 {
			return nil
		}
		next := make([]string, 0, len(out)*len(vals))
		for _, o := range out {
			for _, v := range vals {
				next = append(next, o+"\x1f"+v)
			}
		}
		out = next
	}
	return out
}
