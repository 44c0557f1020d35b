package golden

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"communityhub/pipeline/standardize"
)

// Column names of the two registers, as the contract spells them.
const (
	colCommunity = "社区名称"
	colRoad      = "道路"
	colFrom      = "门牌号起"
	colTo        = "门牌号止"
	colBuildings = "楼栋"
	colGrid      = "网格编号"
	colWorker    = "网格员"
	colPhone     = "联系电话"
)

// How a person was placed (Placement.By, golden.person.placed_by).
const (
	PlacedByAddress = "address" // the address's road, door number (and building) are in a row of the community register
	PlacedByGrid    = "grid"    // the person's grid is in the grid register
)

// Why an address or grid did not place a person: Placement.Reason is the address's reason and
// the grid's, joined by "; " ("road not in the community register; no grid"). Place (the
// function) uses ReasonNoRegister alone when no register is configured.
const (
	ReasonNoRegister      = "no community register configured"
	ReasonNoCommunityFile = "no community register"
	ReasonNoAddress       = "no address"
	ReasonNoRoad          = "address names no road"
	ReasonRoadUnknown     = "road not in the community register"
	ReasonNoNumber        = "no door number on a road split between communities"
	ReasonNumberOutside   = "door number outside every range of the road"
	ReasonNoBuilding      = "no building on a door number split between communities"
	ReasonBuildingOutside = "building outside the rows of its door number"
	ReasonNoGridFile      = "no grid register"
	ReasonNoGrid          = "no grid"
	ReasonGridUnknown     = "grid not in the grid register"
)

// headerScan is how many rows above the header (a title, a 填报单位 line …) are looked through.
const headerScan = 30

// Register is the street office's reference data (../shared/spec/departments.md, "Reference
// data the street office keeps"), read by LoadRegister: the community register (社区辖区表) says
// which 社区 each door number of a road belongs to, the grid register (网格划分表) which 社区 each
// grid belongs to. Place puts an address, or failing that a grid, in a community; what it cannot
// place it says why, and never guesses.
type Register struct {
	roads       map[string][]*regRow // by road key (roadKey)
	grids       map[string]GridEntry // by grid code (NormalizeGrid)
	communities []string             // in order of first appearance
	rows        int
	digest      string
}

// GridEntry is one row of the grid register.
type GridEntry struct {
	Grid, Community, Worker, Phone string
}

// regRow is one row of the community register.
type regRow struct {
	community string
	road      string // as written
	whole     bool   // 门牌号起 and 门牌号止 empty: every number of the road
	lo, hi    int    // inclusive door-number range when not whole
	buildings *buildingSet
	row       int // the row in the file, for messages
}

// Placement says where a person lives: the community and grid, how they were found (By:
// PlacedByAddress, PlacedByGrid) or, with By "", why neither placed them (Reason). Grid is the
// grid register's code when placed by grid, else the person's own grid if any.
type Placement struct {
	Community, Grid, By, Reason string
}

// LoadRegister reads the community register (communities) and the grid register (grids), each
// a .xlsx workbook (its first sheet) or a .csv file (UTF-8 with or without BOM, or GBK). The
// header row is found by its column names (社区名称, 道路, 门牌号起, 门牌号止 and optionally
// 楼栋; 网格编号, 社区名称 and optionally 网格员, 联系电话), so title rows above it are allowed;
// other columns are ignored, blank rows and note rows (注：…, 说明 …) skipped, and a 社区名称
// merged down over several rows of a sheet holds for each of them.
//
// Either path may be "" (that register is not kept), not both. Every error names the file, the
// row and the column. Door numbers are whole numbers (18, 18号); both empty means the whole road.
// 楼栋 lists buildings as ranges and numbers (1-12, 1,3,5). Two rows of different communities
// that share a door number must both list 楼栋 and share no building; a grid listed twice and a
// grid whose 社区名称 is in no row of the community register are errors too.
func LoadRegister(communities, grids string) (*Register, error) {
	if communities == "" && grids == "" {
		return nil, fmt.Errorf("register: neither a community register nor a grid register given")
	}
	r := &Register{}
	h := sha256.New()
	if communities != "" {
		raw, err := os.ReadFile(communities)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "communities %d\x00", len(raw))
		h.Write(raw)
		if err := r.readCommunities(communities, raw); err != nil {
			return nil, err
		}
	}
	if grids != "" {
		raw, err := os.ReadFile(grids)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "grids %d\x00", len(raw))
		h.Write(raw)
		if err := r.readGrids(grids, raw); err != nil {
			return nil, err
		}
	}
	r.digest = hex.EncodeToString(h.Sum(nil)[:12])
	return r, nil
}

