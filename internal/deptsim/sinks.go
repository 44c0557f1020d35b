package deptsim

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"communityhub/internal/deptsim/xlsxout"
)

// Dialect is what differs between the SQL servers a system can live in.
type Dialect string

const (
	Postgres Dialect = "postgres"
	MySQL    Dialect = "mysql"
	SQLite   Dialect = "sqlite"
)

func (d Dialect) quote(name string) string {
	if d == MySQL {
		return "`" + name + "`"
	}
	return `"` + name + `"`
}

func (d Dialect) colType(c Col, key bool) string {
	switch c.Type {
	case Int:
		return "BIGINT"
	case Decimal:
		return "DECIMAL(12,2)"
	case Date:
		return "DATE"
	case Timestamp:
		if d == MySQL {
			return "DATETIME"
		}
		return "TIMESTAMP"
	}
	if d == MySQL {
		if key {
			return "VARCHAR(64)"
		}
		return "VARCHAR(255)"
	}
	return "TEXT"
}

// sqlValue converts a rendered value to what every driver stores the same way.
func sqlValue(c Col, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		if c.Type == Timestamp {
			return x.Format("2006-01-02 15:04:05")
		}
		return x.Format("2006-01-02")
	case string:
		if x == "" && (c.Type == Date || c.Type == Timestamp) {
			return nil
		}
	}
	return v
}

// writeSQL (re)creates the table in schema (ignored by MySQL and SQLite) and inserts every record
// in multi-row statements inside one transaction. Locators are "schema.table:key".
func writeSQL(ctx context.Context, db *sql.DB, d Dialect, schema string, t *Table) error {
	name := d.quote(t.Name)
	if d == Postgres && schema != "" {
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+d.quote(schema)); err != nil {
			return err
		}
		name = d.quote(schema) + "." + name
	}
	var cols []string
	for i, c := range t.Cols {
		def := d.quote(c.Name) + " " + d.colType(c, i == t.KeyCol)
		if i == t.KeyCol {
			def += " PRIMARY KEY"
		}
		cols = append(cols, def)
	}
	if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+name); err != nil {
		return err
	}
	ddl := fmt.Sprintf("CREATE TABLE %s (%s)", name, strings.Join(cols, ", "))
	if d == MySQL {
		ddl += " DEFAULT CHARSET=gbk"
	}
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("%s: %w", ddl, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var qcols []string
	for _, c := range t.Cols {
		qcols = append(qcols, d.quote(c.Name))
	}
	head := fmt.Sprintf("INSERT INTO %s (%s) VALUES ", name, strings.Join(qcols, ", "))
	batch := max(1, 30000/len(t.Cols))
	prefix := t.Name
	if schema != "" {
		prefix = schema + "." + t.Name
	}
	for lo := 0; lo < len(t.Recs); lo += batch {
		hi := min(len(t.Recs), lo+batch)
		var sb strings.Builder
		sb.WriteString(head)
		args := make([]any, 0, (hi-lo)*len(t.Cols))
		for i := lo; i < hi; i++ {
			if i > lo {
				sb.WriteByte(',')
			}
			sb.WriteByte('(')
			for j, c := range t.Cols {
				if j > 0 {
					sb.WriteByte(',')
				}
				args = append(args, sqlValue(c, t.Recs[i].Vals[j]))
				if d == Postgres {
					sb.WriteString("$" + strconv.Itoa(len(args)))
				} else {
					sb.WriteByte('?')
				}
			}
			sb.WriteByte(')')
			t.Recs[i].Locator = prefix + ":" + t.Recs[i].Key
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", name, err)
		}
	}
	return tx.Commit()
}

// Encoding of a CSV drop.
type Encoding string

const (
	UTF8    Encoding = "utf-8"
	UTF8BOM Encoding = "utf-8-bom"
	GBK     Encoding = "gbk"
)

