package vulndb_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cat-server/cat-server/tools/sbom/vulndb"
	"github.com/google/go-cmp/cmp"
)

const entryA = `{"id":"GO-2024-0001","modified":"2024-02-01T00:00:00Z","published":"2024-01-01T00:00:00Z",
"aliases":["CVE-2024-1"],
"affected":[{"package":{"name":"example.com/a","ecosystem":"Go"},
 "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"},{"introduced":"1.3.0"},{"fixed":"1.3.4"}]}]},
 {"package":{"name":"stdlib","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`

// entryB: modified left zero, as in the x/vulndb sources; fixed then re-introduced.
const entryB = `{"id":"GO-2024-0002","modified":"0001-01-01T00:00:00Z","published":"2024-03-01T00:00:00Z",
"affected":[{"package":{"name":"example.com/a","ecosystem":"Go"},
 "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"},{"introduced":"1.1.0"}]}]}]}`

func TestParse(t *testing.T) {
	tests := []struct {
		name, file, data string
		want             []vulndb.Module
		wantErr          string
	}{
		{name: "latest fix", file: "GO-2024-0001.json", data: entryA,
			want: []vulndb.Module{{Path: "example.com/a", Fixed: "1.3.4"}, {Path: "stdlib"}}},
		{name: "reintroduced", file: "GO-2024-0002.json", data: entryB,
			want: []vulndb.Module{{Path: "example.com/a"}}},
		{name: "not JSON", file: "x.json", data: `{"id":`, wantErr: "x.json: not an OSV entry"},
		{name: "no id", file: "x.json", data: `{"affected":[]}`, wantErr: "x.json: field id: missing"},
		{name: "id names another file", file: "dir/GO-1.json", data: `{"id":"GO-2"}`,
			wantErr: `dir/GO-1.json: field id: "GO-2" does not match the file name (want GO-2.json)`},
		{name: "id with a slash", file: "a", data: `{"id":"../x"}`, wantErr: `field id: "../x" is not a valid entry ID`},
		{name: "no package name", file: "GO-1.json", data: `{"id":"GO-1","affected":[{"package":{}}]}`,
			wantErr: "GO-1.json: field affected[0].package.name: missing"},
		{name: "bad version", file: "GO-1.json",
			data:    `{"id":"GO-1","affected":[{"package":{"name":"m"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1.x"}]}]}]}`,
			wantErr: `GO-1.json: field affected[0].ranges[0].events[0].fixed: "1.x" is not a semantic version`},
		{name: "bad time", file: "GO-1.json", data: `{"id":"GO-1","modified":"yesterday"}`, wantErr: "GO-1.json: not an OSV entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := vulndb.Parse(tt.file, []byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse: err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, e.Modules); diff != "" {
				t.Errorf("modules (-want +got):\n%s", diff)
			}
			if string(e.Raw) != tt.data {
				t.Errorf("Raw is not the input")
			}
		})
	}
}

