package load

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func writeTarball(t *testing.T) string {
	t.Helper()
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag("cat-server:dev")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "image.tar")
	if err := tarball.WriteToFile(out, tag, img); err != nil {
		t.Fatal(err)
	}
	return out
}

// fakeEngine puts an executable named engine first on PATH. It records its
// arguments and stdin in dir and exits with code.
func fakeEngine(t *testing.T, engine string, code int) string {
	t.Helper()
	dir := t.TempDir()
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Skip("no cat on PATH for the fake engine script")
	}
	script := "#!/bin/sh\n" +
		"echo \"$@\" > '" + dir + "/args'\n" +
		cat + " > '" + dir + "/stdin'\n" +
		"echo 'Loaded image: cat-server:dev'\n" +
		"exit " + string(rune('0'+code)) + "\n"
	if err := os.WriteFile(filepath.Join(dir, engine), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// Only the fake engine on PATH, so a real one is never found.
	t.Setenv("PATH", dir)
	return dir
}

func TestLoadPipesTarball(t *testing.T) {
	for _, engine := range []string{"docker", "podman"} {
		t.Run(engine, func(t *testing.T) {
			tb := writeTarball(t)
			dir := fakeEngine(t, engine, 0)
			var stdout bytes.Buffer
			if err := Load(context.Background(), tb, &stdout, &stdout); err != nil {
				t.Fatal(err)
			}
			args, _ := os.ReadFile(filepath.Join(dir, "args"))
			if diff := cmp.Diff("load\n", string(args)); diff != "" {
				t.Errorf("engine args (-want +got):\n%s", diff)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "stdin"))
			want, _ := os.ReadFile(tb)
			if !bytes.Equal(got, want) {
				t.Errorf("engine got %d bytes on stdin, want the %d-byte tarball", len(got), len(want))
			}
			out := stdout.String()
			for _, w := range []string{"Loaded image: cat-server:dev", "loaded cat-server:dev (config sha256:", "into " + filepath.Join(dir, engine)} {
				if !strings.Contains(out, w) {
					t.Errorf("output %q lacks %q", out, w)
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tb := writeTarball(t)
	t.Run("no engine", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		err := Load(context.Background(), tb, &bytes.Buffer{}, &bytes.Buffer{})
		want := "none of docker, podman, nerdctl was found on PATH"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load error = %v, want it to contain %q", err, want)
		}
	})
	t.Run("engine fails", func(t *testing.T) {
		fakeEngine(t, "docker", 1)
		err := Load(context.Background(), tb, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "docker load < "+tb+" failed (exit status 1)") {
			t.Errorf("Load error = %v, want the failing docker load named", err)
		}
	})
	t.Run("not a tarball", func(t *testing.T) {
		fakeEngine(t, "docker", 0)
		bad := filepath.Join(t.TempDir(), "bad.tar")
		os.WriteFile(bad, []byte("nope"), 0o644)
		err := Load(context.Background(), bad, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "reading "+bad) {
			t.Errorf("Load error = %v, want it to name %s", err, bad)
		}
	})
}
