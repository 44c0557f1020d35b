package xlsxsrc

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"communityhub/internal/deptsim/xlsxout"
)

// The test workbooks are written into the test's temporary folder from the code below: the same
// cells every time, so that testdata/golden.json holds what reading them must give.

func date(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// veteransColumns is the two-row header of a veterans' register: 序号 and the last two columns
// merged down both rows, the others under the groups 基本信息 and 服役信息.
func veteransColumns() []xlsxout.Column {
	return []xlsxout.Column{
		{Group: "基本信息", Name: "姓名"},
		{Group: "基本信息", Name: "性别"},
		{Group: "基本信息", Name: "身份证号", Width: 22},
		{Group: "基本信息", Name: "出生年月"},
		{Group: "服役信息", Name: "入伍时间"},
		{Group: "服役信息", Name: "退役时间"},
		{Group: "服役信息", Name: "部队番号"},
		{Name: "优抚类别"},
		{Name: "联系方式"},
	}
}

// writeVeterans writes a veterans' register as a street office keeps it: a title, the two-row
// header, an ID card number typed as a number, date cells, an Excel serial in a text column, a
// sub-heading inside the table, a blank line, the 合计 line and notes below.
func writeVeterans(t testing.TB, path string) {
	t.Helper()
	_, err := xlsxout.Write(path, []xlsxout.Sheet{{
		Name:    "退役军人",
		Title:   "某某街道退役军人信息登记表",
		Serial:  true,
		Columns: veteransColumns(),
		Rows: []xlsxout.Row{
			{Kind: xlsxout.Data, Values: []any{"张三", "男", float64(320105195803041234), "1958.03", date(1976, 12, 1), 29221, "83201部队", "伤残军人", int64(13812345678)}},
			{Kind: xlsxout.Data, Values: []any{"李四", "女", "32010519600512123X", 195805, date(1978, 3, 1), "1983年10月", nil, "在乡复员军人", "025-84001234"}},
			{Kind: xlsxout.Blank},
			{Kind: xlsxout.Note, Values: []any{"二、新迁入人员"}},
			{Kind: xlsxout.Data, Values: []any{"王五", "男", "320105196510101234", date(1965, 10, 10), date(1983, 11, 1), date(1987, 9, 30), "", "带病回乡退伍军人", 13900000000}},
			{Kind: xlsxout.Total, Values: []any{"3人"}},
		},
		Notes: []string{"注：本表数据截至2026年11月。", "填表人：张三　　审核人：李四"},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// writeExport writes a system export: one sheet per community, a one-row header, no title.
func writeExport(t testing.TB, path string) {
	t.Helper()
	cols := []xlsxout.Column{{Name: "姓名"}, {Name: "身份证号"}, {Name: "出生日期"}, {Name: "住址"}}
	_, err := xlsxout.Write(path, []xlsxout.Sheet{
		{Name: "玄武社区", Columns: cols, Rows: []xlsxout.Row{
			{Kind: xlsxout.Data, Values: []any{"钱一", "320102194501011234", date(1945, 1, 1), "玄武大道1号"}},
			{Kind: xlsxout.Data, Values: []any{"孙二", float64(320102194602021234), date(1946, 2, 2), "玄武大道2号"}},
		}},
		{Name: "秦淮社区", Columns: cols, Rows: []xlsxout.Row{
			{Kind: xlsxout.Data, Values: []any{"李三", "32010419430303123X", date(1943, 3, 3), "秦淮路3号"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeAwkward writes, cell by cell, a ledger typed by hand: an empty first row, a title that is
// not merged, header texts with a line break and padding spaces, an ID that Excel wrote in
// scientific notation, a custom Chinese date format, a serial number in a date column, an address
// merged down over two rows, a value beyond the header, 小计 and 合 计 lines, notes followed by
// one more record, and a pre-numbered empty line.
func writeAwkward(t testing.TB, path string) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	const sh = "Sheet1"
	cnDate := `yyyy"年"m"月"d"日"`
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &cnDate})
	if err != nil {
		t.Fatal(err)
	}
	set := func(cell string, v any) {
		t.Helper()
		if err := f.SetCellValue(sh, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	set("A2", "2026年高龄老人花名册")
	for i, h := range []string{"序号", "姓 名", "身份证\n号码", "出生日期", "地址", "备注"} {
		set(fmt.Sprintf("%c3", 'A'+i), h)
	}
	set("A4", 1)
	set("B4", "周一")
	if err := f.SetCellDefault(sh, "C4", "3.20105195803041E+17"); err != nil {
		t.Fatal(err)
	}
	set("D4", 12000)
	if err := f.SetCellStyle(sh, "D4", "D4", dateStyle); err != nil {
		t.Fatal(err)
	}
	set("E4", "幸福路5号")
	if err := f.MergeCell(sh, "E4", "E5"); err != nil {
		t.Fatal(err)
	}
	set("A5", 2)
	set("B5", "吴二")
	set("C5", "320105193001011234")
	set("D5", 11000)
	set("F5", "独居")
	set("A6", 3)
	set("B6", "郑三")
	set("C6", "32010519310202123X")
	set("E6", "幸福路6号")
	set("K6", "多余")
	set("A7", "小计：3人")
	set("A8", "说明：以上为2026年走访数据")
	set("A9", "2. 数据来源：社区走访")
	set("A10", 4)
	set("B10", "王四")
	set("C10", "320105193303031234")
	set("D10", "1933-03-03")
	set("A11", "合 计")
	set("C11", "4人")
	set("A12", 5)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// writeBook writes one sheet with a one-row header and n rows.
func writeBook(t testing.TB, path string, header []string, n int, row func(i int) []any) {
	t.Helper()
	cols := make([]xlsxout.Column, len(header))
	for i, h := range header {
		cols[i] = xlsxout.Column{Name: h}
	}
	rows := make([]xlsxout.Row, n)
	for i := range rows {
		rows[i] = xlsxout.Row{Kind: xlsxout.Data, Values: row(i)}
	}
	if _, err := xlsxout.Write(path, []xlsxout.Sheet{{Name: "Sheet1", Columns: cols, Rows: rows}}); err != nil {
		t.Fatal(err)
	}
}

func join(dir, name string) string { return filepath.Join(dir, name) }
