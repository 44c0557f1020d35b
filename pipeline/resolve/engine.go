package resolve

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"communityhub/pipeline/records"
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
	Rule   string // id_exact, model, review_same
}

// Event records an id change: a person merged into another, split, new or retired.
type Event struct {
	Kind    string // new, merge, split, retired
	Person  string
	Other   string
	Records int
	Reason  string
}

// Stats are a run's figures.
type Stats struct {
	Mode          string
	Records       int
	Resolved      int // records (re)resolved this run: all on a full run, new or changed otherwise
	Pairs         int
	PairsPerSec   float64
	Links         int
	ReviewPairs   int
	Persons       int
	BlocksSkipped int
	Seconds       float64
}

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
	xs := make([]rec, len(recs))
	byKey := make(map[string]int, len(recs))
	for i := range recs {
		xs[i] = prepare(&recs[i])
		byKey[recs[i].Key] = i
	}
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
	res.Stats = Stats{Mode: "incremental", Records: len(recs), Resolved: nChanged}
	if full {
		res.Stats.Mode = "full"
	}

	pairs, skipped := candidates(xs, m, changed, full)
	res.Stats.Pairs, res.Stats.BlocksSkipped = len(pairs), skipped
	tf := nameFrequencies(xs)

	var params Params
	if full {
		params = estimate(xs, pairs, m)
	} else {
		params = *opts.Params
	}
	res.Params = params

	// Score every candidate pair, the pairs split over the cores.
	scoreStart := time.Now()
	workers := max(1, opts.Workers)
	if opts.Workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	linkParts, reviewParts := make([][]Link, workers), make([][]Link, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lv := make([]int8, len(m.Comparisons))
			lo, hi := w*len(pairs)/workers, (w+1)*len(pairs)/workers
			for _, pr := range pairs[lo:hi] {
				a, b := &xs[int(pr>>32)], &xs[int(pr&0xffffffff)]
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
	var links, review []Link
	for w := range linkParts {
		links = append(links, linkParts[w]...)
		review = append(review, reviewParts[w]...)
	}
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
	var used []Link
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
		if uf.find(l.A) != uf.find(l.B) && !decided[[2]string{recs[l.A].Key, recs[l.B].Key}] {
			res.Review = append(res.Review, l)
		}
	}
	res.Events = assignIDs(recs, uf, opts, res.Person)
	res.Stats.Links, res.Stats.ReviewPairs = len(used), len(res.Review)
	persons := map[string]bool{}
	for _, p := range res.Person {
		persons[p] = true
	}
	res.Stats.Persons = len(persons)
	res.Stats.Seconds = time.Since(start).Seconds()
	return res, nil
}

