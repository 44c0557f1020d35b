// Package xlsxout writes worksheets laid out the way Chinese departments and
// community staff keep them (社区台账 and departmental registers): an optional
// merged title row, a one- or two-row header where group cells are merged
// across their sub-columns and single columns are merged vertically across
// both header rows, an optional 序号 (serial number) column, blank rows, 合计
// (total) rows and notes below the table.
//
// The files are real .xlsx workbooks written with excelize's StreamWriter, so
// sheets of several hundred thousand rows can be produced without holding the
// whole worksheet in memory.
//
// Cell typing follows the caller's Go types, which is how typing habits are
// simulated: a string is always a text cell, even when it looks like a number
// (an ID card number kept as text), while int/int64/float64 values are numeric
// cells (an ID card number typed as a number; for float64 excelize keeps at
// most 15 significant digits, as Excel does, so the last digits are lost).
// time.Time values are written as Excel date serial numbers (wall-clock date
// and time of the value, its location ignored) with the number format
// "yyyy-mm-dd"; dates before 1900-01-01 cannot be Excel dates and end up as
// text, as excelize does.
package xlsxout

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"
)

// Column is one table column. Group, when not empty, is the upper header cell
// shared by adjacent columns with the same Group (merged horizontally);
// columns with an empty Group take both header rows (merged vertically). If no
// column has a Group, the header is one row.
type Column struct {
	Group string
	Name  string
	Width float64 // 0 = default width
}

// RowKind says what a Row is.
type RowKind int

const (
	// Data is a record. It gets the next serial number when Sheet.Serial is
	// set, and its Excel row number is returned by Write.
	Data RowKind = iota
	// Blank is an empty (but bordered) line inside the table. Values must be
	// empty.
	Blank
	// Total is a 合计 line. With Sheet.Serial the serial cell reads "合计";
	// without it, column A reads "合计" when Values[0] is nil (or Values is
	// empty). Total rows are bold and take no serial number.
	Total
	// Note is a line of free text (Values[0]) merged across the sheet width.
	// Notes are normally given in Sheet.Notes, after the table, but a Note row
	// inside Rows is allowed (e.g. a sub-heading typed between blocks).
	Note
	// Line is a line of free text (Values[0]) typed into column A only, not
	// merged and without borders: a note a clerk added under the table.
	Line
)

// Row is one line under the header. Kind says what it is.
//
// Values: for Data and Total rows one value per Column (not counting the
// serial column); fewer values leave the remaining cells empty, more is an
// error. Allowed types: string, int (and the other Go integer types), int64,
// float64 (and float32), bool, time.Time, nil (empty cell). For a Note or
// Line row Values[0] is the text (a non-string is formatted with fmt.Sprint) and
// no other value may be given. A Blank row takes no values.
type Row struct {
	Kind   RowKind
	Values []any
}

// Sheet is one worksheet.
type Sheet struct {
	// Name is the worksheet name (Chinese allowed). At most 31 characters
	// (counted as Excel does, in UTF-16 units); it must not be empty, contain
	// any of : \ / ? * [ ], start or end with an apostrophe, or repeat the name
	// of another sheet (case-insensitively, as Excel compares them).
	Name string
	// Title, if not empty, is written in row 1, merged across the full width,
	// bold and centred.
	Title string
	// Serial prepends a "序号" column (its header merged vertically when the
	// header has two rows), numbered 1, 2, ... over Data rows only.
	Serial  bool
	Columns []Column
	Rows    []Row
	// Notes are lines written right after the last row, one per row, each
	// merged across the width (e.g. "注：...", "填表人：张三  审核人：李四").
	Notes []string
}

const (
	serialHeader   = "序号"
	totalLabel     = "合计"
	serialWidth    = 6
	titleHeight    = 30
	maxSheetName   = 31
	dateNumFmt     = "yyyy-mm-dd"
	invalidNameSet = ":\\/?*[]"
)

// styles are the few cell styles shared by every sheet of a workbook.
type styles struct {
	title, header, cell, date, total, totalDate, note int
}

