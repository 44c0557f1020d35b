package deptsim

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"communityhub/internal/deptsim/xlsxout"

	_ "github.com/go-sql-driver/mysql" // the MySQL systems, in server mode
	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL systems, in server mode
	_ "modernc.org/sqlite"             // the SQL systems, in embedded mode
)

// DefaultAsOf is the date the demo district describes unless told otherwise, so that a seed
// always gives the same files.
var DefaultAsOf = d(2026, time.November, 20)

// Options say what district to write and where its SQL systems live.
type Options struct {
	Dir       string
	Residents int
	Seed      uint64
	AsOf      time.Time
	Quirks    QuirkConfig // nil: DefaultQuirks
	// PostgresDSN and MySQLDSN, when set, put systems 1 and 7 (PostgreSQL) and 3 and 6 (MySQL)
	// into those servers instead of SQLite files under Dir.
	PostgresDSN string
	MySQLDSN    string
	Workers     int // systems rendered at once (default 2)
}

// Manifest is district.json: what was written, and how each system is reached.
type Manifest struct {
	Seed        uint64            `json:"seed"`
	Residents   int               `json:"residents"`
	AsOf        string            `json:"as_of"`
	Street      string            `json:"street"`
	Communities []ManifestComm    `json:"communities"`
	Systems     []ManifestSystem  `json:"systems"`
	Tokens      map[string]string `json:"api_tokens"`
}

type ManifestComm struct {
	Code  string   `json:"code"`
	Name  string   `json:"name"`
	Grids []string `json:"grids"`
}

// ManifestSystem tells where one system's data is: SQL tables (in a SQLite file under the
// district, or in a server), API items to serve, or files.
type ManifestSystem struct {
	No     int      `json:"no"`
	Name   string   `json:"name"`
	Title  string   `json:"title"`
	Access string   `json:"access"`         // sqlite, postgres, mysql, http, csv, xlsx
	Path   string   `json:"path,omitempty"` // file or folder, relative to the district
	Tables []string `json:"tables,omitempty"`
	Rows   int      `json:"rows"`
}

// DemoTokens are the credentials of the simulated APIs (demo data only).
var DemoTokens = map[string]string{"floating": "demo-floating-token", "elderly": "demo-elderly-key", "volunteers": "demo-volunteers-token"}

// Result sums up a written district.
type Result struct {
	Manifest  Manifest
	Anomalies []Anomaly
	Stats     []QuirkStat
}

// Write generates the population and writes every system, the ledgers and the truth under
// opts.Dir. It replaces what an earlier run wrote there. Cancelling ctx stops it between systems.
func Write(ctx context.Context, opts Options) (*Result, error) {
	if opts.Residents <= 0 {
		return nil, fmt.Errorf("residents must be positive, got %d", opts.Residents)
	}
	if opts.AsOf.IsZero() {
		opts.AsOf = DefaultAsOf
	}
	if opts.Quirks == nil {
		opts.Quirks = DefaultQuirks()
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	for _, sub := range []string{"systems", "ledgers", "truth"} {
		if err := os.RemoveAll(filepath.Join(opts.Dir, sub)); err != nil {
			return nil, err
		}
	}
	for _, sub := range []string{"systems", "ledgers", "truth/records"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	pop := GenerateWith(opts.Seed, opts.Residents, opts.AsOf, opts.Quirks[PopulationQuirks])
	if err := writePopulationTruth(opts.Dir, pop); err != nil {
		return nil, err
	}
	if err := writeReference(opts.Dir, pop, opts.Seed); err != nil {
		return nil, err
	}
	w := &writer{opts: opts, pop: pop}
	jobs := make(chan System)
	var wg sync.WaitGroup
	errs := make([]error, len(Systems))
	results := make([]sysResult, len(Systems))
	for k := 0; k < opts.Workers; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				i := indexOf(s.Name)
				results[i], errs[i] = w.system(ctx, s)
			}
		}()
	}
	for _, s := range Systems {
		if ctx.Err() != nil {
			break
		}
		jobs <- s
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{Manifest: Manifest{Seed: opts.Seed, Residents: len(pop.People), AsOf: opts.AsOf.Format(fmtISO), Street: district + streetName, Tokens: DemoTokens},
		Stats: append([]QuirkStat(nil), pop.Stats...)}
	for _, c := range pop.Communities {
		res.Manifest.Communities = append(res.Manifest.Communities, ManifestComm{c.Code, c.Name, c.Grids})
	}
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("system %s: %w", Systems[i].Name, err)
		}
		res.Manifest.Systems = append(res.Manifest.Systems, results[i].manifest)
		res.Anomalies = append(res.Anomalies, results[i].anomalies...)
		res.Stats = append(res.Stats, results[i].stats...)
	}
	if err := writeRunTruth(opts.Dir, res); err != nil {
		return nil, err
	}
	if err := writeConfig(opts.Dir, &res.Manifest); err != nil {
		return nil, err
	}
	raw, _ := json.MarshalIndent(res.Manifest, "", "  ")
	if err := os.WriteFile(filepath.Join(opts.Dir, "district.json"), raw, 0o644); err != nil {
		return nil, err
	}
	return res, nil
}

