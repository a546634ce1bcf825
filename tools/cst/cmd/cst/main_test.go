package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cat-server/cat-server/tools/cst/docker"
	ti "github.com/cat-server/cat-server/tools/cst/testimage"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const goodConfig = `schemaVersion: "2.0.0"
metadataTest:
  user: "65532"
  exposedPorts: ["8080"]
  unexposedPorts: ["22"]
  entrypoint: [/app/cat-server]
fileExistenceTests:
  - name: binary
    path: /app/cat-server
    permissions: -rwxr-xr-x
    uid: 0
    gid: 0
  - name: no shell
    path: /bin/sh
    shouldExist: false
fileContentTests:
  - name: nonroot user
    path: /etc/passwd
    expectedContents: ['nonroot:x:65532']
`

const goodChecks = `schemaVersion: cat-server.image-checks/v1
size:
  maxCompressedBytes: 1000000
  maxUncompressedBytes: 1000000
healthcheck:
  test: ["CMD", "/app/cat-server", "healthcheck"]
  interval: 30s
noSetuidFiles: true
`

func goodImage(t *testing.T) v1.Image {
	return ti.Image(t, v1.Config{
		User:         "65532",
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Entrypoint:   []string{"/app/cat-server"},
		Healthcheck:  &v1.HealthConfig{Test: []string{"CMD", "/app/cat-server", "healthcheck"}, Interval: 30 * time.Second},
	}, ti.Layer(t,
		ti.File("etc/passwd", 0o644, "root:x:0:0::/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"),
		ti.File("app/cat-server", 0o755, "\x7fELF"),
	))
}

// badImage gets everything goodConfig and goodChecks look at wrong: it runs
// as root, exposes 22, has a shell and a setuid binary, no healthcheck, and
// a 2 MB incompressible file.
func badImage(t *testing.T) v1.Image {
	noise := make([]byte, 2_000_000)
	rand.NewChaCha8([32]byte{7}).Read(noise)
	return ti.Image(t, v1.Config{
		User:         "",
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "22/tcp": {}},
		Entrypoint:   []string{"/bin/sh", "-c"},
	}, ti.Layer(t,
		ti.File("etc/passwd", 0o644, "root:x:0:0::/root:/bin/sh\n"),
		ti.File("app/cat-server", 0o4755, "\x7fELF").Owned(1000, 1000),
		ti.File("bin/sh", 0o755, "sh"),
		ti.File("app/blob", 0o644, string(noise)),
	))
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCST(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestAllPass(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "good.yaml", goodConfig)
	code, out, errOut := runCST(t, "test", "--image-from-oci-layout", ti.WriteLayout(t, goodImage(t)), "--config", cfg)
	if code != 0 {
		t.Fatalf("exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if got, want := lines[len(lines)-1], "7 passed, 0 failed"; got != want {
		t.Errorf("summary = %q, want %q\n%s", got, want, out)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "PASS ") {
			t.Errorf("line %q is not a PASS line", l)
		}
	}
}

// TestChecksCanFail is the proof that the checks catch real problems: a
// deliberately wrong image must fail every check that looks at the wrong
// part, with a message that names the file, test, field, expected and got.
func TestChecksCanFail(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "good.yaml", goodConfig)
	code, out, errOut := runCST(t, "--image-from-oci-layout", ti.WriteLayout(t, badImage(t)), "--config", cfg)
	if code != 1 {
		t.Fatalf("exit code %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var fails []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "FAIL ") {
			fails = append(fails, l)
		}
	}
	want := []string{
		`FAIL ` + cfg + `: nonroot user: expectedContents[0]: expected content of /etc/passwd to match "nonroot:x:65532", got no match in "root:x:0:0::/root:/bin/sh\n"`,
		`FAIL ` + cfg + `: binary: permissions: expected "-rwxr-xr-x", got "urwxr-xr-x" (mode 4755)`,
		`FAIL ` + cfg + `: binary: uid: expected 0, got 1000`,
		`FAIL ` + cfg + `: binary: gid: expected 0, got 1000`,
		`FAIL ` + cfg + `: no shell: shouldExist: expected /bin/sh not to exist, got -rwxr-xr-x /bin/sh`,
		`FAIL ` + cfg + `: metadataTest: unexposedPorts[22]: expected port 22 not to be exposed, got exposed ports [22 8080]`,
		`FAIL ` + cfg + `: metadataTest: entrypoint: expected ["/app/cat-server"], got ["/bin/sh" "-c"]`,
		`FAIL ` + cfg + `: metadataTest: user: expected "65532", got "" (unset: root)`,
	}
	if diff := cmp.Diff(want, fails); diff != "" {
		t.Errorf("FAIL lines mismatch (-want +got):\n%s\nfull output:\n%s", diff, out)
	}
	if !strings.HasSuffix(out, "\n1 passed, 6 failed\n") {
		t.Errorf("summary is not the last line, or wrong counts:\n%s", out)
	}
}

