package xlsxsrc

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"communityhub/connectors"
)

// Skip reasons.
const (
	skipBlank = "blank"
	skipTotal = "total"
	skipNote  = "note"
)

// Value flags, written as "<column>:<flag>".
const (
	flagNumber     = "number"      // an ID typed as a number: digits past the 15th are lost
	flagDateSerial = "date_serial" // a date cell, written as yyyy-mm-dd
	flagSerial     = "serial"      // a plain number in a date column: maybe an Excel date serial
	flagMerged     = "merged"      // the value of a cell merged down over this row
)

// sheetRun reads the data rows of one sheet.
type sheetRun struct {
	st       *sheetStream
	lay      *layout
	b        *connectors.BatchBuilder
	w        connectors.Writer
	prefix   string // "<file>!<sheet>!"
	sheetCol bool

	serialCol  int    // column number of 序号, 0 if none
	dateHeader []bool // by table column: the header names a date or time
	noteMerge  map[[2]int]int
	downs      []span // data cells merged down, by first row
	di         int
	fills      map[int]*fill // by column: merged-down values in force

	seenData, afterNote bool
	skips               map[string]int

	vals  []string
	flags []string
}

type fill struct {
	r1, r2 int
	val    string
}

func newSheetRun(st *sheetStream, lay *layout, b *connectors.BatchBuilder, w connectors.Writer, sheetCol bool) *sheetRun {
	r := &sheetRun{
		st: st, lay: lay, b: b, w: w, sheetCol: sheetCol,
		prefix:     st.wb.rel + "!" + st.sheet + "!",
		dateHeader: make([]bool, len(lay.names)),
		noteMerge:  map[[2]int]int{},
		fills:      map[int]*fill{},
		skips:      map[string]int{},
		vals:       make([]string, len(lay.names)),
	}
	for i, n := range lay.names {
		if n == "序号" && r.serialCol == 0 {
			r.serialCol = lay.first + i
		}
		r.dateHeader[i] = strings.Contains(n, "日期") || strings.Contains(n, "时间") || strings.Contains(n, "年月")
	}
	for _, m := range st.merges {
		if m.r1 < lay.dataStart {
			continue
		}
		if m.r1 == m.r2 {
			r.noteMerge[[2]int{m.r1, m.c1}] = m.c2 - m.c1 + 1
		} else if m.c1 >= lay.first && m.c1 <= lay.last() {
			r.downs = append(r.downs, m)
		}
	}
	slices.SortFunc(r.downs, func(a, b span) int { return a.r1 - b.r1 })
	return r
}

// readAll reads the rows already buffered by the header search, then the rest of the sheet.
func (r *sheetRun) readAll(ctx context.Context, buf []xrow) error {
	for _, row := range buf {
		if row.n >= r.lay.dataStart {
			if err := r.row(row); err != nil {
				return err
			}
		}
	}
	for i := 0; ; i++ {
		if i&0xff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		row, ok, err := r.st.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := r.row(row); err != nil {
			return err
		}
	}
	for _, reason := range []string{skipBlank, skipTotal, skipNote} {
		if n := r.skips[reason]; n > 0 {
			r.w.Skipped(reason, n)
		}
	}
	return nil
}

func (r *sheetRun) row(row xrow) error {
	var ne []xcell
	for _, c := range row.cells {
		if strings.TrimSpace(c.v) != "" {
			ne = append(ne, c)
		}
	}
	switch {
	case len(ne) == 0:
		r.skips[skipBlank]++
		return nil
	case isTotal(ne[0].v):
		r.skips[skipTotal]++
		return nil
	case r.isNote(row.n, ne) || (r.afterNote && len(ne) == 1):
		r.skips[skipNote]++
		r.afterNote = r.afterNote || r.seenData
		return nil
	case len(ne) == 1 && ne[0].col == r.serialCol && isNumber(ne[0].v):
		// Only a pre-numbered 序号: a blank line of the form.
		r.skips[skipBlank]++
		return nil
	}
	r.seenData, r.afterNote = true, false

	for _, c := range ne {
		reason := ""
		if c.col > r.lay.last() {
			reason = "cell beyond the last header column"
		} else if c.col < r.lay.first {
			reason = "cell before the first header column"
		}
		if reason != "" {
			ref, _ := excelize.CoordinatesToCellName(c.col, row.n)
			return r.w.Reject(connectors.Reject{
				Loc:    r.loc(row.n),
				Raw:    rawText(row),
				Reason: fmt.Sprintf("%s (%s)", reason, ref),
			})
		}
	}

	clear(r.vals)
	r.flags = r.flags[:0]
	for _, c := range ne {
		i := c.col - r.lay.first
		v, flag := r.value(c, i)
		r.vals[i] = v
		if flag != "" {
			r.flags = append(r.flags, r.lay.names[i]+":"+flag)
		}
	}
	r.mergedDown(row.n)
	for i, v := range r.vals {
		if v != "" {
			r.b.Set(i, v)
		}
	}
	if r.sheetCol {
		r.b.Set(len(r.vals), r.st.sheet)
	}
	slices.SortStableFunc(r.flags, func(a, b string) int { return r.flagCol(a) - r.flagCol(b) })
	return r.b.EndRow(r.loc(row.n), strings.Join(r.flags, ";"), r.w)
}

