// Package golden builds the golden records: one row per person with each field chosen by
// source authority (identity from 户籍 first) or freshness (contact details from door-to-door
// collection first), every choice kept with its provenance, and households — 户 from 户籍's
// 户号, or people living in the same flat. It does not re-decide matches (pipeline/resolve).
package golden

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"communityhub/pipeline/records"
	"communityhub/pipeline/standardize"
	"communityhub/pipeline/store"
)

// Authority ranks sources for identity fields (name, ID, sex, birth, ethnicity, status):
// the registration authority first. Unlisted sources come after the listed ones.
var Authority = []string{"hj_person", "hj_household", "insurance", "floating", "relief_member", "relief_family", "employment",
	"disabled", "elderly", "health", "party", "veterans", "ledger_elderly80", "ledger_alone", "grid", "volunteers"}

// Freshness ranks sources for contact fields (phone, address): collected door to door first.
var Freshness = []string{"grid", "floating", "volunteers", "elderly", "health", "party", "employment", "disabled",
	"ledger_alone", "ledger_elderly80", "veterans", "relief_family", "hj_person", "insurance"}

func rank(order []string) map[string]int {
	m := map[string]int{}
	for i, s := range order {
		m[s] = i
	}
	return m
}

var authority, freshness = rank(Authority), rank(Freshness)

func rankOf(m map[string]int, s string) int {
	if r, ok := m[s]; ok {
		return r
	}
	return len(m)
}

// Field is one chosen value with where it came from.
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
}

var statusText = map[string]string{"0": "正常", "1": "死亡", "2": "迁出"}

// choose picks the first record (by the ranking, then record key) with a non-empty value.
func choose(recs []*records.Record, order map[string]int, rule string, get func(r *records.Record) string) (string, *records.Record) {
	sorted := append([]*records.Record(nil), recs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		ri, rj := rankOf(order, sorted[i].Source), rankOf(order, sorted[j].Source)
		if ri != rj {
			return ri < rj
		}
		return sorted[i].Key < sorted[j].Key
	})
	for _, r := range sorted {
		if v := get(r); v != "" {
			return v, r
		}
	}
	return "", nil
}

// Build computes the golden persons from the records and the person each one is.
func Build(recs []records.Record, person []string) []Person {
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
		rs := by[id]
		p := Person{ID: id, Records: len(rs)}
		seen := map[string]bool{}
		for _, r := range rs {
			if !seen[r.Source] {
				seen[r.Source] = true
				p.Sources = append(p.Sources, r.Source)
			}
		}
		sort.Strings(p.Sources)
		pick := func(field string, order map[string]int, rule string, get func(r *records.Record) string) string {
			v, r := choose(rs, order, rule, get)
			if r != nil {
				p.Fields = append(p.Fields, Field{field, v, r.Source, r.Key, rule + ":" + r.Source})
			}
			return v
		}
		p.IDNo = pick("id_no", authority, "authority", func(r *records.Record) string {
			if r.ID.Class == standardize.IDValid || r.ID.Class == standardize.IDLegacy {
				return r.ID.Std
			}
			return ""
		})
		p.Name = pick("name", authority, "authority", func(r *records.Record) string { return r.Name.Std })
		if p.IDNo != "" {
			id := standardize.ParseID(p.IDNo, false)
			p.Birth, p.Sex = id.Birth, id.Sex
			p.Fields = append(p.Fields, Field{"birth_date", p.Birth, "", "", "from_id"}, Field{"sex", fmt.Sprint(p.Sex), "", "", "from_id"})
		} else {
			p.Birth = pick("birth_date", authority, "authority", func(r *records.Record) string { return r.Birth })
			fmt.Sscan(pick("sex", authority, "authority", func(r *records.Record) string {
				if r.Sex == 0 {
					return ""
				}
				return fmt.Sprint(r.Sex)
			}), &p.Sex)
		}
		p.Ethnicity = pick("ethnicity", authority, "authority", func(r *records.Record) string { return r.Fields["ethnicity"] })
		p.Phone = pick("phone", freshness, "freshest", func(r *records.Record) string {
			if len(r.Phones) > 0 {
				return r.Phones[0]
			}
			return ""
		})
		p.Address = pick("address", freshness, "freshest", func(r *records.Record) string {
			if r.Addr.Key() != "" {
				return r.AddrRaw
			}
			return ""
		})
		if _, r := choose(rs, freshness, "", func(r *records.Record) string { return r.Addr.Key() }); r != nil {
			p.AddressKey = r.Addr.Key()
		}
		p.HukouStatus = pick("hukou_status", authority, "authority", func(r *records.Record) string {
			if r.Source != "hj_person" {
				return ""
			}
			return statusText[r.Fields["status"]]
		})
		p.StatusDate = pick("status_date", authority, "authority", func(r *records.Record) string {
			if r.Source != "hj_person" {
				return ""
			}
			return r.Fields["status_date"]
		})
		huhao := pick("household_no", authority, "authority", func(r *records.Record) string {
			if r.Source != "hj_person" {
				return ""
			}
			return r.Fields["household_no"]
		})
		p.Relation, _ = choose(rs, authority, "", func(r *records.Record) string {
			if r.Source == "hj_person" {
				return r.Fields["relation"]
			}
			return ""
		})
		switch {
		case huhao != "":
			p.Household, p.PersonType = "hh"+huhao, "户籍"
		case p.AddressKey != "":
			h := fnv.New64a()
			h.Write([]byte(p.AddressKey))
			p.Household = fmt.Sprintf("ha%016x", h.Sum64())
		default:
			p.Household = "hp" + p.ID
		}
		if p.PersonType == "" {
			p.PersonType, _ = choose(rs, freshness, "", func(r *records.Record) string {
				switch {
				case r.Fields["person_type"] != "":
					return r.Fields["person_type"]
				case r.Source == "floating":
					return "流动"
				}
				return ""
			})
		}
		out = append(out, p)
	}
	return out
}

// Save replaces the golden tables with these persons and their households, on conn inside the
// caller's transaction (a reconcile publishes resolve and golden together).
func Save(ctx context.Context, conn *sql.Conn, persons []Person) error {
	type hh struct {
		id, huhao, kind, addr, key string
		members                    int
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
		if h.addr == "" {
			h.addr, h.key = p.Address, p.AddressKey
		}
		h.members++
	}
	tables := []string{"golden.person", "golden.person_field", "golden.household", "golden.household_member"}
	if err := store.Replace(ctx, conn, tables...); err != nil {
		return err
	}
	err := store.Append(conn, "golden", "person", len(persons), func(i int) []driver.Value {
		p := &persons[i]
		return []driver.Value{p.ID, p.Name, p.IDNo, int32(p.Sex), p.Birth, p.Ethnicity, p.Phone, p.Address, p.AddressKey,
			p.Household, p.HukouStatus, p.StatusDate, p.PersonType, int32(p.Records), fmt.Sprint(p.Sources)}
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
