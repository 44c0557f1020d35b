package deliver

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"communityhub/internal/testsrv"
)

func TestTablePostgres(t *testing.T) {
	db, err := sql.Open("pgx", testsrv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	testTable(t, db, "postgres")
}

func TestTableMySQL(t *testing.T) {
	db, err := sql.Open("mysql", testsrv.MySQL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	testTable(t, db, "mysql")
}

func testTable(t *testing.T, db *sql.DB, dialect string) {
	ctx := context.Background()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	tgt := Table{DB: db, Dialect: dialect, Table: "hub_reports_" + hex.EncodeToString(b), Label: "民政:table"}
	t.Cleanup(func() {
		for _, q := range []string{tgt.quote("_rows"), tgt.quote("")} {
			if _, err := db.Exec("DROP TABLE IF EXISTS " + q); err != nil {
				t.Errorf("drop %s: %v", q, err)
			}
		}
	})
	f := newFixture(t)
	conflicts := []Row{
		{"name": "张三", "id_no": "3201**********1234", "conflict": "死亡 per 户籍, yet 低保 在保"},
		{"name": "李四", "id_no": "3201**********5678", "conflict": "sex disagrees with the ID"},
		{"name": "王五<&>", "id_no": "", "conflict": "duplicate in the department's own system"},
	}
	body := "PK\x03\x04 binary workbook \x00\xff"
	p := f.build("R12", "兴隆社区", "2026-11", "民政", body, conflicts...)
	plain := f.build("R04", "兴隆社区", "2026-11", "民政", "R04 workbook") // no rows
	var s sleeper
	sum, err := Push(ctx, f.db, []Package{p, plain}, []Target{tgt}, Options{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Sent) != 2 || len(sum.Failed) != 0 {
		t.Fatalf("push: %+v", sum)
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	check := func() {
		t.Helper()
		if n := count("SELECT count(*) FROM " + tgt.quote("")); n != 2 {
			t.Errorf("%s holds %d packages, want 2", tgt.Table, n)
		}
		if n := count("SELECT count(*) FROM " + tgt.quote("_rows")); n != len(conflicts) {
			t.Errorf("%s_rows holds %d rows, want %d", tgt.Table, n, len(conflicts))
		}
	}
	check()
	key := Key("R12", "兴隆社区", "2026-11", tgt.Name())
	var (
		kind, community, period, dept, file, sum256 string
		got                                         []byte
	)
	if err := db.QueryRow("SELECT report_kind, community, period, department, file_name, body, sha256 FROM "+tgt.quote("")+
		" WHERE idempotency_key = "+tgt.param(1), key).Scan(&kind, &community, &period, &dept, &file, &got, &sum256); err != nil {
		t.Fatal(err)
	}
	if kind != "R12" || community != "兴隆社区" || period != "2026-11" || dept != "民政" || file != p.FileName || string(got) != body {
		t.Errorf("stored %s %s %s %s %s %q", kind, community, period, dept, file, got)
	}
	var want string
	if err := f.db.SQL().QueryRow("SELECT sha256 FROM report.builds WHERE build_id = ?", p.BuildID).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if sum256 != want {
		t.Errorf("sha256 %s, the build's is %s", sum256, want)
	}
	rows, err := db.Query("SELECT line_no, data FROM "+tgt.quote("_rows")+" WHERE idempotency_key = "+tgt.param(1)+" ORDER BY line_no", key)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for rows.Next() {
		var n int
		var data string
		if err := rows.Scan(&n, &data); err != nil {
			t.Fatal(err)
		}
		var r Row
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			t.Fatalf("row %d: %q: %v", n, data, err)
		}
		if i >= len(conflicts) || n != i+1 || !sameRow(r, conflicts[i]) {
			t.Errorf("row %d: %v", n, r)
		}
		i++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()

	// Again: nothing is inserted, nothing attempted.
	sum, err = Push(ctx, f.db, []Package{p, plain}, []Target{tgt}, Options{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.AlreadySent) != 2 || len(sum.Sent) != 0 {
		t.Errorf("second push: %+v", sum)
	}
	check()
	// The target itself: the same key again (a ledger lost) inserts nothing and succeeds.
	receipt, err := tgt.Send(ctx, p, key)
	if err != nil || !strings.Contains(receipt, "delivered before") {
		t.Errorf("repeated key: %q, %v", receipt, err)
	}
	check()

	for _, r := range f.ledger() {
		if r.Status != "sent" || r.Attempts != 1 || r.TargetKind != "table" || !strings.Contains(r.Receipt.String, tgt.Table+" id=") {
			t.Errorf("ledger row %+v", r)
		}
	}

	// Configuration that retrying cannot fix is permanent.
	for _, bad := range []Table{
		{DB: db, Dialect: "oracle", Table: "t"},
		{DB: db, Dialect: dialect, Table: "x; DROP TABLE y"},
		{Dialect: dialect, Table: "t"},
	} {
		if _, err := bad.Send(ctx, p, key); err == nil || !IsPermanent(err) {
			t.Errorf("%+v: %v, want a permanent error", bad, err)
		}
	}
	// A table of the department's own, of another shape: the insert fails, permanently.
	other := Table{DB: db, Dialect: dialect, Table: tgt.Table + "_own"}
	if _, err := db.Exec("CREATE TABLE " + other.quote("") + " (id INT PRIMARY KEY, idempotency_key VARCHAR(128))"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP TABLE IF EXISTS " + other.quote("")); err != nil {
			t.Error(err)
		}
	})
	if _, err := other.Send(ctx, plain, key); err == nil || !IsPermanent(err) {
		t.Errorf("a table of another shape: %v, want a permanent error", err)
	}
}

func sameRow(a, b Row) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
