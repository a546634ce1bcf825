package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	osv := t.TempDir()
	entry := `{"id":"GO-2024-0001","affected":[{"package":{"name":"example.com/a"}}]}`
	if err := os.WriteFile(filepath.Join(osv, "GO-2024-0001.json"), []byte(entry), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "db")
	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{
		{"builds", []string{"--osv", osv, "--out", out}, "file://" + out + "\n", ""},
		{"again", []string{"--osv", osv, "--out", out, "--modified", "2026-11-05T23:49:57Z"}, "file://" + out + "\n", ""},
		{"bad --modified", []string{"--osv", osv, "--out", out, "--modified", "2026-11-05"}, "", `--modified "2026-11-05": want an RFC 3339 time`},
		{"no --osv", []string{"--out", out}, "", "--osv: required"},
		{"no --out", []string{"--osv", osv}, "", "--out: required"},
		{"argument", []string{"--osv", osv, "--out", out, "x"}, "", `unexpected argument "x"`},
		{"missing --osv", []string{"--osv", filepath.Join(osv, "nope"), "--out", out}, "", "--osv " + filepath.Join(osv, "nope") + ": reading OSV entries"},
		{"--out under a file", []string{"--osv", osv, "--out", filepath.Join(osv, "GO-2024-0001.json", "db")}, "", "--out " + filepath.Join(osv, "GO-2024-0001.json", "db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(tt.args, &stdout, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("run: err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if stdout.String() != tt.want {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.want)
			}
			if _, err := os.Stat(filepath.Join(out, "ID", "GO-2024-0001.json")); err != nil {
				t.Error(err)
			}
		})
	}
}
