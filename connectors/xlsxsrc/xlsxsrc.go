// Package xlsxsrc is the "xlsx" source kind: Excel exports of departmental systems and the
// ledgers (台账) community staff keep by hand, dropped as .xlsx files into a folder.
//
// Each selected sheet of each selected file is one table: title lines and the header (one row,
// or two with group cells merged across their columns) are found from the merged ranges, the
// header is flattened to "组/列" names, and every row below it is a record, except blank rows,
// repeated header rows, 合计/小计 lines and notes, which are counted as skipped. Values are read
// raw; numbers that were IDs typed into Excel, date cells and date serials in text columns are
// rendered and flagged. Rows are located as "<file>!<sheet>!<row>". Reads are bounded by
// connectors.Limits (zip parts, shared strings, values and rows are measured before excelize
// reads them). See README.md.
package xlsxsrc

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"communityhub/connectors"
	"communityhub/connectors/filedrop"
)

func init() { connectors.Register("xlsx", New) }

// Options are the xlsx kind's options.
type Options struct {
	filedrop.Options // root, glob, newest

	// Sheets are the sheets to read, in this order; empty means every sheet of each file, in
	// workbook order (empty sheets are passed over).
	Sheets []string `json:"sheets"`
	// SheetColumn, when set, adds a last column of this name holding the sheet's name (e.g.
	// "社区" when a workbook has one sheet per community).
	SheetColumn string `json:"sheet_column"`
	// HeaderRows is the number of header rows; 0 detects it (1, or 2 when the first header row
	// has merged group cells or columns merged down).
	HeaderRows int `json:"header_rows"`
	// TitleRows is the number of non-empty title lines above the header (after leading empty
	// rows); nil detects them.
	TitleRows *int `json:"title_rows"`
	// BatchRows is the number of rows per Arrow batch; 0 means connectors.DefaultBatchRows.
	BatchRows int `json:"batch_rows"`
	// AllowEmptySheets lets a sheet have a header and no data rows (a community with no one to
	// list in an export of one sheet per community). By default such a sheet fails the read: an
	// export that lost its rows is a failed delivery. Either way a workbook none of whose
	// selected sheets has a data row fails.
	AllowEmptySheets bool `json:"allow_empty_sheets"`
}

// Source reads xlsx files.
type Source struct {
	baseDir string
	opts    Options
	lim     connectors.Limits
}

var (
	_ connectors.Source = (*Source)(nil)
	_ connectors.Prober = (*Source)(nil)
)

// New makes an xlsx source from its config. It checks the options without touching the files.
func New(cfg connectors.Config) (connectors.Source, error) {
	var o Options
	if err := connectors.DecodeOptions(cfg, &o); err != nil {
		return nil, err
	}
	switch {
	case o.HeaderRows < 0 || o.HeaderRows > 10:
		return nil, fmt.Errorf("options: header_rows %d: want 0 (detect) to 10", o.HeaderRows)
	case o.TitleRows != nil && (*o.TitleRows < 0 || *o.TitleRows > 50):
		return nil, fmt.Errorf("options: title_rows %d: want 0 to 50", *o.TitleRows)
	case o.BatchRows < 0:
		return nil, fmt.Errorf("options: batch_rows %d is negative", o.BatchRows)
	case o.SheetColumn == connectors.LocColumn || o.SheetColumn == connectors.FlagsColumn:
		return nil, fmt.Errorf("options: sheet_column %q is a reserved column name", o.SheetColumn)
	}
	if err := o.Options.Validate(); err != nil {
		return nil, err
	}
	for i, s := range o.Sheets {
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("options: sheets[%d] is empty", i)
		}
	}
	return &Source{baseDir: cfg.BaseDir, opts: o, lim: cfg.Limits.WithDefaults()}, nil
}

