package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// columns lists every column of the hub's schemas, "schema.table.column type", sorted.
func columns(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT table_schema || '.' || table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns
		WHERE table_schema IN ('meta', 'std', 'resolve', 'golden') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n")
}

// A database made at every older version (with a row in it) upgrades to the same schema as a
// new one, keeps its rows, and records each version.
func TestMigrateFromEveryOlderVersion(t *testing.T) {
	ctx := context.Background()
	fresh := open(t, filepath.Join(t.TempDir(), "fresh.duckdb"))
	want := columns(t, fresh.SQL())
	fresh.Close()
	for v := 0; v < Latest(); v++ {
		t.Run(fmt.Sprintf("from_v%d", v), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hub.duckdb")
			sdb, err := sql.Open("duckdb", path)
			if err != nil {
				t.Fatal(err)
			}
			d := &DB{db: sdb, Path: path}
			if err := d.migrate(ctx, v); err != nil {
				t.Fatal(err)
			}
			if got, _ := d.Version(ctx); got != v {
				t.Fatalf("built version %d, have %d", v, got)
			}
			if v >= 1 {
				// What an older hub left: a sync, and (before version 2) the Arrow view an old
				// landing kept.
				if _, err := sdb.Exec(`INSERT INTO meta.syncs (sync_id, started_at) VALUES (41, now())`); err != nil {
					t.Fatal(err)
				}
			}
			if v == 1 {
				if _, err := sdb.Exec(`CREATE VIEW main.hub_stage_view_3 AS SELECT 1 AS x`); err != nil {
					t.Fatal(err)
				}
			}
			sdb.Close()
			db := open(t, path)
			defer db.Close()
			if got, _ := db.Version(ctx); got != Latest() {
				t.Errorf("version %d after Open, want %d", got, Latest())
			}
			if got := columns(t, db.SQL()); got != want {
				t.Errorf("schema after migrating from %d differs from a new database:\n%s\nwant\n%s", v, got, want)
			}
			var n int
			if err := db.SQL().QueryRow(`SELECT count(*) FROM duckdb_views() WHERE view_name LIKE 'hub_stage_view%'`).Scan(&n); err != nil || n != 0 {
				t.Errorf("stage views left: %d %v", n, err)
			}
			if v >= 1 {
				if err := db.SQL().QueryRow(`SELECT count(*) FROM meta.syncs WHERE sync_id = 41`).Scan(&n); err != nil || n != 1 {
					t.Errorf("the old sync row: %d %v", n, err)
				}
			}
			var versions int
			if err := db.SQL().QueryRow(`SELECT count(DISTINCT version) FROM meta.schema_version`).Scan(&versions); err != nil || versions != Latest() {
				t.Errorf("recorded versions %d, want %d (%v)", versions, Latest(), err)
			}
		})
	}
}

func TestNewerDatabaseRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.duckdb")
	db := open(t, path)
	if _, err := db.SQL().Exec(`INSERT INTO meta.schema_version VALUES (?, now())`, Latest()+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(context.Background(), path, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("a newer database opened: %v", err)
	}
}

// A failing transaction leaves nothing; a committed one everything.
func TestTxAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "hub.duckdb"))
	defer db.Close()
	boom := errors.New("boom")
	err := db.Tx(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, `INSERT INTO meta.syncs (sync_id, started_at) VALUES (1, now())`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx returned %v", err)
	}
	var n int
	db.SQL().QueryRow(`SELECT count(*) FROM meta.syncs`).Scan(&n)
	if n != 0 {
		t.Errorf("a rolled-back transaction left %d rows", n)
	}
	id, err := db.BeginSync(ctx, "x")
	if err != nil || id != 1 {
		t.Fatalf("BeginSync: %d %v", id, err)
	}
	// A failure is recorded even when the run's context is cancelled.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.RecordFailure(cctx, Run{SyncID: id, Source: "s", Kind: "csv", Error: "it broke"}); err != nil {
		t.Fatal(err)
	}
	var msg string
	var fin sql.NullTime
	if err := db.SQL().QueryRow(`SELECT error, finished_at FROM meta.runs WHERE source = 's' AND NOT ok`).Scan(&msg, &fin); err != nil || msg != "it broke" || !fin.Valid {
		t.Errorf("failed run row: %q %v %v", msg, fin, err)
	}
}
