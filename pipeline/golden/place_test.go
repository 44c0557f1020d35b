//go:build duckdb_arrow

package golden

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"communityhub/pipeline/records"
	"communityhub/pipeline/store"
)

// Place writes each person's community, grid and how they were placed, or why not; Save
// publishes it and golden.unplaced lists exactly the unplaced with their reasons.
func TestPlaceAndUnplacedView(t *testing.T) {
	reg := loadCSV(t, communitiesCSV, gridsCSV)
	recs := []records.Record{
		// p1: placed by the address; the grid collected last is theirs.
		rec("hj", "hukou", "1", map[string]string{"name": "周刚", "id_no": idZhou, "address": "建邺区兴隆街道梦都大街18号3栋2单元501室"}),
		rec("wg", "grid", "2", map[string]string{"name": "周刚", "grid": "320105004001001", "collected_at": "2026-11-01"}),
		rec("wg", "grid", "3", map[string]string{"name": "周刚", "grid": "320105004002001", "collected_at": "2026-11-18"}),
		// p2: no address; two grids collected the same day, one given twice: by the grid.
		rec("wg", "grid", "4", map[string]string{"name": "吴娜", "grid": "320105004002001", "collected_at": "2026-10-02"}),
		rec("wg", "grid", "5", map[string]string{"name": "吴娜", "grid": "320105004001001", "collected_at": "2026-10-02"}),
		rec("wg2", "grid", "6", map[string]string{"name": "吴娜", "grid": "320105004001001", "collected_at": "2026-10-02"}),
		// A grid from a source that is not the grid platform is not the person's grid.
		rec("led", "ledger", "7", map[string]string{"name": "吴娜", "grid": "320105004002001", "collected_at": "2026-11-30"}),
		// p3: a road the register does not know, and a grid it does not know.
		rec("flo", "floating", "8", map[string]string{"name": "李四", "address": "乐山路3号1栋1单元101室"}),
		rec("wg", "grid", "9", map[string]string{"name": "李四", "grid": "320105009999999"}),
		// p4: nothing at all.
		rec("vol", "volunteers", "10", map[string]string{"name": "王五"}),
	}
	person := []string{"p1", "p1", "p1", "p2", "p2", "p2", "p2", "p3", "p3", "p4"}
	ps := Build(recs, person, defaults(t))
	st := Place(ps, recs, person, reg)
	got := map[string]Placement{}
	for _, p := range ps {
		got[p.ID] = Placement{p.Community, p.Grid, p.PlacedBy, p.UnplacedReason}
	}
	want := map[string]Placement{
		"p1": {"梦都社区", "320105004002001", PlacedByAddress, ""},
		"p2": {"梦都社区", "320105004001001", PlacedByGrid, ""},
		"p3": {"", "320105009999999", "", ReasonRoadUnknown + "; " + ReasonGridUnknown},
		"p4": {"", "", "", ReasonNoAddress + "; " + ReasonNoGrid},
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %+v, want %+v", id, got[id], w)
		}
	}
	if st.Persons != 4 || st.ByAddress != 1 || st.ByGrid != 1 || st.UnplacedTotal() != 2 || st.GridElsewhere != 1 ||
		st.Unplaced[want["p3"].Reason] != 1 || st.Unplaced[want["p4"].Reason] != 1 {
		t.Errorf("stats %+v", st)
	}
	items := map[string]int64{}
	for _, c := range st.Counts() {
		if c.Stage != "place" {
			t.Errorf("count %+v not of stage place", c)
		}
		items[c.Item] = c.N
	}
	if items["by_address"] != 1 || items["by_grid"] != 1 || items["unplaced:"+want["p4"].Reason] != 1 || items["persons"] != 4 {
		t.Errorf("counts %v", items)
	}

	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "hub.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Tx(ctx, func(conn *sql.Conn) error { return Save(ctx, conn, ps) }); err != nil {
		t.Fatal(err)
	}
	rows, err := db.SQL().QueryContext(ctx, `SELECT person_id, coalesce(grid, ''), unplaced_reason FROM golden.unplaced ORDER BY person_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var listed []string
	for rows.Next() {
		var id, grid, reason string
		if err := rows.Scan(&id, &grid, &reason); err != nil {
			t.Fatal(err)
		}
		if reason != want[id].Reason || grid != want[id].Grid {
			t.Errorf("golden.unplaced %s: grid %q reason %q, want %+v", id, grid, reason, want[id])
		}
		listed = append(listed, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(listed, ",") != "p3,p4" {
		t.Errorf("golden.unplaced lists %v, want p3,p4", listed)
	}
	var comm, by string
	if err := db.SQL().QueryRowContext(ctx, `SELECT community, placed_by FROM golden.person WHERE person_id = 'p2'`).Scan(&comm, &by); err != nil {
		t.Fatal(err)
	}
	if comm != "梦都社区" || by != PlacedByGrid {
		t.Errorf("golden.person p2: %s by %s", comm, by)
	}
}

// Without a register every person stays unplaced, saying so; their grid is still written.
func TestPlaceWithoutRegister(t *testing.T) {
	recs := []records.Record{
		rec("hj", "hukou", "1", map[string]string{"name": "周刚", "id_no": idZhou, "address": "梦都大街18号3栋2单元501室"}),
		rec("wg", "grid", "2", map[string]string{"name": "周刚", "grid": "320105004001001"}),
	}
	person := []string{"p1", "p1"}
	ps := Build(recs, person, defaults(t))
	st := Place(ps, recs, person, nil)
	if p := ps[0]; p.Community != "" || p.PlacedBy != "" || p.UnplacedReason != ReasonNoRegister || p.Grid != "320105004001001" {
		t.Errorf("without a register: %+v", p)
	}
	if st.Unplaced[ReasonNoRegister] != 1 || st.ByAddress+st.ByGrid != 0 {
		t.Errorf("stats %+v", st)
	}
}

// The address placed is the one survivorship chose, parsed as its record parsed it.
func TestPlaceUsesTheChosenAddress(t *testing.T) {
	reg := loadCSV(t, communitiesCSV, gridsCSV)
	recs := []records.Record{
		rec("wg", "grid", "1", map[string]string{"name": "周刚", "address": "梦都大街60号1栋", "collected_at": "2026-11-10"}),
		rec("emp", "employment", "2", map[string]string{"name": "周刚", "address": "梦都大街18号1栋", "updated_at": "2020-01-01"}),
	}
	person := []string{"p1", "p1"}
	ps := Build(recs, person, defaults(t))
	Place(ps, recs, person, reg)
	var chosen string
	for _, f := range ps[0].Fields {
		if f.Name == "address" {
			chosen = f.Value
		}
	}
	want := map[string]string{"梦都大街60号1栋": "奥体社区", "梦都大街18号1栋": "梦都社区"}[chosen]
	if want == "" || ps[0].Community != want {
		t.Errorf("golden address %q placed in %q, want %q", chosen, ps[0].Community, want)
	}
}
