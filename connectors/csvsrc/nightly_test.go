package csvsrc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"golang.org/x/text/encoding/simplifiedchinese"

	"communityhub/connectors"
	"communityhub/connectors/conntest"
)

// The tests of "trustworthy nightly runs": line endings, empty exports, repeated headers, read
// limits, excerpts in errors, cancellation on huge files.

// The same export with LF, CRLF and CR-only line endings reads the same rows at the same lines;
// a line break inside a quoted field stays data.
func TestLineEndings(t *testing.T) {
	lines := []string{"编号,姓名,地址", "1,张三,北京", `2,李四,"南京` + "\x00" + `鼓楼"`, "", "3,王五,上海"}
	for _, eol := range []string{"\n", "\r\n", "\r"} {
		dir := t.TempDir()
		text := strings.ReplaceAll(strings.Join(lines, eol)+eol, "\x00", eol)
		write(t, dir, "f.csv", []byte(text))
		c := read(t, open(t, dir, nil))
		var got []string
		for _, r := range c.Rows {
			got = append(got, r.Loc+"="+r.Vals["编号"]+"|"+r.Vals["姓名"]+"|"+r.Vals["地址"])
		}
		if len(c.Columns) != 3 || len(c.Rejects) != 0 || c.Skips["blank"] != 1 {
			t.Errorf("%q: columns %q rejects %+v skips %v", eol, c.Columns, c.Rejects, c.Skips)
		}
		want := []string{"f.csv:2=1|张三|北京", "f.csv:3=2|李四|南京" + eol + "鼓楼", "f.csv:6=3|王五|上海"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: rows %q, want %q", eol, got, want)
		}
	}

	// A CR-only export of 401 columns (what was read as one 401-column header and no rows).
	var b strings.Builder
	for r := 0; r < 5; r++ {
		for i := 0; i < 401; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			if r == 0 {
				fmt.Fprintf(&b, "列%d", i)
			} else {
				fmt.Fprintf(&b, "%d", r*1000+i)
			}
		}
		b.WriteByte('\r')
	}
	dir := t.TempDir()
	write(t, dir, "mac.csv", []byte(b.String()))
	c := read(t, open(t, dir, map[string]any{"header_row": 1}))
	if len(c.Columns) != 401 || len(c.Rows) != 4 || c.Rows[3].Loc != "mac.csv:5" || c.Rows[3].Vals["列400"] != "4400" {
		t.Errorf("CR file: %d columns, %d rows %+v", len(c.Columns), len(c.Rows), c.Rejects)
	}
	// With a preamble the lines skipped are CR lines too.
	write(t, dir, "mac.csv", []byte("导出日期 2026-11-20\r姓名,电话\r张三,1\r"))
	c = read(t, open(t, dir, map[string]any{"header_row": 2}))
	if len(c.Rows) != 1 || c.Rows[0].Loc != "mac.csv:3" || c.Rows[0].Vals["电话"] != "1" || c.Skips["preamble"] != 1 {
		t.Errorf("CR preamble: %+v %v", c.Rows, c.Skips)
	}
}

func TestDetectEOL(t *testing.T) {
	for _, tc := range []struct {
		in       string
		complete bool
		want     byte
		seen     string
	}{
		{"a\nb\n", true, '\n', "2 LF"},
		{"a\r\nb\r\n", true, '\n', "2 CRLF"},
		{"a\rb\rc\r", true, '\r', "3 CR"},
		{"a\rb\"x\ny\"\rc\r", true, '\r', "1 LF, 3 CR"}, // Mac Excel: LF inside cells
		{"abc", true, '\n', "none"},
		{"a\r\nb\r", false, '\n', "1 CRLF"}, // the last CR's LF is still to come
	} {
		eol, seen := detectEOL([]byte(tc.in), tc.complete)
		if eol != tc.want || !strings.HasPrefix(seen, tc.seen+" in the first") {
			t.Errorf("%q: %q %q, want %q %q", tc.in, eol, seen, tc.want, tc.seen)
		}
	}
}

