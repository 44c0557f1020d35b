package deptsim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"communityhub/internal/deptsim/apisim"
)

// ReadManifest loads district.json from a written district.
func ReadManifest(dir string) (*Manifest, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "district.json"))
	if err != nil {
		return nil, fmt.Errorf("not a district folder (run hub demo first): %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "district.json"), err)
	}
	return &m, nil
}

// ServeAPIs starts the district's three HTTP systems from their item files (system 2 with the
// internal update times kept beside its items, see UpdatedFile). addrs maps a system
// name to a listen address (loopback; "127.0.0.1:0" when absent). The servers stop with ctx or Close.
func ServeAPIs(ctx context.Context, dir string, addrs map[string]string, faults apisim.Faults) (map[string]*apisim.Server, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]*apisim.Server{}
	for _, s := range m.Systems {
		if s.Access != "http" {
			continue
		}
		items, err := LoadItems(filepath.Join(dir, s.Path))
		if err != nil {
			closeAll(out)
			return nil, err
		}
		var updated []time.Time
		if apisim.Kind(s.Name) == apisim.Floating { // filtered by updatedAfter on the server's own times
			if updated, err = LoadUpdated(filepath.Join(dir, s.Path)); err != nil {
				closeAll(out)
				return nil, fmt.Errorf("system %s: %w", s.Name, err)
			}
			if len(updated) != len(items) {
				closeAll(out)
				return nil, fmt.Errorf("system %s: %d update times for %d items", s.Name, len(updated), len(items))
			}
		}
		addr := addrs[s.Name]
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		srv, err := apisim.Start(ctx, addr, apisim.Config{Kind: apisim.Kind(s.Name), Items: items, Updated: updated, Token: m.Tokens[s.Name], Faults: faults})
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("system %s: %w", s.Name, err)
		}
		out[s.Name] = srv
	}
	return out, nil
}

func closeAll(m map[string]*apisim.Server) {
	for _, s := range m {
		s.Close()
	}
}
