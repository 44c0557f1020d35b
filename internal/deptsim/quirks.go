package deptsim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
)

// Quirk names one kind of mess a real export shows (see the contract's "Common quirks").
// Each quirk has a rate per system: the probability that it is applied where it can apply
// (lower-case x only to IDs ending in X, a stale address only to someone who moved …).
type Quirk string

const (
	IDLowerX       Quirk = "id_lower_x"       // 32010519580304123x
	IDFullWidth    Quirk = "id_fullwidth"     // full-width digits
	IDSpaces       Quirk = "id_spaces"        // spaces around or inside
	IDLegacy15     Quirk = "id_legacy15"      // the 15-digit form of a pre-1999 number
	IDBadCheck     Quirk = "id_bad_check"     // one character mistyped: the check fails
	IDMissing      Quirk = "id_missing"       // empty
	IDMissingChild Quirk = "id_missing_child" // empty, for a child under 16
	IDMasked       Quirk = "id_masked"        // 3201**********1234
	IDNumeric      Quirk = "id_numeric"       // typed into Excel as a number: last digits lost
	IDMissingKin   Quirk = "id_missing_kin"   // empty, for an adult named as family (relief member, a birth's parent)
	// IDMissingNamesake: empty, for a son who bears his father's name (grid rows collected at the door).
	IDMissingNamesake Quirk = "id_missing_namesake"
	CertSpaces        Quirk = "cert_spaces" // a 20-character 残疾证号 with spaces around it

	NameTrad       Quirk = "name_trad"        // 張偉 for 张伟
	NameDotVariant Quirk = "name_dot_variant" // 阿卜杜•热合曼, 阿卜杜热合曼
	NameSpaces     Quirk = "name_spaces"      // 张  三
	NameTypo       Quirk = "name_typo"        // 张玮 for 张伟
	// NameNamesake (population): a son is given his father's full name, so one flat holds two
	// people of one name. Its rate is per household with a father and a son.
	NameNamesake Quirk = "name_namesake"

	DateAltFormat  Quirk = "date_alt_format" // another of the contract's formats
	DateYearMonth  Quirk = "date_year_month" // 1958.03
	DateImpossible Quirk = "date_impossible" // 1958-02-30
	DateSerial     Quirk = "date_serial"     // an Excel serial number (xlsx only)

	PhonePlus86   Quirk = "phone_plus86"   // +86 138…
	PhoneSep      Quirk = "phone_sep"      // 138-1234-5678, 138 1234 5678
	PhoneMulti    Quirk = "phone_multi"    // 138…;139…
	PhoneRelative Quirk = "phone_relative" // a relative's number
	PhoneLandline Quirk = "phone_landline" // 025-8xxxxxxx
	PhoneStale    Quirk = "phone_stale"    // the number before the person changed it

	AddrVariant   Quirk = "addr_variant"   // another way of writing the same flat
	AddrFullWidth Quirk = "addr_fullwidth" // full-width digits
	AddrStale     Quirk = "addr_stale"     // the flat before a recent move
	AddrDash      Quirk = "addr_dash"      // 吉兆营92-18-4-502: number-building-unit-room on a road without 路/街/巷

	StaleActive   Quirk = "stale_active"    // dead or moved out per 户籍, still active here
	Duplicate     Quirk = "duplicate"       // the person registered twice
	DupWithoutID  Quirk = "dup_without_id"  // … and the second time without an ID
	BirthMismatch Quirk = "birth_mismatch"  // the birth date field disagrees with the ID
	SexMismatch   Quirk = "sex_mismatch"    // the sex field disagrees with the ID
	BadBytes      Quirk = "bad_bytes"       // a row with bytes that are not valid in the file's encoding
	WrongColumns  Quirk = "wrong_columns"   // a row with a column too many or too few
	LedgerBlank   Quirk = "ledger_blank"    // a blank row inside a hand-kept ledger
	LedgerSubtot  Quirk = "ledger_subtotal" // a 小计/合计 row inside a ledger
	// LedgerNote: a note row under a sheet's table in one of the usual wordings (填表说明：…,
	// 说明：…, 注：…, 备注：…), merged across the sheet or typed into its first cell. Drawn per
	// sheet and recorded on the sheet's last record.
	LedgerNote Quirk = "ledger_note"
)