func newStyles(f *excelize.File) (styles, error) {
	var s styles
	border := []excelize.Border{
		{Type: "left", Color: "000000", Style: 1},
		{Type: "top", Color: "000000", Style: 1},
		{Type: "right", Color: "000000", Style: 1},
		{Type: "bottom", Color: "000000", Style: 1},
	}
	numFmt := dateNumFmt
	defs := []struct {
		dst   *int
		style *excelize.Style
	}{
		{&s.title, &excelize.Style{
			Font:      &excelize.Font{Bold: true, Size: 16},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"},
		}},
		{&s.header, &excelize.Style{
			Font:      &excelize.Font{Bold: true},
			Border:    border,
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true},
		}},
		{&s.cell, &excelize.Style{
			Border:    border,
			Alignment: &excelize.Alignment{Vertical: "center"},
		}},
		{&s.date, &excelize.Style{
			Border:       border,
			Alignment:    &excelize.Alignment{Vertical: "center"},
			CustomNumFmt: &numFmt,
		}},
		{&s.total, &excelize.Style{
			Font:      &excelize.Font{Bold: true},
			Border:    border,
			Alignment: &excelize.Alignment{Vertical: "center"},
		}},
		{&s.totalDate, &excelize.Style{
			Font:         &excelize.Font{Bold: true},
			Border:       border,
			Alignment:    &excelize.Alignment{Vertical: "center"},
			CustomNumFmt: &numFmt,
		}},
		{&s.note, &excelize.Style{
			Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "center"},
		}},
	}
	for _, d := range defs {
		id, err := f.NewStyle(d.style)
		if err != nil {
			return s, err
		}
		*d.dst = id
	}
	return s, nil
}

// Write creates the workbook at path with the sheets in order (the default
// "Sheet1" does not remain unless a sheet is called that). It returns, per
// sheet (same order), the 1-based Excel row number of each Data row, in
// order, so the caller can say exactly where each record landed.
//
// Layout: the title (if any) is row 1; the header follows (one row, or two
// when any column has a Group); Rows start right after the header, and Notes
// right after the last row. Nothing is written to path when an error is
// returned before saving.
func Write(path string, sheets []Sheet) ([][]int, error) {
	if len(sheets) == 0 {
		return nil, fmt.Errorf("xlsxout: no sheets to write")
	}
	seen := make(map[string]bool, len(sheets))
	for i, sh := range sheets {
		if err := checkName(sh.Name); err != nil {
			return nil, fmt.Errorf("xlsxout: sheet %d: %w", i+1, err)
		}
		key := strings.ToLower(sh.Name)
		if seen[key] {
			return nil, fmt.Errorf("xlsxout: duplicate sheet name %q", sh.Name)
		}
		seen[key] = true
		if len(sh.Columns) == 0 && !sh.Serial {
			return nil, fmt.Errorf("xlsxout: sheet %q has no columns", sh.Name)
		}
	}

	f := excelize.NewFile()
	defer f.Close()

	// The new workbook holds "Sheet1": rename it to the first sheet, then add
	// the others in order.
	if err := f.SetSheetName(f.GetSheetName(0), sheets[0].Name); err != nil {
		return nil, fmt.Errorf("xlsxout: sheet %q: %w", sheets[0].Name, err)
	}
	for _, sh := range sheets[1:] {
		if _, err := f.NewSheet(sh.Name); err != nil {
			return nil, fmt.Errorf("xlsxout: sheet %q: %w", sh.Name, err)
		}
	}
	f.SetActiveSheet(0)

	st, err := newStyles(f)
	if err != nil {
		return nil, fmt.Errorf("xlsxout: styles: %w", err)
	}

	out := make([][]int, len(sheets))
	for i := range sheets {
		rows, err := writeSheet(f, &sheets[i], st)
		if err != nil {
			return nil, fmt.Errorf("xlsxout: sheet %q: %w", sheets[i].Name, err)
		}
		out[i] = rows
	}
	if err := f.SaveAs(path); err != nil {
		return nil, fmt.Errorf("xlsxout: save %s: %w", path, err)
	}
	return out, nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty sheet name")
	case len(utf16.Encode([]rune(name))) > maxSheetName:
		return fmt.Errorf("sheet name %q longer than %d characters", name, maxSheetName)
	case strings.ContainsAny(name, invalidNameSet):
		return fmt.Errorf("sheet name %q contains one of %s", name, invalidNameSet)
	case strings.HasPrefix(name, "'") || strings.HasSuffix(name, "'"):
		return fmt.Errorf("sheet name %q starts or ends with an apostrophe", name)
	}
	return nil
}

