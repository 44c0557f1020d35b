//go:build duckdb_arrow

// Package ingestbench measures ingestion speed on one generated file: DuckDB's own read_csv
// against the hub's csv connector landing the same file, and the hub landing the same rows
// from PostgreSQL and MariaDB. It backs `hub bench ingest`; nothing else imports it.
package ingestbench

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"communityhub/connectors"
	_ "communityhub/connectors/csvsrc"
	_ "communityhub/connectors/sqlsrc"
	"communityhub/pipeline/land"
	"communityhub/pipeline/store"
)

// Columns of the generated file: a resident register of realistic width.
var Columns = []string{"id", "身份证号", "姓名", "性别", "出生日期", "手机号", "住址", "社区", "登记日期", "备注"}

// Result is one measurement.
type Result struct {
	Name    string
	Rows    int64
	Seconds float64
}

// RowsPerSec is Rows over Seconds.
func (r Result) RowsPerSec() float64 { return float64(r.Rows) / r.Seconds }

// GenerateCSV writes rows lines of UTF-8 CSV with a header.
func GenerateCSV(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	w.Write(Columns)
	r := rand.New(rand.NewPCG(1, 1))
	sur := []string{"王", "李", "张", "刘", "陈", "杨", "欧阳"}
	giv := []string{"伟", "娜", "敏", "静", "秀英", "建国", "子轩", "梓涵"}
	rec := make([]string, len(Columns))
	for i := 0; i < rows; i++ {
		rec[0] = fmt.Sprint(i + 1)
		rec[1] = fmt.Sprintf("3201051%03d%02d%02d%03d%d", 940+r.IntN(80), 1+r.IntN(12), 1+r.IntN(28), r.IntN(1000), r.IntN(10))
		rec[2] = sur[r.IntN(len(sur))] + giv[r.IntN(len(giv))]
		rec[3] = []string{"男", "女"}[r.IntN(2)]
		rec[4] = fmt.Sprintf("19%02d-%02d-%02d", 40+r.IntN(60), 1+r.IntN(12), 1+r.IntN(28))
		rec[5] = fmt.Sprintf("13%09d", r.IntN(1000000000))
		rec[6] = fmt.Sprintf("建邺区兴隆街道梦都大街%d号%d栋%d单元%d室", 1+r.IntN(120), 1+r.IntN(24), 1+r.IntN(4), 101+r.IntN(1800))
		rec[7] = []string{"梦都社区", "奥体社区", "贤坤社区", "奥南社区"}[r.IntN(4)]
		rec[8] = fmt.Sprintf("2026-%02d-%02d 10:%02d:00", 1+r.IntN(11), 1+r.IntN(28), r.IntN(60))
		rec[9] = ""
		if r.IntN(5) == 0 {
			rec[9] = "独居老人;低保"
		}
		w.Write(rec)
	}
	w.Flush()
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// DuckDBReadCSV times DuckDB's own reader loading the file into a table (all columns as text,
// as the hub lands them).
func DuckDBReadCSV(ctx context.Context, dbPath, csvPath string) (Result, error) {
	db, err := sql.Open("duckdb", dbPath)
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	start := time.Now()
	var n int64
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TABLE bench_read_csv AS SELECT * FROM read_csv('%s', header = true, all_varchar = true)`, strings.ReplaceAll(csvPath, "'", "''"))); err != nil {
		return Result{}, err
	}
	secs := time.Since(start).Seconds()
	db.QueryRowContext(ctx, "SELECT count(*) FROM bench_read_csv").Scan(&n)
	return Result{"duckdb read_csv", n, secs}, nil
}

// Land times the hub landing a source (read, check, hash, Arrow into DuckDB, merge).
func Land(ctx context.Context, db *store.DB, name string, src connectors.Source) (Result, error) {
	id, err := db.BeginSync(ctx, "bench")
	if err != nil {
		return Result{}, err
	}
	st, err := land.Land(ctx, db, id, land.Spec{Source: name, Kind: name}, src, nil)
	if err != nil {
		return Result{}, err
	}
	return Result{name, st.Read, st.Seconds}, nil
}

// CSVSource is the hub's csv connector over the file.
func CSVSource(csvPath string) (connectors.Source, error) {
	return connectors.Open(connectors.Config{Name: "bench_csv", Kind: "csv", BaseDir: filepath.Dir(csvPath), Getenv: os.Getenv,
		Options: map[string]any{"glob": filepath.Base(csvPath), "encoding": "utf-8"}})
}

// SQLSource is the hub's postgres or mysql connector over the loaded table.
func SQLSource(kind, dsn string) (connectors.Source, error) {
	return connectors.Open(connectors.Config{Name: "bench_" + kind, Kind: kind, Getenv: func(string) string { return dsn },
		Options: map[string]any{"dsn_env": "DSN", "table": "bench_register"}})
}

func ddl(quote func(string) string, varchar string) string {
	var cs []string
	for _, c := range Columns {
		cs = append(cs, quote(c)+" "+varchar)
	}
	return "CREATE TABLE bench_register (" + strings.Join(cs, ", ") + ")"
}

// LoadPostgres copies the file into bench_register with COPY.
func LoadPostgres(ctx context.Context, dsn, csvPath string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	conn.Exec(ctx, "DROP TABLE IF EXISTS bench_register")
	if _, err := conn.Exec(ctx, ddl(func(s string) string { return `"` + s + `"` }, "TEXT")); err != nil {
		return err
	}
	f, err := os.Open(csvPath)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = conn.PgConn().CopyFrom(ctx, f, "COPY bench_register FROM STDIN WITH (FORMAT csv, HEADER true)")
	return err
}

// LoadMySQL loads the file into bench_register with LOAD DATA LOCAL INFILE.
func LoadMySQL(ctx context.Context, dsn, csvPath string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	db.ExecContext(ctx, "DROP TABLE IF EXISTS bench_register")
	if _, err := db.ExecContext(ctx, ddl(func(s string) string { return "`" + s + "`" }, "VARCHAR(255)")+" DEFAULT CHARSET=utf8mb4"); err != nil {
		return err
	}
	mysql.RegisterReaderHandler("bench", func() io.Reader { f, _ := os.Open(csvPath); return f })
	defer mysql.DeregisterReaderHandler("bench")
	_, err = db.ExecContext(ctx, `LOAD DATA LOCAL INFILE 'Reader::bench' INTO TABLE bench_register CHARACTER SET utf8mb4
		FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' LINES TERMINATED BY '\n' IGNORE 1 LINES`)
	return err
}
