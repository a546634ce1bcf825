// Package tests reads back the expand_template targets of this package: list and file
// templates, the default output name, make variables, is_executable, and stamp
// -1/0/1 with and without --stamp.
package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cat-server/cat-server/tools/bazeltest"
)

func runfile(t *testing.T, key string) []string {
	t.Helper()
	return bazeltest.Paths(t, key, "//tools/stamp/tests")
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestExpandTemplate(t *testing.T) {
	version := strings.TrimSpace(read(t, runfile(t, "VERSION_FILE")[0]))
	stamped := map[string]string{}
	for _, p := range runfile(t, "STAMPED") {
		stamped[filepath.Base(p)] = p
	}
	tests := []struct {
		name, key, base, want string
	}{
		{"list of lines, out defaults to the name, unstamped", "LINES", "lines", "cat-server 0.0.0\nsecond line"},
		{"stamp = 0, unstamped", "NEVER", "never.txt", "0.0.0"},
		{"stamp = 1 without --stamp", "ALWAYS", "always.txt", version},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := runfile(t, tt.key)[0]
			if filepath.Base(p) != tt.base {
				t.Errorf("output %s, want it named %s", p, tt.base)
			}
			if diff := cmp.Diff(tt.want, read(t, p)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, tt := range []struct{ base, want string }{
		{"lines", "cat-server " + version + "\nsecond line"},
		{"never.txt", "0.0.0"},
	} {
		t.Run(tt.base+" under --stamp", func(t *testing.T) {
			if diff := cmp.Diff(tt.want, read(t, stamped[tt.base])); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	greeting := runfile(t, "GREETING")[0]
	if got := read(t, greeting); !regexp.MustCompile(`^hello world in (fastbuild|opt|dbg) mode\n$`).MatchString(got) {
		t.Errorf("greeting.sh = %q, want NAME and $(COMPILATION_MODE) expanded", got)
	}
	if filepath.Base(greeting) != "greeting.sh" {
		t.Errorf("output %s, want greeting.sh", greeting)
	}
	fi, err := os.Stat(greeting)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("greeting.sh mode %v, want executable (is_executable)", fi.Mode())
	}
}
