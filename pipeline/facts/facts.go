package facts

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sort"
	"strings"
	"time"

	"communityhub/pipeline/records"
	"communityhub/pipeline/store"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Stage is the stage name of the counts Build returns.
const Stage = "facts"

// TableNames are the facts tables Save rewrites, in the order it writes them.
var TableNames = []string{"facts.hukou", "facts.floating", "facts.relief", "facts.elderly", "facts.disabled", "facts.employment",
	"facts.insurance", "facts.health", "facts.veterans", "facts.party", "facts.volunteers", "facts.grid"}

// Key is what every facts row starts with: the golden person, the record and its source.
type Key struct {
	PersonID, RecordKey, Source string
}

// Hukou is a row of facts.hukou (role hukou).
type Hukou struct {
	Key
	Status      sql.Null[string] // 正常 | 死亡 | 迁出
	StatusDate  sql.Null[time.Time]
	HouseholdNo sql.Null[string]
	Relation    sql.Null[string]
}

// Floating is a row of facts.floating (role floating).
type Floating struct {
	Key
	PermitNo     sql.Null[string]
	RegisteredAt sql.Null[time.Time]
	Status       sql.Null[string] // 有效 | 注销
}

// Relief is a row of facts.relief (roles relief_family and relief_member): one per person of a
// family, the family's values on each.
type Relief struct {
	Key
	FamilyID      sql.Null[string]
	IsHead        sql.Null[bool]
	Relation      sql.Null[string]
	ReliefType    sql.Null[string] // 城市低保 | 特困供养 | 临时救助
	ReliefStatus  sql.Null[string] // 在保 | 停保
	MonthlyAmount sql.Null[duckdb.Decimal]
	FamilyPersons sql.Null[int32]
	Since         sql.Null[time.Time]
	Disabled      sql.Null[bool]
}

// Elderly is a row of facts.elderly (role elderly; role ledger when the ledger says so).
type Elderly struct {
	Key
	AllowanceBand sql.Null[string] // 80-89 | 90-99 | 100+
	LivesAlone    sql.Null[bool]
	Services      sql.Null[[]string]
}

// Disabled is a row of facts.disabled (role disabled).
type Disabled struct {
	Key
	CertNo        sql.Null[string]
	Category      sql.Null[int32] // 1–7
	CategoryName  sql.Null[string]
	Grade         sql.Null[int32] // 1–4
	LivingSubsidy sql.Null[bool]
	CareSubsidy   sql.Null[bool]
	IssuedAt      sql.Null[time.Time]
	GuardianName  sql.Null[string]
}

// Employment is a row of facts.employment (role employment).
type Employment struct {
	Key
	Status       sql.Null[string] // 登记失业 | 就业 | 灵活就业
	Difficulty   sql.Null[string] // 4050人员 | 零就业家庭 | 残疾人
	RegisteredAt sql.Null[time.Time]
	Education    sql.Null[string]
}

// Insurance is a row of facts.insurance (role insurance).
type Insurance struct {
	Key
	RecordNo      sql.Null[string]
	Category      sql.Null[string] // 职工 | 城乡居民
	Status        sql.Null[string] // 参保缴费 | 暂停 | 终止
	Year          sql.Null[int32]
	CommunityText sql.Null[string]
}

// Health is a row of facts.health (role health): one per person a row names.
type Health struct {
	Key
	Role              string // resident | mother | father
	RecordNo          sql.Null[string]
	Doctor            sql.Null[string]
	SignedAt          sql.Null[time.Time]
	Chronic           sql.Null[[]string]
	ChildBirthDate    sql.Null[time.Time]
	BirthRegisteredAt sql.Null[time.Time]
}

// Veteran is a row of facts.veterans (role veterans).
type Veteran struct {
	Key
	EnlistedAt    sql.Null[time.Time] // first day of the month
	DischargedAt  sql.Null[time.Time] // first day of the month
	Unit          sql.Null[string]
	YoufuCategory sql.Null[string]
}

// Party is a row of facts.party (role party).
type Party struct {
	Key
	PartyOrg          sql.Null[string]
	ReportedCommunity sql.Null[string]
	ReportedAt        sql.Null[time.Time]
}

