// Package records turns the raw landing into person records: one per person named in a
// current source row (a birth registration names the child, the mother and the father), with
// every mapped field standardized and the raw value kept. It reads raw tables through each
// source's mapping and writes std.records; matching is not its business (pipeline/resolve).
package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"communityhub/pipeline/standardize"
	"communityhub/schema"
)

// Record is one person as one source row describes them.
type Record struct {
	Key        string // source \x1f row identity \x1f role: stable across runs while the row is unchanged
	Source     string
	SourceRole string // what kind of system the source is (schema.SourceRoles): survivorship keys on it
	Loc        string
	Role       string // the person's part in the row: resident, mother, father, householder
	Hash       uint64 // of everything below: a changed hash means the record must be resolved again

	IDRaw     string
	ID        standardize.ID
	NameRaw   string
	Name      standardize.Name
	Sex       int    // 1, 2 or 0 (from the sex field)
	Birth     string // yyyy-mm-dd or yyyy-mm, "" when unknown
	BirthFlag standardize.DateFlag
	Phones    []string
	AddrRaw   string
	Addr      standardize.Address
	// Group ties together the records of one family or household as its source tells it, so
	// that a record without an ID can be matched through its relatives; "" when the source says
	// nothing. It is, in this order of precedence:
	//   - a row naming several people (a birth registration's resident, mother and father):
	//     space \x1f "row" \x1f the row's identity;
	//   - a 户号 (household_no): space \x1f "household_no" \x1f the value (groupValue: folded,
	//     white space removed, a number cell's ".0" dropped);
	//   - a relief family (family_id): space \x1f "family_id" \x1f the value (groupValue).
	// space is the numbering's owner (groupSpace): the system for the tables of one system that
	// share a numbering (roles relief_family and relief_member: "role:relief"; hukou and
	// hukou_household: "role:hukou"), so that a relief family's householder row and its member
	// rows, or a 户 and its persons, share the Group; "source:" + the source name for every
	// other source, so that two systems' numbers never collide.
	Group string
	// Relation is the person's place in the Group, normalized (ParseRelation): the row's
	// householder is RelHead, a multi-person row's resident RelHead and its mother and father
	// RelParent; other records take their relation field (与户主关系: GB/T 4761 codes or free
	// text). "" when the source does not say.
	Relation string
	// Fields keeps every mapped value as the source wrote it, by canonical field, for survivorship.
	Fields map[string]string
}

// Normalized relations within a Group.
const (
	RelHead        = "head" // 户主 / the resident of a birth registration
	RelSpouse      = "spouse"
	RelChild       = "child"
	RelParent      = "parent" // of the head; also a birth registration's mother and father
	RelGrandchild  = "grandchild"
	RelSibling     = "sibling"
	RelGrandparent = "grandparent"
	RelOther       = "other" // in-laws, other relatives, non-relatives, and relation text not understood
)

// Source says how to read one source's raw table: its role and mapping, from config.
type Source struct {
	Name    string
	Role    string // schema.SourceRoles
	Mapping schema.Mapping
}

// householderFields are row-level fields that describe the householder, a person of their own.
var householderFields = map[string]string{"householder_id_no": "id_no", "householder_name": "name"}

// Skip reasons: why a part of a row (the values mapped to one person role) made no record.
const (
	// SkipNoPerson: the part has values but neither name, ID, masked ID nor 残疾证号, so it
	// names nobody (a birth registration without a father, a row of totals).
	SkipNoPerson = "no_name_or_id"
	// SkipInPassing: a guardian's or contact's values; they are named only in passing and are
	// not persons of the source.
	SkipInPassing = "guardian_or_contact"
)

// SourceStats counts what Extract did with one source: nothing it reads is dropped without
// being counted here.
type SourceStats struct {
	Source string
	Landed bool // the source's raw table exists (false: never landed, nothing read)
	Rows   int  // current raw rows read
	// Records is the person records made (a row makes one per person it names).
	Records int
	// RowsWithoutRecord is the current rows that made no record at all (every part was skipped,
	// or the row had no mapped value).
	RowsWithoutRecord int
	// Skipped counts the row parts that made no record, by reason (SkipNoPerson, SkipInPassing).
	Skipped map[string]int
	// MergedIntoHouseholder counts rows whose resident part named nobody and whose row-level
	// values (a family's address, a 户号) went to the row's householder record instead.
	MergedIntoHouseholder int
	// NoName is the records made without a name (from an ID alone): they take part in matching.
	NoName int
	// BirthUnusable is the records with a birth value that is not a date, not even a year and
	// month (Birth is "", BirthFlag DateUnparsed); the records still take part.
	BirthUnusable int
	// Grouped is the records with a Group.
	Grouped int
}

