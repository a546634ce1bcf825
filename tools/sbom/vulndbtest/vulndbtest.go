// Package vulndbtest writes small Go vulnerability databases for tests: OSV
// entries made from a few fields, written by package vulndb in the layout
// govulncheck reads from a file:// URL.
package vulndbtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cat-server/cat-server/tools/sbom/vulndb"
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

// Write creates the database in dir and returns its file:// URL.
func Write(dir string, entries []Entry) (string, error) {
	var db []vulndb.Entry
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
		raw, err := json.MarshalIndent(o, "", "  ")
		if err != nil {
			return "", err
		}
		v, err := vulndb.Parse(e.ID+".json", raw)
		if err != nil {
			return "", err
		}
		db = append(db, v)
	}
	return vulndb.Write(dir, db, Modified)
}