// Volunteer is a row of facts.volunteers (role volunteers).
type Volunteer struct {
	Key
	VolunteerNo  sql.Null[string]
	Team         sql.Null[string]
	ServiceHours sql.Null[duckdb.Decimal]
	RegisteredAt sql.Null[time.Time]
}

// Grid is a row of facts.grid (role grid).
type Grid struct {
	Key
	Grid        sql.Null[string]
	PersonType  sql.Null[string] // 户籍 | 流动 | 境外
	Tags        sql.Null[[]string]
	CollectedAt sql.Null[time.Time]
}

// Tables are the rows of every facts table.
type Tables struct {
	Hukou      []Hukou
	Floating   []Floating
	Relief     []Relief
	Elderly    []Elderly
	Disabled   []Disabled
	Employment []Employment
	Insurance  []Insurance
	Health     []Health
	Veterans   []Veteran
	Party      []Party
	Volunteers []Volunteer
	Grid       []Grid
}

// Count items besides "unreadable:<table>.<column>".
const (
	// ItemNoPerson (+ ":<table>"): a record resolve gave no person id; it makes no row.
	ItemNoPerson = "no_person"
	// ItemNoFamily: a relief member record whose family (its Group) has no family record; its
	// row has no family values.
	ItemNoFamily = "relief_member_without_family"
)

// maxExamples is how many example values a count's detail lists.
const maxExamples = 3

type countKey struct{ source, item string }

type tally struct {
	n        int64
	examples []string
}

type builder struct {
	t      Tables
	person []string
	counts map[countKey]*tally
}

// count adds one to a (source, item) figure, keeping raw as an example (when not empty).
func (b *builder) count(source, item, raw string) {
	k := countKey{source, item}
	c := b.counts[k]
	if c == nil {
		c = &tally{}
		b.counts[k] = c
	}
	c.n++
	if raw == "" || len(c.examples) >= maxExamples {
		return
	}
	ex := example(raw)
	for _, e := range c.examples {
		if e == ex {
			return
		}
	}
	c.examples = append(c.examples, ex)
}

// key is the row key of record i, or false (counted) when resolve gave it no person.
func (b *builder) key(recs []records.Record, i int, table string) (Key, bool) {
	r := &recs[i]
	if i >= len(b.person) || b.person[i] == "" {
		b.count(r.Source, ItemNoPerson+":"+table, r.Key)
		return Key{}, false
	}
	return Key{PersonID: b.person[i], RecordKey: r.Key, Source: r.Source}, true
}

// read parses field of r for table.column: NULL when the record has no value; NULL and counted
// as "unreadable:<table>.<column>" when parse cannot read it.
func read[T any](b *builder, r *records.Record, table, column, field string, parse func(string) (T, bool)) sql.Null[T] {
	raw := r.Fields[field]
	if strings.TrimSpace(raw) == "" {
		return sql.Null[T]{}
	}
	v, ok := parse(raw)
	if !ok {
		b.count(r.Source, "unreadable:"+table+"."+column, raw)
		return sql.Null[T]{}
	}
	return sql.Null[T]{V: v, Valid: true}
}

// quiet parses field of r without counting (a value copied from a record read elsewhere).
func quiet[T any](r *records.Record, field string, parse func(string) (T, bool)) sql.Null[T] {
	raw := r.Fields[field]
	if strings.TrimSpace(raw) == "" {
		return sql.Null[T]{}
	}
	v, ok := parse(raw)
	return sql.Null[T]{V: v, Valid: ok}
}

func valid[T any](v T) sql.Null[T] { return sql.Null[T]{V: v, Valid: true} }

// text reads a text field (trimmed, folded; never unreadable).
func text(r *records.Record, field string) sql.Null[string] { return quiet(r, field, parseText) }

func decimal(spec decimalSpec) func(string) (duckdb.Decimal, bool) {
	return func(s string) (duckdb.Decimal, bool) { return parseDecimal(s, spec) }
}