// Columns returns the flattened header of the first selected sheet (the first that is not
// empty) of the first selected file, then SheetColumn if set.
func (s *Source) Columns(ctx context.Context) ([]string, error) {
	files, err := filedrop.Select(s.baseDir, s.opts.Options)
	if err != nil {
		return nil, err
	}
	for _, file := range files {
		var cols []string
		err := s.eachSheet(ctx, file, func(st *sheetStream, lay *layout, _ []xrow) (bool, error) {
			c, err := s.columns(st, lay)
			cols = c
			return false, err
		})
		if err != nil || cols != nil {
			return cols, err
		}
	}
	return nil, fmt.Errorf("no selected sheet has a header row in %d file(s)", len(files))
}

// Probe opens every selected file and reads the header of every selected sheet, checking that
// they all have the same columns.
func (s *Source) Probe(ctx context.Context) error {
	files, err := filedrop.Select(s.baseDir, s.opts.Options)
	if err != nil {
		return err
	}
	var want []string
	var where string
	for _, file := range files {
		err := s.eachSheet(ctx, file, func(st *sheetStream, lay *layout, _ []xrow) (bool, error) {
			cols, err := s.columns(st, lay)
			if err != nil {
				return false, err
			}
			if want == nil {
				want, where = cols, location(st)
				return true, nil
			}
			return true, drift(st, cols, want, where)
		})
		if err != nil {
			return err
		}
	}
	if want == nil {
		return fmt.Errorf("no selected sheet has a header row in %d file(s)", len(files))
	}
	return nil
}