// Digest is a hash of the register files' content ("" for a nil Register): a changed register
// changes it.
func (r *Register) Digest() string {
	if r == nil {
		return ""
	}
	return r.digest
}

// Communities lists the communities of the registers, in order of first appearance.
func (r *Register) Communities() []string { return append([]string(nil), r.communities...) }

// Rows is the number of rows of the community register.
func (r *Register) Rows() int { return r.rows }

// Grids lists the grid register's rows, by grid code.
func (r *Register) Grids() []GridEntry {
	out := make([]GridEntry, 0, len(r.grids))
	for _, g := range r.grids {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Grid < out[j].Grid })
	return out
}

// Place places a parsed address (standardize.ParseAddress) with the community register, and
// when that fails the grid (a 网格编号) with the grid register.
//
// An address is placed when its road (or, for a lane the parser reads as an estate — 七家湾33号 —
// or an estate without road, its estate) is a 道路 of the register and exactly one community's rows hold
// its door number (the number's leading digits: 18-1号 is on 18) — and, when the address gives
// a building, its building where the rows list 楼栋 (such a row holds only those buildings). An
// address without a number or building is placed when every row it could be in is one
// community's (a road wholly in one community needs no number).
func (r *Register) Place(a standardize.Address, grid string) Placement {
	grid = NormalizeGrid(grid)
	comm, why := r.byAddress(a)
	if comm != "" {
		return Placement{Community: comm, Grid: grid, By: PlacedByAddress}
	}
	var gwhy string
	switch g, ok := r.grids[grid]; {
	case r.grids == nil:
		gwhy = ReasonNoGridFile
	case grid == "":
		gwhy = ReasonNoGrid
	case ok:
		return Placement{Community: g.Community, Grid: g.Grid, By: PlacedByGrid}
	default:
		gwhy = ReasonGridUnknown
	}
	return Placement{Grid: grid, Reason: why + "; " + gwhy}
}

func (r *Register) byAddress(a standardize.Address) (string, string) {
	switch {
	case r.roads == nil:
		return "", ReasonNoCommunityFile
	case a.Road == "" && a.Estate == "" && a.Rest == "":
		return "", ReasonNoAddress
	case a.Road == "" && a.Estate == "":
		return "", ReasonNoRoad
	}
	// The road; or a lane the parser reads as an estate (七家湾33号7栋), or an estate named
	// without its road, when the register lists it as a 道路.
	rows := r.roads[roadKey(a.Road)]
	if len(rows) == 0 && a.Estate != "" {
		rows = r.roads[roadKey(a.Estate)]
	}
	if len(rows) == 0 {
		return "", ReasonRoadUnknown
	}
	num, hasNum := leadingNumber(a.Number)
	var cands []*regRow
	for _, row := range rows {
		if !hasNum || row.whole || num >= row.lo && num <= row.hi {
			cands = append(cands, row)
		}
	}
	if len(cands) == 0 {
		return "", ReasonNumberOutside
	}
	if !hasNum || a.Building == "" {
		if c, ok := oneCommunity(cands); ok {
			return c, ""
		}
		if !hasNum {
			return "", ReasonNoNumber
		}
		return "", ReasonNoBuilding
	}
	// A row with 楼栋 holds only those buildings of its numbers.
	var in []*regRow
	for _, row := range cands {
		if row.buildings == nil || row.buildings.has(a.Building) {
			in = append(in, row)
		}
	}
	if c, ok := oneCommunity(in); ok {
		return c, ""
	}
	// None: validation leaves no two communities sharing a building of a number.
	return "", ReasonBuildingOutside
}

