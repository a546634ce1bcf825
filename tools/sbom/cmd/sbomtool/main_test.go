package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBadInvocations(t *testing.T) {
	dir := t.TempDir()
	notBOM := filepath.Join(dir, "x.json")
	if err := os.WriteFile(notBOM, []byte(`{"spdxVersion":"SPDX-2.3"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{nil, "usage: sbomtool sbom|artifact"},
		{[]string{"spdx"}, `unknown subcommand "spdx"`},
		{[]string{"sbom", "--image", dir}, "--binary is required"},
		{[]string{"sbom", "--image", dir, "--name", "n", "--binary", "b", "--main-package", "m", "--packages", "p", "--go-mod", "m", "--go-sum", "s", "--out", "o"}, "--image: "},
		{[]string{"sbom", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"artifact", "--image", dir, "--out", "o"}, "--sbom is required"},
		{[]string{"artifact", "--image", dir, "--sbom", notBOM, "--out", filepath.Join(dir, "out")}, "--image: "},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			err := run(tt.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
