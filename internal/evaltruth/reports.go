package evaltruth

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Sets are the true persons (or households) behind figures: kind → community → figure → ids.
// Community "*" is the street.
type Sets map[string]map[string]map[string]map[string]bool

func (s Sets) add(kind, community, figure, id string) {
	for _, c := range []string{community, "*"} {
		if s[kind] == nil {
			s[kind] = map[string]map[string]map[string]bool{}
		}
		if s[kind][c] == nil {
			s[kind][c] = map[string]map[string]bool{}
		}
		if s[kind][c][figure] == nil {
			s[kind][c][figure] = map[string]bool{}
		}
		s[kind][c][figure][id] = true
	}
}

// ReportTruth computes figures of the report catalog from the simulator's truth alone
// (truth/persons.csv, households.csv and records/), never from what the hub made of the sources: for R01,
// R03, R04, R05, R06, R10 and R11, the ids behind each figure the truth can tell, named by the
// built-in kinds' anchors. refDate is the report's reference date (ages are taken on it) and
// asOf the date the district describes (the elderly system's 高龄津贴 band is its age then).
func ReportTruth(dir string, refDate, asOf time.Time) (Sets, error) {
	persons, err := readTable(filepath.Join(dir, "truth", "persons.csv"))
	if err != nil {
		return nil, err
	}
	households, err := readTable(filepath.Join(dir, "truth", "households.csv"))
	if err != nil {
		return nil, err
	}
	relief := map[string]string{} // household → active relief type
	for _, h := range households {
		if h["relief_active"] == "1" {
			relief[h["household_id"]] = h["relief_type"]
		}
	}
	// Who is in some system at all: a migrant who died or left is known to no 户籍 record, so
	// the counting rule ("neither dead nor moved out per 户籍") keeps them while any department
	// still lists them — the truth counts them the same way (R12 lists those departments).
	systems, err := readableSystems(dir)
	if err != nil {
		return nil, err
	}
	recorded := func(id string) bool { return len(systems[id]) > 0 }
	in := func(id, system string) bool { return systems[id][system] }
	s := Sets{}
	for _, p := range persons {
		gone := p["status"] != "正常"
		if p["community"] == "" || gone && (p["residence"] == "户籍" || !recorded(p["person_id"])) {
			continue
		}
		c, id := p["community"], p["person_id"]
		birth, err := time.Parse("2006-01-02", p["birth"])
		if err != nil {
			return nil, fmt.Errorf("truth/persons.csv: person %s: birth %q", id, p["birth"])
		}
		age, ageThen := yearsOn(birth, refDate), yearsOn(birth, asOf)
		// R01
		s.add("R01", c, "res_total", id)
		s.add("R01", c, "hh_total", p["household_id"])
		switch p["residence"] {
		case "户籍":
			s.add("R01", c, "res_hukou", id)
		case "流动":
			s.add("R01", c, "res_floating", id)
		default:
			s.add("R01", c, "res_other", id)
		}
		if p["sex"] == "1" {
			s.add("R01", c, "res_male", id)
		} else {
			s.add("R01", c, "res_female", id)
		}
		// The hub knows a birth date from an ID number or from a system that records one.
		birthKnown := p["id_no"] != ""
		for _, sys := range []string{"hj", "floating", "elderly", "employment", "insurance", "health"} {
			birthKnown = birthKnown || in(id, sys)
		}
		band := "age_80_plus"
		switch {
		case !birthKnown:
			band = "age_unknown"
		case age <= 6:
			band = "age_0_6"
		case age <= 17:
			band = "age_7_17"
		case age <= 34:
			band = "age_18_34"
		case age <= 59:
			band = "age_35_59"
		case age <= 79:
			band = "age_60_79"
		}
		s.add("R01", c, band, id)
		// R03
		alone := p["lives_alone"] == "1"
		allowance := p["elder_care"] == "1" && ageThen >= 80 && in(id, "elderly")
		if age >= 80 && birthKnown {
			b := "80_89"
			if age >= 100 {
				b = "100_plus"
			} else if age >= 90 {
				b = "90_99"
			}
			s.add("R03", c, "age_"+b, id)
			s.add("R03", c, "total_80", id)
			if alone {
				s.add("R03", c, "alone_"+b, id)
				s.add("R03", c, "alone_total", id)
			}
			if allowance {
				s.add("R03", c, "allowance_"+b, id)
			}
		}
		// R04: persons and families in 在保 relief, by type.
		rt := ""
		if in(id, "relief") {
			rt = relief[p["household_id"]]
		}
		if prefix := map[string]string{"城市低保": "dibao", "特困供养": "tekun", "临时救助": "linshi"}[rt]; prefix != "" {
			s.add("R04", c, prefix+"_persons", id)
			s.add("R04", c, prefix+"_hh", p["household_id"])
			s.add("R04", c, "persons_total", id)
			s.add("R04", c, "hh_total", p["household_id"])
		}
		// R05
		disabled := p["disability"] != "" && in(id, "disabled")
		if d := p["disability"]; disabled {
			s.add("R05", c, "disabled_all", id)
			if len(d) == 2 {
				s.add("R05", c, "by_cat_grade["+d[:1]+","+d[1:]+"]", id)
				s.add("R05", c, "by_cat_grade[*,*]", id)
			}
		}
		// R06
		unemployed := p["employment"] == "登记失业" && in(id, "employment")
		if unemployed {
			s.add("R06", c, "unemployed_total", id)
			if rt == "城市低保" {
				s.add("R06", c, "unemployed_in_dibao", id)
			}
		}
		// R10
		s.add("R10", c, "res_total", id)
		if p["insured"] != "1" || !in(id, "insurance") {
			s.add("R10", c, "ins_none", id)
		}
		// R11: two or more of 80+ living alone, disabled, 低保/特困, registered unemployed.
		n := 0
		for _, yes := range []bool{age >= 80 && alone, disabled, rt == "城市低保" || rt == "特困供养", unemployed} {
			if yes {
				n++
			}
		}
		if n >= 2 {
			s.add("R11", c, "care_list.rows", id)
		}
	}
	return s, nil
}

