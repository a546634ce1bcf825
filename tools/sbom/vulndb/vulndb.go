// Package vulndb writes a Go vulnerability database in the layout govulncheck
// reads from a file:// URL (https://go.dev/security/vuln/database#api, the
// files vuln.go.dev serves, uncompressed):
//
//	index/db.json       {"modified": latest time any entry changed}
//	index/modules.json  [{"path", "vulns": [{"id", "modified", "fixed"}]}], by path
//	index/vulns.json    [{"id", "modified", "aliases"}], by ID
//	ID/<ID>.json        each OSV entry, byte for byte as given
//
// The input is a set of OSV entries, e.g. the data/osv directory of the
// golang.org/x/vulndb module (see ReadDir).
package vulndb

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// Entry is one OSV entry: the fields the indexes need, and the entry itself.
type Entry struct {
	ID        string
	Modified  time.Time
	Published time.Time
	Aliases   []string
	// Modules are the affected Go modules, with the latest fixed version
	// that no later "introduced" supersedes (no "v"; empty: not fixed).
	Modules []Module
	// Raw is the OSV JSON, written unchanged to ID/<ID>.json.
	Raw []byte
}

// Module is one module an entry affects.
type Module struct {
	Path  string
	Fixed string
}

// idPattern is what an entry ID may look like: it names a file.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

type osvEntry struct {
	ID        *string   `json:"id"`
	Modified  time.Time `json:"modified"`
	Published time.Time `json:"published"`
	Aliases   []string  `json:"aliases"`
	Affected  []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Type   string `json:"type"`
			Events []struct {
				Introduced string `json:"introduced"`
				Fixed      string `json:"fixed"`
			} `json:"events"`
		} `json:"ranges"`
	} `json:"affected"`
}

// Parse reads one OSV entry. name (the file it came from, for errors) must be
// "<ID>.json" when it ends in ".json".
func Parse(name string, data []byte) (Entry, error) {
	var o osvEntry
	if err := json.Unmarshal(data, &o); err != nil {
		return Entry{}, fmt.Errorf("%s: not an OSV entry: %w", name, err)
	}
	if o.ID == nil || *o.ID == "" {
		return Entry{}, fmt.Errorf("%s: field id: missing", name)
	}
	id := *o.ID
	if !idPattern.MatchString(id) {
		return Entry{}, fmt.Errorf("%s: field id: %q is not a valid entry ID (letters, digits, '.', '_', '-')", name, id)
	}
	if base := filepath.Base(name); strings.HasSuffix(base, ".json") && base != id+".json" {
		return Entry{}, fmt.Errorf("%s: field id: %q does not match the file name (want %s.json)", name, id, id)
	}
	e := Entry{ID: id, Modified: o.Modified, Published: o.Published, Aliases: o.Aliases, Raw: data}
	for i, a := range o.Affected {
		if a.Package.Name == "" {
			return Entry{}, fmt.Errorf("%s: field affected[%d].package.name: missing", name, i)
		}
		fixed := ""
		for j, r := range a.Ranges {
			if r.Type != "SEMVER" {
				continue
			}
			for k, ev := range r.Events {
				for field, v := range map[string]string{"introduced": ev.Introduced, "fixed": ev.Fixed} {
					if v != "" && v != "0" && !semver.IsValid("v"+v) {
						return Entry{}, fmt.Errorf("%s: field affected[%d].ranges[%d].events[%d].%s: %q is not a semantic version", name, i, j, k, field, v)
					}
				}
			}
			fixed = latestFix(fixed, r.Events)
		}
		e.Modules = append(e.Modules, Module{Path: a.Package.Name, Fixed: fixed})
	}
	return e, nil
}

// latestFix is govulncheck's rule for the index's "fixed": the latest fixed
// version of the range, unless a later "introduced" follows it.
func latestFix(latest string, events []struct {
	Introduced string `json:"introduced"`
	Fixed      string `json:"fixed"`
}) string {
	less := func(a, b string) bool { return semver.Compare("v"+a, "v"+b) < 0 }
	for _, ev := range events {
		if ev.Fixed != "" && (latest == "" || less(latest, ev.Fixed)) {
			latest = ev.Fixed
		}
	}
	for _, ev := range events {
		if ev.Introduced != "" && ev.Introduced != "0" && (latest == "" || less(latest, ev.Introduced)) {
			return ""
		}
	}
	return latest
}

