// Package golden builds the golden records: one row per person with each field chosen by the
// survivorship rules (survivorship.toml: per field, authority or freshness over source ROLES,
// with timestamps and ties), every choice kept with its provenance, and households — 户 from
// the 户号 of the roles allowed to give one, or people living in the same flat. It chooses by
// a source's role, never by its name, and does not re-decide matches (pipeline/resolve).
package golden

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	"communityhub/pipeline/records"
	"communityhub/pipeline/standardize"
	"communityhub/pipeline/store"
)

// Field is one chosen value with where it came from: the source and record that supplied it
// and the rule that chose it ("authority:hukou", "freshness:grid@collected_at", "from_id", …).
type Field struct {
	Name, Value, Source, Record, Rule string
}

// Person is a golden record.
type Person struct {
	ID                                 string
	Name, IDNo, Birth, Ethnicity       string
	Sex                                int
	Phone, Address, AddressKey         string
	Household, HukouStatus, StatusDate string
	PersonType                         string
	Relation                           string
	Records                            int
	Sources                            []string
	Fields                             []Field
	// Where the person lives (Place): the community and grid, how they were found ("address",
	// "grid"), or why not ("" placed_by and a reason).
	Community, Grid, PlacedBy, UnplacedReason string
}

// statusText reads 人员状态 (GB codes or their words) as the golden hukou status.
var statusText = map[string]string{"0": "正常", "1": "死亡", "2": "迁出", "正常": "正常", "死亡": "死亡", "迁出": "迁出"}

// values say what a record offers for each golden field ("" = nothing).
var values = map[string]func(r *records.Record) string{
	"id_no": func(r *records.Record) string {
		if r.ID.Class == standardize.IDValid || r.ID.Class == standardize.IDLegacy {
			return r.ID.Std
		}
		return ""
	},
	"name":       func(r *records.Record) string { return r.Name.Std },
	"birth_date": func(r *records.Record) string { return r.Birth },
	"sex": func(r *records.Record) string {
		if r.Sex == 0 {
			return ""
		}
		return strconv.Itoa(r.Sex)
	},
	"ethnicity": func(r *records.Record) string { return r.Fields["ethnicity"] },
	"phone": func(r *records.Record) string {
		if len(r.Phones) > 0 {
			return r.Phones[0]
		}
		return ""
	},
	"address": func(r *records.Record) string {
		if r.Addr.Key() != "" {
			return r.AddrRaw
		}
		return ""
	},
	"hukou_status": func(r *records.Record) string { return statusText[strings.TrimSpace(r.Fields["status"])] },
	"status_date":  func(r *records.Record) string { return r.Fields["status_date"] },
	"household_no": func(r *records.Record) string { return strings.TrimSpace(r.Fields["household_no"]) },
	"relation":     func(r *records.Record) string { return r.Fields["relation"] },
	"person_type":  func(r *records.Record) string { return r.Fields["person_type"] },
}

// offer is one record's value for a field, with what the rule ranks it by.
type offer struct {
	r       *records.Record
	value   string
	implied bool      // the value is the rule's implied one for the record's role
	tsField string    // the timestamp field the record has ("" = none)
	ts      time.Time // its time
}

// tieKey orders records of equal rank: the row identity and the person's part in the row (the
// record key without the source's name, so that renaming a source changes no choice), then
// the whole key.
func tieKey(r *records.Record) string { return strings.TrimPrefix(r.Key, r.Source+"\x1f") }

func tieBefore(a, b *records.Record) bool {
	if ka, kb := tieKey(a), tieKey(b); ka != kb {
		return ka < kb
	}
	return a.Key < b.Key
}

