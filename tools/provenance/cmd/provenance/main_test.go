package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cat-server/cat-server/tools/provenance/slsa"
)

const h1 = "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

func write(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fixture writes the inputs of a build and returns its spec.
func fixture(t *testing.T, stampJSON string) spec {
	dir := t.TempDir()
	return spec{
		Stamp:            write(t, filepath.Join(dir, "stamp.json"), stampJSON),
		GoMod:            write(t, filepath.Join(dir, "go.mod"), "module m\n\ngo 1.25.0\n\ntoolchain go1.26.10\n"),
		GoSum:            write(t, filepath.Join(dir, "go.sum"), "example.com/a v1.0.0 "+h1+"\nexample.com/a v1.0.0/go.mod "+h1+"\n"),
		ToolchainSums:    write(t, filepath.Join(dir, "toolchain.sums"), "golang.org/toolchain v0.0.1-go1.26.10.linux-amd64 sha256:"+strings.Repeat("ab", 32)+" "+h1+"\n"),
		BazelVersionFile: write(t, filepath.Join(dir, ".bazelversion"), "7.7.1\n"),
		GoSDKPlatform:    "linux-amd64",
		SourceURI:        "https://github.com/cat-server/cat-server",
		Target:           "//image:image",
		Defines:          map[string]string{"uid": "1100"},
		CompilationMode:  "fastbuild",
		Bases: []base{{Name: "//image/base:base", Layout: filepath.Dir(write(t, filepath.Join(dir, "base", "index.json"),
			`{"manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:`+strings.Repeat("cd", 32)+`"}]}`))}},
	}
}

func runSpec(t *testing.T, sp spec) (string, error) {
	t.Helper()
	dir := t.TempDir()
	data, err := json.Marshal(sp)
	if err != nil {
		t.Fatal(err)
	}
	specPath := write(t, filepath.Join(dir, "spec.json"), string(data))
	out := filepath.Join(dir, "provenance.json")
	clock := func() time.Time { return time.Date(2026, 12, 4, 21, 5, 0, 0, time.FixedZone("x", 3600)) }
	return out, run([]string{"--spec", specPath, "--out", out}, io.Discard, clock)
}

func TestProvenance(t *testing.T) {
	tests := []struct {
		name       string
		stamp      string
		wantSource slsa.Source
		wantMeta   *slsa.Metadata
		wantDeps   int
	}{
		{"unstamped", `{"stamped": false}`, slsa.Source{URI: "https://github.com/cat-server/cat-server", Note: "built without --stamp: no commit recorded (bazel build --stamp records it)"}, nil, 4},
		{"stamped", `{"stamped": true, "revision": "abc", "version": "0.1.0", "created": "2026-12-04T20:00:00Z", "invocationId": "id"}`,
			slsa.Source{URI: "https://github.com/cat-server/cat-server", Digest: map[string]string{"gitCommit": "abc"}},
			&slsa.Metadata{InvocationID: "id", StartedOn: "2026-12-04T20:00:00Z", FinishedOn: "2026-12-04T20:05:00Z"}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runSpec(t, fixture(t, tt.stamp))
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var got slsa.Predicate
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantSource, got.BuildDefinition.ExternalParameters.Source); diff != "" {
				t.Errorf("source (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMeta, got.RunDetails.Metadata); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
			if n := len(got.BuildDefinition.ResolvedDependencies); n != tt.wantDeps {
				t.Errorf("%d resolved dependencies, want %d: %+v", n, tt.wantDeps, got.BuildDefinition.ResolvedDependencies)
			}
			if diff := cmp.Diff(map[string]string{"bazel": "7.7.1", "go": "go1.26.10"}, got.RunDetails.Builder.Version); diff != "" {
				t.Errorf("builder version (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*spec)
		wantErr string
	}{
		{"no target", func(s *spec) { s.Target = "" }, "spec field target is empty"},
		{"no bases", func(s *spec) { s.Bases = nil }, "spec field bases is empty"},
		{"missing go.sum", func(s *spec) { s.GoSum += ".missing" }, "go.sum.missing"},
		{"bad go.sum", func(s *spec) { write(t, s.GoSum, "example.com/a v1 h1:x\n") }, "go.sum line 1"},
		{"SDK platform not pinned", func(s *spec) { s.GoSDKPlatform = "plan9-386" }, "no line for golang.org/toolchain v0.0.1-go1.26.10.plan9-386"},
		{"empty .bazelversion", func(s *spec) { write(t, s.BazelVersionFile, "\n") }, ".bazelversion is empty"},
		{"base without index.json", func(s *spec) { s.Bases[0].Layout = t.TempDir() }, "base //image/base:base"},
		{"bad stamp", func(s *spec) { write(t, s.Stamp, `{"stamped": true}`) }, "stamped but no version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := fixture(t, `{"stamped": false}`)
			tt.edit(&sp)
			out, err := runSpec(t, sp)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was written despite the error", out)
			}
		})
	}
}
