package push

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// startRegistry serves an in-memory registry on 127.0.0.1 and returns its
// host:port.
func startRegistry(t *testing.T) string {
	t.Helper()
	// No credentials from the developer's docker config.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestPushTwoTags(t *testing.T) {
	host := startRegistry(t)
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()
	repo := host + "/team/cat-server"
	var out bytes.Buffer
	ref, err := Push(context.Background(), img, repo, []string{"v1", "latest"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	wantOut := "pushed " + repo + "@" + digest.String() + "\ntagged " + repo + ":v1\ntagged " + repo + ":latest\n"
	if diff := cmp.Diff(wantOut, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if ref.DigestStr() != digest.String() {
		t.Errorf("returned ref %s, want digest %s", ref, digest)
	}
	for _, r := range []string{repo + "@" + digest.String(), repo + ":v1", repo + ":latest"} {
		parsed, err := name.ParseReference(r)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Head(parsed)
		if err != nil {
			t.Fatalf("reading back %s: %v", r, err)
		}
		if desc.Digest != digest {
			t.Errorf("%s has digest %s, want %s", r, desc.Digest, digest)
		}
	}
	v1Ref, err := name.ParseReference(repo + ":v1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.Image(v1Ref)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := got.Digest(); d != digest {
		t.Errorf("pulled image digest %s, want %s", d, digest)
	}
}

func TestPushErrors(t *testing.T) {
	// A port that was listening a moment ago and now refuses connections.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	forbidding := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "go away", http.StatusForbidden)
	}))
	defer forbidding.Close()
	forbiddingHost := strings.TrimPrefix(forbidding.URL, "http://")
	// A registry that wants credentials, answering the way distribution does.
	locked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
	}))
	defer locked.Close()
	lockedHost := strings.TrimPrefix(locked.URL, "http://")
	// A registry whose certificate nobody here trusts.
	untrusted := httptest.NewTLSServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer untrusted.Close()
	untrustedHost := strings.TrimPrefix(untrusted.URL, "https://")
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, repo string
		tags       []string
		want       string
	}{
		{"closed port", closed + "/cat", nil, "cannot reach registry " + closed + " (https, falling back to http): "},
		{"refusing registry", forbiddingHost + "/cat", nil, "registry " + forbiddingHost + " (https, falling back to http) refused: HTTP 403: "},
		{"no credentials", lockedHost + "/cat", nil, "401 Unauthorized (HEAD responses have no body, use GET for details); log in first: run `docker login " + lockedHost + "`"},
		{"untrusted certificate", untrustedHost + "/cat", nil, "registry " + untrustedHost + " (https, falling back to http): its TLS certificate is not trusted: "},
		{"missing repository", "", []string{"v1"}, "no repository to push to: pass --repository REPO (or -r REPO)"},
		{"bad repository", "UPPER/case", nil, `--repository "UPPER/case"`},
		{"bad tag", "127.0.0.1:1/cat", []string{"bad tag"}, `--tag "bad tag" is not a valid tag`},
		{"tag with repository", "127.0.0.1:1/cat", []string{"other:v1"}, `--tag "other:v1" is not a valid tag`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Push(context.Background(), img, tc.repo, tc.tags, &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Push error = %v\nwant it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
			if out.Len() != 0 {
				t.Errorf("failed push printed %q", out.String())
			}
		})
	}
}

// TestPushArtifactNeedsItsSubject: an SBOM (an artifact whose subject is an
// image) is refused when the image is not in the repository, and pushed once
// it is.
func TestPushArtifactNeedsItsSubject(t *testing.T) {
	host := startRegistry(t)
	repo := host + "/team/cat-server"
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := partial.Descriptor(img)
	if err != nil {
		t.Fatal(err)
	}
	sbom, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	sbom = mutate.Subject(sbom, *desc).(v1.Image)
	_, err = Push(context.Background(), sbom, repo, nil, io.Discard)
	want := fmt.Sprintf("the subject of this artifact, %s, is not in %s: push the image there first (e.g. bazel run //image:push -- -r %s)", desc.Digest, repo, repo)
	if fmt.Sprint(err) != want {
		t.Fatalf("push without the subject: %v\nwant %s", err, want)
	}
	if _, err := Push(context.Background(), img, repo, nil, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := Push(context.Background(), sbom, repo, nil, io.Discard); err != nil {
		t.Fatalf("push with the subject there: %v", err)
	}
}
