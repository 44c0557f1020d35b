package csvsrc

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"communityhub/connectors/conntest"
)

// FuzzCSV reads arbitrary bytes with every encoding setting and checks that nothing panics,
// every location is unique and in order, rejects say why, all text is valid UTF-8, splitting
// does not depend on how the input arrives, errors quote no more than an excerpt, and, for
// input that encoding/csv accepts, rows and field-count rejects agree with it (repeated header
// rows aside, which are skipped).
func FuzzCSV(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "golden.json" {
			continue
		}
		data, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a,b\n\"x\n"))
	f.Add([]byte("a,b\n1,\"2\"\"\"\r\n\r\n,\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "f.csv"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		// Lines are counted by LF, or by CR in a file with old Mac line endings.
		lines := max(bytes.Count(data, []byte{'\n'}), bytes.Count(data, []byte{'\r'})) + 1
		for _, o := range []map[string]any{
			{"encoding": "auto"}, {"encoding": "utf-8"}, {"encoding": "utf-8-bom"}, {"encoding": "gbk"},
			{"encoding": "gb18030"}, {"encoding": "gbk", "delimiter": "|"}, {"encoding": "utf-8", "header_row": 2},
		} {
			src := open(t, dir, o)
			cols, cerr := src.Columns(context.Background())
			c, rerr := conntest.Read(context.Background(), src, "")
			// Only Read sees that a file has no data rows.
			noData := rerr != nil && strings.Contains(rerr.Error(), "has a header but no data rows")
			if (cerr == nil) != (rerr == nil) && !(cerr == nil && noData) {
				t.Fatalf("%v: Columns error %v but Read error %v", o, cerr, rerr)
			}
			if rerr != nil {
				if n := utf8.RuneCountInString(rerr.Error()); n > 400 {
					t.Fatalf("%v: a %d-character error quotes too much of the file: %.200q…", o, n, rerr.Error())
				}
				continue
			}
			for _, col := range cols {
				if !utf8.ValidString(col) || col == "" {
					t.Fatalf("%v: column %q", o, col)
				}
			}
			seen := map[string]bool{}
			check := func(kind, loc string, prev *int) {
				n, err := strconv.Atoi(strings.TrimPrefix(loc, "f.csv:"))
				if err != nil || !strings.HasPrefix(loc, "f.csv:") || n <= *prev || n > lines || seen[loc] {
					t.Fatalf("%v: %s at %q after line %d (of %d), seen %v", o, kind, loc, *prev, lines, seen[loc])
				}
				*prev = n
				seen[loc] = true
			}
			prev := 0
			for _, r := range c.Rows {
				check("row", r.Loc, &prev)
				for k, v := range r.Vals {
					if !utf8.ValidString(v) {
						t.Fatalf("%v: %s %s = %q is not UTF-8", o, r.Loc, k, v)
					}
				}
			}
			prev = 0
			for _, r := range c.Rejects {
				check("reject", r.Loc, &prev)
				if r.Reason == "" || !utf8.ValidString(r.Raw) || len(r.Raw) > rawMax {
					t.Fatalf("%v: reject %+v", o, r)
				}
			}
			if o["encoding"] == "utf-8" && o["header_row"] == nil {
				compareWithEncodingCSV(t, data, cols, c)
			}
		}
		// Splitting does not depend on how the bytes arrive.
		for _, aware := range []bool{false, true} {
			delim := byte(',')
			if aware {
				delim = '|'
			}
			whole := scanAll(data, bytes.NewReader, false, delim, aware)
			if got := scanAll(data, bytes.NewReader, true, delim, aware); !reflect.DeepEqual(got, whole) {
				t.Fatalf("one byte at a time:\n%q\nwhole:\n%q", got, whole)
			}
		}
	})
}

// compareWithEncodingCSV checks, for UTF-8 input that encoding/csv reads without error, that
// the rows and field-count rejects are the records encoding/csv finds.
func compareWithEncodingCSV(t *testing.T, data []byte, cols []string, c *conntest.Collector) {
	if !utf8.Valid(data) || bytes.HasPrefix(data, bom) || bytes.IndexByte(data, '\r') >= 0 {
		return
	}
	lineStart := []int{0}
	for i, b := range data {
		if b == '\n' {
			lineStart = append(lineStart, i+1)
		}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	type rec struct {
		line   int
		fields []string
	}
	var recs []rec
	for {
		fields, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return
		}
		line, _ := r.FieldPos(0)
		blank := true
		for i, f := range fields {
			l, col := r.FieldPos(i)
			if off := lineStart[l-1] + col - 1; off < len(data) && data[off] == '"' || strings.Trim(f, " \t") != "" {
				blank = false
			}
		}
		if !blank && (len(recs) == 0 || !sameCells(fields, recs[0].fields)) {
			recs = append(recs, rec{line, fields})
		}
	}
	if len(recs) == 0 || recs[0].line != 1 {
		return
	}
	type result struct {
		loc    string
		fields []string // nil for a reject
	}
	var want, got []result
	for _, rc := range recs[1:] {
		loc := "f.csv:" + strconv.Itoa(rc.line)
		if len(rc.fields) == len(cols) {
			want = append(want, result{loc, rc.fields})
		} else {
			want = append(want, result{loc, nil})
		}
	}
	for _, row := range c.Rows {
		fields := make([]string, len(cols))
		for i, col := range cols {
			fields[i] = row.Vals[col]
		}
		got = append(got, result{row.Loc, fields})
	}
	for _, rj := range c.Rejects {
		if !strings.Contains(rj.Reason, "fields, header has") {
			t.Fatalf("encoding/csv reads %q but the reader rejects %+v", data, rj)
		}
		got = append(got, result{rj.Loc, nil})
	}
	line := func(r result) int { n, _ := strconv.Atoi(strings.TrimPrefix(r.loc, "f.csv:")); return n }
	for i := 1; i < len(got); i++ { // merge rows and rejects by line
		for j := i; j > 0 && line(got[j]) < line(got[j-1]); j-- {
			got[j], got[j-1] = got[j-1], got[j]
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("input %q\nreader:       %q\nencoding/csv: %q", data, got, want)
	}
}

// sameCells: a record repeats the header, as the reader compares them.
func sameCells(fields, header []string) bool {
	if len(fields) != len(header) {
		return false
	}
	for i := range fields {
		if headerName(fields[i]) != headerName(header[i]) {
			return false
		}
	}
	return true
}
