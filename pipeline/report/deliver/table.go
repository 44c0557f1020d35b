package deliver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// Table inserts each package into a department's database table (PostgreSQL or MySQL/MariaDB),
// creating it when missing:
//
//	<table>       (id, report_kind, community, period, department, file_name, body, sha256,
//	               idempotency_key UNIQUE, build_id, delivered_at)
//	<table>_rows  (idempotency_key, line_no, data)   -- made when a package has Rows; data is
//	                                                 -- the row as a JSON object
//
// The package, its rows and its key go in in one transaction: the department sees all of it or
// nothing. A key already in the table is success without inserting again (the receipt says so).
// The caller opens DB (drivers github.com/jackc/pgx/v5/stdlib "pgx" and
// github.com/go-sql-driver/mysql "mysql") and closes it.
type Table struct {
	DB      *sql.DB
	Dialect string // "postgres" or "mysql" (MariaDB too)
	Table   string // name or schema.name: letters, digits and _, not starting with a digit
	// Label is the target's name ("table:" + Dialect + ":" + Table when empty).
	Label string
}

// Name is the target's name in the ledger and the key.
func (t Table) Name() string {
	if t.Label != "" {
		return t.Label
	}
	return "table:" + t.Dialect + ":" + t.Table
}

// Kind is "table".
func (t Table) Kind() string { return "table" }

var tableNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// CheckTableName refuses a table name Table would not accept: one or two parts (schema.table) of
// letters, digits and _, none starting with a digit, at most 58 characters a part (the _rows
// table's name must fit the 63 of PostgreSQL and 64 of MySQL).
func CheckTableName(name string) error {
	if !tableNameRe.MatchString(name) {
		return fmt.Errorf("table %q: want name or schema.name of letters, digits and _", name)
	}
	for _, part := range strings.Split(name, ".") {
		if len(part) > 58 {
			return fmt.Errorf("table %q: %q is longer than 58 characters", name, part)
		}
	}
	return nil
}

// quote is the table name quoted for the dialect, with suffix added to its last part.
func (t Table) quote(suffix string) string {
	q := `"`
	if t.Dialect == "mysql" {
		q = "`"
	}
	parts := strings.Split(t.Table, ".")
	parts[len(parts)-1] += suffix
	for i, p := range parts {
		parts[i] = q + p + q
	}
	return strings.Join(parts, ".")
}

// rowsPerInsert is how many line items one INSERT statement carries.
const rowsPerInsert = 200

// Send inserts the package unless its key is in the table already.
func (t Table) Send(ctx context.Context, p Package, key string) (string, error) {
	if t.DB == nil {
		return "", Permanent(fmt.Errorf("table %s: no database", t.Table))
	}
	if t.Dialect != "postgres" && t.Dialect != "mysql" {
		return "", Permanent(fmt.Errorf("table %s: dialect %q unknown (known: postgres, mysql)", t.Table, t.Dialect))
	}
	if err := CheckTableName(t.Table); err != nil {
		return "", Permanent(err)
	}
	if err := t.create(ctx, len(p.Rows) > 0); err != nil {
		return "", classify(fmt.Errorf("table %s: creating it: %w", t.Table, err))
	}
	rows := make([]string, len(p.Rows))
	for i, r := range p.Rows {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return "", Permanent(fmt.Errorf("table %s: row %d: %w", t.Table, i+1, err))
		}
		rows[i] = strings.TrimSpace(b.String())
	}
	h := sha256.Sum256(p.Body)
	sum := hex.EncodeToString(h[:])

	tx, err := t.DB.BeginTx(ctx, nil)
	if err != nil {
		return "", classify(fmt.Errorf("table %s: %w", t.Table, err))
	}
	id, inserted, err := t.insert(ctx, tx, p, key, sum, rows)
	if err != nil || !inserted {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		if err != nil {
			return "", classify(fmt.Errorf("table %s: %w", t.Table, err))
		}
		var have int64
		if err := t.DB.QueryRowContext(ctx, "SELECT id FROM "+t.quote("")+" WHERE idempotency_key = "+t.param(1), key).Scan(&have); err != nil {
			return "", classify(fmt.Errorf("table %s: reading the delivered row of key %s: %w", t.Table, key, err))
		}
		return fmt.Sprintf("%s id=%d (delivered before)", t.Table, have), nil
	}
	if err := tx.Commit(); err != nil {
		return "", classify(fmt.Errorf("table %s: commit: %w", t.Table, err))
	}
	return fmt.Sprintf("%s id=%d rows=%d", t.Table, id, len(rows)), nil
}

func (t Table) param(i int) string {
	if t.Dialect == "mysql" {
		return "?"
	}
	return fmt.Sprintf("$%d", i)
}

