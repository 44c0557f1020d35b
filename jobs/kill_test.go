//go:build duckdb_arrow

package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"communityhub/internal/deptsim"
	"communityhub/internal/deptsim/apisim"
	"communityhub/pipeline/store"
)

// TestMain lets this test binary double as the process that TestSyncSurvivesSIGKILL kills, and as
// the child processes of TestReconcileSurvivesSIGKILL and TestNoArrowViewsLeftForAnalysts.
func TestMain(m *testing.M) {
	if dir := os.Getenv("HUB_KILL_CHILD_DIR"); dir != "" {
		os.Exit(killChild(dir))
	}
	// The other child processes of the tests (reconcile_kill_test.go): a reconcile to kill, a
	// second process reading the database.
	if mode := os.Getenv("HUB_TEST_CHILD"); mode != "" {
		os.Exit(testChild(mode, os.Getenv("HUB_TEST_CHILD_ARG")))
	}
	os.Exit(m.Run())
}

// killChild syncs the district in dir again and again until it is killed.
func killChild(dir string) int {
	ctx := context.Background()
	m, err := deptsim.ReadManifest(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	servers, err := deptsim.ServeAPIs(ctx, dir, nil, apisim.Faults{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	env := map[string]string{}
	for name, s := range servers {
		u, tok := deptsim.APIEnv(name)
		env[u], env[tok] = s.URL(), m.Tokens[name]
	}
	cfg, err := Load(filepath.Join(dir, deptsim.ConfigFile))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	db, err := store.Open(ctx, cfg.DatabasePath(), store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("ready")
	for {
		if _, err := Sync(ctx, cfg, db, SyncOptions{Getenv: func(k string) string { return env[k] }}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
}

// SIGKILL at random moments of a sync always leaves a database that opens, with every source
// wholly at its previous state or wholly at its new one.
func TestSyncSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	if _, err := deptsim.Write(context.Background(), deptsim.Options{Dir: dir, Residents: 3000, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	hjPath := filepath.Join(dir, "systems/01_hj.sqlite")
	for round := 0; round < 12; round++ {
		// Give the cursor sources something new each round.
		sdb, _ := sql.Open("sqlite", hjPath)
		if _, err := sdb.Exec(`UPDATE person SET "居住地址" = ? , gxsj = ? WHERE rowid % 50 = ?`,
			fmt.Sprintf("第%d轮地址", round), fmt.Sprintf("2026-11-20 %02d:00:00", round+1), round); err != nil {
			t.Fatal(err)
		}
		sdb.Close()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "HUB_KILL_CHILD_DIR="+dir)
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 6)
		out.Read(buf) // "ready": the child has opened the database
		time.Sleep(time.Duration(r.IntN(1500)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		checkConsistent(t, filepath.Join(dir, "hub.duckdb"), round)
	}
}

// checkConsistent opens the database and checks that every source's committed state agrees
// with its raw rows: the current row count and the rows its last run landed.
func checkConsistent(t *testing.T, path string, round int) {
	t.Helper()
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatalf("round %d: the database does not open after SIGKILL: %v", round, err)
	}
	defer db.Close()
	rows, err := db.SQL().Query(`SELECT s.source, s.rows_current, s.last_sync, r.rows_landed, s.cursor
		FROM meta.source_state s JOIN meta.runs r ON r.source = s.source AND r.sync_id = s.last_sync AND r.ok`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var src, cursor string
		var current, lastSync, landed int64
		var cur sql.NullString
		if err := rows.Scan(&src, &current, &lastSync, &landed, &cur); err != nil {
			t.Fatal(err)
		}
		cursor = cur.String
		n++
		var haveCurrent, haveLanded int64
		db.SQL().QueryRow(fmt.Sprintf(`SELECT count(*) FILTER (WHERE _current), count(*) FILTER (WHERE _run = ?) FROM raw."%s"`, src), lastSync).Scan(&haveCurrent, &haveLanded)
		if haveCurrent != current || haveLanded != landed {
			t.Errorf("round %d: %s: state says %d current / %d landed in sync %d, raw table has %d / %d", round, src, current, landed, lastSync, haveCurrent, haveLanded)
		}
		if src == "hj_person" {
			var ahead int64
			db.SQL().QueryRow(`SELECT count(*) FROM raw."hj_person" WHERE _current AND gxsj > ?`, cursor).Scan(&ahead)
			if ahead > 0 {
				t.Errorf("round %d: hj_person has %d rows beyond its committed cursor %s", round, ahead, cursor)
			}
		}
	}
	var orphan int64
	db.SQL().QueryRow(`SELECT count(*) FROM meta.runs r WHERE r.ok AND NOT EXISTS (SELECT 1 FROM meta.source_state s WHERE s.source = r.source)`).Scan(&orphan)
	if orphan > 0 {
		t.Errorf("round %d: %d successful runs without a committed state", round, orphan)
	}
	t.Logf("round %d: %d sources consistent", round, n)
}
