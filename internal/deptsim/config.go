package deptsim

import (
	_ "embed"
	"os"
	"path/filepath"
	"text/template"
)

//go:embed hub.toml.tmpl
var hubTemplate string

// ConfigFile is the deployment config written beside the district.
const ConfigFile = "hub.toml"

// Environment variables the demo config reads: the SQL servers (server mode) and the APIs'
// base URLs and tokens. SetDemoEnv sets the API ones for in-process servers.
const (
	EnvPostgresDSN = "HUB_SIM_POSTGRES_DSN"
	EnvMySQLDSN    = "HUB_SIM_MYSQL_DSN"
)

// APIEnv returns the names of the base-URL and token variables of an API system.
func APIEnv(system string) (urlVar, tokenVar string) {
	up := map[string]string{"floating": "FLOATING", "elderly": "ELDERLY", "volunteers": "VOLUNTEERS"}[system]
	return "HUB_DEMO_" + up + "_URL", "HUB_DEMO_" + up + "_TOKEN"
}

type sqlAccess struct {
	Access, Path, Schema, Prefix string
}

// writeConfig writes hub.toml for the district as written (SQLite files or servers).
func writeConfig(dir string, m *Manifest) error {
	t, err := template.New("hub").Parse(hubTemplate)
	if err != nil {
		return err
	}
	acc := func(name, schema string) sqlAccess {
		for _, s := range m.Systems {
			if s.Name == name {
				a := sqlAccess{Access: s.Access, Path: s.Path, Schema: schema}
				if schema != "" {
					a.Prefix = schema + "."
				}
				return a
			}
		}
		return sqlAccess{}
	}
	f, err := os.Create(filepath.Join(dir, ConfigFile))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := t.Execute(f, map[string]sqlAccess{"HJ": acc("hj", "hj"), "Relief": acc("relief", ""), "Employment": acc("employment", ""), "Insurance": acc("insurance", "yb")}); err != nil {
		return err
	}
	return f.Close()
}