// A header that is really a whole file (no line ending recognised, or not a CSV) fails the
// read with the file, what was seen, and no more of the file than an excerpt.
func TestHeaderLooksLikeWholeFile(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; i < 1500; i++ {
		fmt.Fprintf(&b, "c%d\x1e%d,", i, i) // records joined by a separator no one uses
	}
	b.WriteString("SECRET-TAIL\n")
	write(t, dir, "joined.csv", []byte(b.String()))
	_, err := open(t, dir, nil).Columns(context.Background())
	if err == nil || !strings.Contains(err.Error(), "joined.csv:1: header has 1501 columns, more than 1000") ||
		!strings.Contains(err.Error(), "line endings seen: 1 LF") || strings.Contains(err.Error(), "SECRET") ||
		!strings.Contains(err.Error(), `it starts "c0·0,c1·1,`) {
		t.Errorf("1501 columns: %v", err)
	}
	if _, err := conntest.Read(context.Background(), open(t, dir, nil), ""); err == nil || !strings.Contains(err.Error(), "more than 1000") {
		t.Errorf("Read: %v", err)
	}

	// A header line over limits.row_bytes, with few columns.
	write(t, dir, "joined.csv", []byte("姓名,"+strings.Repeat("备", 2000)+"SECRET\n张三,x\n"))
	_, err = openLimits(t, dir, nil, connectors.Limits{RowBytes: 1000}).Columns(context.Background())
	if err == nil || !strings.Contains(err.Error(), "joined.csv:1: header line exceeds the limit of 1000 bytes (raise limits.row_bytes)") ||
		strings.Contains(err.Error(), "SECRET") || utf8.RuneCountInString(err.Error()) > 300 {
		t.Errorf("long header: %v", err)
	}
	// The same over the scanner's buffer (not kept in memory at all).
	write(t, dir, "joined.csv", []byte("姓名,"+strings.Repeat("备", 200000)+"SECRET\n张三,x\n"))
	_, err = openLimits(t, dir, nil, connectors.Limits{RowBytes: 1000}).Columns(context.Background())
	if err == nil || !strings.Contains(err.Error(), "header line exceeds the limit") || strings.Contains(err.Error(), "SECRET") ||
		!strings.Contains(err.Error(), `it starts "姓名,备备`) {
		t.Errorf("very long header: %v", err)
	}
}

