//go:build !duckdb_arrow

package land

import (
	"context"
	"errors"
	"time"

	"communityhub/connectors"
)

// landTx needs DuckDB's Arrow interface, which exists only under the build tag duckdb_arrow.
func (d *DB) landTx(ctx context.Context, syncID int64, spec Spec, src connectors.Source, cols []string, prev state,
	changes [][3]string, st *Stats, started time.Time, progress func(Stats)) error {
	return errors.New("this binary was built without -tags duckdb_arrow: DuckDB's Arrow ingestion is unavailable (build with make)")
}
