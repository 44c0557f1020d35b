// Package resolve decides which person records describe the same real person: deterministic
// links on equal valid IDs, then Fellegi–Sunter over blocked candidate pairs, with m estimated
// from the pairs whose valid IDs agree (or by EM), u from random pairs and the prior as the
// chance that two records drawn from all records are one person, term-frequency adjustment,
// family evidence, hard constraints (two different valid IDs never merge; human "different"
// decisions hold), constrained clustering, stable person ids across runs, and a review queue
// ordered by expected gain.
//
// The model — comparisons, their levels, weights and thresholds, blocking — is data
// (model.toml; every function, key and setting is listed in README.md), kept apart from the
// engine; every score is explainable level by level. The package knows records
// (pipeline/records) and nothing of where they came from.
package resolve

import (
	_ "embed"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"communityhub/schema"

	"github.com/BurntSushi/toml"
)

//go:embed model.toml
var defaultModel []byte

// Level is one outcome of a comparison.
type Level struct {
	Name string `toml:"name"`
	// Rule decides this level: a built-in rule of a built-in comparison, or a function of a
	// field comparison (see README.md); "else" = always, "null" = either value is missing.
	Rule string `toml:"rule"`
	// Threshold parameterises a field function (a similarity, a distance or a length).
	Threshold float64 `toml:"threshold"`
	M         float64 `toml:"m"`
	U         float64 `toml:"u"`
}

// Weight is the level's match weight, log2(m/u).
func (l Level) Weight() float64 { return math.Log2(l.M / l.U) }

// Comparison is one aspect of two records compared at ordered levels. When either record lacks
// the data the comparison is null and weighs nothing — unless it has a level with rule "null".
type Comparison struct {
	Name string `toml:"name"`
	// Field makes this a field comparison: the canonical field (or an extra_fields name) whose
	// value records carry in records.Record.Fields. Empty: Name is a built-in comparison.
	Field string `toml:"field"`
	// Normalize says how a field's value is prepared: text (default), digits, none.
	Normalize string `toml:"normalize"`
	// TF adjusts the first level's u by the frequency of the record's value.
	TF     bool    `toml:"tf"`
	Levels []Level `toml:"levels"`

	fn   []levelFunc // per level (nil for null and else)
	ffn  []fieldFunc // per level, for field comparisons
	slot int         // index into rec.fv, for field comparisons
}

// Blocking is one rule for candidate pairs: records sharing all the keys are compared.
type Blocking struct {
	Name string   `toml:"name"`
	Keys []string `toml:"keys"`

	keys []keyFunc
}

// Prior and m estimation modes.
const (
	FromIDs   = "ids"   // from the pairs of records carrying valid IDs (equal IDs = same person)
	FromEM    = "em"    // by EM over the candidate pairs
	FromFixed = "fixed" // as the model file says
)

// Model is the whole match model.
type Model struct {
	Threshold float64 `toml:"threshold"`
	ReviewLow float64 `toml:"review_low"`
	// Prior is P(two records drawn at random from all records are the same person): fixed with
	// prior_from = "fixed", else the starting value and the fallback when the data cannot say.
	Prior     float64 `toml:"prior"`
	PriorFrom string  `toml:"prior_from"` // ids (default), em, fixed
	MFrom     string  `toml:"m_from"`     // ids (default), em, fixed
	// MaxPrior caps an estimated prior (default 0.01: one record in a hundred being any given
	// other's duplicate is already far more than real data shows); reaching it is reported.
	MaxPrior     float64 `toml:"max_prior"`
	MaxBlock     int     `toml:"max_block"`
	EMIterations int     `toml:"em_iterations"`
	RandomPairs  int     `toml:"random_pairs"`
	// AmbiguityMargin: a record without a valid ID linked above threshold to two persons with
	// different valid IDs whose weights differ by less than this many bits is linked to neither;
	// its pairs go to review.
	AmbiguityMargin float64 `toml:"ambiguity_margin"`
	// OneRowPerSource (default true): a source lists a person once — two records of one row are
	// never one person (neither linked nor queued), and a record without a valid ID competed for
	// by several persons weighs which of them already has a row with a valid ID in its source
	// (see sourceLists). false turns both off.
	OneRowPerSource *bool `toml:"one_row_per_source"`
	// ExtraFields names the fields beyond the canonical ones (schema.Fields) that records may
	// carry and comparisons or blocking keys may read.
	ExtraFields []string     `toml:"extra_fields"`
	Blocking    []Blocking   `toml:"blocking"`
	Comparisons []Comparison `toml:"comparison"`

	nFields int // field comparisons and blocking field expressions: rec.fv slots
	fields  []fieldSlot
}

