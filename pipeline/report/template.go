package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/xuri/excelize/v2"
)

// area is a rectangle of one sheet, 1-based.
type area struct {
	sheet          string
	col, row       int // top left
	cols, rows     int
	refersTo, name string
}

func (a area) cell(dr, dc int) string {
	c, _ := excelize.CoordinatesToCellName(a.col+dc, a.row+dr)
	return c
}

// layout is where a kind's anchors sit in its template.
type layout struct {
	sheet   string
	anchors map[string]area
	// formulas outside any band that refer to a band's template row, to be grown with it.
	formulas []formulaCell
}

type formulaCell struct {
	col, row int
	formula  string
}

var refRe = regexp.MustCompile(`^'?(.+?)'?!\$?([A-Z]{1,3})\$?([0-9]+)(?::\$?([A-Z]{1,3})\$?([0-9]+))?$`)

// openTemplate opens a kind's template and checks every anchor the definition names is a
// workbook defined name of the right shape on the filled sheet.
func openTemplate(k *Kind) (*excelize.File, *layout, error) {
	f, err := excelize.OpenReader(bytes.NewReader(k.TemplateBytes))
	if err != nil {
		return nil, nil, fmt.Errorf("report kind %s: template: %w", k.Code, err)
	}
	lay, err := readLayout(f, k)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("report kind %s: template %s: %w", k.Code, k.Template, err)
	}
	return f, lay, nil
}

func readLayout(f *excelize.File, k *Kind) (*layout, error) {
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("no sheet")
	}
	lay := &layout{sheet: sheets[0], anchors: map[string]area{}}
	if k.Sheet != "" {
		if idx, err := f.GetSheetIndex(k.Sheet); err != nil || idx < 0 {
			return nil, fmt.Errorf("sheet %q not found (sheets: %s)", k.Sheet, strings.Join(sheets, ", "))
		}
		lay.sheet = k.Sheet
	}
	names := map[string]area{}
	for _, dn := range f.GetDefinedName() {
		if dn.Scope != "" && dn.Scope != "Workbook" && dn.Scope != lay.sheet {
			continue
		}
		m := refRe.FindStringSubmatch(strings.TrimPrefix(dn.RefersTo, "="))
		if m == nil {
			continue // a formula or constant name: not an anchor
		}
		c1, _ := excelize.ColumnNameToNumber(m[2])
		r1 := atoi(m[3])
		c2, r2 := c1, r1
		if m[4] != "" {
			c2, _ = excelize.ColumnNameToNumber(m[4])
			r2 = atoi(m[5])
		}
		names[dn.Name] = area{sheet: m[1], col: min(c1, c2), row: min(r1, r2), cols: abs(c2-c1) + 1, rows: abs(r2-r1) + 1, refersTo: dn.RefersTo, name: dn.Name}
	}
	need := func(name string, rows, cols int, what string) error {
		a, ok := names[name]
		if !ok {
			return fmt.Errorf("%s: no defined name %q in the template", what, name)
		}
		if a.sheet != lay.sheet {
			return fmt.Errorf("%s: defined name %q is on sheet %q, not on the filled sheet %q", what, name, a.sheet, lay.sheet)
		}
		if rows > 0 && a.rows != rows || cols > 0 && a.cols != cols {
			return fmt.Errorf("%s: defined name %q (%s) is %d×%d cells, the definition needs %d×%d", what, name, a.refersTo, a.rows, a.cols, rows, cols)
		}
		lay.anchors[name] = a
		return nil
	}
	for _, h := range []string{k.Header.Unit, k.Header.Period, k.Header.Date} {
		if h != "" {
			if err := need(h, 1, 1, "header"); err != nil {
				return nil, err
			}
		}
	}
	for _, fg := range k.Figures {
		if err := need(fg.Anchor, 1, 1, "figure "+fg.Anchor); err != nil {
			return nil, err
		}
	}
	for _, m := range k.Matrices {
		if err := need(m.Anchor, len(m.Rows), len(m.Cols), "matrix "+m.Anchor); err != nil {
			return nil, err
		}
		if m.RowTotals != "" {
			if err := need(m.RowTotals, len(m.Rows), 1, "matrix "+m.Anchor+" row_totals"); err != nil {
				return nil, err
			}
		}
		if m.ColTotals != "" {
			if err := need(m.ColTotals, 1, len(m.Cols), "matrix "+m.Anchor+" col_totals"); err != nil {
				return nil, err
			}
		}
		if m.GrandTotal != "" {
			if err := need(m.GrandTotal, 1, 1, "matrix "+m.Anchor+" grand_total"); err != nil {
				return nil, err
			}
		}
	}
	bandRows := map[int]bool{}
	for _, b := range k.Bands {
		if err := need(b.Anchor, 1, len(b.Columns), "band "+b.Anchor); err != nil {
			return nil, err
		}
		bandRows[lay.anchors[b.Anchor].row] = true
	}
	if len(bandRows) < len(k.Bands) {
		return nil, fmt.Errorf("two bands on one template row")
	}
	// Formulas that refer to a band row are grown with it.
	if len(k.Bands) > 0 {
		rows, err := f.GetRows(lay.sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, err
		}
		maxCol := 0
		for _, r := range rows {
			maxCol = max(maxCol, len(r))
		}
		for r := 1; r <= len(rows)+1; r++ {
			if bandRows[r] {
				continue
			}
			for c := 1; c <= maxCol+1; c++ {
				cell, _ := excelize.CoordinatesToCellName(c, r)
				fm, err := f.GetCellFormula(lay.sheet, cell)
				if err != nil {
					return nil, err
				}
				if fm == "" {
					continue
				}
				for br := range bandRows {
					if refersToRow(fm, br) {
						lay.formulas = append(lay.formulas, formulaCell{col: c, row: r, formula: fm})
						break
					}
				}
			}
		}
	}
	return lay, nil
}

