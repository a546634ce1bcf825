// Tests of install-vulndb.sh. They run the script with the host's Go against a Go module
// proxy written by the test (a file:// GOPROXY), a throwaway module cache and database
// directory: `go test ./tools/provision/`. Not a Bazel test: the script runs `go`
// outside any sandbox, as tools/bazel and .ci/run do.
package provision_test

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// version is the golang.org/x/vulndb version the tests use instead of the pin
// (CAT_SERVER_VULNDB_VERSION): one no real proxy or module cache holds.
const version = "v0.0.0-20991231000000-000000000000"

// writeProxy lays out golang.org/x/vulndb@version with the given data/osv files as a
// file:// Go module proxy in dir.
func writeProxy(t *testing.T, dir string, osv map[string]string) {
	t.Helper()
	v := filepath.Join(dir, "golang.org", "x", "vulndb", "@v")
	if err := os.MkdirAll(v, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	prefix := "golang.org/x/vulndb@" + version + "/"
	files := map[string]string{"go.mod": "module golang.org/x/vulndb\n"}
	for name, data := range osv {
		files["data/osv/"+name] = data
	}
	for name, data := range files {
		w, err := zw.Create(prefix + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		version + ".info": []byte(`{"Version":"` + version + `","Time":"2026-11-05T23:49:57Z"}`),
		version + ".mod":  []byte(files["go.mod"]),
		version + ".zip":  buf.Bytes(),
		"list":            []byte(version + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(v, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// install runs install-vulndb.sh with the test's proxy first, then the host's module
// cache as a proxy (for the modules vulndbmirror is built from), and no checksum
// database for the fake module.
func install(t *testing.T, proxy, dbDir, modCache, version string) (stdout, stderr string, err error) {
	t.Helper()
	hostCache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	cmd := exec.Command("./install-vulndb.sh")
	cmd.Env = append(os.Environ(),
		"GOPROXY=file://"+proxy+",file://"+filepath.Join(strings.TrimSpace(string(hostCache)), "cache", "download"),
		"GONOSUMDB=golang.org/x/vulndb", "GOFLAGS=-modcacherw", "GOTOOLCHAIN=local",
		"GOMODCACHE="+modCache, "CAT_SERVER_VULNDB_DIR="+dbDir, "CAT_SERVER_VULNDB_VERSION="+version)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	t.Logf("install-vulndb.sh (%v)\nstdout: %s\nstderr: %s", err, o.String(), e.String())
	return o.String(), e.String(), err
}

const entry = `{"id":"GO-2099-0001","modified":"0001-01-01T00:00:00Z","affected":[{"package":{"name":"example.com/m"},
"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}]}]}`

func TestInstallVulndb(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("these tests run install-vulndb.sh with the host's go: %v", err)
	}
	proxy, dbDir, modCache := t.TempDir(), t.TempDir(), t.TempDir()
	writeProxy(t, proxy, map[string]string{"GO-2099-0001.json": entry})
	db := filepath.Join(dbDir, version)

	stdout, _, err := install(t, proxy, dbDir, modCache, version)
	if err != nil {
		t.Fatal(err)
	}
	if want := "file://" + db + "\n"; stdout != want {
		t.Fatalf("stdout %q, want %q", stdout, want)
	}
	modules, err := os.ReadFile(filepath.Join(db, "index", "modules.json"))
	if err != nil || !strings.Contains(string(modules), `{"id":"GO-2099-0001","modified":"0001-01-01T00:00:00Z","fixed":"1.2.3"}`) {
		t.Fatalf("index/modules.json: %s (%v)", modules, err)
	}
	if b, err := os.ReadFile(filepath.Join(db, "index", "db.json")); err != nil || !strings.Contains(string(b), "2026-11-05T23:49:57Z") {
		t.Errorf("index/db.json is not dated by the module version: %s (%v)", b, err)
	}

	// A second run finds it done: a file added to the database stays.
	marker := filepath.Join(db, "marker")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout2, _, err := install(t, proxy, dbDir, modCache, version); err != nil || stdout2 != stdout {
		t.Fatalf("second run: %q, %v", stdout2, err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("second run rebuilt the database: %v", err)
	}

	// An old stamp (another format) rebuilds it.
	if err := os.WriteFile(filepath.Join(db, ".stamp"), []byte("format=0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := install(t, proxy, dbDir, modCache, version); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("a stale stamp did not rebuild the database (marker: %v)", err)
	}
}

func TestInstallVulndbFailures(t *testing.T) {
	tests := []struct {
		name    string
		version string
		osv     map[string]string // nil: the version is not in the proxy
		wantErr string
	}{
		{"version not in the proxy", version, nil, "install-vulndb: go mod download golang.org/x/vulndb@" + version + " failed"},
		{"malformed entry", version, map[string]string{"GO-2099-0001.json": entry, "GO-2099-0002.json": `{"id":"GO-2099-0003"}`},
			`GO-2099-0002.json: field id: "GO-2099-0003" does not match the file name`},
		{"no data/osv", version, map[string]string{}, "no data/osv directory in the module"},
		{"bad version", "latest", nil, "want one golang.org/x/vulndb module version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy, dbDir := t.TempDir(), t.TempDir()
			if tt.osv != nil {
				writeProxy(t, proxy, tt.osv)
			}
			_, stderr, err := install(t, proxy, dbDir, t.TempDir(), tt.version)
			if err == nil || !strings.Contains(stderr, tt.wantErr) {
				t.Fatalf("err %v, stderr:\n%s\nwant it to contain %q", err, stderr, tt.wantErr)
			}
			// Nothing half-done: no database, nothing a second run would take for one.
			left, _ := os.ReadDir(dbDir)
			var names []string
			for _, f := range left {
				names = append(names, f.Name())
			}
			if len(names) != 0 {
				t.Errorf("left in the database directory: %v", names)
			}
		})
	}
}