// ReadDir parses every *.json file directly in dir (other files are skipped).
// Two entries with one ID are an error.
func ReadDir(dir string) ([]Entry, error) {
	files, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading OSV entries: %w", err)
	}
	var entries []Entry
	seen := map[string]string{}
	for _, f := range files {
		if f.IsDir() || filepath.Ext(f.Name()) != ".json" {
			continue
		}
		path := filepath.Join(dir, f.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading OSV entries: %w", err)
		}
		e, err := Parse(path, data)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[e.ID]; ok {
			return nil, fmt.Errorf("%s: id %q already in %s", path, e.ID, prev)
		}
		seen[e.ID] = path
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("reading OSV entries: no *.json file in %s", dir)
	}
	return entries, nil
}

type dbMeta struct {
	Modified time.Time `json:"modified"`
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

// add lists v once per ID: an entry that names a module in several "affected"
// blocks (one per package) is listed with the latest fix, and with none when
// one block has none, so that govulncheck fetches it for every affected version.
func (m *moduleMeta) add(v moduleVuln) {
	for i, old := range m.Vulns {
		if old.ID != v.ID {
			continue
		}
		if old.Fixed != "" && (v.Fixed == "" || semver.Compare("v"+old.Fixed, "v"+v.Fixed) < 0) {
			m.Vulns[i].Fixed = v.Fixed
		}
		return
	}
	m.Vulns = append(m.Vulns, v)
}

type vulnMeta struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

// Write creates the database of entries at dir and returns its file:// URL.
// index/db.json's "modified" is the latest "modified" or "published" time of
// the entries, or asOf when later: the x/vulndb sources leave both times zero
// in new entries (vuln.go.dev fills them in when it publishes), so the time of
// the source snapshot says better how fresh the database is.
// It builds it in a new directory beside dir and renames it into place, so dir
// is either what it was or the complete new database; an existing dir is
// replaced.
func Write(dir string, entries []Entry, asOf time.Time) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("vulnerability database %s: %w", dir, err)
	}
	parent := filepath.Dir(abs)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("vulnerability database %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(abs)+".new-")
	if err != nil {
		return "", fmt.Errorf("vulnerability database %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp) // gone after the rename; left-overs on failure
	if err := writeFiles(tmp, entries, asOf); err != nil {
		return "", fmt.Errorf("vulnerability database %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("vulnerability database %s: %w", dir, err)
	}
	if err := replaceDir(tmp, abs); err != nil {
		return "", fmt.Errorf("vulnerability database %s: %w", dir, err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// replaceDir renames tmp to dir, moving an existing dir out of the way first.
func replaceDir(tmp, dir string) error {
	err := os.Rename(tmp, dir)
	if err == nil {
		return nil
	}
	if _, statErr := os.Lstat(dir); statErr != nil {
		return err
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if back := os.Rename(old, dir); back != nil {
			return errors.Join(err, back)
		}
		return err
	}
	return os.RemoveAll(old)
}

func writeFiles(dir string, entries []Entry, asOf time.Time) error {
	for _, d := range []string{"index", "ID"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	db := dbMeta{Modified: asOf.UTC()}
	mods := map[string]*moduleMeta{}
	vulns := []vulnMeta{}
	seen := map[string]bool{}
	for _, e := range entries {
		if !idPattern.MatchString(e.ID) {
			return fmt.Errorf("entry ID %q is not a valid entry ID", e.ID)
		}
		if seen[e.ID] {
			return fmt.Errorf("entry ID %q appears twice", e.ID)
		}
		seen[e.ID] = true
		for _, t := range []time.Time{e.Modified, e.Published} {
			if t.After(db.Modified) {
				db.Modified = t
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "ID", e.ID+".json"), e.Raw, 0o644); err != nil {
			return err
		}
		vulns = append(vulns, vulnMeta{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		for _, m := range e.Modules {
			mm, ok := mods[m.Path]
			if !ok {
				mm = &moduleMeta{Path: m.Path}
				mods[m.Path] = mm
			}
			mm.add(moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: m.Fixed})
		}
	}
	modules := make([]*moduleMeta, 0, len(mods))
	for _, m := range mods {
		sort.SliceStable(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		modules = append(modules, m)
	}
	sort.Slice(modules, func(i, j int) bool { return modules[i].Path < modules[j].Path })
	sort.Slice(vulns, func(i, j int) bool { return vulns[i].ID < vulns[j].ID })
	for name, v := range map[string]any{"db.json": db, "modules.json": modules, "vulns.json": vulns} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "index", name), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}
