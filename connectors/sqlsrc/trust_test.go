package sqlsrc

// Tests of the "trustworthy nightly runs" work: identifier quoting, typed cursors, connection
// errors without secrets, NUL bytes, cancellation and the value limits — on real servers.

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"communityhub/connectors"
	"communityhub/connectors/conntest"
	"communityhub/internal/testsrv"
)

// server is one database of a kind, fresh for the test, with a way to open sources on it.
type server struct {
	kind string
	db   *sql.DB
	// open makes a source of this kind on the database with the given options (dsn_env or
	// path are filled in).
	open func(t *testing.T, key []string, opts map[string]any) connectors.Source
}

func newServer(t *testing.T, kind string) *server {
	t.Helper()
	var dsn, driver string
	switch kind {
	case "postgres":
		dsn, driver = testsrv.Postgres(t), "pgx"
	case "mysql":
		dsn, driver = testsrv.MySQL(t), "mysql"
	case "sqlite":
		dir := t.TempDir()
		dsn, driver = filepath.Join(dir, "db.sqlite"), "sqlite"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &server{kind: kind, db: db, open: func(t *testing.T, key []string, opts map[string]any) connectors.Source {
		t.Helper()
		o := map[string]any{}
		for k, v := range opts {
			o[k] = v
		}
		if kind == "sqlite" {
			o["path"] = dsn
		} else {
			o["dsn_env"] = "DSN"
		}
		src, err := connectors.Open(connectors.Config{Name: "t", Kind: kind, Key: key, Options: o, Getenv: env(map[string]string{"DSN": dsn})})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { src.(*Source).Close() })
		return src
	}}
}

func (s *server) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

var kinds = []string{"postgres", "mysql", "sqlite"}

// Columns named a.b, x"y, x`y and Name (mixed case) in a table whose name holds a dot read
// whole, incrementally by an odd cursor column, keyed by an odd key column; Probe and ListKeys
// agree.
func TestOddIdentifiers(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			s := newServer(t, kind)
			var table string
			switch kind {
			case "postgres":
				s.exec(t, `CREATE SCHEMA "my.schema"`,
					`CREATE TABLE "my.schema"."t.x" ("a.b" text, "x""y" text, "x`+"`"+`y" text, "Name" text, "Upd.At" int)`)
				table = `"my.schema"."t.x"`
			case "mysql":
				s.exec(t, "CREATE TABLE `t.x` (`a.b` varchar(20), `x\"y` varchar(20), `x``y` varchar(20), `Name` varchar(20), `Upd.At` int) DEFAULT CHARSET=gbk")
				table = "`t.x`"
			case "sqlite":
				s.exec(t, `CREATE TABLE "t.x" ("a.b" text, "x""y" text, "x`+"`"+`y" text, "Name" text, "Upd.At" int)`)
				table = `"t.x"`
			}
			ins := map[string]string{
				"postgres": `INSERT INTO "my.schema"."t.x" VALUES ('k1','双引号','反引号','张三',1), ('k2','q2','b2','李四',2), ('k3','q3','b3','王五',3)`,
				"mysql":    "INSERT INTO `t.x` VALUES ('k1','双引号','反引号','张三',1), ('k2','q2','b2','李四',2), ('k3','q3','b3','王五',3)",
				"sqlite":   `INSERT INTO "t.x" VALUES ('k1','双引号','反引号','张三',1), ('k2','q2','b2','李四',2), ('k3','q3','b3','王五',3)`,
			}[kind]
			s.exec(t, ins)
			opts := map[string]any{"table": table, "cursor": "Upd.At"}
			if kind == "sqlite" {
				table = `hj."t.x"`
				opts = map[string]any{"table": table, "cursor": "Upd.At", "attach_as": "hj"}
			}
			src := s.open(t, []string{"a.b"}, opts)
			ctx := context.Background()
			cols, err := src.Columns(ctx)
			if err != nil || strings.Join(cols, "|") != "a.b|x\"y|x`y|Name|Upd.At" {
				t.Fatalf("columns %q, %v", cols, err)
			}
			if err := src.(connectors.Prober).Probe(ctx); err != nil {
				t.Fatalf("probe: %v", err)
			}
			c, err := conntest.Read(ctx, src, "")
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if len(c.Rows) != 3 || len(c.Rejects) != 0 {
				t.Fatalf("%d rows, %d rejects", len(c.Rows), len(c.Rejects))
			}
			r := c.ByLoc()[table+":k1"]
			if r.Vals["x\"y"] != "双引号" || r.Vals["x`y"] != "反引号" || r.Vals["Name"] != "张三" || r.Vals["Upd.At"] != "1" {
				t.Errorf("row k1 = %+v (locs %v)", r, locs(c))
			}
			c, err = conntest.Read(ctx, src, "2")
			if err != nil {
				t.Fatalf("incremental read: %v", err)
			}
			if got := strings.Join(locs(c), ","); got != table+":k2,"+table+":k3" {
				t.Errorf("incremental read from 2: %s", got)
			}
			var keys []string
			if err := src.(connectors.KeyLister).ListKeys(ctx, func(k []string) error { keys = append(keys, k[0]); return nil }); err != nil {
				t.Fatal(err)
			}
			sort.Strings(keys)
			if strings.Join(keys, ",") != "k1,k2,k3" {
				t.Errorf("keys %v", keys)
			}
		})
	}
}