// Build makes the facts rows of recs, person[i] being the golden person id of recs[i] (as
// resolve gives them), and the counts of what it could not read (Stage "facts", by source:
// "unreadable:<table>.<column>" with up to three example values, ItemNoPerson, ItemNoFamily),
// sorted by source and item. Records of roles without a facts table are not read.
func Build(recs []records.Record, person []string) (*Tables, []store.Count) {
	b := &builder{person: person, counts: map[countKey]*tally{}}
	var relief []int
	for i := range recs {
		r := &recs[i]
		switch r.SourceRole {
		case "hukou":
			b.hukou(recs, i)
		case "floating":
			b.floating(recs, i)
		case "relief_family", "relief_member":
			relief = append(relief, i)
		case "elderly":
			b.elderly(recs, i)
		case "ledger":
			if hasAny(r, "lives_alone", "elder_allowance_band", "services") {
				b.elderly(recs, i)
			}
		case "disabled":
			b.disabled(recs, i)
		case "employment":
			b.employment(recs, i)
		case "insurance":
			b.insurance(recs, i)
		case "veterans":
			b.veteran(recs, i)
		case "party":
			b.party(recs, i)
		case "volunteers":
			b.volunteer(recs, i)
		case "grid":
			b.grid(recs, i)
		}
	}
	b.health(recs)
	b.relief(recs, relief)
	return &b.t, b.sortedCounts()
}

func (b *builder) sortedCounts() []store.Count {
	keys := make([]countKey, 0, len(b.counts))
	for k := range b.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].source != keys[j].source {
			return keys[i].source < keys[j].source
		}
		return keys[i].item < keys[j].item
	})
	out := make([]store.Count, 0, len(keys))
	for _, k := range keys {
		c := b.counts[k]
		ex := make([]string, len(c.examples))
		for i, e := range c.examples {
			ex[i] = fmt.Sprintf("%q", e)
		}
		out = append(out, store.Count{Stage: Stage, Source: k.source, Item: k.item, N: c.n, Detail: strings.Join(ex, ", ")})
	}
	return out
}

func hasAny(r *records.Record, fields ...string) bool {
	for _, f := range fields {
		if strings.TrimSpace(r.Fields[f]) != "" {
			return true
		}
	}
	return false
}

func (b *builder) hukou(recs []records.Record, i int) {
	const t = "hukou"
	k, ok := b.key(recs, i, t)
	if !ok {
		return
	}
	r := &recs[i]
	b.t.Hukou = append(b.t.Hukou, Hukou{Key: k,
		Status:      read(b, r, t, "status", "status", parseHukouStatus),
		StatusDate:  read(b, r, t, "status_date", "status_date", parseDay),
		HouseholdNo: quiet(r, "household_no", parseNumber),
		Relation:    text(r, "relation"),
	})
}

func (b *builder) floating(recs []records.Record, i int) {
	const t = "floating"
	k, ok := b.key(recs, i, t)
	if !ok {
		return
	}
	r := &recs[i]
	b.t.Floating = append(b.t.Floating, Floating{Key: k,
		PermitNo:     quiet(r, "permit_no", parseNumber),
		RegisteredAt: read(b, r, t, "registered_at", "registered_at", parseDay),
		Status:       read(b, r, t, "status", "status", parseFloatingStatus),
	})
}

func (b *builder) elderly(recs []records.Record, i int) {
	const t = "elderly"
	k, ok := b.key(recs, i, t)
	if !ok {
		return
	}
	r := &recs[i]
	b.t.Elderly = append(b.t.Elderly, Elderly{Key: k,
		AllowanceBand: read(b, r, t, "allowance_band", "elder_allowance_band", parseBand),
		LivesAlone:    read(b, r, t, "lives_alone", "lives_alone", parseBool),
		Services:      read(b, r, t, "services", "services", parseList),
	})
}