var (
	cellRefRe = regexp.MustCompile(`(\$?[A-Z]{1,3}\$?)([0-9]+)(:(\$?[A-Z]{1,3}\$?)([0-9]+))?`)
	aggOpenRe = regexp.MustCompile(`(?i)(\b(SUM|COUNTA|COUNT|AVERAGE|MAX|MIN|PRODUCT)\(|SUBTOTAL\(\s*[0-9]+\s*,\s*)$`)
)

// bandRefs finds the references in formula that cover exactly the band's template row: a range
// A6:D6, or a single cell that is an aggregate's argument (SUM(D6), COUNTA(B6)) — not a cell
// used on its own (=D6*2 stays as it is).
func bandRefs(formula string, row int) [][]int {
	var out [][]int
	for _, m := range cellRefRe.FindAllStringSubmatchIndex(formula, -1) {
		if m[0] > 0 && isRefChar(formula[m[0]-1]) || m[1] < len(formula) && (isRefChar(formula[m[1]]) || formula[m[1]] == '(') {
			continue // part of a longer name, or a function name like LOG10(
		}
		if atoi(formula[m[4]:m[5]]) != row {
			continue
		}
		if m[6] >= 0 {
			if atoi(formula[m[10]:m[11]]) == row {
				out = append(out, m)
			}
			continue
		}
		if aggOpenRe.MatchString(formula[:m[0]]) {
			out = append(out, m)
		}
	}
	return out
}

func isRefChar(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '.'
}

func refersToRow(formula string, row int) bool { return len(bandRefs(formula, row)) > 0 }

// growFormula rewrites the references bandRefs finds to the band's n rows.
func growFormula(formula string, row, n int) string {
	refs := bandRefs(formula, row)
	last := row + n - 1
	var b strings.Builder
	at := 0
	for _, m := range refs {
		b.WriteString(formula[at:m[0]])
		c1 := formula[m[2]:m[3]]
		c2 := c1
		if m[6] >= 0 {
			c2 = formula[m[8]:m[9]]
		}
		fmt.Fprintf(&b, "%s%d:%s%d", c1, row, c2, last)
		at = m[1]
	}
	b.WriteString(formula[at:])
	return b.String()
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