func locs(c *conntest.Collector) []string {
	var out []string
	for _, r := range c.Rows {
		out = append(out, r.Loc)
	}
	sort.Strings(out)
	return out
}

// Probe fails where Read would: a key or cursor column the table lacks.
func TestProbeFailsLikeRead(t *testing.T) {
	s := newServer(t, "sqlite")
	s.exec(t, `CREATE TABLE t (id text, gxsj text)`)
	ctx := context.Background()
	for _, tc := range []struct {
		key  []string
		opts map[string]any
		want string
	}{
		{[]string{"nosuch"}, map[string]any{"table": "t"}, `key column "nosuch"`},
		{nil, map[string]any{"table": "t", "cursor": "GXSJ"}, `cursor column "GXSJ"`},
		{nil, map[string]any{"table": "main.nosuch"}, "main.nosuch"},
	} {
		src := s.open(t, tc.key, tc.opts)
		perr := src.(connectors.Prober).Probe(ctx)
		_, rerr := conntest.Read(ctx, src, "")
		if perr == nil || rerr == nil || !strings.Contains(perr.Error(), tc.want) {
			t.Errorf("%v %v: probe %v, read %v; want both to fail naming %s", tc.key, tc.opts, perr, rerr, tc.want)
		}
	}
}

func TestParseTable(t *testing.T) {
	for in, want := range map[string]string{
		"person":               "person",
		"hj.person":            "hj|person",
		`"my.schema"."t"`:      "my.schema|t",
		"`my.db`.`t``x`":       "my.db|t`x",
		`hj."a""b.c"`:          `hj|a"b.c`,
		"户籍.人口$1":              "户籍|人口$1",
		`"x;drop table y; --"`: "x;drop table y; --",
	} {
		got, err := parseTable(in)
		if err != nil || strings.Join(got, "|") != want {
			t.Errorf("parseTable(%s) = %q, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x;drop", "a.b.c", `"a`, `""`, "a.", ".a", `"a"b`, "a b", `"a"."b"."c"`} {
		if got, err := parseTable(in); err == nil {
			t.Errorf("parseTable(%s) = %q, want an error", in, got)
		}
	}
}

// The cursor filter compares as the column's type: a timestamp with a timestamp (a cursor of
// "… 9:30:00" is before "… 10:00:00"), an integer with an integer ("10" before "100"), and on
// sqlite text as text. A postgres infinity reads as "infinity".
func TestTypedCursor(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			s := newServer(t, kind)
			switch kind {
			case "postgres":
				s.exec(t, `CREATE TABLE ev (id text PRIMARY KEY, ts timestamp(3), tz timestamptz, n int, code varchar(4))`,
					`INSERT INTO ev VALUES ('e1','2026-01-02 09:00:00','2026-01-02 09:00:00+08',9,'a'),
						('e2','2026-01-02 10:00:00','2026-01-02 10:00:00+08',10,'b'),
						('e3','2026-01-02 10:00:00.5','2026-01-02 10:00:00.5+08',100,'c'),
						('e4','2026-01-01 23:00:00','2026-01-01 23:00:00+08',2,'d'),
						('e5','infinity','infinity',1000,'e')`)
			case "mysql":
				s.exec(t, `CREATE TABLE ev (id varchar(4) PRIMARY KEY, ts datetime(3), tz timestamp(3) NULL, n int, code varchar(4)) DEFAULT CHARSET=gbk`,
					`INSERT INTO ev VALUES ('e1','2026-01-02 09:00:00','2026-01-02 09:00:00',9,'a'),
						('e2','2026-01-02 10:00:00','2026-01-02 10:00:00',10,'b'),
						('e3','2026-01-02 10:00:00.5','2026-01-02 10:00:00.5',100,'c'),
						('e4','2026-01-01 23:00:00','2026-01-01 23:00:00',2,'d')`)
			case "sqlite":
				s.exec(t, `CREATE TABLE ev (id text PRIMARY KEY, ts text, n integer, code text)`,
					`INSERT INTO ev VALUES ('e1','2026-01-02 09:00:00',9,'a'),
						('e2','2026-01-02 10:00:00',10,'b'),
						('e3','2026-01-02 10:00:00.5',100,'c'),
						('e4','2026-01-01 23:00:00',2,'d')`)
			}
			ctx := context.Background()
			read := func(cursorCol, from string) string {
				t.Helper()
				src := s.open(t, []string{"id"}, map[string]any{"table": "ev", "cursor": cursorCol})
				if err := src.(connectors.Prober).Probe(ctx); err != nil {
					t.Fatalf("probe with cursor %s: %v", cursorCol, err)
				}
				c, err := conntest.Read(ctx, src, from)
				if err != nil {
					t.Fatalf("read %s >= %s: %v", cursorCol, from, err)
				}
				if kind == "postgres" && from == "" {
					if v := c.ByLoc()["ev:e5"].Vals["ts"]; v != "infinity" {
						t.Errorf("infinity read as %q", v)
					}
				}
				var ids []string
				for _, l := range locs(c) {
					ids = append(ids, strings.TrimPrefix(l, "ev:"))
				}
				return strings.Join(ids, ",")
			}
			inf := map[string]string{"postgres": ",e5"}[kind]
			cases := []struct{ col, from, want string }{
				{"ts", "", "e1,e2,e3,e4" + inf},
				{"ts", "2026-01-02 10:00:00", "e2,e3" + inf}, // equal is read again
				{"n", "10", "e2,e3" + inf},                   // as integers, not "9" >= "10"
				{"code", "c", "e3,e4" + inf},                 // text as text
			}
			if kind != "sqlite" {
				cases = append(cases,
					struct{ col, from, want string }{"ts", "2026-01-02 9:30:00", "e2,e3" + inf}, // as timestamps, not text
					struct{ col, from, want string }{"ts", "2026-01-02 10:00:00.5", "e3" + inf},
				)
			}
			switch kind {
			case "postgres":
				cases = append(cases, struct{ col, from, want string }{"tz", "2026-01-02 02:00:00Z", "e2,e3,e5"})
			case "mysql":
				cases = append(cases, struct{ col, from, want string }{"tz", "2026-01-02 9:30:00", "e2,e3"})
			}
			for _, c := range cases {
				if got := read(c.col, c.from); got != c.want {
					t.Errorf("%s >= %q: %s, want %s", c.col, c.from, got, c.want)
				}
			}
		})
	}
}

