package deptsim

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// This file reads a written district back through the readers each source is meant for
// (database/sql, encoding/json, GBK/UTF-8 CSV, excelize) — independently of the writers.

// cell is one field as a reader sees it.
type cell struct {
	Text    string
	Numeric bool // an xlsx number cell (an ID typed as a number, a date serial)
}

// row is one source row by column name; unreadable rows carry why.
type row struct {
	Cols       map[string]cell
	Unreadable string
}

// truthRec is one line of truth/records/<system>.csv.
type truthRec struct {
	System, Locator, Key string
	Persons              map[string]string // role -> person id
	Quirks               []string          // column:quirk
}

func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

func readTruthRecords(t *testing.T, dir, system string) []truthRec {
	recs := readCSVFile(t, filepath.Join(dir, "truth", "records", system+".csv"))
	var out []truthRec
	for _, r := range recs[1:] {
		tr := truthRec{System: r[0], Locator: r[1], Key: r[2], Persons: map[string]string{}}
		for _, kv := range strings.Split(r[3], ";") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				tr.Persons[k] = v
			}
		}
		if r[4] != "" {
			tr.Quirks = strings.Split(r[4], ";")
		}
		out = append(out, tr)
	}
	return out
}

// readSystem returns every row of a system keyed by the locator the truth uses.
func readSystem(t *testing.T, dir string, s ManifestSystem) map[string]row {
	t.Helper()
	out := map[string]row{}
	switch s.Access {
	case "sqlite":
		db, err := sql.Open("sqlite", filepath.Join(dir, s.Path))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		schema := map[string]string{"hj": "hj.", "insurance": "yb."}[s.Name]
		keys := configKeys(t, dir)
		for _, table := range s.Tables {
			if len(keys[table]) == 0 {
				t.Fatalf("%s: table %s has no key in %s", s.Name, table, ConfigFile)
			}
			readSQLTable(t, db, `"`+table+`"`, schema+table, keys[table], out)
		}
	case "http":
		raw, err := os.ReadFile(filepath.Join(dir, s.Path))
		if err != nil {
			t.Fatal(err)
		}
		var items []map[string]any
		if err := json.Unmarshal(raw, &items); err != nil {
			t.Fatal(err)
		}
		key := map[string]string{"floating": "permitNo", "volunteers": "volunteerNo"}[s.Name]
		for i, it := range items {
			r := row{Cols: map[string]cell{}}
			for k, v := range it {
				r.Cols[k] = cell{Text: fmt.Sprint(v)}
				if sv, ok := v.(string); ok {
					r.Cols[k] = cell{Text: sv}
				}
			}
			loc := fmt.Sprintf("#%d", i)
			if key != "" {
				loc = key + "=" + r.Cols[key].Text
			}
			out[loc] = r
		}
	case "csv":
		entries, _ := os.ReadDir(filepath.Join(dir, s.Path))
		for _, e := range entries {
			if s.Name == "disabled" && !strings.Contains(e.Name(), manifestStamp(t, dir)) {
				continue // yesterday's drop: not in the truth
			}
			readCSVDrop(t, filepath.Join(dir, s.Path, e.Name()), s.Name == "disabled", out)
		}
	case "xlsx":
		var files []string
		if s.Name == "ledger" {
			files, _ = filepath.Glob(filepath.Join(dir, "ledgers", "*", "*.xlsx"))
		} else {
			files = []string{filepath.Join(dir, s.Path)}
		}
		for _, f := range files {
			rel := filepath.Base(f)
			if s.Name == "ledger" {
				rel = filepath.Base(filepath.Dir(f)) + "/" + rel
			}
			readWorkbook(t, f, rel, out)
		}
	default:
		t.Fatalf("system %s: access %s not readable here", s.Name, s.Access)
	}
	return out
}

func manifestStamp(t *testing.T, dir string) string {
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(m.AsOf, "-", "")
}

// deployConfig is the part of the written hub.toml the read-back tests use.
type deployConfig struct {
	Source []struct {
		Name     string
		Kind     string
		Key      []string
		Required []string
		Cursor   string
		Options  map[string]any
		Mapping  map[string]string
	}
}

