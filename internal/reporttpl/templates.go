// Package reporttpl draws the template workbooks of the built-in report kinds R01–R12
// (pipeline/report/kinds/Rxx/template.xlsx) the way the departments' own forms look: a merged
// bold title, the 填报单位 / 统计期 / 填报日期 line, multi-row merged headers with borders in
// 宋体, the figure cells each labelled to its left or above, totals rows, one bordered band row
// for a roster with a 合计 line under it, the 制表人 / 审核人 / 联系电话 footer, notes, and the
// print setup (A4, landscape for wide forms, fit to width, print titles, print area).
//
// Every cell the report engine fills is a workbook-scoped defined name on the filled sheet;
// the names are the anchors the kinds' kind.toml files bind to SQL (pipeline/report/README.md).
// The package owns the drawing only: the committed templates are its output, which
// templates_test regenerates and compares by content; `go test -tags duckdb_arrow
// ./internal/reporttpl/ -update` rewrites them after a change here.
package reporttpl

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/xuri/excelize/v2"
)

// Font is the font of every cell of the templates.
const Font = "宋体"

// Header anchors: the cells the engine writes itself (kind.toml [header]).
const (
	NameUnit   = "填报单位"
	NamePeriod = "统计期"
	NameDate   = "填报日期"
)

type drawer struct {
	code, sheet string
	draw        func(*form)
}

var drawers = []drawer{
	{"R01", "人口基本情况", drawR01},
	{"R02", "老年人花名册", drawR02},
	{"R03", "高龄老人", drawR03},
	{"R04", "低保特困", drawR04},
	{"R05", "残疾人", drawR05},
	{"R06", "就业失业", drawR06},
	{"R07", "退役军人花名册", drawR07},
	{"R08", "党员报到", drawR08},
	{"R09", "志愿者服务", drawR09},
	{"R10", "医保参保", drawR10},
	{"R11", "重点人群关爱名单", drawR11},
	{"R12", "数据核查反馈单", drawR12},
}

// Codes lists the built-in kinds the package draws, in order.
func Codes() []string {
	out := make([]string, len(drawers))
	for i, d := range drawers {
		out[i] = d.code
	}
	return out
}

// Draw returns the template workbook of one kind (R01 … R12).
func Draw(code string) (*excelize.File, error) {
	for _, d := range drawers {
		if d.code != code {
			continue
		}
		fm := newForm(d.sheet)
		d.draw(fm)
		if fm.err != nil {
			fm.f.Close()
			return nil, fmt.Errorf("template %s: %w", code, fm.err)
		}
		return fm.f, nil
	}
	return nil, fmt.Errorf("template %s: no such built-in kind", code)
}

// Write draws the twelve templates into dir/Rxx/template.xlsx (creating the folders).
func Write(dir string) error {
	for _, d := range drawers {
		f, err := Draw(d.code)
		if err != nil {
			return err
		}
		p := filepath.Join(dir, d.code, "template.xlsx")
		buf, err := f.WriteToBuffer()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.MkdirAll(filepath.Dir(p), 0o755)
		}
		if err == nil {
			err = os.WriteFile(p, buf.Bytes(), 0o644)
		}
		if err != nil {
			return fmt.Errorf("template %s: %w", p, err)
		}
	}
	return nil
}

// form is one sheet being drawn. Its methods record the first error and do nothing after it,
// so a drawing reads as the form does.
type form struct {
	f      *excelize.File
	sheet  string
	last   string // the last column of the form (title, notes, print area)
	err    error
	styles map[string]int
}

func newForm(sheet string) *form {
	fm := &form{f: excelize.NewFile(), sheet: sheet, styles: map[string]int{}}
	fm.do(fm.f.SetSheetName("Sheet1", sheet))
	fm.do(fm.f.SetDefaultFont(Font))
	return fm
}

func (fm *form) do(err error) {
	if fm.err == nil && err != nil {
		fm.err = err
	}
}

// widths sets the column widths from column A on; the last one given is the form's last column.
func (fm *form) widths(ws ...float64) {
	for i, w := range ws {
		c := col(i + 1)
		fm.do(fm.f.SetColWidth(fm.sheet, c, c, w))
	}
	fm.last = col(len(ws))
}

func col(n int) string {
	s, err := excelize.ColumnNumberToName(n)
	if err != nil {
		panic(err) // columns here are small constants
	}
	return s
}

var thin = []excelize.Border{
	{Type: "left", Color: "000000", Style: 1}, {Type: "right", Color: "000000", Style: 1},
	{Type: "top", Color: "000000", Style: 1}, {Type: "bottom", Color: "000000", Style: 1},
}

func ptr[T any](v T) *T { return &v }

