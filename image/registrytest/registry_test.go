package registrytest

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cat-server/cat-server/tools/oci/ocilayout"
)

// runfile resolves an rlocation path passed in through the environment (see
// BUILD.bazel); outside Bazel the test cannot run.
func runfile(t *testing.T, env string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		t.Skipf("needs $%s from Bazel: run `tools/bazel test //image/registrytest`", env)
	}
	return filepath.Join(os.Getenv("TEST_SRCDIR"), p)
}

// layoutDir returns the OCI layout directory among the files of //image.
func layoutDir(t *testing.T) string {
	t.Helper()
	paths := os.Getenv("IMAGE_LAYOUT")
	if paths == "" {
		t.Skip("needs $IMAGE_LAYOUT from Bazel: run `tools/bazel test //image/registrytest`")
	}
	for _, p := range strings.Fields(paths) {
		p = filepath.Join(os.Getenv("TEST_SRCDIR"), p)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
	}
	t.Fatalf("no directory among the files of //image: %s", paths)
	return ""
}

// The harness itself: TLS from the test CA, and nothing without a password.
func TestRegistryWantsTLSAndCredentials(t *testing.T) {
	r := Start(t)
	for _, tc := range []struct {
		name       string
		user, pass string
		want       int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", User, "wrong", http.StatusUnauthorized},
		{"right password", User, Password, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "https://"+r.Host+"/v2/", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, err := r.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("GET /v2/ as %q: %s, want %d", tc.user, resp.Status, tc.want)
			}
		})
	}
	// A client that does not trust the test CA is turned away by TLS.
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("https://" + r.Host + "/v2/")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("a client without the test CA got %s, want a certificate error", resp.Status)
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without the test CA: %v, want a certificate error", err)
	}
}

// (a) //image:push without credentials fails and says how to log in; with
// credentials but without trusting the test CA it fails on the certificate.
func TestPushRefusedSaysWhy(t *testing.T) {
	script := runfile(t, "PUSH_SCRIPT")
	r := Start(t)
	repo := r.Host + "/cat-server"
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"no credentials", []string{"DOCKER_CONFIG=" + t.TempDir(), "SSL_CERT_FILE=" + r.CAFile},
			[]string{"HTTP 401", "run `docker login " + r.Host + "`"}},
		{"test CA not trusted", []string{"DOCKER_CONFIG=" + r.DockerConfig(t), "SSL_CERT_FILE=" + os.DevNull},
			[]string{r.Host, "certificate signed by unknown authority"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Run(time.Minute, tc.env, script, "-r", repo, "-t", "v1")
			if err == nil {
				t.Fatalf("push succeeded:\n%s", out)
			}
			t.Logf("push failed as expected:\n%s", out)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("push failed (%v) without saying %q:\n%s", err, w, out)
				}
			}
		})
	}
	if puts, _ := r.ManifestPuts("cat-server"); len(puts) != 0 {
		t.Errorf("the registry stored manifests %q", puts)
	}
}

// (b, without Docker) //image:push with credentials in the docker config
// pushes the digest, then each tag; dockertest does the same after a real
// `docker login`.
func TestPushWithCredentialsDigestThenTags(t *testing.T) {
	script := runfile(t, "PUSH_SCRIPT")
	want := strings.TrimSpace(readFile(t, runfile(t, "IMAGE_DIGEST_FILE")))
	r := Start(t)
	repo := r.Host + "/team/cat-server"
	env := []string{"DOCKER_CONFIG=" + r.DockerConfig(t), "SSL_CERT_FILE=" + r.CAFile}
	out, err := Run(time.Minute, env, script, "-r", repo, "-t", "v1")
	if err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	r.CheckPushed(t, "team/cat-server", want, []string{"latest", "v1"})
}

// (d) ocitool pull, the puller behind oci.pull, picks each platform of a
// two-platform index through TLS with the test CA and credentials, and an
// unauthenticated pull fails saying how to log in. The flags are those the
// oci.pull repository rule passes (tools/oci/pull.bzl).
func TestPullIndexEachPlatform(t *testing.T) {
	ocitool := runfile(t, "OCITOOL")
	img, err := ocilayout.Read(layoutDir(t))
	if err != nil {
		t.Fatal(err)
	}
	r := Start(t)
	repo := r.Host + "/cat-server-index"
	idx, want := twoPlatformIndex(t, img)
	idxDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(repo + ":multi")
	if err != nil {
		t.Fatal(err)
	}
	auth := remote.WithAuth(&authn.Basic{Username: User, Password: Password})
	if err := remote.WriteIndex(ref, idx, auth, remote.WithTransport(r.Client.Transport)); err != nil {
		t.Fatalf("pushing the index: %v", err)
	}

	loggedIn := []string{"DOCKER_CONFIG=" + r.DockerConfig(t), "SSL_CERT_FILE=" + r.CAFile}
	for platform, digest := range want {
		t.Run(platform, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "layout")
			log, err := Run(time.Minute, loggedIn, ocitool, "pull", "--image", repo, "--name", "cat-server-index", "--digest", idxDigest.String(),
				"--platform", platform, "--out", out)
			if err != nil {
				t.Fatalf("ocitool pull --platform %s: %v\n%s", platform, err, log)
			}
			got, err := ocilayout.Read(out)
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := got.Digest(); d != digest {
				t.Errorf("pulled %s for %s, want %s", d, platform, digest)
			}
		})
	}

	for _, tc := range []struct {
		name, platform string
		env            []string
		want           string
	}{
		{"no credentials", "linux/amd64", []string{"DOCKER_CONFIG=" + t.TempDir(), "SSL_CERT_FILE=" + r.CAFile},
			"log in with `docker login " + r.Host + "`"},
		{"platform not in the index", "linux/s390x", loggedIn, "linux/s390x"},
		{"test CA not trusted", "linux/amd64", []string{"DOCKER_CONFIG=" + r.DockerConfig(t), "SSL_CERT_FILE=" + os.DevNull}, "certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "layout")
			log, err := Run(time.Minute, tc.env, ocitool, "pull", "--image", repo, "--name", "cat-server-index", "--digest", idxDigest.String(),
				"--platform", tc.platform, "--out", out)
			if err == nil {
				t.Fatalf("pull succeeded:\n%s", log)
			}
			t.Logf("pull failed as expected:\n%s", log)
			if !strings.Contains(log, tc.want) {
				t.Errorf("pull failed (%v) without saying %q:\n%s", err, tc.want, log)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a failed pull left %s behind (%v)", out, err)
			}
		})
	}
}

// twoPlatformIndex returns an index of img as linux/amd64 and a copy marked
// linux/arm64, and the manifest digest of each platform.
func twoPlatformIndex(t *testing.T, img v1.Image) (v1.ImageIndex, map[string]v1.Hash) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	arm := cf.DeepCopy()
	arm.Architecture = "arm64"
	armImg, err := mutate.ConfigFile(img, arm)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]v1.Hash{}
	var adds []mutate.IndexAddendum
	for _, im := range []v1.Image{img, armImg} {
		c, err := im.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		d, err := im.Digest()
		if err != nil {
			t.Fatal(err)
		}
		p := c.Platform()
		want[p.OS+"/"+p.Architecture] = d
		adds = append(adds, mutate.IndexAddendum{Add: im, Descriptor: v1.Descriptor{Platform: p}})
	}
	mt, err := img.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	idxType := types.OCIImageIndex
	if mt == types.DockerManifestSchema2 {
		idxType = types.DockerManifestList
	}
	return mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), idxType), want
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
