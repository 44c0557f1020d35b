// Package filedrop selects the files a file-based source reads from a folder that departments
// drop exports into: every file matching a glob, or only the newest file per group when the file
// names carry a date (残疾人信息_20261120.csv, 网格_<grid>_<yyyymmdd>.csv), or one file named
// directly.
//
// Only regular files are read. A symlink is followed, and must lead to a file inside the drop
// folder; named pipes, devices and sockets are refused without being opened (opening a named
// pipe blocks until someone writes to it). Errors name the entry, never its contents.
package filedrop

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Options are the file-selection options shared by the csv and xlsx kinds. The kinds embed it
// in their own options struct, so its fields are top-level options of the kind.
//
// Either Path names one file, or Root (default: the config's folder) with Glob and Newest
// selects files from a folder; Path with any of Root, Glob or Newest is an error.
type Options struct {
	// Path is a single file to read, relative to the config's folder unless absolute. A symlink
	// must lead to a file in the folder that holds it.
	Path string `json:"path"`
	// Root is the folder of the drop, relative to the config's folder unless absolute.
	Root string `json:"root"`
	// Glob selects files below Root ("*.csv", "*/台账.xlsx"); default "*".
	Glob string `json:"glob"`
	// Newest, when set, is a regular expression over the file's path relative to Root with a
	// named group "date" (yyyymmdd) and optionally "group": only the newest file of each group
	// is read. Files that do not match are ignored.
	Newest string `json:"newest"`
}

// Validate checks the options (path against root/glob/newest, the glob pattern, the newest
// expression) without touching any file, so a kind's factory can reject a bad config before the
// first run.
func (o Options) Validate() error {
	if o.Path != "" {
		var also []string
		for _, x := range []struct{ name, v string }{{"root", o.Root}, {"glob", o.Glob}, {"newest", o.Newest}} {
			if x.v != "" {
				also = append(also, x.name)
			}
		}
		if len(also) > 0 {
			return fmt.Errorf("option path: a single file; it cannot go with %s (use either path, or root with glob/newest)", strings.Join(also, ", "))
		}
		return nil
	}
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
	Path  string // absolute or as joined from Root (or the Path option)
	Rel   string // relative to Root (the base name for the Path option), with forward slashes: the start of every location
	Date  string // yyyymmdd from the name, when Newest is set
	Group string
	Size  int64
	// Target is the checked file Path resolves to (symlinks followed); Open opens it.
	Target string
}

// Select lists the files to read, sorted by Rel. No file at all is an error naming the folder
// and pattern: an empty drop folder is a failed delivery, not an empty system. A matching entry
// that is not a regular file (a named pipe, a device, a socket) or a symlink leading outside the
// drop folder is an error naming the entry; directories are passed over.
func Select(baseDir string, o Options) ([]File, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Path != "" {
		return selectPath(baseDir, o.Path)
	}
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
	var realRoot string
	if len(matches) > 0 {
		if realRoot, err = filepath.EvalSymlinks(root); err != nil {
			return nil, fmt.Errorf("drop folder %s: %w", root, err)
		}
	}
	newest := map[string]File{}
	var out []File
	for _, m := range matches {
		rel, _ := filepath.Rel(root, m)
		f := File{Path: m, Rel: filepath.ToSlash(rel)}
		isDir, err := check(&f, realRoot, root)
		if err != nil {
			return nil, err
		}
		if isDir {
			continue
		}
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

// selectPath is Select for the path option: one file, checked like a drop folder's entry with
// the folder that holds it as the root.
func selectPath(baseDir, path string) ([]File, error) {
	p := path
	if !filepath.IsAbs(p) {
		p = filepath.Join(baseDir, p)
	}
	dir := filepath.Dir(p)
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("option path %s: %w", path, err)
	}
	f := File{Path: p, Rel: filepath.Base(p)}
	isDir, err := check(&f, realDir, dir)
	if err != nil {
		return nil, err
	}
	if isDir {
		return nil, fmt.Errorf("option path %s: is a folder, not a file (use root and glob for a drop folder)", path)
	}
	return []File{f}, nil
}

// check resolves f.Path, makes sure it stays inside realRoot (the drop folder root with its
// symlinks resolved) and is a regular file or a directory, and fills f.Target and f.Size. It
// never opens the entry.
func check(f *File, realRoot, root string) (isDir bool, err error) {
	lst, err := os.Lstat(f.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("%s: no such file in %s", f.Rel, root)
		}
		return false, fmt.Errorf("%s: %w", f.Rel, err)
	}
	target, err := filepath.EvalSymlinks(f.Path)
	if err != nil {
		if lst.Mode()&fs.ModeSymlink != 0 {
			return false, fmt.Errorf("%s: a symlink that leads nowhere readable (%v)", f.Rel, errors.Unwrap(err))
		}
		return false, fmt.Errorf("%s: %w", f.Rel, err)
	}
	if !inside(realRoot, target) {
		return false, fmt.Errorf("%s: leads (through a symlink) to %s, outside the drop folder %s: refused", f.Rel, target, root)
	}
	st, err := os.Stat(target)
	if err != nil {
		return false, fmt.Errorf("%s: %w", f.Rel, err)
	}
	switch m := st.Mode(); {
	case m.IsDir():
		return true, nil
	case !m.IsRegular():
		return false, fmt.Errorf("%s in %s: not a regular file (%s): refused", f.Rel, root, kindOf(m))
	}
	f.Target, f.Size = target, st.Size()
	return false, nil
}

// inside reports whether path lies in (or is) dir; both are clean, symlink-free paths.
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return m.Type().String()
}

// Open opens a selected file for reading. It opens the checked target without blocking (a
// file swapped for a named pipe since Select does not hang the read) and refuses anything that
// is not, once open, a regular file. Errors name f.Rel.
func Open(f File) (*os.File, error) {
	p := f.Target
	if p == "" {
		p = f.Path
	}
	fh, err := os.OpenFile(p, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Rel, err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("%s: %w", f.Rel, err)
	}
	if !st.Mode().IsRegular() {
		fh.Close()
		return nil, fmt.Errorf("%s: not a regular file (%s): refused", f.Rel, kindOf(st.Mode()))
	}
	return fh, nil
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
