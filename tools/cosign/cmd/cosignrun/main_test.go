package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A cosign on PATH that writes its arguments to a file and exits with $FAKE_EXIT.
func fakeCosign(t *testing.T) (argsFile string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake cosign is a shell script")
	}
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + argsFile + "\nexit ${FAKE_EXIT:-0}\n"
	if err := os.WriteFile(filepath.Join(dir, "cosign"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	return argsFile
}

func TestRunExecsCosign(t *testing.T) {
	argsFile := fakeCosign(t)
	digest := "sha256:" + strings.Repeat("ab", 32)
	layout := t.TempDir()
	if err := os.WriteFile(filepath.Join(layout, "index.json"), []byte(`{"manifests":[{"digest":"`+digest+`"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"sign", layout, "--repository", "r.example/a", "--key", "k", "--repository=r.example/b", "-y"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	got, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	want := "sign\nr.example/b@" + digest + "\n--key\nk\n-y\n"
	if d := cmp.Diff(want, string(got)); d != "" {
		t.Errorf("cosign's arguments (-want +got):\n%s", d)
	}
	// cosign's exit status is ours.
	t.Setenv("FAKE_EXIT", "3")
	if code := run([]string{"sign", layout, "--repository", "r.example/a"}); code != 3 {
		t.Errorf("exit %d, want cosign's 3", code)
	}
	// No repository: fails before cosign runs.
	os.Remove(argsFile)
	if code := run([]string{"attest", layout, "--type", "custom"}); code != 1 {
		t.Errorf("exit %d without a repository, want 1", code)
	}
	if _, err := os.Stat(argsFile); err == nil {
		t.Error("cosign ran without a repository")
	}
}

func TestRunWithoutCosign(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	layout := t.TempDir()
	os.WriteFile(filepath.Join(layout, "index.json"), []byte(`{"manifests":[{"digest":"sha256:`+strings.Repeat("0", 64)+`"}]}`), 0o644)
	if code := run([]string{"sign", layout, "--repository=r/a"}); code != 1 {
		t.Errorf("exit %d without cosign on PATH, want 1", code)
	}
}