// before reports whether offer a wins over b under the rule.
func (fr *FieldRule) before(a, b *offer) bool {
	newer := func() (bool, bool) { // (decided, a wins)
		if (a.tsField != "") != (b.tsField != "") {
			return true, a.tsField != ""
		}
		if !a.ts.Equal(b.ts) {
			return true, a.ts.After(b.ts)
		}
		return false, false
	}
	switch fr.Rule {
	case RuleAuthority:
		if ra, rb := fr.rankOf(a.r.SourceRole), fr.rankOf(b.r.SourceRole); ra != rb {
			return ra < rb
		}
		if d, w := newer(); d {
			return w
		}
	case RuleFreshness:
		if d, w := newer(); d {
			return w
		}
		if ra, rb := fr.rankOf(a.r.SourceRole), fr.rankOf(b.r.SourceRole); ra != rb {
			return ra < rb
		}
	case RuleFirst:
		if na, nb := a.r.SourceRole == "", b.r.SourceRole == ""; na != nb {
			return nb
		}
	}
	return tieBefore(a.r, b.r)
}

// choose applies the rule to the records' values for field: the winning offer, found false when no
// allowed record has a value.
func (fr *FieldRule) choose(field string, recs []*records.Record) (best offer, found bool) {
	get := values[field]
	for _, r := range recs {
		if !fr.allows(r.SourceRole) {
			continue
		}
		o := offer{r: r, value: get(r)}
		if o.value == "" {
			if o.value = fr.Implied[r.SourceRole]; o.value == "" {
				continue
			}
			o.implied = true
		}
		for _, f := range fr.Timestamp {
			if r.Fields[f] == "" {
				continue
			}
			if t, err := standardize.ParseTimestamp(r.Fields[f]); err == nil { // an unreadable time is no time
				o.tsField, o.ts = f, t
				break
			}
		}
		if !found || fr.before(&o, &best) {
			best, found = o, true
		}
	}
	return best, found
}

// provenance names the rule and what decided it: "authority:hukou", "freshness:grid@collected_at",
// "first:(no role)", "freshness:floating (implied)".
func (fr *FieldRule) provenance(o *offer) string {
	role := o.r.SourceRole
	if role == "" {
		role = "(no role)"
	}
	s := fr.Rule + ":" + role
	if o.tsField != "" && fr.Rule != RuleFirst {
		s += "@" + o.tsField
	}
	if o.implied {
		s += " (implied)"
	}
	return s
}

// Build computes the golden persons from the records and the person each one is (person[i]
// is recs[i]'s), choosing every field by rules (which must not be nil: DefaultRules gives the
// built-in ones). It reads each record's SourceRole, never its source's name. Persons are in
// id order, each with one Field per chosen value naming the rule that chose it.
func Build(recs []records.Record, person []string, rules *Rules) []Person {
	by := map[string][]*records.Record{}
	for i := range recs {
		by[person[i]] = append(by[person[i]], &recs[i])
	}
	ids := make([]string, 0, len(by))
	for id := range by {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]Person, 0, len(ids))
	for _, id := range ids {
		out = append(out, buildPerson(id, by[id], rules))
	}
	return out
}

func buildPerson(id string, rs []*records.Record, rules *Rules) Person {
	p := Person{ID: id, Records: len(rs)}
	seen := map[string]bool{}
	for _, r := range rs {
		if !seen[r.Source] {
			seen[r.Source] = true
			p.Sources = append(p.Sources, r.Source)
		}
	}
	sort.Strings(p.Sources)
	var idn standardize.ID
	got := map[string]string{}
	for _, field := range Fields {
		fr := rules.Fields[field]
		if field == "person_type" && got["household_no"] != "" {
			got[field] = "户籍" // a 户号 is a 户籍 registration, whatever else a source says
			p.Fields = append(p.Fields, Field{field, got[field], "", "", "from_household_no"})
			continue
		}
		if fr.FromID && p.IDNo != "" {
			v := idn.Birth
			if field == "sex" {
				v = strconv.Itoa(idn.Sex)
			}
			got[field] = v
			p.Fields = append(p.Fields, Field{field, v, "", "", "from_id"})
			continue
		}
		o, ok := fr.choose(field, rs)
		if !ok {
			continue
		}
		got[field] = o.value
		p.Fields = append(p.Fields, Field{field, o.value, o.r.Source, o.r.Key, fr.provenance(&o)})
		switch field {
		case "id_no":
			p.IDNo = o.value
			idn = standardize.ParseID(p.IDNo, false)
		case "address":
			p.AddressKey = o.r.Addr.Key()
		}
	}
	p.Name, p.Birth, p.Ethnicity = got["name"], got["birth_date"], got["ethnicity"]
	p.Sex, _ = strconv.Atoi(got["sex"]) // "" (unknown) is 0
	p.Phone, p.Address = got["phone"], got["address"]
	p.HukouStatus, p.StatusDate, p.Relation, p.PersonType = got["hukou_status"], got["status_date"], got["relation"], got["person_type"]
	switch huhao := got["household_no"]; {
	case huhao != "":
		p.Household = "hh" + huhao
	case p.AddressKey != "":
		h := fnv.New64a()
		h.Write([]byte(p.AddressKey))
		p.Household = fmt.Sprintf("ha%016x", h.Sum64())
	default:
		p.Household = "hp" + p.ID
	}
	return p
}

