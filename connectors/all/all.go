// Package all registers every source kind; import it for its side effect, as one imports
// database/sql drivers.
package all

import (
	_ "communityhub/connectors/csvsrc"  // csv
	_ "communityhub/connectors/httpsrc" // http
	_ "communityhub/connectors/sqlsrc"  // postgres, mysql, sqlite
	_ "communityhub/connectors/xlsxsrc" // xlsx
)
