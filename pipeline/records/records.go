// Package records turns the raw landing into person records: one per person named in a
// current source row (a birth registration names the child, the mother and the father), with
// every mapped field standardized and the raw value kept. It reads raw tables through each
// source's mapping and writes std.records; matching is not its business (pipeline/resolve).
package records

import (
	"context"
	"database/sql"
	"encoding/json"
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
	// Group ties together the records of one family or household as its source tells it (a
	// relief family_id, a 户号, the row of a birth registration naming child and parents), so
	// that a record without an ID can be matched through its relatives; "" when the source says
	// nothing. Relation is the person's place in the group, normalized (RelHead, RelSpouse, …).
	Group    string
	Relation string
	// Fields keeps every mapped value as the source wrote it, by canonical field, for survivorship.
	Fields map[string]string
}

// Normalized relations within a Group.
const (
	RelHead       = "head" // 户主 / the resident of a birth registration
	RelSpouse     = "spouse"
	RelChild      = "child"
	RelParent     = "parent" // of the head; also a birth registration's mother and father
	RelGrandchild = "grandchild"
	RelSibling    = "sibling"
	RelOther      = "other"
)

// Source says how to read one source's raw table: its role and mapping, from config.
type Source struct {
	Name    string
	Role    string // schema.SourceRoles
	Mapping schema.Mapping
}

// householderFields are row-level fields that describe the householder, a person of their own.
var householderFields = map[string]string{"householder_id_no": "id_no", "householder_name": "name"}

// Extract reads the current rows of every source and returns its person records, sorted by Key.
func Extract(ctx context.Context, db *sql.DB, sources []Source) ([]Record, error) {
	var out []Record
	for _, s := range sources {
		recs, err := extractSource(ctx, db, s)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.Name, err)
		}
		out = append(out, recs...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
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
	if err != nil && err != sql.ErrNoRows {
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
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(c, "_") {
			out[c] = c
		}
	}
	return out, rows.Err()
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

func extractSource(ctx context.Context, db *sql.DB, s Source) ([]Record, error) {
	var exists int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?`, schema.RawSchema, s.Name).Scan(&exists); err != nil {
		return nil, err
	}
	if exists == 0 {
		return nil, nil // never landed
	}
	cols := s.Mapping.Columns()
	landed, err := landedColumns(ctx, db, s.Name)
	if err != nil {
		return nil, err
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
	var rows *sql.Rows
	rows, err = db.QueryContext(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+schema.RawSchema+"."+quote(s.Name)+" WHERE _current")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	vals := make([]sql.NullString, len(sel))
	ptrs := make([]any, len(sel))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	type part struct {
		ident, loc, role string
		f                map[string]string
		numeric          bool
	}
	var parts []part
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		flags := vals[2].String
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
			if role != "resident" && role != "mother" && role != "father" && role != "householder" {
				continue // guardians and contacts are named only in passing
			}
			if byRole[role] == nil {
				byRole[role] = map[string]string{}
			}
			byRole[role][field] = v.String
			if strings.Contains(flags, c+":number") {
				numeric[role+"."+field] = true
			}
		}
		for role, f := range byRole {
			if f["name"] == "" && f["id_no"] == "" && f["id_masked"] == "" && f["disability_cert"] == "" {
				continue // a row part that names nobody
			}
			parts = append(parts, part{vals[0].String, vals[1].String, role, f, numeric[role+".id_no"]})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
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
				p := &parts[i]
				out[i] = build(s.Name, p.ident, p.loc, p.role, p.f, p.numeric, addrs)
				out[i].SourceRole = s.Role
			}
		}(w)
	}
	wg.Wait()
	return out, nil
}

// build standardizes one person's fields.
func build(source, ident, loc, role string, f map[string]string, numericID bool, addrs map[string]standardize.Address) Record {
	r := Record{Key: source + "\x1f" + ident + "\x1f" + role, Source: source, Loc: loc, Role: role, Fields: f}
	r.IDRaw = f["id_no"]
	if r.IDRaw == "" && f["id_masked"] != "" {
		r.IDRaw = f["id_masked"]
	}
	if r.IDRaw == "" && len(f["disability_cert"]) >= 20 {
		c := standardize.Fold(strings.TrimSpace(f["disability_cert"]))
		r.IDRaw = c[:len(c)-2] // 残疾证号 = ID + category + grade
	}
	r.ID = standardize.ParseID(r.IDRaw, numericID)
	r.NameRaw = f["name"]
	r.Name = standardize.ParseName(r.NameRaw)
	r.Sex = parseSex(f["sex"])
	b := f["birth_date"]
	if b == "" {
		b = f["birth_month"]
	}
	if b != "" {
		d, flag, err := standardize.ParseDate(b)
		if err == nil || flag == standardize.DateImpossible {
			r.Birth, r.BirthFlag = d.String(), flag
			if flag == standardize.DateImpossible {
				r.Birth = d.String() // year-month of an impossible date
			}
		}
	}
	ps, _ := standardize.ParsePhones(f["phone"])
	for _, p := range ps {
		r.Phones = append(r.Phones, p.Std)
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
	h.Write([]byte(strconv.FormatBool(numericID)))
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
