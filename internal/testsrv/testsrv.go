// Package testsrv gives tests a fresh, private database on the real PostgreSQL and MySQL/MariaDB
// servers named by HUB_TEST_POSTGRES and HUB_TEST_MYSQL. Without them a test skips and says why;
// with HUB_REQUIRE_SERVERS=1 (set by .ci/run) a missing or unreachable server fails the test.
// Each database is created for one test and dropped when it ends, so packages can run in parallel.
package testsrv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
)

func require(t testing.TB, env string) string {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn == "" {
		if os.Getenv("HUB_REQUIRE_SERVERS") != "" {
			t.Fatalf("%s is not set but HUB_REQUIRE_SERVERS is: the server must be reachable", env)
		}
		t.Skipf("%s is not set: this test needs a real server (see .ci/run)", env)
	}
	return dsn
}

func name() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "hubtest_" + hex.EncodeToString(b)
}

func ping(t testing.TB, db *sql.DB, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		if os.Getenv("HUB_REQUIRE_SERVERS") == "" {
			t.Skipf("%s unreachable: %v", what, err)
		}
		t.Fatalf("%s unreachable: %v", what, err)
	}
}

// Postgres returns the DSN of a new, empty PostgreSQL database.
func Postgres(t testing.TB) string {
	t.Helper()
	base := require(t, "HUB_TEST_POSTGRES")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ping(t, admin, "PostgreSQL")
	db := name()
	if _, err := admin.Exec("CREATE DATABASE " + db + " ENCODING 'UTF8'"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		t.Fatalf("HUB_TEST_POSTGRES must be a postgres:// URL, got %q", base)
	}
	u.Path = "/" + db
	return u.String()
}

// MySQL returns the DSN of a new, empty MySQL/MariaDB database (utf8mb4 connection).
func MySQL(t testing.TB) string {
	t.Helper()
	base := require(t, "HUB_TEST_MYSQL")
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("HUB_TEST_MYSQL: %v", err)
	}
	admin, err := sql.Open("mysql", base)
	if err != nil {
		t.Fatal(err)
	}
	ping(t, admin, "MySQL")
	db := name()
	if _, err := admin.Exec("CREATE DATABASE " + db + " CHARACTER SET utf8mb4"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE IF EXISTS " + db)
		admin.Close()
	})
	cfg.DBName = db
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	if !strings.Contains(base, "charset=") {
		cfg.Params["charset"] = "utf8mb4"
	}
	cfg.ParseTime = true
	return cfg.FormatDSN()
}
