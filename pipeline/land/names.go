package land

import (
	"fmt"
	"strings"
)

// LandedNames are the raw table's column names for a source's columns, decided the same way by
// `hub sources check` and by sync:
//   - a name that starts with "_" (the raw table's own columns: _loc, _ident, …) gets the prefix
//     "src" ("_loc" → "src_loc");
//   - DuckDB's names are case-insensitive, so a column that differs from an existing raw column
//     only in case (a source that renamed x to X) lands in the existing column;
//   - a name that repeats one before it (case-insensitively: "Name,name") gets " (2)", " (3)" …
//
// existing are the raw table's current columns (nil for a new table). The result has one name
// per column, in order, all distinct case-insensitively.
func LandedNames(cols, existing []string) []string {
	have := map[string]string{} // lower-case → the raw table's spelling
	for _, e := range existing {
		have[strings.ToLower(e)] = e
	}
	used := map[string]bool{}
	out := make([]string, len(cols))
	for i, c := range cols {
		n := c
		if strings.HasPrefix(n, "_") || n == "" {
			n = "src" + n
		}
		if e, ok := have[strings.ToLower(n)]; ok && !used[strings.ToLower(e)] {
			n = e
		}
		base := n
		for k := 2; used[strings.ToLower(n)]; k++ {
			n = fmt.Sprintf("%s (%d)", base, k)
			if e, ok := have[strings.ToLower(n)]; ok && !used[strings.ToLower(e)] {
				n = e
			}
		}
		used[strings.ToLower(n)] = true
		out[i] = n
	}
	return out
}
