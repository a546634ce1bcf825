// Package stamp's test runs tools/stamp/workspace_status.sh in temporary directories:
// outside git, in a repository without commits, clean, dirty, with a VERSION file.
package stamp

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// status runs workspace_status.sh in dir (as Bazel does, in the workspace root) and
// returns its keys.
func status(t *testing.T, dir string, env ...string) map[string]string {
	t.Helper()
	script, err := filepath.Abs("workspace_status.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script)
	cmd.Dir = dir
	// A temp dir inside some other checkout must still count as outside git.
	cmd.Env = append(append(os.Environ(), "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir)), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("workspace_status.sh in %s: %v\n%s", dir, err, out)
	}
	t.Logf("workspace_status.sh took %v", time.Since(start))
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("line %q is not KEY VALUE", line)
		}
		got[k] = v
	}
	return got
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

var (
	uuid    = regexp.MustCompile(`^[0-9a-f-]{32,36}$`)
	rfc3339 = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
)

// checkVolatile checks the volatile keys' shape and drops them.
func checkVolatile(t *testing.T, got map[string]string) {
	t.Helper()
	if !rfc3339.MatchString(got["BUILD_TIMESTAMP_RFC3339"]) {
		t.Errorf("BUILD_TIMESTAMP_RFC3339 = %q, want RFC 3339 UTC", got["BUILD_TIMESTAMP_RFC3339"])
	}
	if !uuid.MatchString(got["BUILD_INVOCATION_ID"]) {
		t.Errorf("BUILD_INVOCATION_ID = %q, want a random id", got["BUILD_INVOCATION_ID"])
	}
	delete(got, "BUILD_TIMESTAMP_RFC3339")
	delete(got, "BUILD_INVOCATION_ID")
}

func TestOutsideGit(t *testing.T) {
	dir := t.TempDir()
	got := status(t, dir, "SOURCE_DATE_EPOCH=")
	checkVolatile(t, got)
	want := map[string]string{
		"STABLE_GIT_COMMIT":  "",
		"STABLE_GIT_DIRTY":   "false",
		"STABLE_VERSION":     "0.0.0-unknown",
		"STABLE_VERSION_TAG": "0.0.0-unknown",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outside git, no VERSION (-want +got):\n%s", diff)
	}

	os.WriteFile(filepath.Join(dir, "VERSION"), []byte("2.0.0+rc/1 \nignored\n"), 0o644)
	got = status(t, dir, "SOURCE_DATE_EPOCH=1796418000")
	if got["BUILD_TIMESTAMP_RFC3339"] != "2026-12-04T21:00:00Z" {
		t.Errorf("with SOURCE_DATE_EPOCH, BUILD_TIMESTAMP_RFC3339 = %q, want 2026-12-04T21:00:00Z", got["BUILD_TIMESTAMP_RFC3339"])
	}
	checkVolatile(t, got)
	want["STABLE_VERSION"] = "2.0.0+rc/1"
	want["STABLE_VERSION_TAG"] = "2.0.0-rc-1"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outside git, VERSION file (-want +got):\n%s", diff)
	}
}

func TestInGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is not installed (needed for this test): %v", err)
	}
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	// A repository without commits: no commit, no failure.
	got := status(t, dir)
	checkVolatile(t, got)
	if got["STABLE_GIT_COMMIT"] != "" || got["STABLE_VERSION"] != "0.0.0-unknown" {
		t.Errorf("no commits: got %v", got)
	}

	os.WriteFile(filepath.Join(dir, "a"), []byte("a"), 0o644)
	git(t, dir, "add", "a")
	git(t, dir, "commit", "-qm", "a")
	git(t, dir, "tag", "v1.0.0")
	os.WriteFile(filepath.Join(dir, "a"), []byte("b"), 0o644)
	git(t, dir, "commit", "-qam", "b")
	commit := git(t, dir, "rev-parse", "HEAD")
	describe := git(t, dir, "describe", "--tags", "--always")

	tests := []struct {
		name  string
		setup func()
		want  map[string]string
	}{
		{"clean, version from git describe", func() {}, map[string]string{
			"STABLE_GIT_COMMIT": commit, "STABLE_GIT_DIRTY": "false",
			"STABLE_VERSION": describe, "STABLE_VERSION_TAG": describe,
		}},
		{"untracked file: still clean", func() { os.WriteFile(filepath.Join(dir, "new"), nil, 0o644) }, map[string]string{
			"STABLE_GIT_COMMIT": commit, "STABLE_GIT_DIRTY": "false",
			"STABLE_VERSION": describe, "STABLE_VERSION_TAG": describe,
		}},
		{"tracked file changed: dirty", func() { os.WriteFile(filepath.Join(dir, "a"), []byte("c"), 0o644) }, map[string]string{
			"STABLE_GIT_COMMIT": commit, "STABLE_GIT_DIRTY": "true",
			"STABLE_VERSION": describe, "STABLE_VERSION_TAG": describe,
		}},
		{"VERSION file wins over git describe", func() { os.WriteFile(filepath.Join(dir, "VERSION"), []byte("3.1.4\n"), 0o644) }, map[string]string{
			"STABLE_GIT_COMMIT": commit, "STABLE_GIT_DIRTY": "true",
			"STABLE_VERSION": "3.1.4", "STABLE_VERSION_TAG": "3.1.4",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup()
			got := status(t, dir)
			checkVolatile(t, got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if describe != "v1.0.0-1-g"+commit[:7] {
		t.Errorf("git describe = %q, want v1.0.0-1-g%s", describe, commit[:7])
	}
}