// PopulationQuirks is the QuirkConfig entry of the quirks drawn when the people are generated
// (NameNamesake), before any system renders them.
const PopulationQuirks = "population"

// Rates maps each quirk to its probability for one system.
type Rates map[Quirk]float64

// QuirkConfig holds the rates of every system, keyed by system name (see Systems).
// A JSON file of the same shape overrides the defaults one rate at a time.
type QuirkConfig map[string]Rates

// idMess is the ID mess of a system that is typed by hand.
func idMess(scale float64) Rates {
	return Rates{IDLowerX: 0.3, IDFullWidth: 0.01 * scale, IDSpaces: 0.02 * scale, IDBadCheck: 0.01 * scale, IDMissing: 0.01 * scale}
}

func merge(rs ...Rates) Rates {
	out := Rates{}
	for _, r := range rs {
		for k, v := range r {
			out[k] = v
		}
	}
	return out
}

var (
	nameMess = Rates{NameTrad: 0.01, NameDotVariant: 0.4, NameSpaces: 0.01, NameTypo: 0.005}
	// phoneMess and addrMess are typical of systems where staff or residents type contact details.
	phoneMess = Rates{PhonePlus86: 0.03, PhoneSep: 0.05, PhoneMulti: 0.04, PhoneRelative: 0.03, PhoneLandline: 0.05, PhoneStale: 0.5}
	addrMess  = Rates{AddrVariant: 0.5, AddrFullWidth: 0.02, AddrStale: 0.5, AddrDash: 0.1}
	recMess   = Rates{StaleActive: 0.6, Duplicate: 0.01, DupWithoutID: 0.4, BirthMismatch: 0.003, SexMismatch: 0.002}
)

// DefaultQuirks returns the realistic default rates: 户籍 clean, door-to-door collection messy.
func DefaultQuirks() QuirkConfig {
	return QuirkConfig{
		PopulationQuirks: {NameNamesake: 0.03},
		"hj":             {IDLegacy15: 0.25, AddrVariant: 0.3},
		"floating":       merge(idMess(0.5), nameMess, phoneMess, addrMess, recMess, Rates{NameTrad: 0.005, DateAltFormat: 0}),
		"relief":         merge(idMess(1), nameMess, addrMess, recMess, Rates{IDMissingChild: 0.6, IDMissingKin: 0.08, IDLegacy15: 0.1}),
		"elderly":        merge(idMess(1), nameMess, phoneMess, addrMess, recMess, Rates{IDLegacy15: 0.15, DateImpossible: 0.002}),
		"disabled":       merge(nameMess, phoneMess, addrMess, recMess, Rates{IDLowerX: 0.3, IDLegacy15: 0.05, CertSpaces: 0.03, DateAltFormat: 0.2, BadBytes: 0.004, WrongColumns: 0.004}),
		"employment":     merge(idMess(1), nameMess, phoneMess, addrMess, recMess, Rates{DateAltFormat: 0.5, DateYearMonth: 0.03, DateImpossible: 0.003}),
		"insurance":      merge(Rates{IDLegacy15: 0.2, IDLowerX: 0.2, IDSpaces: 0.01}, nameMess, recMess, Rates{BirthMismatch: 0.002}),
		"health":         merge(idMess(1), nameMess, phoneMess, recMess, Rates{IDNumeric: 0.03, DateSerial: 0.2, DateAltFormat: 0.2, IDMissingChild: 0.3, IDMissingKin: 0.05, LedgerNote: 0.05}),
		"veterans":       merge(idMess(1), nameMess, phoneMess, addrMess, recMess, Rates{IDNumeric: 0.15, DateAltFormat: 0.3, DateSerial: 0.2, LedgerNote: 1}),
		"volunteers":     merge(nameMess, phoneMess, Rates{NameTrad: 0.04, NameSpaces: 0.02, Duplicate: 0.02, StaleActive: 0.8}),
		"party":          merge(idMess(1), nameMess, phoneMess, recMess, Rates{DateImpossible: 0}),
		"grid":           merge(idMess(4), nameMess, phoneMess, Rates{NameTrad: 0.02, NameTypo: 0.02, AddrVariant: 0.9, AddrFullWidth: 0.05, AddrDash: 0.3, PhoneStale: 0.05, Duplicate: 0.01, DupWithoutID: 0.5, WrongColumns: 0.001, IDMissingNamesake: 0.6}),
		"ledger":         merge(idMess(2), nameMess, phoneMess, addrMess, Rates{IDNumeric: 0.2, DateSerial: 0.3, DateAltFormat: 0.3, LedgerBlank: 0.02, LedgerSubtot: 0.01, LedgerNote: 0.8, StaleActive: 0.5}),
	}
}