// unreadable reports a truth record row whose source row the hub must quarantine: bytes that
// are no text in its encoding, or a row with the wrong number of columns.
func unreadable(r []string) bool {
	return len(r) > 4 && (strings.Contains(r[4], ":bad_bytes") || strings.Contains(r[4], ":wrong_columns"))
}

// recordRows are the rows of every truth/records/*.csv: system, locator, key, persons, quirks.
func recordRows(dir string) ([][]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "truth", "records", "*.csv"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no truth under %s (want truth/records/*.csv)", dir)
	}
	var out [][]string
	for _, f := range files {
		recs, err := readCSV(f)
		if err != nil {
			return nil, err
		}
		if len(recs) > 0 {
			out = append(out, recs[1:]...)
		}
	}
	return out, nil
}

// unreadableLocs are the locators of the rows unreadable reports.
func unreadableLocs(dir string) (map[string]bool, error) {
	rows, err := recordRows(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, r := range rows {
		if unreadable(r) {
			out[r[1]] = true
		}
	}
	return out, nil
}

// readableSystems lists, per true person, the systems holding a record of them that the hub
// can read (a row with bytes that are no text in its encoding is quarantined, as it must be).
func readableSystems(dir string) (map[string]map[string]bool, error) {
	rows, err := recordRows(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]bool{}
	for _, r := range rows {
		if unreadable(r) {
			continue
		}
		for _, kv := range strings.Split(r[3], ";") {
			if _, p, ok := strings.Cut(kv, "="); ok && p != "" {
				if out[p] == nil {
					out[p] = map[string]bool{}
				}
				out[p][r[0]] = true
			}
		}
	}
	return out, nil
}

func yearsOn(birth, on time.Time) int {
	y := on.Year() - birth.Year()
	if on.Month() < birth.Month() || on.Month() == birth.Month() && on.Day() < birth.Day() {
		y--
	}
	return y
}

func readTable(path string) ([]map[string]string, error) {
	rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	out := make([]map[string]string, 0, len(rows)-1)
	for _, r := range rows[1:] {
		m := make(map[string]string, len(rows[0]))
		for i, h := range rows[0] {
			if i < len(r) {
				m[h] = r[i]
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// PersonTruth maps each golden person id to the true person most of its records describe.
func PersonTruth(ctx context.Context, db *sql.DB, dir string) (map[string]string, error) {
	truth, err := loadTruth(dir)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT r.loc, r.role, p.person_id FROM std.records r JOIN resolve.record_person p USING (record_key)`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	votes := map[string]map[string]int{}
	for rows.Next() {
		var loc, role, person string
		if err := rows.Scan(&loc, &role, &person); err != nil {
			return nil, err
		}
		t := truth[loc+"\x1f"+role]
		if t == "" {
			continue
		}
		if votes[person] == nil {
			votes[person] = map[string]int{}
		}
		votes[person][t]++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(votes))
	for p, vs := range votes {
		best, n := "", -1
		for t, c := range vs {
			if c > n || c == n && t < best {
				best, n = t, c
			}
		}
		out[p] = best
	}
	return out, nil
}