func indexOf(name string) int {
	for i, s := range Systems {
		if s.Name == name {
			return i
		}
	}
	return -1
}

type writer struct {
	opts Options
	pop  *Population
}

type sysResult struct {
	manifest  ManifestSystem
	anomalies []Anomaly
	stats     []QuirkStat
}

// openSQL returns the database for a SQL system: the configured server, or a fresh SQLite file.
func (w *writer) openSQL(s System) (*sql.DB, Dialect, string, error) {
	if s.Access == "postgres" && w.opts.PostgresDSN != "" {
		db, err := sql.Open("pgx", w.opts.PostgresDSN)
		return db, Postgres, "", err
	}
	if s.Access == "mysql" && w.opts.MySQLDSN != "" {
		db, err := sql.Open("mysql", w.opts.MySQLDSN)
		return db, MySQL, "", err
	}
	rel := fmt.Sprintf("systems/%02d_%s.sqlite", s.No, s.Name)
	path := filepath.Join(w.opts.Dir, rel)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(off)&_pragma=synchronous(off)")
	if err == nil {
		db.SetMaxOpenConns(1)
	}
	return db, SQLite, rel, err
}

// fileQuirks draws the quirks that belong to a file rather than a value (bad bytes, wrong column
// counts, blank and subtotal rows in ledgers) for every record of the table.
func (rd *renderer) fileQuirks(t *Table, qs ...Quirk) {
	rd.q.col = ""
	for i := range t.Recs {
		rd.q.cur = nil
		for _, q := range qs {
			rd.q.hit(q)
		}
		t.Recs[i].Quirks = append(t.Recs[i].Quirks, rd.q.take()...)
	}
}