func (b *builder) disabled(recs []records.Record, i int) {
	const t = "disabled"
	k, ok := b.key(recs, i, t)
	if !ok {
		return
	}
	r := &recs[i]
	row := Disabled{Key: k,
		CertNo:       quiet(r, "disability_cert", parseCert),
		IssuedAt:     read(b, r, t, "issued_at", "issued_at", parseDay),
		GuardianName: text(r, "guardian_name"),
	}
	// The spelled-out category and grade first, else the certificate's digits; unreadable only
	// when neither gives one.
	row.Category = quiet(r, "disability_category", parseCategory)
	if !row.Category.Valid && row.CertNo.Valid {
		if c, ok := certCategory(row.CertNo.V); ok {
			row.Category = valid(c)
		}
	}
	if !row.Category.Valid && hasAny(r, "disability_category", "disability_cert") {
		b.count(r.Source, "unreadable:disabled.category", firstOf(r, "disability_category", "disability_cert"))
	}
	if row.Category.Valid {
		row.CategoryName = valid(categoryNames[row.Category.V])
	}
	row.Grade = quiet(r, "disability_grade", parseGrade)
	if !row.Grade.Valid && row.CertNo.Valid {
		if g, ok := certGrade(row.CertNo.V); ok {
			row.Grade = valid(g)
		}
	}
	if !row.Grade.Valid && hasAny(r, "disability_grade", "disability_cert") {
		b.count(r.Source, "unreadable:disabled.grade", firstOf(r, "disability_grade", "disability_cert"))
	}
	// An empty 两项补贴 is neither subsidy.
	row.LivingSubsidy, row.CareSubsidy = valid(false), valid(false)
	if raw := r.Fields["disability_subsidy"]; strings.TrimSpace(raw) != "" {
		if s, ok := parseSubsidies(raw); ok {
			row.LivingSubsidy, row.CareSubsidy = valid(s.living), valid(s.care)
		} else {
			row.LivingSubsidy, row.CareSubsidy = sql.Null[bool]{}, sql.Null[bool]{}
			b.count(r.Source, "unreadable:disabled.living_subsidy", raw)
			b.count(r.Source, "unreadable:disabled.care_subsidy", raw)
		}
	}
	b.t.Disabled = append(b.t.Disabled, row)
}

// firstOf is the first non-empty of r's fields, for an example.
func firstOf(r *records.Record, fields ...string) string {
	for _, f := range fields {
		if v := strings.TrimSpace(r.Fields[f]); v != "" {
			return r.Fields[f]
		}
	}
	return ""
}

func (b *builder) employment(recs []records.Record, i int) {
	const t = "employment"
	k, ok := b.key(recs, i, t)
	if !ok {
		return
	}
	r := &recs[i]
	b.t.Employment = append(b.t.Employment, Employment{Key: k,
		Status:       read(b, r, t, "status", "employment_status", parseEmploymentStatus),
		Difficulty:   read(b, r, t, "difficulty", "employment_difficulty", parseDifficulty),
		RegisteredAt: read(b, r, t, "registered_at", "registered_at", parseDay),
		Education:    text(r, "education"),
	})
}

func (b *builder) insurance(recs []records.Record, i int) {
	const t = "insurance"
	k, ok := b.key(recs, i, t)
	if !ok {
		return
	}
	r := &recs[i]
	b.t.Insurance = append(b.t.Insurance, Insurance{Key: k,
		RecordNo:      quiet(r, "record_no", parseNumber),
		Category:      read(b, r, t, "category", "insurance_category", parseInsuranceCategory),
		Status:        read(b, r, t, "status", "status", parseInsuranceStatus),
		Year:          read(b, r, t, "year", "insurance_year", parseYear),
		CommunityText: text(r, "community"),
	})
}

func (b *builder) veteran(recs []records.Record, i int) {
	const t = "veterans"
	k, ok := b.key(recs, i, t)
	if !ok {
		return
	}
	r := &recs[i]
	b.t.Veterans = append(b.t.Veterans, Veteran{Key: k,
		EnlistedAt:    read(b, r, t, "enlisted_at", "enlisted_at", parseMonth),
		DischargedAt:  read(b, r, t, "discharged_at", "discharged_at", parseMonth),
		Unit:          text(r, "unit"),
		YoufuCategory: text(r, "youfu_category"),
	})
}

func (b *builder) party(recs []records.Record, i int) {
	const t = "party"
	k, ok := b.key(recs, i, t)
	if !ok {
		return
	}
	r := &recs[i]
	b.t.Party = append(b.t.Party, Party{Key: k,
		PartyOrg:          text(r, "party_org"),
		ReportedCommunity: text(r, "community"),
		ReportedAt:        read(b, r, t, "reported_at", "reported_at", parseDay),
	})
}

