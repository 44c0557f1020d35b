package report

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Rollup is the community of the street-level roll-up.
const Rollup = "*"

// figureSet is what one kind's queries gave, for every community at once.
type figureSet struct {
	// values[community][key]: key is an anchor, m[r,c] (with * for totals) or band.rows.
	values map[string]map[string]float64
	// cells maps each key to its template cell (sheet!A1) and label.
	cells map[string]cellInfo
	// bands[anchor][community] are the band's rows, in the query's order.
	bands map[string]map[string][]bandRow
	// persons is the temp table of (community, key, person_id) behind every number of each
	// community (the roll-up's are the union).
	persons string
}

type cellInfo struct {
	anchor, cell, label string
}

type bandRow struct {
	person string
	values []string // per band column ("" where the column is "")
	masked []bool
	raw    map[string]string
}

// BindPeriod sets on conn the DuckDB variables a kind's SQL reads (ref_date, period_start,
// period) and makes the build's copy of report.residents: to run a definition's query as a
// build runs it.
func BindPeriod(ctx context.Context, conn *sql.Conn, p Period) error {
	for _, s := range []string{
		fmt.Sprintf("SET VARIABLE ref_date = DATE '%s'", p.RefDate.Format("2006-01-02")),
		fmt.Sprintf("SET VARIABLE period_start = DATE '%s'", p.Start.Format("2006-01-02")),
		fmt.Sprintf("SET VARIABLE period = '%s'", p.Code),
		"CREATE OR REPLACE TEMP TABLE " + residentsTable + " AS SELECT * FROM report.residents",
	} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// residentsTable is the build's copy of report.residents: the view computes every resident's
// age and status each time it is read, and a kind reads it once per figure.
const residentsTable = "report_residents_build"

var residentsRe = regexp.MustCompile(`(?i)\breport\.residents\b`)

// trimSQL readies a definition's query: trailing semicolons dropped, report.residents read
// from the build's copy.
func trimSQL(s string) string {
	return residentsRe.ReplaceAllString(strings.TrimRight(strings.TrimSpace(s), "; \n\t"), residentsTable)
}

// columnsOf returns the result columns of a query, without running it.
func columnsOf(ctx context.Context, conn *sql.Conn, q string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, "SELECT * FROM ("+q+") AS q LIMIT 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

func hasAll(cols []string, want ...string) error {
	have := map[string]bool{}
	for _, c := range cols {
		have[c] = true
	}
	var missing []string
	for _, w := range want {
		if !have[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the query must return column(s) %s (it returns %s)", strings.Join(missing, ", "), strings.Join(cols, ", "))
	}
	return nil
}

func contains(cols []string, c string) bool {
	for _, x := range cols {
		if x == c {
			return true
		}
	}
	return false
}

// computeFigures runs every figure and matrix query of k once for all communities and the
// roll-up, and every band query, and leaves the persons behind each number in a temp table.
func computeFigures(ctx context.Context, conn *sql.Conn, k *Kind, lay *layout, tmp string) (*figureSet, error) {
	fs := &figureSet{values: map[string]map[string]float64{}, cells: map[string]cellInfo{}, bands: map[string]map[string][]bandRow{}, persons: tmp}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s (community VARCHAR, key VARCHAR, person_id VARCHAR)`, tmp)); err != nil {
		return nil, err
	}
	set := func(community, key string, v float64) {
		m := fs.values[community]
		if m == nil {
			m = map[string]float64{}
			fs.values[community] = m
		}
		m[key] = v
	}
	if err := figureValues(ctx, conn, tmp, k.Figures, set); err != nil {
		return nil, err
	}
	for _, f := range k.Figures {
		a := lay.anchors[f.Anchor]
		fs.cells[f.Anchor] = cellInfo{anchor: f.Anchor, cell: a.sheet + "!" + a.cell(0, 0), label: f.Label}
	}
	for _, m := range k.Matrices {
		a := lay.anchors[m.Anchor]
		rowIdx, colIdx := index(m.Rows), index(m.Cols)
		label := func(labels, keys []string, i int) string {
			if i < 0 {
				return "合计"
			}
			if len(labels) > 0 {
				return labels[i]
			}
			return keys[i]
		}
		for ri := -1; ri < len(m.Rows); ri++ {
			for ci := -1; ci < len(m.Cols); ci++ {
				r, c := "*", "*"
				if ri >= 0 {
					r = m.Rows[ri]
				}
				if ci >= 0 {
					c = m.Cols[ci]
				}
				var cell string
				switch {
				case ri >= 0 && ci >= 0:
					cell = a.cell(ri, ci)
				case ri >= 0 && m.RowTotals != "":
					cell = lay.anchors[m.RowTotals].cell(ri, 0)
				case ci >= 0 && ri < 0 && m.ColTotals != "":
					cell = lay.anchors[m.ColTotals].cell(0, ci)
				case ri < 0 && ci < 0 && m.GrandTotal != "":
					cell = lay.anchors[m.GrandTotal].cell(0, 0)
				}
				key := matrixKey(m.Anchor, r, c)
				ci2 := cellInfo{anchor: m.Anchor, label: m.Label + " " + label(m.RowLabels, m.Rows, ri) + "×" + label(m.ColLabels, m.Cols, ci)}
				if cell != "" {
					ci2.cell = a.sheet + "!" + cell
				}
				fs.cells[key] = ci2
			}
		}
		err := aggregate(ctx, conn, tmp, trimSQL(m.SQL), m.Measure, []string{"row_key", "col_key"}, func(community string, keys []string, v float64) {
			r, c := keys[0], keys[1]
			if _, ok := rowIdx[r]; !ok && r != "*" {
				return
			}
			if _, ok := colIdx[c]; !ok && c != "*" {
				return
			}
			set(community, matrixKey(m.Anchor, r, c), v)
		}, func(exprs []string) string {
			return quoteLit(m.Anchor+"[") + " || " + exprs[0] + " || ',' || " + exprs[1] + " || ']'"
		}, [][]string{m.Rows, m.Cols})
		if err != nil {
			return nil, fmt.Errorf("matrix %s: %w", m.Anchor, err)
		}
	}
	for _, b := range k.Bands {
		rows, err := bandRows(ctx, conn, trimSQL(b.SQL), b)
		if err != nil {
			return nil, fmt.Errorf("band %s: %w", b.Anchor, err)
		}
		fs.bands[b.Anchor] = rows
		a := lay.anchors[b.Anchor]
		fs.cells[b.Anchor+".rows"] = cellInfo{anchor: b.Anchor, cell: a.sheet + "!" + a.cell(0, 0), label: b.Label + " 行数"}
		total := 0
		for c, rs := range rows {
			set(c, b.Anchor+".rows", float64(len(rs)))
			total += len(rs)
		}
		set(Rollup, b.Anchor+".rows", float64(total))
	}
	return fs, nil
}

// figureValues runs every single-cell figure of a kind in one statement (a UNION ALL of their
// queries, each row tagged with its anchor), counts or sums per figure and community and for
// the roll-up, and adds the persons behind each figure to tmp.
func figureValues(ctx context.Context, conn *sql.Conn, tmp string, figs []Figure, set func(community, key string, v float64)) error {
	if len(figs) == 0 {
		return nil
	}
	var parts []string
	for _, f := range figs {
		q := trimSQL(f.SQL)
		cols, err := columnsOf(ctx, conn, q)
		if err != nil {
			return fmt.Errorf("figure %s: %w", f.Anchor, err)
		}
		need := []string{"community", "person_id"}
		if f.Measure == "sum" {
			need = append(need, "value")
		}
		if err := hasAll(cols, need...); err != nil {
			return fmt.Errorf("figure %s: %w", f.Anchor, err)
		}
		unit, value := "CAST(person_id AS VARCHAR)", "NULL::DOUBLE"
		if contains(cols, "unit") {
			unit = "coalesce(CAST(unit AS VARCHAR), CAST(person_id AS VARCHAR))"
		}
		if f.Measure == "sum" {
			value = "CAST(value AS DOUBLE)"
		}
		parts = append(parts, fmt.Sprintf(`SELECT %s AS key, CAST(community AS VARCHAR) AS community, CAST(person_id AS VARCHAR) AS person_id, %s AS unit, %s AS value
			FROM (%s) AS q WHERE community IS NOT NULL AND community <> ''`, quoteLit(f.Anchor), unit, value, q))
	}
	src := tmp + "_figures"
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS %s", src, strings.Join(parts, "\nUNION ALL\n"))); err != nil {
		return fmt.Errorf("figures: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+src)
	measure := map[string]string{}
	for _, f := range figs {
		measure[f.Anchor] = f.Measure
	}
	// Each unit once per figure and community (and once per figure for the street): a family's
	// amount counts once however many members are listed.
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`WITH u AS (SELECT key, community, unit, max(value) AS v FROM %[1]s GROUP BY ALL)
		SELECT key, community, count(*) AS n, sum(v) AS s FROM u GROUP BY key, community
		UNION ALL
		SELECT key, '%[2]s', count(*), sum(v) FROM (SELECT key, unit, max(v) AS v FROM u GROUP BY ALL) GROUP BY key`, src, Rollup))
	if err != nil {
		return fmt.Errorf("figures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, community string
		var n int64
		var sum sql.NullFloat64
		if err := rows.Scan(&key, &community, &n, &sum); err != nil {
			return err
		}
		if measure[key] == "sum" {
			set(community, key, sum.Float64)
		} else {
			set(community, key, float64(n))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s SELECT DISTINCT community, key, person_id FROM %s`, tmp, src)); err != nil {
		return fmt.Errorf("figure persons: %w", err)
	}
	return nil
}

func matrixKey(anchor, r, c string) string { return anchor + "[" + r + "," + c + "]" }

func index(keys []string) map[string]int {
	m := make(map[string]int, len(keys))
	for i, k := range keys {
		m[k] = i
	}
	return m
}

func quoteLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// aggregate materializes q, adds the persons behind each number to tmp, and reports each
// community's (and the roll-up's) value per combination of keys, with "*" for a key's total.
//
// keySQL gives the SQL expression of a number's key from the SQL expressions of the keys
// (a key column, or '*' for its total).
//
// listed are each key's values the definition lists: a value it does not list is an error (its
// persons would vanish from every cell).
func aggregate(ctx context.Context, conn *sql.Conn, tmp, q, measure string, keys []string, emit func(community string, keys []string, v float64), keySQL func(exprs []string) string, listed [][]string) error {
	cols, err := columnsOf(ctx, conn, q)
	if err != nil {
		return err
	}
	need := append([]string{"community", "person_id"}, keys...)
	if measure == "sum" {
		need = append(need, "value")
	}
	if err := hasAll(cols, need...); err != nil {
		return err
	}
	unit := "person_id"
	if contains(cols, "unit") {
		unit = "coalesce(CAST(unit AS VARCHAR), person_id)"
	}
	keyCols := ""
	for _, k := range keys {
		keyCols += fmt.Sprintf(", coalesce(CAST(%s AS VARCHAR), '') AS %s", k, k)
	}
	value := "NULL::DOUBLE"
	if measure == "sum" {
		value = "CAST(value AS DOUBLE)"
	}
	src := tmp + "_q"
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s AS
		SELECT CAST(community AS VARCHAR) AS community, CAST(person_id AS VARCHAR) AS person_id, %s AS unit, %s AS value%s
		FROM (%s) AS q WHERE community IS NOT NULL AND community <> ''`, src, unit, value, keyCols, q)); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+src)
	for i, k := range keys {
		if err := unlistedKeys(ctx, conn, src, k, listed[i]); err != nil {
			return err
		}
	}
	// Every subset of the keys, with and without the community: totals are distinct counts
	// (a person in two cells of a row counts once in the row's total).
	var sets []string
	n := len(keys)
	for mask := 0; mask < 1<<n; mask++ {
		var ks []string
		for i, k := range keys {
			if mask&(1<<i) != 0 {
				ks = append(ks, k)
			}
		}
		sets = append(sets, "("+strings.Join(append([]string{"community"}, ks...), ", ")+")", "("+strings.Join(ks, ", ")+")")
	}
	sel := "community"
	for _, k := range keys {
		sel += ", " + k
	}
	var agg string
	if measure == "sum" {
		// Each unit's value once per cell: a family's amount counts once however many
		// members are listed.
		agg = fmt.Sprintf(`SELECT %s, grouping(%s) AS g, sum(v) AS n FROM (
			SELECT community, unit, %s max(value) AS v FROM %s GROUP BY ALL) GROUP BY GROUPING SETS (%s)`,
			sel, sel, keyPrefix(keys), src, strings.Join(sets, ", "))
	} else {
		agg = fmt.Sprintf(`SELECT %s, grouping(%s) AS g, count(DISTINCT unit) AS n FROM %s GROUP BY GROUPING SETS (%s)`,
			sel, sel, src, strings.Join(sets, ", "))
	}
	rows, err := conn.QueryContext(ctx, agg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]sql.NullString, 1+len(keys))
		var g int64
		var v sql.NullFloat64
		dest := make([]any, 0, len(vals)+2)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		dest = append(dest, &g, &v)
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		// grouping(): bit i (from the left, highest first) is set when column i is rolled up.
		rolled := func(i int) bool { return g&(1<<(len(keys)-i)) != 0 }
		community := vals[0].String
		if rolled(0) {
			community = Rollup
		}
		ks := make([]string, len(keys))
		for i := range keys {
			ks[i] = vals[i+1].String
			if rolled(i + 1) {
				ks[i] = "*"
			}
		}
		emit(community, ks, v.Float64)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// The persons behind every number: per community and key combination, and each total.
	for mask := 0; mask < 1<<n; mask++ {
		parts := make([]string, n)
		for i, k := range keys {
			if mask&(1<<i) != 0 {
				parts[i] = k
			} else {
				parts[i] = "'*'"
			}
		}
		key := keySQL(parts)
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s SELECT DISTINCT community, %s, person_id FROM %s`, tmp, key, src)); err != nil {
			return err
		}
	}
	return nil
}

