package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeStatus writes status files as Bazel would from tools/stamp/workspace_status.sh.
func fakeStatus(t *testing.T, dir string) (stable, volatile string) {
	t.Helper()
	stable = filepath.Join(dir, "stable-status.txt")
	volatile = filepath.Join(dir, "volatile-status.txt")
	write(t, stable, "BUILD_EMBED_LABEL \nBUILD_HOST somehost\nBUILD_USER someone\nSTABLE_GIT_COMMIT 0123456789abcdef\nSTABLE_GIT_DIRTY false\nSTABLE_VERSION v1.2.3+meta\nSTABLE_VERSION_TAG v1.2.3-meta\n")
	write(t, volatile, "BUILD_TIMESTAMP 1796418000\nBUILD_TIMESTAMP_RFC3339 2026-12-04T20:00:00Z\nBUILD_INVOCATION_ID 11111111-2222-3333-4444-555555555555\n")
	return stable, volatile
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInfo(t *testing.T) {
	dir := t.TempDir()
	stable, volatile := fakeStatus(t, dir)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unstamped: nothing but stamped false", nil, "{\n  \"stamped\": false\n}\n"},
		{"stamped", []string{"--stable", stable, "--volatile", volatile}, `{
  "stamped": true,
  "revision": "0123456789abcdef",
  "version": "v1.2.3+meta",
  "dirty": false,
  "created": "2026-12-04T20:00:00Z",
  "invocationId": "11111111-2222-3333-4444-555555555555"
}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "stamp.json")
			if err := run(append([]string{"info", "--out", out}, tt.args...), io.Discard); err != nil {
				t.Fatal(err)
			}
			got := read(t, out)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stamp.json mismatch (-want +got):\n%s", diff)
			}
			if strings.Contains(got, "somehost") || strings.Contains(got, "someone") {
				t.Errorf("stamp.json has the machine's host or user:\n%s", got)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	stable, volatile := fakeStatus(t, dir)
	tmpl := filepath.Join(dir, "labels.tmpl")
	write(t, tmpl, "org.opencontainers.image.version=0.1.0\ntitle=NAME")
	spec := filepath.Join(dir, "spec.json")
	write(t, spec, `{"substitutions": [["NAME", "cat-server"]], "stamp_substitutions": [["version=0.1.0", "version={{STABLE_VERSION}}\nrevision={{STABLE_GIT_COMMIT}}\ncreated={{BUILD_TIMESTAMP_RFC3339}}"]]}`)
	tests := []struct {
		name string
		args []string
		want string
		perm os.FileMode
	}{
		{"unstamped", nil, "org.opencontainers.image.version=0.1.0\ntitle=cat-server", 0o644},
		{"stamped", []string{"--stable", stable, "--volatile", volatile}, "org.opencontainers.image.version=v1.2.3+meta\nrevision=0123456789abcdef\ncreated=2026-12-04T20:00:00Z\ntitle=cat-server", 0o644},
		{"executable", []string{"--executable"}, "org.opencontainers.image.version=0.1.0\ntitle=cat-server", 0o755},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.txt")
			if err := run(append([]string{"expand", "--template", tmpl, "--spec", spec, "--out", out}, tt.args...), io.Discard); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, read(t, out)); diff != "" {
				t.Errorf("output mismatch (-want +got):\n%s", diff)
			}
			fi, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tt.perm {
				t.Errorf("mode = %v, want %v", fi.Mode().Perm(), tt.perm)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	stable, volatile := fakeStatus(t, dir)
	tmpl := filepath.Join(dir, "t")
	write(t, tmpl, "0.0.0")
	badKey := filepath.Join(dir, "bad-key.json")
	write(t, badKey, `{"stamp_substitutions": [["0.0.0", "{{STABLE_NOPE}}"]]}`)
	notJSON := filepath.Join(dir, "not.json")
	write(t, notJSON, `{`)
	noVersion := filepath.Join(dir, "no-version.txt")
	write(t, noVersion, "STABLE_GIT_COMMIT abc\n")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no subcommand", nil, "usage"},
		{"unknown subcommand", []string{"sign"}, `unknown subcommand "sign"`},
		{"info without --out", []string{"info"}, "--out is required"},
		{"stable alone", []string{"info", "--out", "OUT", "--stable", stable}, "--stable and --volatile go together"},
		{"missing status file", []string{"info", "--out", "OUT", "--stable", filepath.Join(dir, "nope"), "--volatile", volatile}, "nope"},
		{"status without version", []string{"info", "--out", "OUT", "--stable", noVersion, "--volatile", volatile}, "no STABLE_VERSION"},
		{"expand without template", []string{"expand", "--spec", badKey, "--out", "OUT"}, "--template is required"},
		{"spec not JSON", []string{"expand", "--template", tmpl, "--spec", notJSON, "--out", "OUT"}, "--spec " + notJSON},
		{"unknown status key", []string{"expand", "--template", tmpl, "--spec", badKey, "--out", "OUT", "--stable", stable, "--volatile", volatile}, "STABLE_NOPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string(nil), tt.args...)
			for i, a := range args {
				if a == "OUT" {
					args[i] = out
				}
			}
			err := run(args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run(%q) error = %v, want one containing %q", tt.args, err, tt.wantErr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was written despite the error", out)
			}
		})
	}
}
