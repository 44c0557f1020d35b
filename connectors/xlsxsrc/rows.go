package xlsxsrc

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"communityhub/connectors"
)

// Skip reasons.
const (
	skipBlank  = "blank"
	skipTotal  = "total"
	skipNote   = "note"
	skipHeader = "header" // the header repeated inside the table (a sheet printed in pages)
)

var skipReasons = []string{skipBlank, skipHeader, skipTotal, skipNote}

// Value flags, written as "<column>:<flag>".
const (
	flagNumber     = "number"      // an ID typed as a number: digits past the 15th are lost
	flagDateSerial = "date_serial" // a date cell, written as yyyy-mm-dd
	flagSerial     = "serial"      // a plain number in a date column: maybe an Excel date serial
	flagMerged     = "merged"      // the value of a cell merged down over this row
)

// sink is where the rows of a read go: the batch builder, shared by every sheet, and the bytes
// of values it holds. A batch is written when it holds batch_rows rows or maxBytes bytes, so
// that a value repeated on many rows (a shared string, a cell merged down) cannot fill a batch
// of 122 880 rows with copies of a megabyte.
type sink struct {
	b        *connectors.BatchBuilder
	w        connectors.Writer
	bytes    int64
	maxBytes int64
}

func newSink(cols []string, batchRows int, lim connectors.Limits, w connectors.Writer) *sink {
	return &sink{b: connectors.NewBatchBuilder(cols, batchRows), w: w, maxBytes: max(64<<20, 2*lim.RowBytes)}
}

// endRow ends a row of n value bytes.
func (k *sink) endRow(loc, flags string, n int64) error {
	if err := k.b.EndRow(loc, flags, k.w); err != nil {
		return err
	}
	k.bytes += n + int64(len(loc)+len(flags))
	if k.b.Len() == 0 {
		k.bytes = 0
	} else if k.bytes >= k.maxBytes {
		k.bytes = 0
		return k.b.Flush(k.w)
	}
	return nil
}

// sheetRun reads the data rows of one sheet.
type sheetRun struct {
	st       *sheetStream
	lay      *layout
	k        *sink
	b        *connectors.BatchBuilder
	w        connectors.Writer
	lim      connectors.Limits
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
	// dataRows counts the rows read as data: written or rejected.
	dataRows int

	vals  []string
	flags []string
}

type fill struct {
	r1, r2 int
	val    string
}

func newSheetRun(st *sheetStream, lay *layout, k *sink, sheetCol bool) *sheetRun {
	r := &sheetRun{
		st: st, lay: lay, k: k, b: k.b, w: k.w, lim: st.wb.lim, sheetCol: sheetCol,
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
		} else if row.over != "" {
			return r.st.errf("row %d, above the table's data: %s", row.n, row.over)
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
	for _, reason := range skipReasons {
		if n := r.skips[reason]; n > 0 {
			r.w.Skipped(reason, n)
		}
	}
	return nil
}

func (r *sheetRun) row(row xrow) error {
	if row.over != "" {
		r.dataRows++
		r.seenData, r.afterNote = true, false
		return r.w.Reject(connectors.Reject{Loc: r.loc(row.n), Raw: row.overRaw, Reason: row.over})
	}
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
	case r.isHeader(ne):
		r.skips[skipHeader]++
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
	r.dataRows++

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
	// The values as rendered (and filled from cells merged down) within the limits again.
	var size int64
	for i, v := range r.vals {
		n := int64(len(v))
		if i > 0 {
			size++
		}
		size += n
		if n > r.lim.ValueBytes {
			return r.reject(row, connectors.Exceeded(fmt.Sprintf("column %s (%d bytes)", quote(r.lay.names[i]), n), r.lim.ValueBytes, "value_bytes"))
		}
	}
	if size > r.lim.RowBytes {
		return r.reject(row, connectors.Exceeded(fmt.Sprintf("row %d (%d bytes)", row.n, size), r.lim.RowBytes, "row_bytes"))
	}
	for i, v := range r.vals {
		if v != "" {
			r.b.Set(i, v)
		}
	}
	if r.sheetCol {
		r.b.Set(len(r.vals), r.st.sheet)
		size += int64(len(r.st.sheet))
	}
	slices.SortStableFunc(r.flags, func(a, b string) int { return r.flagCol(a) - r.flagCol(b) })
	return r.k.endRow(r.loc(row.n), strings.Join(r.flags, ";"), size)
}

// reject quarantines a data row that is over a limit once rendered, with the cells it has
// (which the type scanner found within the limits).
func (r *sheetRun) reject(row xrow, reason string) error {
	return r.w.Reject(connectors.Reject{Loc: r.loc(row.n), Raw: rawText(row), Reason: reason})
}

// isHeader tells whether a row repeats one of the header rows: the same texts (cleaned as
// header texts are) in the same columns, and nothing else.
func (r *sheetRun) isHeader(ne []xcell) bool {
	for _, h := range r.lay.block {
		k, same := 0, true
		for c, v := range h {
			if v == "" {
				continue
			}
			if k >= len(ne) || ne[k].col != c+1 || normHeader(ne[k].v) != v {
				same = false
				break
			}
			k++
		}
		if same && k > 0 && k == len(ne) {
			return true
		}
	}
	return false
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

// noteWords start a note under a table. 注 alone is a note word only when a colon, a number or
// nothing follows it (注：…, 注1., but not 注销).
var noteWords = []string{"填表说明", "填报说明", "填写说明", "说明", "注意事项", "备注", "附注", "注",
	"填表人", "填报人", "填表日期", "填报日期", "审核人", "制表人", "制表", "统计人", "负责人", "数据来源"}

// noteWord tells whether a text starts with a note word, and whether a colon follows it
// (说明：…, 填表人: 张三), white space ignored.
func noteWord(v string) (ok, colon bool) {
	v = squeeze(v)
	for _, w := range noteWords {
		rest, found := strings.CutPrefix(v, w)
		if !found {
			continue
		}
		r, _ := utf8.DecodeRuneInString(rest)
		colon = r == '：' || r == ':'
		if w == "注" && rest != "" && !colon && !strings.ContainsRune("0123456789０１２３４５６７８９、.．,，(（①②③④⑤", r) {
			continue
		}
		return true, colon
	}
	return false, false
}

// isNote tells whether a row is a note: its only value sits in the table's first column and is
// merged across (at least half of) the width; or its only value starts with a note word
// (填表说明, 说明, 注：, 备注, 填表人, 审核人, 制表, …); or its first value is a note word and a
// colon (填表人：张三 | 审核人：李四 | 日期：…, a line of signatures).
func (r *sheetRun) isNote(n int, ne []xcell) bool {
	if len(ne) == 1 && ne[0].col <= r.lay.first {
		if w, ok := r.noteMerge[[2]int{n, ne[0].col}]; ok && w >= 2 && 2*w >= len(r.lay.names) {
			return true
		}
	}
	ok, colon := noteWord(ne[0].v)
	return ok && (len(ne) == 1 || colon)
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
