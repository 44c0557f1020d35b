package xlsxsrc

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/xuri/excelize/v2"
)

const (
	maxTitleRows  = 5  // title lines looked for above a header
	maxHeaderRows = 3  // rows a detected header may take (a column merged down further)
	lookAhead     = 12 // non-empty rows buffered to find the header
)

// layout is where a sheet's table sits.
type layout struct {
	header    int      // Excel row number of the first header row
	rows      int      // number of header rows
	dataStart int      // first data row
	first     int      // first column of the table
	names     []string // column names, for columns first, first+1, …
	// block is the header rows' texts as typed (cleaned by normHeader), by row and column - 1:
	// a data row that repeats one of them is a header repeated inside the table.
	block [][]string
}

func (l *layout) last() int { return l.first + len(l.names) - 1 }

// nonEmpty counts a row's cells that hold more than spaces.
func nonEmpty(r xrow) int {
	n := 0
	for _, c := range r.cells {
		if strings.TrimSpace(c.v) != "" {
			n++
		}
	}
	return n
}

func firstNonEmpty(r xrow) (xcell, bool) {
	for _, c := range r.cells {
		if strings.TrimSpace(c.v) != "" {
			return c, true
		}
	}
	return xcell{}, false
}

// detectLayout finds the header in the first rows of a sheet (buf holds every row read so far,
// in order). It returns nil when the buffer has no non-empty row.
func detectLayout(buf []xrow, merges []span, headerRows int, titleRows *int) *layout {
	var idx []int // indexes in buf of non-empty rows
	width := 0
	for i, r := range buf {
		if nonEmpty(r) == 0 {
			continue
		}
		idx = append(idx, i)
		for _, c := range r.cells {
			if strings.TrimSpace(c.v) != "" && c.col > width {
				width = c.col
			}
		}
	}
	if len(idx) == 0 {
		return nil
	}
	titles := 0
	if titleRows != nil {
		titles = min(*titleRows, len(idx)-1)
	} else {
		titles = detectTitles(buf, idx, merges, width)
	}
	h := buf[idx[titles]].n

	n := headerRows
	if n <= 0 {
		n = 1
		for _, m := range merges {
			if m.r1 != h {
				continue
			}
			if m.r2 > m.r1 {
				n = max(n, min(m.r2-m.r1+1, maxHeaderRows))
			} else if m.c2 > m.c1 {
				n = max(n, 2)
			}
		}
	}
	// The header block's cell texts, by header row and column.
	block := make([][]string, n)
	for _, r := range buf {
		if r.n < h || r.n >= h+n {
			continue
		}
		row := []string{}
		for _, c := range r.cells {
			if c.col > excelize.MaxColumns {
				continue
			}
			for len(row) < c.col {
				row = append(row, "")
			}
			row[c.col-1] = c.v
		}
		block[r.n-h] = row
	}
	var rel []span
	for _, m := range merges {
		if m.r2 >= h && m.r1 < h+n {
			rel = append(rel, span{m.c1, m.r1 - h, m.c2, m.r2 - h})
		}
	}
	first, names := flattenHeader(block, rel)
	if len(names) == 0 {
		return nil
	}
	for _, row := range block {
		for c := range row {
			row[c] = normHeader(row[c])
		}
	}
	return &layout{header: h, rows: n, dataStart: h + n, first: first, names: names, block: block}
}

// detectTitles counts the title lines above the header: a run of rows with a single non-empty
// cell, ended by a row with several (the header). Without such a row (a one-column sheet), only
// single cells merged across most of the width are titles.
func detectTitles(buf []xrow, idx []int, merges []span, width int) int {
	for k := 0; k < len(idx) && k <= maxTitleRows; k++ {
		if nonEmpty(buf[idx[k]]) >= 2 {
			return k
		}
	}
	titles := 0
	for k := 0; k < len(idx)-1 && k < maxTitleRows; k++ {
		r := buf[idx[k]]
		c, _ := firstNonEmpty(r)
		if nonEmpty(r) != 1 || !mergedWide(merges, r.n, c.col, width) {
			break
		}
		titles++
	}
	return titles
}

// mergedWide tells whether the cell at (col, row) is merged across at least half of width
// columns (and two at least).
func mergedWide(merges []span, row, col, width int) bool {
	for _, m := range merges {
		if m.r1 == row && m.c1 == col {
			w := m.c2 - m.c1 + 1
			return w >= 2 && 2*w >= width
		}
	}
	return false
}