func (w *writer) system(ctx context.Context, s System) (sysResult, error) {
	rd := &renderer{pop: w.pop, q: newQuirker(s.Name, w.opts.Seed, w.opts.Quirks[s.Name]),
		gbk: s.Name == "disabled" || s.Access == "mysql"}
	dir := filepath.Join(w.opts.Dir, "systems", fmt.Sprintf("%02d_%s", s.No, s.Name))
	rel := func(p string) string { r, _ := filepath.Rel(w.opts.Dir, p); return filepath.ToSlash(r) }
	m := ManifestSystem{No: s.No, Name: s.Name, Title: s.Title, Access: s.Access}
	var tables []*Table
	var err error
	stamp := w.pop.AsOf.Format("20060102")
	switch s.Name {
	case "hj", "insurance", "relief", "employment":
		switch s.Name {
		case "hj":
			tables = rd.renderHJ()
		case "insurance":
			tables = rd.renderInsurance()
		case "relief":
			tables = rd.renderRelief()
		default:
			tables = rd.renderEmployment()
		}
		var db *sql.DB
		var dialect Dialect
		db, dialect, m.Path, err = w.openSQL(s)
		if err != nil {
			return sysResult{}, err
		}
		defer db.Close()
		m.Access = string(dialect)
		schema := map[string]string{"hj": "hj", "insurance": "yb"}[s.Name]
		for _, t := range tables {
			if dialect == Postgres {
				m.Tables = append(m.Tables, schema+"."+t.Name)
			} else {
				m.Tables = append(m.Tables, t.Name)
			}
			if err := writeSQL(ctx, db, dialect, map[bool]string{true: schema, false: ""}[dialect == Postgres], t); err != nil {
				return sysResult{}, err
			}
			if dialect != Postgres && schema != "" {
				for i := range t.Recs { // keep locators server-independent: schema.table:key
					t.Recs[i].Locator = schema + "." + t.Recs[i].Locator
				}
			}
		}
	case "floating", "elderly", "volunteers":
		file := map[string]string{"floating": "residents.json", "elderly": "elders.json", "volunteers": "volunteers.json"}[s.Name]
		key := map[string]string{"floating": "permitNo", "volunteers": "volunteerNo"}[s.Name]
		switch s.Name {
		case "floating":
			tables = rd.renderFloating()
		case "elderly":
			tables = rd.renderElderly()
		default:
			tables = rd.renderVolunteers()
		}
		os.MkdirAll(dir, 0o755)
		err = writeJSON(filepath.Join(dir, file), tables[0], key)
		if err == nil && s.Name == "floating" {
			err = writeUpdated(filepath.Join(dir, file), tables[0])
		}
		m.Path = rel(filepath.Join(dir, file))
	case "disabled", "party":
		os.MkdirAll(dir, 0o755)
		m.Path = rel(dir)
		if s.Name == "disabled" {
			tables = rd.renderDisabled()
			rd.fileQuirks(tables[0], BadBytes, WrongColumns)
			// Yesterday's drop is still in the folder; the hub must take the newest.
			older := &Table{System: s.Name, Cols: tables[0].Cols, Recs: append([]Record(nil), tables[0].Recs[:len(tables[0].Recs)*99/100]...)}
			for i := range older.Recs {
				older.Recs[i].Quirks = nil
			}
			if err = writeCSV(filepath.Join(dir, "残疾人信息_"+w.pop.AsOf.AddDate(0, 0, -1).Format("20060102")+".csv"), GBK, older); err != nil {
				return sysResult{}, err
			}
			err = writeCSV(filepath.Join(dir, "残疾人信息_"+stamp+".csv"), GBK, tables[0])
		} else {
			tables = rd.renderParty()
			err = writeCSV(filepath.Join(dir, "党员报到.csv"), UTF8BOM, tables[0])
		}
	case "grid":
		os.MkdirAll(dir, 0o755)
		m.Path = rel(dir)
		tables = rd.renderGrid()
		for _, t := range tables {
			rd.fileQuirks(t, WrongColumns)
			day := w.pop.AsOf.AddDate(0, 0, -rd.q.r.IntN(5)).Format("20060102")
			if err = writeCSV(filepath.Join(dir, fmt.Sprintf("网格_%s_%s.csv", t.Name, day)), UTF8, t); err != nil {
				break
			}
		}
	case "health":
		os.MkdirAll(dir, 0o755)
		tables = rd.renderHealth()
		var sheets []xlsxout.Sheet
		for _, t := range tables {
			var spec sheetSpec
			rd.sheetNote(t, &spec)
			sheets = append(sheets, xlsxSheet(t.Name, t, spec))
		}
		path := filepath.Join(dir, "家庭医生签约_"+stamp+".xlsx")
		m.Path = rel(path)
		err = writeXLSX(path, filepath.Base(path), tables, sheets)
	case "veterans":
		os.MkdirAll(dir, 0o755)
		tables = rd.renderVeterans()
		t := tables[0]
		spec := sheetSpec{Title: streetName + "退役军人信息采集表", Serial: true, Total: true,
			Notes: []string{"填表人：王建平    审核人：李秀梅    填报日期：" + w.pop.AsOf.Format("2006年1月2日")}}
		rd.sheetNote(t, &spec)
		sh := xlsxSheet("退役军人", t, spec)
		path := filepath.Join(dir, "退役军人信息采集表.xlsx")
		m.Path = rel(path)
		err = writeXLSX(path, filepath.Base(path), tables, []xlsxout.Sheet{sh})
	case "ledger":
		tables = rd.renderLedgers()
		m.Path = "ledgers"
		for i := 0; i+1 < len(tables) && err == nil; i += 2 {
			comm := w.pop.Communities[i/2].Name
			cdir := filepath.Join(w.opts.Dir, "ledgers", comm)
			os.MkdirAll(cdir, 0o755)
			for k, t := range tables[i : i+2] {
				rd.fileQuirks(t, LedgerBlank, LedgerSubtot)
				_, title, _ := strings.Cut(t.Name, "/")
				spec := sheetSpec{Title: comm + title, Serial: true, Total: true, Notes: []string{"填表人：网格员    联系电话：025-86660000"}}
				rd.sheetNote(t, &spec)
				sh := xlsxSheet("Sheet1", t, spec)
				if k == 1 {
					sh.Name = "走访记录"
				}
				if err = writeXLSX(filepath.Join(cdir, title+".xlsx"), comm+"/"+title+".xlsx", []*Table{t}, []xlsxout.Sheet{sh}); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		return sysResult{}, err
	}
	for _, t := range tables {
		m.Rows += len(t.Recs)
	}
	if err := writeRecordTruth(filepath.Join(w.opts.Dir, "truth", "records", s.Name+".csv"), s.Name, tables); err != nil {
		return sysResult{}, err
	}
	for i := range rd.anomalies {
		rd.anomalies[i].Key = rd.anomalies[i].locator()
		rd.anomalies[i].table = nil
	}
	return sysResult{manifest: m, anomalies: rd.anomalies, stats: rd.q.statList()}, nil
}

// writeRecordTruth writes, for every source row, where it is and which true people it names.
func writeRecordTruth(path, system string, tables []*Table) error {
	return writeCSVFile(path, []string{"system", "locator", "key", "persons", "quirks"}, func(emit func(...string)) {
		for _, t := range tables {
			for i := range t.Recs {
				rec := &t.Recs[i]
				var roles []string
				for _, r := range rec.Roles {
					roles = append(roles, r.Role+"="+r.Person)
				}
				emit(system, rec.Locator, rec.Key, strings.Join(roles, ";"), strings.Join(rec.Quirks, ";"))
			}
		}
	})
}

func writeCSVFile(path string, header []string, rows func(emit func(...string))) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cw := csv.NewWriter(f)
	cw.Write(header)
	rows(func(v ...string) { cw.Write(v) })
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return f.Close()
}

func fmtDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(fmtISO)
}

