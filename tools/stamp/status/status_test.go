package status

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ptr(b bool) *bool { return &b }

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     Status
		wantErr  string
	}{
		{"keys and values", "STABLE_GIT_COMMIT abc\nBUILD_USER someone\n", Status{"STABLE_GIT_COMMIT": "abc", "BUILD_USER": "someone"}, ""},
		{"empty value", "STABLE_GIT_COMMIT \nSTABLE_X\n", Status{"STABLE_GIT_COMMIT": "", "STABLE_X": ""}, ""},
		{"value with spaces", "BUILD_EMBED_LABEL a b  c\r\n", Status{"BUILD_EMBED_LABEL": "a b  c"}, ""},
		{"blank lines", "\n\nK v\n\n", Status{"K": "v"}, ""},
		{"no key", " value\n", nil, "f line 1: no key before the value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("f", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Parse() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadFilesVolatileWins(t *testing.T) {
	dir := t.TempDir()
	stable := filepath.Join(dir, "stable-status.txt")
	volatile := filepath.Join(dir, "volatile-status.txt")
	os.WriteFile(stable, []byte("STABLE_VERSION 1.0\nK stable\n"), 0o644)
	os.WriteFile(volatile, []byte("BUILD_TIMESTAMP 1\nK volatile\n"), 0o644)
	got, err := ReadFiles(stable, volatile)
	if err != nil {
		t.Fatal(err)
	}
	want := Status{"STABLE_VERSION": "1.0", "BUILD_TIMESTAMP": "1", "K": "volatile"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadFiles() mismatch (-want +got):\n%s", diff)
	}
	if _, err := ReadFiles(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("ReadFiles(missing) error = %v, want one naming the file", err)
	}
}

func TestInfoOf(t *testing.T) {
	full := Status{
		KeyCommit:       "0123abcd",
		KeyDirty:        "true",
		KeyVersion:      "v1.2.3-4-g0123abc",
		KeyCreated:      "2026-12-04T21:00:00+01:00",
		KeyInvocationID: "uuid-1",
		"BUILD_HOST":    "somehost",
		"BUILD_USER":    "someone",
	}
	tests := []struct {
		name    string
		st      Status
		want    Info
		wantErr string
	}{
		{"all keys; created in UTC; host and user left out", full, Info{
			Stamped: true, Revision: "0123abcd", Version: "v1.2.3-4-g0123abc", Dirty: ptr(true),
			Created: "2026-12-04T20:00:00Z", InvocationID: "uuid-1",
		}, ""},
		{"outside git: no commit, clean; created from Bazel's seconds", Status{KeyVersion: "0.1.0", KeyBazelSeconds: "1796418000"}, Info{
			Stamped: true, Version: "0.1.0", Dirty: ptr(false), Created: "2026-12-04T21:00:00Z",
		}, ""},
		{"no version", Status{KeyCreated: "2026-12-04T20:00:00Z"}, Info{}, "workspace status has no STABLE_VERSION"},
		{"bad dirty", Status{KeyVersion: "1", KeyDirty: "yes", KeyCreated: "2026-12-04T20:00:00Z"}, Info{}, `STABLE_GIT_DIRTY is "yes"`},
		{"bad created", Status{KeyVersion: "1", KeyCreated: "yesterday"}, Info{}, `BUILD_TIMESTAMP_RFC3339 is "yesterday", not RFC 3339`},
		{"bad seconds", Status{KeyVersion: "1", KeyBazelSeconds: "soon"}, Info{}, `BUILD_TIMESTAMP is "soon"`},
		{"no time", Status{KeyVersion: "1"}, Info{}, "neither BUILD_TIMESTAMP_RFC3339 nor BUILD_TIMESTAMP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InfoOf(tt.st)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("InfoOf() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("InfoOf() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	st := Status{KeyVersion: "1.2.3", KeyCommit: "abc", KeyCreated: "2026-12-04T20:00:00Z"}
	tmpl := "version=0.0.0\nname=NAME\n"
	subs := []Substitution{{"NAME", "cat"}}
	stampSubs := []Substitution{
		{"0.0.0", "{{STABLE_VERSION}}\nrevision={{STABLE_GIT_COMMIT}}"},
		{"NAME", "dog"},
	}
	tests := []struct {
		name      string
		subs      []Substitution
		stampSubs []Substitution
		st        Status
		want      string
		wantErr   string
	}{
		{"unstamped: stamp substitutions ignored", subs, stampSubs, nil, "version=0.0.0\nname=cat\n", ""},
		{"stamped: filled and overriding", subs, stampSubs, st, "version=1.2.3\nrevision=abc\nname=dog\n", ""},
		{"every occurrence", []Substitution{{"0", "1"}}, nil, nil, "version=1.1.1\nname=NAME\n", ""},
		{"unknown key", nil, []Substitution{{"0.0.0", "{{BUILD_NOPE}}"}}, st, "", "BUILD_NOPE, which the workspace status does not have"},
		{"empty key", []Substitution{{"", "x"}}, nil, nil, "", "empty key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expand(tmpl, tt.subs, tt.stampSubs, tt.st)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Expand() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Expand() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
