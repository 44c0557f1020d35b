// Package filedrop selects the files a file-based source reads from a folder that departments
// drop exports into: every file matching a glob, or only the newest file per group when the file
// names carry a date (残疾人信息_20261120.csv, 网格_<grid>_<yyyymmdd>.csv).
package filedrop

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

// Options are the file-selection options shared by the csv and xlsx kinds.
type Options struct {
	// Root is the folder of the drop, relative to the config's folder unless absolute.
	Root string `json:"root"`
	// Glob selects files below Root ("*.csv", "*/台账.xlsx"); default "*".
	Glob string `json:"glob"`
	// Newest, when set, is a regular expression over the file's path relative to Root with a
	// named group "date" (yyyymmdd) and optionally "group": only the newest file of each group
	// is read. Files that do not match are ignored.
	Newest string `json:"newest"`
}

// Validate checks the glob pattern and the newest expression without touching any file, so a
// kind's factory can reject a bad config before the first run.
func (o Options) Validate() error {
	if o.Glob != "" {
		if _, err := filepath.Match(o.Glob, ""); err != nil {
			return fmt.Errorf("option glob: %q: %w", o.Glob, err)
		}
	}
	_, err := o.newestRe()
	return err
}

// newestRe compiles Newest (nil when unset); it must name a (?P<date>…) group.
func (o Options) newestRe() (*regexp.Regexp, error) {
	if o.Newest == "" {
		return nil, nil
	}
	re, err := regexp.Compile(o.Newest)
	if err != nil {
		return nil, fmt.Errorf("option newest: %w", err)
	}
	if re.SubexpIndex("date") < 0 {
		return nil, fmt.Errorf("option newest: %q has no (?P<date>…) group", o.Newest)
	}
	return re, nil
}

// File is one selected file.
type File struct {
	Path  string // absolute or as joined from Root
	Rel   string // relative to Root, with forward slashes: the start of every location
	Date  string // yyyymmdd from the name, when Newest is set
	Group string
	Size  int64
}

// Select lists the files to read, sorted by Rel. No file at all is an error naming the folder
// and pattern: an empty drop folder is a failed delivery, not an empty system.
func Select(baseDir string, o Options) ([]File, error) {
	root := o.Root
	if !filepath.IsAbs(root) {
		root = filepath.Join(baseDir, root)
	}
	glob := o.Glob
	if glob == "" {
		glob = "*"
	}
	matches, err := filepath.Glob(filepath.Join(root, glob))
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", glob, err)
	}
	re, err := o.newestRe()
	if err != nil {
		return nil, err
	}
	newest := map[string]File{}
	var out []File
	for _, m := range matches {
		st, err := os.Stat(m)
		if err != nil || st.IsDir() {
			continue
		}
		rel, _ := filepath.Rel(root, m)
		f := File{Path: m, Rel: filepath.ToSlash(rel), Size: st.Size()}
		if re == nil {
			out = append(out, f)
			continue
		}
		sm := re.FindStringSubmatch(f.Rel)
		if sm == nil {
			continue
		}
		f.Date = sm[re.SubexpIndex("date")]
		if gi := re.SubexpIndex("group"); gi >= 0 {
			f.Group = sm[gi]
		}
		if cur, ok := newest[f.Group]; !ok || f.Date > cur.Date || (f.Date == cur.Date && f.Rel > cur.Rel) {
			newest[f.Group] = f
		}
	}
	for _, f := range newest {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rel < out[j].Rel })
	if len(out) == 0 {
		return nil, fmt.Errorf("no file matches %s in %s", glob, root)
	}
	return out, nil
}

// Cursor is the newest date among the files, for run statistics.
func Cursor(files []File) string {
	c := ""
	for _, f := range files {
		if f.Date > c {
			c = f.Date
		}
	}
	return c
}
