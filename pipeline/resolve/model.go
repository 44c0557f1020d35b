// Package resolve decides which person records describe the same real person: deterministic
// links on equal valid IDs, then Fellegi–Sunter over blocked candidate pairs, with m estimated
// by EM and u from random pairs, term-frequency adjustment on names, hard constraints (two
// different valid IDs never merge; human "different" decisions hold), constrained clustering,
// stable person ids across runs, and human review decisions that win over the model.
//
// The model — comparisons, their levels, weights and thresholds — is data (model.toml), kept
// apart from the engine; every score is explainable level by level. The package knows records
// (pipeline/records) and nothing of where they came from beyond the source name.
package resolve

import (
	_ "embed"
	"fmt"
	"math"
	"os"

	"github.com/BurntSushi/toml"
)

//go:embed model.toml
var defaultModel []byte

// Level is one outcome of a comparison.
type Level struct {
	Name string  `toml:"name"`
	Rule string  `toml:"rule"` // the engine's predicate that decides this level ("else" = always)
	M    float64 `toml:"m"`
	U    float64 `toml:"u"`
}

// Weight is the level's match weight, log2(m/u).
func (l Level) Weight() float64 { return math.Log2(l.M / l.U) }

// Comparison is one aspect of two records compared at ordered levels. When either record lacks
// the data the comparison is null and weighs nothing.
type Comparison struct {
	Name   string  `toml:"name"`
	TF     bool    `toml:"tf"` // adjust the first level's u by the term frequency of the value
	Levels []Level `toml:"levels"`
}

// Blocking is one rule for candidate pairs: records sharing all the keys are compared.
type Blocking struct {
	Name string   `toml:"name"`
	Keys []string `toml:"keys"`
}

// Model is the whole match model.
type Model struct {
	Threshold    float64 `toml:"threshold"`
	ReviewLow    float64 `toml:"review_low"`
	Prior        float64 `toml:"prior"`
	MaxBlock     int     `toml:"max_block"`
	EMIterations int     `toml:"em_iterations"`
	RandomPairs  int     `toml:"random_pairs"`
	// PriorFromIDs fixes the prior at the share of same-ID pairs among candidate pairs where both
	// records carry a valid ID, instead of letting EM move it.
	PriorFromIDs bool         `toml:"prior_from_ids"`
	Blocking     []Blocking   `toml:"blocking"`
	Comparisons  []Comparison `toml:"comparison"`
}

// DefaultModel is the model shipped with the hub.
func DefaultModel() (*Model, error) { return parseModel(defaultModel, "model.toml (built in)") }

// LoadModel reads a model file.
func LoadModel(path string) (*Model, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseModel(raw, path)
}

func parseModel(raw []byte, name string) (*Model, error) {
	var m Model
	md, err := toml.Decode(string(raw), &m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown setting %s", name, und[0])
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &m, nil
}

func (m *Model) validate() error {
	if m.Threshold <= 0 || m.Threshold >= 1 || m.ReviewLow < 0 || m.ReviewLow > m.Threshold {
		return fmt.Errorf("need 0 <= review_low <= threshold < 1")
	}
	if m.Prior <= 0 || m.Prior >= 1 {
		return fmt.Errorf("prior must be in (0,1)")
	}
	if m.MaxBlock <= 1 {
		m.MaxBlock = 300
	}
	if m.RandomPairs <= 0 {
		m.RandomPairs = 200000
	}
	for _, b := range m.Blocking {
		for _, k := range b.Keys {
			if _, ok := blockKeys[k]; !ok {
				return fmt.Errorf("blocking %s: unknown key %q", b.Name, k)
			}
		}
	}
	for _, c := range m.Comparisons {
		if len(c.Levels) < 2 || c.Levels[len(c.Levels)-1].Rule != "else" {
			return fmt.Errorf("comparison %s: needs at least two levels, the last with rule \"else\"", c.Name)
		}
		if _, ok := nullWhen[c.Name]; !ok {
			return fmt.Errorf("comparison %s: the engine has no such comparison", c.Name)
		}
		for _, l := range c.Levels {
			if _, ok := rules[l.Rule]; !ok && l.Rule != "else" {
				return fmt.Errorf("comparison %s level %s: unknown rule %q", c.Name, l.Name, l.Rule)
			}
			if l.M <= 0 || l.M > 1 || l.U <= 0 || l.U > 1 {
				return fmt.Errorf("comparison %s level %s: m and u must be in (0,1]", c.Name, l.Name)
			}
		}
	}
	return nil
}