// An export without data is a failed delivery: a 0-byte file, a header alone, a header with
// only blank lines or repeated headers; in a drop of several files, the one that is empty.
func TestNoDataRows(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"empty.csv", "", "file empty.csv is empty (0 bytes)"},
		{"header.csv", "姓名,身份证号\n", "file header.csv has a header but no data rows"},
		{"header-nolf.csv", "姓名,身份证号", "file header-nolf.csv has a header but no data rows"},
		{"blank.csv", "姓名,身份证号\r\n\r\n,\r\n", "file blank.csv has a header but no data rows (2 blank lines, 0 repeated header rows)"},
		{"again.csv", "姓名,身份证号\n姓名,身份证号\n", "file again.csv has a header but no data rows (0 blank lines, 1 repeated header rows)"},
	} {
		dir := t.TempDir()
		write(t, dir, tc.name, []byte(tc.data))
		_, err := conntest.Read(context.Background(), open(t, dir, nil), "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// A file whose only row is rejected has data: it reads, with the reject.
	dir := t.TempDir()
	write(t, dir, "a.csv", []byte("姓名,身份证号\n张三\n"))
	if c := read(t, open(t, dir, nil)); len(c.Rejects) != 1 {
		t.Errorf("rejects %+v", c.Rejects)
	}
	write(t, dir, "a.csv", []byte("姓名,身份证号\n张三,1\n"))
	write(t, dir, "b.csv", []byte("姓名,身份证号\n"))
	if _, err := conntest.Read(context.Background(), open(t, dir, map[string]any{"glob": "*.csv"}), ""); err == nil ||
		!strings.Contains(err.Error(), "file b.csv has a header but no data rows") {
		t.Errorf("two files: %v", err)
	}
}

// Exports concatenated into one file repeat the header; those rows are skipped as "header",
// not landed as a person named 姓名 — in UTF-8 with a BOM before the repeat, and in GBK.
func TestRepeatedHeader(t *testing.T) {
	text := "姓名,身份证号\n张三,1\n\uFEFF姓名 , 身份证号\n李四,2\n姓名,身份证号\n姓名,电话\n"
	dir := t.TempDir()
	write(t, dir, "u.csv", []byte(text))
	write(t, dir, "g.csv", encode(t, simplifiedchinese.GBK, strings.ReplaceAll(text, "\uFEFF", "")))
	for _, f := range []string{"u.csv", "g.csv"} {
		c := read(t, open(t, dir, map[string]any{"glob": f}))
		if len(c.Rows) != 3 || c.Rows[0].Vals["姓名"] != "张三" || c.Rows[1].Loc != f+":4" || c.Rows[2].Vals["姓名"] != "姓名" ||
			c.Rows[2].Vals["身份证号"] != "电话" || c.Skips["header"] != 2 {
			t.Errorf("%s: rows %+v skips %v", f, c.Rows, c.Skips)
		}
	}
}

// A value over limits.value_bytes or a row over limits.row_bytes is rejected with a reason
// naming the limit, and reading goes on at the next row.
func TestLimits(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "u.csv", []byte("编号,姓名,备注\n1,张三,ok\n2,"+strings.Repeat("名", 6)+",ok\n3,\"a\"\"b\"\"c\"\"d\"\"e\"\"f\"\"g\",ok\n"+
		"4,李四,"+strings.Repeat("x", 40)+"\n5,王五,ok\n"))
	lim := connectors.Limits{ValueBytes: 16, RowBytes: 40}
	c := read(t, openLimits(t, dir, nil, lim))
	var locs []string
	for _, r := range c.Rows {
		locs = append(locs, r.Loc)
	}
	// Row 3's raw field is 20 bytes but its value ("a\"b\"…") 13: it lands.
	if !reflect.DeepEqual(locs, []string{"u.csv:2", "u.csv:4", "u.csv:6"}) || c.Rows[1].Vals["姓名"] != `a"b"c"d"e"f"g` {
		t.Errorf("rows %+v", c.Rows)
	}
	if len(c.Rejects) != 2 || c.Rejects[0].Loc != "u.csv:3" ||
		c.Rejects[0].Reason != "column 2 (姓名): value exceeds the limit of 16 bytes (raise limits.value_bytes)" ||
		c.Rejects[1].Loc != "u.csv:5" || !strings.HasPrefix(c.Rejects[1].Reason, "row exceeds the limit of 40 bytes (raise limits.row_bytes)") {
		t.Errorf("rejects %+v", c.Rejects)
	}

	// GBK: the limit is on the decoded UTF-8 (4 characters: 8 bytes in the file, 12 decoded).
	write(t, dir, "g.csv", encode(t, simplifiedchinese.GBK, "姓名,备注\n欧阳娜娜,x\n张三,y\n"))
	c = read(t, openLimits(t, dir, map[string]any{"glob": "g.csv", "encoding": "gbk"}, connectors.Limits{ValueBytes: 10}))
	if len(c.Rows) != 1 || c.Rows[0].Loc != "g.csv:3" || len(c.Rejects) != 1 || !strings.Contains(c.Rejects[0].Reason, "limits.value_bytes") {
		t.Errorf("gbk: rows %+v rejects %+v", c.Rows, c.Rejects)
	}
}

// sparse writes head, then n zero bytes without using disk, then tail.
func sparse(t testing.TB, path, head string, n int64, tail string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(head); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(int64(len(head)) + n); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(tail), int64(len(head))+n); err != nil {
		t.Fatal(err)
	}
}