func writeOSV(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadDir(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantIDs []string
		wantErr string
	}{
		{name: "two entries, other files skipped",
			files:   map[string]string{"GO-2024-0001.json": entryA, "GO-2024-0002.json": entryB, "README.md": "x"},
			wantIDs: []string{"GO-2024-0001", "GO-2024-0002"}},
		{name: "empty", files: map[string]string{"README.md": "x"}, wantErr: "no *.json file in"},
		{name: "one bad entry", files: map[string]string{"GO-2024-0001.json": entryA, "GO-2024-0003.json": "[]"},
			wantErr: "GO-2024-0003.json: not an OSV entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := vulndb.ReadDir(writeOSV(t, tt.files))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadDir: err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range entries {
				ids = append(ids, e.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("IDs (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := vulndb.ReadDir(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "reading OSV entries") {
		t.Errorf("missing directory: err %v", err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestWrite(t *testing.T) {
	entries, err := vulndb.ReadDir(writeOSV(t, map[string]string{"GO-2024-0001.json": entryA, "GO-2024-0002.json": entryB}))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "db")
	// An existing database is replaced as a whole: the stale entry goes.
	if err := os.MkdirAll(filepath.Join(dir, "ID"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ID", "GO-STALE.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	url, err := vulndb.Write(dir, entries, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "file://" + filepath.ToSlash(dir); url != want {
		t.Errorf("URL %q, want %q", url, want)
	}

	var db struct{ Modified time.Time }
	readJSON(t, filepath.Join(dir, "index", "db.json"), &db)
	if want := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC); !db.Modified.Equal(want) {
		t.Errorf("db.json modified %v, want %v (the latest modified or published)", db.Modified, want)
	}
	type vuln struct {
		ID       string
		Modified time.Time
		Fixed    string
	}
	var modules []struct {
		Path  string
		Vulns []vuln
	}
	readJSON(t, filepath.Join(dir, "index", "modules.json"), &modules)
	feb := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	wantModules := []struct {
		Path  string
		Vulns []vuln
	}{
		{"example.com/a", []vuln{{"GO-2024-0001", feb, "1.3.4"}, {"GO-2024-0002", time.Time{}, ""}}},
		{"stdlib", []vuln{{"GO-2024-0001", feb, ""}}},
	}
	if diff := cmp.Diff(wantModules, modules); diff != "" {
		t.Errorf("modules.json (-want +got):\n%s", diff)
	}
	var vulns []struct {
		ID      string
		Aliases []string
	}
	readJSON(t, filepath.Join(dir, "index", "vulns.json"), &vulns)
	if diff := cmp.Diff([]struct {
		ID      string
		Aliases []string
	}{{"GO-2024-0001", []string{"CVE-2024-1"}}, {"GO-2024-0002", nil}}, vulns); diff != "" {
		t.Errorf("vulns.json (-want +got):\n%s", diff)
	}
	ids, err := os.ReadDir(filepath.Join(dir, "ID"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range ids {
		names = append(names, f.Name())
	}
	if diff := cmp.Diff([]string{"GO-2024-0001.json", "GO-2024-0002.json"}, names); diff != "" {
		t.Errorf("ID/ (-want +got):\n%s", diff)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ID", "GO-2024-0001.json")); string(b) != entryA {
		t.Errorf("ID/GO-2024-0001.json is not the entry as given:\n%s", b)
	}
	// Nothing left beside it.
	if left, _ := os.ReadDir(filepath.Dir(dir)); len(left) != 1 {
		t.Errorf("left beside the database: %v", left)
	}
}

func TestWriteRefusesBadEntries(t *testing.T) {
	tests := []struct {
		name    string
		entries []vulndb.Entry
		wantErr string
	}{
		{"duplicate", []vulndb.Entry{{ID: "GO-1", Raw: []byte("{}")}, {ID: "GO-1", Raw: []byte("{}")}}, `entry ID "GO-1" appears twice`},
		{"path in ID", []vulndb.Entry{{ID: "../GO-1"}}, `entry ID "../GO-1" is not a valid entry ID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			if err := os.MkdirAll(filepath.Join(dir, "index"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "index", "modules.json"), []byte("[]"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := vulndb.Write(dir, tt.entries, time.Time{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Write: err %v, want one containing %q", err, tt.wantErr)
			}
			// The existing database is untouched and no temporary directory is left.
			if b, err := os.ReadFile(filepath.Join(dir, "index", "modules.json")); err != nil || string(b) != "[]" {
				t.Errorf("existing database changed: %q, %v", b, err)
			}
			if left, _ := os.ReadDir(filepath.Dir(dir)); len(left) != 1 {
				t.Errorf("left beside the database: %v", left)
			}
		})
	}
}

func TestWriteModuleIndex(t *testing.T) {
	// One module in three "affected" blocks of one entry (one per package).
	const multi = `{"id":"GO-2024-0003","affected":[
 {"package":{"name":"example.com/b"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]},
 {"package":{"name":"example.com/b"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.5.0"}]}]},
 {"package":{"name":"example.com/c"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]},
 {"package":{"name":"example.com/c"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]},
 {"package":{"name":"example.com/c"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"3.0.0"}]}]}]}`
	e, err := vulndb.Parse("GO-2024-0003.json", []byte(multi))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "db")
	asOf := time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)
	if _, err := vulndb.Write(dir, []vulndb.Entry{e}, asOf); err != nil {
		t.Fatal(err)
	}
	var modules []struct {
		Path  string
		Vulns []struct{ ID, Fixed string }
	}
	readJSON(t, filepath.Join(dir, "index", "modules.json"), &modules)
	want := []struct {
		Path  string
		Vulns []struct{ ID, Fixed string }
	}{
		{"example.com/b", []struct{ ID, Fixed string }{{"GO-2024-0003", "1.5.0"}}},
		{"example.com/c", []struct{ ID, Fixed string }{{"GO-2024-0003", ""}}},
	}
	if diff := cmp.Diff(want, modules); diff != "" {
		t.Errorf("modules.json (-want +got):\n%s", diff)
	}
	var db struct{ Modified time.Time }
	readJSON(t, filepath.Join(dir, "index", "db.json"), &db)
	if !db.Modified.Equal(asOf) {
		t.Errorf("db.json modified %v, want %v", db.Modified, asOf)
	}
}
