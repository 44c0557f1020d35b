package golden

import (
	_ "embed"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"communityhub/schema"
)

//go:embed survivorship.toml
var defaultRules []byte

// The rule kinds a golden field may be chosen by.
const (
	// RuleAuthority: the first of the ranked roles that has a value wins; among records of
	// equal rank the newest timestamp (when the rule names timestamp fields), then record order.
	RuleAuthority = "authority"
	// RuleFreshness: the newest timestamp wins (records without one after those with one);
	// then the ranked roles; then record order. Without timestamp fields it is the role order.
	RuleFreshness = "freshness"
	// RuleFirst: the first record with a value, in record order (role "" still last).
	RuleFirst = "first"
)

// RuleKinds lists the valid rule kinds.
var RuleKinds = []string{RuleAuthority, RuleFreshness, RuleFirst}

// Fields lists the golden fields a survivorship file gives a rule for, in the order Build
// chooses them.
var Fields = []string{"id_no", "name", "birth_date", "sex", "ethnicity", "phone", "address",
	"hukou_status", "status_date", "household_no", "relation", "person_type"}

// fromIDFields are the fields GB 11643 encodes in the ID itself.
var fromIDFields = map[string]bool{"birth_date": true, "sex": true}

// FieldRule says how one golden field is chosen among a person's records.
type FieldRule struct {
	Rule string `toml:"rule"` // RuleKinds
	// Roles rank the sources by role (schema.SourceRoles): earlier wins. Roles not listed rank
	// after the listed ones; a source without a role ranks after every role.
	Roles []string `toml:"roles"`
	// Allow, when set, is the only roles whose records may supply the field.
	Allow []string `toml:"allow"`
	// Timestamp names canonical fields holding a record's time (the first the record has
	// counts; a value that does not read as a time counts as none); see RuleAuthority and
	// RuleFreshness.
	Timestamp []string `toml:"timestamp"`
	// FromID (birth_date and sex only): read the value from the golden id_no when it has one.
	FromID bool `toml:"from_id"`
	// Implied is the value a record of a role stands for when it has none of its own.
	Implied map[string]string `toml:"implied"`

	rank  map[string]int
	allow map[string]bool
}

// Rules are the survivorship rules: one FieldRule per golden field (every one of Fields).
type Rules struct {
	Source string                // where they were read from, for messages
	Fields map[string]*FieldRule // by golden field
}

// DefaultRules are the rules shipped with the hub (survivorship.toml beside this package).
func DefaultRules() (*Rules, error) { return parseRules(defaultRules, "survivorship.toml (built in)") }

// DefaultRulesText is the built-in survivorship.toml: the template of a deployment's own file.
func DefaultRulesText() []byte { return append([]byte(nil), defaultRules...) }

// LoadRules reads a survivorship file; its errors name the file.
func LoadRules(path string) (*Rules, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseRules(raw, path)
}

// ParseRules reads survivorship rules from TOML text. Every error names the field, the setting
// and the valid choices: an unknown golden field, rule kind, role or setting, and a field
// without a rule.
func ParseRules(raw []byte) (*Rules, error) { return parseRules(raw, "survivorship rules") }

func parseRules(raw []byte, name string) (*Rules, error) {
	var fields map[string]*FieldRule
	md, err := toml.Decode(string(raw), &fields)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, fmt.Errorf("%s: field %s: unknown setting %q (settings: rule, roles, allow, timestamp, from_id, implied)", name, k[0], k[len(k)-1])
	}
	r := &Rules{Source: name, Fields: fields}
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

func (r *Rules) validate() error {
	known := map[string]bool{}
	for _, f := range Fields {
		known[f] = true
	}
	names := make([]string, 0, len(r.Fields))
	for f := range r.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if !known[f] {
			return fmt.Errorf("unknown field %q (golden fields: %s)", f, strings.Join(Fields, ", "))
		}
	}
	var missing []string
	for _, f := range Fields {
		if r.Fields[f] == nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no rule for field(s) %s (every golden field needs one: %s)", strings.Join(missing, ", "), strings.Join(Fields, ", "))
	}
	roles := map[string]bool{}
	for _, n := range schema.SourceRoleNames() {
		roles[n] = true
	}
	checkRoles := func(field, setting string, list []string) error {
		seen := map[string]bool{}
		for _, x := range list {
			if !roles[x] {
				return fmt.Errorf("field %s: %s: unknown role %q (roles: %s)", field, setting, x, strings.Join(schema.SourceRoleNames(), ", "))
			}
			if seen[x] {
				return fmt.Errorf("field %s: %s: role %q listed twice", field, setting, x)
			}
			seen[x] = true
		}
		return nil
	}
	canonical := map[string]bool{}
	for _, f := range schema.Fields {
		canonical[f.Name] = true
	}
	for _, f := range Fields {
		fr := r.Fields[f]
		if !contains(RuleKinds, fr.Rule) {
			return fmt.Errorf("field %s: rule %q unknown (rules: %s)", f, fr.Rule, strings.Join(RuleKinds, ", "))
		}
		if fr.Rule == RuleFirst && len(fr.Roles) > 0 {
			return fmt.Errorf("field %s: roles: rule %q ignores the ranking of roles (use %q or %q to rank them)", f, RuleFirst, RuleAuthority, RuleFreshness)
		}
		if err := checkRoles(f, "roles", fr.Roles); err != nil {
			return err
		}
		if err := checkRoles(f, "allow", fr.Allow); err != nil {
			return err
		}
		for _, t := range fr.Timestamp {
			if !canonical[t] {
				return fmt.Errorf("field %s: timestamp: unknown canonical field %q (e.g. updated_at, collected_at, registered_at; see schema.Fields)", f, t)
			}
		}
		if fr.FromID && !fromIDFields[f] {
			return fmt.Errorf("field %s: from_id applies only to birth_date and sex", f)
		}
		for role := range fr.Implied {
			if !roles[role] {
				return fmt.Errorf("field %s: implied: unknown role %q (roles: %s)", f, role, strings.Join(schema.SourceRoleNames(), ", "))
			}
		}
		fr.rank = map[string]int{}
		for i, x := range fr.Roles {
			fr.rank[x] = i
		}
		if len(fr.Allow) > 0 {
			fr.allow = map[string]bool{}
			for _, x := range fr.Allow {
				fr.allow[x] = true
			}
		}
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// rankOf is a role's place in the rule's ranking: listed roles by their order, other roles
// after them, no role after every role.
func (fr *FieldRule) rankOf(role string) int {
	if role == "" {
		return len(fr.Roles) + 1
	}
	if i, ok := fr.rank[role]; ok {
		return i
	}
	return len(fr.Roles)
}

// allows reports whether a record of the role may supply the field.
func (fr *FieldRule) allows(role string) bool { return fr.allow == nil || fr.allow[role] }
