//go:build duckdb_arrow

package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"communityhub/internal/deptsim"
	"communityhub/jobs"
	"communityhub/pipeline/store"
)

// hub demo writes and syncs; sources check then finds every source ready, and a broken mapping
// is reported by name.
func TestDemoSyncsAndSourcesCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	if err := runDemo(context.Background(), []string{"--out", dir, "--residents", "1500"}); err != nil {
		t.Fatal(err)
	}
	m, err := deptsim.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := startDemoAPIs(context.Background(), dir, m.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	cfg, err := jobs.Load(filepath.Join(dir, deptsim.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if bad := checkSources(context.Background(), cfg, &out); bad != 0 {
		t.Fatalf("%d sources not ready:\n%s", bad, out.String())
	}
	if !strings.Contains(out.String(), "hj_person") || strings.Count(out.String(), " ok ") < len(cfg.Sources) {
		t.Errorf("check output:\n%s", out.String())
	}
	s, _ := cfg.Source("party")
	s.MappingRefs()["手机"] = s.MappingRefs()["手机号码"]
	out.Reset()
	if bad := checkSources(context.Background(), cfg, &out); bad != 1 || !strings.Contains(out.String(), "mapped column(s) 手机 missing") {
		t.Errorf("a mapping to a missing column: %d bad\n%s", bad, out.String())
	}
	out.Reset()
	res, err := syncConfig(context.Background(), cfg, jobs.SyncOptions{Only: []string{"hj_person"}}, false, &out)
	if err != nil || len(res.Stats) != 1 || res.Stats[0].Landed != 0 {
		t.Errorf("re-sync of hj_person: %+v %v", res.Stats, err)
	}
	if !strings.Contains(out.String(), "hj_person") || !strings.Contains(out.String(), "rows/s") {
		t.Errorf("summary:\n%s", out.String())
	}
}

// explain finds a person by id, record location or key and shows fields with provenance,
// records and links with per-comparison weights.
func TestExplain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	if err := runDemo(context.Background(), []string{"--out", dir, "--residents", "1200"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := jobs.Load(filepath.Join(dir, deptsim.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), cfg.DatabasePath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var loc, person string
	db.SQL().QueryRow(`SELECT r.loc, p.person_id FROM std.records r JOIN resolve.record_person p USING (record_key)
		WHERE r.source = 'hj_person' AND p.person_id IN (SELECT person_id FROM resolve.record_person GROUP BY 1 HAVING count(*) > 2) LIMIT 1`).Scan(&loc, &person)
	var out bytes.Buffer
	if err := explain(context.Background(), db.SQL(), loc, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"person " + person, "authority:hukou", "records:", "links", "name=", "birth="} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain %s lacks %q:\n%s", loc, want, out.String())
		}
	}
	if err := explain(context.Background(), db.SQL(), "nosuch", &out); err == nil {
		t.Error("explain of an unknown id succeeded")
	}
}
