// Package report owns report kinds as data — a department's template workbook and a definition
// binding its defined names to SQL over the unified database (README.md) — and what is made of
// them: the figures of every community at once, the filled workbooks with the persons behind
// every figure, validation checks, masking, and builds stored as versions with their diffs.
// It renders no HTML and speaks no HTTP; delivery to departments is its sub-package deliver.
package report

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Builtin holds the kinds R01–R12 (kinds/<code>/kind.toml and template.xlsx).
//
//go:embed kinds
var builtin embed.FS

// Kind is one report kind: its definition and its template.
type Kind struct {
	Code       string `toml:"code"`
	Title      string `toml:"title"`
	Department string `toml:"department"`
	Sheet      string `toml:"sheet"`
	Template   string `toml:"template"`
	Header     Header `toml:"header"`
	Figures    []Figure
	Matrices   []Matrix `toml:"matrix"`
	Bands      []Band   `toml:"band"`
	Checks     []Check  `toml:"check"`
	FullValues struct {
		Roles []string `toml:"roles"`
	} `toml:"full_values"`

	// From is where the kind was read ("builtin:R05" or a folder).
	From string `toml:"-"`
	// TemplateBytes is the template workbook; Fingerprint hashes it with the definition.
	TemplateBytes []byte `toml:"-"`
	Fingerprint   string `toml:"-"`
}

// Header names the template cells the engine fills itself.
type Header struct {
	Unit   string `toml:"unit"`   // the community's name, or the street's on the roll-up
	Period string `toml:"period"` // 2026年11月
	Date   string `toml:"date"`   // the build date
}

// Figure is one number in one cell.
type Figure struct {
	Anchor  string `toml:"anchor"`
	Label   string `toml:"label"`
	Measure string `toml:"measure"` // count (default) | sum
	SQL     string `toml:"sql"`
}

// Matrix is a rows × columns block of numbers, with optional distinct totals.
type Matrix struct {
	Anchor     string   `toml:"anchor"`
	Label      string   `toml:"label"`
	Measure    string   `toml:"measure"`
	Rows       []string `toml:"rows"`
	Cols       []string `toml:"cols"`
	RowLabels  []string `toml:"row_labels"` // for drill-down and diffs (default: the row keys)
	ColLabels  []string `toml:"col_labels"`
	RowTotals  string   `toml:"row_totals"`
	ColTotals  string   `toml:"col_totals"`
	GrandTotal string   `toml:"grand_total"`
	SQL        string   `toml:"sql"`
}

// Band is repeated rows, one per result row.
type Band struct {
	Anchor  string            `toml:"anchor"`
	Label   string            `toml:"label"`
	Columns []string          `toml:"columns"`
	Mask    map[string]string `toml:"mask"` // result column → id | phone
	SQL     string            `toml:"sql"`
}

// Check is a validation rule over the kind's figures (and other kinds').
type Check struct {
	Rule string `toml:"rule"`
}

// Masks a band column may ask for.
const (
	MaskKindID    = "id"
	MaskKindPhone = "phone"
)

type kindFile struct {
	Kind
	Figure []Figure `toml:"figure"`
}

var codeRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// Builtins loads the built-in kinds, sorted by code.
func Builtins() ([]*Kind, error) {
	sub, err := fs.Sub(builtin, "kinds")
	if err != nil {
		return nil, err
	}
	return loadFS(sub, "builtin:")
}

