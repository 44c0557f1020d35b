package filedrop

import (
	"os"
	"path/filepath"
	"testing"
)

func touch(t *testing.T, dir, rel string) {
	p := filepath.Join(dir, rel)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestNewestPerGroup(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"网格_001_20261118.csv", "网格_001_20261120.csv", "网格_002_20261119.csv", "readme.txt", "残疾人信息_20261119.csv", "残疾人信息_20261120.csv"} {
		touch(t, dir, f)
	}
	files, err := Select(dir, Options{Glob: "网格_*.csv", Newest: `网格_(?P<group>\d+)_(?P<date>\d{8})\.csv$`})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Rel != "网格_001_20261120.csv" || files[1].Rel != "网格_002_20261119.csv" {
		t.Fatalf("got %+v", files)
	}
	if Cursor(files) != "20261120" {
		t.Errorf("cursor %s", Cursor(files))
	}
	files, _ = Select(dir, Options{Glob: "残疾人信息_*.csv", Newest: `_(?P<date>\d{8})\.csv$`})
	if len(files) != 1 || files[0].Date != "20261120" {
		t.Fatalf("newest overall: %+v", files)
	}
}

func TestGlobInSubfoldersAndErrors(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, "ledgers/梦都社区/台账.xlsx")
	touch(t, dir, "ledgers/奥体社区/台账.xlsx")
	files, err := Select(dir, Options{Root: "ledgers", Glob: "*/台账.xlsx"})
	if err != nil || len(files) != 2 || files[0].Rel != "奥体社区/台账.xlsx" {
		t.Fatalf("%+v %v", files, err)
	}
	if _, err := Select(dir, Options{Glob: "*.nothing"}); err == nil {
		t.Error("an empty drop should be an error")
	}
	if _, err := Select(dir, Options{Glob: "*", Newest: `(\d+)`}); err == nil {
		t.Error("a newest pattern without a date group should be an error")
	}
}

func TestValidate(t *testing.T) {
	for _, o := range []Options{{Glob: "["}, {Newest: "("}, {Newest: `(\d{8})`}} {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if err := (Options{Glob: "*.csv", Newest: `_(?P<date>\d{8})\.csv$`}).Validate(); err != nil {
		t.Error(err)
	}
}