func (b *builder) volunteer(recs []records.Record, i int) {
	const t = "volunteers"
	k, ok := b.key(recs, i, t)
	if !ok {
		return
	}
	r := &recs[i]
	b.t.Volunteers = append(b.t.Volunteers, Volunteer{Key: k,
		VolunteerNo:  quiet(r, "volunteer_no", parseNumber),
		Team:         text(r, "team"),
		ServiceHours: read(b, r, t, "service_hours", "service_hours", decimal(hoursSpec)),
		RegisteredAt: read(b, r, t, "registered_at", "registered_at", parseDay),
	})
}

func (b *builder) grid(recs []records.Record, i int) {
	const t = "grid"
	k, ok := b.key(recs, i, t)
	if !ok {
		return
	}
	r := &recs[i]
	b.t.Grid = append(b.t.Grid, Grid{Key: k,
		Grid:        quiet(r, "grid", parseNumber),
		PersonType:  read(b, r, t, "person_type", "person_type", parsePersonType),
		Tags:        read(b, r, t, "tags", "tags", parseList),
		CollectedAt: read(b, r, t, "collected_at", "collected_at", parseDay),
	})
}

// rowGroup says whether g is the Group of a row naming several people (records.Record.Group:
// space \x1f "row" \x1f the row's identity).
func rowGroup(g string) bool {
	parts := strings.SplitN(g, "\x1f", 3)
	return len(parts) == 3 && parts[1] == "row"
}

// health makes a row per person a health record names (roles resident, mother, father). The
// mother's and father's records carry only their names and IDs: the row's 档案编号, child's birth
// date and registration date are the row's, kept on its resident's record, found through the
// shared Group. The doctor, signing and chronic tags are the resident's own.
func (b *builder) health(recs []records.Record) {
	const t = "health"
	residentOf := map[string]int{}
	for i := range recs {
		r := &recs[i]
		if r.SourceRole == "health" && r.Role == "resident" && rowGroup(r.Group) {
			if _, ok := residentOf[r.Group]; !ok {
				residentOf[r.Group] = i
			}
		}
	}
	for i := range recs {
		r := &recs[i]
		if r.SourceRole != "health" {
			continue
		}
		switch r.Role {
		case "resident", "mother", "father":
		default:
			continue
		}
		k, ok := b.key(recs, i, t)
		if !ok {
			continue
		}
		row := Health{Key: k, Role: r.Role,
			RecordNo:          quiet(r, "record_no", parseNumber),
			Doctor:            text(r, "doctor"),
			SignedAt:          read(b, r, t, "signed_at", "signed_at", parseDay),
			Chronic:           read(b, r, t, "chronic", "chronic", parseList),
			ChildBirthDate:    read(b, r, t, "child_birth_date", "child_birth_date", parseDay),
			BirthRegisteredAt: read(b, r, t, "birth_registered_at", "birth_registered_at", parseDay),
		}
		if j, ok := residentOf[r.Group]; ok && r.Role != "resident" {
			res := &recs[j]
			if !row.RecordNo.Valid {
				row.RecordNo = quiet(res, "record_no", parseNumber)
			}
			if !row.ChildBirthDate.Valid && !hasAny(r, "child_birth_date") {
				row.ChildBirthDate = quiet(res, "child_birth_date", parseDay)
			}
			if !row.BirthRegisteredAt.Valid && !hasAny(r, "birth_registered_at") {
				row.BirthRegisteredAt = quiet(res, "birth_registered_at", parseDay)
			}
		}
		b.t.Health = append(b.t.Health, row)
	}
}

// family is what a relief family record says, read once.
type family struct {
	rec           int // the family record
	reliefType    sql.Null[string]
	reliefStatus  sql.Null[string]
	monthlyAmount sql.Null[duckdb.Decimal]
	familyPersons sql.Null[int32]
	since         sql.Null[time.Time]
}