func (r *sheetRun) flagCol(f string) int {
	name := f[:strings.LastIndexByte(f, ':')]
	return slices.Index(r.lay.names, name)
}

func (r *sheetRun) loc(n int) string { return r.prefix + strconv.Itoa(n) }

// mergedDown gives the cells of a data row covered by a cell merged down from a row above the
// merged cell's value (flagged), and notes the values of merged cells that start on this row.
func (r *sheetRun) mergedDown(n int) {
	for col, f := range r.fills {
		if f.r2 < n {
			delete(r.fills, col)
		}
	}
	for ; r.di < len(r.downs) && r.downs[r.di].r1 <= n; r.di++ {
		m := r.downs[r.di]
		if m.r2 >= n {
			r.fills[m.c1] = &fill{r1: m.r1, r2: m.r2}
		}
	}
	for col, f := range r.fills {
		i := col - r.lay.first
		switch {
		case f.r1 == n:
			f.val = r.vals[i]
		case r.vals[i] == "" && f.val != "":
			r.vals[i] = f.val
			r.flags = append(r.flags, r.lay.names[i]+":"+flagMerged)
		}
	}
}

// value renders a cell of table column i.
func (r *sheetRun) value(c xcell, i int) (string, string) {
	switch c.t {
	case "", "n":
		s := strings.TrimSpace(c.v)
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return c.v, ""
		}
		if x >= 1 && x < 2958466 && r.st.wb.isDate(c.style) {
			if t, err := excelize.ExcelDateToTime(x, r.st.wb.date1904); err == nil {
				return t.Format("2006-01-02"), flagDateSerial
			}
		}
		if idLike(x) {
			if plainInt.MatchString(s) {
				return s, flagNumber // every digit the file has
			}
			return strconv.FormatFloat(x, 'f', -1, 64), flagNumber
		}
		if r.dateHeader[i] && x >= 1 && x <= 80000 {
			return s, flagSerial
		}
		return s, ""
	case "b":
		switch strings.TrimSpace(c.v) {
		case "1":
			return "TRUE", ""
		case "0":
			return "FALSE", ""
		}
	case "d":
		if isoDate.MatchString(c.v) {
			return c.v[:10], ""
		}
	}
	return c.v, ""
}

var (
	isoDate  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)
	plainInt = regexp.MustCompile(`^-?[1-9][0-9]*$`)
)

// idLike tells whether a number is an ID typed into a number cell: a whole number of 15 digits
// or more (Excel keeps 15 significant digits, so the last ones of an 18-digit ID card number are
// lost), however it was written (320105195803041000, 3.20105195803041E+17).
func idLike(x float64) bool { return x == math.Trunc(x) && math.Abs(x) >= 1e14 }

// rawText is a row's cells from column A to its last value, joined by tabs.
func rawText(row xrow) string {
	if len(row.cells) == 0 {
		return ""
	}
	cells := make([]string, row.cells[len(row.cells)-1].col)
	for _, c := range row.cells {
		cells[c.col-1] = c.v
	}
	return strings.Join(cells, "\t")
}

var totalRe = regexp.MustCompile(`^(合计|总计|小计|共计|总共|total|subtotal|grandtotal)$|^(合计|总计|小计)|^共计?[0-9０-９]+[人户名条项个家次位]`)

// isTotal tells whether a row's first value marks a total line: 合计, 总计, 小计 (alone or
// starting the text, as in "小计：12人" or "合 计"), or "共12人".
func isTotal(v string) bool {
	return totalRe.MatchString(strings.ToLower(squeeze(v)))
}

var notePrefixes = []string{"注", "备注", "说明", "填表人", "填报人", "审核人", "制表", "附注"}

// isNote tells whether a row is a note: its only value sits in the table's first column and is
// merged across (at least half of) the width, or its first value starts with 注, 备注, 说明,
// 填表人, 审核人, 制表, ….
func (r *sheetRun) isNote(n int, ne []xcell) bool {
	if len(ne) == 1 && ne[0].col <= r.lay.first {
		if w, ok := r.noteMerge[[2]int{n, ne[0].col}]; ok && w >= 2 && 2*w >= len(r.lay.names) {
			return true
		}
	}
	v := squeeze(ne[0].v)
	for _, p := range notePrefixes {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil
}

// squeeze drops all white space.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if isSpace(r) {
			return -1
		}
		return r
	}, s)
}
