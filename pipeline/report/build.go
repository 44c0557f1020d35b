package report

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"communityhub/pipeline/store"
)

// Period is the time a report covers: a calendar month.
type Period struct {
	Code    string    // 2026-11
	Start   time.Time // the first day
	RefDate time.Time // the last day: ages are taken on it
}

var periodRe = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})$`)

// ParsePeriod reads YYYY-MM.
func ParsePeriod(s string) (Period, error) {
	m := periodRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Period{}, fmt.Errorf("period %q: want YYYY-MM (2026-11)", s)
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	if mo < 1 || mo > 12 {
		return Period{}, fmt.Errorf("period %q: month %d", s, mo)
	}
	start := time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, time.UTC)
	return Period{Code: m[0], Start: start, RefDate: start.AddDate(0, 1, -1)}, nil
}

// PeriodOf is the month before t (the month a report filed on t covers).
func PeriodOf(t time.Time) Period {
	p, _ := ParsePeriod(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01"))
	return p
}

// Text is the period as forms write it: 2026年11月.
func (p Period) Text() string { return fmt.Sprintf("%d年%d月", p.Start.Year(), int(p.Start.Month())) }

// Options say what to build.
type Options struct {
	Period Period
	// Communities to build (nil: every placed community); the roll-up is built unless NoRollup.
	Communities []string
	NoRollup    bool
	// OutDir receives the workbooks: OutDir/<period>/<community>/<code>_<title>_<community>_v<N>.xlsx.
	OutDir string
	// BuiltAt is the build's date written into 填报日期 (default: now).
	BuiltAt time.Time
	// StreetName is the roll-up's 填报单位 (default "全街道").
	StreetName string
	// Role asks for full ID numbers and phones; a kind allows it only to its full_values roles,
	// and every such output is recorded with RequestedBy and Purpose.
	Role, RequestedBy, Purpose string
	// Workers fill workbooks in parallel (default GOMAXPROCS).
	Workers int
	// Trace, when set, receives each kind's time in its queries and in recording.
	Trace io.Writer
}

// Built is one stored build.
type Built struct {
	BuildID      int64
	Kind         string
	Community    string
	Version      int
	File         string
	Figures      int
	Rows         int
	ChecksFailed int
	Changed      int // figures (and band persons) that differ from the previous version
	FullValues   bool
}

// CheckResult is one validation rule on one build.
type CheckResult struct {
	Kind, Community, Rule, Detail string
	OK                            bool
}

// Result is what Build made.
type Result struct {
	Builds  []Built
	Checks  []CheckResult
	Seconds float64
}

// Build fills the given kinds for every community and the roll-up, writes the workbooks and
// records each build (its inputs, figures, persons behind them, checks and the diff against the
// previous version) in one transaction: a failed build records nothing. Workbook files are
// written before the commit, each through a temp file, under a new version's name.
func Build(ctx context.Context, db *store.DB, kinds []*Kind, opts Options) (*Result, error) {
	start := time.Now()
	if opts.Period.Code == "" {
		return nil, fmt.Errorf("report build: no period")
	}
	if opts.OutDir == "" {
		return nil, fmt.Errorf("report build: no output folder")
	}
	if opts.BuiltAt.IsZero() {
		opts.BuiltAt = time.Now()
	}
	if opts.StreetName == "" {
		opts.StreetName = "全街道"
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	kinds, err := checkOrder(kinds)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	err = db.Tx(ctx, func(conn *sql.Conn) error {
		if err := BindPeriod(ctx, conn, opts.Period); err != nil {
			return err
		}
		scopes, err := scopesOf(ctx, conn, opts)
		if err != nil {
			return err
		}
		var resolveRun, syncID sql.NullInt64
		if err := conn.QueryRowContext(ctx, `SELECT (SELECT max(run) FROM resolve.runs), (SELECT max(sync_id) FROM meta.syncs WHERE ok)`).Scan(&resolveRun, &syncID); err != nil {
			return fmt.Errorf("inputs: %w", err)
		}
		var nextID int64
		if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(build_id), 0) + 1 FROM report.builds`).Scan(&nextID); err != nil {
			return fmt.Errorf("build ids: %w", err)
		}
		batch := nextID
		session := map[string]*figureSet{} // the kinds built so far in this run
		// The database work of each kind runs here, one kind after the other, while the
		// workbooks of the kinds before it are filled by the pool: both cores stay busy.
		pool := newPool(opts.Workers, len(kinds)*len(scopes))
		defer pool.close()
		var builds []*kindBuild
		for _, k := range kinds {
			b := &kindBuild{kind: k, opts: opts, scopes: scopes, conn: conn, firstID: nextID, batch: batch, resolveRun: resolveRun, syncID: syncID}
			t0 := time.Now()
			if err := b.prepare(ctx, session); err != nil {
				return fmt.Errorf("report %s: %w", k.Code, err)
			}
			if opts.Trace != nil {
				fmt.Fprintf(opts.Trace, "report %s: queries %.2fs\n", k.Code, time.Since(t0).Seconds())
			}
			defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+b.fs.persons)
			b.fillAll(pool)
			nextID += int64(len(scopes))
			builds = append(builds, b)
		}
		for _, b := range builds {
			t0 := time.Now()
			built, checks, err := b.record(ctx, session)
			if err != nil {
				return fmt.Errorf("report %s: %w", b.kind.Code, err)
			}
			if opts.Trace != nil {
				fmt.Fprintf(opts.Trace, "report %s: waited for its workbooks and recorded in %.2fs\n", b.kind.Code, time.Since(t0).Seconds())
			}
			res.Builds = append(res.Builds, built...)
			res.Checks = append(res.Checks, checks...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// checkOrder puts every kind after the kinds its checks refer to.
func checkOrder(kinds []*Kind) ([]*Kind, error) {
	byCode := map[string]*Kind{}
	for _, k := range kinds {
		byCode[k.Code] = k
	}
	var out []*Kind
	state := map[string]int{}
	var visit func(k *Kind) error
	visit = func(k *Kind) error {
		switch state[k.Code] {
		case 1:
			return fmt.Errorf("report %s: its checks refer back to it through other kinds", k.Code)
		case 2:
			return nil
		}
		state[k.Code] = 1
		for _, c := range k.Checks {
			r, _ := parseRule(c.Rule)
			for _, t := range append(append([]term(nil), r.left...), r.right...) {
				if d, ok := byCode[t.kind]; ok && t.kind != k.Code {
					if err := visit(d); err != nil {
						return err
					}
				}
			}
		}
		state[k.Code] = 2
		out = append(out, k)
		return nil
	}
	sorted := append([]*Kind(nil), kinds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Code < sorted[j].Code })
	for _, k := range sorted {
		if err := visit(k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func scopesOf(ctx context.Context, conn *sql.Conn, opts Options) ([]string, error) {
	all, err := communities(ctx, conn)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no resident is placed in a community (golden.unplaced says why): give the deployment a [register] with the street's 社区辖区表 and 网格划分表, then reconcile")
	}
	scopes := all
	if opts.Communities != nil {
		known := map[string]bool{}
		for _, c := range all {
			known[c] = true
		}
		scopes = nil
		for _, c := range opts.Communities {
			if c == Rollup {
				continue
			}
			if !known[c] {
				return nil, fmt.Errorf("community %q: no resident is placed there (communities: %s)", c, strings.Join(all, ", "))
			}
			scopes = append(scopes, c)
		}
	}
	if !opts.NoRollup {
		scopes = append(scopes, Rollup)
	}
	return scopes, nil
}

type kindBuild struct {
	kind               *Kind
	opts               Options
	scopes             []string
	conn               *sql.Conn
	firstID, batch     int64
	resolveRun, syncID sql.NullInt64

	// Made by prepare:
	lay      *layout
	fs       *figureSet
	ids      map[string]int64
	prev     map[string]int64
	versions map[string]int
	details  map[string][]detailLine
	full     bool
	keys     []string
	// Made by fillAll's tasks, one per scope; done when wg is.
	outs []fillOut
	wg   sync.WaitGroup
}

type fillOut struct {
	file, sum string
	err       error
}

// pool runs tasks on a fixed number of goroutines; its queue holds every task of a build.
type pool struct {
	tasks chan func()
	wg    sync.WaitGroup
}

func newPool(workers, capacity int) *pool {
	p := &pool{tasks: make(chan func(), capacity)}
	for w := 0; w < workers; w++ {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for t := range p.tasks {
				t()
			}
		}()
	}
	return p
}

func (p *pool) close() {
	close(p.tasks)
	p.wg.Wait()
}

// prepare runs the kind's queries (figures, bands, the persons behind them) and reads what the
// workbooks and records need.
func (b *kindBuild) prepare(ctx context.Context, session map[string]*figureSet) error {
	k, conn := b.kind, b.conn
	tf, lay, err := openTemplate(k)
	if err != nil {
		return err
	}
	tf.Close()
	b.lay = lay
	fs, err := computeFigures(ctx, conn, k, lay, "report_persons_"+strings.ToLower(k.Code))
	if err != nil {
		return err
	}
	b.fs = fs
	session[k.Code] = fs
	b.ids = map[string]int64{}
	for i, s := range b.scopes {
		b.ids[s] = b.firstID + int64(i)
	}
	if b.prev, b.versions, err = b.previous(ctx); err != nil {
		return err
	}
	if err := b.savePersons(ctx, fs, b.ids); err != nil {
		return err
	}
	if b.details, err = b.detailLines(ctx, fs); err != nil {
		return err
	}
	for _, r := range k.FullValues.Roles {
		b.full = b.full || b.opts.Role != "" && r == b.opts.Role
	}
	b.keys = sortedKeys(fs.cells)
	return nil
}

// fillAll queues one task per scope that fills and writes its workbook; the street roll-up,
// the largest, first.
func (b *kindBuild) fillAll(p *pool) {
	b.outs = make([]fillOut, len(b.scopes))
	order := make([]int, 0, len(b.scopes))
	for i, s := range b.scopes {
		if s == Rollup {
			order = append([]int{i}, order...)
		} else {
			order = append(order, i)
		}
	}
	for _, i := range order {
		b.wg.Add(1)
		p.tasks <- func() {
			defer b.wg.Done()
			b.outs[i] = b.fillOne(b.scopes[i])
		}
	}
}

func (b *kindBuild) fillOne(s string) fillOut {
	k, fs := b.kind, b.fs
	in := fillInput{kind: k, lay: b.lay, community: s, unit: s, period: b.opts.Period, dateText: b.opts.BuiltAt.Format("2006年01月02日"),
		values: fs.values[s], cells: fs.cells, bands: map[string][]bandRow{}, full: b.full, detail: b.details[s]}
	if in.values == nil {
		in.values = map[string]float64{}
	}
	if s == Rollup {
		in.unit = b.opts.StreetName
		in.rollupBy = rollupLines(fs, b.keys, b.scopes)
	}
	for anchor, byComm := range fs.bands {
		if s == Rollup {
			in.bands[anchor] = allRows(byComm, b.scopes)
		} else {
			in.bands[anchor] = byComm[s]
		}
	}
	data, err := fill(in)
	if err != nil {
		return fillOut{err: fmt.Errorf("%s: %w", s, err)}
	}
	name := fileName(k, s, b.opts.StreetName, b.opts.Period, b.versions[s]+1)
	dir := filepath.Join(b.opts.OutDir, b.opts.Period.Code, scopeDir(s, b.opts.StreetName))
	path, err := writeFile(dir, name, data)
	sum := sha256.Sum256(data)
	return fillOut{file: path, sum: hex.EncodeToString(sum[:]), err: err}
}

// record waits for the kind's workbooks, checks its rules and stores the builds.
func (b *kindBuild) record(ctx context.Context, session map[string]*figureSet) ([]Built, []CheckResult, error) {
	k, conn, fs, ids, prev, versions, keys, full, outs := b.kind, b.conn, b.fs, b.ids, b.prev, b.versions, b.keys, b.full, b.outs
	b.wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	for _, o := range outs {
		if o.err != nil {
			return nil, nil, o.err
		}
	}

	// Checks, per community.
	var checks []CheckResult
	failed := map[string]int{}
	var lookupErr error
	for _, c := range k.Checks {
		r, _ := parseRule(c.Rule)
		for _, s := range b.scopes {
			ok, detail := r.eval(func(t term) (float64, bool) {
				kind := t.kind
				if kind == "" {
					kind = k.Code
				}
				key := t.name
				if t.row != "" {
					key = matrixKey(t.name, t.row, t.col)
				}
				if other, built := session[kind]; built {
					if _, known := other.cells[key]; !known {
						return 0, false
					}
					return other.values[s][key], true
				}
				v, found, err := b.storedFigure(ctx, kind, s, key)
				if err != nil && lookupErr == nil {
					lookupErr = err
				}
				return v, found
			})
			if !ok {
				failed[s]++
			}
			checks = append(checks, CheckResult{Kind: k.Code, Community: s, Rule: c.Rule, Detail: detail, OK: ok})
		}
	}
	if lookupErr != nil {
		return nil, nil, fmt.Errorf("checks: %w", lookupErr)
	}

	// Record the builds.
	built := make([]Built, len(b.scopes))
	for i, s := range b.scopes {
		rows := 0
		for _, byComm := range fs.bands {
			if s == Rollup {
				for _, rs := range byComm {
					rows += len(rs)
				}
			} else {
				rows += len(byComm[s])
			}
		}
		built[i] = Built{BuildID: ids[s], Kind: k.Code, Community: s, Version: versions[s] + 1, File: outs[i].file, Figures: len(keys), Rows: rows, ChecksFailed: failed[s], FullValues: full}
	}
	if err := store.Append(conn, "report", "builds", len(built), func(i int) []driver.Value {
		x := built[i]
		return []driver.Value{x.BuildID, x.Kind, x.Community, b.opts.Period.Code, b.opts.Period.RefDate, int32(x.Version), b.opts.BuiltAt,
			nullInt(b.resolveRun), nullInt(b.syncID), k.Fingerprint, x.File, outs[i].sum, int32(x.Figures), int32(x.Rows), int32(x.ChecksFailed), x.FullValues, b.opts.RequestedBy, b.batch}
	}); err != nil {
		return nil, nil, fmt.Errorf("report.builds: %w", err)
	}
	type fig struct {
		id               int64
		key, cell, label string
		value            float64
	}
	var figs []fig
	for _, s := range b.scopes {
		for _, key := range keys {
			ci := fs.cells[key]
			figs = append(figs, fig{ids[s], key, ci.cell, ci.label, fs.values[s][key]})
		}
	}
	if err := store.Append(conn, "report", "figures", len(figs), func(i int) []driver.Value {
		f := figs[i]
		return []driver.Value{f.id, f.key, f.cell, f.label, f.value}
	}); err != nil {
		return nil, nil, fmt.Errorf("report.figures: %w", err)
	}
	if err := store.Append(conn, "report", "checks", len(checks), func(i int) []driver.Value {
		c := checks[i]
		return []driver.Value{ids[c.Community], c.Rule, c.OK, c.Detail}
	}); err != nil {
		return nil, nil, fmt.Errorf("report.checks: %w", err)
	}
	changed, err := b.saveDiffs(ctx, ids, prev)
	if err != nil {
		return nil, nil, err
	}
	for i := range built {
		built[i].Changed = changed[built[i].Community]
	}
	if full {
		if err := store.Append(conn, "report", "full_value_outputs", len(built), func(i int) []driver.Value {
			x := built[i]
			return []driver.Value{b.opts.BuiltAt, x.BuildID, x.Kind, x.Community, b.opts.Period.Code, b.opts.Role, b.opts.RequestedBy, fullColumns(k), b.opts.Purpose}
		}); err != nil {
			return nil, nil, fmt.Errorf("report.full_value_outputs: %w", err)
		}
	}
	return built, checks, nil
}

func fullColumns(k *Kind) string {
	var cols []string
	for _, b := range k.Bands {
		for c := range b.Mask {
			cols = append(cols, b.Anchor+"."+c)
		}
	}
	sort.Strings(cols)
	return strings.Join(append(cols, DetailSheet+".身份证号"), ",")
}

func nullInt(v sql.NullInt64) any {
	if v.Valid {
		return v.Int64
	}
	return nil
}

func sortedKeys(m map[string]cellInfo) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func allRows(byComm map[string][]bandRow, scopes []string) []bandRow {
	var out []bandRow
	for _, s := range scopes {
		out = append(out, byComm[s]...)
	}
	return out
}

func rollupLines(fs *figureSet, keys, scopes []string) []rollupLine {
	var out []rollupLine
	for _, key := range keys {
		ci := fs.cells[key]
		if ci.cell == "" {
			continue
		}
		for _, s := range scopes {
			if s == Rollup {
				continue
			}
			out = append(out, rollupLine{cell: ci.cell, label: ci.label, community: s, value: fs.values[s][key]})
		}
	}
	return out
}

var unsafeName = regexp.MustCompile(`[\\/:*?"<>|\s]+`)

func scopeDir(scope, street string) string {
	if scope == Rollup {
		return unsafeName.ReplaceAllString(street, "_")
	}
	return unsafeName.ReplaceAllString(scope, "_")
}

func fileName(k *Kind, scope, street string, p Period, version int) string {
	return fmt.Sprintf("%s_%s_%s_%s_v%d.xlsx", k.Code, unsafeName.ReplaceAllString(k.Title, "_"), scopeDir(scope, street), p.Code, version)
}

// writeFile writes dir/name through a temp file in dir and a rename.
func writeFile(dir, name string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*.xlsx")
	if err != nil {
		return "", err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	path := filepath.Join(dir, name)
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return path, nil
}

// previous returns each scope's last build id and version of this kind and period.
func (b *kindBuild) previous(ctx context.Context) (map[string]int64, map[string]int, error) {
	rows, err := b.conn.QueryContext(ctx, `SELECT community, arg_max(build_id, version), max(version) FROM report.builds
		WHERE kind = ? AND period = ? GROUP BY community`, b.kind.Code, b.opts.Period.Code)
	if err != nil {
		return nil, nil, fmt.Errorf("previous builds: %w", err)
	}
	defer rows.Close()
	prev, versions := map[string]int64{}, map[string]int{}
	for rows.Next() {
		var c string
		var id int64
		var v int
		if err := rows.Scan(&c, &id, &v); err != nil {
			return nil, nil, err
		}
		prev[c], versions[c] = id, v
	}
	return prev, versions, rows.Err()
}

// detailLines are each community's persons behind its figures, with the cells they count in.
func (b *kindBuild) detailLines(ctx context.Context, fs *figureSet) (map[string][]detailLine, error) {
	var vals []string
	for s, id := range b.ids {
		if s != Rollup {
			vals = append(vals, fmt.Sprintf("(%d, %s)", id, quoteLit(s)))
		}
	}
	if len(vals) == 0 {
		return map[string][]detailLine{}, nil
	}
	rows, err := b.conn.QueryContext(ctx, `SELECT b.community, fp.person_id, coalesce(p.name, ''), coalesce(p.id_no, ''), array_to_string(fp.figures, chr(31))
		FROM report.figure_persons fp JOIN (VALUES `+strings.Join(vals, ", ")+`) AS b(build_id, community) USING (build_id)
		LEFT JOIN golden.person p USING (person_id)
		ORDER BY b.community, 3, fp.person_id`)
	if err != nil {
		return nil, fmt.Errorf("drill-down lines: %w", err)
	}
	defer rows.Close()
	out := map[string][]detailLine{}
	for rows.Next() {
		var c string
		var l detailLine
		var keys string
		if err := rows.Scan(&c, &l.person, &l.name, &l.idNo, &keys); err != nil {
			return nil, err
		}
		var parts []string
		for _, key := range strings.Split(keys, "\x1f") {
			if ci := fs.cells[key]; ci.cell != "" && !strings.HasSuffix(key, ".rows") { // a band lists its persons itself
				_, cell, _ := strings.Cut(ci.cell, "!")
				parts = append(parts, cell+" "+ci.label)
			}
		}
		if len(parts) == 0 {
			continue
		}
		l.cells = strings.Join(parts, "；")
		out[c] = append(out[c], l)
	}
	return out, rows.Err()
}

// savePersons stores, per community build, each person behind its figures with the figures
// they count in (a band's persons under band.rows): one row a person, not one a figure.
func (b *kindBuild) savePersons(ctx context.Context, fs *figureSet, ids map[string]int64) error {
	type pr struct{ community, figure, person string }
	var bandPersons []pr
	for anchor, byComm := range fs.bands {
		for _, s := range b.scopes {
			if s == Rollup {
				continue // the roll-up's persons are its communities'
			}
			for _, r := range byComm[s] {
				bandPersons = append(bandPersons, pr{s, anchor + ".rows", r.person})
			}
		}
	}
	if err := store.AppendTemp(b.conn, fs.persons, len(bandPersons), func(i int) []driver.Value {
		p := bandPersons[i]
		return []driver.Value{p.community, p.figure, p.person}
	}); err != nil {
		return fmt.Errorf("band persons: %w", err)
	}
	var vals []string
	for s, id := range ids {
		vals = append(vals, fmt.Sprintf("(%s, %d)", quoteLit(s), id))
	}
	_, err := b.conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO report.figure_persons
		SELECT s.build_id, t.person_id, list(DISTINCT t.key ORDER BY t.key)
		FROM %s t JOIN (VALUES %s) AS s(community, build_id) USING (community) GROUP BY ALL`, fs.persons, strings.Join(vals, ", ")))
	if err != nil {
		return fmt.Errorf("report.figure_persons: %w", err)
	}
	return nil
}

// saveDiffs stores what changed against each scope's previous version: figures whose value
// differs, and persons who joined or left a band. It returns the count per scope.
func (b *kindBuild) saveDiffs(ctx context.Context, ids, prev map[string]int64) (map[string]int, error) {
	var pairs []string
	for s, id := range ids {
		if p, ok := prev[s]; ok {
			pairs = append(pairs, fmt.Sprintf("(%d, %d)", id, p))
		}
	}
	changed := map[string]int{}
	if len(pairs) == 0 {
		return changed, nil
	}
	v := "(VALUES " + strings.Join(pairs, ", ") + ") AS v(build_id, previous_build_id)"
	_, err := b.conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO report.diffs
		WITH n AS (SELECT v.build_id, v.previous_build_id, f.figure, f.cell, f.label, f.value FROM %[1]s JOIN report.figures f ON f.build_id = v.build_id),
		     o AS (SELECT v.build_id, v.previous_build_id, f.figure, f.cell, f.label, f.value FROM %[1]s JOIN report.figures f ON f.build_id = v.previous_build_id)
		SELECT coalesce(n.build_id, o.build_id), coalesce(n.previous_build_id, o.previous_build_id), coalesce(n.figure, o.figure),
			coalesce(n.cell, o.cell), coalesce(n.label, o.label), CAST(o.value AS VARCHAR), CAST(n.value AS VARCHAR)
		FROM n FULL JOIN o ON n.build_id = o.build_id AND n.figure = o.figure
		WHERE n.value IS DISTINCT FROM o.value`, v))
	if err != nil {
		return nil, fmt.Errorf("report.diffs (figures): %w", err)
	}
	_, err = b.conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO report.diffs
		WITH n AS (SELECT * FROM (SELECT v.build_id, v.previous_build_id, unnest(p.figures) AS figure, p.person_id FROM %[1]s JOIN report.figure_persons p ON p.build_id = v.build_id) WHERE figure LIKE '%%.rows'),
		     o AS (SELECT * FROM (SELECT v.build_id, v.previous_build_id, unnest(p.figures) AS figure, p.person_id FROM %[1]s JOIN report.figure_persons p ON p.build_id = v.previous_build_id) WHERE figure LIKE '%%.rows')
		SELECT coalesce(n.build_id, o.build_id), coalesce(n.previous_build_id, o.previous_build_id), coalesce(n.figure, o.figure), NULL,
			CASE WHEN n.person_id IS NULL THEN '移出' ELSE '新增' END, o.person_id, n.person_id
		FROM n FULL JOIN o ON n.build_id = o.build_id AND n.figure = o.figure AND n.person_id = o.person_id
		WHERE n.person_id IS NULL OR o.person_id IS NULL`, v))
	if err != nil {
		return nil, fmt.Errorf("report.diffs (bands): %w", err)
	}
	var idList []string
	for _, id := range ids {
		idList = append(idList, strconv.FormatInt(id, 10))
	}
	rows, err := b.conn.QueryContext(ctx, `SELECT build_id, count(*) FROM report.diffs WHERE build_id IN (`+strings.Join(idList, ", ")+`) GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("report.diffs: %w", err)
	}
	defer rows.Close()
	byID := map[int64]string{}
	for s, id := range ids {
		byID[id] = s
	}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		changed[byID[id]] = n
	}
	return changed, rows.Err()
}

// storedFigure reads another kind's figure of the same community and period from its latest
// build (a check across kinds when that kind is not built in this run).
func (b *kindBuild) storedFigure(ctx context.Context, kind, community, key string) (float64, bool, error) {
	var v sql.NullFloat64
	err := b.conn.QueryRowContext(ctx, `SELECT f.value FROM report.figures f JOIN (
		SELECT arg_max(build_id, version) AS build_id FROM report.builds WHERE kind = ? AND community = ? AND period = ?) b USING (build_id)
		WHERE f.figure = ?`, kind, community, b.opts.Period.Code, key).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return v.Float64, v.Valid, nil
}