func oneCommunity(rows []*regRow) (string, bool) {
	if len(rows) == 0 {
		return "", false
	}
	for _, row := range rows[1:] {
		if row.community != rows[0].community {
			return "", false
		}
	}
	return rows[0].community, true
}

// leadingNumber reads a door number's leading digits: "18" → 18, "18-1" → 18, "18A" → 18.
func leadingNumber(s string) (int, bool) {
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n > math.MaxInt32 {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, i > 0
}

// roadKey is what a road (or estate) is compared by: the name as ParseAddress gives it (full
// width folded, white space and punctuation removed), in simplified characters.
func roadKey(road string) string { return standardize.Simplify(road) }

// registerRoad reads a register's 道路 the way an address's road is read, by parsing it as the
// road of a door plate (吉兆营 has no suffix: 吉兆营1号 makes it one) or, failing that, as a
// place the parser reads as an estate with house numbers (七家湾: 七家湾1号1栋): "" when it reads
// as neither alone.
func registerRoad(s string) string {
	if a := standardize.ParseAddress(s + "1号"); a.Road != "" && a.Number == "1" && a.Estate == "" && a.Building == "" &&
		a.Unit == "" && a.Room == "" && a.Rest == "" {
		return a.Road
	}
	if a := standardize.ParseAddress(s + "1号1栋"); a.Road == "" && a.Estate != "" && a.Number == "1" && a.Building == "1" &&
		a.Unit == "" && a.Room == "" && a.Rest == "" {
		return a.Estate
	}
	return ""
}

// nameKey compares community names: full width folded, white space removed, simplified.
func nameKey(s string) string { return standardize.Simplify(squeezeSpace(standardize.Fold(s))) }

func squeezeSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// NormalizeGrid is a grid code as compared: full width folded, white space removed, letters
// upper-cased, a number cell's ".0" (or exponent form of a whole number) undone.
func NormalizeGrid(s string) string {
	s = strings.ToUpper(squeezeSpace(standardize.Fold(s)))
	if s == "" {
		return ""
	}
	if strings.HasSuffix(s, ".0") && allDigits(s[:len(s)-2]) {
		return s[:len(s)-2]
	}
	if strings.ContainsAny(s, "E.") && !allDigits(s) {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1e18 && f == math.Trunc(f) {
			return strconv.FormatFloat(f, 'f', 0, 64)
		}
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Reading the files.

// table is a register file's rows with their row numbers in the file.
type table struct {
	path string
	rows [][]string
	line []int
}

func readTable(path string, raw []byte) (*table, error) {
	t := &table{path: path}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv":
		text, err := decodeText(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		cr := csv.NewReader(strings.NewReader(text))
		cr.FieldsPerRecord = -1
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			line, _ := cr.FieldPos(0)
			t.rows = append(t.rows, rec)
			t.line = append(t.line, line)
		}
	case ".xlsx", ".xlsm":
		f, err := excelize.OpenReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return nil, fmt.Errorf("%s: no sheet", path)
		}
		rows, err := f.GetRows(sheets[0])
		if err != nil {
			return nil, fmt.Errorf("%s: sheet %s: %w", path, sheets[0], err)
		}
		merges, err := f.GetMergeCells(sheets[0])
		if err != nil {
			return nil, fmt.Errorf("%s: sheet %s: %w", path, sheets[0], err)
		}
		// A value merged down one column (a 社区名称 over its roads) holds for every row of the
		// merge; merges across columns (a title, a note) keep their value in the first cell only.
		for _, m := range merges {
			c1, r1, err1 := excelize.CellNameToCoordinates(m.GetStartAxis())
			c2, r2, err2 := excelize.CellNameToCoordinates(m.GetEndAxis())
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("%s: sheet %s: merged range %s:%s unreadable", path, sheets[0], m.GetStartAxis(), m.GetEndAxis())
			}
			if c1 != c2 {
				continue
			}
			for rr := r1 + 1; rr <= r2; rr++ {
				for len(rows) < rr {
					rows = append(rows, nil)
				}
				for len(rows[rr-1]) < c1 {
					rows[rr-1] = append(rows[rr-1], "")
				}
				rows[rr-1][c1-1] = m.GetCellValue()
			}
		}
		t.rows = rows
		for i := range rows {
			t.line = append(t.line, i+1)
		}
	default:
		return nil, fmt.Errorf("%s: a register is a .xlsx workbook or a .csv file, not %q", path, ext)
	}
	return t, nil
}

