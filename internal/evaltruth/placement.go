package evaltruth

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
)

// Placement measures where the golden persons were placed against the truth: each golden person
// stands for the true person most of its records describe; a resident is one whose true person
// lives in the street (status 正常 in truth/persons.csv). Correct is a resident whose golden
// community is the true person's community.
type Placement struct {
	Persons   int // golden persons that stand for a true person
	Residents int // of them, standing for a living, present true person
	// Of the residents: placed by address, by grid, not placed; placed right, placed wrong.
	ByAddress, ByGrid, Unplaced int
	Correct, Wrong              int
	CorrectByAddress            int
	CorrectByGrid               int
	// Rate is Correct / Residents.
	Rate float64
	// Reasons counts the unplaced residents by unplaced_reason.
	Reasons map[string]int
	// Others is the golden persons standing for someone dead or moved out: how many of them the
	// register placed (report.residents leaves them out by their 户籍 status, not by place).
	Others, OthersPlaced int
}

// placement scores golden.person's community against the truth.
func placement(ctx context.Context, db *sql.DB, dir string, items []item, rep *Report) error {
	votes := map[string]map[string]int{}
	for _, it := range items {
		if votes[it.pred] == nil {
			votes[it.pred] = map[string]int{}
		}
		votes[it.pred][it.truth]++
	}
	standsFor := map[string]string{}
	for p, v := range votes {
		best, n := "", 0
		for t, c := range v {
			if c > n || (c == n && t < best) {
				best, n = t, c
			}
		}
		standsFor[p] = best
	}
	persons, err := readCSV(filepath.Join(dir, "truth", "persons.csv"))
	if err != nil {
		return err
	}
	if len(persons) == 0 {
		return fmt.Errorf("%s: empty", filepath.Join(dir, "truth", "persons.csv"))
	}
	col := map[string]int{}
	for i, c := range persons[0] {
		col[c] = i
	}
	for _, c := range []string{"person_id", "status", "community"} {
		if _, ok := col[c]; !ok {
			return fmt.Errorf("%s: no column %s", filepath.Join(dir, "truth", "persons.csv"), c)
		}
	}
	type truePerson struct{ status, community string }
	truth := map[string]truePerson{}
	for _, r := range persons[1:] {
		truth[r[col["person_id"]]] = truePerson{r[col["status"]], r[col["community"]]}
	}
	rows, err := db.QueryContext(ctx, `SELECT person_id, coalesce(community, ''), coalesce(placed_by, ''), coalesce(unplaced_reason, '') FROM golden.person`)
	if err != nil {
		return fmt.Errorf("golden.person: %w", err)
	}
	defer rows.Close()
	pl := Placement{Reasons: map[string]int{}}
	for rows.Next() {
		var id, comm, by, reason string
		if err := rows.Scan(&id, &comm, &by, &reason); err != nil {
			return err
		}
		tp, ok := truth[standsFor[id]]
		if !ok {
			continue
		}
		pl.Persons++
		if tp.status != "正常" {
			pl.Others++
			if comm != "" {
				pl.OthersPlaced++
			}
			continue
		}
		pl.Residents++
		switch by {
		case "address":
			pl.ByAddress++
		case "grid":
			pl.ByGrid++
		default:
			pl.Unplaced++
			pl.Reasons[reason]++
			continue
		}
		if comm != tp.community {
			pl.Wrong++
			continue
		}
		pl.Correct++
		if by == "address" {
			pl.CorrectByAddress++
		} else {
			pl.CorrectByGrid++
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if pl.Residents > 0 {
		pl.Rate = float64(pl.Correct) / float64(pl.Residents)
	}
	rep.Placement = pl
	return nil
}