// Extract reads the current rows of every source and returns its person records,
// sorted by Key, and per source (in the order given) the counts of what was read, made and
// skipped and why. A failed query is an error, never an empty source.
func Extract(ctx context.Context, db *sql.DB, sources []Source) ([]Record, []SourceStats, error) {
	per := make([][]Record, 0, len(sources))
	stats := make([]SourceStats, 0, len(sources))
	total := 0
	for _, s := range sources {
		recs, st, err := extractSource(ctx, db, s)
		if err != nil {
			return nil, nil, fmt.Errorf("source %s: %w", s.Name, err)
		}
		per = append(per, recs)
		stats = append(stats, st)
		total += len(recs)
	}
	return sortedConcat(per, total), stats, nil
}

// sortedConcat returns the records of every source in one slice sorted by Key. A Record is a
// few hundred bytes: the sort orders small references and each record is copied once, into a
// slice of the exact size (appending and swapping whole records was a tenth of a 1M-record
// reconcile's allocations and most of its memmove).
func sortedConcat(per [][]Record, total int) []Record {
	type ref struct{ s, i int32 }
	refs := make([]ref, 0, total)
	for s, recs := range per {
		for i := range recs {
			refs = append(refs, ref{int32(s), int32(i)})
		}
	}
	key := func(r ref) string { return per[r.s][r.i].Key }
	sort.Slice(refs, func(a, b int) bool { return key(refs[a]) < key(refs[b]) })
	out := make([]Record, total)
	for k, r := range refs {
		out[k] = per[r.s][r.i]
	}
	return out
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// landedColumns maps each source column to the raw table's column it landed in (the landing
// renames clashing names: "_loc" → "src_loc", a second "name" → "name (2)"; a case-only rename
// lands in the existing column). Databases landed before the names were recorded map the raw
// table's own columns to themselves.
func landedColumns(ctx context.Context, db *sql.DB, source string) (map[string]string, error) {
	out := map[string]string{}
	var cols, names sql.NullString
	err := db.QueryRowContext(ctx, `SELECT columns, landed_names FROM meta.source_state WHERE source = ?`, source).Scan(&cols, &names)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("meta.source_state: %w", err)
	}
	if cols.Valid && names.Valid {
		var c, n []string
		if err := json.Unmarshal([]byte(cols.String), &c); err != nil {
			return nil, fmt.Errorf("meta.source_state columns: %w", err)
		}
		if err := json.Unmarshal([]byte(names.String), &n); err != nil {
			return nil, fmt.Errorf("meta.source_state landed_names: %w", err)
		}
		if len(c) == len(n) {
			for i := range c {
				out[c[i]] = n[i]
			}
			return out, nil
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?`, schema.RawSchema, source)
	if err != nil {
		return nil, fmt.Errorf("raw table columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("raw table columns: %w", err)
		}
		if !strings.HasPrefix(c, "_") {
			out[c] = c
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("raw table columns: %w", err)
	}
	return out, nil
}

// column finds the raw column of mapped source column c: by its name, else case-insensitively
// (DuckDB's names are; a source that renamed x to X). "" when the source has no such column.
func column(landed map[string]string, c string) string {
	if n, ok := landed[c]; ok {
		return n
	}
	for src, n := range landed {
		if strings.EqualFold(src, c) {
			return n
		}
	}
	return ""
}

// part is the values a row maps to one person (a role), with where they came from.
type part struct {
	ident, loc, role string
	f                map[string]string
	numeric          bool // the ID was read from a number cell
	group            string
	multi            bool // the row names several people
}

func extractSource(ctx context.Context, db *sql.DB, s Source) ([]Record, SourceStats, error) {
	st := SourceStats{Source: s.Name, Skipped: map[string]int{}}
	var exists int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?`, schema.RawSchema, s.Name).Scan(&exists); err != nil {
		return nil, st, fmt.Errorf("raw table: %w", err)
	}
	if exists == 0 {
		return nil, st, nil // never landed
	}
	st.Landed = true
	cols := s.Mapping.Columns()
	landed, err := landedColumns(ctx, db, s.Name)
	if err != nil {
		return nil, st, err
	}
	// Columns mapped in config but not (yet) in the raw table read as NULL.
	sel := []string{"_ident", "_loc", "coalesce(_flags, '')"}
	for _, c := range cols {
		if n := column(landed, c); n != "" {
			sel = append(sel, quote(n))
		} else {
			sel = append(sel, "NULL")
		}
	}
	rows, err := db.QueryContext(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+schema.RawSchema+"."+quote(s.Name)+" WHERE _current")
	if err != nil {
		return nil, st, fmt.Errorf("raw rows: %w", err)
	}
	defer rows.Close()
	vals := make([]sql.NullString, len(sel))
	ptrs := make([]any, len(sel))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	space := groupSpace(s)
	var parts []part
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, st, fmt.Errorf("raw rows: %w", err)
		}
		st.Rows++
		ident, loc, flags := vals[0].String, vals[1].String, vals[2].String
		byRole := map[string]map[string]string{}
		numeric := map[string]bool{}
		for i, c := range cols {
			v := vals[3+i]
			if !v.Valid || strings.TrimSpace(v.String) == "" {
				continue
			}
			ref := s.Mapping[c]
			role, field := ref.Role, ref.Field.Name
			if f, ok := householderFields[field]; ok {
				role, field = "householder", f
			}
			if role == "" {
				role = "resident"
			}
			if byRole[role] == nil {
				byRole[role] = map[string]string{}
			}
			byRole[role][field] = v.String
			if strings.Contains(flags, c+":number") {
				numeric[role+"."+field] = true
			}
		}
		row := rowParts(byRole, &st)
		if len(row) == 0 {
			st.RowsWithoutRecord++
			continue
		}
		group := ""
		if len(row) > 1 {
			group = space + "\x1frow\x1f" + ident
		}
		for _, role := range row {
			f := byRole[role]
			g := group
			if g == "" {
				g = fieldGroup(space, f)
			}
			parts = append(parts, part{ident: ident, loc: loc, role: role, f: f, numeric: numeric[role+".id_no"], group: g, multi: len(row) > 1})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, st, fmt.Errorf("raw rows: %w", err)
	}
	// Standardizing is the costly part: spread it over the cores.
	out := make([]Record, len(parts))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			addrs := map[string]standardize.Address{} // members of a household share the flat's text
			for i := w; i < len(parts); i += workers {
				out[i] = build(s.Name, &parts[i], addrs)
				out[i].SourceRole = s.Role
			}
		}(w)
	}
	wg.Wait()
	st.Records = len(out)
	for i := range out {
		r := &out[i]
		if r.Name.Std == "" {
			st.NoName++
		}
		if r.BirthFlag == standardize.DateUnparsed {
			st.BirthUnusable++
		}
		if r.Group != "" {
			st.Grouped++
		}
	}
	return out, st, nil
}

