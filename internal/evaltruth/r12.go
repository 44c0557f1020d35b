package evaltruth

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"communityhub/pipeline/report"
)

// R12Line is one problem R12 listed: the source role of the record, the golden person and the
// problem's kind in the simulator's words (dead_but_active, moved_but_active, invalid_id,
// birth_mismatch, sex_mismatch, duplicate).
type R12Line struct {
	Role, Person, Kind, Problem string
}

// R12Score is R12 against the planted anomalies of one system.
type R12Score struct {
	System                string
	Planted, Found, Wrong int
	Missed, WrongExamples []string // a few, for the log
	PlantedByKind, ByKind map[string]int
}

// Recall and Precision of one system's list.
func (s R12Score) Recall() float64 { return ratio(int64(s.Found), int64(s.Planted)) }

// Precision is the listed problems that were planted.
func (s R12Score) Precision() float64 {
	if s.Found+s.Wrong == 0 {
		return 1
	}
	return ratio(int64(s.Found), int64(s.Found+s.Wrong))
}

// SystemOfRole names a source role as the simulator names its system.
func SystemOfRole(role string) string {
	switch role {
	case "relief_family", "relief_member":
		return "relief"
	case "hukou", "hukou_household":
		return "hj"
	}
	return role
}

// ScoreR12 scores R12's lines against truth/anomalies.csv per system: a line is right when its
// system has an anomaly of that kind planted for the true person (evaluated on (system, person,
// kind): a duplicate is one anomaly however many of its records are listed). "Dead or moved
// out per 户籍 yet active" can only be known of persons 户籍 holds: such anomalies planted for a
// migrant, whom no 户籍 record names, are left out of the planted count (a line about one
// still counts as wrong), and so are anomalies planted on a row the hub must quarantine (bad
// bytes, wrong columns: it is listed in meta.quarantine instead) and birth dates moved within
// their month in a system that records only the month.
func ScoreR12(ctx context.Context, db *sql.DB, dir string, lines []R12Line) ([]R12Score, error) {
	trueOf, err := PersonTruth(ctx, db, dir)
	if err != nil {
		return nil, err
	}
	systems, err := readableSystems(dir)
	if err != nil {
		return nil, err
	}
	recs, err := readCSV(filepath.Join(dir, "truth", "anomalies.csv"))
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "kind,system,locator,person_id,detail" {
		return nil, fmt.Errorf("truth/anomalies.csv: unexpected header")
	}
	quarantined, err := unreadableLocs(dir)
	if err != nil {
		return nil, err
	}
	planted := map[string]bool{}
	by := map[string]*R12Score{}
	score := func(sys string) *R12Score {
		s := by[sys]
		if s == nil {
			s = &R12Score{System: sys, PlantedByKind: map[string]int{}, ByKind: map[string]int{}}
			by[sys] = s
		}
		return s
	}
	for _, r := range recs[1:] {
		kind, sys, person := r[0], r[1], r[3]
		if (kind == "dead_but_active" || kind == "moved_but_active") && !systems[person]["hj"] || quarantined[r[2]] {
			continue
		}
		if kind == "birth_mismatch" && monthOnly[sys] && sameMonth(r[4]) {
			continue // the system records year and month only: a shift within the month is not there
		}
		k := sys + "\x1f" + person + "\x1f" + kind
		if !planted[k] {
			planted[k] = true
			score(sys).Planted++
			score(sys).PlantedByKind[kind]++
		}
	}
	found := map[string]bool{}
	for _, l := range lines {
		sys := SystemOfRole(l.Role)
		k := sys + "\x1f" + trueOf[l.Person] + "\x1f" + l.Kind
		s := score(sys)
		switch {
		case planted[k] && !found[k]:
			found[k] = true
			s.Found++
			s.ByKind[l.Kind]++
		case planted[k]:
		default:
			s.Wrong++
			if len(s.WrongExamples) < 5 {
				s.WrongExamples = append(s.WrongExamples, fmt.Sprintf("%s %s (%s) for true person %s", l.Kind, l.Person, l.Problem, trueOf[l.Person]))
			}
		}
	}
	for k := range planted {
		if !found[k] {
			p := strings.Split(k, "\x1f")
			if s := by[p[0]]; len(s.Missed) < 5 {
				s.Missed = append(s.Missed, p[2]+" "+p[1])
			}
		}
	}
	out := make([]R12Score, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].System < out[j].System })
	return out, nil
}

// monthOnly are the systems whose birth column holds a year and month (出生年月).
var monthOnly = map[string]bool{"veterans": true, "party": true}

// sameMonth reads an anomaly's detail "birth 1975-06-03 vs ID 1975-06-20".
func sameMonth(detail string) bool {
	var a, b string
	if _, err := fmt.Sscanf(detail, "birth %s vs ID %s", &a, &b); err != nil || len(a) < 7 || len(b) < 7 {
		return false
	}
	return a[:7] == b[:7]
}

// R12Kind classifies an R12 problem text (the built-in R12's wording) as an anomaly kind.
func R12Kind(problem string) string {
	switch {
	case strings.Contains(problem, "死亡"):
		return "dead_but_active"
	case strings.Contains(problem, "迁出"):
		return "moved_but_active"
	case strings.Contains(problem, "出生日期"):
		return "birth_mismatch"
	case strings.Contains(problem, "性别"):
		return "sex_mismatch"
	case strings.Contains(problem, "重复"):
		return "duplicate"
	case strings.Contains(problem, "身份证号"):
		return "invalid_id"
	}
	return "other"
}

// R12Lines runs the built-in R12 band's query with the build's parameters and classifies each
// problem it lists.
func R12Lines(ctx context.Context, db *sql.DB, p report.Period) ([]R12Line, error) {
	kinds, err := report.Builtins()
	if err != nil {
		return nil, err
	}
	var q string
	for _, k := range kinds {
		if k.Code == "R12" {
			q = k.Bands[0].SQL
		}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := report.BindPeriod(ctx, conn, p); err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, `SELECT coalesce(s.source_role, ''), i.person_id, i.problem FROM (`+strings.TrimRight(strings.TrimSpace(q), ";")+`) i
		JOIN std.records s ON s.record_key = i.record_key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []R12Line
	for rows.Next() {
		var l R12Line
		if err := rows.Scan(&l.Role, &l.Person, &l.Problem); err != nil {
			return nil, err
		}
		l.Kind = R12Kind(l.Problem)
		out = append(out, l)
	}
	return out, rows.Err()
}
