package deptsim

import (
	"fmt"
	"strings"
	"time"

	"communityhub/pipeline/standardize/idcard"
)

// renderer writes one system's values from the truth, applying that system's quirks.
type renderer struct {
	pop       *Population
	q         *quirker
	anomalies []Anomaly
	gbk       bool // the system stores GBK: only GBK-representable characters may be written
}

func (rd *renderer) col(name string) *renderer { rd.q.col = name; return rd }

func (rd *renderer) person(i int) *Person { return &rd.pop.People[i] }

func (rd *renderer) hh(p *Person) *Household { return &rd.pop.Households[p.HH] }

// idOf renders a person's ID number into column col; numericOK lets an xlsx sheet store it as a
// number (float64). withID false renders the empty cell of a registration made without an ID.
func (rd *renderer) idOf(col string, p *Person, withID, numericOK bool) any {
	q := rd.col(col).q
	if p.IDNo == "" || !withID {
		return ""
	}
	if rd.pop.Age(p) < 16 && q.hit(IDMissingChild) {
		return ""
	}
	if q.hit(IDMissing) {
		return ""
	}
	if q.hit(IDMasked) {
		return maskID(p.IDNo)
	}
	id := p.IDNo
	if p.Legacy && q.hit(IDLegacy15) {
		id, _ = idcard.Downgrade(id)
	} else if q.hit(IDBadCheck) {
		id = mistype(q, id)
		rd.anomaly("invalid_id", p, "check digit fails: "+id)
	}
	if numericOK && isDigits(id) && len(id) == 18 && q.hit(IDNumeric) {
		rd.anomaly("invalid_id", p, "stored as a number: its last digits are lost")
		var f float64
		fmt.Sscanf(id, "%g", &f)
		return f
	}
	if strings.HasSuffix(id, "X") && q.hit(IDLowerX) {
		id = strings.ToLower(id)
	}
	if q.hit(IDFullWidth) {
		id = fullWidthDigits(id)
	}
	if q.hit(IDSpaces) {
		id = spaced(q, id)
	}
	return id
}

// kinIDOf is idOf for a person a row names as someone's family (a relief family's member other
// than the householder, a birth registration's mother or father): with IDMissingKin an adult's
// cell is left empty too (a child's already is with IDMissingChild). kin false is idOf.
func (rd *renderer) kinIDOf(col string, p *Person, kin, withID, numericOK bool) any {
	if kin && withID && p.IDNo != "" && rd.pop.Age(p) >= 16 && rd.col(col).q.hit(IDMissingKin) {
		return ""
	}
	return rd.idOf(col, p, withID, numericOK)
}

// kinID is kinIDOf for sinks that only hold text.
func (rd *renderer) kinID(col string, p *Person, kin, withID bool) string {
	return rd.kinIDOf(col, p, kin, withID, false).(string)
}

// sqlKey is a SQL row's key as a connector writes it into a location: the key columns' text
// joined by commas (table:v1,v2,…).
func sqlKey(parts ...any) string {
	ss := make([]string, len(parts))
	for i, p := range parts {
		ss[i] = fmt.Sprint(p)
	}
	return strings.Join(ss, ",")
}

// idText is idOf for sinks that only hold text.
func (rd *renderer) idText(col string, p *Person, withID bool) string {
	return rd.idOf(col, p, withID, false).(string)
}

func maskID(id string) string { return id[:4] + strings.Repeat("*", len(id)-8) + id[len(id)-4:] }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// mistype changes one character after the region code; MOD 11-2 catches every single substitution.
func mistype(q *quirker, id string) string {
	b := []byte(id)
	i := 6 + q.r.IntN(12)
	for {
		c := byte('0' + q.r.IntN(10))
		if i == 17 && q.r.IntN(11) == 0 {
			c = 'X'
		}
		if c != b[i] {
			b[i] = c
			return string(b)
		}
	}
}

func spaced(q *quirker, s string) string {
	switch q.r.IntN(3) {
	case 0:
		return " " + s
	case 1:
		return s + "  "
	default:
		rs := []rune(s)
		i := 6
		if len(rs) < 8 {
			i = len(rs) / 2
		}
		return string(rs[:i]) + " " + string(rs[i:])
	}
}

