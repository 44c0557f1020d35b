//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"communityhub/pipeline/store"
)

// TestMain lets this test binary run as `hub` itself (HUB_TEST_AS_HUB=1), for the tests that
// signal a running hub.
func TestMain(m *testing.M) {
	if os.Getenv("HUB_TEST_AS_HUB") == "1" {
		os.Args = append([]string{"hub"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// SIGINT stops a sync whose source hangs mid-answer within 5 s: the process exits, nothing of
// the run is kept, and the attempt is in meta.runs.
func TestSIGINTStopsAHangingRead(t *testing.T) {
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"items":[{"id":"1","name":"张三"},`)
		w.(http.Flusher).Flush()
		select {
		case started <- struct{}{}:
		default:
		}
		select { // hang mid-body
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`database = "hub.duckdb"
[[source]]
name = "hang"
kind = "http"
key = ["id"]
[source.options]
url = %q
paging = "offset"
items_path = "items"
columns = ["id", "name"]
timeout = "10m"
[source.mapping]
"name" = "name"
`, srv.URL+"/list")
	path := filepath.Join(dir, "hub.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "sync", "--config", path, "--quiet", "--no-reconcile")
	cmd.Env = append(os.Environ(), "HUB_TEST_AS_HUB=1")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the sync never reached the server:\n%s", out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("an interrupted sync exited 0:\n%s", out.String())
		}
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the sync did not stop within 5 s of SIGINT:\n%s", out.String())
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "hub.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var runs, raw int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM meta.runs WHERE source = 'hang' AND NOT ok AND finished_at IS NOT NULL`).Scan(&runs); err != nil || runs != 1 {
		t.Errorf("meta.runs rows of the interrupted run: %d (%v)\n%s", runs, err, out.String())
	}
	if err := db.SQL().QueryRow(`SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw'`).Scan(&raw); err != nil || raw != 0 {
		t.Errorf("the interrupted run left %d raw tables (%v)", raw, err)
	}
}