// rowParts decides which person parts of one row (values by role) make records, in a fixed
// order, counting the rest in st. A part names a person when it has a name, an ID, a masked ID
// or a 残疾证号. A resident part naming nobody beside a householder who is named (a relief
// family's row, a 户's row) holds the row's own values — the family's address, its 户号 — and
// they go to the householder, whose own values win.
func rowParts(byRole map[string]map[string]string, st *SourceStats) []string {
	var out []string
	if res, hh := byRole["resident"], byRole["householder"]; res != nil && hh != nil && !namesSomeone(res) && namesSomeone(hh) {
		for k, v := range res {
			if _, ok := hh[k]; !ok {
				hh[k] = v
			}
		}
		delete(byRole, "resident")
		st.MergedIntoHouseholder++
	}
	for _, role := range []string{"resident", "householder", "mother", "father"} {
		f := byRole[role]
		if f == nil {
			continue
		}
		if !namesSomeone(f) {
			st.Skipped[SkipNoPerson]++
			continue
		}
		out = append(out, role)
	}
	for role := range byRole {
		switch role {
		case "resident", "householder", "mother", "father":
		default:
			st.Skipped[SkipInPassing]++ // guardians and contacts are named only in passing
		}
	}
	return out
}

func namesSomeone(f map[string]string) bool {
	return f["name"] != "" || f["id_no"] != "" || f["id_masked"] != "" || f["disability_cert"] != ""
}

// groupSystems are the source roles whose tables share one system's family numbering.
var groupSystems = map[string]string{
	"relief_family": "relief", "relief_member": "relief",
	"hukou": "hukou", "hukou_household": "hukou",
}