// relief makes one row per person of each relief family: the family record's person (is_head)
// and every member record's, the family record's values copied onto each through the Group the
// records share (records.Record.Group: "role:relief" + family_id). A person listed twice in one
// family (the family record and a member record, or a member registered twice) has one row:
// the first record's key, is_head when any of the records is the family record, relation and
// disabled from the first record that gives them. Indexes idx are the relief records, in order.
func (b *builder) relief(recs []records.Record, idx []int) {
	const t = "relief"
	families := map[string]*family{}
	for _, i := range idx {
		r := &recs[i]
		if r.SourceRole != "relief_family" || r.Group == "" || families[r.Group] != nil {
			continue
		}
		families[r.Group] = &family{rec: i,
			reliefType:    read(b, r, t, "relief_type", "relief_type", parseReliefType),
			reliefStatus:  read(b, r, t, "relief_status", "status", parseReliefStatus),
			monthlyAmount: read(b, r, t, "monthly_amount", "relief_amount", decimal(amountSpec)),
			familyPersons: read(b, r, t, "family_persons", "relief_persons", parseCount),
			since:         read(b, r, t, "since", "relief_since", parseMonth),
		}
	}
	rows := map[string]int{} // Group and person → index in b.t.Relief
	for _, i := range idx {
		r := &recs[i]
		isFamily := r.SourceRole == "relief_family"
		if isFamily && r.Group != "" && families[r.Group].rec != i {
			isFamily = false // a second record of a family already read: only its person counts
		}
		var fam *family
		if r.Group != "" {
			fam = families[r.Group]
		}
		if fam == nil && r.SourceRole == "relief_family" {
			// A family record without a family_id: its own values.
			fam = &family{rec: i,
				reliefType:    read(b, r, t, "relief_type", "relief_type", parseReliefType),
				reliefStatus:  read(b, r, t, "relief_status", "status", parseReliefStatus),
				monthlyAmount: read(b, r, t, "monthly_amount", "relief_amount", decimal(amountSpec)),
				familyPersons: read(b, r, t, "family_persons", "relief_persons", parseCount),
				since:         read(b, r, t, "since", "relief_since", parseMonth),
			}
			isFamily = true
		}
		k, ok := b.key(recs, i, t)
		if !ok {
			continue
		}
		var relation sql.Null[string]
		var disabled sql.Null[bool]
		if r.SourceRole == "relief_member" {
			relation = text(r, "relation")
			disabled = read(b, r, t, "disabled", "disabled_flag", parseBool)
			if fam == nil {
				b.count(r.Source, ItemNoFamily, r.Fields["family_id"])
			}
		}
		// The head is the family record's person; when the family has no record, or resolve
		// gave its record no person, the member whose relation says so.
		head := isFamily
		if !head {
			famPerson := ""
			if fam != nil && fam.rec < len(b.person) {
				famPerson = b.person[fam.rec]
			}
			if famPerson != "" {
				head = famPerson == k.PersonID
			} else {
				head = r.Relation == records.RelHead
			}
		}
		rk := ""
		if r.Group != "" {
			rk = r.Group + "\x00" + k.PersonID
			if j, ok := rows[rk]; ok {
				row := &b.t.Relief[j]
				row.IsHead.V = row.IsHead.V || head
				if !row.Relation.Valid {
					row.Relation = relation
				}
				if !row.Disabled.Valid {
					row.Disabled = disabled
				}
				continue
			}
		}
		row := Relief{Key: k, FamilyID: quiet(r, "family_id", parseNumber), IsHead: valid(head), Relation: relation, Disabled: disabled}
		if fam != nil {
			row.ReliefType, row.ReliefStatus, row.MonthlyAmount = fam.reliefType, fam.reliefStatus, fam.monthlyAmount
			row.FamilyPersons, row.Since = fam.familyPersons, fam.since
		}
		if rk != "" {
			rows[rk] = len(b.t.Relief)
		}
		b.t.Relief = append(b.t.Relief, row)
	}
}

