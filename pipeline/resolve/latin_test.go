package resolve_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"communityhub/internal/febrl"
	"communityhub/pipeline/resolve"
)

// latinModel is written from pipeline/resolve/README.md alone: field comparisons, blocking
// expressions and EM, nothing of the Chinese built-ins.
const latinModel = `
threshold = 0.5
review_low = 0.05
prior = 0.0001
prior_from = "em"
m_from = "em"
em_iterations = 30
extra_fields = ["given_name", "surname", "street_number", "suburb", "postcode", "ssn"]

[[blocking]]
name = "ssn"
keys = ["ssn"]
[[blocking]]
name = "surname_postcode"
keys = ["soundex(surname)", "postcode"]
[[blocking]]
name = "given_birth"
keys = ["given_name[:2]", "birth_date"]
[[blocking]]
name = "surname_birth"
keys = ["soundex(surname)", "birth_date"]
[[blocking]]
name = "name_words_suburb"
keys = ["tokens(name)", "suburb"]
[[blocking]]
name = "address"
keys = ["street_number", "address[:4]"]

[[comparison]]
name = "given_name"
field = "given_name"
tf = true
levels = [
  { name = "exact", rule = "exact", m = 0.9, u = 0.02 },
  { name = "jw_0.9", rule = "jaro_winkler", threshold = 0.9, m = 0.05, u = 0.01 },
  { name = "prefix_2", rule = "prefix", threshold = 2, m = 0.02, u = 0.05 },
  { name = "different", rule = "else", m = 0.03, u = 0.92 },
]
[[comparison]]
name = "surname"
field = "surname"
tf = true
levels = [
  { name = "exact", rule = "exact", m = 0.9, u = 0.01 },
  { name = "jw_0.9", rule = "jaro_winkler", threshold = 0.9, m = 0.05, u = 0.01 },
  { name = "different", rule = "else", m = 0.05, u = 0.98 },
]
[[comparison]]
name = "full_name"
field = "name"
levels = [
  { name = "same_words", rule = "token_set", threshold = 1, m = 0.9, u = 0.001 },
  { name = "half_words", rule = "token_set", threshold = 0.5, m = 0.08, u = 0.02 },
  { name = "different", rule = "else", m = 0.02, u = 0.979 },
]
[[comparison]]
name = "street_number"
field = "street_number"
normalize = "digits"
levels = [
  { name = "exact", rule = "exact", m = 0.9, u = 0.01 },
  { name = "one_edit", rule = "levenshtein", threshold = 1, m = 0.05, u = 0.05 },
  { name = "different", rule = "else", m = 0.05, u = 0.94 },
]
[[comparison]]
name = "address"
field = "address"
levels = [
  { name = "exact", rule = "exact", m = 0.85, u = 0.001 },
  { name = "jw_0.9", rule = "jaro_winkler", threshold = 0.9, m = 0.1, u = 0.005 },
  { name = "different", rule = "else", m = 0.05, u = 0.994 },
]
[[comparison]]
name = "suburb"
field = "suburb"
levels = [
  { name = "exact", rule = "exact", m = 0.9, u = 0.02 },
  { name = "jw_0.9", rule = "jaro_winkler", threshold = 0.9, m = 0.05, u = 0.01 },
  { name = "different", rule = "else", m = 0.05, u = 0.97 },
]
[[comparison]]
name = "postcode"
field = "postcode"
normalize = "digits"
levels = [
  { name = "exact", rule = "exact", m = 0.9, u = 0.001 },
  { name = "one_edit", rule = "levenshtein", threshold = 1, m = 0.05, u = 0.01 },
  { name = "different", rule = "else", m = 0.05, u = 0.989 },
]
[[comparison]]
name = "birth_date"
field = "birth_date"
levels = [
  { name = "exact", rule = "exact", m = 0.9, u = 0.0001 },
  { name = "swap_or_digit", rule = "date_swap", m = 0.04, u = 0.0005 },
  { name = "within_year", rule = "date_days", threshold = 365, m = 0.03, u = 0.03 },
  { name = "different", rule = "else", m = 0.03, u = 0.9694 },
]
[[comparison]]
name = "ssn"
field = "ssn"
normalize = "digits"
levels = [
  { name = "exact", rule = "exact", m = 0.9, u = 0.00001 },
  { name = "one_edit", rule = "levenshtein", threshold = 1, m = 0.05, u = 0.0001 },
  { name = "different", rule = "else", m = 0.05, u = 0.99989 },
]
`

// pairF1 is the pairwise F1 of a clustering against the truth.
func pairF1(person, truth []string) (precision, recall, f1 float64) {
	byP, byT := map[string][]int{}, map[string][]int{}
	for i := range person {
		byP[person[i]] = append(byP[person[i]], i)
		byT[truth[i]] = append(byT[truth[i]], i)
	}
	var tp, pred, real float64
	for _, ids := range byP {
		for x := range ids {
			for y := x + 1; y < len(ids); y++ {
				pred++
				if truth[ids[x]] == truth[ids[y]] {
					tp++
				}
			}
		}
	}
	for _, ids := range byT {
		n := float64(len(ids))
		real += n * (n - 1) / 2
	}
	precision, recall = tp/pred, tp/real
	return precision, recall, 2 * precision * recall / (precision + recall)
}

func TestLatinScriptLinkageF1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latin.toml")
	if err := os.WriteFile(path, []byte(latinModel), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := resolve.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []uint64{1, 2} {
		ds := febrl.Generate(febrl.Options{Seed: seed, Originals: 3000})
		n := 0
		res, err := resolve.Resolve(ds.Records, resolve.Options{Model: m, NextID: func() string { n++; return fmt.Sprintf("p%d", n) }})
		if err != nil {
			t.Fatal(err)
		}
		p, r, f1 := pairF1(res.Person, ds.Truth)
		t.Logf("seed %d: %d records, %d candidate pairs, prior %.2e (%s), precision %.4f recall %.4f F1 %.4f, review %d",
			seed, len(ds.Records), res.Stats.Pairs, res.Stats.Prior, res.Stats.PriorFrom, p, r, f1, res.Stats.ReviewPairs)
		if f1 < 0.99 {
			t.Errorf("seed %d: pairwise F1 %.4f < 0.99 (precision %.4f, recall %.4f)", seed, f1, p, r)
		}
		// No valid Chinese IDs here: the prior comes from EM, and EM must not run to its cap.
		if res.Stats.PriorFrom != resolve.FromEM || res.Stats.PriorCapped {
			t.Errorf("seed %d: prior %.3g from %q, capped %v; want an EM estimate below max_prior", seed, res.Stats.Prior, res.Stats.PriorFrom, res.Stats.PriorCapped)
		}
	}
}