func TestUsageAndConfigErrors(t *testing.T) {
	dir := t.TempDir()
	layout := ti.WriteLayout(t, goodImage(t))
	good := writeFile(t, dir, "good.yaml", goodConfig)
	bad := writeFile(t, dir, "bad.yaml", "schemaVersion: 2.0.0\nmetadataTest:\n  usr: root\n")
	for _, tc := range []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"no image", []string{"--config", good}, "give --image FILE.tar or --image-from-oci-layout DIR"},
		{"no config", []string{"--image-from-oci-layout", layout}, "give at least one --config"},
		{"layout with tar driver", []string{"--image-from-oci-layout", layout, "--driver", "tar", "--config", good}, "--image-from-oci-layout is not supported when not using Docker driver"},
		{"host driver", []string{"--image-from-oci-layout", layout, "--driver", "host", "--config", good}, "--driver host (tests against this machine) is not supported"},
		{"unknown driver", []string{"--image-from-oci-layout", layout, "--driver", "podman", "--config", good}, `--driver "podman": must be docker, tar or host`},
		{"json output", []string{"--image-from-oci-layout", layout, "-o", "json", "--config", good}, `--output "json" is not supported`},
		{"test report", []string{"--image-from-oci-layout", layout, "--test-report", "r.json", "--config", good}, "--test-report is not supported"},
		{"pull", []string{"--image-from-oci-layout", layout, "--pull", "--config", good}, "--pull is not supported"},
		{"wrong platform", []string{"--image-from-oci-layout", layout, "--platform", "linux/arm64", "--config", good}, "--platform linux/arm64: the image is for linux/amd64"},
		{"bad platform", []string{"--image-from-oci-layout", layout, "--platform", "a/b/c/d", "--config", good}, "--platform a/b/c/d"},
		{"not a tarball", []string{"--image", good, "--driver", "tar", "--config", good}, "--image " + good + ": reading a docker-save tarball"},
		{"unknown flag", []string{"--image-from-oci-layout", layout, "--confg", good}, "flag provided but not defined: -confg"},
		{"positional", []string{"--image-from-oci-layout", layout, "--config", good, "extra"}, `unexpected arguments ["extra"]`},
		{"unknown key", []string{"--image-from-oci-layout", layout, "--config", good, "--config", bad}, bad + `:3: unknown key "usr" in metadataTest`},
		{"missing config", []string{"--image-from-oci-layout", layout, "--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml: no such file"},
		{"checks file as config", []string{"--image-from-oci-layout", layout, "--config", writeFile(t, dir, "c.yaml", goodChecks)}, `schemaVersion is "cat-server.image-checks/v1", want "2.0.0" or "1.0.0"`},
		{"not a layout", []string{"--image-from-oci-layout", dir, "--config", good}, "reading OCI layout " + dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCST(t, tc.args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2\nstdout:\n%s", code, out)
			}
			if !strings.Contains(errOut, tc.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tc.wantStderr, errOut)
			}
		})
	}
}

const commandConfig = `schemaVersion: 2.0.0
commandTests:
  - name: version
    command: /app/cat-server
    args: [version]
    expectedOutput: ['^cat-server v1\.']
  - name: help
    command: /app/cat-server
    args: [help]
    exitCode: 0
`

