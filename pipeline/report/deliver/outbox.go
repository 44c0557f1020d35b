package deliver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Outbox writes each package to Dir/<department>/<period>/<file name>, where the department's
// own process (or a file share) picks it up. A file appears whole or not at all: it is written to
// a temporary file in the same folder, synced, renamed into place and the folder synced.
//
// The keys delivered are kept in Dir/.delivered/<key> (the file's path and sha256), written after
// the file: a key found there writes nothing, so a file the department has already taken away is
// not put back. A crash between the rename and the key's record is noticed on the retry (the file
// is there with the same bytes) and only the key is recorded. A file of the same name holding
// other bytes and no key is refused, never overwritten.
//
// Files are created mode 0640 and folders 0750: they hold personal data.
type Outbox struct {
	Dir string
	// Label is the target's name ("outbox:" + Dir when empty).
	Label string
}

// keysDir is the folder below Dir that records the keys delivered.
const keysDir = ".delivered"

// Name is the target's name in the ledger and the key.
func (o Outbox) Name() string {
	if o.Label != "" {
		return o.Label
	}
	return "outbox:" + o.Dir
}

// Kind is "outbox".
func (o Outbox) Kind() string { return "outbox" }

var keyRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,200}$`)

// Send writes the package's file unless its key was delivered already.
func (o Outbox) Send(ctx context.Context, p Package, key string) (string, error) {
	if o.Dir == "" {
		return "", Permanent(errors.New("outbox: no folder (dir) configured"))
	}
	if !keyRe.MatchString(key) || strings.Trim(key, ".") == "" {
		return "", Permanent(fmt.Errorf("outbox %s: key %q cannot name a file", o.Dir, key))
	}
	for _, e := range []struct{ field, v string }{{"department", p.Department}, {"period", p.Period}, {"file_name", p.FileName}} {
		if err := pathElement(e.v); err != nil {
			return "", Permanent(fmt.Errorf("outbox %s: %s %q: %w", o.Dir, e.field, e.v, err))
		}
	}
	rel := filepath.Join(p.Department, p.Period, p.FileName)
	marker := filepath.Join(o.Dir, keysDir, key)
	switch b, err := os.ReadFile(marker); {
	case err == nil:
		return "outbox " + strings.TrimSpace(string(b)) + " (delivered before)", nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("outbox %s: %w", o.Dir, err)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	h := sha256.Sum256(p.Body)
	sum := hex.EncodeToString(h[:])
	folder := filepath.Join(o.Dir, p.Department, p.Period)
	for _, d := range []string{folder, filepath.Join(o.Dir, keysDir)} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return "", fmt.Errorf("outbox: %w", err)
		}
	}
	final := filepath.Join(folder, p.FileName)
	switch old, err := os.ReadFile(final); {
	case err == nil && bytes.Equal(old, p.Body):
		// written by an attempt that died before recording its key
	case err == nil:
		return "", Permanent(fmt.Errorf("outbox: %s already holds another file (sha256 differs) not delivered under key %s: refusing to overwrite it", final, key))
	case errors.Is(err, fs.ErrNotExist):
		if err := writeAtomic(folder, p.FileName, p.Body); err != nil {
			return "", fmt.Errorf("outbox: %w", err)
		}
	default:
		return "", fmt.Errorf("outbox: %w", err)
	}
	receipt := filepath.ToSlash(rel) + " sha256=" + sum
	if err := writeAtomic(filepath.Join(o.Dir, keysDir), key, []byte(receipt+"\n")); err != nil {
		return "", fmt.Errorf("outbox: %s was written but its key not recorded: %w", final, err)
	}
	return "outbox " + receipt, nil
}

// pathElement refuses a name that is not one plain path element.
func pathElement(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return errors.New("empty")
	case s == "." || s == "..":
		return errors.New("not a name")
	case strings.ContainsAny(s, "/\\\x00"):
		return errors.New("holds a path separator or NUL")
	case strings.HasPrefix(s, "."):
		return errors.New("starts with a dot (hidden)")
	}
	return nil
}

// writeAtomic writes dir/name through a temporary file in dir: write, fsync, rename, fsync dir.
// Whatever fails, no temporary file is left behind.
func writeAtomic(dir, name string, body []byte) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			if rerr := os.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = errors.Join(err, rerr)
			}
		}
	}()
	if _, err := f.Write(body); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o640); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return d.Close()
}