// LoadQuirks reads a JSON file {"grid": {"id_bad_check": 0.05}, …} over the defaults.
// Unknown systems or quirks are errors naming the file and the key.
func LoadQuirks(path string) (QuirkConfig, error) {
	cfg := DefaultQuirks()
	if path == "" {
		return cfg, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var over map[string]map[string]float64
	if err := json.Unmarshal(raw, &over); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	known := map[Quirk]bool{}
	for _, rs := range cfg {
		for q := range rs {
			known[q] = true
		}
	}
	for _, q := range allQuirks {
		known[q] = true
	}
	for sys, rs := range over {
		if _, ok := cfg[sys]; !ok {
			return nil, fmt.Errorf("%s: unknown system %q (known: %s)", path, sys, strings.Join(cfg.systems(), ", "))
		}
		for q, v := range rs {
			if !known[Quirk(q)] {
				return nil, fmt.Errorf("%s: system %q: unknown quirk %q", path, sys, q)
			}
			if v < 0 || v > 1 {
				return nil, fmt.Errorf("%s: system %q: quirk %q: rate %v is not in [0,1]", path, sys, q, v)
			}
			cfg[sys][Quirk(q)] = v
		}
	}
	return cfg, nil
}

var allQuirks = []Quirk{IDLowerX, IDFullWidth, IDSpaces, IDLegacy15, IDBadCheck, IDMissing, IDMissingChild, IDMasked, IDNumeric,
	NameTrad, NameDotVariant, NameSpaces, NameTypo, DateAltFormat, DateYearMonth, DateImpossible, DateSerial,
	PhonePlus86, PhoneSep, PhoneMulti, PhoneRelative, PhoneLandline, PhoneStale, AddrVariant, AddrFullWidth, AddrStale,
	StaleActive, Duplicate, DupWithoutID, BirthMismatch, SexMismatch, BadBytes, WrongColumns, LedgerBlank, LedgerSubtot,
	IDMissingKin, IDMissingNamesake, CertSpaces, NameNamesake, AddrDash, LedgerNote}

func (c QuirkConfig) systems() []string {
	var out []string
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// QuirkStat counts, for one system and quirk, how often it could apply and how often it did.
type QuirkStat struct {
	System string
	Quirk  Quirk
	Rate   float64
	Trials int
	Hits   int
}

// quirker draws the quirks of one system's rows and remembers, per row, which ones it applied
// and to which column (so tests can find each one in the written file).
type quirker struct {
	sys   string
	r     *rand.Rand
	rates Rates
	stats map[Quirk]*QuirkStat
	col   string   // the column being rendered
	cur   []string // "column:quirk" applied to the current row
}

func newQuirker(sys string, seed uint64, rates Rates) *quirker {
	var h uint64 = 14695981039346656037
	for _, c := range []byte(sys) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return &quirker{sys: sys, r: rand.New(rand.NewPCG(seed, h)), rates: rates, stats: map[Quirk]*QuirkStat{}}
}

// hit draws quirk k (if it has a rate here) and records it on the current row and column.
func (q *quirker) hit(k Quirk) bool {
	rate := q.rates[k]
	if rate <= 0 {
		return false
	}
	st := q.stats[k]
	if st == nil {
		st = &QuirkStat{System: q.sys, Quirk: k, Rate: rate}
		q.stats[k] = st
	}
	st.Trials++
	if q.r.Float64() >= rate {
		return false
	}
	st.Hits++
	q.cur = append(q.cur, q.col+":"+string(k))
	return true
}

// take returns the current row's applied quirks and starts a new row.
func (q *quirker) take() []string {
	out := q.cur
	q.cur = nil
	return out
}

func (q *quirker) statList() []QuirkStat {
	var out []QuirkStat
	for _, s := range q.stats {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Quirk < out[j].Quirk })
	return out
}
