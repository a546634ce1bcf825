// Package pushtest pushes //image with the //image:push entry point, the same one
// `bazel run //image:push` runs, to an in-process registry on 127.0.0.1.
package pushtest

import (
	"io"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// inputs returns the push script and the digest file that bazel passes in
// through the environment (see BUILD.bazel).
func inputs(t *testing.T) (script, digest string) {
	t.Helper()
	script, digestFile := os.Getenv("PUSH_SCRIPT"), os.Getenv("IMAGE_DIGEST_FILE")
	if script == "" || digestFile == "" {
		t.Skip("needs the image built by Bazel: run `tools/bazel test //image/pushtest`")
	}
	// rlocation paths, relative to the runfiles root.
	script = filepath.Join(os.Getenv("TEST_SRCDIR"), script)
	digestFile = filepath.Join(os.Getenv("TEST_SRCDIR"), digestFile)
	b, err := os.ReadFile(digestFile)
	if err != nil {
		t.Fatal(err)
	}
	return script, strings.TrimSpace(string(b))
}

func TestPushStoresTheBuiltDigest(t *testing.T) {
	script, want := inputs(t)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	repo := host + "/cat-server"

	cmd := exec.Command(script, "-r", repo, "-t", "v1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s -r %s -t v1: %v\n%s", script, repo, err, out)
	}
	t.Logf("push output:\n%s", out)

	for _, ref := range []string{repo + "@" + want, repo + ":latest", repo + ":v1"} {
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Head(r)
		if err != nil {
			t.Errorf("HEAD %s: %v", ref, err)
			continue
		}
		if got := desc.Digest.String(); got != want {
			t.Errorf("%s has digest %s, want the built %s", ref, got, want)
		}
	}
}

func TestPushToClosedPortFails(t *testing.T) {
	script, _ := inputs(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	out, err := exec.Command(script, "-r", addr+"/cat-server").CombinedOutput()
	if err == nil {
		t.Fatalf("push to closed port %s succeeded:\n%s", addr, out)
	}
	if !strings.Contains(string(out), addr) {
		t.Errorf("error output does not name the registry %s:\n%s", addr, out)
	}
}
