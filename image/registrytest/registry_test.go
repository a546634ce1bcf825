package registrytest

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/cat-server/cat-server/tools/bazeltest"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
)

// runfile is the file Bazel passes in $env.
func runfile(t *testing.T, env string) string {
	t.Helper()
	return bazeltest.Path(t, env, "//image/registrytest")
}

// layoutDir is the OCI layout among the files Bazel passes in $env.
func layoutDir(t *testing.T, env string) string {
	t.Helper()
	return bazeltest.Dir(t, env, "//image/registrytest")
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
	r.CheckPushed(t, out, "team/cat-server", want, []string{"latest", "v1"})
}

// (d) //image:index goes in through //image:push_index (digest, then tags);
// ocitool pull, the puller behind oci.pull, run with the flags the oci.pull
// repository rule passes (tools/oci/private/pull.bzl), takes each platform
// out of it through TLS with the test CA and credentials; without
// credentials, the test CA or a listed platform it fails saying so.
func TestPushIndexPullEachPlatform(t *testing.T) {
	script := runfile(t, "PUSH_INDEX_SCRIPT")
	ocitool := runfile(t, "OCITOOL")
	idxDigest := strings.TrimSpace(readFile(t, runfile(t, "INDEX_DIGEST_FILE")))
	want := platformDigests(t, layoutDir(t, "INDEX_LAYOUT"))
	if len(want) != 2 || want["linux/amd64"] == "" || want["linux/arm64"] == "" {
		t.Fatalf("//image:index holds %v, want linux/amd64 and linux/arm64", want)
	}
	r := Start(t)
	const repository = "cat-server-index"
	repo := r.Host + "/" + repository
	loggedIn := []string{"DOCKER_CONFIG=" + r.DockerConfig(t), "SSL_CERT_FILE=" + r.CAFile}
	out, err := Run(time.Minute, loggedIn, script, "-r", repo, "-t", "multi")
	if err != nil {
		t.Fatalf("push_index: %v\n%s", err, out)
	}
	r.CheckPushed(t, out, repository, idxDigest, []string{"latest", "multi"})

	pull := func(t *testing.T, env []string, flags ...string) (string, string, error) {
		t.Helper()
		dir := t.TempDir()
		out, digestOut := filepath.Join(dir, "layout"), filepath.Join(dir, "digest")
		args := append([]string{"pull", "--image", repo, "--out", out, "--name", repository, "--digest-out", digestOut}, flags...)
		log, err := Run(time.Minute, env, ocitool, args...)
		if err != nil {
			if _, serr := os.Stat(out); !os.IsNotExist(serr) {
				t.Errorf("a failed pull left %s behind (%v)", out, serr)
			}
			return "", log, err
		}
		got, rerr := ocilayout.Read(out)
		if rerr != nil {
			t.Fatal(rerr)
		}
		d, _ := got.Digest()
		if resolved := strings.TrimSpace(readFile(t, digestOut)); resolved != idxDigest {
			t.Errorf("--digest-out holds %s, want the index digest %s", resolved, idxDigest)
		}
		return d.String(), log, nil
	}
	for platform, digest := range want {
		for _, ident := range [][]string{{"--digest", idxDigest}, {"--tag", "multi"}} {
			t.Run(platform+" by "+ident[0], func(t *testing.T) {
				got, log, err := pull(t, loggedIn, append(ident, "--platform", platform)...)
				if err != nil {
					t.Fatalf("ocitool pull %s --platform %s: %v\n%s", ident, platform, err, log)
				}
				if got != digest {
					t.Errorf("pulled %s for %s, want %s", got, platform, digest)
				}
			})
		}
	}

	for _, tc := range []struct {
		name, platform string
		env            []string
		want           string
	}{
		{"no credentials", "linux/amd64", []string{"DOCKER_CONFIG=" + t.TempDir(), "SSL_CERT_FILE=" + r.CAFile},
			"log in with `docker login " + r.Host + "`"},
		{"test CA not trusted", "linux/amd64", []string{"DOCKER_CONFIG=" + r.DockerConfig(t), "SSL_CERT_FILE=" + os.DevNull},
			"certificate signed by unknown authority"},
		{"platform not in the index", "linux/s390x", loggedIn, "linux/s390x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, log, err := pull(t, tc.env, "--digest", idxDigest, "--platform", tc.platform)
			if err == nil {
				t.Fatalf("pull succeeded:\n%s", log)
			}
			t.Logf("pull failed as expected:\n%s", log)
			if !strings.Contains(log, tc.want) {
				t.Errorf("pull failed (%v) without saying %q:\n%s", err, tc.want, log)
			}
		})
	}
}

// platformDigests returns the manifest digest of each platform ("os/arch")
// of the image index in the layout at dir.
func platformDigests(t *testing.T, dir string) map[string]string {
	t.Helper()
	a, err := ocilayout.ReadArtifact(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, ok := a.(v1.ImageIndex)
	if !ok {
		t.Fatalf("%s holds a %T, not an image index", dir, a)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range m.Manifests {
		if d.Platform == nil {
			t.Fatalf("index entry %s has no platform", d.Digest)
		}
		got[d.Platform.OS+"/"+d.Platform.Architecture] = d.Digest.String()
	}
	return got
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