// Load returns the built-in kinds with those of dir (a folder of kind folders) added or
// overriding them by code; dir "" = the built-ins alone. Every kind is checked (Validate).
func Load(dir string) ([]*Kind, error) {
	kinds, err := Builtins()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return kinds, nil
	}
	extra, err := loadFS(os.DirFS(dir), dir+string(filepath.Separator))
	if err != nil {
		return nil, err
	}
	byCode := map[string]*Kind{}
	for _, k := range kinds {
		byCode[k.Code] = k
	}
	for _, k := range extra {
		byCode[k.Code] = k
	}
	out := make([]*Kind, 0, len(byCode))
	for _, k := range byCode {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

func loadFS(fsys fs.FS, prefix string) ([]*Kind, error) {
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("report kinds %s: %w", prefix, err)
	}
	var out []*Kind
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if _, err := fs.Stat(fsys, e.Name()+"/kind.toml"); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		k, err := loadKind(fsys, e.Name(), prefix+e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

func loadKind(fsys fs.FS, dir, from string) (*Kind, error) {
	def, err := fs.ReadFile(fsys, dir+"/kind.toml")
	if err != nil {
		return nil, fmt.Errorf("report kind %s: %w", from, err)
	}
	var kf kindFile
	md, err := toml.NewDecoder(bytes.NewReader(def)).Decode(&kf)
	if err != nil {
		return nil, fmt.Errorf("report kind %s/kind.toml: %w", from, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, u := range und {
			keys[i] = u.String()
		}
		return nil, fmt.Errorf("report kind %s/kind.toml: unknown keys %s (see pipeline/report/README.md)", from, strings.Join(keys, ", "))
	}
	k := kf.Kind
	k.Figures = kf.Figure
	k.From = from
	if k.Template == "" {
		k.Template = "template.xlsx"
	}
	if k.Code != strings.ToUpper(dir) {
		return nil, fmt.Errorf("report kind %s/kind.toml: code %q must be the folder's name %q", from, k.Code, strings.ToUpper(dir))
	}
	k.TemplateBytes, err = fs.ReadFile(fsys, dir+"/"+k.Template)
	if err != nil {
		return nil, fmt.Errorf("report kind %s: template: %w", from, err)
	}
	h := sha256.New()
	h.Write(def)
	h.Write(k.TemplateBytes)
	k.Fingerprint = hex.EncodeToString(h.Sum(nil))[:16]
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("report kind %s: %w", from, err)
	}
	return &k, nil
}

// Validate checks the definition on its own (the template's anchors are checked when it is
// opened: see openTemplate).
func (k *Kind) Validate() error {
	if !codeRe.MatchString(k.Code) {
		return fmt.Errorf("code %q: upper-case letters, digits and _", k.Code)
	}
	if k.Title == "" {
		return fmt.Errorf("title is empty")
	}
	seen := map[string]string{}
	claim := func(anchor, what string) error {
		if anchor == "" {
			return fmt.Errorf("%s without an anchor", what)
		}
		if prev, ok := seen[anchor]; ok {
			return fmt.Errorf("anchor %q is both %s and %s", anchor, prev, what)
		}
		seen[anchor] = what
		return nil
	}
	for _, a := range []string{k.Header.Unit, k.Header.Period, k.Header.Date} {
		if a != "" {
			if err := claim(a, "a header cell"); err != nil {
				return err
			}
		}
	}
	measure := func(m, where string) error {
		if m != "" && m != "count" && m != "sum" {
			return fmt.Errorf("%s: measure %q (choices: count, sum)", where, m)
		}
		return nil
	}
	for _, f := range k.Figures {
		where := "figure " + f.Anchor
		if err := claim(f.Anchor, where); err != nil {
			return err
		}
		if err := measure(f.Measure, where); err != nil {
			return err
		}
		if strings.TrimSpace(f.SQL) == "" {
			return fmt.Errorf("%s: sql is empty", where)
		}
	}
	for _, m := range k.Matrices {
		where := "matrix " + m.Anchor
		if err := claim(m.Anchor, where); err != nil {
			return err
		}
		if err := measure(m.Measure, where); err != nil {
			return err
		}
		if len(m.Rows) == 0 || len(m.Cols) == 0 {
			return fmt.Errorf("%s: rows and cols must be listed", where)
		}
		if len(m.RowLabels) > 0 && len(m.RowLabels) != len(m.Rows) || len(m.ColLabels) > 0 && len(m.ColLabels) != len(m.Cols) {
			return fmt.Errorf("%s: row_labels/col_labels must match rows/cols in number", where)
		}
		for _, t := range []string{m.RowTotals, m.ColTotals, m.GrandTotal} {
			if t != "" {
				if err := claim(t, where+"'s totals"); err != nil {
					return err
				}
			}
		}
		if strings.TrimSpace(m.SQL) == "" {
			return fmt.Errorf("%s: sql is empty", where)
		}
	}
	for _, b := range k.Bands {
		where := "band " + b.Anchor
		if err := claim(b.Anchor, where); err != nil {
			return err
		}
		if len(b.Columns) == 0 {
			return fmt.Errorf("%s: columns must be listed", where)
		}
		for c, m := range b.Mask {
			if m != MaskKindID && m != MaskKindPhone {
				return fmt.Errorf("%s: mask %s = %q (choices: id, phone)", where, c, m)
			}
		}
		if strings.TrimSpace(b.SQL) == "" {
			return fmt.Errorf("%s: sql is empty", where)
		}
	}
	for _, c := range k.Checks {
		if _, err := parseRule(c.Rule); err != nil {
			return fmt.Errorf("check %q: %w", c.Rule, err)
		}
	}
	return nil
}
