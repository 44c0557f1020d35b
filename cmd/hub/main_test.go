package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoCommandWritesDistrict(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	if err := runDemo(context.Background(), []string{"--out", dir, "--residents", "800", "--seed", "2", "--no-sync"}); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"district.json", "truth/persons.csv", "systems/01_hj.sqlite", "systems/11_party/党员报到.csv"} {
		if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
			t.Errorf("%s missing: %v", rel, err)
		}
	}
	if err := runDemo(context.Background(), []string{"--out", dir, "--as-of", "2026-13-01"}); err == nil || !strings.Contains(err.Error(), "--as-of") {
		t.Errorf("bad --as-of: %v", err)
	}
	if err := runSim(context.Background(), []string{"serve", "--out", dir, "--pg", "", "--mysql", ""}); err == nil {
		t.Error("sim serve without DSNs should fail")
	}
}
