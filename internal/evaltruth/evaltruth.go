// Package evaltruth measures reconciliation against the simulator's truth: pairwise precision
// and recall over all source records (and over records whose ID is masked, missing or
// corrupted), merges of different valid IDs, households reconstructed exactly, and the same
// figures for the exact-ID-join baseline, and golden persons placed in their true community. It backs `hub eval`; the hub itself never reads the truth.
package evaltruth

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Scores are pairwise precision and recall.
type Scores struct {
	Precision, Recall, RecallHard float64
	PredPairs, TruePairs, TP      int64
}

// Report is the evaluation.
type Report struct {
	Records, WithTruth, HardRecords int
	TruePersons, Persons            int
	Hub, Baseline                   Scores
	ValidIDMerges                   int
	Households, HouseholdsExact     int
	Review                          Review
	Placement                       Placement
}

// Review measures the review queue against the truth: its size, the share of its pairs that
// are the same person, and — per probability band — whether the model's probabilities mean what
// they say (observed match rate against the mean predicted probability).
type Review struct {
	Pairs         int
	PerThousand   float64 // pairs per 1 000 records
	TrueShare     float64 // share of queued pairs that are one true person
	Bands         []Band  // [0.05, 0.1), [0.1, 0.2), [0.2, 0.35), [0.35, 0.5] and the rest
	Calibrated    Band    // all pairs scored in [0.05, 0.5]
	WithoutTruth  int     // pairs with a record the truth does not know
	CalibrationOK bool    // observed rate within a factor of 2 of the mean prediction in [0.05, 0.5]
}

// Band is one probability range of the queue.
type Band struct {
	Lo, Hi   float64
	Pairs    int
	MeanP    float64
	Observed float64 // share of the band's pairs that are one true person
}

type item struct {
	truth, pred, base string
	hard              bool
	valid             string
}

