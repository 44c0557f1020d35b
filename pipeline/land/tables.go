package land

import (
	"context"
	"database/sql"
	"database/sql/driver"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Replace empties the given tables and refills them through fill, all in one transaction on
// one connection: readers see the old contents or the new, never a mix. Later stages
// (resolve, golden) write their derived tables this way.
func Replace(ctx context.Context, db *sql.DB, tables []string, fill func(conn *sql.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := replace(ctx, conn, tables, fill); err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

func replace(ctx context.Context, conn *sql.Conn, tables []string, fill func(conn *sql.Conn) error) error {
	for _, t := range tables {
		if _, err := conn.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return err
		}
	}
	return fill(conn)
}

// Append writes n rows to schema.table through DuckDB's appender on conn (within its
// transaction). row(i) gives the i-th row's values in column order.
func Append(conn *sql.Conn, schemaName, table string, n int, row func(i int) []driver.Value) error {
	if n == 0 {
		return nil
	}
	return conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "", schemaName, table)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := app.AppendRow(row(i)...); err != nil {
				app.Close()
				return err
			}
		}
		return app.Close()
	})
}
