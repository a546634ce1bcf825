// Package pushtest pushes //image with the //image:push entry point, the same one
// `bazel run //image:push` runs, to an in-process registry on 127.0.0.1.
package pushtest

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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

// TestPushIndex pushes //image:index with //image:push_index (flags in upstream's
// `--repository=`/`--tag=` form) and checks the registry holds the built index with an
// amd64 and an arm64 image, each runnable (config platform as announced).
func TestPushIndex(t *testing.T) {
	script, digestFile := os.Getenv("INDEX_PUSH_SCRIPT"), os.Getenv("INDEX_DIGEST_FILE")
	if script == "" || digestFile == "" {
		t.Skip("needs the index built by Bazel: run `tools/bazel test //image/pushtest`")
	}
	b, err := os.ReadFile(filepath.Join(os.Getenv("TEST_SRCDIR"), digestFile))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(b))
	script = filepath.Join(os.Getenv("TEST_SRCDIR"), script)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/cat-server"

	out, err := exec.Command(script, "--repository="+repo, "--tag=multi").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --repository=%s --tag=multi: %v\n%s", script, repo, err, out)
	}
	ref, err := name.ParseReference(repo + ":multi")
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatalf("reading the pushed index %s: %v", ref, err)
	}
	if d, _ := idx.Digest(); d.String() != want {
		t.Errorf("%s has digest %s, want the built %s", ref, d, want)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, desc := range m.Manifests {
		img, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatalf("image %s: %v", desc.Digest, err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Architecture != desc.Platform.Architecture {
			t.Errorf("image %s announced as %s has config architecture %s", desc.Digest, desc.Platform, cfg.Architecture)
		}
		got = append(got, desc.Platform.String()+" user="+cfg.Config.User)
	}
	user := builtUser(t)
	if diff := cmp.Diff([]string{"linux/amd64 user=" + user, "linux/arm64 user=" + user}, got); diff != "" {
		t.Errorf("index entries (-want +got):\n%s", diff)
	}
	for _, tag := range []string{"latest", "multi"} {
		if _, err := remote.Head(mustParse(t, repo+":"+tag)); err != nil {
			t.Errorf("tag %s: %v", tag, err)
		}
	}
}

// builtUser returns "UID:GID" as //image was built (the --define values or their
// defaults), read from //image:passwd's build_args output ("uid=1100 (--define)").
func builtUser(t *testing.T) string {
	t.Helper()
	f := os.Getenv("BUILD_ARGS_FILE")
	if f == "" {
		t.Fatal("BUILD_ARGS_FILE is not set: run `tools/bazel test //image/pushtest`")
	}
	b, err := os.ReadFile(filepath.Join(os.Getenv("TEST_SRCDIR"), f))
	if err != nil {
		t.Fatal(err)
	}
	vals, err := parseBuildArgs(string(b))
	if err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return vals["uid"] + ":" + vals["gid"]
}

// parseBuildArgs parses lines "key=value (source)" and requires uid and gid.
func parseBuildArgs(s string) (map[string]string, error) {
	vals := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		k, v, ok := strings.Cut(line, "=")
		i := strings.LastIndex(v, " (")
		if !ok || i < 0 {
			return nil, fmt.Errorf("line %q is not \"key=value (source)\"", line)
		}
		vals[k] = v[:i]
	}
	for _, k := range []string{"uid", "gid"} {
		if vals[k] == "" {
			return nil, fmt.Errorf("no %s= line", k)
		}
	}
	return vals, nil
}

func TestParseBuildArgs(t *testing.T) {
	got, err := parseBuildArgs("user=ci_user (--define)\nuid=1100 (--define)\ngid=1000 (default)\n")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"user": "ci_user", "uid": "1100", "gid": "1000"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := parseBuildArgs("user=app (default)\n"); err == nil {
		t.Error("no uid/gid lines: no error")
	}
}

func mustParse(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
