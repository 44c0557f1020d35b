package deliver

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// listFiles lists every file below dir (relative, slash-separated) with its modification time.
func listFiles(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = info.ModTime()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func keys(m map[string]time.Time) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestOutboxWritesOnceAndLeavesNoTempFile(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	out := Outbox{Dir: t.TempDir()}
	p1 := f.build("R05", "兴隆社区", "2026-11", "残联", "workbook of 兴隆社区")
	p2 := f.build("R05", "*", "2026-11", "残联", "the street's roll-up")
	var s sleeper
	sum, err := Push(ctx, f.db, []Package{p1, p2}, []Target{out}, Options{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Sent) != 2 || len(sum.AlreadySent) != 0 || len(sum.Failed) != 0 {
		t.Fatalf("first push: %v, want 2 sent", sum)
	}
	for _, p := range []Package{p1, p2} {
		got, err := os.ReadFile(filepath.Join(out.Dir, p.Department, p.Period, p.FileName))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(p.Body) {
			t.Errorf("%s: the outbox holds %q, want %q", p.FileName, got, p.Body)
		}
	}
	files := listFiles(t, out.Dir)
	var reports, markers int
	for name := range files {
		switch {
		case strings.Contains(name, ".tmp"):
			t.Errorf("temporary file left behind: %s", name)
		case strings.HasPrefix(name, keysDir+"/"):
			markers++
		case strings.HasPrefix(name, "残联/2026-11/"):
			reports++
		default:
			t.Errorf("unexpected file %s", name)
		}
	}
	if reports != 2 || markers != 2 {
		t.Errorf("outbox holds %v, want 2 reports and 2 key records", keys(files))
	}
	if info, err := os.Stat(filepath.Join(out.Dir, "残联", "2026-11", p1.FileName)); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("report file mode: %v %v, want 0640", info.Mode(), err)
	}
	led := f.ledger()
	if len(led) != 2 {
		t.Fatalf("ledger has %d rows, want 2", len(led))
	}
	for i, r := range led {
		p := []Package{p1, p2}[i]
		if r.Status != "sent" || r.Attempts != 1 || !r.SentAt.Valid || !r.FirstAt.Valid || r.TargetKind != "outbox" ||
			r.Target != out.Name() || r.BuildID != p.BuildID || r.Department != "残联" || r.Err.Valid {
			t.Errorf("ledger row %d: %+v", i, r)
		}
		if !strings.Contains(r.Receipt.String, p.FileName) {
			t.Errorf("ledger row %d: receipt %q does not name the file", i, r.Receipt.String)
		}
		if _, err := os.Stat(filepath.Join(out.Dir, keysDir, r.Key)); err != nil {
			t.Errorf("ledger row %d: key %s not recorded in the outbox: %v", i, r.Key, err)
		}
	}
	if len(s.waits) != 0 {
		t.Errorf("waited %v without a failure", s.waits)
	}

	// Again, and with a rebuilt version of p1: nothing is written, nothing is attempted.
	time.Sleep(10 * time.Millisecond) // so that a rewrite would show in the modification times
	p1v2 := f.build("R05", "兴隆社区", "2026-11", "残联", "version 2 of 兴隆社区")
	sum, err = Push(ctx, f.db, []Package{p1, p2, p1v2}, []Target{out}, Options{Sleep: s.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Sent) != 0 || len(sum.AlreadySent) != 3 || len(sum.Failed) != 0 {
		t.Fatalf("second push: %v, want 3 already sent", sum)
	}
	if again := listFiles(t, out.Dir); !sameFiles(files, again) {
		t.Errorf("the second push changed the outbox: %v → %v", files, again)
	}
	if led2 := f.ledger(); len(led2) != 2 || led2[0].Attempts != 1 || led2[1].Attempts != 1 {
		t.Errorf("the second push changed the ledger: %+v", led2)
	}

	// The target itself is idempotent: the department took the file away, a Send with the same
	// key (a ledger lost, a retry after a lost answer) does not put it back.
	path := filepath.Join(out.Dir, "残联", "2026-11", p1.FileName)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	receipt, err := out.Send(ctx, p1v2, led[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(receipt, "delivered before") {
		t.Errorf("receipt of a repeated key: %q", receipt)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a repeated key wrote the file again (stat: %v)", err)
	}
}

func sameFiles(a, b map[string]time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !w.Equal(v) {
			return false
		}
	}
	return true
}

func TestOutboxRefusesWhatItCannotWriteSafely(t *testing.T) {
	ctx := context.Background()
	out := Outbox{Dir: t.TempDir()}
	p := Package{Kind: "R12", Community: "兴隆社区", Period: "2026-11", Department: "民政", FileName: "R12.xlsx", Body: []byte("first")}
	if _, err := out.Send(ctx, p, Key(p.Kind, p.Community, p.Period, out.Name())); err != nil {
		t.Fatal(err)
	}
	// Another delivery whose file has the same name and other bytes: refused, never overwritten.
	other := p
	other.Community, other.Body = "江东社区", []byte("second")
	_, err := out.Send(ctx, other, Key(other.Kind, other.Community, other.Period, out.Name()))
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("a clash of file names: %v, want a permanent refusal", err)
	}
	if b, err := os.ReadFile(filepath.Join(out.Dir, "民政", "2026-11", "R12.xlsx")); err != nil || string(b) != "first" {
		t.Errorf("the first file became %q (%v)", b, err)
	}
	// A crash after the rename, before the key was recorded: the retry records the key only.
	crashed := p
	crashed.Community = "*"
	crashed.FileName = "R12_street.xlsx"
	if err := writeAtomic(filepath.Join(out.Dir, "民政", "2026-11"), crashed.FileName, crashed.Body); err != nil {
		t.Fatal(err)
	}
	if _, err := out.Send(ctx, crashed, Key(crashed.Kind, crashed.Community, crashed.Period, out.Name())); err != nil {
		t.Errorf("retry after a crash between rename and key: %v", err)
	}
	for _, c := range []struct{ field, dept, period, file string }{
		{"department", "../etc", "2026-11", "a.xlsx"},
		{"period", "民政", "..", "a.xlsx"},
		{"file_name", "民政", "2026-11", "sub/a.xlsx"},
		{"file_name", "民政", "2026-11", ".hidden.xlsx"},
	} {
		q := p
		q.Department, q.Period, q.FileName = c.dept, c.period, c.file
		_, err := out.Send(ctx, q, "hub-x")
		if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s/%s/%s: %v, want a permanent error naming %s", c.dept, c.period, c.file, err, c.field)
		}
	}
	if _, err := out.Send(ctx, p, "../../escape"); err == nil || !IsPermanent(err) {
		t.Errorf("a key that is a path: %v", err)
	}
	if _, err := (Outbox{}).Send(ctx, p, "hub-x"); err == nil || !IsPermanent(err) {
		t.Errorf("no dir: %v", err)
	}
	for name := range listFiles(t, out.Dir) {
		if strings.Contains(name, ".tmp") || strings.Contains(name, "etc") || strings.Contains(name, "escape") {
			t.Errorf("left behind: %s", name)
		}
	}
}
