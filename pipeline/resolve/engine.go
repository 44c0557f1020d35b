package resolve

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"communityhub/pipeline/records"
	"communityhub/pipeline/standardize"
)

// Prev is what the last run decided for a record.
type Prev struct {
	Person string
	Hash   uint64
}

// Decision is a reviewer's verdict on two records; it wins over the model in every later run.
type Decision struct {
	A, B string // record keys
	Same bool
}

// Params are the estimated m and u of every level, and the prior, as used in a run.
type Params struct {
	Lambda float64
	M, U   [][]float64 // [comparison][level]
}

// Options of a resolution run.
type Options struct {
	Model    *Model
	Previous map[string]Prev // record key → last run's person; nil on a first run
	// Returned maps records absent from the last run but seen before to their last person: a
	// cluster none of whose records has a previous person takes such an id back (when free), so
	// persons retired because their records vanished keep their id when the records return.
	Returned  map[string]Prev
	Decisions []Decision
	// Params from the last full run; with Previous, a run re-resolves only new or changed
	// records with these parameters. Nil forces a full run (EM re-estimates).
	Params  *Params
	NextID  func() string // new person ids
	Workers int
}

// Link is a scored (or decided) pair of records.
type Link struct {
	A, B   int
	P      float64
	W      float64
	Levels []int8 // per comparison; -1 = null
	Rule   string // id_exact, model, review_same; in the review queue: model or ambiguous
	// Competing (ambiguous pairs only) is the number of other persons the pair's record without
	// an ID links to as well; P is then the pair's share against them (see ambiguous), not
	// 1/(1+2^-W).
	Competing int
	// SourceBits (ambiguous pairs only) is what the source-list evidence added to W when the
	// pair's probability was weighed against its competitors (see sourceLists).
	SourceBits float64
	// Gain (review pairs only) is the expected number of record pairs a "same" verdict links
	// correctly: P × the records of one side's person × the other's. The queue is ordered by it.
	Gain float64
}

// Event records an id change: a person merged into another, split, new or retired.
type Event struct {
	Kind    string // new, merge, split, retired
	Person  string
	Other   string
	Records int
	Reason  string
}

// Stats are a run's figures. Nothing the engine leaves aside goes uncounted: blocks too big
// to use are listed with their key and size, records that take part without a name or a usable
// birth date are counted with the reason.
type Stats struct {
	Mode        string
	Records     int
	Resolved    int // records (re)resolved this run: all on a full run, new or changed otherwise
	Pairs       int
	PairsPerSec float64
	Links       int
	ReviewPairs int
	// ReviewPerThousand is the queue's size per 1 000 records.
	ReviewPerThousand float64
	Persons           int
	// BlocksSkipped counts the blocks over max_block, listed in OversizeBlocks.
	BlocksSkipped  int
	OversizeBlocks []OversizeBlock
	// Counts of records taking part with something missing, by reason (Reason*).
	Counts map[string]int
	// Ambiguous counts records linked about equally well to two persons with different valid
	// IDs: linked to neither, their pairs in review.
	Ambiguous int
	// DecidedBySource counts records without a valid ID that would have been ambiguous between
	// two persons but for the source-list evidence (one_row_per_source): linked to the best alone.
	DecidedBySource int
	// Prior is the prior used (P(two records drawn at random are one person)); PriorFrom says
	// how it was found (ids, em, fixed, or "last full run"); PriorCapped whether an estimate
	// reached max_prior.
	Prior       float64
	PriorFrom   string
	PriorCapped bool
	// MFrom says, per comparison, where its m came from on a full run: ids, em or fixed.
	MFrom   map[string]string
	Seconds float64
}

// OversizeBlock is a blocking key value shared by more than max_block records: its pairs were
// not compared under that blocking rule.
type OversizeBlock struct {
	Blocking string
	Key      string // the key's values joined by "|"
	Size     int
}

// Reasons a record takes part with something missing (Stats.Counts).
const (
	ReasonNoName          = "no_name"           // no usable name: compared on everything else
	ReasonBirthUnparsed   = "birth_unparsed"    // a birth date was given but cannot be read
	ReasonBirthBefore1800 = "birth_before_1800" // a birth year before 1800: not believed, compared without it
	ReasonBirthFromID     = "birth_from_id"     // no (or an impossible) own birth date: the valid ID's is used
)

// Result is the outcome for the records, index for index.
type Result struct {
	Person []string
	Prob   []float64
	Rule   []string
	Links  []Link // the links that joined clusters, with their explanation
	Review []Link // pairs in the uncertain band, for a person to decide
	// Changed marks the records resolved again this run (all on a full run); the review pairs
	// of the others, from earlier runs, still stand.
	Changed []bool
	Events  []Event
	Params  Params
	Stats   Stats
}

