//go:build unix

package csvsrc

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"communityhub/connectors"
	"communityhub/connectors/conntest"
)

// A named pipe in the drop folder fails the read at once (it is never opened: that would block
// until someone writes); a symlink out of the folder is refused; the path option reads one file.
func TestDropEntries(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.csv", []byte("姓名,电话\n张三,1\n"))
	if err := syscall.Mkfifo(filepath.Join(dir, "b.csv"), 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := conntest.Read(context.Background(), open(t, dir, map[string]any{"glob": "*.csv"}), "")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "b.csv") || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("FIFO: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read blocked on a FIFO")
	}

	outside := t.TempDir()
	write(t, outside, "key.csv", []byte("私钥,值\nSECRET,1\n"))
	os.Remove(filepath.Join(dir, "b.csv"))
	if err := os.Symlink(filepath.Join(outside, "key.csv"), filepath.Join(dir, "k.csv")); err != nil {
		t.Fatal(err)
	}
	_, err := conntest.Read(context.Background(), open(t, dir, map[string]any{"glob": "*.csv"}), "")
	if err == nil || !strings.Contains(err.Error(), "k.csv") || !strings.Contains(err.Error(), "outside the drop folder") ||
		strings.Contains(err.Error(), "SECRET") {
		t.Errorf("symlink out: %v", err)
	}

	c := read(t, open(t, dir, map[string]any{"path": "a.csv"}))
	if len(c.Rows) != 1 || c.Rows[0].Loc != "a.csv:2" {
		t.Errorf("path: %+v", c.Rows)
	}
	if _, err := New(connectors.Config{Name: "t", Kind: "csv", BaseDir: dir, Options: map[string]any{"path": "a.csv", "glob": "*.csv"}}); err == nil || !strings.Contains(err.Error(), "option path") {
		t.Errorf("path with glob: %v", err)
	}
}