func (t Table) create(ctx context.Context, withRows bool) error {
	var stmts []string
	if t.Dialect == "postgres" {
		stmts = []string{`CREATE TABLE IF NOT EXISTS ` + t.quote("") + ` (
			id BIGSERIAL PRIMARY KEY, report_kind TEXT NOT NULL, community TEXT NOT NULL, period TEXT NOT NULL,
			department TEXT NOT NULL, file_name TEXT NOT NULL, body BYTEA NOT NULL, sha256 CHAR(64) NOT NULL,
			idempotency_key VARCHAR(128) NOT NULL UNIQUE, build_id BIGINT,
			delivered_at TIMESTAMPTZ NOT NULL DEFAULT now())`}
		if withRows {
			stmts = append(stmts, `CREATE TABLE IF NOT EXISTS `+t.quote("_rows")+` (
				idempotency_key VARCHAR(128) NOT NULL, line_no INTEGER NOT NULL, data JSONB NOT NULL,
				PRIMARY KEY (idempotency_key, line_no))`)
		}
	} else {
		stmts = []string{"CREATE TABLE IF NOT EXISTS " + t.quote("") + ` (
			id BIGINT AUTO_INCREMENT PRIMARY KEY, report_kind VARCHAR(64) NOT NULL, community VARCHAR(255) NOT NULL,
			period VARCHAR(32) NOT NULL, department VARCHAR(255) NOT NULL, file_name VARCHAR(1024) NOT NULL,
			body LONGBLOB NOT NULL, sha256 CHAR(64) NOT NULL, idempotency_key VARCHAR(128) NOT NULL UNIQUE,
			build_id BIGINT, delivered_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		) DEFAULT CHARSET = utf8mb4`}
		if withRows {
			stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+t.quote("_rows")+` (
				idempotency_key VARCHAR(128) NOT NULL, line_no INT NOT NULL, data JSON NOT NULL,
				PRIMARY KEY (idempotency_key, line_no)
			) DEFAULT CHARSET = utf8mb4`)
		}
	}
	for _, s := range stmts {
		if _, err := t.DB.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// insert writes the package and its rows on tx. inserted is false when the key was there.
func (t Table) insert(ctx context.Context, tx *sql.Tx, p Package, key, sum string, rows []string) (id int64, inserted bool, err error) {
	cols := "report_kind, community, period, department, file_name, body, sha256, idempotency_key, build_id"
	args := []any{p.Kind, p.Community, p.Period, p.Department, p.FileName, p.Body, sum, key, p.BuildID}
	if t.Dialect == "postgres" {
		err = tx.QueryRowContext(ctx, "INSERT INTO "+t.quote("")+" ("+cols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"+
			" ON CONFLICT (idempotency_key) DO NOTHING RETURNING id", args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
	} else {
		res, err := tx.ExecContext(ctx, "INSERT INTO "+t.quote("")+" ("+cols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", args...)
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1062 { // ER_DUP_ENTRY: the only unique key besides id is the key
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
		if id, err = res.LastInsertId(); err != nil {
			return 0, false, err
		}
	}
	cast := ""
	if t.Dialect == "postgres" {
		cast = "::jsonb"
	}
	for start := 0; start < len(rows); start += rowsPerInsert {
		end := min(start+rowsPerInsert, len(rows))
		var vals []string
		var args []any
		for i := start; i < end; i++ {
			n := len(args)
			vals = append(vals, "("+t.param(n+1)+", "+t.param(n+2)+", "+t.param(n+3)+cast+")")
			args = append(args, key, i+1, rows[i])
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+t.quote("_rows")+" (idempotency_key, line_no, data) VALUES "+strings.Join(vals, ", "), args...); err != nil {
			return 0, false, fmt.Errorf("rows %d–%d: %w", start+1, end, err)
		}
	}
	return id, true, nil
}

// classify marks the database errors retrying cannot fix as permanent: PostgreSQL's SQLSTATE
// classes 22 (data), 28 (authorization) and 42 (syntax, access, undefined table or column), and
// MySQL's equivalents. Connection failures, deadlocks and the like stay transient.
func classify(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && len(pe.Code) >= 2 {
		switch pe.Code[:2] {
		case "22", "28", "42":
			return Permanent(err)
		}
		return err
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1044, 1045, 1049, 1054, 1064, 1142, 1143, 1146, 1264, 1366, 1406, 1292:
			// access denied (db, user, table, column), unknown database, unknown column, syntax,
			// unknown table, out of range, incorrect value, data too long, bad date
			return Permanent(err)
		}
	}
	return err
}
