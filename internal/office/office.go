// Package office converts workbooks with LibreOffice headless, for tests that check a filled
// workbook the way staff will see it: it opens, prints to PDF, and its formulas compute.
package office

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Binary is the LibreOffice program found on PATH ("" when none).
func Binary() string {
	for _, name := range []string{"soffice", "libreoffice"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Need returns the LibreOffice program or skips the test saying why — unless HUB_REQUIRE_OFFICE
// is set (CI installs LibreOffice), where a missing program fails the test.
func Need(t testing.TB) string {
	t.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv("HUB_REQUIRE_OFFICE") != "" {
			t.Fatal("LibreOffice (soffice) is not on PATH and HUB_REQUIRE_OFFICE is set: install libreoffice-calc-nogui and fonts-noto-cjk")
		}
		t.Skip("LibreOffice (soffice) is not on PATH: apt-get install libreoffice-calc-nogui fonts-noto-cjk (.ci/run does)")
	}
	return bin
}

// Convert converts files into outDir with one LibreOffice run: format is "pdf" or a filter
// spec such as `csv:Text - txt - csv (StarCalc):44,34,76,1` (UTF-8 CSV of the first sheet). It
// fails when LibreOffice fails or leaves any file unconverted.
func Convert(ctx context.Context, bin, format, outDir string, files ...string) error {
	if len(files) == 0 {
		return nil
	}
	profile, err := os.MkdirTemp("", "lo-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	args := append([]string{"-env:UserInstallation=file://" + profile, "--headless", "--norestore", "--convert-to", format, "--outdir", outDir}, files...)
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("soffice: %v: %s", err, out)
	}
	ext := format
	if i := strings.IndexByte(ext, ':'); i >= 0 {
		ext = ext[:i]
	}
	var missing []string
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)) + "." + ext
		if st, err := os.Stat(filepath.Join(outDir, base)); err != nil || st.Size() == 0 {
			missing = append(missing, filepath.Base(f))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("soffice converted %d of %d files; not: %s (output: %s)", len(files)-len(missing), len(files), strings.Join(missing, ", "), out)
	}
	return nil
}
