package deptsim

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"

	"communityhub/internal/deptsim/xlsxout"
)

// The reference data the street office keeps (../shared/spec/departments.md, "Reference data the
// street office keeps"), written beside the systems: the community register as the office's Excel
// sheet and the grid register as a CSV saved from Excel (GBK).
const (
	ReferenceDir          = "reference"
	CommunityRegisterFile = ReferenceDir + "/社区辖区表.xlsx"
	GridRegisterFile      = ReferenceDir + "/网格划分表.csv"
)

// RegisterRow is one row of the community register: door numbers From to To (inclusive) of Road
// belong to Community; From and To 0 mean the whole road.
type RegisterRow struct {
	Community, Road string
	From, To        int
}

// CommunityRegister derives the community register from the district: every estate (road and
// house number) the population lives or lived in belongs to one community. A road with one owner
// is one whole-road row; a road shared by communities gets a range per run of numbers owned by
// one community, from 1 (the first run) or the run's first number up to the number before the
// next run's (numbers nobody owns go to the run before them), the last run up to its last number.
// Rows are ordered by community, then road and first number.
func CommunityRegister(pop *Population) ([]RegisterRow, error) {
	owner := map[string]map[int]int{} // road → number → community index
	own := func(a Address, comm int) error {
		if owner[a.Road] == nil {
			owner[a.Road] = map[int]int{}
		}
		if c, ok := owner[a.Road][a.Number]; ok && c != comm {
			return fmt.Errorf("estate %s%d号 belongs to %s and %s", a.Road, a.Number, pop.Communities[c].Name, pop.Communities[comm].Name)
		}
		owner[a.Road][a.Number] = comm
		return nil
	}
	for i := range pop.Households {
		if err := own(pop.Households[i].Addr, pop.Households[i].Comm); err != nil {
			return nil, err
		}
	}
	for i := range pop.People {
		if p := &pop.People[i]; p.PrevAddr != nil {
			if err := own(*p.PrevAddr, p.PrevComm); err != nil {
				return nil, err
			}
		}
	}
	type row struct {
		RegisterRow
		comm int
	}
	var rows []row
	for road, nums := range owner {
		list := make([]int, 0, len(nums))
		for n := range nums {
			list = append(list, n)
		}
		sort.Ints(list)
		owners := map[int]bool{}
		for _, n := range list {
			owners[nums[n]] = true
		}
		if len(owners) == 1 {
			c := nums[list[0]]
			rows = append(rows, row{RegisterRow{pop.Communities[c].Name, road, 0, 0}, c})
			continue
		}
		start := 1
		for i, n := range list {
			c := nums[n]
			if i+1 < len(list) && nums[list[i+1]] == c {
				continue
			}
			end := n
			if i+1 < len(list) {
				end = list[i+1] - 1
			}
			rows = append(rows, row{RegisterRow{pop.Communities[c].Name, road, start, end}, c})
			start = end + 1
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.comm != b.comm {
			return a.comm < b.comm
		}
		if a.Road != b.Road {
			return a.Road < b.Road
		}
		return a.From < b.From
	})
	out := make([]RegisterRow, len(rows))
	for i, r := range rows {
		out[i] = r.RegisterRow
	}
	return out, nil
}

// GridWorker is one row of the grid register.
type GridWorker struct {
	Grid, Community, Worker, Phone string
}

// GridRegister lists every grid with its community, its grid worker and the worker's phone,
// drawn from their own random stream (the population's is untouched).
func GridRegister(pop *Population, seed uint64) []GridWorker {
	r := rand.New(rand.NewPCG(seed, 0x9e1d))
	var out []GridWorker
	for _, c := range pop.Communities {
		for _, g := range c.Grids {
			sex := 1 + r.IntN(2)
			out = append(out, GridWorker{Grid: g, Community: c.Name, Worker: newName(r, sex, ""), Phone: mobile(r)})
		}
	}
	return out
}

// writeReference writes reference/社区辖区表.xlsx (a merged title row, the contract's columns, a
// note under the table) and reference/网格划分表.csv (GBK), replacing what was there.
func writeReference(dir string, pop *Population, seed uint64) error {
	ref := filepath.Join(dir, ReferenceDir)
	if err := os.RemoveAll(ref); err != nil {
		return err
	}
	if err := os.MkdirAll(ref, 0o755); err != nil {
		return err
	}
	rows, err := CommunityRegister(pop)
	if err != nil {
		return fmt.Errorf("community register: %w", err)
	}
	sh := xlsxout.Sheet{Name: "社区辖区表", Title: streetName + "社区辖区表",
		Columns: []xlsxout.Column{{Name: "社区名称", Width: 14}, {Name: "道路", Width: 16}, {Name: "门牌号起", Width: 10},
			{Name: "门牌号止", Width: 10}, {Name: "楼栋", Width: 10}},
		Notes: []string{"注：门牌号起、止为空的，整条道路属该社区；门牌号含起止号。", "制表：" + streetName + "办事处    更新日期：" + pop.AsOf.Format("2006年1月2日")}}
	for _, r := range rows {
		vals := []any{r.Community, r.Road, nil, nil, nil}
		if r.From > 0 {
			vals[2], vals[3] = r.From, r.To
		}
		sh.Rows = append(sh.Rows, xlsxout.Row{Kind: xlsxout.Data, Values: vals})
	}
	if _, err := xlsxout.Write(filepath.Join(dir, CommunityRegisterFile), []xlsxout.Sheet{sh}); err != nil {
		return err
	}
	t := &Table{System: "reference", Name: "网格划分表", KeyCol: -1, Cols: []Col{{"网格编号", Text}, {"社区名称", Text}, {"网格员", Text}, {"联系电话", Text}}}
	for _, g := range GridRegister(pop, seed) {
		t.Recs = append(t.Recs, Record{Vals: []any{g.Grid, g.Community, g.Worker, g.Phone}})
	}
	return writeCSV(filepath.Join(dir, GridRegisterFile), GBK, t)
}