func readDeployConfig(t *testing.T, dir string) deployConfig {
	t.Helper()
	var cfg deployConfig
	if _, err := toml.DecodeFile(filepath.Join(dir, ConfigFile), &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// configKeys maps each SQL table of the written config (without its schema) to its key columns.
func configKeys(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, src := range readDeployConfig(t, dir).Source {
		if table, ok := src.Options["table"].(string); ok {
			out[table[strings.LastIndex(table, ".")+1:]] = src.Key
		}
	}
	return out
}

// occurrence returns loc for its first occurrence in seen and loc␞n for the n-th after that: the
// rows of a person registered twice can share their key (the landing tells them apart the same
// way, by occurrence in the read).
func occurrence(seen map[string]int, loc string) string {
	seen[loc]++
	if n := seen[loc]; n > 1 {
		return fmt.Sprintf("%s\x1e%d", loc, n)
	}
	return loc
}

// readSQLTable reads a table as the SQL connector locates its rows: prefix:key1,key2,… (in
// the table's order, a repeated key with its occurrence, see occurrence).
func readSQLTable(t *testing.T, db *sql.DB, from, prefix string, key []string, out map[string]row) {
	t.Helper()
	seen := map[string]int{}
	probe, err := db.Query("SELECT * FROM " + from + " LIMIT 0")
	if err != nil {
		t.Fatal(err)
	}
	cols, err := probe.Columns()
	probe.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Every column as the server's text, as the connector reads it (a DATE as 2023-04-29).
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = `CAST("` + c + `" AS TEXT)`
	}
	rows, err := db.Query("SELECT " + strings.Join(sel, ", ") + " FROM " + from)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r := row{Cols: map[string]cell{}}
		for i, c := range cols {
			r.Cols[c] = cell{Text: vals[i].String}
		}
		var kv []string
		for _, k := range key {
			c, ok := r.Cols[k]
			if !ok {
				t.Fatalf("%s: key column %q not in the table (%v)", from, k, cols)
			}
			kv = append(kv, c.Text)
		}
		out[occurrence(seen, prefix+":"+strings.Join(kv, ","))] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// readCSVDrop reads a CSV file line by line, decoding GBK when asked, so a row with bad bytes or
// a wrong column count is reported as unreadable instead of failing the whole file.
func readCSVDrop(t *testing.T, path string, gbk bool, out map[string]row) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.TrimPrefix(raw, []byte("\xEF\xBB\xBF"))
	lines := bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n"))
	var header []string
	base := filepath.Base(path)
	for i, line := range lines {
		text := string(line)
		bad := ""
		if gbk {
			dec, err := simplifiedchinese.GBK.NewDecoder().Bytes(line)
			// x/text replaces invalid bytes with U+FFFD rather than failing.
			if err != nil || bytes.Contains(dec, []byte("\uFFFD")) {
				bad = "invalid GBK bytes"
			} else {
				enc, _ := simplifiedchinese.GBK.NewEncoder().Bytes(dec)
				if !bytes.Equal(enc, line) {
					t.Errorf("%s:%d: GBK does not round-trip", base, i+1)
				}
			}
			text = string(dec)
		} else if !isValidUTF8(line) {
			bad = "invalid UTF-8 bytes"
		}
		fields, err := csv.NewReader(strings.NewReader(text)).Read()
		if err != nil && err != io.EOF {
			bad = err.Error()
		}
		if i == 0 {
			header = fields
			continue
		}
		loc := fmt.Sprintf("%s:%d", base, i+1)
		if bad == "" && len(fields) != len(header) {
			bad = fmt.Sprintf("%d fields, header has %d", len(fields), len(header))
		}
		r := row{Cols: map[string]cell{}, Unreadable: bad}
		for j := 0; j < len(header) && j < len(fields); j++ {
			r.Cols[header[j]] = cell{Text: fields[j]}
		}
		out[loc] = r
	}
}

func isValidUTF8(b []byte) bool { return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) }

// readWorkbook finds each sheet's header (one row, or a title and two merged rows) and reads the
// data rows with their cell types. Group headers become "组/列" as in the contract.
func readWorkbook(t *testing.T, path, base string, out map[string]row) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		merges, _ := f.GetMergeCells(sheet)
		titled := false
		for _, m := range merges {
			if m.GetStartAxis() == "A1" { // only a title is merged from A1
				titled = true
			}
		}
		hdr := 0
		if titled {
			hdr = 1
		}
		names := append([]string(nil), rows[hdr]...)
		first := hdr + 1
		if titled && len(rows) > hdr+1 && strings.Join(rows[hdr+1], "") != "" && rows[hdr+1][0] == "" {
			// two header rows: a group cell spans sub-columns; a single column is merged down.
			group := ""
			for i := range names {
				sub := ""
				if i < len(rows[hdr+1]) {
					sub = rows[hdr+1][i]
				}
				if names[i] != "" {
					group = names[i]
				}
				if sub != "" {
					names[i] = group + "/" + sub
				} else {
					group = ""
				}
			}
			first = hdr + 2
		}
		for ri := first; ri < len(rows); ri++ {
			r := row{Cols: map[string]cell{}}
			for ci, name := range names {
				if name == "" {
					continue
				}
				axis, _ := excelize.CoordinatesToCellName(ci+1, ri+1)
				typ, _ := f.GetCellType(sheet, axis)
				raw, _ := f.GetCellValue(sheet, axis, excelize.Options{RawCellValue: true})
				r.Cols[name] = cell{Text: raw, Numeric: raw != "" && (typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset)}
			}
			out[fmt.Sprintf("%s!%s!%d", base, sheet, ri+1)] = r
		}
	}
}