// writeCSV writes the table as a CSV file in the given encoding. Records carrying the bad_bytes
// quirk get a byte sequence that is invalid in that encoding; wrong_columns loses or gains a field.
// Locators are "file:line" with the header on line 1.
func writeCSV(path string, enc Encoding, t *Table) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	if enc == UTF8BOM {
		bw.WriteString("\uFEFF")
	}
	var line strings.Builder
	cw := csv.NewWriter(&line)
	encode := func(s string) ([]byte, error) { return []byte(s), nil }
	if enc == GBK {
		e := simplifiedchinese.GBK.NewEncoder()
		encode = func(s string) ([]byte, error) {
			b, _, err := transform.Bytes(e, []byte(s))
			return b, err
		}
	}
	var header []string
	for _, c := range t.Cols {
		header = append(header, c.Name)
	}
	emit := func(fields []string, bad bool) error {
		line.Reset()
		cw.Write(fields)
		cw.Flush()
		b, err := encode(line.String())
		if err != nil {
			return fmt.Errorf("%s: cannot encode %q as %s: %w", path, line.String(), enc, err)
		}
		if bad {
			// 0xFF is neither a GBK lead byte nor valid anywhere in UTF-8.
			i := len(b) / 2
			b = append(b[:i:i], append([]byte{0xFF, 0xFE}, b[i:]...)...)
		}
		_, err = bw.Write(b)
		return err
	}
	if err := emit(header, false); err != nil {
		return err
	}
	base := filepath.Base(path)
	for i := range t.Recs {
		rec := &t.Recs[i]
		fields := make([]string, len(rec.Vals))
		for j, v := range rec.Vals {
			fields[j] = textOf(v)
		}
		if hasQuirk(rec, WrongColumns) {
			if len(fields)%2 == 0 {
				fields = fields[:len(fields)-1]
			} else {
				fields = append(fields, "补录")
			}
		}
		if err := emit(fields, hasQuirk(rec, BadBytes)); err != nil {
			return err
		}
		rec.Locator = fmt.Sprintf("%s:%d", base, i+2)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func hasQuirk(rec *Record, q Quirk) bool {
	for _, s := range rec.Quirks {
		if strings.HasSuffix(s, ":"+string(q)) {
			return true
		}
	}
	return false
}

// textOf renders a value as a clerk's export would.
func textOf(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		return x.Format("2006-01-02")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []string:
		return strings.Join(x, ";")
	default:
		return fmt.Sprint(x)
	}
}

// writeJSON writes the items an API serves: one JSON object per record, keys in column order.
// keyField names the field used in locators ("permitNo=…"); empty means the position ("#i").
func writeJSON(path string, t *Table, keyField string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	bw.WriteString("[\n")
	for i := range t.Recs {
		rec := &t.Recs[i]
		if i > 0 {
			bw.WriteString(",\n")
		}
		bw.WriteByte('{')
		for j, c := range t.Cols {
			if j > 0 {
				bw.WriteByte(',')
			}
			k, _ := json.Marshal(c.Name)
			v := rec.Vals[j]
			if s, ok := v.([]string); ok && s == nil {
				v = []string{}
			}
			vb, err := json.Marshal(v)
			if err != nil {
				return err
			}
			bw.Write(k)
			bw.WriteByte(':')
			bw.Write(vb)
		}
		bw.WriteByte('}')
		if keyField != "" {
			rec.Locator = keyField + "=" + rec.Key
		} else {
			rec.Locator = fmt.Sprintf("#%d", i)
		}
	}
	bw.WriteString("\n]\n")
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// UpdatedFile is where the API server's internal update times of an items file are kept
// (residents.json → residents.updated.json): the server's own bookkeeping, never served.
func UpdatedFile(itemsPath string) string {
	return strings.TrimSuffix(itemsPath, ".json") + ".updated.json"
}

// writeUpdated writes the records' internal update times (RFC 3339, index for index with the
// items of writeJSON) to UpdatedFile(itemsPath).
func writeUpdated(itemsPath string, t *Table) error {
	times := make([]string, len(t.Recs))
	for i := range t.Recs {
		if t.Recs[i].Updated.IsZero() {
			return fmt.Errorf("%s: record %d has no update time", itemsPath, i)
		}
		times[i] = t.Recs[i].Updated.UTC().Format(time.RFC3339)
	}
	raw, err := json.Marshal(times)
	if err != nil {
		return err
	}
	return os.WriteFile(UpdatedFile(itemsPath), raw, 0o644)
}

// LoadUpdated reads the internal update times kept beside an items file (see UpdatedFile).
func LoadUpdated(itemsPath string) ([]time.Time, error) {
	path := UpdatedFile(itemsPath)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var texts []string
	if err := json.Unmarshal(raw, &texts); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]time.Time, len(texts))
	for i, s := range texts {
		if out[i], err = time.Parse(time.RFC3339, s); err != nil {
			return nil, fmt.Errorf("%s: item %d: %w", path, i, err)
		}
	}
	return out, nil
}

