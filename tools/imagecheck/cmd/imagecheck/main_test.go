package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ti "github.com/cat-server/cat-server/tools/cst/testimage"
	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const goodChecks = `schemaVersion: cat-server.image-checks/v1
size:
  maxCompressedBytes: 1000000
  maxUncompressedBytes: 1000000
healthcheck:
  test: ["CMD", "/app/cat-server", "healthcheck"]
  interval: 30s
noSetuidFiles: true
exposedPortsExactly: ["8080/tcp"]
`

func goodImage(t *testing.T) v1.Image {
	return ti.Image(t, v1.Config{
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Healthcheck:  &v1.HealthConfig{Test: []string{"CMD", "/app/cat-server", "healthcheck"}, Interval: 30 * time.Second},
	}, ti.Layer(t, ti.File("app/cat-server", 0o755, "\x7fELF")))
}

// badImage has no healthcheck, a setuid binary, an extra port and 2 MB of noise.
func badImage(t *testing.T) v1.Image {
	noise := make([]byte, 2_000_000)
	rand.NewChaCha8([32]byte{7}).Read(noise)
	return ti.Image(t, v1.Config{
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "22/tcp": {}},
	}, ti.Layer(t,
		ti.File("app/cat-server", 0o4755, "\x7fELF").Owned(1000, 1000),
		ti.File("app/blob", 0o644, string(noise)),
	))
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "checks.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runIC(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestAllPass(t *testing.T) {
	checks := writeFile(t, goodChecks)
	code, out, errOut := runIC("--image", ti.WriteLayout(t, goodImage(t)), "--checks", checks)
	if code != 0 {
		t.Fatalf("exit code %d, want 0\n%s%s", code, out, errOut)
	}
	if !strings.HasSuffix(out, "\n6 passed, 0 failed\n") {
		t.Errorf("wrong summary:\n%s", out)
	}
	if !strings.Contains(out, "PASS "+checks+": size: compressed ") {
		t.Errorf("size figures missing from the PASS lines:\n%s", out)
	}
}

func TestChecksCanFail(t *testing.T) {
	checks := writeFile(t, goodChecks)
	code, out, _ := runIC("--image", ti.WriteLayout(t, badImage(t)), "--checks", checks)
	if code != 1 {
		t.Fatalf("exit code %d, want 1\n%s", code, out)
	}
	var fails []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "FAIL ") {
			if i := strings.Index(l, ", got "); strings.Contains(l, ": size: ") && i > 0 {
				l = l[:i] + ", got ..."
			}
			fails = append(fails, l)
		}
	}
	want := []string{
		`FAIL ` + checks + `: size: maxCompressedBytes: expected compressed size <= 1000000 bytes (1.0 MB), got ...`,
		`FAIL ` + checks + `: size: maxUncompressedBytes: expected uncompressed size <= 1000000 bytes (1.0 MB), got ...`,
		`FAIL ` + checks + `: healthcheck: image has no HEALTHCHECK (expected test ["CMD" "/app/cat-server" "healthcheck"])`,
		`FAIL ` + checks + `: noSetuidFiles: /app/cat-server: expected no setuid/setgid bit, got -rwsr-xr-x (mode 4755, uid 1000, gid 1000)`,
	}
	if diff := cmp.Diff(want, fails[:4]); diff != "" {
		t.Errorf("FAIL lines mismatch (-want +got):\n%s\nfull output:\n%s", diff, out)
	}
	if len(fails) != 5 || !strings.Contains(fails[4], "exposedPortsExactly") {
		t.Errorf("want a fifth failure for exposedPortsExactly:\n%s", out)
	}
}

func TestUsageErrors(t *testing.T) {
	layout := ti.WriteLayout(t, goodImage(t))
	good := writeFile(t, goodChecks)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no image", []string{"--checks", good}, "--image is required"},
		{"no checks", []string{"--image", layout}, "give at least one --checks"},
		{"positional", []string{"--image", layout, "--checks", good, "x"}, `unexpected arguments ["x"]`},
		{"structure test as checks", []string{"--image", layout, "--checks", writeFile(t, "schemaVersion: 2.0.0\n")}, "schemaVersion"},
		{"not a layout", []string{"--image", t.TempDir(), "--checks", good}, "reading OCI layout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runIC(tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit code %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
}
