package gosdk_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cat-server/cat-server/tools/bazeltest"
)

// runfile returns the path of the runfile named by the environment
// variable key (an rlocationpath set by the go_test rule).
func runfile(t *testing.T, key string) string {
	t.Helper()
	return bazeltest.Path(t, key, "//tools/gosdk:gosdk_test")
}

// TestGoEnvReachesTheGoCommand checks what sdk.bzl promises: the pinned
// SDK's go.env carries GOFLAGS=-p=4, and the go binary that rules_go runs
// reads that go.env (it takes GOROOT from where its binary really is, so
// the binary must be the repository's copy, not a link into a shared SDK).
// With GOMAXPROCS=1, as rules_go sets for building its builder, the go
// command then still compiles packages in parallel.
func TestGoEnvReachesTheGoCommand(t *testing.T) {
	goEnv := runfile(t, "GO_ENV")
	goBin := runfile(t, "GO_BIN")
	b, err := os.ReadFile(goEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\nGOFLAGS=-p=4\n") {
		t.Errorf("%s has no line GOFLAGS=-p=4:\n%s", goEnv, b)
	}
	cmd := exec.Command(goBin, "env", "GOFLAGS", "GOROOT")
	// As in rules_go's GoToolchainBinaryBuild action: no user config, one P.
	cmd.Env = []string{"GOENV=off", "GOMAXPROCS=1", "GOTOOLCHAIN=local", "HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s env: %v\n%s", goBin, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || lines[0] != "-p=4" {
		t.Fatalf("go env GOFLAGS GOROOT = %q; want GOFLAGS -p=4, read from the SDK's go.env", lines)
	}
	realEnv, err := filepath.EvalSymlinks(goEnv)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(lines[1], "go.env"); realEnv != want {
		t.Errorf("the go command's GOROOT/go.env is %s, but the go.env with GOFLAGS is %s", want, realEnv)
	}
}