// listsOnce reports whether the one_row_per_source evidence is used (the default).
func (m *Model) listsOnce() bool { return m.OneRowPerSource == nil || *m.OneRowPerSource }

// fieldSlot is one prepared field value a record carries: a field under a normalization.
type fieldSlot struct{ field, norm string }

// DefaultModel is the model shipped with the hub.
func DefaultModel() (*Model, error) { return ParseModel(defaultModel, "model.toml (built in)") }

// LoadModel reads a model file.
func LoadModel(path string) (*Model, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseModel(raw, path)
}

// settings are the valid keys of each table of a model file.
var settings = map[string][]string{
	"":           {"threshold", "review_low", "prior", "prior_from", "m_from", "max_prior", "max_block", "em_iterations", "random_pairs", "ambiguity_margin", "one_row_per_source", "extra_fields", "blocking", "comparison"},
	"blocking":   {"name", "keys"},
	"comparison": {"name", "field", "normalize", "tf", "levels"},
	"levels":     {"name", "rule", "threshold", "m", "u"},
}

// ParseModel reads a model from TOML text; name names it in errors.
func ParseModel(raw []byte, name string) (*Model, error) {
	var m Model
	md, err := toml.Decode(string(raw), &m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		table := ""
		if len(k) > 1 {
			table = k[len(k)-2]
		}
		return nil, fmt.Errorf("%s: unknown setting %s (valid here: %s)", name, k, strings.Join(settings[table], ", "))
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &m, nil
}

func choices(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func (m *Model) validate() error {
	if m.Threshold <= 0 || m.Threshold >= 1 || m.ReviewLow < 0 || m.ReviewLow > m.Threshold {
		return fmt.Errorf("need 0 <= review_low <= threshold < 1")
	}
	if m.Prior <= 0 || m.Prior >= 1 {
		return fmt.Errorf("prior must be in (0,1)")
	}
	modes := map[string]bool{FromIDs: true, FromEM: true, FromFixed: true}
	if m.PriorFrom == "" {
		m.PriorFrom = FromIDs
	}
	if m.MFrom == "" {
		m.MFrom = FromIDs
	}
	if !modes[m.PriorFrom] {
		return fmt.Errorf("prior_from %q: want one of %s", m.PriorFrom, choices(modes))
	}
	if !modes[m.MFrom] {
		return fmt.Errorf("m_from %q: want one of %s", m.MFrom, choices(modes))
	}
	if m.MaxPrior <= 0 {
		m.MaxPrior = 0.01
	}
	if m.MaxPrior >= 1 || (m.PriorFrom == FromFixed && m.Prior > m.MaxPrior) {
		return fmt.Errorf("max_prior %g: must be in (0,1) and at least a fixed prior", m.MaxPrior)
	}
	if m.MaxBlock <= 1 {
		m.MaxBlock = 300
	}
	if m.RandomPairs <= 0 {
		m.RandomPairs = 200000
	}
	if m.EMIterations <= 0 {
		m.EMIterations = 12
	}
	if m.AmbiguityMargin <= 0 {
		m.AmbiguityMargin = 4
	}
	known := map[string]bool{}
	for _, f := range schema.Fields {
		known[f.Name] = true
	}
	for _, f := range m.ExtraFields {
		if !isIdent(f) {
			return fmt.Errorf("extra_fields: %q is not a field name (lower-case letters, digits, _)", f)
		}
		known[f] = true
	}
	m.nFields, m.fields = 0, nil
	slots := map[fieldSlot]int{}
	slot := func(f, norm string) int {
		k := fieldSlot{f, norm}
		if i, ok := slots[k]; ok {
			return i
		}
		slots[k] = len(m.fields)
		m.fields = append(m.fields, k)
		m.nFields = len(m.fields)
		return slots[k]
	}
	names := map[string]bool{}
	for ci := range m.Comparisons {
		c := &m.Comparisons[ci]
		if names[c.Name] {
			return fmt.Errorf("comparison %s: named twice", c.Name)
		}
		names[c.Name] = true
		if len(c.Levels) < 2 || c.Levels[len(c.Levels)-1].Rule != "else" {
			return fmt.Errorf("comparison %s: needs at least two levels, the last with rule \"else\"", c.Name)
		}
		if c.Field == "" {
			if _, ok := builtinNull[c.Name]; !ok {
				return fmt.Errorf("comparison %s: no such built-in comparison (built-ins: %s; or give field = \"…\")", c.Name, choicesOf(builtinNull))
			}
			if c.Normalize != "" {
				return fmt.Errorf("comparison %s: normalize applies to field comparisons only", c.Name)
			}
			if c.TF && c.Name != "name" {
				return fmt.Errorf("comparison %s: of the built-in comparisons only name has a term frequency (tf)", c.Name)
			}
			c.fn = make([]levelFunc, len(c.Levels))
		} else {
			if !known[c.Field] {
				return fmt.Errorf("comparison %s: unknown field %q (canonical fields: %s; or declare it in extra_fields)", c.Name, c.Field, choices(known))
			}
			if c.Normalize == "" {
				c.Normalize = "text"
			}
			if _, ok := normalizers[c.Normalize]; !ok {
				return fmt.Errorf("comparison %s: unknown normalize %q (choices: %s)", c.Name, c.Normalize, choicesOf(normalizers))
			}
			c.slot = slot(c.Field, c.Normalize)
			c.fn = make([]levelFunc, len(c.Levels))
			c.ffn = make([]fieldFunc, len(c.Levels))
		}
		for li, l := range c.Levels {
			switch {
			case l.Rule == "else" || l.Rule == "null":
				if l.Rule == "else" && li != len(c.Levels)-1 {
					return fmt.Errorf("comparison %s level %s: rule \"else\" must be the last level", c.Name, l.Name)
				}
			case c.Field == "":
				f, err := builtinRule(l.Rule)
				if err != nil {
					return fmt.Errorf("comparison %s level %s: %w", c.Name, l.Name, err)
				}
				c.fn[li] = func(a, b *rec) bool { return f(a, b) }
			default:
				mk, ok := functions[l.Rule]
				if !ok {
					return fmt.Errorf("comparison %s level %s: unknown function %q (functions: %s, null, else)", c.Name, l.Name, l.Rule, choicesOf(functions))
				}
				f, err := mk.make(l.Threshold)
				if err != nil {
					return fmt.Errorf("comparison %s level %s: %s: %w", c.Name, l.Name, l.Rule, err)
				}
				c.ffn[li] = f
				s := c.slot
				c.fn[li] = func(a, b *rec) bool { return f(a.fv[s], b.fv[s]) }
			}
			if l.M <= 0 || l.M > 1 || l.U <= 0 || l.U > 1 {
				return fmt.Errorf("comparison %s level %s: m and u must be in (0,1]", c.Name, l.Name)
			}
		}
	}
	for bi := range m.Blocking {
		b := &m.Blocking[bi]
		if len(b.Keys) == 0 {
			return fmt.Errorf("blocking %s: no keys", b.Name)
		}
		b.keys = make([]keyFunc, len(b.Keys))
		for ki, k := range b.Keys {
			f, err := parseKey(k, known, slot)
			if err != nil {
				return fmt.Errorf("blocking %s: %w", b.Name, err)
			}
			b.keys[ki] = f
		}
	}
	return nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func choicesOf[V any](m map[string]V) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
