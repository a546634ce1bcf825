package registrytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Runfile resolves the rlocation path Bazel passed in $env (see the test's
// BUILD.bazel); outside Bazel the test cannot run and skips, naming the
// command (`tools/bazel test PKG`) that runs it.
func Runfile(t testing.TB, env, pkg string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		t.Skipf("needs $%s from Bazel: run `tools/bazel test %s`", env, pkg)
	}
	return filepath.Join(os.Getenv("TEST_SRCDIR"), p)
}

// LayoutDir returns the directory (an OCI layout) among the files of a
// target whose rlocation paths Bazel passed in $env.
func LayoutDir(t testing.TB, env, pkg string) string {
	t.Helper()
	paths := os.Getenv(env)
	if paths == "" {
		t.Skipf("needs $%s from Bazel: run `tools/bazel test %s`", env, pkg)
	}
	for _, p := range strings.Fields(paths) {
		p = filepath.Join(os.Getenv("TEST_SRCDIR"), p)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
	}
	t.Fatalf("no directory among $%s: %s", env, paths)
	return ""
}
