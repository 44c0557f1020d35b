package jobs

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"communityhub/internal/testsrv"
	"communityhub/pipeline/report/deliver"
)

const deliverySource = `database = "hub.duckdb"
[[source]]
name = "party"
kind = "csv"
[source.options]
path = "party.csv"
`

// loadDelivery writes hub.toml (a source and the given deliveries) and loads it.
func loadDelivery(t *testing.T, deliveries string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.toml")
	if err := os.WriteFile(path, []byte(deliverySource+deliveries), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(path)
}

func TestDeliveryConfig(t *testing.T) {
	var mu sync.Mutex
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	cfg, err := loadDelivery(t, `
[[delivery]]
department = "残联"
kinds = ["r05", " R03 "]
target = "outbox"
[delivery.options]
dir = "outbox"

[[delivery]]
department = "民政"
target = "http"
name = "民政-portal"
[delivery.options]
url_env = "MZ_URL"
token_env = "MZ_TOKEN"
header_env = "MZ_HEADER"
timeout = "5s"

[[delivery]]
department = "民政"
target = "table"
[delivery.options]
driver = "postgres"
dsn_env = "MZ_DSN"
table = "feedback.hub_reports"

[[delivery]]
department = "人社"
target = "outbox"
disabled = true
[delivery.options]
dir = "/elsewhere"
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Deliveries) != 4 {
		t.Fatalf("%d deliveries decoded, want 4", len(cfg.Deliveries))
	}
	env := map[string]string{
		"MZ_URL":    srv.URL + "/inbox?appkey=K-123456",
		"MZ_TOKEN":  "tok-abcdef",
		"MZ_HEADER": "x-api-key: key-987654",
		"MZ_DSN":    "postgres://hub:pw-secret-1@127.0.0.1:1/feedback",
	}
	targets, err := cfg.DeliveryTargets(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tg := range targets {
			if err := tg.Close(); err != nil {
				t.Error(err)
			}
		}
	})
	if len(targets) != 3 {
		t.Fatalf("%d targets, want 3 (the disabled one left out)", len(targets))
	}
	out, web, tab := targets[0], targets[1], targets[2]

	if out.Name() != "残联:outbox" || out.Kind() != "outbox" || strings.Join(out.Kinds, ",") != "R05,R03" {
		t.Errorf("outbox target: name %q kind %q kinds %v", out.Name(), out.Kind(), out.Kinds)
	}
	if ob, ok := out.Target.(deliver.Outbox); !ok || ob.Dir != filepath.Join(cfg.Dir, "outbox") {
		t.Errorf("outbox target %#v: want the folder beside the config", out.Target)
	}
	for _, c := range []struct {
		dept, kind string
		want       bool
	}{{"残联", "R05", true}, {"残联", "R03", true}, {"残联", "R01", false}, {"民政", "R05", false}} {
		if got := out.Accepts(deliver.Package{Department: c.dept, Kind: c.kind}); got != c.want {
			t.Errorf("outbox accepts %s %s: %v, want %v", c.dept, c.kind, got, c.want)
		}
	}
	if !web.Accepts(deliver.Package{Department: "民政", Kind: "R12"}) {
		t.Error("a delivery without kinds refuses a kind of its department")
	}

	if web.Name() != "民政-portal" || web.Kind() != "http" {
		t.Errorf("http target: %q %q", web.Name(), web.Kind())
	}
	if _, err := web.Send(context.Background(), deliver.Package{Kind: "R12", Community: "兴隆社区", Period: "2026-11",
		Department: "民政", FileName: "R12.xlsx", Body: []byte("x")}, "hub-k1"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Get("Authorization") != "Bearer tok-abcdef" || got[0].Get("X-Api-Key") != "key-987654" ||
		got[0].Get("Idempotency-Key") != "hub-k1" {
		t.Errorf("the endpoint got headers %v", got)
	}
	if h, ok := web.Target.(deliver.HTTP); !ok || h.Client == nil || h.Client.Timeout.Seconds() != 5 {
		t.Errorf("http target %#v: want a 5 s timeout", web.Target)
	}
	secrets := strings.Join(web.Secrets(), "|")
	for _, s := range []string{"tok-abcdef", "key-987654", "K-123456"} {
		if !strings.Contains(secrets, s) {
			t.Errorf("the http target's secrets %q miss %s", secrets, s)
		}
	}
	if strings.Contains(web.Name(), "K-123456") {
		t.Errorf("the ledger name shows the URL's key: %s", web.Name())
	}

	if tab.Name() != "民政:table" || tab.Kind() != "table" {
		t.Errorf("table target: %q %q", tab.Name(), tab.Kind())
	}
	if tb, ok := tab.Target.(deliver.Table); !ok || tb.Dialect != "postgres" || tb.Table != "feedback.hub_reports" || tb.DB == nil {
		t.Errorf("table target %#v", tab.Target)
	}
	if !strings.Contains(strings.Join(tab.Secrets(), "|"), "pw-secret-1") {
		t.Errorf("the table target's secrets %v miss the DSN's password", tab.Secrets())
	}

	// A variable named but not set is an error naming it, not an empty token.
	delete(env, "MZ_TOKEN")
	if _, err := cfg.DeliveryTargets(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "MZ_TOKEN") ||
		!strings.Contains(err.Error(), "民政-portal") {
		t.Errorf("unset MZ_TOKEN: %v", err)
	}
	env["MZ_TOKEN"], env["MZ_HEADER"] = "tok-abcdef", "no colon here"
	if _, err := cfg.DeliveryTargets(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "MZ_HEADER") ||
		strings.Contains(err.Error(), "no colon here") {
		t.Errorf("a header_env without a header: %v", err)
	}
	env["MZ_HEADER"], env["MZ_DSN"] = "X-Api-Key: k", "postgres://hub:pw-secret-1@[bad"
	if _, err := cfg.DeliveryTargets(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "MZ_DSN") ||
		strings.Contains(err.Error(), "pw-secret-1") {
		t.Errorf("a bad DSN: %v", err)
	}
}

func TestDeliveryConfigRefusals(t *testing.T) {
	for _, c := range []struct {
		name, block, want, secret string
	}{
		{"inline token", "department = \"民政\"\ntarget = \"http\"\n[delivery.options]\nurl = \"https://x.example/in\"\ntoken = \"tok-inline-1\"\n", "token_env", "tok-inline-1"},
		{"inline dsn", "department = \"民政\"\ntarget = \"table\"\n[delivery.options]\ndriver = \"mysql\"\ndsn = \"hub:pw-inline-2@tcp(db)/x\"\ntable = \"t\"\n", "dsn_env", "pw-inline-2"},
		{"token outside options", "department = \"民政\"\ntarget = \"http\"\ntoken = \"tok-inline-3\"\n[delivery.options]\nurl = \"https://x.example/in\"\n", "token_env", "tok-inline-3"},
		{"key in the url", "department = \"民政\"\ntarget = \"http\"\n[delivery.options]\nurl = \"https://x.example/in?access_token=tok-inline-4\"\n", "url_env", "tok-inline-4"},
		{"password in the url", "department = \"民政\"\ntarget = \"http\"\n[delivery.options]\nurl = \"https://hub:pw-inline-5@x.example/in\"\n", "url_env", "pw-inline-5"},
		{"unknown target", "department = \"民政\"\ntarget = \"ftp\"\n", `target "ftp" unknown (known: http, outbox, table)`, ""},
		{"no department", "target = \"outbox\"\n[delivery.options]\ndir = \"o\"\n", "department: required", ""},
		{"no dir", "department = \"民政\"\ntarget = \"outbox\"\n", "dir: required", ""},
		{"option of another target", "department = \"民政\"\ntarget = \"outbox\"\n[delivery.options]\ndir = \"o\"\ntable = \"t\"\n", "table is not an option of target outbox", ""},
		{"url and url_env", "department = \"民政\"\ntarget = \"http\"\n[delivery.options]\nurl = \"https://x.example/in\"\nurl_env = \"U\"\n", "url and url_env: give one of them, not both", ""},
		{"no url", "department = \"民政\"\ntarget = \"http\"\n[delivery.options]\ntoken_env = \"T\"\n", "url or url_env: required", ""},
		{"not http", "department = \"民政\"\ntarget = \"http\"\n[delivery.options]\nurl = \"ftp://x.example/in\"\n", "url: not an http(s) URL", ""},
		{"bad timeout", "department = \"民政\"\ntarget = \"http\"\n[delivery.options]\nurl = \"https://x.example/in\"\ntimeout = \"soon\"\n", `timeout "soon"`, ""},
		{"unknown driver", "department = \"民政\"\ntarget = \"table\"\n[delivery.options]\ndriver = \"oracle\"\ndsn_env = \"D\"\ntable = \"t\"\n", `driver "oracle" unknown`, ""},
		{"no dsn_env", "department = \"民政\"\ntarget = \"table\"\n[delivery.options]\ndriver = \"mysql\"\ntable = \"t\"\n", "dsn_env: required", ""},
		{"bad table", "department = \"民政\"\ntarget = \"table\"\n[delivery.options]\ndriver = \"mysql\"\ndsn_env = \"D\"\ntable = \"t; drop\"\n", `table "t; drop"`, ""},
		{"bad kind", "department = \"民政\"\ntarget = \"outbox\"\nkinds = [\"R 1\"]\n[delivery.options]\ndir = \"o\"\n", `kinds: "R 1" is not a report code`, ""},
		{"kinds not a list", "department = \"民政\"\ntarget = \"outbox\"\nkinds = \"R01\"\n[delivery.options]\ndir = \"o\"\n", "kinds: want a list", ""},
		{"unknown setting", "department = \"民政\"\ntarget = \"outbox\"\nfolder = \"o\"\n", "unknown setting folder", ""},
		{"unknown option", "department = \"民政\"\ntarget = \"outbox\"\n[delivery.options]\ndir = \"o\"\nmode = \"0600\"\n", "mode is not an option of target outbox", ""},
	} {
		_, err := loadDelivery(t, "[[delivery]]\n"+c.block)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Load error %v, want one saying %s", c.name, err, c.want)
			continue
		}
		t.Logf("%s: %v", c.name, err)
		if !strings.Contains(err.Error(), "hub.toml") {
			t.Errorf("%s: the error does not name the file: %v", c.name, err)
		}
		if c.secret != "" && strings.Contains(err.Error(), c.secret) {
			t.Errorf("%s: the error repeats the secret: %v", c.name, err)
		}
	}
	_, err := loadDelivery(t, `
[[delivery]]
department = "民政"
target = "outbox"
[delivery.options]
dir = "a"
[[delivery]]
department = "民政"
target = "outbox"
[delivery.options]
dir = "b"
`)
	if err == nil || !strings.Contains(err.Error(), `delivery #2`) || !strings.Contains(err.Error(), `name "民政:outbox" used twice`) {
		t.Errorf("two deliveries of one name: %v", err)
	}
}

// TestDeliveryTableTargets makes table targets from the config against the real servers and
// delivers through them: the driver, the DSN from the environment and the table all work.
func TestDeliveryTableTargets(t *testing.T) {
	for _, driver := range []string{"postgres", "mysql"} {
		t.Run(driver, func(t *testing.T) {
			var dsn string
			if driver == "postgres" {
				dsn = testsrv.Postgres(t)
			} else {
				dsn = testsrv.MySQL(t)
			}
			cfg, err := loadDelivery(t, `
[[delivery]]
department = "民政"
target = "table"
[delivery.options]
driver = "`+driver+`"
dsn_env = "FEEDBACK_DSN"
table = "hub_reports"
`)
			if err != nil {
				t.Fatal(err)
			}
			targets, err := cfg.DeliveryTargets(func(k string) string {
				if k == "FEEDBACK_DSN" {
					return dsn
				}
				return ""
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(targets) != 1 {
				t.Fatalf("%d targets", len(targets))
			}
			defer targets[0].Close()
			p := deliver.Package{BuildID: 7, Kind: "R12", Community: "兴隆社区", Period: "2026-11", Department: "民政",
				FileName: "R12.xlsx", Body: []byte("workbook"), Rows: []deliver.Row{{"name": "张三"}}}
			for i := 0; i < 2; i++ { // the second time the key is there: nothing more
				if _, err := targets[0].Send(context.Background(), p, "hub-key-1"); err != nil {
					t.Fatal(err)
				}
			}
			check, err := sql.Open(map[string]string{"postgres": "pgx", "mysql": "mysql"}[driver], dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer check.Close()
			var n, rows int
			if err := check.QueryRow(`SELECT count(*) FROM hub_reports WHERE community = '兴隆社区'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if err := check.QueryRow(`SELECT count(*) FROM hub_reports_rows`).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if n != 1 || rows != 1 {
				t.Errorf("%s: %d packages and %d rows after two sends of one key, want 1 and 1", driver, n, rows)
			}
		})
	}
}
