package golden

import (
	"sort"
	"time"

	"communityhub/pipeline/records"
	"communityhub/pipeline/standardize"
	"communityhub/pipeline/store"
)

// PlaceStats counts what Place did: persons placed by address, by grid, and those left unplaced
// by reason (Placement.Reason, or ReasonNoRegister).
type PlaceStats struct {
	Persons   int
	ByAddress int
	ByGrid    int
	Unplaced  map[string]int
	// GridElsewhere is the persons placed by address whose own grid the grid register puts in
	// another community (a move the grid worker saw, or a stale address): they are placed by
	// address all the same.
	GridElsewhere int
}

// UnplacedTotal is the number of persons left unplaced.
func (s PlaceStats) UnplacedTotal() int {
	n := 0
	for _, v := range s.Unplaced {
		n += v
	}
	return n
}

// Counts are the figures for resolve.counts (stage "place"): persons, by_address, by_grid,
// grid_elsewhere and unplaced:<reason>.
func (s PlaceStats) Counts() []store.Count {
	out := []store.Count{
		{Stage: "place", Item: "persons", N: int64(s.Persons)},
		{Stage: "place", Item: "by_address", N: int64(s.ByAddress)},
		{Stage: "place", Item: "by_grid", N: int64(s.ByGrid)},
		{Stage: "place", Item: "grid_elsewhere", N: int64(s.GridElsewhere)},
	}
	reasons := make([]string, 0, len(s.Unplaced))
	for r := range s.Unplaced {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		out = append(out, store.Count{Stage: "place", Item: "unplaced:" + r, N: int64(s.Unplaced[r])})
	}
	return out
}

// Place sets where each golden person lives (Community, Grid, PlacedBy, UnplacedReason) from the
// register; recs and person are what Build was given (person[i] is recs[i]'s person).
//
// The address placed is the golden address: the parsed address of the record survivorship
// chose it from (its "address" Field), re-parsed from the golden text only if that record is not
// among recs. The person's grid is the 网格编号 (Fields["grid"]) of their records of source role
// "grid": the one collected last (the newest collected_at, then updated_at; records whose time
// does not read come after those with one); among equally recent records the grid most of them
// give, then the smallest code. A person is placed by address, else by that grid through the
// grid register, else left unplaced with the reason. With reg nil every person stays unplaced
// with ReasonNoRegister (their grid is still written).
func Place(persons []Person, recs []records.Record, person []string, reg *Register) PlaceStats {
	byKey := make(map[string]*records.Record, len(recs))
	gridRecs := map[string][]*records.Record{}
	for i := range recs {
		r := &recs[i]
		byKey[r.Key] = r
		if r.SourceRole == "grid" && NormalizeGrid(r.Fields["grid"]) != "" {
			gridRecs[person[i]] = append(gridRecs[person[i]], r)
		}
	}
	st := PlaceStats{Persons: len(persons), Unplaced: map[string]int{}}
	for i := range persons {
		p := &persons[i]
		grid := personGrid(gridRecs[p.ID])
		var pl Placement
		if reg == nil {
			pl = Placement{Grid: grid, Reason: ReasonNoRegister}
		} else {
			pl = reg.Place(goldenAddress(p, byKey), grid)
		}
		p.Community, p.Grid, p.PlacedBy, p.UnplacedReason = pl.Community, pl.Grid, pl.By, pl.Reason
		switch pl.By {
		case PlacedByAddress:
			st.ByAddress++
			if g, ok := reg.grids[pl.Grid]; ok && pl.Grid != "" && nameKey(g.Community) != nameKey(pl.Community) {
				st.GridElsewhere++
			}
		case PlacedByGrid:
			st.ByGrid++
		default:
			st.Unplaced[pl.Reason]++
		}
	}
	return st
}

// goldenAddress is the parsed golden address of p.
func goldenAddress(p *Person, byKey map[string]*records.Record) standardize.Address {
	if p.Address == "" {
		return standardize.Address{}
	}
	for _, f := range p.Fields {
		if f.Name == "address" {
			if r := byKey[f.Record]; r != nil && r.AddrRaw == f.Value {
				return r.Addr
			}
			break
		}
	}
	return standardize.ParseAddress(p.Address)
}

// personGrid chooses a person's grid among their grid records (see Place).
func personGrid(rs []*records.Record) string {
	if len(rs) == 0 {
		return ""
	}
	when := func(r *records.Record) (time.Time, bool) {
		for _, f := range []string{"collected_at", "updated_at"} {
			if v := r.Fields[f]; v != "" {
				if t, err := standardize.ParseTimestamp(v); err == nil {
					return t, true
				}
			}
		}
		return time.Time{}, false
	}
	var newest time.Time
	dated := false
	for _, r := range rs {
		if t, ok := when(r); ok && (!dated || t.After(newest)) {
			newest, dated = t, true
		}
	}
	votes := map[string]int{}
	for _, r := range rs {
		t, ok := when(r)
		if ok == dated && (!dated || t.Equal(newest)) {
			votes[NormalizeGrid(r.Fields["grid"])]++
		}
	}
	best, n := "", 0
	for g, c := range votes {
		if c > n || c == n && g < best {
			best, n = g, c
		}
	}
	return best
}
