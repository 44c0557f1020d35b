package deptsim

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"communityhub/internal/deptsim/apisim"
	"communityhub/internal/testsrv"
)

// In server mode systems 1 and 7 land in PostgreSQL and 3 and 6 in MariaDB with gbk tables,
// every row the truth lists is there, and Chinese text survives the gbk round trip.
func TestSQLSystemsOnRealServers(t *testing.T) {
	pg, my := testsrv.Postgres(t), testsrv.MySQL(t)
	dir := t.TempDir()
	res, err := Write(context.Background(), Options{Dir: dir, Residents: 3000, Seed: 11, PostgresDSN: pg, MySQLDSN: my})
	if err != nil {
		t.Fatal(err)
	}
	pdb, _ := sql.Open("pgx", pg)
	mdb, _ := sql.Open("mysql", my)
	defer pdb.Close()
	defer mdb.Close()
	for _, s := range res.Manifest.Systems {
		var db *sql.DB
		switch s.Access {
		case "postgres":
			db = pdb
		case "mysql":
			db = mdb
		case "sqlite":
			t.Errorf("%s: still in SQLite with servers given", s.Name)
			continue
		default:
			continue
		}
		total := 0
		for _, table := range s.Tables {
			var n int
			q := "SELECT count(*) FROM " + table
			if err := db.QueryRow(q).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			total += n
			if s.Access == "mysql" {
				var coll string
				if err := db.QueryRow("SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", table).Scan(&coll); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(coll, "gbk") {
					t.Errorf("%s: collation %s, want gbk", table, coll)
				}
			}
		}
		if total != s.Rows || total == 0 {
			t.Errorf("%s: %d rows on the server, manifest %d", s.Name, total, s.Rows)
		}
	}
	// Names written by the truth come back unchanged from the gbk tables.
	truth := readTruthRecords(t, dir, "employment")
	persons := readCSVFile(t, dir+"/truth/persons.csv")
	nameOf := map[string]string{}
	for _, p := range persons[1:] {
		nameOf[p[0]] = p[1]
	}
	same := 0
	for _, tr := range truth {
		// The location is the config's key: 身份证号码,姓名,登记日期 as the server gives them.
		key := strings.SplitN(strings.TrimPrefix(tr.Locator, "jy_register:"), ",", 3)
		if len(key) != 3 {
			t.Fatalf("employment locator %q is not jy_register:身份证号码,姓名,登记日期", tr.Locator)
		}
		rows, err := mdb.Query("SELECT `姓名` FROM jy_register WHERE `身份证号码` = ? AND CAST(`登记日期` AS CHAR) = ?", key[0], key[2])
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			found = found || name == key[1] // byte for byte, not by the gbk collation
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if !found {
			t.Errorf("employment %s: no row with that name on the server", tr.Locator)
		}
		if key[1] == nameOf[tr.Persons["resident"]] {
			same++
		}
	}
	if same < len(truth)*9/10 {
		t.Errorf("only %d of %d names read back from MariaDB equal the true name", same, len(truth))
	}
	var hjDead int
	if err := pdb.QueryRow(`SELECT count(*) FROM hj.person WHERE "人员状态" = '1'`).Scan(&hjDead); err != nil || hjDead == 0 {
		t.Errorf("hj.person dead count %d, %v", hjDead, err)
	}
}

// The three APIs serve the written items with auth, paging and injected faults.
func TestServeAPIs(t *testing.T) {
	dir, res := defaultDistrict(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	servers, err := ServeAPIs(ctx, dir, nil, apisim.Faults{Rate429: 0.2, Rate5xx: 0.1, RetryAfter: time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, s := range res.Manifest.Systems {
		if s.Access == "http" {
			want[s.Name] = s.Rows
		}
	}
	paths := map[string]func(page int, cursor string) string{
		"floating":   func(p int, _ string) string { return fmt.Sprintf("/api/v1/residents?page=%d&size=500", p) },
		"elderly":    func(p int, _ string) string { return fmt.Sprintf("/openapi/elders?offset=%d&limit=500", (p-1)*500) },
		"volunteers": func(_ int, c string) string { return "/v2/volunteers?limit=500&cursor=" + c },
	}
	for name, srv := range servers {
		get := func(path string, auth bool) (*http.Response, error) {
			req, _ := http.NewRequest("GET", srv.URL()+path, nil)
			if auth {
				if name == "elderly" {
					req.Header.Set("X-Api-Key", res.Manifest.Tokens[name])
				} else {
					req.Header.Set("Authorization", "Bearer "+res.Manifest.Tokens[name])
				}
			}
			return http.DefaultClient.Do(req)
		}
		resp, err := get(paths[name](1, ""), false)
		if err != nil || resp.StatusCode != 401 {
			t.Errorf("%s without a token: %v %v", name, resp.Status, err)
		}
		resp.Body.Close()
		got, faults, cursor := 0, 0, ""
		for page := 1; page < 1000; {
			resp, err := get(paths[name](page, cursor), true)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode == 429 || resp.StatusCode >= 500 {
				if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
					t.Errorf("%s: 429 without Retry-After", name)
				}
				faults++
				resp.Body.Close()
				continue
			}
			var n int
			var next *string
			switch name {
			case "floating":
				var b struct{ Items []json.RawMessage }
				json.NewDecoder(resp.Body).Decode(&b)
				n = len(b.Items)
			case "elderly":
				var b []json.RawMessage
				json.NewDecoder(resp.Body).Decode(&b)
				n = len(b)
			default:
				var b struct {
					Data       []json.RawMessage
					NextCursor *string
				}
				json.NewDecoder(resp.Body).Decode(&b)
				n, next = len(b.Data), b.NextCursor
			}
			resp.Body.Close()
			got += n
			page++
			if name == "volunteers" {
				if next == nil {
					break
				}
				cursor = *next
			} else if n == 0 {
				break
			}
		}
		if got != want[name] {
			t.Errorf("%s: paged %d items, district has %d", name, got, want[name])
		}
		if faults == 0 {
			t.Errorf("%s: no injected fault seen", name)
		}
	}
}

// The veterans ledger and the community ledgers have the department layout: a merged title,
// group headers merged across their columns, single headers merged down, 合计 and notes.
func TestLedgerLayout(t *testing.T) {
	dir, _ := defaultDistrict(t)
	f, err := excelize.OpenFile(dir + "/systems/09_veterans/退役军人信息采集表.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	merges, _ := f.GetMergeCells("退役军人")
	got := map[string]string{}
	for _, m := range merges {
		got[m.GetStartAxis()+":"+m.GetEndAxis()] = m.GetCellValue()
	}
	for rng, val := range map[string]string{"A1:J1": "兴隆街道退役军人信息采集表", "A2:A3": "序号", "B2:E2": "基本信息", "F2:H2": "服役信息", "I2:I3": "优抚类别", "J2:J3": "联系方式"} {
		if got[rng] != val {
			t.Errorf("merge %s = %q, want %q (all: %v)", rng, got[rng], val, got)
		}
	}
	rows, _ := f.GetRows("退役军人")
	var total, note bool
	for _, r := range rows {
		if len(r) > 0 && r[0] == "合计" {
			total = true
		}
		if len(r) > 0 && strings.HasPrefix(r[0], "注：") {
			note = true
		}
	}
	if !total || !note {
		t.Errorf("veterans ledger: 合计 row %v, note row %v", total, note)
	}
}