// decodeText reads a CSV's bytes: UTF-8 (a BOM dropped) when they are valid UTF-8, else GBK
// (read as GB18030, its superset).
func decodeText(raw []byte) (string, error) {
	if b, ok := bytes.CutPrefix(raw, []byte{0xEF, 0xBB, 0xBF}); ok {
		if !utf8.Valid(b) {
			return "", fmt.Errorf("begins with a UTF-8 BOM but is not valid UTF-8")
		}
		return string(b), nil
	}
	if utf8.Valid(raw) {
		return string(raw), nil
	}
	b, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), raw)
	if err != nil {
		return "", fmt.Errorf("neither UTF-8 nor GBK: %w", err)
	}
	return string(b), nil
}

// cellText is a cell as compared: full width folded, surrounding white space trimmed.
func cellText(row []string, i int) string {
	if i < 0 || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(standardize.Fold(row[i]))
}

// header finds the header row: the first row (of the first headerScan) holding every required
// column name; it returns the row's index and the column of each name found.
func (t *table) header(required, optional []string) (int, map[string]int, error) {
	for i := 0; i < len(t.rows) && i < headerScan; i++ {
		cols := map[string]int{}
		for j := range t.rows[i] {
			name := squeezeSpace(cellText(t.rows[i], j))
			if name == "" {
				continue
			}
			if _, dup := cols[name]; dup && contains(append(append([]string(nil), required...), optional...), name) {
				return 0, nil, fmt.Errorf("%s: row %d: column %s appears twice", t.path, t.line[i], name)
			}
			cols[name] = j
		}
		all := true
		for _, n := range required {
			if _, ok := cols[n]; !ok {
				all = false
			}
		}
		if all {
			return i, cols, nil
		}
	}
	return 0, nil, fmt.Errorf("%s: no header row with the columns %s in the first %d rows", t.path, strings.Join(required, ", "), headerScan)
}

// notePrefixes start the free-text lines kept under or above a register's table.
var notePrefixes = []string{"注", "说明", "备注", "填表", "制表", "审核", "填报", "附注"}

// skippable reports a blank row, or a note: one cell of text starting like a note.
func skippable(row []string) bool {
	var texts []string
	for j := range row {
		if s := cellText(row, j); s != "" {
			texts = append(texts, s)
		}
	}
	if len(texts) == 0 {
		return true
	}
	if len(texts) > 1 {
		return false
	}
	for _, p := range notePrefixes {
		if strings.HasPrefix(texts[0], p) {
			return true
		}
	}
	return false
}

func (r *Register) addCommunity(name string) string {
	k := nameKey(name)
	for _, c := range r.communities {
		if nameKey(c) == k {
			return c
		}
	}
	r.communities = append(r.communities, name)
	return name
}

