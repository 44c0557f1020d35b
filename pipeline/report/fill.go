package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// fillInput is one workbook's content.
type fillInput struct {
	kind      *Kind
	lay       *layout
	community string // Rollup for the street
	unit      string // 填报单位 as written
	period    Period
	dateText  string
	values    map[string]float64
	cells     map[string]cellInfo
	bands     map[string][]bandRow
	full      bool         // full ID numbers and phones
	detail    []detailLine // the 明细 sheet
	rollupBy  []rollupLine // the roll-up's 明细: per figure and community
}

type detailLine struct {
	person, name, idNo, cells string
}

type rollupLine struct {
	cell, label, community string
	value                  float64
}

// DetailSheet is the name of the drill-down sheet added to every filled workbook.
const DetailSheet = "明细"

// fill writes one workbook from the kind's template and returns its bytes.
func fill(in fillInput) ([]byte, error) {
	f, err := excelize.OpenReader(bytes.NewReader(in.kind.TemplateBytes))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sheet := in.lay.sheet
	k := in.kind
	setText := func(anchor, text string) error {
		if anchor == "" {
			return nil
		}
		a := in.lay.anchors[anchor]
		return f.SetCellStr(sheet, a.cell(0, 0), text)
	}
	if err := setText(k.Header.Unit, in.unit); err != nil {
		return nil, err
	}
	if err := setText(k.Header.Period, in.period.Text()); err != nil {
		return nil, err
	}
	if err := setText(k.Header.Date, in.dateText); err != nil {
		return nil, err
	}
	setNum := func(cell string, v float64) error {
		if v == float64(int64(v)) {
			return f.SetCellInt(sheet, cell, int64(v))
		}
		return f.SetCellFloat(sheet, cell, v, 2, 64)
	}
	for _, fg := range k.Figures {
		if err := setNum(in.lay.anchors[fg.Anchor].cell(0, 0), in.values[fg.Anchor]); err != nil {
			return nil, err
		}
	}
	for _, m := range k.Matrices {
		for key, ci := range in.cells {
			if ci.anchor != m.Anchor || ci.cell == "" || !strings.HasPrefix(key, m.Anchor+"[") {
				continue
			}
			_, cell, _ := strings.Cut(ci.cell, "!")
			if err := setNum(cell, in.values[key]); err != nil {
				return nil, err
			}
		}
	}
	// Bands from the bottom up, so that a band's growth does not move the one above it.
	order := make([]Band, len(k.Bands))
	copy(order, k.Bands)
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && in.lay.anchors[order[j].Anchor].row > in.lay.anchors[order[j-1].Anchor].row; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	grown := map[int]int{} // template row → rows it now has
	var outs []bandOut
	for _, b := range order {
		a := in.lay.anchors[b.Anchor]
		rows := in.bands[b.Anchor]
		styles := make([]int, a.cols)
		for c := range styles {
			st, err := f.GetCellStyle(sheet, a.cell(0, c))
			if err != nil {
				return nil, err
			}
			styles[c] = st
		}
		if err := growBand(f, sheet, a, len(rows)); err != nil {
			return nil, fmt.Errorf("band %s: %w", b.Anchor, err)
		}
		grown[a.row] = max(1, len(rows))
		if len(rows) == 0 {
			continue
		}
		bo := bandOut{row: a.row, col: a.col, styles: styles, rows: make([][]bandCell, len(rows))}
		for i, r := range rows {
			cells := make([]bandCell, len(b.Columns))
			for j, c := range b.Columns {
				switch {
				case c == "":
				case c == "seq":
					cells[j] = bandCell{text: strconv.Itoa(i + 1), number: true}
				default:
					v := r.values[j]
					if r.masked[j] && !in.full {
						v = maskValue(b.Mask[c], v)
					}
					_, e := strconv.ParseFloat(v, 64)
					cells[j] = bandCell{text: v, number: e == nil && !r.masked[j] && isNumericColumn(v)}
				}
			}
			bo.rows[i] = cells
		}
		outs = append(outs, bo)
	}
	// Formulas that summed a band's template row now sum the grown band. InsertRows moved each
	// formula and the references below the insertion; the band's own row is grown here.
	shift := func(row int) int { // where a template row is now
		out := row
		for br, n := range grown {
			if br < row {
				out += n - 1
			}
		}
		return out
	}
	for i := range outs {
		outs[i].row = shift(outs[i].row)
	}
	for _, fc := range in.lay.formulas {
		cell, _ := excelize.CoordinatesToCellName(fc.col, shift(fc.row))
		formula, err := f.GetCellFormula(sheet, cell)
		if err != nil {
			return nil, err
		}
		for br, n := range grown {
			formula = growFormula(formula, shift(br), n)
		}
		if err := f.SetCellFormula(sheet, cell, formula); err != nil {
			return nil, err
		}
	}
	// Cached values of formulas are stale now: clear them and ask for a full recalculation
	// (before the drill-down sheet is added: it has no formulas, and reading it back is slow).
	if err := f.UpdateLinkedValue(); err != nil {
		return nil, err
	}
	if _, err := f.NewSheet(DetailSheet); err != nil {
		return nil, fmt.Errorf("%s sheet: %w", DetailSheet, err)
	}
	if err := f.SetColWidth(DetailSheet, "A", "E", 18); err != nil {
		return nil, err
	}
	yes := true
	if err := f.SetCalcProps(&excelize.CalcPropsOptions{FullCalcOnLoad: &yes}); err != nil {
		return nil, err
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return writeSheets(buf.Bytes(), sheet, outs, detailRows(in))
}

// isNumericColumn: a plain number (an age, an amount), not a code or date written with digits
// that must keep its form (0501, 2026-11-30, 13800001111).
func isNumericColumn(v string) bool {
	if v == "" || len(v) > 9 || strings.HasPrefix(v, "0") && len(v) > 1 && v[1] != '.' {
		return false
	}
	return !strings.ContainsAny(v, "-/ ")
}

// growBand makes room for n rows at the band (n ≤ 1: the template row is used as it is) and
// grows the template row's data validation over them; writeBands gives the rows their cells,
// with the template row's styles and height.
func growBand(f *excelize.File, sheet string, a area, n int) error {
	if n <= 1 {
		return nil
	}
	if err := f.InsertRows(sheet, a.row+1, n-1); err != nil {
		return err
	}
	last := a.row + n - 1
	dvs, err := f.GetDataValidations(sheet)
	if err != nil {
		return err
	}
	for _, dv := range dvs {
		grown, changed := growSqref(dv.Sqref, a, last)
		if !changed {
			continue
		}
		if err := f.DeleteDataValidation(sheet, dv.Sqref); err != nil {
			return err
		}
		dv.Sqref = grown
		if err := f.AddDataValidation(sheet, dv); err != nil {
			return err
		}
	}
	return nil
}

// growSqref extends every range of sqref that lies on the band's template row down to last.
func growSqref(sqref string, a area, last int) (string, bool) {
	parts := strings.Fields(sqref)
	changed := false
	for i, p := range parts {
		c1, r1, c2, r2, ok := parseRange(p)
		if !ok || r1 != a.row || r2 != a.row || c2 < a.col || c1 >= a.col+a.cols {
			continue
		}
		from, _ := excelize.CoordinatesToCellName(c1, r1)
		to, _ := excelize.CoordinatesToCellName(c2, last)
		parts[i] = from + ":" + to
		changed = true
	}
	return strings.Join(parts, " "), changed
}

func parseRange(s string) (c1, r1, c2, r2 int, ok bool) {
	a, b, found := strings.Cut(s, ":")
	if !found {
		b = a
	}
	var err error
	if c1, r1, err = excelize.CellNameToCoordinates(a); err != nil {
		return 0, 0, 0, 0, false
	}
	if c2, r2, err = excelize.CellNameToCoordinates(b); err != nil {
		return 0, 0, 0, 0, false
	}
	return c1, r1, c2, r2, true
}

// detailRows are the drill-down sheet's lines: for a community, one per person behind any figure
// with the cells they count in; for the roll-up, each figure per community. The sheet itself is
// added empty by fill and its rows written by writeSheets.
func detailRows(in fillInput) [][]bandCell {
	text := func(vals ...string) []bandCell {
		out := make([]bandCell, len(vals))
		for i, v := range vals {
			out[i] = bandCell{text: v}
		}
		return out
	}
	var rows [][]bandCell
	if in.community == Rollup {
		rows = append(rows, text("单元格", "指标", "社区", "数值"))
		for _, l := range in.rollupBy {
			r := text(l.cell, l.label, l.community, "")
			r[3] = bandCell{text: strconv.FormatFloat(l.value, 'f', -1, 64), number: true}
			rows = append(rows, r)
		}
		return rows
	}
	rows = append(rows, text("人员编号", "姓名", "身份证号", "计入的单元格"))
	for _, l := range in.detail {
		id := l.idNo
		if !in.full {
			id = MaskID(id)
		}
		rows = append(rows, text(l.person, l.name, id, l.cells))
	}
	return rows
}