// nameOf renders a person's name with the system's name quirks.
func (rd *renderer) nameOf(col string, p *Person) string {
	q, n := rd.col(col).q, p.Name
	if _, ok := homophoneTypo(q.r, n); ok && q.hit(NameTypo) {
		n, _ = homophoneTypo(q.r, n)
	}
	if strings.Contains(n, "·") && q.hit(NameDotVariant) {
		n, _ = dotVariant(q.r, n, rd.gbk)
	}
	if _, ok := toTraditional(n); ok && q.hit(NameTrad) {
		n, _ = toTraditional(n)
	}
	if q.hit(NameSpaces) {
		n = strayspace(q.r, n)
	}
	return n
}

// Date layouts of the contract, by name.
const (
	fmtCompact = "20060102"
	fmtISO     = "2006-01-02"
	fmtSlash   = "2006/1/2"
	fmtDots    = "2006.01.02"
	fmtHan     = "2006年1月2日"
	fmtYM      = "2006.01"
)

var altFormats = []string{fmtCompact, fmtISO, fmtSlash, fmtDots, fmtHan}

// dateOf renders a date in the system's native layout with its date quirks. serialOK lets an
// xlsx sheet store an Excel date (time.Time) or a bare serial number (float64).
func (rd *renderer) dateOf(col string, t time.Time, native string, serialOK bool) any {
	q := rd.col(col).q
	if t.IsZero() {
		return ""
	}
	layout := native
	if q.hit(DateImpossible) {
		// Keep the year; write a day the month does not have (Feb 30, Apr 31 …).
		bad := [][2]int{{2, 30}, {2, 31}, {4, 31}, {6, 31}, {9, 31}, {11, 31}}[q.r.IntN(6)]
		return strings.Replace(time.Date(t.Year(), time.Month(bad[0]), 1, 0, 0, 0, 0, time.UTC).Format(dayLayout(layout)), "{D}", fmt.Sprint(bad[1]), 1)
	}
	if serialOK && q.hit(DateSerial) {
		return excelSerial(t)
	}
	if q.hit(DateYearMonth) {
		return t.Format(fmtYM)
	}
	if q.hit(DateAltFormat) {
		for layout == native {
			layout = altFormats[q.r.IntN(len(altFormats))]
		}
	}
	return t.Format(layout)
}

// dayLayout turns a layout's day into a placeholder so impossible days can be written.
func dayLayout(layout string) string {
	switch layout {
	case fmtSlash, fmtHan:
		return strings.Replace(layout, "2", "{D}", 1)
	case fmtYM:
		return fmtDots[:7] + ".{D}"
	default:
		return strings.Replace(layout, "02", "{D}", 1)
	}
}