func cellName(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

// merge declares a merged range unless it is a single cell.
func merge(sw *excelize.StreamWriter, c1, r1, c2, r2 int) error {
	if c1 == c2 && r1 == r2 {
		return nil
	}
	return sw.MergeCell(cellName(c1, r1), cellName(c2, r2))
}

func writeSheet(f *excelize.File, sh *Sheet, st styles) ([]int, error) {
	sw, err := f.NewStreamWriter(sh.Name)
	if err != nil {
		return nil, err
	}

	off := 0 // number of columns before the first Column
	if sh.Serial {
		off = 1
	}
	width := off + len(sh.Columns)

	// Column widths must be set before any row.
	if sh.Serial {
		if err := sw.SetColWidth(1, 1, serialWidth); err != nil {
			return nil, err
		}
	}
	for i, c := range sh.Columns {
		if c.Width > 0 {
			if err := sw.SetColWidth(off+i+1, off+i+1, c.Width); err != nil {
				return nil, fmt.Errorf("column %q: %w", c.Name, err)
			}
		}
	}

	r := 1
	if sh.Title != "" {
		vals := []any{excelize.Cell{StyleID: st.title, Value: sh.Title}}
		if err := sw.SetRow(cellName(1, r), vals, excelize.RowOpts{Height: titleHeight}); err != nil {
			return nil, err
		}
		if err := merge(sw, 1, r, width, r); err != nil {
			return nil, err
		}
		r++
	}

	if r, err = writeHeader(sw, sh, st, r, off, width); err != nil {
		return nil, err
	}

	var dataRows []int
	serial := 0
	buf := make([]any, width)
	for i, row := range sh.Rows {
		switch row.Kind {
		case Data, Total:
			if len(row.Values) > len(sh.Columns) {
				return nil, fmt.Errorf("row %d: %d values for %d columns", i+1, len(row.Values), len(sh.Columns))
			}
			cellStyle, dateStyle := st.cell, st.date
			if row.Kind == Total {
				cellStyle, dateStyle = st.total, st.totalDate
			}
			if sh.Serial {
				if row.Kind == Data {
					serial++
					buf[0] = excelize.Cell{StyleID: cellStyle, Value: serial}
				} else {
					buf[0] = excelize.Cell{StyleID: cellStyle, Value: totalLabel}
				}
			}
			for j := range sh.Columns {
				var v any
				if j < len(row.Values) {
					v = row.Values[j]
				}
				if row.Kind == Total && !sh.Serial && j == 0 && v == nil {
					v = totalLabel
				}
				c, err := makeCell(v, cellStyle, dateStyle)
				if err != nil {
					return nil, fmt.Errorf("row %d, column %q: %w", i+1, sh.Columns[j].Name, err)
				}
				buf[off+j] = c
			}
			if err := sw.SetRow(cellName(1, r), buf); err != nil {
				return nil, err
			}
			if row.Kind == Data {
				dataRows = append(dataRows, r)
			}
		case Blank:
			if len(row.Values) > 0 {
				return nil, fmt.Errorf("row %d: blank row with values", i+1)
			}
			for j := range buf {
				buf[j] = excelize.Cell{StyleID: st.cell}
			}
			if err := sw.SetRow(cellName(1, r), buf); err != nil {
				return nil, err
			}
		case Note, Line:
			if len(row.Values) > 1 {
				return nil, fmt.Errorf("row %d: note row with %d values (want the text only)", i+1, len(row.Values))
			}
			text := ""
			if len(row.Values) == 1 && row.Values[0] != nil {
				if s, ok := row.Values[0].(string); ok {
					text = s
				} else {
					text = fmt.Sprint(row.Values[0])
				}
			}
			if row.Kind == Line {
				if err := sw.SetRow(cellName(1, r), []any{text}); err != nil {
					return nil, err
				}
			} else if err := writeNote(sw, st, r, width, text); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("row %d: unknown row kind %d", i+1, row.Kind)
		}
		r++
	}

	for _, n := range sh.Notes {
		if err := writeNote(sw, st, r, width, n); err != nil {
			return nil, err
		}
		r++
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	return dataRows, nil
}

// writeHeader writes the header row(s) starting at row r and returns the
// first row after the header.
func writeHeader(sw *excelize.StreamWriter, sh *Sheet, st styles, r, off, width int) (int, error) {
	twoRows := false
	for _, c := range sh.Columns {
		if c.Group != "" {
			twoRows = true
			break
		}
	}
	if !twoRows {
		vals := make([]any, width)
		if sh.Serial {
			vals[0] = excelize.Cell{StyleID: st.header, Value: serialHeader}
		}
		for i, c := range sh.Columns {
			vals[off+i] = excelize.Cell{StyleID: st.header, Value: c.Name}
		}
		return r + 1, sw.SetRow(cellName(1, r), vals)
	}

	upper := make([]any, width)
	lower := make([]any, width)
	// Every cell of the header block gets the header style, so merged areas
	// keep their borders; hidden cells of a merge have no value.
	for i := range upper {
		upper[i] = excelize.Cell{StyleID: st.header}
		lower[i] = excelize.Cell{StyleID: st.header}
	}
	if sh.Serial {
		upper[0] = excelize.Cell{StyleID: st.header, Value: serialHeader}
		if err := merge(sw, 1, r, 1, r+1); err != nil {
			return 0, err
		}
	}
	for i := 0; i < len(sh.Columns); {
		c := sh.Columns[i]
		col := off + i + 1
		if c.Group == "" {
			upper[col-1] = excelize.Cell{StyleID: st.header, Value: c.Name}
			if err := merge(sw, col, r, col, r+1); err != nil {
				return 0, err
			}
			i++
			continue
		}
		// A run of adjacent columns sharing the group.
		j := i
		for j+1 < len(sh.Columns) && sh.Columns[j+1].Group == c.Group {
			j++
		}
		upper[col-1] = excelize.Cell{StyleID: st.header, Value: c.Group}
		for k := i; k <= j; k++ {
			lower[off+k] = excelize.Cell{StyleID: st.header, Value: sh.Columns[k].Name}
		}
		if err := merge(sw, col, r, off+j+1, r); err != nil {
			return 0, err
		}
		i = j + 1
	}
	if err := sw.SetRow(cellName(1, r), upper); err != nil {
		return 0, err
	}
	if err := sw.SetRow(cellName(1, r+1), lower); err != nil {
		return 0, err
	}
	return r + 2, nil
}

func writeNote(sw *excelize.StreamWriter, st styles, r, width int, text string) error {
	var v any
	if text != "" {
		v = text
	}
	if err := sw.SetRow(cellName(1, r), []any{excelize.Cell{StyleID: st.note, Value: v}}); err != nil {
		return err
	}
	return merge(sw, 1, r, width, r)
}

// makeCell checks a value's type and wraps it with its style.
func makeCell(v any, cellStyle, dateStyle int) (excelize.Cell, error) {
	switch v.(type) {
	case nil, string, bool,
		int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64,
		float32, float64:
		return excelize.Cell{StyleID: cellStyle, Value: v}, nil
	case time.Time:
		return excelize.Cell{StyleID: dateStyle, Value: v}, nil
	default:
		return excelize.Cell{}, fmt.Errorf("unsupported value type %T", v)
	}
}