// groupSpace is the namespace of a source's Group keys (see Record.Group).
func groupSpace(s Source) string {
	if sys, ok := groupSystems[s.Role]; ok {
		return "role:" + sys
	}
	return "source:" + s.Name
}

// groupFields are the fields that number a household or family, in order of precedence.
var groupFields = []string{"household_no", "family_id"}

// fieldGroup is the Group of one person's values by 户号 or family_id; "" without either.
func fieldGroup(space string, f map[string]string) string {
	for _, k := range groupFields {
		if v := groupValue(f[k]); v != "" {
			return space + "\x1f" + k + "\x1f" + v
		}
	}
	return ""
}

// groupValue standardizes a family or household number: full width folded, white space
// removed, and a number cell's ".0" dropped (100001.0 is family 100001).
func groupValue(v string) string {
	v = strings.Join(strings.Fields(standardize.Fold(v)), "")
	if t, ok := strings.CutSuffix(v, ".0"); ok && t != "" && strings.Trim(t, "0123456789") == "" {
		v = t
	}
	return v
}

// relationOf is the Relation of a record: by its part in the row first, else its relation field.
func relationOf(p *part) string {
	switch {
	case p.role == "householder":
		return RelHead
	case p.role == "mother" || p.role == "father":
		return RelParent
	}
	if rel := ParseRelation(p.f["relation"]); rel != "" {
		return rel
	}
	if p.multi {
		return RelHead // the resident of a row naming others (a birth registration's child)
	}
	return ""
}

// certID is the ID inside a 残疾证号 (the ID followed by the category and grade digits):
// trimmed and folded first, then 20 characters give the 18-character ID and 17 characters the
// legacy 15-digit one; a value of any other length is returned whole (an ID typed without the
// two digits; ParseID classes anything else).
func certID(cert string) string {
	c := strings.Join(strings.Fields(standardize.Fold(cert)), "")
	tail := func(n int) bool {
		return len(c) == n && c[n-2] >= '0' && c[n-2] <= '9' && c[n-1] >= '0' && c[n-1] <= '9'
	}
	switch {
	case tail(20):
		return c[:18]
	case tail(17):
		return c[:15]
	}
	return c
}

// build standardizes one person's fields.
func build(source string, p *part, addrs map[string]standardize.Address) Record {
	f := p.f
	r := Record{Key: source + "\x1f" + p.ident + "\x1f" + p.role, Source: source, Loc: p.loc, Role: p.role, Fields: f,
		Group: p.group, Relation: relationOf(p)}
	r.IDRaw = f["id_no"]
	if r.IDRaw == "" && f["id_masked"] != "" {
		r.IDRaw = f["id_masked"]
	}
	if r.IDRaw == "" && f["disability_cert"] != "" {
		r.IDRaw = certID(f["disability_cert"])
	}
	r.ID = standardize.ParseID(r.IDRaw, p.numeric)
	r.NameRaw = f["name"]
	r.Name = standardize.ParseName(r.NameRaw)
	r.Sex = parseSex(f["sex"])
	b := f["birth_date"]
	if b == "" {
		b = f["birth_month"]
	}
	if b != "" {
		d, flag, err := standardize.ParseDate(b)
		switch {
		case err == nil, flag == standardize.DateImpossible:
			r.Birth, r.BirthFlag = d.String(), flag // an impossible date keeps its year and month
		default:
			r.BirthFlag = standardize.DateUnparsed
		}
	}
	ps, _ := standardize.ParsePhones(f["phone"]) // the second value is flags, not an error
	for _, ph := range ps {
		r.Phones = append(r.Phones, ph.Std)
	}
	r.AddrRaw = f["address"]
	if r.AddrRaw != "" {
		a, ok := addrs[r.AddrRaw]
		if !ok {
			a = standardize.ParseAddress(r.AddrRaw)
			addrs[r.AddrRaw] = a
		}
		r.Addr = a
	}
	h := fnv.New64a()
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.Write([]byte(k + "=" + f[k] + "\x1f"))
	}
	h.Write([]byte(strconv.FormatBool(p.numeric)))
	h.Write([]byte("\x1f" + r.Group + "\x1f" + r.Relation))
	r.Hash = h.Sum64()
	return r
}

// parseSex reads 1/2 codes and 男/女.
func parseSex(s string) int {
	switch strings.TrimSpace(s) {
	case "1", "男", "男性", "M", "m":
		return 1
	case "2", "女", "女性", "F", "f":
		return 2
	}
	return 0
}