// Save replaces the golden tables with these persons and their households, on conn inside the
// caller's transaction (a reconcile publishes resolve and golden together). A household's
// address is the one most of its members have (ties: the smallest text), so it depends on who
// lives there, not on the ids they drew.
func Save(ctx context.Context, conn *sql.Conn, persons []Person) error {
	type hh struct {
		id, huhao, kind, addr, key string
		members                    int
		addrs                      map[[2]string]int // (address, key) → members with it
	}
	var households []*hh
	byID := map[string]*hh{}
	var fields [][]driver.Value
	for _, p := range persons {
		for _, f := range p.Fields {
			fields = append(fields, []driver.Value{p.ID, f.Name, f.Value, f.Source, f.Record, f.Rule})
		}
		h := byID[p.Household]
		if h == nil {
			h = &hh{id: p.Household, kind: "同住"}
			if strings.HasPrefix(p.Household, "hh") {
				h.huhao, h.kind = p.Household[2:], "户籍户"
			}
			byID[p.Household] = h
			households = append(households, h)
		}
		if p.Address != "" {
			if h.addrs == nil {
				h.addrs = map[[2]string]int{}
			}
			h.addrs[[2]string{p.Address, p.AddressKey}]++
		}
		h.members++
	}
	for _, h := range households {
		best := -1
		for a, n := range h.addrs {
			if n > best || n == best && (a[0] < h.addr || a[0] == h.addr && a[1] < h.key) {
				best, h.addr, h.key = n, a[0], a[1]
			}
		}
	}
	tables := []string{"golden.person", "golden.person_field", "golden.household", "golden.household_member"}
	if err := store.Replace(ctx, conn, tables...); err != nil {
		return err
	}
	err := store.Append(conn, "golden", "person", len(persons), func(i int) []driver.Value {
		p := &persons[i]
		return []driver.Value{p.ID, p.Name, p.IDNo, int32(p.Sex), p.Birth, p.Ethnicity, p.Phone, p.Address, p.AddressKey,
			p.Household, p.HukouStatus, p.StatusDate, p.PersonType, int32(p.Records), fmt.Sprint(p.Sources),
			p.Community, p.Grid, p.PlacedBy, p.UnplacedReason}
	})
	if err != nil {
		return err
	}
	if err := store.Append(conn, "golden", "person_field", len(fields), func(i int) []driver.Value { return fields[i] }); err != nil {
		return err
	}
	err = store.Append(conn, "golden", "household_member", len(persons), func(i int) []driver.Value {
		return []driver.Value{persons[i].Household, persons[i].ID, persons[i].Relation}
	})
	if err != nil {
		return err
	}
	return store.Append(conn, "golden", "household", len(households), func(i int) []driver.Value {
		h := households[i]
		return []driver.Value{h.id, h.huhao, h.kind, h.addr, h.key, int32(h.members)}
	})
}
