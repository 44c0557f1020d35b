//go:build !duckdb_arrow

package land

// The landing streams rows into DuckDB through its Arrow interface, which duckdb-go builds only
// under the build tag duckdb_arrow. Without it this file stops the build with the message below
// (instead of a binary that fails every source at run time):
//
//	build with: make (or go build -tags duckdb_arrow ./cmd/hub)
var _ = build_with_make_or_go_build_tags_duckdb_arrow
