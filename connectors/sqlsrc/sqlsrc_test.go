package sqlsrc

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"communityhub/connectors"
	"communityhub/connectors/conntest"
	"communityhub/internal/testsrv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// fill creates a table of n rows (Chinese text, a date, a timestamp cursor) in any dialect.
func fill(t *testing.T, db *sql.DB, kind, table string, n int) {
	t.Helper()
	q := func(s string) string {
		if kind == "mysql" {
			return strings.ReplaceAll(s, `"`, "`")
		}
		return s
	}
	charset := ""
	if kind == "mysql" {
		charset = " DEFAULT CHARSET=gbk"
	}
	if _, err := db.Exec(q(`CREATE TABLE ` + table + ` ("编号" VARCHAR(20) PRIMARY KEY, "姓名" VARCHAR(50), "出生日期" DATE, "xgsj" TIMESTAMP NULL, "备注" VARCHAR(50))` + charset)); err != nil {
		t.Fatal(err)
	}
	ph := func(i int) string {
		if kind == "postgres" {
			return fmt.Sprintf("$%d", i)
		}
		return "?"
	}
	tx, _ := db.Begin()
	for lo := 0; lo < n; lo += 500 {
		var vals []string
		var args []any
		for i := lo; i < min(n, lo+500); i++ {
			k := len(args)
			vals = append(vals, fmt.Sprintf("(%s,%s,%s,%s,%s)", ph(k+1), ph(k+2), ph(k+3), ph(k+4), ph(k+5)))
			var note any = "张偉·阿卜杜"
			if i%10 == 0 {
				note = nil
			}
			args = append(args, fmt.Sprintf("K%06d", i), fmt.Sprintf("王伟%d", i), "1958-03-04", fmt.Sprintf("2026-01-%02d 10:00:00", 1+i%28), note)
		}
		if _, err := tx.Exec(q(`INSERT INTO `+table+` ("编号","姓名","出生日期","xgsj","备注") VALUES `)+strings.Join(vals, ","), args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// check fills the table (created as fillAs on db) and reads it through src as table.
func check(t *testing.T, kind string, open func() (connectors.Source, *sql.DB, string, string)) {
	src, db, fillAs, table := open()
	defer db.Close()
	fill(t, db, kind, fillAs, 2345)
	ctx := context.Background()
	cols, err := src.Columns(ctx)
	if err != nil || strings.Join(cols, ",") != "编号,姓名,出生日期,xgsj,备注" {
		t.Fatalf("columns %v, %v", cols, err)
	}
	c, err := conntest.Read(ctx, src, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 2345 || len(c.Rejects) != 0 {
		t.Fatalf("%d rows, %d rejects", len(c.Rows), len(c.Rejects))
	}
	r := c.ByLoc()[table+":K000011"]
	if r.Vals["姓名"] != "王伟11" || r.Vals["出生日期"] != "1958-03-04" || r.Vals["xgsj"] != "2026-01-12 10:00:00" || r.Vals["备注"] != "张偉·阿卜杜" {
		t.Errorf("row K000011 = %+v", r)
	}
	if _, isNull := c.ByLoc()[table+":K000010"].Vals["备注"]; isNull {
		t.Error("NULL came through as a value")
	}
	// The landing owns the cursor (connectors.ColumnCursor): no checkpoints.
	if len(c.Checkpoints) != 0 {
		t.Errorf("checkpoints %v, want none", c.Checkpoints)
	}
	if cc, ok := src.(connectors.ColumnCursor); !ok || cc.CursorColumn() != "xgsj" {
		t.Errorf("CursorColumn: %v", src)
	}
	// Incremental: rows at or after the cursor only.
	c2, err := conntest.Read(ctx, src, "2026-01-28 10:00:00")
	if err != nil {
		t.Fatal(err)
	}
	if want := 2345 / 28; len(c2.Rows) < want || len(c2.Rows) > want+1 {
		t.Errorf("incremental read %d rows, want about %d", len(c2.Rows), want)
	}
	n := 0
	if err := src.(connectors.KeyLister).ListKeys(ctx, func(k []string) error { n++; return nil }); err != nil || n != 2345 {
		t.Errorf("ListKeys: %d keys, %v", n, err)
	}
	if err := src.(connectors.Prober).Probe(ctx); err != nil {
		t.Error(err)
	}
	if !src.(connectors.Incremental).Incremental() {
		t.Error("a source with a cursor should be incremental")
	}
}

func TestSQLite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.sqlite")
	check(t, "sqlite", func() (connectors.Source, *sql.DB, string, string) {
		db, _ := sql.Open("sqlite", path)
		src, err := connectors.Open(connectors.Config{Name: "t", Kind: "sqlite", BaseDir: dir, Key: []string{"编号"}, Getenv: env(nil),
			Options: map[string]any{"path": "x.sqlite", "attach_as": "hj", "table": "hj.person", "cursor": "xgsj"}})
		if err != nil {
			t.Fatal(err)
		}
		return src, db, "person", "hj.person"
	})
}

func TestSQLiteErrors(t *testing.T) {
	for _, opts := range []map[string]any{{"table": "x;drop"}, {"path": "", "table": "t"}, {"path": "a", "table": "t", "nosuch": 1}, {"path": "a", "table": "t", "attach_as": "a.b"}} {
		if _, err := connectors.Open(connectors.Config{Name: "t", Kind: "sqlite", Getenv: env(nil), Options: opts}); err == nil {
			t.Errorf("options %v accepted", opts)
		}
	}
	if _, err := connectors.Open(connectors.Config{Name: "t", Kind: "postgres", Getenv: env(nil), Options: map[string]any{"dsn_env": "NOPE", "table": "t"}}); err == nil || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("unset DSN variable: %v", err)
	}
	src, _ := connectors.Open(connectors.Config{Name: "t", Kind: "sqlite", BaseDir: t.TempDir(), Getenv: env(nil), Options: map[string]any{"path": "missing.sqlite", "table": "t"}})
	if err := src.(connectors.Prober).Probe(context.Background()); err == nil {
		t.Error("probe of a missing file succeeded")
	}
}

func TestPostgres(t *testing.T) {
	dsn := testsrv.Postgres(t)
	check(t, "postgres", func() (connectors.Source, *sql.DB, string, string) {
		db, _ := sql.Open("pgx", dsn)
		db.Exec(`CREATE SCHEMA hj`)
		src, err := connectors.Open(connectors.Config{Name: "t", Kind: "postgres", Key: []string{"编号"}, Getenv: env(map[string]string{"DSN": dsn}),
			Options: map[string]any{"dsn_env": "DSN", "table": "hj.person", "cursor": "xgsj"}})
		if err != nil {
			t.Fatal(err)
		}
		return src, db, "hj.person", "hj.person"
	})
}

func TestMySQL(t *testing.T) {
	dsn := testsrv.MySQL(t)
	check(t, "mysql", func() (connectors.Source, *sql.DB, string, string) {
		db, _ := sql.Open("mysql", dsn)
		src, err := connectors.Open(connectors.Config{Name: "t", Kind: "mysql", Key: []string{"编号"}, Getenv: env(map[string]string{"DSN": dsn}),
			Options: map[string]any{"dsn_env": "DSN", "table": "jy_register", "cursor": "xgsj"}})
		if err != nil {
			t.Fatal(err)
		}
		return src, db, "jy_register", "jy_register"
	})
}