// A 200 MB line is rejected at the default row limit (4 MiB) without being read into memory
// whole, and the row after it lands.
func TestHugeLineNotHeld(t *testing.T) {
	dir := t.TempDir()
	sparse(t, filepath.Join(dir, "f.csv"), "姓名,备注\n张三,ok\n李四,", 200<<20, "\n王五,ok\n")
	src := open(t, dir, nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := read(t, src)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("reading allocated %d MiB for a 200 MB line", alloc>>20)
	}
	if len(c.Rows) != 2 || c.Rows[1].Loc != "f.csv:4" || c.Rows[1].Vals["姓名"] != "王五" {
		t.Errorf("rows %+v", c.Rows)
	}
	if len(c.Rejects) != 1 || c.Rejects[0].Loc != "f.csv:3" || len(c.Rejects[0].Raw) > rawMax ||
		!strings.HasPrefix(c.Rejects[0].Reason, "row exceeds the limit of 4 MiB (raise limits.row_bytes)") {
		t.Errorf("rejects %d %.100q", len(c.Rejects), c.Rejects)
	}
}

// Errors about a file's header quote excerpts of names only: a drift between two files' headers
// or a duplicate name does not put a whole (perhaps secret) cell into a log.
func TestErrorsQuoteExcerpts(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("长", 50) + "SECRET"
	write(t, dir, "a_1.csv", []byte("编号,姓名\n1,张三\n"))
	write(t, dir, "a_2.csv", []byte("编号,"+long+"\n1,张三\n"))
	_, err := open(t, dir, map[string]any{"glob": "a_*.csv"}).Columns(context.Background())
	if err == nil || !strings.Contains(err.Error(), "a_2.csv: header differs from a_1.csv: column 2 is \""+strings.Repeat("长", 40)+"…\", not \"姓名\"") ||
		strings.Contains(err.Error(), "SECRET") {
		t.Errorf("drift: %v", err)
	}
	write(t, dir, "d.csv", []byte(long+",x,"+long+"\n1,2,3\n"))
	_, err = open(t, dir, map[string]any{"glob": "d.csv"}).Columns(context.Background())
	if err == nil || !strings.Contains(err.Error(), "d.csv:1: header column 3") || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("duplicate: %v", err)
	}
}

// Read stops within seconds of a cancel even inside one enormous record, and returns ctx.Err().
func TestCancelHugeFile(t *testing.T) {
	dir := t.TempDir()
	// 16 GiB of zeros after the header: one record that takes well over 5 s to scan.
	sparse(t, filepath.Join(dir, "huge.csv"), "a,b\n1,", 16<<30, "\n")
	src := open(t, dir, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := conntest.Read(ctx, src, "")
	if !errors.Is(err, context.DeadlineExceeded) || err != ctx.Err() {
		t.Errorf("Read: %v, want ctx.Err()", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Read took %v after a 300 ms deadline", d)
	}

	// The same when the huge record is the header, for Columns.
	sparse(t, filepath.Join(dir, "huge.csv"), "a,", 16<<30, "\n")
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := src.Columns(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Columns: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Columns took %v after a 300 ms deadline", d)
	}
}

// sample.toml decodes, makes a source, and reads a drop laid out like the demo's.
func TestSampleConfig(t *testing.T) {
	var cfg struct {
		Source []struct {
			Name    string
			Kind    string
			Key     []string
			Options map[string]any
			Limits  connectors.Limits
		}
	}
	if _, err := toml.DecodeFile("sample.toml", &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Source) != 1 {
		t.Fatalf("sample.toml has %d sources", len(cfg.Source))
	}
	s := cfg.Source[0]
	dir := t.TempDir()
	write(t, dir, "systems/05_disabled/残疾人信息_20261120.csv", encode(t, simplifiedchinese.GBK, "残疾证号,姓名\n11010119900307123X42,张三\n"))
	src, err := connectors.Open(connectors.Config{Name: s.Name, Kind: s.Kind, Key: s.Key, BaseDir: dir, Options: s.Options, Getenv: os.Getenv, Limits: s.Limits})
	if err != nil {
		t.Fatal(err)
	}
	if c := read(t, src); len(c.Rows) != 1 || c.Rows[0].Vals["姓名"] != "张三" {
		t.Errorf("rows %+v rejects %+v", c.Rows, c.Rejects)
	}
}
