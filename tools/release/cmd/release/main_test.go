package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The command's own checks, before anything is pushed or cosign runs.
func TestRunRefuses(t *testing.T) {
	dir := t.TempDir()
	unstamped := filepath.Join(dir, "stamp.json")
	if err := os.WriteFile(unstamped, []byte(`{"stamped": false}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no image", []string{"--stamp", unstamped, "--", "--repository=r.example/a"}, "--image and --stamp are required"},
		{"unstamped", []string{"--image", dir, "--stamp", unstamped, "--", "--repository=r.example/a", "--key=k"}, "refusing to release an unstamped build"},
		{"no repository", []string{"--image", dir, "--stamp", unstamped, "--"}, "--repository is required"},
		{"unknown flag", []string{"--image", dir, "--stamp", unstamped, "--", "--repository=r.example/a", "--insecure"}, `unknown argument "--insecure"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q): %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}