// candidates returns the pairs (i<j packed as i<<32|j) sharing a blocking key; on an
// incremental run only pairs with a changed record.
func candidates(xs []rec, m *Model, changed []bool, full bool) ([]uint64, int) {
	var pairs []uint64
	skipped := 0
	for _, b := range m.Blocking {
		blocks := map[string][]int32{}
		for i := range xs {
			for _, k := range keysOf(&xs[i], b.Keys) {
				blocks[k] = append(blocks[k], int32(i))
			}
		}
		for _, ids := range blocks {
			if len(ids) < 2 {
				continue
			}
			if len(ids) > m.MaxBlock {
				skipped++
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
	return out, skipped
}

// levels fills lv with each comparison's level for the pair (-1 = null).
func levels(m *Model, a, b *rec, lv []int8) {
	for ci, c := range m.Comparisons {
		if nullWhen[c.Name](a, b) {
			lv[ci] = -1
			continue
		}
		lv[ci] = int8(len(c.Levels) - 1)
		for li, l := range c.Levels[:len(c.Levels)-1] {
			if rules[l.Rule](a, b) {
				lv[ci] = int8(li)
				break
			}
		}
	}
}

// score returns the match weight and probability of a pair with these levels.
func score(m *Model, p Params, lv []int8, tf map[string]float64, a *rec) (float64, float64) {
	w := math.Log2(p.Lambda / (1 - p.Lambda))
	for ci, l := range lv {
		if l < 0 {
			continue
		}
		w += levelWeight(m, p, ci, int(l), tf, a)
	}
	return w, 1 / (1 + math.Exp2(-w))
}

// levelWeight is log2(m/u), with a term-frequency u for the first level of a tf comparison.
func levelWeight(m *Model, p Params, ci, l int, tf map[string]float64, a *rec) float64 {
	u := p.U[ci][l]
	if l == 0 && m.Comparisons[ci].TF && tf != nil {
		if f, ok := tf[a.name]; ok {
			u = math.Max(f, 1e-7)
		}
	}
	return math.Log2(p.M[ci][l] / u)
}

// nameFrequencies is each name's share of the records.
func nameFrequencies(xs []rec) map[string]float64 {
	n := map[string]int{}
	for i := range xs {
		if xs[i].name != "" {
			n[xs[i].name]++
		}
	}
	tf := make(map[string]float64, len(n))
	for k, c := range n {
		tf[k] = float64(c) / float64(len(xs))
	}
	return tf
}

// estimate gets u from random pairs and m (and the prior) by EM over the candidate pairs,
// aggregated into distinct level patterns.
func estimate(xs []rec, pairs []uint64, m *Model) Params {
	nc := len(m.Comparisons)
	p := Params{Lambda: m.Prior, M: make([][]float64, nc), U: make([][]float64, nc)}
	for ci, c := range m.Comparisons {
		p.M[ci] = make([]float64, len(c.Levels))
		p.U[ci] = make([]float64, len(c.Levels))
		for li, l := range c.Levels {
			p.M[ci][li], p.U[ci][li] = l.M, l.U
		}
	}
	lv := make([]int8, nc)
	// u from random pairs (almost all of them are different people).
	if len(xs) > 1 {
		r := rand.New(rand.NewPCG(42, 42))
		counts := make([][]float64, nc)
		for ci := range counts {
			counts[ci] = make([]float64, len(m.Comparisons[ci].Levels))
		}
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
			total := 0.0
			for _, c := range counts[ci] {
				total += c
			}
			if total < 100 {
				continue // too little data: keep the model's u
			}
			for li := range counts[ci] {
				// Laplace-smoothed, never above the prior guess for agreeing levels by much.
				p.U[ci][li] = (counts[ci][li] + 0.5) / (total + 0.5*float64(len(counts[ci])))
			}
		}
	}
	// Patterns of the candidate pairs.
	pat := map[string]float64{}
	for _, pr := range pairs {
		levels(m, &xs[int(pr>>32)], &xs[int(pr&0xffffffff)], lv)
		pat[string(int8sToBytes(lv))]++
	}
	if len(pat) == 0 {
		return p
	}
	type patc struct {
		lv []int8
		n  float64
	}
	var ps []patc
	for k, n := range pat {
		ps = append(ps, patc{bytesToInt8s(k), n})
	}
	fixed := false
	if m.PriorFromIDs {
		var same, both float64
		for _, pr := range pairs {
			a, b := &xs[int(pr>>32)], &xs[int(pr&0xffffffff)]
			if a.idStd != "" && b.idStd != "" {
				both++
				if a.idStd == b.idStd {
					same++
				}
			}
		}
		if both >= 200 {
			p.Lambda, fixed = math.Min(math.Max(same/both, 1e-4), 0.99), true
		}
	}
	for it := 0; it < m.EMIterations; it++ {
		num := make([][]float64, nc)
		den := make([]float64, nc)
		for ci := range num {
			num[ci] = make([]float64, len(p.M[ci]))
		}
		var matches, total float64
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
			total += q.n
			for ci, l := range q.lv {
				if l >= 0 {
					num[ci][l] += post * q.n
					den[ci] += post * q.n
				}
			}
		}
		for ci := range num {
			if den[ci] <= 0 {
				continue
			}
			for li := range num[ci] {
				p.M[ci][li] = math.Max((num[ci][li]+1e-3)/(den[ci]+1e-3*float64(len(num[ci]))), 1e-6)
			}
		}
		if !fixed {
			p.Lambda = math.Min(math.Max(matches/total, 1e-6), 0.999)
		}
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
	fmt.Fprintf(&b, "total weight %+.2f → probability %.4f (%s)\n", l.W, l.P, l.Rule)
	return b.String()
}