// styleSpecs are the cell styles of the forms by name.
var styleSpecs = map[string]excelize.Style{
	"title": {Font: &excelize.Font{Family: Font, Size: 18, Bold: true},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
	"info": {Font: &excelize.Font{Family: Font, Size: 11},
		Alignment: &excelize.Alignment{Horizontal: "right", Vertical: "center"}},
	"blank": {Font: &excelize.Font{Family: Font, Size: 11}, NumFmt: 49,
		Border:    []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}},
		Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "center"}},
	"unit": {Font: &excelize.Font{Family: Font, Size: 10},
		Alignment: &excelize.Alignment{Horizontal: "right", Vertical: "center"}},
	"head": {Font: &excelize.Font{Family: Font, Size: 11, Bold: true}, Border: thin,
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}},
	"label": {Font: &excelize.Font{Family: Font, Size: 11}, Border: thin,
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}},
	"labelL": {Font: &excelize.Font{Family: Font, Size: 11}, Border: thin,
		Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "center", WrapText: true, Indent: 1}},
	"num": {Font: &excelize.Font{Family: Font, Size: 11}, Border: thin, NumFmt: 1,
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
	"dec1": {Font: &excelize.Font{Family: Font, Size: 11}, Border: thin, CustomNumFmt: ptr("0.0"),
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
	"money": {Font: &excelize.Font{Family: Font, Size: 11}, Border: thin, NumFmt: 4,
		Alignment: &excelize.Alignment{Horizontal: "right", Vertical: "center"}},
	"pct": {Font: &excelize.Font{Family: Font, Size: 11}, Border: thin, NumFmt: 2,
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
	"total": {Font: &excelize.Font{Family: Font, Size: 11, Bold: true}, Border: thin,
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
	"totalNum": {Font: &excelize.Font{Family: Font, Size: 11, Bold: true}, Border: thin, NumFmt: 1,
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
	"totalMoney": {Font: &excelize.Font{Family: Font, Size: 11, Bold: true}, Border: thin, NumFmt: 4,
		Alignment: &excelize.Alignment{Horizontal: "right", Vertical: "center"}},
	"totalDec1": {Font: &excelize.Font{Family: Font, Size: 11, Bold: true}, Border: thin, CustomNumFmt: ptr("0.0"),
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
	"section": {Font: &excelize.Font{Family: Font, Size: 12, Bold: true}, Border: thin,
		Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "center", Indent: 1}},
	// Band columns.
	"text": {Font: &excelize.Font{Family: Font, Size: 10}, Border: thin, NumFmt: 49,
		Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "center", WrapText: true}},
	"center": {Font: &excelize.Font{Family: Font, Size: 10}, Border: thin, NumFmt: 49,
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
	"seq": {Font: &excelize.Font{Family: Font, Size: 10}, Border: thin, NumFmt: 1,
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
	"int": {Font: &excelize.Font{Family: Font, Size: 10}, Border: thin, NumFmt: 1,
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
	"id": {Font: &excelize.Font{Family: Font, Size: 10}, Border: thin, NumFmt: 49,
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
	"date": {Font: &excelize.Font{Family: Font, Size: 10}, Border: thin, CustomNumFmt: ptr("yyyy-mm-dd"),
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
	"sign": {Font: &excelize.Font{Family: Font, Size: 11},
		Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "center"}},
	"note": {Font: &excelize.Font{Family: Font, Size: 9},
		Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "top", WrapText: true}},
}

func (fm *form) style(name string) int {
	if id, ok := fm.styles[name]; ok {
		return id
	}
	spec, ok := styleSpecs[name]
	if !ok {
		fm.do(fmt.Errorf("no style %q", name))
		return 0
	}
	id, err := fm.f.NewStyle(&spec)
	fm.do(err)
	fm.styles[name] = id
	return id
}

// box styles the range from:to (a single cell when to is ""), merges it and writes v (nil
// leaves it empty) into its top-left cell.
func (fm *form) box(from, to string, v any, style string) {
	if fm.err != nil {
		return
	}
	if to == "" {
		to = from
	}
	fm.do(fm.f.SetCellStyle(fm.sheet, from, to, fm.style(style)))
	if from != to {
		fm.do(fm.f.MergeCell(fm.sheet, from, to))
	}
	if v != nil {
		fm.do(fm.f.SetCellValue(fm.sheet, from, v))
	}
}

// put is box for one cell.
func (fm *form) put(ref string, v any, style string) { fm.box(ref, "", v, style) }

// formula writes a formula (no cached value: the engine asks for recalculation on load).
func (fm *form) formula(ref, formula, style string) {
	fm.box(ref, "", nil, style)
	if fm.err == nil {
		fm.do(fm.f.SetCellFormula(fm.sheet, ref, formula))
	}
}

// name defines a workbook-scoped name over ref ("B6" or "B6:E12") on the sheet.
func (fm *form) name(name, ref string) {
	if fm.err != nil {
		return
	}
	fm.do(fm.f.SetDefinedName(&excelize.DefinedName{Name: name, RefersTo: absRef(fm.sheet, ref)}))
}

// absRef turns B6 or B6:E12 into 'sheet'!$B$6:$E$12.
func absRef(sheet, ref string) string {
	abs := func(cell string) string {
		c, r, err := excelize.CellNameToCoordinates(cell)
		if err != nil {
			panic(err) // references here are constants
		}
		return "$" + col(c) + "$" + fmt.Sprint(r)
	}
	out := "'" + sheet + "'!"
	for i, part := range splitRange(ref) {
		if i > 0 {
			out += ":"
		}
		out += abs(part)
	}
	return out
}

func splitRange(ref string) []string {
	for i := 0; i < len(ref); i++ {
		if ref[i] == ':' {
			return []string{ref[:i], ref[i+1:]}
		}
	}
	return []string{ref}
}

// value is a figure cell: styled and named.
func (fm *form) value(ref, name, style string) {
	fm.put(ref, nil, style)
	fm.name(name, ref)
}

func (fm *form) height(row int, h float64) {
	if fm.err == nil {
		fm.do(fm.f.SetRowHeight(fm.sheet, row, h))
	}
}

// title is row 1: the form's name, merged across the form, bold.
func (fm *form) title(text string) {
	fm.box("A1", fm.last+"1", text, "title")
	fm.height(1, 36)
}

// field is a label (填报单位：) at ref (a cell, or cells A2:B2 merged) and its fill-in cells
// from:to, named name at from.
func (fm *form) field(ref, label, from, to, name string) {
	r := splitRange(ref)
	fm.box(r[0], r[len(r)-1], label, "info")
	fm.box(from, to, nil, "blank")
	fm.name(name, from)
}

// footer writes 制表人：, 审核人：, 联系电话： at the three cells.
func (fm *form) footer(row int, cols ...string) {
	for i, t := range []string{"制表人：", "审核人：", "联系电话："} {
		fm.put(cols[i]+fmt.Sprint(row), t, "sign")
	}
	fm.height(row, 24)
}

// note is a line of text merged across the form.
func (fm *form) note(row int, text string, h float64) {
	fm.box(fmt.Sprintf("A%d", row), fmt.Sprintf("%s%d", fm.last, row), text, "note")
	fm.height(row, h)
}

// band is a roster's repeated row, h points high (room for the lines a long address or note
// wraps into): one style per column, named name over the row's cells.
func (fm *form) band(row int, h float64, name string, styles ...string) {
	for i, s := range styles {
		fm.put(fmt.Sprintf("%s%d", col(i+1), row), nil, s)
	}
	fm.name(name, fmt.Sprintf("A%d:%s%d", row, col(len(styles)), row))
	fm.height(row, h)
}

// print sets A4 paper, the orientation, fit to one page wide, the print area A1:last and, for
// rosters, the header rows repeated on every page (titles "$4:$5", "" for none).
func (fm *form) print(landscape bool, lastRow int, titles string) {
	if fm.err != nil {
		return
	}
	orient := "portrait"
	if landscape {
		orient = "landscape"
	}
	fm.do(fm.f.SetPageLayout(fm.sheet, &excelize.PageLayoutOptions{
		Size: ptr(9), Orientation: &orient, FitToWidth: ptr(1), FitToHeight: ptr(0),
	}))
	fm.do(fm.f.SetSheetProps(fm.sheet, &excelize.SheetPropsOptions{FitToPage: ptr(true)}))
	fm.do(fm.f.SetPageMargins(fm.sheet, &excelize.PageLayoutMarginsOptions{
		Left: ptr(0.5), Right: ptr(0.5), Top: ptr(0.6), Bottom: ptr(0.6), Header: ptr(0.3), Footer: ptr(0.3),
		Horizontally: ptr(true),
	}))
	fm.do(fm.f.SetHeaderFooter(fm.sheet, &excelize.HeaderFooterOptions{OddFooter: "&C第 &P 页，共 &N 页"}))
	fm.do(fm.f.SetDefinedName(&excelize.DefinedName{
		Name: "_xlnm.Print_Area", Scope: fm.sheet, RefersTo: absRef(fm.sheet, fmt.Sprintf("A1:%s%d", fm.last, lastRow)),
	}))
	if titles != "" {
		fm.do(fm.f.SetDefinedName(&excelize.DefinedName{
			Name: "_xlnm.Print_Titles", Scope: fm.sheet, RefersTo: "'" + fm.sheet + "'!" + titles,
		}))
	}
}

// rosterTotal is the 合计 line under a band at row: 合计 | =COUNTA(count column of the band) | unit,
// the rest of the line bordered. The engine grows the COUNTA range with the band.
func (fm *form) rosterTotal(row, bandRow int, countCol, unit string) {
	fm.put(fmt.Sprintf("A%d", row), "合计", "total")
	fm.formula(fmt.Sprintf("B%d", row), fmt.Sprintf("COUNTA(%s%d:%s%d)", countCol, bandRow, countCol, bandRow), "totalNum")
	fm.put(fmt.Sprintf("C%d", row), unit, "total")
	fm.box(fmt.Sprintf("D%d", row), fmt.Sprintf("%s%d", fm.last, row), nil, "total")
	fm.height(row, 22)
}

// R01 社区人口基本情况统计表: one line of figures under a two-row header.
func drawR01(fm *form) {
	fm.widths(9, 10, 10, 10, 12, 8, 8, 8, 9, 9, 9, 9, 9, 10, 8)
	fm.title("社区人口基本情况统计表")
	fm.field("A2", "填报单位：", "B2", "E2", NameUnit)
	fm.field("G2", "统计期：", "H2", "J2", NamePeriod)
	fm.field("L2", "填报日期：", "M2", "O2", NameDate)
	fm.box("M3", "O3", "单位：户、人", "unit")
	fm.box("A4", "A5", "户数", "head")
	fm.box("B4", "B5", "总人口", "head")
	fm.box("C4", "E4", "按户籍性质分", "head")
	fm.box("F4", "H4", "按性别分", "head")
	fm.box("I4", "O4", "按年龄分", "head")
	for i, h := range []string{"户籍人口", "流动人口", "其他（境外、不详）", "男", "女", "不详",
		"0—6岁", "7—17岁", "18—34岁", "35—59岁", "60—79岁", "80岁及以上", "不详"} {
		fm.put(col(i+3)+"5", h, "head")
	}
	for i, n := range []string{"hh_total", "res_total", "res_hukou", "res_floating", "res_other",
		"res_male", "res_female", "sex_unknown",
		"age_0_6", "age_7_17", "age_18_34", "age_35_59", "age_60_79", "age_80_plus", "age_unknown"} {
		fm.value(col(i+1)+"6", n, "num")
	}
	fm.height(4, 24)
	fm.height(5, 36)
	fm.height(6, 30)
	fm.footer(8, "A", "F", "K")
	fm.note(9, "注：1. 本表由社区数据中台根据统一人口库预填，一人只计一次；居民指现住址在本社区、户籍未注销（死亡、迁出）的人员。", 18)
	fm.note(10, "2. 年龄按统计期末日计算周岁；“其他”含境外人员及人员类型不详者；户数按居民所在户计。", 18)
	fm.print(true, 10, "")
}

// R02 60周岁以上老年人花名册: a roster under a two-row header.
func drawR02(fm *form) {
	fm.widths(6, 10, 6, 12, 6, 21, 34, 14, 9, 13, 20)
	fm.title("60周岁以上老年人花名册")
	fm.field("A2:B2", "填报单位：", "C2", "F2", NameUnit)
	fm.field("G2", "统计期：", "H2", "I2", NamePeriod)
	fm.field("J2", "填报日期：", "K2", "K2", NameDate)
	fm.box("A4", "A5", "序号", "head")
	fm.box("B4", "F4", "基本情况", "head")
	fm.box("G4", "H4", "联系方式", "head")
	fm.box("I4", "J4", "养老服务", "head")
	fm.box("K4", "K5", "备注", "head")
	for i, h := range []string{"姓名", "性别", "出生日期", "年龄", "身份证号", "居住地址", "联系电话", "是否独居", "高龄津贴档次"} {
		fm.put(col(i+2)+"5", h, "head")
	}
	fm.height(4, 22)
	fm.height(5, 22)
	fm.band(6, 27, "elders", "seq", "center", "center", "date", "int", "id", "text", "id", "center", "center", "text")
	fm.rosterTotal(7, 6, "B", "人")
	fm.footer(9, "A", "F", "H")
	fm.note(10, "注：列出现住址在本社区、户籍未注销、按统计期末日年满60周岁的居民，按出生日期排列；是否独居取养老服务系统或网格采集，高龄津贴档次取养老服务系统；身份证号、联系电话默认脱敏。", 30)
	fm.print(true, 10, "$4:$5")
}

// R03 高龄老人统计表: age bands down, counts across.
func drawR03(fm *form) {
	fm.widths(20, 16, 16, 20)
	fm.title("高龄老人统计表")
	fm.field("A2", "填报单位：", "B2", "D2", NameUnit)
	fm.field("A3", "统计期：", "B3", "B3", NamePeriod)
	fm.field("C3", "填报日期：", "D3", "D3", NameDate)
	fm.box("A4", "A5", "年龄段", "head")
	fm.box("B4", "B5", "人数（人）", "head")
	fm.box("C4", "D4", "其中", "head")
	fm.put("C5", "独居（人）", "head")
	fm.put("D5", "享受高龄津贴（人）", "head")
	rows := []struct{ label, key string }{
		{"80—89周岁", "80_89"}, {"90—99周岁", "90_99"}, {"100周岁及以上", "100_plus"},
	}
	for i, r := range rows {
		n := fmt.Sprint(6 + i)
		fm.put("A"+n, r.label, "label")
		fm.value("B"+n, "age_"+r.key, "num")
		fm.value("C"+n, "alone_"+r.key, "num")
		fm.value("D"+n, "allowance_"+r.key, "num")
		fm.height(6+i, 26)
	}
	fm.put("A9", "合计", "total")
	fm.value("B9", "total_80", "totalNum")
	fm.value("C9", "alone_total", "totalNum")
	fm.value("D9", "allowance_total", "totalNum")
	fm.height(9, 26)
	fm.footer(11, "A", "B", "C")
	fm.note(12, "注：统计现住本社区、户籍未注销的80周岁以上老人，年龄按统计期末日计算；独居取养老服务系统或网格采集；高龄津贴取养老服务系统在册发放对象。", 42)
	fm.print(false, 12, "")
}

// R04 城乡低保、特困人员统计表: 保障类型 down, families / persons / amount across.
func drawR04(fm *form) {
	fm.widths(20, 16, 16, 22)
	fm.title("城乡低保、特困人员统计表")
	fm.field("A2", "填报单位：", "B2", "D2", NameUnit)
	fm.field("A3", "统计期：", "B3", "B3", NamePeriod)
	fm.field("C3", "填报日期：", "D3", "D3", NameDate)
	fm.box("A4", "A5", "保障类型", "head")
	fm.box("B4", "C4", "保障对象", "head")
	fm.put("B5", "户数（户）", "head")
	fm.put("C5", "人数（人）", "head")
	fm.box("D4", "D5", "月保障金额（元）", "head")
	rows := []struct{ label, key string }{{"城市低保", "dibao"}, {"特困供养", "tekun"}, {"临时救助", "linshi"}}
	for i, r := range rows {
		n := fmt.Sprint(6 + i)
		fm.put("A"+n, r.label, "label")
		fm.value("B"+n, r.key+"_hh", "num")
		fm.value("C"+n, r.key+"_persons", "num")
		fm.value("D"+n, r.key+"_amount", "money")
		fm.height(6+i, 26)
	}
	fm.put("A9", "合计", "total")
	fm.value("B9", "hh_total", "totalNum")
	fm.value("C9", "persons_total", "totalNum")
	fm.value("D9", "amount_total", "totalMoney")
	fm.height(9, 26)
	fm.footer(11, "A", "B", "C")
	fm.note(12, "注：只统计状态为“在保”的家庭；户数为有成员现住本社区的家庭，人数为现住本社区、户籍未注销的保障对象；月保障金额每户只计一次。", 42)
	fm.print(false, 12, "")
}

// R05 残疾人基本情况统计表: 残疾类别 (7 rows) × 残疾等级 (4 columns) with totals, and 两项补贴.
func drawR05(fm *form) {
	fm.widths(20, 11, 11, 11, 11, 13)
	fm.title("残疾人基本情况统计表")
	fm.field("A2", "填报单位：", "B2", "C2", NameUnit)
	fm.field("D2", "统计期：", "E2", "F2", NamePeriod)
	fm.field("D3", "填报日期：", "E3", "F3", NameDate)
	fm.box("A4", "A5", "残疾类别", "head")
	fm.box("B4", "E4", "残疾等级（人）", "head")
	for i, h := range []string{"一级", "二级", "三级", "四级"} {
		fm.put(col(i+2)+"5", h, "head")
	}
	fm.box("F4", "F5", "合计（人）", "head")
	for i, c := range []string{"视力残疾", "听力残疾", "言语残疾", "肢体残疾", "智力残疾", "精神残疾", "多重残疾"} {
		n := fmt.Sprint(6 + i)
		fm.put("A"+n, c, "label")
		for j := 0; j < 4; j++ {
			fm.put(col(j+2)+n, nil, "num")
		}
		fm.put("F"+n, nil, "num")
		fm.height(6+i, 22)
	}
	fm.name("by_cat_grade", "B6:E12")
	fm.name("by_cat_total", "F6:F12")
	fm.put("A13", "合计", "total")
	for j := 0; j < 4; j++ {
		c := col(j + 2)
		fm.formula(c+"13", fmt.Sprintf("SUM(%s6:%s12)", c, c), "totalNum")
	}
	fm.value("F13", "disabled_total", "totalNum")
	fm.height(13, 22)
	fm.box("A15", "F15", "两项补贴及其他", "section")
	fm.put("A16", "残疾人总数（人）", "label")
	fm.value("B16", "disabled_all", "num")
	fm.box("C16", "E16", "其中：类别或等级不详（人）", "label")
	fm.value("F16", "disabled_unknown", "num")
	fm.put("A17", "困难残疾人生活补贴（人）", "label")
	fm.value("B17", "living_subsidy", "num")
	fm.box("C17", "E17", "重度残疾人护理补贴（人）", "label")
	fm.value("F17", "care_subsidy", "num")
	fm.height(15, 22)
	fm.height(16, 30)
	fm.height(17, 30)
	fm.footer(19, "A", "C", "E")
	fm.note(20, "注：统计现住本社区、户籍未注销的持证残疾人，一人只计一次：残联系统有多条记录的按最重的等级计入；合计列与总计为人数，不重复计算。", 42)
	fm.print(false, 20, "")
}

// R06 就业失业情况统计表: one line of figures under a two-row header.
func drawR06(fm *form) {
	fm.widths(14, 14, 11, 11, 12, 11, 18)
	fm.title("就业失业情况统计表")
	fm.field("A2", "填报单位：", "B2", "C2", NameUnit)
	fm.field("D2", "统计期：", "E2", "F2", NamePeriod)
	fm.field("D3", "填报日期：", "E3", "F3", NameDate)
	fm.put("G3", "单位：人", "unit")
	fm.box("A4", "A5", "登记失业人员", "head")
	fm.box("B4", "B5", "其中：低保家庭成员", "head")
	fm.box("C4", "F4", "就业困难人员", "head")
	for i, h := range []string{"合计", "4050人员", "零就业家庭成员", "残疾人"} {
		fm.put(col(i+3)+"5", h, "head")
	}
	fm.box("G4", "G5", "就业困难人员中低保家庭成员", "head")
	for i, n := range []string{"unemployed_total", "unemployed_in_dibao", "difficulty_total",
		"difficulty_4050", "difficulty_zero_job", "difficulty_disabled", "difficulty_in_dibao"} {
		fm.value(col(i+1)+"6", n, "num")
	}
	fm.height(4, 24)
	fm.height(5, 36)
	fm.height(6, 30)
	fm.footer(8, "A", "C", "F")
	fm.note(9, "注：统计现住本社区、户籍未注销的人员；一人属就业困难人员多个类别的，在各类别分别统计，合计只计一次；低保家庭成员指城市低保在保家庭的成员。", 30)
	fm.print(false, 9, "")
}

// R07 退役军人花名册: a roster under the veterans ledger's two-row header.
func drawR07(fm *form) {
	fm.widths(6, 10, 6, 11, 21, 11, 11, 14, 14, 34, 10)
	fm.title("退役军人花名册")
	fm.field("A2:B2", "填报单位：", "C2", "E2", NameUnit)
	fm.field("F2", "统计期：", "G2", "H2", NamePeriod)
	fm.field("I2", "填报日期：", "J2", "J2", NameDate)
	fm.box("A4", "A5", "序号", "head")
	fm.box("B4", "E4", "基本信息", "head")
	fm.box("F4", "G4", "服役信息", "head")
	fm.box("H4", "H5", "优抚类别", "head")
	fm.box("I4", "J4", "联系方式", "head")
	fm.box("K4", "K5", "备注", "head")
	for i, h := range []string{"姓名", "性别", "出生年月", "身份证号", "入伍时间", "退役时间"} {
		fm.put(col(i+2)+"5", h, "head")
	}
	fm.put("I5", "联系电话", "head")
	fm.put("J5", "居住地址", "head")
	fm.height(4, 22)
	fm.height(5, 22)
	fm.band(6, 27, "veterans", "seq", "center", "center", "center", "id", "center", "center", "center", "id", "text", "text")
	fm.rosterTotal(7, 6, "B", "人")
	fm.footer(9, "A", "E", "I")
	fm.note(10, "注：列出现住址在本社区、户籍未注销的退役军人；服役信息、优抚类别取退役军人信息采集系统；身份证号、联系电话默认脱敏。", 30)
	fm.print(true, 10, "$4:$5")
}

// R08 在职党员社区报到统计表: fixed figures, then one band row per reported member by 党组织.
func drawR08(fm *form) {
	fm.widths(6, 28, 10, 10, 6, 11, 14, 12, 14)
	fm.title("在职党员社区报到统计表")
	fm.field("A2:B2", "填报单位：", "C2", "E2", NameUnit)
	fm.field("F2", "统计期：", "G2", "I2", NamePeriod)
	fm.field("F3", "填报日期：", "G3", "I3", NameDate)
	fm.box("A4", "B4", "报到党员总数（人）", "label")
	fm.value("C4", "party_total", "num")
	fm.box("D4", "E4", "本期报到（人）", "label")
	fm.value("F4", "party_new", "num")
	fm.box("G4", "H4", "党组织数（个）", "label")
	fm.value("I4", "org_count", "num")
	fm.box("A5", "B5", "男（人）", "label")
	fm.value("C5", "party_male", "num")
	fm.box("D5", "E5", "女（人）", "label")
	fm.value("F5", "party_female", "num")
	fm.box("G5", "H5", "报到社区与居住社区不一致（人）", "label")
	fm.value("I5", "party_elsewhere", "num")
	fm.height(4, 26)
	fm.height(5, 30)
	fm.box("A7", "I7", "报到党员名单（按所在党组织排列）", "section")
	for i, h := range []string{"序号", "所在党组织", "本组织报到人数", "姓名", "性别", "出生年月", "报到社区", "报到日期", "联系电话"} {
		fm.put(col(i+1)+"8", h, "head")
	}
	fm.height(7, 22)
	fm.height(8, 30)
	fm.band(9, 22, "members", "seq", "text", "int", "center", "center", "center", "center", "date", "id")
	fm.rosterTotal(10, 9, "D", "人")
	fm.footer(12, "A", "D", "G")
	fm.note(13, "注：统计现住本社区、户籍未注销且在党员信息管理系统中有报到记录的在职党员；本期报到指报到日期在统计期内；联系电话默认脱敏。", 30)
	fm.print(true, 13, "$8:$8")
}

// R09 志愿者服务统计表: age bands down, volunteers and hours across.
func drawR09(fm *form) {
	fm.widths(18, 16, 18, 18)
	fm.title("志愿者服务统计表")
	fm.field("A2", "填报单位：", "B2", "D2", NameUnit)
	fm.field("A3", "统计期：", "B3", "B3", NamePeriod)
	fm.field("C3", "填报日期：", "D3", "D3", NameDate)
	fm.box("A4", "A5", "年龄段", "head")
	fm.box("B4", "D4", "居住在本社区的志愿者", "head")
	fm.put("B5", "人数（人）", "head")
	fm.put("C5", "服务时长（小时）", "head")
	fm.put("D5", "人均服务时长（小时）", "head")
	rows := []struct{ label, key string }{
		{"17岁及以下", "0_17"}, {"18—34岁", "18_34"}, {"35—59岁", "35_59"}, {"60岁及以上", "60_plus"}, {"年龄不详", "unknown"},
	}
	for i, r := range rows {
		n := fmt.Sprint(6 + i)
		fm.put("A"+n, r.label, "label")
		fm.value("B"+n, "vol_"+r.key, "num")
		fm.value("C"+n, "hours_"+r.key, "dec1")
		fm.formula("D"+n, fmt.Sprintf(`IF(B%s=0,"",ROUND(C%s/B%s,1))`, n, n, n), "dec1")
		fm.height(6+i, 24)
	}
	fm.put("A11", "合计", "total")
	fm.value("B11", "vol_total", "totalNum")
	fm.value("C11", "hours_total", "totalDec1")
	fm.formula("D11", `IF(B11=0,"",ROUND(C11/B11,1))`, "totalDec1")
	fm.height(11, 24)
	fm.footer(13, "A", "B", "C")
	fm.note(14, "注：统计现住本社区、户籍未注销的注册志愿者，年龄按统计期末日计算；服务时长取志愿服务系统累计时长，一人重复注册的按时长较多的一条计。", 42)
	fm.print(false, 14, "")
}

// R10 医保参保情况统计表: one line of figures, the 小计 and the rate as formulas.
func drawR10(fm *form) {
	fm.widths(12, 11, 11, 12, 9, 9, 9, 11, 9, 11)
	fm.title("医保参保情况统计表")
	fm.field("A2", "填报单位：", "B2", "C2", NameUnit)
	fm.field("E2", "统计期：", "F2", "G2", NamePeriod)
	fm.field("H2", "填报日期：", "I2", "J2", NameDate)
	fm.box("I3", "J3", "单位：人", "unit")
	fm.box("A4", "A5", "实有居民", "head")
	fm.box("B4", "D4", "参保缴费", "head")
	fm.box("E4", "I4", "未参保缴费", "head")
	for i, h := range []string{"合计", "职工医保", "城乡居民医保", "暂停", "终止", "状态不详", "无参保记录", "小计"} {
		fm.put(col(i+2)+"5", h, "head")
	}
	fm.box("J4", "J5", "参保率（%）", "head")
	for i, n := range []string{"res_total", "ins_paying", "ins_worker", "ins_resident",
		"ins_suspended", "ins_terminated", "ins_unknown", "ins_none"} {
		fm.value(col(i+1)+"6", n, "num")
	}
	fm.formula("I6", "SUM(E6:H6)", "num")
	fm.formula("J6", `IF(A6=0,"",ROUND(B6/A6*100,2))`, "pct")
	fm.height(4, 24)
	fm.height(5, 30)
	fm.height(6, 30)
	fm.footer(8, "A", "E", "H")
	fm.note(9, "注：实有居民指现住本社区、户籍未注销的人员；一人有多条参保记录的按参保缴费、暂停、终止的顺序取其一；参保率＝参保缴费人数÷实有居民×100。", 30)
	fm.print(true, 9, "")
}

// R11 重点人群关爱名单: a roster of residents in two or more care groups.
func drawR11(fm *form) {
	fm.widths(6, 10, 6, 6, 21, 32, 14, 9, 8, 9, 9, 8, 18)
	fm.title("重点人群关爱名单")
	fm.field("A2:B2", "填报单位：", "C2", "E2", NameUnit)
	fm.field("F2", "统计期：", "G2", "H2", NamePeriod)
	fm.field("J2", "填报日期：", "K2", "M2", NameDate)
	fm.box("A4", "A5", "序号", "head")
	fm.box("B4", "E4", "基本情况", "head")
	fm.box("F4", "G4", "联系方式", "head")
	fm.box("H4", "K4", "重点人群类别（√）", "head")
	fm.box("L4", "L5", "类别数", "head")
	fm.box("M4", "M5", "关爱措施（走访情况）", "head")
	for i, h := range []string{"姓名", "性别", "年龄", "身份证号", "居住地址", "联系电话", "80岁以上独居", "残疾人", "低保特困", "登记失业"} {
		fm.put(col(i+2)+"5", h, "head")
	}
	fm.height(4, 22)
	fm.height(5, 30)
	fm.band(6, 27, "care_list", "seq", "center", "center", "int", "id", "text", "id", "center", "center", "center", "center", "int", "text")
	fm.rosterTotal(7, 6, "B", "人")
	fm.footer(9, "A", "F", "J")
	fm.note(10, "注：列出现住本社区、户籍未注销且同时属于以下两类及以上的居民：80周岁以上独居（养老服务系统或网格）、持证残疾人（残联）、低保或特困在保（社会救助）、登记失业（人社）；按类别数、年龄排列；身份证号、联系电话默认脱敏。", 30)
	fm.print(true, 10, "$4:$5")
}

// R12 数据核查反馈单: the records of a department that conflict with the unified record.
func drawR12(fm *form) {
	fm.widths(6, 16, 30, 10, 21, 26, 40, 20)
	fm.title("数据核查反馈单")
	fm.field("A2:B2", "填报单位：", "C2", "D2", NameUnit)
	fm.field("E2", "统计期：", "F2", "F2", NamePeriod)
	fm.field("G2", "填报日期：", "H2", "H2", NameDate)
	fm.box("A4", "A5", "序号", "head")
	fm.box("B4", "E4", "部门记录", "head")
	fm.box("F4", "G4", "核查发现", "head")
	fm.box("H4", "H5", "部门核查结果", "head")
	for i, h := range []string{"部门（系统）", "记录位置", "姓名", "身份证号", "问题", "说明"} {
		fm.put(col(i+2)+"5", h, "head")
	}
	fm.height(4, 22)
	fm.height(5, 22)
	fm.band(6, 40, "issues", "seq", "text", "text", "center", "id", "text", "text", "text")
	fm.rosterTotal(7, 6, "F", "条")
	fm.footer(9, "A", "D", "F")
	fm.note(10, "注：本单由社区数据中台将各部门记录与统一人口库（户籍为准）比对生成：户籍已死亡或迁出仍在册、身份证号无效或与统一记录不符、出生日期或性别与本条记录的身份证号不符、同一系统重复登记。请核实后在“部门核查结果”栏注明处理情况并回传；身份证号默认脱敏，可按记录位置查找原记录。", 42)
	fm.print(true, 10, "$4:$5")
}