// Resolve clusters the records into persons.
func Resolve(recs []records.Record, opts Options) (*Result, error) {
	start := time.Now()
	m := opts.Model
	if m == nil {
		return nil, fmt.Errorf("resolve: no model")
	}
	xs := make([]rec, len(recs))
	byKey := make(map[string]int, len(recs))
	counts := map[string]int{}
	for i := range recs {
		xs[i] = prepare(&recs[i], m)
		byKey[recs[i].Key] = i
		for _, k := range missingReason(&recs[i], &xs[i]) {
			counts[k]++
		}
	}
	family(xs)
	full := opts.Previous == nil || opts.Params == nil
	changed := make([]bool, len(recs))
	nChanged := 0
	for i := range recs {
		p, ok := opts.Previous[recs[i].Key]
		changed[i] = full || !ok || p.Hash != recs[i].Hash
		if changed[i] {
			nChanged++
		}
	}
	res := &Result{Person: make([]string, len(recs)), Prob: make([]float64, len(recs)), Rule: make([]string, len(recs)), Changed: changed}
	res.Stats = Stats{Mode: "incremental", Records: len(recs), Resolved: nChanged, Counts: counts}
	if full {
		res.Stats.Mode = "full"
	}

	pairs, oversize := candidates(xs, m, changed, full)
	res.Stats.Pairs, res.Stats.BlocksSkipped, res.Stats.OversizeBlocks = len(pairs), len(oversize), oversize
	tf := frequencies(xs, m)

	var params Params
	if full {
		var est estimation
		params, est = estimate(xs, pairs, m)
		res.Stats.PriorFrom, res.Stats.PriorCapped, res.Stats.MFrom = est.priorFrom, est.capped, est.mFrom
	} else {
		params = *opts.Params
		res.Stats.PriorFrom = "last full run"
	}
	res.Stats.Prior = params.Lambda
	res.Params = params

	// Score every candidate pair, the pairs split over the cores. Pairs of two different valid
	// IDs can never be one person, nor (one_row_per_source) two records of one row: neither
	// linked nor queued, whatever their score.
	scoreStart := time.Now()
	workers := max(1, opts.Workers)
	if opts.Workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	linkParts, reviewParts := make([][]Link, workers), make([][]Link, workers)
	once := m.listsOnce()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lv := make([]int8, len(m.Comparisons))
			lo, hi := w*len(pairs)/workers, (w+1)*len(pairs)/workers
			// About a quarter of a street's candidate pairs link: start there rather than
			// growing from nothing (growing was 6% of a 1M-record reconcile's allocations).
			linkParts[w] = make([]Link, 0, (hi-lo)/4)
			for _, pr := range pairs[lo:hi] {
				a, b := &xs[int(pr>>32)], &xs[int(pr&0xffffffff)]
				if a.idStd != "" && b.idStd != "" && a.idStd != b.idStd || once && a.row == b.row {
					continue
				}
				levels(m, a, b, lv)
				wt, p := score(m, params, lv, tf, a)
				if p >= m.ReviewLow {
					l := Link{A: int(pr >> 32), B: int(pr & 0xffffffff), P: p, W: wt, Levels: append([]int8(nil), lv...), Rule: "model"}
					if p >= m.Threshold {
						linkParts[w] = append(linkParts[w], l)
					} else {
						reviewParts[w] = append(reviewParts[w], l)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	nLinks, nReview := 0, 0
	for w := range linkParts {
		nLinks, nReview = nLinks+len(linkParts[w]), nReview+len(reviewParts[w])
	}
	links, review := make([]Link, 0, nLinks), make([]Link, 0, nReview)
	for w := range linkParts {
		links = append(links, linkParts[w]...)
		review = append(review, reviewParts[w]...)
		linkParts[w], reviewParts[w] = nil, nil
	}
	var lists *sourceLists
	if once {
		lists = newSourceLists(xs)
	}
	var comp competition
	links, review, comp = ambiguous(xs, links, review, m.AmbiguityMargin, lists)
	res.Stats.Ambiguous, res.Stats.DecidedBySource = comp.ambiguous, comp.decidedBySource
	if d := time.Since(scoreStart).Seconds(); d > 0 {
		res.Stats.PairsPerSec = float64(len(pairs)) / d
	}

	// Cluster: previous clusters of unchanged records first, then decisions, equal valid IDs,
	// then model links by decreasing probability — never joining two different valid IDs or
	// two records a reviewer said differ.
	uf := newClusters(xs)
	cannot := map[int][]int{}
	for _, d := range opts.Decisions {
		a, okA := byKey[d.A]
		b, okB := byKey[d.B]
		if !okA || !okB || d.Same {
			continue
		}
		cannot[a] = append(cannot[a], b)
		cannot[b] = append(cannot[b], a)
	}
	uf.cannot = cannot
	if !full {
		first := map[string]int{}
		for i := range recs {
			if changed[i] {
				continue
			}
			p := opts.Previous[recs[i].Key].Person
			if j, ok := first[p]; ok {
				uf.union(i, j, true)
			} else {
				first[p] = i
			}
		}
	}
	used := make([]Link, 0, len(links))
	for _, d := range opts.Decisions {
		a, okA := byKey[d.A]
		b, okB := byKey[d.B]
		if okA && okB && d.Same && uf.union(a, b, true) {
			used = append(used, Link{A: a, B: b, P: 1, Rule: "review_same"})
			res.Rule[a], res.Rule[b], res.Prob[a], res.Prob[b] = "review_same", "review_same", 1, 1
		}
	}
	sort.SliceStable(links, func(i, j int) bool { return links[i].P > links[j].P })
	for _, l := range links {
		rule := "model"
		if xs[l.A].idStd != "" && xs[l.A].idStd == xs[l.B].idStd {
			rule = "id_exact" // the same valid ID: linked whatever else differs
		}
		if uf.union(l.A, l.B, false) {
			l.Rule = rule
			used = append(used, l)
		}
		for _, i := range []int{l.A, l.B} {
			if l.P > res.Prob[i] && res.Rule[i] != "review_same" {
				res.Prob[i], res.Rule[i] = l.P, rule
			}
		}
	}
	// Records with the same valid ID the model did not pair (e.g. its blocks were too big).
	byID := map[string]int{}
	for i := range xs {
		if id := xs[i].idStd; id != "" {
			if j, ok := byID[id]; ok {
				if uf.union(i, j, false) {
					used = append(used, Link{A: i, B: j, P: 1, Rule: "id_exact"})
				}
			} else {
				byID[id] = i
			}
		}
	}
	for i := range xs {
		if res.Rule[i] == "" {
			res.Rule[i], res.Prob[i] = "singleton", 1
			if !full && !changed[i] {
				res.Rule[i] = "kept"
			}
		}
	}
	res.Links = used
	// Review pairs that ended in one cluster anyway, or that a reviewer already decided, are done.
	decided := map[[2]string]bool{}
	for _, d := range opts.Decisions {
		decided[[2]string{d.A, d.B}], decided[[2]string{d.B, d.A}] = true, true
	}
	for _, l := range review {
		ra, rb := uf.find(l.A), uf.find(l.B)
		if ra != rb && !decided[[2]string{recs[l.A].Key, recs[l.B].Key}] {
			l.Gain = l.P * float64(uf.size[ra]) * float64(uf.size[rb])
			res.Review = append(res.Review, l)
		}
	}
	sort.SliceStable(res.Review, func(i, j int) bool {
		if res.Review[i].Gain != res.Review[j].Gain {
			return res.Review[i].Gain > res.Review[j].Gain
		}
		return recs[res.Review[i].A].Key < recs[res.Review[j].A].Key
	})
	res.Events = assignIDs(recs, uf, opts, res.Person)
	res.Stats.Links, res.Stats.ReviewPairs = len(used), len(res.Review)
	if len(recs) > 0 {
		res.Stats.ReviewPerThousand = 1000 * float64(len(res.Review)) / float64(len(recs))
	}
	persons := map[string]bool{}
	for _, p := range res.Person {
		persons[p] = true
	}
	res.Stats.Persons = len(persons)
	res.Stats.Seconds = time.Since(start).Seconds()
	return res, nil
}

// candidates returns the pairs (i<j packed as i<<32|j) sharing a blocking key; on an
// incremental run only pairs with a changed record. Blocks over max_block are not used; they
// are returned, largest first.
func candidates(xs []rec, m *Model, changed []bool, full bool) ([]uint64, []OversizeBlock) {
	var pairs []uint64
	var oversize []OversizeBlock
	for _, b := range m.Blocking {
		blocks := map[string][]int32{}
		for i := range xs {
			for _, k := range keysOf(&xs[i], b.keys) {
				blocks[k] = append(blocks[k], int32(i))
			}
		}
		for key, ids := range blocks {
			if len(ids) < 2 {
				continue
			}
			if len(ids) > m.MaxBlock {
				oversize = append(oversize, OversizeBlock{Blocking: b.Name, Key: strings.ReplaceAll(strings.TrimPrefix(key, "\x1f"), "\x1f", "|"), Size: len(ids)})
				continue
			}
			for x := 0; x < len(ids); x++ {
				for y := x + 1; y < len(ids); y++ {
					i, j := ids[x], ids[y]
					if !full && !changed[i] && !changed[j] {
						continue
					}
					if i > j {
						i, j = j, i
					}
					if i != j {
						pairs = append(pairs, uint64(i)<<32|uint64(j))
					}
				}
			}
		}
	}
	sort.Slice(pairs, func(a, b int) bool { return pairs[a] < pairs[b] })
	out := pairs[:0]
	for i, p := range pairs {
		if i == 0 || p != pairs[i-1] {
			out = append(out, p)
		}
	}
	sort.Slice(oversize, func(i, j int) bool {
		a, b := oversize[i], oversize[j]
		if a.Size != b.Size {
			return a.Size > b.Size
		}
		if a.Blocking != b.Blocking {
			return a.Blocking < b.Blocking
		}
		return a.Key < b.Key
	})
	return out, oversize
}

// missingReason lists why a record takes part with something missing (nil: nothing).
func missingReason(r *records.Record, x *rec) []string {
	var out []string
	if x.name == "" {
		out = append(out, ReasonNoName)
	}
	raw := strings.TrimSpace(r.Fields["birth_date"])
	if raw == "" {
		raw = strings.TrimSpace(r.Fields["birth_month"])
	}
	if raw != "" && r.Birth == "" {
		if y, ok := leadingYear(raw); ok && y < 1800 {
			out = append(out, ReasonBirthBefore1800)
		} else {
			out = append(out, ReasonBirthUnparsed)
		}
	}
	if (r.Birth == "" || r.BirthFlag == standardize.DateImpossible) && x.birth != "" && x.birth != r.Birth {
		out = append(out, ReasonBirthFromID)
	}
	return out
}

// leadingYear reads the first run of exactly four digits in a date as written.
func leadingYear(s string) (int, bool) {
	s = standardize.Fold(s)
	for i := 0; i+4 <= len(s); i++ {
		if (i == 0 || !isDigit(s[i-1])) && isDigits(s[i:i+4]) && (i+4 == len(s) || !isDigit(s[i+4])) {
			y, err := strconv.Atoi(s[i : i+4])
			return y, err == nil
		}
	}
	return 0, false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// competition is what ambiguous found.
type competition struct {
	ambiguous       int // records linked to neither (their pairs in review)
	decidedBySource int // records the source-list evidence took out of ambiguity
}

// ambiguous takes out the model links of each record without a valid ID that links above
// threshold to records of two different valid IDs whose best weights are within margin bits
// (father and son of one name in one flat, the son's row with nothing else to tell): the
// record cannot be both and nothing says which, so its links go to review, rule "ambiguous".
//
// Each competing person's best weight first takes the evidence of the record's source list
// (lists, nil = none; see sourceLists): a person who already has a row with a valid ID in the
// list the record comes from is less likely to be it, one who has none there more. A record
// whose competitors are then margin apart or more links to the best alone: its links to records
// standing for the others (carrying their ID, or linked to it alone) are dropped — their
// probability against the winner is below 1/(1+2^margin) — so that the clustering cannot join
// a loser by the order of raw probabilities.
//
// The probability of an ambiguous pair reflects the competition: the record is at most one of
// the persons it links to, so the pair's hypothesis "one person" stands against "neither" and
// against each competing person (a valid ID other than the pair's own that either record
// links to, with its best odds 2^w): P = O / (1 + O + Σ O_k), O = 2^W of the pair (both with the
// source-list bits). Two equal candidates get ≈ 0.5 each, three ≈ 1/3; Link.Competing says how
// many persons competed, Link.SourceBits what the source list added to the pair's weight.
func ambiguous(xs []rec, links, review []Link, margin float64, lists *sourceLists) ([]Link, []Link, competition) {
	best := map[int]map[string]float64{} // record without ID → partner's valid ID → best weight
	note := func(i, j int, w float64) {
		if xs[i].idStd != "" || xs[j].idStd == "" {
			return
		}
		if best[i] == nil {
			best[i] = map[string]float64{}
		}
		if v, ok := best[i][xs[j].idStd]; !ok || w > v {
			best[i][xs[j].idStd] = w
		}
	}
	for _, l := range links {
		note(l.A, l.B, l.W)
		note(l.B, l.A, l.W)
	}
	var comp competition
	amb := map[int]bool{}
	winner := map[int]string{} // record → the one valid ID it may link to
	for i, byID := range best {
		if len(byID) < 2 {
			continue
		}
		r := topTwo(byID)
		rawGap := byID[r[0]] - byID[r[1]]
		for id := range byID {
			byID[id] += lists.bits(&xs[i], id)
		}
		t := topTwo(byID)
		if byID[t[0]]-byID[t[1]] < margin {
			amb[i] = true
			comp.ambiguous++
			continue
		}
		winner[i] = t[0]
		if rawGap < margin {
			comp.decidedBySource++
		}
	}
	if len(amb) == 0 && len(winner) == 0 {
		return links, review, comp
	}
	// standsFor is the valid ID record j is taken to be: its own, its winner's, or the one
	// valid ID it links to ("" when none or several).
	standsFor := func(j int) string {
		if xs[j].idStd != "" {
			return xs[j].idStd
		}
		if w, ok := winner[j]; ok {
			return w
		}
		if len(best[j]) == 1 {
			for id := range best[j] {
				return id
			}
		}
		return ""
	}
	// A decided record's link to a record standing for another person is dropped, whether that
	// record carries the other's ID or reaches it through its own links (a record without an ID
	// linked to the loser), so that no chain joins the record to the person it lost to.
	loses := func(i, j int) bool {
		w, ok := winner[i]
		if !ok {
			return false
		}
		o := standsFor(j)
		return o != "" && o != w
	}
	kept := links[:0]
	for _, l := range links {
		if loses(l.A, l.B) || loses(l.B, l.A) {
			continue
		}
		if amb[l.A] || amb[l.B] {
			l.Rule = "ambiguous"
			l.SourceBits = pairBits(l, xs, lists, amb)
			l.P, l.Competing = competingP(l, xs, best, amb)
			review = append(review, l)
			continue
		}
		kept = append(kept, l)
	}
	return kept, review, comp
}

// topTwo returns the two valid IDs of byID with the largest weights, best first (ties by ID).
func topTwo(byID map[string]float64) [2]string {
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool {
		if byID[ids[a]] != byID[ids[b]] {
			return byID[ids[a]] > byID[ids[b]]
		}
		return ids[a] < ids[b]
	})
	return [2]string{ids[0], ids[1]}
}

// pairBits is what the source-list evidence adds to an ambiguous pair's weight: the bits of
// its record without an ID for the other record's valid ID (0 when neither has one).
func pairBits(l Link, xs []rec, lists *sourceLists, amb map[int]bool) float64 {
	switch {
	case amb[l.A] && xs[l.B].idStd != "":
		return lists.bits(&xs[l.A], xs[l.B].idStd)
	case amb[l.B] && xs[l.A].idStd != "":
		return lists.bits(&xs[l.B], xs[l.A].idStd)
	}
	return 0
}

// competingP is an ambiguous pair's probability against the persons competing for its
// ambiguous record(s) (see ambiguous; best holds their weights with the source-list bits), and
// their number. It is computed in bits relative to the pair's weight, so that large weights do
// not overflow.
func competingP(l Link, xs []rec, best map[int]map[string]float64, amb map[int]bool) (float64, int) {
	own := map[string]bool{xs[l.A].idStd: true, xs[l.B].idStd: true}
	rivals := map[string]float64{}
	for _, i := range []int{l.A, l.B} {
		if !amb[i] {
			continue
		}
		for id, w := range best[i] {
			if own[id] {
				continue
			}
			if v, ok := rivals[id]; !ok || w > v {
				rivals[id] = w
			}
		}
	}
	w := l.W + l.SourceBits
	denom := 1 + math.Exp2(-w) // the pair itself and "neither", relative to the pair's odds
	for _, wk := range rivals {
		denom += math.Exp2(wk - w)
	}
	return 1 / denom, len(rivals)
}

// levels fills lv with each comparison's level for the pair (-1 = null).
func levels(m *Model, a, b *rec, lv []int8) {
	for ci := range m.Comparisons {
		lv[ci] = level(&m.Comparisons[ci], a, b)
	}
}

// level is the pair's level at one comparison: the first whose rule holds, -1 when null.
func level(c *Comparison, a, b *rec) int8 {
	null := false
	if c.Field != "" {
		null = a.fv[c.slot] == "" || b.fv[c.slot] == ""
	} else {
		null = builtinNull[c.Name](a, b)
	}
	last := len(c.Levels) - 1
	for li, l := range c.Levels[:last] {
		if l.Rule == "null" {
			if null {
				return int8(li)
			}
			continue
		}
		if null {
			continue
		}
		if c.fn[li](a, b) {
			return int8(li)
		}
	}
	if null {
		return -1
	}
	return int8(last)
}

// score returns the match weight and probability of a pair with these levels.
func score(m *Model, p Params, lv []int8, tf []map[string]float64, a *rec) (float64, float64) {
	w := math.Log2(p.Lambda / (1 - p.Lambda))
	for ci, l := range lv {
		if l < 0 {
			continue
		}
		w += levelWeight(m, p, ci, int(l), tf, a)
	}
	return w, 1 / (1 + math.Exp2(-w))
}

// tfValue is the value a tf comparison's frequency is looked up by.
func tfValue(c *Comparison, x *rec) string {
	if c.Field != "" {
		return x.fv[c.slot]
	}
	return x.name
}

// levelWeight is log2(m/u), with u the value's frequency for the first level of a tf comparison.
func levelWeight(m *Model, p Params, ci, l int, tf []map[string]float64, a *rec) float64 {
	u := p.U[ci][l]
	if l == 0 && m.Comparisons[ci].TF && tf != nil && tf[ci] != nil {
		if f, ok := tf[ci][tfValue(&m.Comparisons[ci], a)]; ok {
			u = math.Max(f, 1e-7)
		}
	}
	return math.Log2(p.M[ci][l] / u)
}

// frequencies is, per tf comparison, each value's share of the records.
func frequencies(xs []rec, m *Model) []map[string]float64 {
	out := make([]map[string]float64, len(m.Comparisons))
	for ci := range m.Comparisons {
		c := &m.Comparisons[ci]
		if !c.TF {
			continue
		}
		n := map[string]int{}
		for i := range xs {
			if v := tfValue(c, &xs[i]); v != "" {
				n[v]++
			}
		}
		tf := make(map[string]float64, len(n))
		for k, v := range n {
			tf[k] = float64(v) / float64(len(xs))
		}
		out[ci] = tf
	}
	return out
}

// estimation says where a run's parameters came from.
type estimation struct {
	priorFrom string
	capped    bool
	mFrom     map[string]string
}

// readsID reports whether a comparison looks at the records' ID numbers (its m cannot be
// learnt from pairs chosen for their equal IDs).
func readsID(c *Comparison) bool {
	switch c.Field {
	case "":
		return c.Name == "id" || c.Name == "id_consistency"
	case "id_no", "id_masked", "disability_cert", "householder_id_no":
		return true
	}
	return false
}

// Minimum numbers of pairs an estimate from the data needs.
const (
	minLabelled = 200  // pairs with equal valid IDs, for m (per comparison, non-null) and the prior
	minRandom   = 100  // random pairs where a comparison is not null, for u
	mFloor      = 1e-4 // m learnt from equal-ID pairs
	emFloor     = 1e-6 // m by EM (the ID comparisons: a known ID that disagrees is strong evidence)
)

// estimate finds the parameters of a full run. u is every level's share among random record
// pairs (nearly all different people). The prior λ is the chance that two records drawn from
// all records are one person: with prior_from = "ids", the share of equal-ID pairs among all
// pairs of records carrying a valid ID; "em", EM's share of matches among the candidate pairs
// times their number over all pairs; "fixed", the model's. m is, with m_from = "ids", each
// level's share among candidate pairs with equal valid IDs (comparisons that read the ID, or
// with too few such pairs, take EM's); "em", EM's; "fixed", the model's. EM runs over the
// candidate pairs' level patterns estimating m, the candidates' own u and their match share
// together (textbook Fellegi–Sunter EM), so that what blocking made agree does not pass for
// evidence of a match. Every estimated λ is capped at max_prior; an m learnt from equal-ID pairs
// is kept >= 0.0001 (no one disagreement is proof), one by EM >= 0.000001.
func estimate(xs []rec, pairs []uint64, m *Model) (Params, estimation) {
	nc := len(m.Comparisons)
	est := estimation{mFrom: map[string]string{}}
	p := Params{Lambda: m.Prior, M: make([][]float64, nc), U: make([][]float64, nc)}
	for ci, c := range m.Comparisons {
		p.M[ci] = make([]float64, len(c.Levels))
		p.U[ci] = make([]float64, len(c.Levels))
		for li, l := range c.Levels {
			p.M[ci][li], p.U[ci][li] = l.M, l.U
		}
		est.mFrom[c.Name] = FromFixed
	}
	lv := make([]int8, nc)
	// u from random pairs.
	if len(xs) > 1 {
		r := rand.New(rand.NewPCG(42, 42))
		counts := newCounts(m)
		for k := 0; k < m.RandomPairs; k++ {
			i, j := r.IntN(len(xs)), r.IntN(len(xs))
			if i == j {
				continue
			}
			levels(m, &xs[i], &xs[j], lv)
			for ci, l := range lv {
				if l >= 0 {
					counts[ci][l]++
				}
			}
		}
		for ci := range counts {
			if total := sum(counts[ci]); total >= minRandom {
				for li := range counts[ci] {
					p.U[ci][li] = (counts[ci][li] + 0.5) / (total + 0.5*float64(len(counts[ci])))
				}
			}
		}
	}
	allPairs := float64(len(xs)) * float64(len(xs)-1) / 2
	est.priorFrom = FromFixed
	// The prior from valid IDs over all records.
	if m.PriorFrom == FromIDs {
		byID := map[string]float64{}
		n := 0.0
		for i := range xs {
			if xs[i].idStd != "" {
				byID[xs[i].idStd]++
				n++
			}
		}
		same := 0.0
		for _, c := range byID {
			same += c * (c - 1) / 2
		}
		if same >= minLabelled {
			p.Lambda, est.priorFrom = same/(n*(n-1)/2), FromIDs
		}
	}
	// EM over the candidate pairs' patterns.
	pat := map[string]float64{}
	labelled := newCounts(m)
	for _, pr := range pairs {
		a, b := &xs[int(pr>>32)], &xs[int(pr&0xffffffff)]
		levels(m, a, b, lv)
		pat[string(int8sToBytes(lv))]++
		if a.idStd != "" && a.idStd == b.idStd {
			for ci, l := range lv {
				if l >= 0 {
					labelled[ci][l]++
				}
			}
		}
	}
	needEM := m.MFrom != FromFixed || (m.PriorFrom != FromFixed && est.priorFrom != FromIDs)
	if len(pat) > 0 && needEM {
		em := runEM(m, p, pat, len(pairs))
		if m.MFrom != FromFixed {
			for ci := range p.M {
				copy(p.M[ci], em.M[ci])
				est.mFrom[m.Comparisons[ci].Name] = FromEM
			}
		}
		if m.PriorFrom != FromFixed && est.priorFrom != FromIDs {
			p.Lambda, est.priorFrom = em.Lambda*float64(len(pairs))/allPairs, FromEM
		}
	}
	if m.MFrom == FromIDs {
		for ci := range m.Comparisons {
			c := &m.Comparisons[ci]
			total := sum(labelled[ci])
			if readsID(c) || total < minLabelled {
				continue
			}
			for li := range labelled[ci] {
				p.M[ci][li] = math.Max((labelled[ci][li]+0.5)/(total+0.5*float64(len(labelled[ci]))), mFloor)
			}
			est.mFrom[c.Name] = FromIDs
		}
	}
	if est.priorFrom != FromFixed && p.Lambda > m.MaxPrior {
		p.Lambda, est.capped = m.MaxPrior, true
	}
	p.Lambda = math.Max(p.Lambda, 1e-12)
	return p, est
}

func newCounts(m *Model) [][]float64 {
	out := make([][]float64, len(m.Comparisons))
	for ci := range out {
		out[ci] = make([]float64, len(m.Comparisons[ci].Levels))
	}
	return out
}

func sum(xs []float64) float64 {
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t
}

// runEM estimates m, the candidates' u and their share of matches (Lambda of the result: a
// share of the candidate pairs, not of all pairs) from the candidate patterns, starting from
// the model's m, the random pairs' u and a share of one match in ten candidates.
func runEM(m *Model, start Params, pat map[string]float64, n int) Params {
	type patc struct {
		lv []int8
		n  float64
	}
	var ps []patc
	for k, c := range pat {
		ps = append(ps, patc{bytesToInt8s(k), c})
	}
	sort.Slice(ps, func(i, j int) bool { return string(int8sToBytes(ps[i].lv)) < string(int8sToBytes(ps[j].lv)) })
	nc := len(start.M)
	p := Params{Lambda: 0.1, M: make([][]float64, nc), U: make([][]float64, nc)}
	for ci := range start.M {
		p.M[ci] = append([]float64(nil), start.M[ci]...)
		p.U[ci] = append([]float64(nil), start.U[ci]...)
	}
	for it := 0; it < m.EMIterations; it++ {
		numM, numU := newCounts(m), newCounts(m)
		var matches float64
		for _, q := range ps {
			lm, lu := math.Log(p.Lambda), math.Log(1-p.Lambda)
			for ci, l := range q.lv {
				if l >= 0 {
					lm += math.Log(p.M[ci][l])
					lu += math.Log(p.U[ci][l])
				}
			}
			post := 1 / (1 + math.Exp(lu-lm))
			matches += post * q.n
			for ci, l := range q.lv {
				if l >= 0 {
					numM[ci][l] += post * q.n
					numU[ci][l] += (1 - post) * q.n
				}
			}
		}
		for ci := range numM {
			if tm := sum(numM[ci]); tm > 0 {
				for li := range numM[ci] {
					p.M[ci][li] = math.Max((numM[ci][li]+1e-3)/(tm+1e-3*float64(len(numM[ci]))), emFloor)
				}
			}
			if tu := sum(numU[ci]); tu > 0 {
				for li := range numU[ci] {
					p.U[ci][li] = math.Max((numU[ci][li]+1e-3)/(tu+1e-3*float64(len(numU[ci]))), 1e-6)
				}
			}
		}
		p.Lambda = math.Min(math.Max(matches/float64(n), 1e-6), 0.999)
	}
	return p
}

func int8sToBytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

func bytesToInt8s(s string) []int8 {
	v := make([]int8, len(s))
	for i := 0; i < len(s); i++ {
		v[i] = int8(s[i])
	}
	return v
}

// clusters is a union-find that keeps, per cluster, its valid ID (two different valid IDs
// never share a cluster) and honours cannot-link decisions.
type clusters struct {
	parent  []int32
	size    []int32
	vid     []string
	cannot  map[int][]int
	members map[int][]int // root → members, only when cannot-links exist
}

func newClusters(xs []rec) *clusters {
	c := &clusters{parent: make([]int32, len(xs)), size: make([]int32, len(xs)), vid: make([]string, len(xs))}
	for i := range xs {
		c.parent[i], c.size[i], c.vid[i] = int32(i), 1, xs[i].idStd
	}
	return c
}

func (c *clusters) find(i int) int {
	for int(c.parent[i]) != i {
		c.parent[i] = c.parent[c.parent[i]]
		i = int(c.parent[i])
	}
	return i
}

// union joins the clusters of a and b; force skips the valid-ID constraint (a reviewer's
// "same" or last run's cluster). It reports whether the clusters were joined.
func (c *clusters) union(a, b int, force bool) bool {
	ra, rb := c.find(a), c.find(b)
	if ra == rb {
		return false
	}
	if !force && c.vid[ra] != "" && c.vid[rb] != "" && c.vid[ra] != c.vid[rb] {
		return false
	}
	if len(c.cannot) > 0 && c.forbidden(ra, rb) {
		return false
	}
	if c.size[ra] < c.size[rb] {
		ra, rb = rb, ra
	}
	c.parent[rb] = int32(ra)
	c.size[ra] += c.size[rb]
	if c.vid[ra] == "" {
		c.vid[ra] = c.vid[rb]
	}
	return true
}

func (c *clusters) forbidden(ra, rb int) bool {
	for a, others := range c.cannot {
		if c.find(a) != ra && c.find(a) != rb {
			continue
		}
		for _, b := range others {
			fb := c.find(b)
			if (c.find(a) == ra && fb == rb) || (c.find(a) == rb && fb == ra) {
				return true
			}
		}
	}
	return false
}

// assignIDs gives each cluster a person id: the id most of its records had last time (if no
// larger cluster claims it), else a new one. It logs merges, splits, new and retired ids.
func assignIDs(recs []records.Record, uf *clusters, opts Options, out []string) []Event {
	groups := map[int][]int{}
	for i := range recs {
		r := uf.find(i)
		groups[r] = append(groups[r], i)
	}
	type claim struct {
		root  int
		votes map[string]int
		back  map[string]int // ids of returning records, when no record has a previous one
	}
	var cs []claim
	for root, members := range groups {
		v := map[string]int{}
		for _, i := range members {
			if p, ok := opts.Previous[recs[i].Key]; ok {
				v[p.Person]++
			}
		}
		var back map[string]int
		if len(v) == 0 {
			for _, i := range members {
				if p, ok := opts.Returned[recs[i].Key]; ok {
					if back == nil {
						back = map[string]int{}
					}
					back[p.Person]++
				}
			}
		}
		cs = append(cs, claim{root, v, back})
	}
	// Bigger clusters choose first; ties by their smallest record key, for determinism.
	sort.Slice(cs, func(i, j int) bool {
		gi, gj := groups[cs[i].root], groups[cs[j].root]
		if len(gi) != len(gj) {
			return len(gi) > len(gj)
		}
		return recs[gi[0]].Key < recs[gj[0]].Key
	})
	taken := map[string]bool{}
	var events []Event
	prevUsers := map[string]int{} // previous id → clusters holding its records
	for _, c := range cs {
		for p := range c.votes {
			prevUsers[p]++
		}
	}
	for _, c := range cs {
		best, bestN := "", 0
		for p, n := range c.votes {
			if !taken[p] && (n > bestN || (n == bestN && p < best)) {
				best, bestN = p, n
			}
		}
		members := groups[c.root]
		if best == "" {
			for p, n := range c.back {
				if !taken[p] && prevUsers[p] == 0 && (n > bestN || (n == bestN && p < best)) {
					best, bestN = p, n
				}
			}
			if best != "" {
				events = append(events, Event{Kind: "revived", Person: best, Records: len(members), Reason: "its records came back"})
			}
		}
		if best == "" {
			best = opts.NextID()
			events = append(events, Event{Kind: "new", Person: best, Records: len(members), Reason: "records not matched to anyone known"})
		}
		taken[best] = true
		for p, n := range c.votes {
			if p == best {
				continue
			}
			kind, reason := "merge", fmt.Sprintf("%d record(s) of %s now match %s", n, p, best)
			if prevUsers[p] > 1 {
				kind = "split"
				reason = fmt.Sprintf("%d record(s) of %s split off to %s", n, p, best)
			}
			events = append(events, Event{Kind: kind, Person: best, Other: p, Records: n, Reason: reason})
		}
		for _, i := range members {
			out[i] = best
		}
	}
	seen := map[string]bool{}
	for _, p := range opts.Previous {
		if !taken[p.Person] && !seen[p.Person] {
			seen[p.Person] = true
			events = append(events, Event{Kind: "retired", Person: p.Person, Reason: "all its records were deleted or joined others"})
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].Person < events[j].Person })
	return events
}

// Explain renders a link's comparison levels and weights, one per line.
func Explain(m *Model, p Params, l Link) string {
	var b strings.Builder
	fmt.Fprintf(&b, "prior %+.2f\n", math.Log2(p.Lambda/(1-p.Lambda)))
	for ci, lv := range l.Levels {
		c := m.Comparisons[ci]
		if lv < 0 {
			fmt.Fprintf(&b, "%-15s null           %+6.2f\n", c.Name, 0.0)
			continue
		}
		fmt.Fprintf(&b, "%-15s %-14s %+6.2f\n", c.Name, c.Levels[lv].Name, math.Log2(p.M[ci][lv]/p.U[ci][lv]))
	}
	if l.Rule == "ambiguous" {
		if l.SourceBits != 0 {
			fmt.Fprintf(&b, "%-15s %-14s %+6.2f (one row per person per source: weighed against the competitors only)\n", "source_list", "", l.SourceBits)
		}
		fmt.Fprintf(&b, "total weight %+.2f → probability %.4f alone; against %d competing person(s) → %.4f (%s)\n",
			l.W, 1/(1+math.Exp2(-l.W)), l.Competing, l.P, l.Rule)
	} else {
		fmt.Fprintf(&b, "total weight %+.2f → probability %.4f (%s)\n", l.W, l.P, l.Rule)
	}
	return b.String()
}