// Save empties every facts table and writes t's rows, on conn inside the caller's transaction.
func Save(ctx context.Context, conn *sql.Conn, t *Tables) error {
	if err := store.Replace(ctx, conn, TableNames...); err != nil {
		return fmt.Errorf("facts: %w", err)
	}
	key := func(k Key) []driver.Value { return []driver.Value{k.PersonID, k.RecordKey, k.Source} }
	appendRows := func(table string, n int, row func(i int) []driver.Value) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := store.Append(conn, "facts", table, n, row); err != nil {
			return fmt.Errorf("facts: %w", err)
		}
		return nil
	}
	for _, w := range []struct {
		table string
		n     int
		row   func(i int) []driver.Value
	}{
		{"hukou", len(t.Hukou), func(i int) []driver.Value {
			r := &t.Hukou[i]
			return append(key(r.Key), val(r.Status), val(r.StatusDate), val(r.HouseholdNo), val(r.Relation))
		}},
		{"floating", len(t.Floating), func(i int) []driver.Value {
			r := &t.Floating[i]
			return append(key(r.Key), val(r.PermitNo), val(r.RegisteredAt), val(r.Status))
		}},
		{"relief", len(t.Relief), func(i int) []driver.Value {
			r := &t.Relief[i]
			return append(key(r.Key), val(r.FamilyID), val(r.IsHead), val(r.Relation), val(r.ReliefType), val(r.ReliefStatus),
				val(r.MonthlyAmount), val(r.FamilyPersons), val(r.Since), val(r.Disabled))
		}},
		{"elderly", len(t.Elderly), func(i int) []driver.Value {
			r := &t.Elderly[i]
			return append(key(r.Key), val(r.AllowanceBand), val(r.LivesAlone), val(r.Services))
		}},
		{"disabled", len(t.Disabled), func(i int) []driver.Value {
			r := &t.Disabled[i]
			return append(key(r.Key), val(r.CertNo), val(r.Category), val(r.CategoryName), val(r.Grade),
				val(r.LivingSubsidy), val(r.CareSubsidy), val(r.IssuedAt), val(r.GuardianName))
		}},
		{"employment", len(t.Employment), func(i int) []driver.Value {
			r := &t.Employment[i]
			return append(key(r.Key), val(r.Status), val(r.Difficulty), val(r.RegisteredAt), val(r.Education))
		}},
		{"insurance", len(t.Insurance), func(i int) []driver.Value {
			r := &t.Insurance[i]
			return append(key(r.Key), val(r.RecordNo), val(r.Category), val(r.Status), val(r.Year), val(r.CommunityText))
		}},
		{"health", len(t.Health), func(i int) []driver.Value {
			r := &t.Health[i]
			return append(key(r.Key), r.Role, val(r.RecordNo), val(r.Doctor), val(r.SignedAt), val(r.Chronic),
				val(r.ChildBirthDate), val(r.BirthRegisteredAt))
		}},
		{"veterans", len(t.Veterans), func(i int) []driver.Value {
			r := &t.Veterans[i]
			return append(key(r.Key), val(r.EnlistedAt), val(r.DischargedAt), val(r.Unit), val(r.YoufuCategory))
		}},
		{"party", len(t.Party), func(i int) []driver.Value {
			r := &t.Party[i]
			return append(key(r.Key), val(r.PartyOrg), val(r.ReportedCommunity), val(r.ReportedAt))
		}},
		{"volunteers", len(t.Volunteers), func(i int) []driver.Value {
			r := &t.Volunteers[i]
			return append(key(r.Key), val(r.VolunteerNo), val(r.Team), val(r.ServiceHours), val(r.RegisteredAt))
		}},
		{"grid", len(t.Grid), func(i int) []driver.Value {
			r := &t.Grid[i]
			return append(key(r.Key), val(r.Grid), val(r.PersonType), val(r.Tags), val(r.CollectedAt))
		}},
	} {
		if err := appendRows(w.table, w.n, w.row); err != nil {
			return err
		}
	}
	return nil
}

// val is a nullable value as the appender takes it: nil for NULL; a DATE as time.Time, a
// DECIMAL as duckdb.Decimal (its unscaled value at the column's scale), a VARCHAR[] as []string.
func val[T any](n sql.Null[T]) driver.Value {
	if !n.Valid {
		return nil
	}
	return n.V
}