// Read streams the rows of every selected sheet of every selected file.
//
// Every file must give data rows (rows written or rejected, not skipped): a file none of whose
// selected sheets has a header, or whose sheets have headers and no data rows, fails the read;
// so does a sheet with a header and no data rows, unless allow_empty_sheets is set.
func (s *Source) Read(ctx context.Context, _ connectors.ReadRequest, w connectors.Writer) error {
	files, err := filedrop.Select(s.baseDir, s.opts.Options)
	if err != nil {
		return err
	}
	var (
		want  []string
		where string
		k     *sink
	)
	defer func() {
		if k != nil {
			k.b.Release()
		}
	}()
	for _, file := range files {
		tables, rows := 0, 0
		err := s.eachSheet(ctx, file, func(st *sheetStream, lay *layout, buf []xrow) (bool, error) {
			cols, err := s.columns(st, lay)
			if err != nil {
				return false, err
			}
			if want == nil {
				want, where = cols, location(st)
				k = newSink(cols, s.opts.BatchRows, s.lim, w)
			} else if err := drift(st, cols, want, where); err != nil {
				return false, err
			}
			run := newSheetRun(st, lay, k, s.opts.SheetColumn != "")
			if err := run.readAll(ctx, buf); err != nil {
				return false, err
			}
			tables++
			rows += run.dataRows
			if run.dataRows == 0 && !s.opts.AllowEmptySheets {
				return false, fmt.Errorf("sheet %s of file %s has a header but no data rows", quote(st.sheet), file.Rel)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		switch {
		case tables == 0:
			return fmt.Errorf("file %s: no selected sheet has a header row", file.Rel)
		case rows == 0:
			return fmt.Errorf("file %s: no selected sheet has data rows (%d with a header and nothing under it)", file.Rel, tables)
		}
	}
	if want == nil {
		return fmt.Errorf("no selected sheet has a header row in %d file(s)", len(files))
	}
	if err := k.b.Flush(w); err != nil {
		return err
	}
	w.Checkpoint(filedrop.Cursor(files))
	return nil
}

// columns is a sheet's column list: its header, then SheetColumn.
func (s *Source) columns(st *sheetStream, lay *layout) ([]string, error) {
	cols := uniqueNames(lay.names, []string{connectors.LocColumn, connectors.FlagsColumn})
	if sc := s.opts.SheetColumn; sc != "" {
		if slices.Contains(cols, sc) {
			return nil, fmt.Errorf("%s: sheet %s: sheet_column %q is also a header column", st.wb.rel, quote(st.sheet), sc)
		}
		cols = append(cols, sc)
	}
	lay.names = cols[:len(lay.names)]
	return cols, nil
}

func location(st *sheetStream) string { return fmt.Sprintf("%s sheet %s", st.wb.rel, quote(st.sheet)) }

// drift reports a sheet whose columns are not the first sheet's.
func drift(st *sheetStream, cols, want []string, where string) error {
	if slices.Equal(cols, want) {
		return nil
	}
	var missing, extra []string
	for _, c := range want {
		if !slices.Contains(cols, c) {
			missing = append(missing, c)
		}
	}
	for _, c := range cols {
		if !slices.Contains(want, c) {
			extra = append(extra, c)
		}
	}
	detail := fmt.Sprintf("missing %s, unexpected %s", quoteList(missing), quoteList(extra))
	if len(missing) == 0 && len(extra) == 0 {
		detail = fmt.Sprintf("same columns in another order: %s", quoteList(cols))
	}
	return fmt.Errorf("schema drift: %s: columns differ from %s: %s", location(st), where, detail)
}

// quoteList is names from a file for a message: the first 12, each an excerpt.
func quoteList(names []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, n := range names {
		if i == 12 {
			fmt.Fprintf(&b, " … %d more", len(names)-i)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quote(n))
	}
	b.WriteByte(']')
	return b.String()
}

// eachSheet opens a file and calls fn for each selected sheet that has a header, with the
// sheet's layout and the rows read to find it. fn returns false to stop.
func (s *Source) eachSheet(ctx context.Context, file filedrop.File, fn func(*sheetStream, *layout, []xrow) (bool, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	wb, err := openWorkbook(ctx, file, s.lim)
	if err != nil {
		return err
	}
	defer wb.close()
	sheets := wb.sheets()
	if len(s.opts.Sheets) > 0 {
		var sel []string
		for _, want := range s.opts.Sheets {
			name, ok := findSheet(sheets, want)
			if !ok {
				return fmt.Errorf("%s: no sheet %q (sheets: %s)", file.Rel, want, quoteList(sheets))
			}
			sel = append(sel, name)
		}
		sheets = sel
	}
	for _, name := range sheets {
		if err := ctx.Err(); err != nil {
			return err
		}
		more, err := s.sheet(ctx, wb, name, fn)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func (s *Source) sheet(ctx context.Context, wb *workbook, name string, fn func(*sheetStream, *layout, []xrow) (bool, error)) (bool, error) {
	st, err := wb.openSheet(ctx, name)
	if err != nil {
		return false, err
	}
	defer st.close()
	need := lookAhead
	if t := s.opts.TitleRows; t != nil {
		need = max(need, *t+s.opts.HeaderRows+2)
	}
	buf, err := st.head(ctx, need)
	if err != nil {
		return false, err
	}
	lay := detectLayout(buf, st.merges, s.opts.HeaderRows, s.opts.TitleRows)
	if lay == nil {
		return true, nil // an empty sheet
	}
	return fn(st, lay, buf)
}

// head reads the first rows of a sheet: up to need non-empty ones. Leading empty rows are not
// kept; a row over a limit counts as non-empty (it has no cells, so the header is looked for
// around it, and Read fails if it lies above the data).
func (st *sheetStream) head(ctx context.Context, need int) ([]xrow, error) {
	var buf []xrow
	seen := 0
	for seen < need {
		if st.n&0xff == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r, ok, err := st.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if nonEmpty(r) > 0 || r.over != "" {
			seen++
		} else if seen == 0 {
			continue
		}
		buf = append(buf, r)
	}
	return buf, nil
}

func findSheet(sheets []string, want string) (string, bool) {
	for _, s := range sheets {
		if s == want {
			return s, true
		}
	}
	for _, s := range sheets {
		if strings.EqualFold(strings.TrimSpace(s), strings.TrimSpace(want)) {
			return s, true
		}
	}
	return "", false
}