// LoadItems reads a file written by writeJSON, for the API servers.
func LoadItems(path string) ([]json.RawMessage, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return items, nil
}

// sheetSpec is the layout of an xlsx table beyond its columns.
type sheetSpec struct {
	Title  string
	Serial bool
	Total  bool
	// Note is a note row right under the table (after its 合计), merged across the sheet or,
	// with NoteTyped, typed into its first cell only; Notes (signatures) follow it.
	Note      string
	NoteTyped bool
	Notes     []string
}

// noteTexts are the usual wordings of a note under a sheet's table (LedgerNote).
var noteTexts = []string{
	"填表说明：1.身份证号请以文本格式填写；2.年龄按填报当月计算。",
	"说明：本表数据截至填报日，如有变动请及时更新。",
	"注：1.身份证号请以文本格式填写；2.信息变更请及时报送。",
	"备注：本表由社区工作人员据实填写，每月更新。",
}

// sheetNote draws the note under a sheet's table (LedgerNote): one of noteTexts, merged across
// the sheet or, one time in three, typed into its first cell. The quirk is recorded on the
// table's last record, so a table without records gets no note.
func (rd *renderer) sheetNote(t *Table, spec *sheetSpec) {
	if len(t.Recs) == 0 {
		return
	}
	rd.q.col, rd.q.cur = "", nil
	if !rd.q.hit(LedgerNote) {
		return
	}
	spec.Note = noteTexts[rd.q.r.IntN(len(noteTexts))]
	spec.NoteTyped = rd.q.r.IntN(3) == 0
	last := &t.Recs[len(t.Recs)-1]
	last.Quirks = append(last.Quirks, rd.q.take()...)
}

// xlsxSheet lays a table out as a department's sheet; column names "组/列" become two-row headers.
// Records with ledger_blank get a blank row before them, ledger_subtotal a 小计 row after them.
func xlsxSheet(sheet string, t *Table, spec sheetSpec) xlsxout.Sheet {
	sh := xlsxout.Sheet{Name: sheet, Title: spec.Title, Serial: spec.Serial, Notes: spec.Notes}
	for _, c := range t.Cols {
		g, n, ok := strings.Cut(c.Name, "/")
		if !ok {
			g, n = "", c.Name
		}
		w := 12.0
		if strings.Contains(n, "身份证") || strings.Contains(n, "地址") || strings.Contains(n, "住址") {
			w = 22
		}
		sh.Columns = append(sh.Columns, xlsxout.Column{Group: g, Name: n, Width: w})
	}
	n := 0
	for i := range t.Recs {
		rec := &t.Recs[i]
		if hasQuirk(rec, LedgerBlank) {
			sh.Rows = append(sh.Rows, xlsxout.Row{Kind: xlsxout.Blank})
		}
		sh.Rows = append(sh.Rows, xlsxout.Row{Kind: xlsxout.Data, Values: rec.Vals})
		n++
		if hasQuirk(rec, LedgerSubtot) {
			v := make([]any, len(t.Cols))
			v[0] = fmt.Sprintf("小计：%d人", n)
			sh.Rows = append(sh.Rows, xlsxout.Row{Kind: xlsxout.Total, Values: v})
		}
	}
	if spec.Total {
		v := make([]any, len(t.Cols))
		v[0] = fmt.Sprintf("共%d人", n)
		sh.Rows = append(sh.Rows, xlsxout.Row{Kind: xlsxout.Total, Values: v})
	}
	if spec.Note != "" {
		kind := xlsxout.Note
		if spec.NoteTyped {
			kind = xlsxout.Line
		}
		sh.Rows = append(sh.Rows, xlsxout.Row{Kind: kind, Values: []any{spec.Note}})
	}
	return sh
}

// writeXLSX writes the sheets and fills each record's locator "file!sheet!row", where file is
// the workbook's path relative to its system's folder (a ledger: "梦都社区/独居老人走访台账.xlsx").
func writeXLSX(path, rel string, tables []*Table, sheets []xlsxout.Sheet) error {
	rows, err := xlsxout.Write(path, sheets)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	base := rel
	for si, t := range tables {
		for i := range t.Recs {
			t.Recs[i].Locator = fmt.Sprintf("%s!%s!%d", base, sheets[si].Name, rows[si][i])
		}
	}
	return nil
}
