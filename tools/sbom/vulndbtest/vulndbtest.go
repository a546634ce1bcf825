// Package vulndbtest writes small Go vulnerability databases for tests, in
// the layout govulncheck reads from a file:// URL (the v1 schema of
// vuln.go.dev): index/db.json, index/modules.json and ID/<id>.json holding
// OSV entries.
package vulndbtest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Entry is one vulnerability of one module.
type Entry struct {
	ID      string // e.g. GO-2099-0001
	Summary string
	Module  string // module path
	// Introduced and Fixed are semantic versions with or without "v"; an
	// empty Introduced means "from the first version", an empty Fixed "not fixed".
	Introduced, Fixed string
	// Package is the affected package; Symbols its affected functions and
	// methods ("Func", "Type.Method"), none meaning the whole package.
	Package string
	Symbols []string
}

// Modified is the modification time written for every entry.
var Modified = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type osvEntry struct {
	SchemaVersion string     `json:"schema_version"`
	ID            string     `json:"id"`
	Modified      time.Time  `json:"modified"`
	Published     time.Time  `json:"published"`
	Summary       string     `json:"summary"`
	Details       string     `json:"details"`
	Affected      []affected `json:"affected"`
}

type affected struct {
	Package struct {
		Name      string `json:"name"`
		Ecosystem string `json:"ecosystem"`
	} `json:"package"`
	Ranges            []semverRange `json:"ranges"`
	EcosystemSpecific struct {
		Imports []imp `json:"imports"`
	} `json:"ecosystem_specific"`
}

type semverRange struct {
	Type   string              `json:"type"`
	Events []map[string]string `json:"events"`
}

type imp struct {
	Path    string   `json:"path"`
	Symbols []string `json:"symbols,omitempty"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

// Write creates the database in dir and returns its file:// URL.
func Write(dir string, entries []Entry) (string, error) {
	for _, d := range []string{"index", "ID"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return "", err
		}
	}
	mods := map[string]*moduleMeta{}
	for _, e := range entries {
		if e.ID == "" || e.Module == "" || e.Package == "" {
			return "", fmt.Errorf("entry %+v: ID, Module and Package are required", e)
		}
		introduced := strings.TrimPrefix(e.Introduced, "v")
		if introduced == "" {
			introduced = "0"
		}
		events := []map[string]string{{"introduced": introduced}}
		fixed := strings.TrimPrefix(e.Fixed, "v")
		if fixed != "" {
			events = append(events, map[string]string{"fixed": fixed})
		}
		var a affected
		a.Package.Name, a.Package.Ecosystem = e.Module, "Go"
		a.Ranges = []semverRange{{Type: "SEMVER", Events: events}}
		a.EcosystemSpecific.Imports = []imp{{Path: e.Package, Symbols: e.Symbols}}
		o := osvEntry{
			SchemaVersion: "1.3.1", ID: e.ID, Modified: Modified, Published: Modified,
			Summary: e.Summary, Details: e.Summary, Affected: []affected{a},
		}
		if err := writeJSON(filepath.Join(dir, "ID", e.ID+".json"), o); err != nil {
			return "", err
		}
		m, ok := mods[e.Module]
		if !ok {
			m = &moduleMeta{Path: e.Module}
			mods[e.Module] = m
		}
		m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: Modified, Fixed: fixed})
	}
	list := []*moduleMeta{}
	for _, m := range mods {
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	if err := writeJSON(filepath.Join(dir, "index", "modules.json"), list); err != nil {
		return "", err
	}
	if err := writeJSON(filepath.Join(dir, "index", "db.json"), map[string]time.Time{"modified": Modified}); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
