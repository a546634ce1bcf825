package load

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeEngine writes an executable named engine into a new directory. It
// records its arguments and what it reads from the --input file, then
// exits with code. With onPath, PATH is only that directory.
func fakeEngine(t *testing.T, engine string, code int, onPath bool) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Fatal("no cat on PATH for the fake engine script")
	}
	script := "#!/bin/sh\n" +
		"echo \"$@\" > '" + dir + "/args'\n" +
		cat + " \"$3\" > '" + dir + "/input'\n" +
		"echo 'Loaded image: cat-server:dev'\n" +
		"exit " + string(rune('0'+code)) + "\n"
	path = filepath.Join(dir, engine)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if onPath {
		t.Setenv("PATH", dir)
	}
	return dir, path
}

func payload(w io.Writer) error {
	_, err := io.WriteString(w, strings.Repeat("tar bytes ", 20000))
	return err
}

func TestLoadStreams(t *testing.T) {
	for _, tc := range []struct{ name, engine string }{{"docker", "docker"}, {"podman", "podman"}, {"loader", "my-loader"}} {
		t.Run(tc.name, func(t *testing.T) {
			dir, path := fakeEngine(t, tc.engine, 0, tc.name != "loader")
			loader := ""
			if tc.name == "loader" {
				loader = path
				t.Setenv("PATH", t.TempDir()) // no engine: the loader must be used
			}
			var stdout bytes.Buffer
			if err := Load(context.Background(), loader, "cat-server:dev", payload, &stdout, &stdout); err != nil {
				t.Fatal(err)
			}
			args, _ := os.ReadFile(filepath.Join(dir, "args"))
			if diff := cmp.Diff("load --input /dev/fd/3\n", string(args)); diff != "" {
				t.Errorf("engine args (-want +got):\n%s", diff)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "input"))
			var want bytes.Buffer
			payload(&want)
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("engine read %d bytes, want the %d-byte stream", len(got), want.Len())
			}
			out := stdout.String()
			for _, w := range []string{"Loaded image: cat-server:dev", "loaded cat-server:dev into " + path} {
				if !strings.Contains(out, w) {
					t.Errorf("output %q lacks %q", out, w)
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("no engine", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		err := Load(context.Background(), "", "x", payload, &bytes.Buffer{}, &bytes.Buffer{})
		want := "none of docker, podman, nerdctl was found on PATH"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load error = %v, want it to contain %q", err, want)
		}
	})
	t.Run("missing loader", func(t *testing.T) {
		err := Load(context.Background(), "/nonexistent/loader", "x", payload, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "loader: stat /nonexistent/loader") {
			t.Errorf("Load error = %v, want the loader named", err)
		}
	})
	t.Run("engine fails", func(t *testing.T) {
		fakeEngine(t, "docker", 1, true)
		err := Load(context.Background(), "", "x", payload, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "docker load failed (exit status 1)") {
			t.Errorf("Load error = %v, want the failing docker load named", err)
		}
	})
	t.Run("writer fails", func(t *testing.T) {
		fakeEngine(t, "docker", 0, true)
		err := Load(context.Background(), "", "x", func(io.Writer) error { return errors.New("bad layout") }, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "streaming the image to") || !strings.Contains(err.Error(), "bad layout") {
			t.Errorf("Load error = %v, want the stream failure", err)
		}
	})
}