// Evaluate reads std.records and resolve.record_person from db and the truth from dir.
func Evaluate(ctx context.Context, db *sql.DB, dir string) (*Report, error) {
	truth, err := loadTruth(dir)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT r.loc, r.role, r.record_key, coalesce(r.id_raw, ''), coalesce(r.id_class, ''), coalesce(r.id_std, ''), p.person_id
		FROM std.records r JOIN resolve.record_person p USING (record_key)`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	rep := &Report{}
	var items []item
	truthOf := map[string]string{} // record key → true person
	for rows.Next() {
		var loc, role, key, idRaw, class, std, person string
		if err := rows.Scan(&loc, &role, &key, &idRaw, &class, &std, &person); err != nil {
			return nil, err
		}
		rep.Records++
		t := truth[loc+"\x1f"+role]
		if t == "" {
			continue
		}
		truthOf[key] = t
		it := item{truth: t, pred: person, base: strings.TrimSpace(idRaw)}
		if it.base == "" {
			it.base = "\x00" + key // no ID: a record of its own
		}
		switch class {
		case "masked", "absent", "numeric", "bad_check", "invalid":
			it.hard = true
			rep.HardRecords++
		case "valid", "legacy15":
			it.valid = std
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rep.WithTruth = len(items)
	rep.Hub = pairScores(items, func(it item) string { return it.pred })
	rep.Baseline = pairScores(items, func(it item) string { return it.base })
	truePersons, persons := map[string]bool{}, map[string]map[string]bool{}
	for _, it := range items {
		truePersons[it.truth] = true
		if persons[it.pred] == nil {
			persons[it.pred] = map[string]bool{}
		}
		if it.valid != "" {
			persons[it.pred][it.valid] = true
		}
	}
	rep.TruePersons, rep.Persons = len(truePersons), len(persons)
	for _, ids := range persons {
		if len(ids) > 1 {
			rep.ValidIDMerges++
		}
	}
	if err := households(ctx, db, dir, items, rep); err != nil {
		return nil, err
	}
	if err := review(ctx, db, truthOf, rep); err != nil {
		return nil, err
	}
	if err := placement(ctx, db, dir, items, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// review scores resolve.review against the truth.
func review(ctx context.Context, db *sql.DB, truthOf map[string]string, rep *Report) error {
	rows, err := db.QueryContext(ctx, `SELECT record_a, record_b, probability FROM resolve.review`)
	if err != nil {
		return fmt.Errorf("resolve.review: %w", err)
	}
	defer rows.Close()
	edges := []float64{0.05, 0.1, 0.2, 0.35, 0.5000001}
	bands := make([]Band, len(edges)) // the last: outside [0.05, 0.5]
	for i := 0; i+1 < len(edges); i++ {
		bands[i].Lo, bands[i].Hi = edges[i], edges[i+1]
	}
	bands[len(bands)-1].Lo, bands[len(bands)-1].Hi = -1, -1
	var cal Band
	cal.Lo, cal.Hi = 0.05, 0.5
	same := 0
	add := func(b *Band, p float64, match bool) {
		b.Pairs++
		b.MeanP += p
		if match {
			b.Observed++
		}
	}
	for rows.Next() {
		var a, b string
		var p float64
		if err := rows.Scan(&a, &b, &p); err != nil {
			return err
		}
		rep.Review.Pairs++
		ta, tb := truthOf[a], truthOf[b]
		if ta == "" || tb == "" {
			rep.Review.WithoutTruth++
			continue
		}
		match := ta == tb
		if match {
			same++
		}
		bi := len(bands) - 1
		for i := 0; i+1 < len(edges); i++ {
			if p >= edges[i] && p < edges[i+1] {
				bi = i
			}
		}
		add(&bands[bi], p, match)
		if bi < len(bands)-1 {
			add(&cal, p, match)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	finish := func(b *Band) {
		if b.Pairs > 0 {
			b.MeanP /= float64(b.Pairs)
			b.Observed /= float64(b.Pairs)
		}
	}
	for i := range bands {
		finish(&bands[i])
	}
	finish(&cal)
	r := &rep.Review
	r.Bands, r.Calibrated = bands, cal
	if rep.Records > 0 {
		r.PerThousand = 1000 * float64(r.Pairs) / float64(rep.Records)
	}
	if n := r.Pairs - r.WithoutTruth; n > 0 {
		r.TrueShare = float64(same) / float64(n)
	}
	r.CalibrationOK = cal.Pairs > 0 && cal.Observed <= 2*cal.MeanP && cal.Observed >= cal.MeanP/2
	return nil
}

func c2(n int64) int64 { return n * (n - 1) / 2 }

// pairScores counts, without listing pairs: predicted pairs, true pairs and both, over all
// records and over pairs with at least one hard-ID record.
func pairScores(items []item, pred func(item) string) Scores {
	type cnt struct{ n, easy int64 }
	byPred, byTrue, byBoth := map[string]*cnt{}, map[string]*cnt{}, map[string]*cnt{}
	add := func(m map[string]*cnt, k string, hard bool) {
		c := m[k]
		if c == nil {
			c = &cnt{}
			m[k] = c
		}
		c.n++
		if !hard {
			c.easy++
		}
	}
	for _, it := range items {
		p := pred(it)
		add(byPred, p, it.hard)
		add(byTrue, it.truth, it.hard)
		add(byBoth, p+"\x1f"+it.truth, it.hard)
	}
	var s Scores
	var trueHard, tpHard int64
	for _, c := range byPred {
		s.PredPairs += c2(c.n)
	}
	for _, c := range byTrue {
		s.TruePairs += c2(c.n)
		trueHard += c2(c.n) - c2(c.easy)
	}
	for _, c := range byBoth {
		s.TP += c2(c.n)
		tpHard += c2(c.n) - c2(c.easy)
	}
	s.Precision, s.Recall, s.RecallHard = ratio(s.TP, s.PredPairs), ratio(s.TP, s.TruePairs), ratio(tpHard, trueHard)
	return s
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// loadTruth maps "locator\x1frole" to the true person, over every system's records.
func loadTruth(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "truth", "records", "*.csv"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no truth under %s (want truth/records/*.csv)", dir)
	}
	out := map[string]string{}
	for _, f := range files {
		recs, err := readCSV(f)
		if err != nil {
			return nil, err
		}
		for _, r := range recs[1:] {
			for _, kv := range strings.Split(r[3], ";") {
				if role, p, ok := strings.Cut(kv, "="); ok && p != "" {
					out[r[1]+"\x1f"+role] = p
				}
			}
		}
	}
	return out, nil
}

func readCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	return r.ReadAll()
}

// households counts true households whose members all appear in the records and are grouped
// exactly as one predicted household (each predicted person standing for the true person most
// of its records describe).
func households(ctx context.Context, db *sql.DB, dir string, items []item, rep *Report) error {
	votes := map[string]map[string]int{}
	for _, it := range items {
		if votes[it.pred] == nil {
			votes[it.pred] = map[string]int{}
		}
		votes[it.pred][it.truth]++
	}
	personTruth := map[string]string{}
	for p, v := range votes {
		best, n := "", 0
		for t, c := range v {
			if c > n || (c == n && t < best) {
				best, n = t, c
			}
		}
		personTruth[p] = best
	}
	rows, err := db.QueryContext(ctx, `SELECT household_id, person_id FROM golden.household_member`)
	if err != nil {
		return err
	}
	predHH := map[string]map[string]bool{} // household → true persons
	truthHH := map[string]string{}         // true person → predicted household
	for rows.Next() {
		var h, p string
		if err := rows.Scan(&h, &p); err != nil {
			return err
		}
		t := personTruth[p]
		if t == "" {
			continue
		}
		if predHH[h] == nil {
			predHH[h] = map[string]bool{}
		}
		predHH[h][t] = true
		truthHH[t] = h
	}
	rows.Close()
	recs, err := readCSV(filepath.Join(dir, "truth", "households.csv"))
	if err != nil {
		return err
	}
	for _, r := range recs[1:] {
		members := strings.Split(r[8], ";")
		complete := true
		for _, m := range members {
			if truthHH[m] == "" {
				complete = false
			}
		}
		if !complete {
			continue
		}
		rep.Households++
		h := truthHH[members[0]]
		exact := len(predHH[h]) == len(members)
		for _, m := range members {
			exact = exact && truthHH[m] == h
		}
		if exact {
			rep.HouseholdsExact++
		}
	}
	return nil
}