// Connection errors name the file or host:port/database tried, and never the password.
func TestConnectErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "x", "y.sqlite")
	for path, want := range map[string]string{missing: "sqlite file " + missing + ": no such file", dir: "sqlite file " + dir + ": not a regular file"} {
		src, err := connectors.Open(connectors.Config{Name: "t", Kind: "sqlite", Getenv: env(nil), Options: map[string]any{"path": path, "table": "t"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := src.(connectors.Prober).Probe(ctx); err == nil || err.Error() != want {
			t.Errorf("sqlite %s: %v, want %q", path, err, want)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Error("probing a missing sqlite file created it")
		}
	}

	for _, tc := range []struct{ kind, dsn, want string }{
		{"postgres", "postgres://hub:pw_s3cret@127.0.0.1:1/hj?sslmode=disable&connect_timeout=5", "postgres 127.0.0.1:1/hj"},
		{"postgres", "host=127.0.0.1 port=1 dbname=hj user=hub password=pw_s3cret sslmode=disable connect_timeout=5", "postgres 127.0.0.1:1/hj"},
		{"mysql", "hub:pw_s3cret@tcp(127.0.0.1:1)/jy?timeout=5s", "mysql 127.0.0.1:1/jy"},
	} {
		src, err := connectors.Open(connectors.Config{Name: "t", Kind: tc.kind, Getenv: env(map[string]string{"DSN": tc.dsn}), Options: map[string]any{"dsn_env": "DSN", "table": "t"}})
		if err != nil {
			t.Fatal(err)
		}
		perr := src.(connectors.Prober).Probe(ctx)
		_, rerr := conntest.Read(ctx, src, "")
		for _, err := range []error{perr, rerr} {
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "pw_s3cret") {
				t.Errorf("%s: %v; want it to name %s without the password", tc.dsn, err, tc.want)
			}
		}
	}

	// A DSN that does not parse is refused by New, without the password either.
	for kind, dsn := range map[string]string{"postgres": "postgres://hub:pw_s3cret@127.0.0.1:notaport/hj", "mysql": "hub:pw_s3cret@tcp(127.0.0.1:1/jy"} {
		_, err := connectors.Open(connectors.Config{Name: "t", Kind: kind, Getenv: env(map[string]string{"DSN": dsn}), Options: map[string]any{"dsn_env": "DSN", "table": "t"}})
		if err == nil || strings.Contains(err.Error(), "pw_s3cret") || !strings.Contains(err.Error(), "DSN") {
			t.Errorf("%s %s: %v", kind, dsn, err)
		}
	}
}

// MariaDB text holding NUL bytes is handed over as it is, and the rows after it still read.
func TestMySQLNUL(t *testing.T) {
	s := newServer(t, "mysql")
	s.exec(t, "CREATE TABLE jz_member (id int PRIMARY KEY, `姓名` varchar(20), `备注` text) DEFAULT CHARSET=gbk")
	for i, v := range []string{"张\x00三", "\x00", "李四"} {
		if _, err := s.db.Exec("INSERT INTO jz_member VALUES (?, ?, ?)", i+1, v, "a\x00b\x00"); err != nil {
			t.Fatal(err)
		}
	}
	src := s.open(t, []string{"id"}, map[string]any{"table": "jz_member"})
	c, err := conntest.Read(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 3 || len(c.Rejects) != 0 {
		t.Fatalf("%d rows, %d rejects", len(c.Rows), len(c.Rejects))
	}
	by := c.ByLoc()
	if by["jz_member:1"].Vals["姓名"] != "张\x00三" || by["jz_member:2"].Vals["姓名"] != "\x00" || by["jz_member:3"].Vals["姓名"] != "李四" || by["jz_member:1"].Vals["备注"] != "a\x00b\x00" {
		t.Errorf("rows %q", c.Rows)
	}
}

// Cancelling the context during a long query returns ctx.Err() within 5 s, and the server
// stops the query (a cancel request, not only a dropped connection).
func TestPostgresCancel(t *testing.T) {
	s := newServer(t, "postgres")
	s.exec(t, `CREATE VIEW slow AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 3) g, LATERAL (SELECT pg_sleep(120)) z`)
	src := s.open(t, nil, map[string]any{"table": "slow"})
	if err := src.(connectors.Prober).Probe(context.Background()); err != nil {
		t.Fatalf("probe (must not run the sleep): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := conntest.Read(ctx, src, "")
		done <- err
	}()
	running := func() bool {
		var n int
		if err := s.db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT %FROM "slow"'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	deadline := time.Now().Add(30 * time.Second)
	for !running() {
		select {
		case err := <-done:
			t.Fatalf("read ended before it was cancelled: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow query never showed in pg_stat_activity")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("read returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("read did not return within 5 s of cancel")
	}
	for deadline = time.Now().Add(5 * time.Second); running(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server still runs the query 5 s after cancel")
		}
	}
}

// A value over limits.value_bytes or a row over limits.row_bytes is rejected with a reason
// naming the limit; the other rows read. (The file sits in a folder whose name a URI would
// misread.)
func TestLimits(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "数据 #1?%20") // characters a file: URI reserves
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "l.sqlite")
	db, err := sql.Open("sqlite", "file:"+strings.NewReplacer("%", "%25", "#", "%23", "?", "%3f").Replace(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (id text, a text, b text); INSERT INTO t VALUES ('ok','short','short'), ('big', printf('%.50c', 'x'), ''), ('wide', printf('%.30c', 'y'), printf('%.30c', 'z'))`); err != nil {
		t.Fatal(err)
	}
	src, err := connectors.Open(connectors.Config{Name: "t", Kind: "sqlite", Key: []string{"id"}, Getenv: env(nil),
		Limits: connectors.Limits{ValueBytes: 40, RowBytes: 64}, Options: map[string]any{"path": path, "table": "t"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := conntest.Read(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 1 || c.Rows[0].Loc != "t:ok" || len(c.Rejects) != 2 {
		t.Fatalf("rows %v, rejects %v", c.Rows, c.Rejects)
	}
	for _, r := range c.Rejects {
		want := map[string]string{"t:big": "column a (50 bytes) exceeds the limit of 40 bytes (raise limits.value_bytes)", "t:wide": "raise limits.row_bytes"}[r.Loc]
		if want == "" || !strings.Contains(r.Reason, want) || len(r.Raw) > 200 {
			t.Errorf("reject %+v, want reason with %q", r, want)
		}
	}
}

// Every source of sample.toml opens; the sqlite one probes a file laid out like the demo's.
func TestSampleConfig(t *testing.T) {
	var cfg struct {
		Source []struct {
			Name    string
			Kind    string
			Key     []string
			Options map[string]any
		}
	}
	if _, err := toml.DecodeFile("sample.toml", &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Source) != 3 {
		t.Fatalf("sample.toml has %d sources", len(cfg.Source))
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "systems"), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "systems", "01_hj.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE person ("公民身份号码" text, "姓名" text, gxsj text)`); err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{"HJ_POSTGRES_DSN": "postgres://reader@127.0.0.1:1/hj", "JY_MYSQL_DSN": "reader:secret@tcp(127.0.0.1:1)/jy"})
	for _, s := range cfg.Source {
		src, err := connectors.Open(connectors.Config{Name: s.Name, Kind: s.Kind, Key: s.Key, BaseDir: dir, Options: s.Options, Getenv: getenv})
		if err != nil {
			t.Errorf("%s: %v", s.Name, err)
			continue
		}
		if s.Kind == "sqlite" {
			if err := src.(connectors.Prober).Probe(context.Background()); err != nil {
				t.Errorf("%s: probe: %v", s.Name, err)
			}
			src.(*Source).Close()
		}
	}
}
