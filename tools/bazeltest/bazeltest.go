// Package bazeltest finds the files Bazel hands a go_test through its
// environment: `env = {"KEY": "$(rlocationpath ...)"}` (or rlocationpaths),
// paths relative to $TEST_SRCDIR. Outside Bazel the variable is unset and
// the test skips, naming the command that runs it.
package bazeltest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Paths returns the files $env names; pkg is the test's package
// ("//image/sbomtest"), named in the skip message.
func Paths(t testing.TB, env, pkg string) []string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		t.Skipf("needs $%s from Bazel: run `tools/bazel test %s`", env, pkg)
	}
	var paths []string
	for _, f := range strings.Fields(v) {
		paths = append(paths, filepath.Join(os.Getenv("TEST_SRCDIR"), f))
	}
	return paths
}

// Path returns the first file $env names.
func Path(t testing.TB, env, pkg string) string {
	t.Helper()
	return Paths(t, env, pkg)[0]
}

// Dir returns the directory (e.g. an OCI layout) among the files $env names.
func Dir(t testing.TB, env, pkg string) string {
	t.Helper()
	paths := Paths(t, env, pkg)
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
	}
	t.Fatalf("no directory among $%s: %s", env, strings.Join(paths, " "))
	return ""
}