// excelSerial is the 1900 date system's day number (with Excel's phantom 1900-02-29).
func excelSerial(t time.Time) float64 {
	return float64(t.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
}

// birthOf renders the birth date, sometimes planting a birth date that disagrees with the ID.
func (rd *renderer) birthOf(col string, p *Person, native string, serialOK bool) any {
	rd.col(col)
	b := p.Birth
	if p.IDNo != "" && rd.q.hit(BirthMismatch) {
		b = b.AddDate(0, 0, 1+rd.q.r.IntN(40))
		if rd.q.r.IntN(2) == 0 {
			b = p.Birth.AddDate(-1-rd.q.r.IntN(3), 0, 0)
		}
		rd.anomaly("birth_mismatch", p, fmt.Sprintf("birth %s vs ID %s", b.Format(fmtISO), p.Birth.Format(fmtISO)))
	}
	return rd.dateOf(col, b, native, serialOK)
}

// sexOf returns 1 or 2, sometimes planting a sex that disagrees with the ID.
func (rd *renderer) sexOf(col string, p *Person) int {
	if rd.col(col); p.IDNo != "" && rd.q.hit(SexMismatch) {
		rd.anomaly("sex_mismatch", p, fmt.Sprintf("sex %d vs ID %d", 3-p.Sex, p.Sex))
		return 3 - p.Sex
	}
	return p.Sex
}

func sexLabel(s int) string { return [...]string{"未知", "男", "女"}[s] }

// phoneOf renders the person's contact number with the system's phone quirks.
func (rd *renderer) phoneOf(col string, p *Person) string {
	q, h := rd.col(col).q, rd.hh(p)
	// One base number: the stale one, a relative's, the household landline, or the person's own.
	ph, rel := p.Phone, rd.relativePhone(p)
	switch {
	case p.OldPhone != "" && q.hit(PhoneStale):
		ph = p.OldPhone
	case ph == "":
		ph = firstNonEmpty(rel, h.Landline)
	case rel != "" && q.hit(PhoneRelative):
		ph = rel
	case h.Landline != "" && q.hit(PhoneLandline):
		ph = h.Landline
	}
	if ph == "" {
		return ""
	}
	if strings.HasPrefix(ph, "1") {
		if q.hit(PhonePlus86) {
			ph = []string{"+86", "+86 ", "+86-", "86"}[q.r.IntN(4)] + ph
		}
		if q.hit(PhoneSep) {
			n := len(ph)
			sep := []string{"-", " "}[q.r.IntN(2)]
			ph = ph[:n-8] + sep + ph[n-8:n-4] + sep + ph[n-4:]
		}
	}
	if other := firstNonEmpty(p.OldPhone, rel, h.Landline); other != "" && q.hit(PhoneMulti) {
		ph += []string{";", "；", "/", ",", " "}[q.r.IntN(5)] + other
	}
	return ph
}

// relative is another living household member with a mobile, if any.
func (rd *renderer) relative(p *Person) *Person {
	for _, m := range rd.hh(p).Members {
		if o := rd.person(m); o.Idx != p.Idx && o.Phone != "" && o.Status == Active {
			return o
		}
	}
	return nil
}

// relativePhone is the mobile of another household member, if any.
func (rd *renderer) relativePhone(p *Person) string {
	if o := rd.relative(p); o != nil {
		return o.Phone
	}
	return ""
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// addrOf renders where the person lives, with the system's address quirks.
func (rd *renderer) addrOf(col string, p *Person) string {
	q := rd.col(col).q
	a := rd.hh(p).Addr
	if p.PrevAddr != nil && q.hit(AddrStale) {
		a = *p.PrevAddr
	}
	s := a.Canonical()
	if bareRoad(a.Road) && q.hit(AddrDash) {
		s = fmt.Sprintf("%s%d-%d-%d-%d", a.Road, a.Number, a.Building, a.Unit, a.Room)
	} else if q.hit(AddrVariant) {
		s = addressStyles[q.r.IntN(len(addressStyles))](a)
	}
	if q.hit(AddrFullWidth) {
		s = fullWidthDigits(s)
	}
	return s
}

// present reports whether the person should appear in an active list of this system: living
// here, or — with the stale quirk — dead or moved out but not yet removed (an anomaly).
func (rd *renderer) present(p *Person) bool {
	if p.Status == Active {
		return true
	}
	if !rd.q.hit(StaleActive) {
		return false
	}
	kind := "dead_but_active"
	if p.Status == MovedOut {
		kind = "moved_but_active"
	}
	rd.anomaly(kind, p, fmt.Sprintf("%s since %s", [...]string{"", "死亡", "迁出"}[p.Status], p.StatusDate.Format(fmtISO)))
	return true
}

// anomaly records a planted inconsistency for the row being rendered (the next record added).
func (rd *renderer) anomaly(kind string, p *Person, detail string) {
	rd.anomalies = append(rd.anomalies, Anomaly{Kind: kind, System: rd.q.sys, Person: p.TID, Detail: detail, recIdx: -1})
}

// add appends a record, tying pending anomalies to it.
func (rd *renderer) add(t *Table, vals []any, key string, roles ...Role) {
	for i := range rd.anomalies {
		if rd.anomalies[i].recIdx == -1 {
			rd.anomalies[i].recIdx, rd.anomalies[i].table, rd.anomalies[i].Key = len(t.Recs), t, key
		}
	}
	t.Recs = append(t.Recs, Record{Vals: vals, Roles: roles, Quirks: rd.q.take(), Key: key})
}

// twice renders the person's row with emit, then — with the duplicate quirk — a second
// registration of the same person, sometimes without an ID.
func (rd *renderer) twice(p *Person, emit func(withID bool)) {
	emit(true)
	rd.q.col = ""
	if !rd.q.hit(Duplicate) {
		return
	}
	rd.anomaly("duplicate", p, "registered twice")
	emit(!(p.IDNo != "" && rd.q.hit(DupWithoutID)))
}

func resident(p *Person) Role { return Role{Role: "resident", Person: p.TID} }