func TestCommandTestsWithoutDocker(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	cfg := writeFile(t, t.TempDir(), "cmd.yaml", commandConfig)
	code, out, _ := runCST(t, "--image-from-oci-layout", ti.WriteLayout(t, goodImage(t)), "--config", cfg)
	if code != 1 {
		t.Fatalf("exit code %d, want 1 (never skip silently)\n%s", code, out)
	}
	for _, name := range []string{"version", "help"} {
		want := "FAIL " + cfg + ": " + name + ": commandTests need a Docker engine (docker not found: "
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "; exclude this target with --test_tag_filters=-requires-docker\n") {
		t.Errorf("output lacks the hint to exclude the target:\n%s", out)
	}
	if !strings.HasSuffix(out, "\n0 passed, 2 failed\n") {
		t.Errorf("wrong summary:\n%s", out)
	}
}

type scripted map[string]docker.RunResult

func (s scripted) Run(_ context.Context, spec docker.RunSpec) (docker.RunResult, error) {
	return s[strings.Join(spec.Command, " ")], nil
}
func (s scripted) RemoveImage(context.Context, string) error { return nil }

func TestCommandTestsWithEngine(t *testing.T) {
	var loaded, cleaned bool
	old := engineFactory
	t.Cleanup(func() { engineFactory = old })
	engineFactory = func(_ context.Context, bin string, _ v1.Image) (docker.Engine, string, func(), error) {
		if bin != "/opt/docker" {
			t.Errorf("docker binary = %q, want the --docker flag", bin)
		}
		loaded = true
		return scripted{
			"/app/cat-server version": {Stdout: "cat-server v2.0.0\n"},
			"/app/cat-server help":    {Stdout: "usage"},
		}, "cst.local/x:test", func() { cleaned = true }, nil
	}
	cfg := writeFile(t, t.TempDir(), "cmd.yaml", commandConfig)
	code, out, _ := runCST(t, "--image-from-oci-layout", ti.WriteLayout(t, goodImage(t)), "--config", cfg, "--docker", "/opt/docker")
	want := "FAIL " + cfg + `: version: expectedOutput[0]: expected stdout to match "^cat-server v1\\.", got no match in "cat-server v2.0.0\n"` + "\n" +
		"PASS " + cfg + ": help\n" +
		"1 passed, 1 failed\n"
	if code != 1 || out != want {
		t.Errorf("exit code %d, output:\n%s\nwant exit code 1, output:\n%s", code, out, want)
	}
	if !loaded || !cleaned {
		t.Errorf("engine loaded=%v cleaned=%v, want both", loaded, cleaned)
	}
}

func TestNoTestsFails(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "empty.yaml", "schemaVersion: 2.0.0\nmetadataTest:\n  user: \"\"\n")
	code, out, _ := runCST(t, "--image-from-oci-layout", ti.WriteLayout(t, goodImage(t)), "--config", cfg)
	if code != 1 || !strings.Contains(out, "FAIL: the configs hold no tests") {
		t.Errorf("exit code %d, output:\n%s\nwant exit code 1 and a FAIL line", code, out)
	}
}

func TestTarDriver(t *testing.T) {
	dir := t.TempDir()
	tarPath := filepath.Join(dir, "image.tar")
	ref, err := name.NewTag("cst.local/test:latest")
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(tarPath, ref, goodImage(t)); err != nil {
		t.Fatal(err)
	}
	v1cfg := writeFile(t, dir, "v1.yaml", "schemaVersion: 1.0.0\nfileExistenceTests:\n  - {name: binary, path: /app/cat-server, permissions: -rwxr-xr-x}\n")
	owned := writeFile(t, dir, "owned.yaml", "schemaVersion: 2.0.0\nfileExistenceTests:\n  - {name: binary, path: /app/cat-server, uid: 0}\ncommandTests:\n  - {name: run, command: /app/cat-server}\n")
	for _, tc := range []struct {
		name, driver, cfg string
		code              int
		want              []string
	}{
		{"schema 1.0.0, tar driver", "tar", v1cfg, 0, []string{"PASS " + v1cfg + ": binary", "1 passed, 0 failed"}},
		{"a .tar with the docker driver", "docker", v1cfg, 0, []string{"PASS " + v1cfg + ": binary"}},
		{"tar driver: no ownership, no commands", "tar", owned, 1, []string{
			"FAIL " + owned + ": run: the tar driver cannot run commandTests: use driver docker",
			"FAIL " + owned + ": binary: uid: the tar driver cannot check ownership of /app/cat-server",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCST(t, "test", "--driver", tc.driver, "--image", tarPath, "--config", tc.cfg, "--platform", "linux/amd64")
			if code != tc.code {
				t.Errorf("exit code %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
