package report

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"communityhub/pipeline/store"
)

// ExplainQuery names one figure of one build: the kind, the cell (A1, sheet!A1, or the figure's
// name: an anchor, matrix[row,col], band.rows), the community (Rollup for the street) and the
// period; Version 0 is the latest.
type ExplainQuery struct {
	Kind, Cell, Community, Period string
	Version                       int
	// Full shows full ID numbers (the caller has checked the role and records the output).
	Full bool
}

// Explanation is a figure as it was built, with the persons behind it.
type Explanation struct {
	BuildID  int64
	Version  int
	Figure   string
	Cell     string
	Label    string
	Value    float64
	Persons  []Person
	Previous *float64 // the previous version's value, when there is one
}

// Person is one person behind a figure, as the golden record shows them now.
type Person struct {
	ID, Name, IDNo, Address string
}

// Explain returns the persons behind a stored figure.
func Explain(ctx context.Context, db *store.DB, q ExplainQuery) (*Explanation, error) {
	if q.Community == "" {
		q.Community = Rollup
	}
	ex := &Explanation{}
	err := db.SQL().QueryRowContext(ctx, `SELECT build_id, version FROM report.builds
		WHERE kind = ? AND community = ? AND period = ? AND (? = 0 OR version = ?) ORDER BY version DESC LIMIT 1`,
		q.Kind, q.Community, q.Period, q.Version, q.Version).Scan(&ex.BuildID, &ex.Version)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("no build of %s for %s, period %s (run hub report build)", q.Kind, q.Community, q.Period)
	}
	if err != nil {
		return nil, fmt.Errorf("builds: %w", err)
	}
	cell := strings.ToUpper(q.Cell)
	var value sql.NullFloat64
	var cellCol, label sql.NullString
	err = db.SQL().QueryRowContext(ctx, `SELECT figure, cell, label, value FROM report.figures
		WHERE build_id = ? AND (figure = ? OR upper(cell) = ? OR upper(split_part(cell, '!', 2)) = ?) ORDER BY figure LIMIT 1`,
		ex.BuildID, q.Cell, cell, cell).Scan(&ex.Figure, &cellCol, &label, &value)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("%s %s v%d has no figure at %q (hub report explain lists cells and figure names from report.figures)", q.Kind, q.Community, ex.Version, q.Cell)
	}
	if err != nil {
		return nil, fmt.Errorf("figures: %w", err)
	}
	ex.Cell, ex.Label, ex.Value = cellCol.String, label.String, value.Float64
	// A community build holds its persons; the street roll-up's are its batch's communities'.
	rows, err := db.SQL().QueryContext(ctx, `SELECT DISTINCT fp.person_id, coalesce(p.name, ''), coalesce(p.id_no, ''), coalesce(p.address, '')
		FROM report.figure_persons fp LEFT JOIN golden.person p USING (person_id)
		WHERE list_contains(fp.figures, ?) AND fp.build_id IN (
			SELECT c.build_id FROM report.builds b JOIN report.builds c ON c.batch = b.batch AND c.kind = b.kind AND c.period = b.period
			WHERE b.build_id = ? AND (c.build_id = b.build_id OR b.community = '*'))
		ORDER BY 2, 1`, ex.Figure, ex.BuildID)
	if err != nil {
		return nil, fmt.Errorf("figure persons: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Person
		if err := rows.Scan(&p.ID, &p.Name, &p.IDNo, &p.Address); err != nil {
			return nil, err
		}
		if !q.Full {
			p.IDNo = MaskID(p.IDNo)
		}
		ex.Persons = append(ex.Persons, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var prev sql.NullFloat64
	err = db.SQL().QueryRowContext(ctx, `SELECT f.value FROM report.figures f JOIN report.builds b USING (build_id)
		WHERE b.kind = ? AND b.community = ? AND b.period = ? AND b.version = ? AND f.figure = ?`,
		q.Kind, q.Community, q.Period, ex.Version-1, ex.Figure).Scan(&prev)
	switch {
	case err == sql.ErrNoRows:
	case err != nil:
		return nil, fmt.Errorf("previous version: %w", err)
	case prev.Valid:
		ex.Previous = &prev.Float64
	}
	return ex, nil
}
