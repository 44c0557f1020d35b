package csvsrc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/apache/arrow-go/v18/arrow"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"communityhub/connectors"
	"communityhub/connectors/conntest"
)

var update = flag.Bool("update", false, "rewrite the generated GBK/GB18030 testdata files")

// open makes a csv source over dir through the registry.
func open(t testing.TB, dir string, opts map[string]any) connectors.Source {
	t.Helper()
	src, err := connectors.Open(connectors.Config{Name: "test", Kind: "csv", BaseDir: dir, Options: opts, Getenv: os.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// openLimits is open with read limits.
func openLimits(t testing.TB, dir string, opts map[string]any, lim connectors.Limits) connectors.Source {
	t.Helper()
	src, err := connectors.Open(connectors.Config{Name: "test", Kind: "csv", BaseDir: dir, Options: opts, Getenv: os.Getenv, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func read(t testing.TB, src connectors.Source) *conntest.Collector {
	t.Helper()
	c, err := conntest.Read(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func write(t testing.TB, dir, name string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// encode encodes UTF-8 text; "{FF}" and "{D6}" in it become those single (invalid) bytes.
func encode(t testing.TB, e encoding.Encoding, text string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatalf("encode %q: %v", text, err)
	}
	b = bytes.ReplaceAll(b, []byte("{FF}"), []byte{0xFF})
	return bytes.ReplaceAll(b, []byte("{D6}"), []byte{0xD6})
}

// The GBK and GB18030 golden inputs, written here in UTF-8 and committed as encoded bytes.
var gbTestdata = []struct {
	name string
	enc  encoding.Encoding
	text string
}{
	{"gbk.csv", simplifiedchinese.GBK, "姓名,身份证号,地址\n" +
		"張偉,11010119900307123X,\"北京市﹒朝阳区, 3号\"\n" +
		"李娜,110101198512120021,上海\n" +
		"王{FF}五,110101198512120022,南京\n" +
		"赵六,1\n" +
		"\n" +
		"€符号,1,\"多行\n地址\"\n" +
		"孙{D6},110,杭州\n"},
	// '|' (0x7C) is the second byte of 瑋 (AC 7C), 億 (83 7C), 墊 (89 7C) and 趞 (DA 7C); 𠀀 takes
	// four bytes in GB18030.
	{"gb18030.csv", simplifiedchinese.GB18030, "名字|说明\n" +
		"瑋|𠀀字\n" +
		"億墊|\"a|b\"\n" +
		"趞|x|y\n"},
}

func TestGBTestdataUpToDate(t *testing.T) {
	for _, g := range gbTestdata {
		want := encode(t, g.enc, g.text)
		p := filepath.Join("testdata", g.name)
		if *update {
			write(t, "testdata", g.name, want)
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not what gbTestdata makes (err %v); run go test -run TestGBTestdataUpToDate -update", p, err)
		}
	}
}

type goldenCase struct {
	File    string         `json:"file"`
	Options map[string]any `json:"options"`
	Columns []string       `json:"columns"`
	Rows    []struct {
		Loc    string    `json:"loc"`
		Values []*string `json:"values"`
	} `json:"rows"`
	Rejects []struct {
		Loc    string  `json:"loc"`
		Reason string  `json:"reason"`
		Raw    *string `json:"raw"`
	} `json:"rejects"`
	Skips map[string]int `json:"skips"`
}

func loadGolden(t testing.TB) []goldenCase {
	t.Helper()
	data, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestGolden(t *testing.T) {
	dir, _ := filepath.Abs("testdata")
	for _, gc := range loadGolden(t) {
		t.Run(gc.File, func(t *testing.T) {
			opts := map[string]any{"glob": gc.File}
			for k, v := range gc.Options {
				opts[k] = v
			}
			src := open(t, dir, opts)
			cols, err := src.Columns(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cols, gc.Columns) {
				t.Fatalf("columns %q, want %q", cols, gc.Columns)
			}
			c := read(t, src)
			if len(c.Rows) != len(gc.Rows) {
				t.Errorf("%d rows, want %d: %+v", len(c.Rows), len(gc.Rows), c.Rows)
			}
			for i := range min(len(c.Rows), len(gc.Rows)) {
				got, want := c.Rows[i], gc.Rows[i]
				if got.Loc != want.Loc {
					t.Errorf("row %d at %s, want %s", i, got.Loc, want.Loc)
				}
				for j, col := range gc.Columns {
					v, ok := got.Vals[col]
					switch w := want.Values[j]; {
					case w == nil && ok:
						t.Errorf("%s %s = %q, want NULL", got.Loc, col, v)
					case w != nil && (!ok || v != *w):
						t.Errorf("%s %s = %q (set %v), want %q", got.Loc, col, v, ok, *w)
					}
				}
			}
			if len(c.Rejects) != len(gc.Rejects) {
				t.Errorf("%d rejects, want %d: %+v", len(c.Rejects), len(gc.Rejects), c.Rejects)
			}
			for i := range min(len(c.Rejects), len(gc.Rejects)) {
				got, want := c.Rejects[i], gc.Rejects[i]
				if got.Loc != want.Loc || !strings.Contains(got.Reason, want.Reason) {
					t.Errorf("reject %s %q, want %s %q", got.Loc, got.Reason, want.Loc, want.Reason)
				}
				if want.Raw != nil && got.Raw != *want.Raw {
					t.Errorf("reject %s raw %q, want %q", got.Loc, got.Raw, *want.Raw)
				}
			}
			skips := c.Skips
			if skips == nil {
				skips = map[string]int{}
			}
			if !reflect.DeepEqual(skips, gc.Skips) {
				t.Errorf("skips %v, want %v", skips, gc.Skips)
			}
			if !reflect.DeepEqual(c.Checkpoints, []string{""}) {
				t.Errorf("checkpoints %q", c.Checkpoints)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	gbk := encode(t, simplifiedchinese.GBK, "姓名,地址\n張偉,北京\n")
	long := bytes.Repeat([]byte("张"), sniffSize/3+1) // a character cut by the end of the sample
	for _, tc := range []struct {
		name     string
		sample   []byte
		complete bool
		want     encKind
	}{
		{"bom", append(append([]byte{}, bom...), "a,b\n"...), true, encUTF8BOM},
		{"utf8", []byte("姓名,地址\n张三,北京\n"), true, encUTF8},
		{"ascii", []byte("a,b\n1,2\n"), true, encUTF8},
		{"gbk", gbk, true, encGB18030},
		{"utf8 cut at the sample end", long, false, encUTF8},
		{"utf8 cut at the file end", []byte("a,张")[:4], true, encGB18030},
	} {
		if got := detect(tc.sample, tc.complete); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}

	// Through the source: one file per encoding, auto-detected.
	dir := t.TempDir()
	rows := "张三,北京市﹒朝阳区\n"
	write(t, dir, "u.csv", []byte("姓名,地址\n"+rows))
	write(t, dir, "b.csv", append(append([]byte{}, bom...), "姓名,地址\n"+rows...))
	write(t, dir, "g.csv", encode(t, simplifiedchinese.GBK, "姓名,地址\n"+rows))
	write(t, dir, "h.csv", encode(t, simplifiedchinese.GB18030, "姓名,地址\n"+rows+"𠀀,x\n"))
	c := read(t, open(t, dir, map[string]any{"glob": "*.csv"}))
	got := map[string]string{}
	for _, r := range c.Rows {
		got[r.Loc] = r.Vals["姓名"] + "|" + r.Vals["地址"]
	}
	want := map[string]string{
		"b.csv:2": "张三|北京市﹒朝阳区", "g.csv:2": "张三|北京市﹒朝阳区",
		"h.csv:2": "张三|北京市﹒朝阳区", "h.csv:3": "𠀀|x", "u.csv:2": "张三|北京市﹒朝阳区",
	}
	if !reflect.DeepEqual(got, want) || len(c.Rejects) != 0 {
		t.Errorf("got %v rejects %v", got, c.Rejects)
	}

	// The GBK golden file auto-detected reads as GB18030, GBK's superset.
	abs, _ := filepath.Abs("testdata")
	c = read(t, open(t, abs, map[string]any{"glob": "gbk.csv"}))
	if len(c.Rows) != 3 || c.Rows[0].Vals["姓名"] != "張偉" || len(c.Rejects) != 3 ||
		!strings.Contains(c.Rejects[0].Reason, "invalid gb18030 bytes at byte 3") {
		t.Errorf("gbk.csv auto: %+v %+v", c.Rows, c.Rejects)
	}

	// Configured utf-8 strips a BOM too; configured utf-8-bom reads a file without one.
	for _, enc := range []string{"utf-8", "utf-8-bom"} {
		c = read(t, open(t, dir, map[string]any{"glob": "[ub].csv", "encoding": enc}))
		if len(c.Rows) != 2 || c.Columns[0] != "姓名" || len(c.Rejects) != 0 {
			t.Errorf("%s: %+v %+v %q", enc, c.Rows, c.Rejects, c.Columns)
		}
	}
	// GBK read as UTF-8: every row is rejected, but the header decides first.
	if _, err := open(t, dir, map[string]any{"glob": "g.csv", "encoding": "utf-8"}).Columns(context.Background()); err == nil ||
		!strings.Contains(err.Error(), "invalid utf-8 bytes") || !strings.Contains(err.Error(), "g.csv:1") {
		t.Errorf("gbk header as utf-8: %v", err)
	}
}

func TestGBKRoundTrip(t *testing.T) {
	// Traditional and simplified characters, GBK punctuation and the euro sign (0x80 in GBK).
	names := []string{"張偉", "张伟", "歐陽娜娜", "李﹒明", "瑋", "丨丶亅", "€", "“引号”", "王（小）"}
	var sb strings.Builder
	sb.WriteString("姓名,备注\n")
	for i, n := range names {
		fmt.Fprintf(&sb, "%s,\"第%d行, 含逗号\"\n", n, i+1)
	}
	for _, tc := range []struct {
		enc    encoding.Encoding
		option string
	}{
		{simplifiedchinese.GBK, "gbk"},
		{simplifiedchinese.GBK, "auto"},
		{simplifiedchinese.GB18030, "gb18030"},
	} {
		dir := t.TempDir()
		text := sb.String()
		if tc.option == "gb18030" {
			text += "𠀀𪚥,四字节\n" // outside GBK
		}
		write(t, dir, "x.csv", encode(t, tc.enc, text))
		c := read(t, open(t, dir, map[string]any{"encoding": tc.option}))
		if len(c.Rejects) != 0 {
			t.Fatalf("%s: rejects %+v", tc.option, c.Rejects)
		}
		for i, n := range names {
			if got := c.Rows[i].Vals["姓名"]; got != n {
				t.Errorf("%s: row %d %q, want %q", tc.option, i, got, n)
			}
			if got, want := c.Rows[i].Vals["备注"], fmt.Sprintf("第%d行, 含逗号", i+1); got != want {
				t.Errorf("%s: row %d %q, want %q", tc.option, i, got, want)
			}
		}
		if tc.option == "gb18030" && c.Rows[len(names)].Vals["姓名"] != "𠀀𪚥" {
			t.Errorf("gb18030 four-byte: %q", c.Rows[len(names)].Vals["姓名"])
		}
	}
	// A GB18030-only character in a file read as GBK is invalid.
	dir := t.TempDir()
	write(t, dir, "x.csv", encode(t, simplifiedchinese.GB18030, "a,b\n𠀀,1\n张,2\n"))
	c := read(t, open(t, dir, map[string]any{"encoding": "gbk"}))
	if len(c.Rows) != 1 || len(c.Rejects) != 1 || c.Rejects[0].Loc != "x.csv:2" || !strings.Contains(c.Rejects[0].Reason, "invalid gbk bytes at byte 1") {
		t.Errorf("rows %+v rejects %+v", c.Rows, c.Rejects)
	}
	// U+FFFD itself is valid GB18030.
	write(t, dir, "x.csv", encode(t, simplifiedchinese.GB18030, "a,b\n\uFFFD,1\n"))
	c = read(t, open(t, dir, map[string]any{"encoding": "gb18030"}))
	if len(c.Rows) != 1 || c.Rows[0].Vals["a"] != "\uFFFD" {
		t.Errorf("U+FFFD: rows %+v rejects %+v", c.Rows, c.Rejects)
	}
}

func TestNewestFile(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"20261118", "20261120", "20261119"} {
		write(t, dir, "systems/05_disabled/残疾人信息_"+d+".csv",
			encode(t, simplifiedchinese.GBK, "残疾证号,姓名\n1101"+d+",张"+d[6:]+"\n"))
	}
	write(t, dir, "systems/05_disabled/readme.txt", []byte("not a drop"))
	src := open(t, dir, map[string]any{
		"root": "systems/05_disabled", "glob": "残疾人信息_*.csv", "newest": `_(?P<date>\d{8})\.csv$`, "encoding": "gbk",
	})
	c := read(t, src)
	if len(c.Rows) != 1 || c.Rows[0].Loc != "残疾人信息_20261120.csv:2" || c.Rows[0].Vals["姓名"] != "张20" {
		t.Errorf("rows %+v", c.Rows)
	}
	if !reflect.DeepEqual(c.Checkpoints, []string{"20261120"}) {
		t.Errorf("checkpoints %q", c.Checkpoints)
	}
}

func TestHeaderErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a_1.csv", []byte("编号,姓名,地址\n1,张三,北京\n"))
	write(t, dir, "a_2.csv", []byte("编号,名字,地址,电话\n1,张三,北京,1\n"))
	src := open(t, dir, map[string]any{"glob": "a_*.csv"})
	_, err := src.Columns(context.Background())
	if err == nil || !strings.Contains(err.Error(), "a_2.csv") || !strings.Contains(err.Error(), `column 2 is "名字", not "姓名"`) ||
		!strings.Contains(err.Error(), `column 4 "电话" extra`) {
		t.Errorf("Columns: %v", err)
	}
	if _, err := conntest.Read(context.Background(), src, ""); err == nil || !strings.Contains(err.Error(), "a_2.csv") {
		t.Errorf("Read: %v", err)
	}
	if err := src.(connectors.Prober).Probe(context.Background()); err == nil {
		t.Error("Probe should fail on a header mismatch")
	}

	for _, tc := range []struct{ data, opts, want string }{
		{"编号,姓名, 编号 \n", "", `dup.csv:1: header column 3 "编号" duplicates column 1`},
		{"编号,,地址\n", "", "dup.csv:1: header column 2 has no name"},
		{"", "", "file dup.csv is empty (0 bytes)"},
		{"\xEF\xBB\xBF", "", "dup.csv: no header: the file is empty"},
		{"\n1,2\n", "", "dup.csv:1: header is blank"},
		{"标题\n", "3", "dup.csv: no header: the file has 1 lines, header_row is 3"},
		{"a,\"b\n", "", "dup.csv:1: header: unterminated quote"},
	} {
		d := t.TempDir()
		write(t, d, "dup.csv", []byte(tc.data))
		opts := map[string]any{}
		if tc.opts != "" {
			n, _ := strconv.Atoi(tc.opts)
			opts["header_row"] = n
		}
		_, err := open(t, d, opts).Columns(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.data, err, tc.want)
		}
	}

	// An empty drop folder fails; a good one probes fine.
	if err := open(t, t.TempDir(), nil).(connectors.Prober).Probe(context.Background()); err == nil {
		t.Error("Probe of an empty folder should fail")
	}
	if err := open(t, dir, map[string]any{"glob": "a_1.csv"}).(connectors.Prober).Probe(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]any
		want string
	}{
		{map[string]any{"encoding": "latin1"}, "option encoding"},
		{map[string]any{"delimiter": ",,"}, "option delimiter"},
		{map[string]any{"delimiter": `"`}, "option delimiter"},
		{map[string]any{"delimiter": "，"}, "option delimiter"},
		{map[string]any{"delimiter": "1"}, "option delimiter"},
		{map[string]any{"header_row": 0}, "option header_row"},
		{map[string]any{"batch_rows": -1}, "option batch_rows"},
		{map[string]any{"newest": `(\d+)`}, "option newest"},
		{map[string]any{"newest": `(`}, "option newest"},
		{map[string]any{"glob": "["}, "option glob"},
		{map[string]any{"sheet": "x"}, `unknown field "sheet"`},
		{map[string]any{"header_row": "2"}, "header_row"},
	} {
		_, err := New(connectors.Config{Name: "t", Kind: "csv", BaseDir: "/nonexistent", Options: tc.opts})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.opts, err, tc.want)
		}
	}
	// Good options, embedded file selection at the top level; New touches no file.
	src, err := New(connectors.Config{BaseDir: "/nonexistent", Options: map[string]any{
		"root": "r", "glob": "*.csv", "newest": `_(?P<date>\d{8})`, "encoding": "GBK", "delimiter": `\t`, "header_row": 2, "batch_rows": 10,
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := src.(*Source)
	if s.opts.Root != "r" || s.opts.Glob != "*.csv" || s.enc != encGBK || s.delim != '\t' || s.headerRow != 2 || s.opts.BatchRows != 10 {
		t.Errorf("%+v", s)
	}
	if _, ok := src.(connectors.Incremental); ok {
		t.Error("a drop is a full snapshot, not incremental")
	}
	found := false
	for _, k := range connectors.Kinds() {
		found = found || k == "csv"
	}
	if !found {
		t.Error("csv is not registered")
	}
}

// genRows writes a header and n rows; every 1000th row has a quoted field over two lines. It
// returns the line each row starts on.
func genRows(n int) ([]byte, []int) {
	var b bytes.Buffer
	b.WriteString("编号,姓名,身份证号,地址\n")
	lines := make([]int, n)
	line := 2
	for i := range n {
		lines[i] = line
		if i%1000 == 999 {
			fmt.Fprintf(&b, "%d,张%d,1101011990%08d,\"北京市,第%d号\n二楼\"\n", i, i, i, i)
			line += 2
		} else {
			fmt.Fprintf(&b, "%d,张%d,1101011990%08d,北京市朝阳区第%d号\n", i, i, i, i)
			line++
		}
	}
	return b.Bytes(), lines
}

func TestLargeFileStreams(t *testing.T) {
	const n = 200000
	data, lines := genRows(n)
	dir := t.TempDir()
	write(t, dir, "big.csv", data)
	c := read(t, open(t, dir, nil))
	if c.Batches < 2 {
		t.Errorf("%d batches, want several", c.Batches)
	}
	if len(c.Rows) != n || len(c.Rejects) != 0 {
		t.Fatalf("%d rows, %d rejects", len(c.Rows), len(c.Rejects))
	}
	if c.Rows[0].Loc != "big.csv:2" || c.Rows[n-1].Loc != "big.csv:"+strconv.Itoa(lines[n-1]) {
		t.Errorf("first %s last %s", c.Rows[0].Loc, c.Rows[n-1].Loc)
	}
	for i := 0; i < n; i += 997 {
		r := c.Rows[i]
		addr := fmt.Sprintf("北京市朝阳区第%d号", i)
		if i%1000 == 999 {
			addr = fmt.Sprintf("北京市,第%d号\n二楼", i)
		}
		if r.Loc != "big.csv:"+strconv.Itoa(lines[i]) || r.Vals["编号"] != strconv.Itoa(i) || r.Vals["地址"] != addr {
			t.Fatalf("row %d: %+v", i, r)
		}
	}
	// A smaller batch size gives more batches.
	c = read(t, open(t, dir, map[string]any{"batch_rows": 50000}))
	if c.Batches != 4 || len(c.Rows) != n {
		t.Errorf("batch_rows 50000: %d batches, %d rows", c.Batches, len(c.Rows))
	}
}

// A record longer than limits.row_bytes is rejected without being held in memory; with a quote
// that never closes it is the rest of the file, in one reject.
func TestLongRecords(t *testing.T) {
	lim := connectors.Limits{RowBytes: 256 << 10}
	open := func(t testing.TB, dir string, opts map[string]any) connectors.Source {
		return openLimits(t, dir, opts, lim)
	}
	filler := strings.Repeat("甲乙丙丁,戊己庚辛\n", 100000) // 2.6 MB

	dir := t.TempDir()
	write(t, dir, "open.csv", []byte("a,b\n1,2\n3,\"never closed\n"+filler))
	c := read(t, open(t, dir, nil))
	if len(c.Rows) != 1 || len(c.Rejects) != 1 {
		t.Fatalf("rows %d rejects %+v", len(c.Rows), len(c.Rejects))
	}
	r := c.Rejects[0]
	if r.Loc != "open.csv:3" || !strings.Contains(r.Reason, "unterminated quote in field 2: the rest of the file (100001 lines)") ||
		len(r.Raw) > rawMax || !strings.HasPrefix(r.Raw, "3,\"never closed\n甲乙") {
		t.Errorf("reject %s %q raw %d bytes %q…", r.Loc, r.Reason, len(r.Raw), r.Raw[:min(40, len(r.Raw))])
	}

	write(t, dir, "open.csv", []byte("a,b\n1,\""+filler+"\",x\n2,3\n"))
	c = read(t, open(t, dir, nil))
	if len(c.Rejects) != 1 || !strings.Contains(c.Rejects[0].Reason, "row exceeds the limit of 256 KiB (raise limits.row_bytes)") || c.Rejects[0].Loc != "open.csv:2" ||
		len(c.Rows) != 1 || c.Rows[0].Loc != "open.csv:100003" {
		t.Errorf("rows %+v rejects %d", c.Rows, len(c.Rejects))
	}

	// Below the limit, a long record is fine.
	write(t, dir, "open.csv", []byte("a,b\n1,\""+filler[:26*7000]+"\"\n2,3\n"))
	c = read(t, open(t, dir, nil))
	if len(c.Rejects) != 0 || len(c.Rows) != 2 || len(c.Rows[0].Vals["b"]) != 26*7000 || c.Rows[1].Loc != "open.csv:7003" {
		t.Errorf("rows %d rejects %d", len(c.Rows), len(c.Rejects))
	}
}

// scanAll splits data with the scanner and describes every record.
func scanAll(data []byte, rd func([]byte) *bytes.Reader, oneByte bool, delim byte, gbAware bool) []string {
	var s scanner
	r := rd(data)
	if oneByte {
		s.reset(iotest.OneByteReader(r), int64(len(data)))
	} else {
		s.reset(r, int64(len(data)))
	}
	s.delim, s.gbAware = delim, gbAware
	var out []string
	for {
		ok, err := s.next()
		if err != nil {
			return append(out, "error "+err.Error())
		}
		if !ok {
			return out
		}
		d := fmt.Sprintf("line %d status %d nl %d nf %d blank %v", s.line, s.status, s.nl, s.nf, s.blank())
		if s.status == recOK {
			for _, f := range s.fields {
				d += fmt.Sprintf(" [%d %q]", f.q, s.rec[f.s:f.e])
			}
		}
		out = append(out, d)
	}
}

func TestScannerChunking(t *testing.T) {
	data, _ := genRows(3000)
	data = append(data, "x,\"a\"\"b\",\"c\"\r\n\"unterminated,\n"...)
	whole := scanAll(data, bytes.NewReader, false, ',', false)
	if len(whole) != 3003 {
		t.Fatalf("%d records", len(whole))
	}
	if got := scanAll(data, bytes.NewReader, true, ',', false); !reflect.DeepEqual(got, whole) {
		t.Error("one byte at a time splits differently")
	}
	if !strings.Contains(whole[3001], `[2 "a\"\"b"] [1 "c"]`) || !strings.Contains(whole[3002], "status 2") {
		t.Errorf("%s / %s", whole[3001], whole[3002])
	}
}

// cancelWriter cancels its context at the first batch.
type cancelWriter struct {
	conntest.Collector
	cancel context.CancelFunc
}

func (w *cancelWriter) Write(b arrow.RecordBatch) error {
	w.cancel()
	return w.Collector.Write(b)
}

func TestCancel(t *testing.T) {
	data, _ := genRows(50000)
	dir := t.TempDir()
	write(t, dir, "big.csv", data)
	src := open(t, dir, map[string]any{"batch_rows": 1000})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := conntest.Read(ctx, src, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before: %v", err)
	}
	if _, err := src.Columns(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Columns cancelled: %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	w := &cancelWriter{cancel: cancel}
	err := src.Read(ctx, connectors.ReadRequest{}, w)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled during: %v", err)
	}
	if len(w.Rows) >= 50000 || len(w.Checkpoints) != 0 {
		t.Errorf("went on after cancel: %d rows, checkpoints %q", len(w.Rows), w.Checkpoints)
	}
}