// writePopulationTruth writes the true people, households and communities.
func writePopulationTruth(dir string, pop *Population) error {
	err := writeCSVFile(filepath.Join(dir, "truth", "persons.csv"), []string{"person_id", "name", "sex", "birth", "id_no", "passport", "ethnicity",
		"residence", "status", "status_date", "household_id", "relation", "community", "grid", "address", "phone", "old_phone", "moved_in", "prev_address",
		"disability", "employment", "veteran", "volunteer", "party", "insured", "elder_care", "doctor", "lives_alone", "namesake"}, func(emit func(...string)) {
		for i := range pop.People {
			p := &pop.People[i]
			h := &pop.Households[p.HH]
			prev, dis := "", ""
			if p.PrevAddr != nil {
				prev = p.PrevAddr.Canonical()
			}
			if p.Disability != nil {
				dis = fmt.Sprintf("%d%d", p.Disability.Category, p.Disability.Grade)
			}
			emit(p.TID, p.Name, fmt.Sprint(p.Sex), fmtDate(p.Birth), p.IDNo, p.Passport, p.Ethnicity, p.Residence.Label(),
				[...]string{"正常", "死亡", "迁出"}[p.Status], fmtDate(p.StatusDate), h.TID, p.Relation, pop.Communities[h.Comm].Name, h.Grid,
				h.Addr.Canonical(), p.Phone, p.OldPhone, fmtDate(p.MovedIn), prev, dis, p.Employment, yn(p.Veteran), yn(p.Volunteer),
				yn(p.Party), yn(p.Insured), yn(p.ElderCare), yn(p.Doctor), yn(pop.Alone(p)), p.Namesake)
		}
	})
	if err != nil {
		return err
	}
	return writeCSVFile(filepath.Join(dir, "truth", "households.csv"), []string{"household_id", "hu_hao", "kind", "residence", "community", "grid",
		"address", "landline", "members", "relief_type", "relief_active"}, func(emit func(...string)) {
		for i := range pop.Households {
			h := &pop.Households[i]
			var ms []string
			for _, m := range h.Members {
				ms = append(ms, pop.People[m].TID)
			}
			rt, ra := "", ""
			if h.Relief != nil {
				rt, ra = h.Relief.Type, yn(h.Relief.Active)
			}
			emit(h.TID, h.HuHao, h.Kind, h.Residence.Label(), pop.Communities[h.Comm].Name, h.Grid, h.Addr.Canonical(), h.Landline,
				strings.Join(ms, ";"), rt, ra)
		}
	})
}

func yn(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// writeRunTruth writes the planted anomalies and the quirk counts.
func writeRunTruth(dir string, res *Result) error {
	sort.SliceStable(res.Anomalies, func(i, j int) bool { return res.Anomalies[i].System < res.Anomalies[j].System })
	err := writeCSVFile(filepath.Join(dir, "truth", "anomalies.csv"), []string{"kind", "system", "locator", "person_id", "detail"}, func(emit func(...string)) {
		for _, a := range res.Anomalies {
			emit(a.Kind, a.System, a.Key, a.Person, a.Detail)
		}
	})
	if err != nil {
		return err
	}
	return writeCSVFile(filepath.Join(dir, "truth", "quirks.csv"), []string{"system", "quirk", "rate", "trials", "hits"}, func(emit func(...string)) {
		for _, s := range res.Stats {
			emit(s.System, string(s.Quirk), fmt.Sprint(s.Rate), fmt.Sprint(s.Trials), fmt.Sprint(s.Hits))
		}
	})
}
