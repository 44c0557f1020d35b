package deptsim

import "time"

// ColType is the SQL type of a column in a simulated database table.
type ColType uint8

const (
	Text ColType = iota
	Int
	Decimal
	Date
	Timestamp
)

// Col is one column of a rendered table.
type Col struct {
	Name string
	Type ColType
}

// Record is one rendered source row and its truth.
type Record struct {
	Vals []any // string, int64, float64, bool, time.Time, []string, nil — as the target sink needs
	// Roles names the true people the row describes: "resident", "mother", "father",
	// "householder", "member" … in the row's own order of columns. Most rows have one.
	Roles   []Role
	Quirks  []string // "column:quirk" applied to this row
	Locator string   // where the row sits in the source, filled in by the writer
	Key     string   // the row's own key in its system (档案编号, permitNo …), if any
	// Updated is the system's internal last-update time of the row where it keeps one that is
	// not among the contract's columns (system 2's API filters updatedAfter on it); zero if none.
	Updated time.Time
}

// Role ties a column group of a row to a true person.
type Role struct {
	Role   string
	Person string // truth person id; empty when the row names nobody in that role
}

// Table is one system's table or file content, ready for a sink.
type Table struct {
	System string // system name, e.g. "hj"
	Name   string // table name, file stem or sheet group
	Cols   []Col
	Recs   []Record
	KeyCol int // index of the primary key column for SQL tables, -1 if none
}

// Anomaly is a planted cross-department or within-system inconsistency the hub should find.
type Anomaly struct {
	Kind   string // dead_but_active, moved_but_active, birth_mismatch, sex_mismatch, duplicate
	System string
	Key    string // the record's key in its system (or its locator, once written)
	Person string
	Detail string
	recIdx int    // index into the table, to fill the locator once written
	table  *Table // the table holding the record
}

func (a *Anomaly) locator() string {
	if a.table != nil && a.recIdx < len(a.table.Recs) {
		if l := a.table.Recs[a.recIdx].Locator; l != "" {
			return l
		}
	}
	return a.Key
}

func d(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