func (r *Register) readCommunities(path string, raw []byte) error {
	t, err := readTable(path, raw)
	if err != nil {
		return err
	}
	hi, cols, err := t.header([]string{colCommunity, colRoad, colFrom, colTo}, []string{colBuildings})
	if err != nil {
		return err
	}
	bcol, hasB := cols[colBuildings]
	if !hasB {
		bcol = -1
	}
	r.roads = map[string][]*regRow{}
	for i := hi + 1; i < len(t.rows); i++ {
		row, line := t.rows[i], t.line[i]
		if skippable(row) {
			continue
		}
		at := func(col string) error { return fmt.Errorf("%s: row %d: %s", path, line, col) }
		comm := cellText(row, cols[colCommunity])
		if comm == "" {
			return fmt.Errorf("%w: empty", at(colCommunity))
		}
		roadText := cellText(row, cols[colRoad])
		if roadText == "" {
			return fmt.Errorf("%w: empty", at(colRoad))
		}
		road := registerRoad(roadText)
		if road == "" {
			return fmt.Errorf("%w: %q does not read as a road or lane as on door plates (梦都大街, 吉兆营: no door number, building or prefix)", at(colRoad), roadText)
		}
		rr := &regRow{community: r.addCommunity(comm), road: roadText, row: line}
		from, to := cellText(row, cols[colFrom]), cellText(row, cols[colTo])
		switch {
		case from == "" && to == "":
			rr.whole = true
		case from == "":
			return fmt.Errorf("%w: empty while %s is %q (give both, or neither for the whole road)", at(colFrom), colTo, to)
		case to == "":
			return fmt.Errorf("%w: empty while %s is %q (give both, or neither for the whole road)", at(colTo), colFrom, from)
		default:
			if rr.lo, err = doorNumber(from); err != nil {
				return fmt.Errorf("%w: %v", at(colFrom), err)
			}
			if rr.hi, err = doorNumber(to); err != nil {
				return fmt.Errorf("%w: %v", at(colTo), err)
			}
			if rr.lo > rr.hi {
				return fmt.Errorf("%w: %d is below %s %d", at(colTo), rr.hi, colFrom, rr.lo)
			}
		}
		if b := cellText(row, bcol); b != "" {
			if rr.buildings, err = parseBuildings(b); err != nil {
				return fmt.Errorf("%w: %v", at(colBuildings), err)
			}
		}
		key := roadKey(road)
		for _, o := range r.roads[key] {
			if err := clash(o, rr); err != nil {
				return fmt.Errorf("%s: rows %d and %d: %w", path, o.row, rr.row, err)
			}
		}
		r.roads[key] = append(r.roads[key], rr)
		r.rows++
	}
	if r.rows == 0 {
		return fmt.Errorf("%s: no rows under the header (row %d)", path, t.line[hi])
	}
	return nil
}

// clash is the error of two rows of one road that would put a door number (and building) in two
// communities.
func clash(a, b *regRow) error {
	if a.community == b.community {
		return nil
	}
	lo, hi := max(a.lo, b.lo), min(a.hi, b.hi)
	switch {
	case a.whole && b.whole:
		lo = 0
	case a.whole:
		lo, hi = b.lo, b.hi
	case b.whole:
		lo, hi = a.lo, a.hi
	}
	if !a.whole && !b.whole && lo > hi {
		return nil
	}
	nums := "every door number"
	if lo > 0 {
		nums = fmt.Sprintf("door number %d", lo)
	}
	if a.buildings == nil || b.buildings == nil {
		return fmt.Errorf("%s and %s both hold %s of %s (give %s to split a number between communities)", a.community, b.community, nums, b.road, colBuildings)
	}
	if bl, ok := a.buildings.meets(b.buildings); ok {
		return fmt.Errorf("%s and %s both hold building %s of %s of %s", a.community, b.community, bl, nums, b.road)
	}
	return nil
}

// doorNumber reads 18 or 18号 (full width folded).
func doorNumber(s string) (int, error) {
	v := strings.TrimSuffix(strings.TrimSuffix(squeezeSpace(s), "号"), "號")
	if f, err := strconv.ParseFloat(v, 64); err == nil && f == math.Trunc(f) && f >= 1 && f <= 1e6 && !strings.ContainsAny(v, "eE+-") {
		return int(f), nil // 18, or a number cell's 18.0
	}
	return 0, fmt.Errorf("%q is not a door number (a whole number: 18, 18号)", s)
}

// buildingSet is a 楼栋 list: numeric ranges, and named buildings (A3) as ParseAddress writes them.
type buildingSet struct {
	ranges [][2]int
	names  map[string]bool
}

var buildingSeps = strings.NewReplacer("，", ",", "、", ",", ";", ",", "；", ",", " ", ",", "~", "-", "～", "-", "至", "-", "—", "-", "–", "-", "－", "-")