// flattenHeader names the columns of a header block. rows[i][c-1] is the text of header row i in
// column c; merges are merged ranges with rows counted from the block's first row (0), ranges
// reaching outside the block being clipped to it. A cell covered by a merge reads as the merge's
// top-left cell (a group over its columns, a column header merged down). Each column's name is
// its non-empty texts from top to bottom, repeats dropped, joined by "/": a column under the group
// 基本信息 is "基本信息/身份证号", one merged down both rows keeps its name. Header texts lose
// line breaks and the spaces staff type to spread them ("身份证\n号码" → "身份证号码",
// "姓  名" → "姓名"). The table spans from the first to the last column with a name; a column
// without one in between is called after its letter ("列F"); repeated names get "_2", "_3".
func flattenHeader(rows [][]string, merges []span) (first int, names []string) {
	width := 0
	for _, r := range rows {
		width = max(width, min(len(r), excelize.MaxColumns))
	}
	for _, m := range merges {
		if m.r2 >= 0 && m.r1 < len(rows) && m.c1 >= 1 && m.c1 <= width {
			width = max(width, min(m.c2, excelize.MaxColumns))
		}
	}
	if width == 0 {
		return 0, nil
	}
	grid := make([][]string, len(rows))
	for i, r := range rows {
		grid[i] = make([]string, width)
		for c := 0; c < width && c < len(r); c++ {
			grid[i][c] = normHeader(r[c])
		}
	}
	// Covered cells take the top-left text; the first merge over a cell wins.
	done := make([][]bool, len(rows))
	for i := range done {
		done[i] = make([]bool, width)
	}
	for _, m := range merges {
		if m.c1 < 1 || m.c1 > width || m.r2 < 0 || m.r1 >= len(rows) {
			continue
		}
		top := ""
		if m.r1 >= 0 {
			top = grid[m.r1][m.c1-1]
		}
		for i := max(m.r1, 0); i <= min(m.r2, len(rows)-1); i++ {
			for c := m.c1; c <= min(m.c2, width); c++ {
				if done[i][c-1] || (i == m.r1 && c == m.c1) {
					continue
				}
				grid[i][c-1] = top
				done[i][c-1] = true
			}
		}
	}
	raw := make([]string, width)
	first, last := 0, 0
	for c := 0; c < width; c++ {
		var parts []string
		for i := range grid {
			v := grid[i][c]
			if v == "" || (len(parts) > 0 && parts[len(parts)-1] == v) {
				continue
			}
			parts = append(parts, v)
		}
		raw[c] = strings.Join(parts, "/")
		if raw[c] != "" {
			if first == 0 {
				first = c + 1
			}
			last = c + 1
		}
	}
	if first == 0 {
		return 0, nil
	}
	names = raw[first-1 : last]
	for i, v := range names {
		if v == "" {
			letter, _ := excelize.ColumnNumberToName(first + i)
			names[i] = "列" + letter
		}
	}
	return first, uniqueNames(names, nil)
}

// uniqueNames makes names unique (and different from the reserved ones) by suffixing "_2", "_3".
func uniqueNames(names []string, reserved []string) []string {
	taken := map[string]bool{}
	for _, r := range reserved {
		taken[r] = true
	}
	for _, n := range names {
		taken[n] = true
	}
	out := make([]string, len(names))
	seen := map[string]bool{}
	for _, r := range reserved {
		seen[r] = true
	}
	for i, n := range names {
		if !seen[n] {
			seen[n] = true
			out[i] = n
			continue
		}
		for k := 2; ; k++ {
			c := n + "_" + strconv.Itoa(k)
			if !seen[c] && !taken[c] {
				seen[c] = true
				out[i] = c
				break
			}
		}
	}
	return out
}

// normHeader cleans a header text: line breaks and tabs go, as do spaces next to a CJK (or other
// non-ASCII) character; spaces between ASCII words shrink to one.
func normHeader(s string) string {
	rs := []rune(strings.TrimFunc(s, isSpace))
	var b strings.Builder
	for i := 0; i < len(rs); i++ {
		if !isSpace(rs[i]) {
			b.WriteRune(rs[i])
			continue
		}
		j := i
		for j < len(rs) && isSpace(rs[j]) {
			j++
		}
		prev, next := rs[i-1], rs[j] // trimmed: a run is never at either end
		if prev < unicode.MaxASCII && next < unicode.MaxASCII {
			b.WriteByte(' ')
		}
		i = j - 1
	}
	return b.String()
}

func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' }
