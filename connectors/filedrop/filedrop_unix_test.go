//go:build unix

package filedrop

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A drop folder holds a FIFO, a symlink to a device, a symlink out of the folder and one that
// stays inside: Select reads only regular files inside the folder and never opens the others.
func TestOnlyRegularFilesInside(t *testing.T) {
	outside := t.TempDir()
	touch(t, outside, "secret.csv")
	mk := func(t *testing.T) string {
		dir := t.TempDir()
		touch(t, dir, "a.csv")
		touch(t, dir, "sub/real.csv")
		return dir
	}
	refused := func(t *testing.T, dir, entry, want string) {
		t.Helper()
		done := make(chan error, 1)
		go func() { _, err := Select(dir, Options{Glob: "*.csv"}); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), entry) || !strings.Contains(err.Error(), want) {
				t.Errorf("Select: %v, want an error naming %s with %q", err, entry, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Select blocked (did it open the entry?)")
		}
	}

	t.Run("fifo", func(t *testing.T) {
		dir := mk(t)
		if err := syscall.Mkfifo(filepath.Join(dir, "b.csv"), 0o644); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		refused(t, dir, "b.csv", "not a regular file (a named pipe)")
		// Open refuses it too, without blocking, should one slip in after Select.
		done := make(chan error, 1)
		go func() {
			_, err := Open(File{Path: filepath.Join(dir, "b.csv"), Rel: "b.csv"})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "b.csv: not a regular file") {
				t.Errorf("Open of a FIFO: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Open blocked on a FIFO")
		}
	})
	t.Run("symlink to /dev/zero", func(t *testing.T) {
		dir := mk(t)
		if err := os.Symlink("/dev/zero", filepath.Join(dir, "z.csv")); err != nil {
			t.Fatal(err)
		}
		refused(t, dir, "z.csv", "outside the drop folder")
	})
	t.Run("device inside the root", func(t *testing.T) {
		// The root is /dev itself: the symlink's target is inside, but it is no regular file.
		if _, err := os.Stat("/dev/null"); err != nil {
			t.Skip(err)
		}
		_, err := Select("/", Options{Root: "/dev", Glob: "null"})
		if err == nil || !strings.Contains(err.Error(), "null in /dev: not a regular file (a character device)") {
			t.Errorf("Select /dev/null: %v", err)
		}
	})
	t.Run("symlink out of the folder", func(t *testing.T) {
		dir := mk(t)
		if err := os.Symlink(filepath.Join(outside, "secret.csv"), filepath.Join(dir, "s.csv")); err != nil {
			t.Fatal(err)
		}
		refused(t, dir, "s.csv", "outside the drop folder")
		// Also through a symlinked folder matched by the glob's folder part.
		dir = mk(t)
		if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
			t.Fatal(err)
		}
		if _, err := Select(dir, Options{Glob: "*/*.csv"}); err == nil || !strings.Contains(err.Error(), "out/secret.csv") ||
			!strings.Contains(err.Error(), "outside the drop folder") {
			t.Errorf("through a symlinked folder: %v", err)
		}
	})
	t.Run("symlink inside", func(t *testing.T) {
		dir := mk(t)
		if err := os.Symlink(filepath.Join("sub", "real.csv"), filepath.Join(dir, "link.csv")); err != nil {
			t.Fatal(err)
		}
		// A root that is itself a symlink is fine: the check is against the resolved root.
		alias := filepath.Join(t.TempDir(), "alias")
		if err := os.Symlink(dir, alias); err != nil {
			t.Fatal(err)
		}
		files, err := Select(alias, Options{Glob: "*.csv"})
		if err != nil || len(files) != 2 || files[1].Rel != "link.csv" {
			t.Fatalf("%+v %v", files, err)
		}
		real, _ := filepath.EvalSymlinks(filepath.Join(dir, "sub", "real.csv"))
		if files[1].Target != real || files[1].Size != 1 {
			t.Errorf("link target %q size %d, want %q", files[1].Target, files[1].Size, real)
		}
		fh, err := Open(files[1])
		if err != nil {
			t.Fatal(err)
		}
		fh.Close()
	})
}

func TestPathOption(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, "exports/党员报到.csv")
	touch(t, dir, "exports/other.csv")
	files, err := Select(dir, Options{Path: "exports/党员报到.csv"})
	if err != nil || len(files) != 1 || files[0].Rel != "党员报到.csv" || files[0].Size != 1 {
		t.Fatalf("%+v %v", files, err)
	}
	abs := filepath.Join(dir, "exports", "other.csv")
	if files, err = Select("/nonexistent", Options{Path: abs}); err != nil || len(files) != 1 || files[0].Path != abs {
		t.Fatalf("absolute path: %+v %v", files, err)
	}

	if _, err := Select(dir, Options{Path: "exports/missing.csv"}); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Select(dir, Options{Path: "exports"}); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("a folder: %v", err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "exports", "pipe.csv"), 0o644); err == nil {
		if _, err := Select(dir, Options{Path: "exports/pipe.csv"}); err == nil || !strings.Contains(err.Error(), "pipe.csv") ||
			!strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("a FIFO: %v", err)
		}
	}
	outside := t.TempDir()
	touch(t, outside, "k.csv")
	if err := os.Symlink(filepath.Join(outside, "k.csv"), filepath.Join(dir, "exports", "k.csv")); err != nil {
		t.Fatal(err)
	}
	if _, err := Select(dir, Options{Path: "exports/k.csv"}); err == nil || !strings.Contains(err.Error(), "outside the drop folder") {
		t.Errorf("a symlink out: %v", err)
	}

	for _, o := range []Options{{Path: "a.csv", Root: "r"}, {Path: "a.csv", Glob: "*.csv"}, {Path: "a.csv", Newest: `(?P<date>\d{8})`}} {
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "option path") {
			t.Errorf("%+v: %v", o, err)
		}
		if _, err := Select(dir, o); err == nil {
			t.Errorf("Select %+v accepted", o)
		}
	}
}