// parseBuildings reads "1-12", "1,3,5", "1-5,8栋", "A3".
func parseBuildings(s string) (*buildingSet, error) {
	b := &buildingSet{names: map[string]bool{}}
	norm := buildingSeps.Replace(strings.ToUpper(standardize.Fold(s)))
	for _, item := range strings.Split(norm, ",") {
		item = strings.TrimSpace(item)
		for _, sfx := range []string{"号楼", "栋", "幢", "座", "#"} {
			item = strings.TrimSuffix(item, sfx)
		}
		if item == "" {
			continue
		}
		if lo, hi, ok := strings.Cut(item, "-"); ok {
			l, err1 := strconv.Atoi(strings.TrimSpace(lo))
			h, err2 := strconv.Atoi(strings.TrimSpace(hi))
			if err1 != nil || err2 != nil || l < 0 || l > h {
				return nil, fmt.Errorf("%q: %q is not a range of building numbers (1-12)", s, item)
			}
			b.ranges = append(b.ranges, [2]int{l, h})
			continue
		}
		if n, err := strconv.Atoi(item); err == nil && n >= 0 {
			b.ranges = append(b.ranges, [2]int{n, n})
			continue
		}
		for _, c := range item {
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
				return nil, fmt.Errorf("%q: %q is not a building (3, A3) or range (1-12)", s, item)
			}
		}
		b.names[strings.TrimLeft(item, "0")] = true
	}
	if len(b.ranges) == 0 && len(b.names) == 0 {
		return nil, fmt.Errorf("%q lists no building", s)
	}
	return b, nil
}

// has reports whether the building (Address.Building) is in the set.
func (b *buildingSet) has(bldg string) bool {
	if n, err := strconv.Atoi(bldg); err == nil {
		for _, r := range b.ranges {
			if n >= r[0] && n <= r[1] {
				return true
			}
		}
		return false
	}
	return b.names[strings.ToUpper(bldg)]
}

// meets returns a building both sets hold.
func (b *buildingSet) meets(o *buildingSet) (string, bool) {
	for _, x := range b.ranges {
		for _, y := range o.ranges {
			if lo := max(x[0], y[0]); lo <= min(x[1], y[1]) {
				return strconv.Itoa(lo), true
			}
		}
	}
	for n := range b.names {
		if o.names[n] {
			return n, true
		}
	}
	return "", false
}

func (r *Register) readGrids(path string, raw []byte) error {
	t, err := readTable(path, raw)
	if err != nil {
		return err
	}
	hi, cols, err := t.header([]string{colGrid, colCommunity}, []string{colWorker, colPhone})
	if err != nil {
		return err
	}
	opt := func(name string) int {
		if i, ok := cols[name]; ok {
			return i
		}
		return -1
	}
	wcol, pcol := opt(colWorker), opt(colPhone)
	r.grids = map[string]GridEntry{}
	rowOf := map[string]int{}
	for i := hi + 1; i < len(t.rows); i++ {
		row, line := t.rows[i], t.line[i]
		if skippable(row) {
			continue
		}
		at := func(col string) error { return fmt.Errorf("%s: row %d: %s", path, line, col) }
		code := NormalizeGrid(cellText(row, cols[colGrid]))
		if code == "" {
			return fmt.Errorf("%w: empty", at(colGrid))
		}
		comm := cellText(row, cols[colCommunity])
		if comm == "" {
			return fmt.Errorf("%w: empty", at(colCommunity))
		}
		if r.roads != nil {
			known := ""
			for _, c := range r.communities {
				if nameKey(c) == nameKey(comm) {
					known = c
				}
			}
			if known == "" {
				return fmt.Errorf("%w: %q is in no row of the community register", at(colCommunity), comm)
			}
			comm = known
		} else {
			comm = r.addCommunity(comm)
		}
		if prev, dup := rowOf[code]; dup {
			return fmt.Errorf("%s: rows %d and %d: %s %s listed twice", path, prev, line, colGrid, code)
		}
		rowOf[code] = line
		r.grids[code] = GridEntry{Grid: code, Community: comm, Worker: cellText(row, wcol), Phone: cellText(row, pcol)}
	}
	if len(r.grids) == 0 {
		return fmt.Errorf("%s: no rows under the header (row %d)", path, t.line[hi])
	}
	return nil
}