func keyPrefix(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return strings.Join(keys, ", ") + ","
}

// unlistedKeys fails when the materialized query src holds a value of column col the definition
// does not list.
func unlistedKeys(ctx context.Context, conn *sql.Conn, src, col string, listed []string) error {
	in := make([]string, len(listed))
	for i, l := range listed {
		in[i] = quoteLit(l)
	}
	r, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT DISTINCT %[1]s FROM %[2]s WHERE %[1]s NOT IN (%[3]s) ORDER BY 1 LIMIT 5`, col, src, strings.Join(in, ", ")))
	if err != nil {
		return err
	}
	defer r.Close()
	var bad []string
	for r.Next() {
		var s string
		if err := r.Scan(&s); err != nil {
			return err
		}
		if s == "" {
			s = "(empty)"
		}
		bad = append(bad, s)
	}
	if err := r.Err(); err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s values %s are not listed in the definition (listed: %s)", col, strings.Join(bad, ", "), strings.Join(listed, ", "))
	}
	return nil
}

// bandRows runs a band's query and returns its rows per community, in the query's order.
func bandRows(ctx context.Context, conn *sql.Conn, q string, b Band) (map[string][]bandRow, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	need := []string{"community", "person_id"}
	for _, c := range b.Columns {
		if c != "" && c != "seq" {
			need = append(need, c)
		}
	}
	if err := hasAll(cols, need...); err != nil {
		return nil, err
	}
	at := map[string]int{}
	for i, c := range cols {
		at[c] = i
	}
	out := map[string][]bandRow{}
	vals := make([]sql.NullString, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		community := vals[at["community"]].String
		if community == "" {
			continue
		}
		r := bandRow{person: vals[at["person_id"]].String, values: make([]string, len(b.Columns)), masked: make([]bool, len(b.Columns)), raw: map[string]string{}}
		for i, c := range b.Columns {
			if c == "" || c == "seq" {
				continue
			}
			r.values[i] = vals[at[c]].String
			r.raw[c] = vals[at[c]].String
			_, r.masked[i] = b.Mask[c]
		}
		out[community] = append(out[community], r)
	}
	return out, rows.Err()
}

// communities lists the placed communities of the golden records, sorted.
func communities(ctx context.Context, conn *sql.Conn) ([]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT DISTINCT community FROM golden.person WHERE coalesce(community, '') <> '' ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("communities: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}
