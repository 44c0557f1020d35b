package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// A rule is `sum op sum`: each side a sum of terms with + and -, op one of = <= >= < >.
// A term is a number, an anchor, KIND.anchor (another kind's figure for the same community
// and period), a matrix cell m[r,c] with * for a total (m[r,*], m[*,c], m[*,*]), or
// band.rows (the number of rows a band got).
type rule struct {
	left, right []term
	op          string
}

type term struct {
	sign     float64
	num      float64
	isNum    bool
	kind     string // "" = this kind
	name     string
	row, col string // matrix cell keys ("*" = total); "" for a plain anchor
}

func (t term) String() string {
	if t.isNum {
		return strconv.FormatFloat(t.num, 'f', -1, 64)
	}
	s := t.name
	if t.kind != "" {
		s = t.kind + "." + s
	}
	if t.row != "" {
		s += "[" + t.row + "," + t.col + "]"
	}
	return s
}

func parseRule(s string) (rule, error) {
	var r rule
	for _, op := range []string{"<=", ">=", "=", "<", ">"} {
		if i := strings.Index(s, op); i >= 0 {
			l, err := parseSum(s[:i])
			if err != nil {
				return r, err
			}
			rt, err := parseSum(s[i+len(op):])
			if err != nil {
				return r, err
			}
			return rule{left: l, right: rt, op: op}, nil
		}
	}
	return r, fmt.Errorf("no comparison (one of = <= >= < >)")
}

func parseSum(s string) ([]term, error) {
	var out []term
	sign := 1.0
	rs := []rune(strings.TrimSpace(s))
	if len(rs) == 0 {
		return nil, fmt.Errorf("a side of the rule is empty")
	}
	i := 0
	expectTerm := true
	for i < len(rs) {
		c := rs[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case (c == '+' || c == '-') && !expectTerm:
			if c == '-' {
				sign = -1
			} else {
				sign = 1
			}
			expectTerm = true
			i++
		case expectTerm:
			j := i
			depth := 0
			for j < len(rs) && (depth > 0 || !unicode.IsSpace(rs[j]) && rs[j] != '+' && rs[j] != '-') {
				if rs[j] == '[' {
					depth++
				} else if rs[j] == ']' {
					depth--
				}
				j++
			}
			t, err := parseTerm(string(rs[i:j]))
			if err != nil {
				return nil, err
			}
			t.sign = sign
			out = append(out, t)
			expectTerm = false
			i = j
		default:
			return nil, fmt.Errorf("expected + or - before %q", string(rs[i:]))
		}
	}
	if expectTerm {
		return nil, fmt.Errorf("a rule ends with an operator")
	}
	return out, nil
}

func parseTerm(s string) (term, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return term{num: v, isNum: true}, nil
	}
	var t term
	if i := strings.IndexByte(s, '['); i >= 0 {
		if !strings.HasSuffix(s, "]") {
			return t, fmt.Errorf("term %q: a matrix cell is name[row,col]", s)
		}
		row, col, ok := strings.Cut(s[i+1:len(s)-1], ",")
		if !ok {
			return t, fmt.Errorf("term %q: a matrix cell is name[row,col]", s)
		}
		t.row, t.col = strings.TrimSpace(row), strings.TrimSpace(col)
		if t.row == "" || t.col == "" {
			return t, fmt.Errorf("term %q: empty row or column key (* for a total)", s)
		}
		s = s[:i]
	}
	if k, n, ok := strings.Cut(s, "."); ok && n != "rows" {
		if !codeRe.MatchString(k) {
			return t, fmt.Errorf("term %q: %q is not a kind code", s, k)
		}
		t.kind, s = k, n
	}
	if s == "" || !isName(s) {
		return t, fmt.Errorf("term %q is not an anchor", s)
	}
	t.name = s
	return t, nil
}

func isName(s string) bool {
	for i, r := range s {
		if !(unicode.IsLetter(r) || r == '_' || i > 0 && (unicode.IsDigit(r) || r == '.')) {
			return false
		}
	}
	return true
}

// value looks up a term for one community: (value, found).
type valueOf func(t term) (float64, bool)

// eval checks the rule; detail spells out both sides, or names the term that is missing.
func (r rule) eval(v valueOf) (ok bool, detail string) {
	sum := func(ts []term) (float64, []string, error) {
		total := 0.0
		var parts []string
		for _, t := range ts {
			x := t.num
			if !t.isNum {
				var found bool
				if x, found = v(t); !found {
					return 0, nil, fmt.Errorf("%s is not a figure of this build", t)
				}
			}
			total += t.sign * x
			p := fmt.Sprintf("%s=%s", t, strconv.FormatFloat(x, 'f', -1, 64))
			if t.sign < 0 {
				p = "-" + p
			}
			parts = append(parts, p)
		}
		return total, parts, nil
	}
	l, lp, err := sum(r.left)
	if err != nil {
		return false, err.Error()
	}
	rt, rp, err := sum(r.right)
	if err != nil {
		return false, err.Error()
	}
	const eps = 1e-6
	switch r.op {
	case "=":
		ok = math.Abs(l-rt) < eps
	case "<=":
		ok = l <= rt+eps
	case ">=":
		ok = l >= rt-eps
	case "<":
		ok = l < rt-eps
	case ">":
		ok = l > rt+eps
	}
	return ok, fmt.Sprintf("%s (%g) %s %s (%g)", strings.Join(lp, " + "), l, r.op, strings.Join(rp, " + "), rt)
}
