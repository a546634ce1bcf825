// Package stamptest checks //image's stamped outputs (labels, stamped_tags, stamp.json,
// provenance) as built without --stamp (the command line of `bazel test`, which must
// not use --stamp) and under --stamp (//image/stamptest:stamped, a transition), and
// //image:provenance's resolved dependencies against go.sum, the Go SDK pin and the
// built base images.
package stamptest

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cat-server/cat-server/tools/bazeltest"
)

// inputs returns the runfiles the environment variable key names (rlocation paths).
func inputs(t *testing.T, key string) []string {
	t.Helper()
	return bazeltest.Paths(t, key, "//image/stamptest")
}

func input(t *testing.T, key string) string {
	t.Helper()
	return bazeltest.Path(t, key, "//image/stamptest")
}

// stamped returns the file named base among the stamped outputs.
func stamped(t *testing.T, base string) string {
	t.Helper()
	for _, p := range inputs(t, "STAMPED") {
		if filepath.Base(p) == base {
			return p
		}
	}
	t.Fatalf("no %s among the stamped outputs %s", base, os.Getenv("STAMPED"))
	return ""
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(read(t, path)), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func version(t *testing.T) string {
	return strings.TrimSpace(read(t, input(t, "VERSION_FILE")))
}

// labels parses a labels file of name=value lines.
func labels(t *testing.T, path string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(read(t, path), "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: line %q is not name=value", path, line)
		}
		m[k] = v
	}
	return m
}

// imageLabels returns the config labels of the one image of an OCI layout.
func imageLabels(t *testing.T, layout string) map[string]string {
	t.Helper()
	var index struct{ Manifests []struct{ Digest string } }
	readJSON(t, filepath.Join(layout, "index.json"), &index)
	var manifest struct{ Config struct{ Digest string } }
	readJSON(t, blob(layout, index.Manifests[0].Digest), &manifest)
	var config struct {
		Config struct{ Labels map[string]string }
	}
	readJSON(t, blob(layout, manifest.Config.Digest), &config)
	return config.Config.Labels
}

func blob(layout, digest string) string {
	return filepath.Join(layout, "blobs", strings.Replace(digest, ":", "/", 1))
}

// Descriptor and Predicate are what the tests read of the provenance.
type Descriptor struct {
	Name        string            `json:"name"`
	URI         string            `json:"uri"`
	Digest      map[string]string `json:"digest"`
	Annotations map[string]string `json:"annotations"`
}

type Predicate struct {
	BuildDefinition struct {
		BuildType          string `json:"buildType"`
		ExternalParameters struct {
			Source struct {
				URI    string            `json:"uri"`
				Digest map[string]string `json:"digest"`
			} `json:"source"`
			Target  string `json:"target"`
			Command string `json:"command"`
			Stamped bool   `json:"stamped"`
		} `json:"externalParameters"`
		ResolvedDependencies []Descriptor `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID      string            `json:"id"`
			Version map[string]string `json:"version"`
		} `json:"builder"`
		Metadata *struct {
			InvocationID string `json:"invocationId"`
			StartedOn    string `json:"startedOn"`
		} `json:"metadata"`
	} `json:"runDetails"`
}

// machineSpecific are strings of this machine and run that no unstamped output may
// hold: the runfiles and temp directories, $HOME, the host name, Bazel's output paths.
func machineSpecific(t *testing.T) []string {
	s := []string{"execroot", "bazel-out"}
	for _, key := range []string{"TEST_SRCDIR", "TEST_TMPDIR", "HOME"} {
		if v := os.Getenv(key); len(v) > 1 {
			s = append(s, v)
		}
	}
	if h, err := os.Hostname(); err == nil && len(h) > 3 {
		s = append(s, h)
	}
	return s
}

func TestUnstampedHasNothingVolatile(t *testing.T) {
	if got := read(t, input(t, "STAMP_JSON")); got != "{\n  \"stamped\": false\n}\n" {
		t.Errorf("unstamped stamp.json = %q, want {\"stamped\": false} alone", got)
	}
	v := version(t)
	got := labels(t, input(t, "LABELS"))
	if got["org.opencontainers.image.version"] != v {
		t.Errorf("unstamped version label = %q, want the VERSION file's %q", got["org.opencontainers.image.version"], v)
	}
	for _, k := range []string{"org.opencontainers.image.revision", "org.opencontainers.image.created"} {
		if _, ok := got[k]; ok {
			t.Errorf("unstamped labels have %s", k)
		}
	}
	if diff := cmp.Diff(got, imageLabels(t, filepath.Dir(input(t, "IMAGE_DIGEST_FILE"))+"/image")); diff != "" {
		t.Errorf("//image's labels are not //image:labels (-labels +image):\n%s", diff)
	}
	if tags := read(t, input(t, "STAMPED_TAGS")); strings.TrimSpace(tags) != v {
		t.Errorf("unstamped stamped_tags = %q, want the VERSION file's %q", tags, v)
	}
	for _, key := range []string{"PROVENANCE", "PROVENANCE_INDEX"} {
		var p Predicate
		path := input(t, key)
		readJSON(t, path, &p)
		if p.RunDetails.Metadata != nil || p.BuildDefinition.ExternalParameters.Stamped || p.BuildDefinition.ExternalParameters.Source.Digest != nil {
			t.Errorf("%s: unstamped provenance has a commit or run metadata: %+v", key, p)
		}
		if strings.Contains(p.BuildDefinition.ExternalParameters.Command, "--stamp") {
			t.Errorf("%s: unstamped command %q has --stamp", key, p.BuildDefinition.ExternalParameters.Command)
		}
	}
	for _, key := range []string{"STAMP_JSON", "LABELS", "STAMPED_TAGS", "PROVENANCE", "PROVENANCE_INDEX"} {
		content := read(t, input(t, key))
		for _, s := range machineSpecific(t) {
			if strings.Contains(content, s) {
				t.Errorf("%s holds %q, a machine-specific string", key, s)
			}
		}
	}
}

var commitRE = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})?$`)

func TestStamped(t *testing.T) {
	var st struct {
		Stamped      bool   `json:"stamped"`
		Revision     string `json:"revision"`
		Version      string `json:"version"`
		Dirty        *bool  `json:"dirty"`
		Created      string `json:"created"`
		InvocationID string `json:"invocationId"`
	}
	readJSON(t, stamped(t, "stamp.json"), &st)
	if !st.Stamped || st.Dirty == nil || st.Created == "" || st.InvocationID == "" {
		t.Fatalf("stamped stamp.json lacks a field: %+v", st)
	}
	if !commitRE.MatchString(st.Revision) {
		t.Errorf("revision %q is not a git commit", st.Revision)
	}
	v := version(t)
	if st.Version != v {
		t.Errorf("stamped version = %q, want the VERSION file's %q", st.Version, v)
	}
	want := labels(t, input(t, "LABELS"))
	want["org.opencontainers.image.version"] = st.Version
	want["org.opencontainers.image.revision"] = st.Revision
	want["org.opencontainers.image.created"] = st.Created
	if diff := cmp.Diff(want, labels(t, stamped(t, "labels.txt"))); diff != "" {
		t.Errorf("stamped labels (-want +got):\n%s", diff)
	}
	if tags := read(t, stamped(t, "stamped_tags.txt")); strings.TrimSpace(tags) != v {
		t.Errorf("stamped tags = %q, want %q (VERSION is tag-safe)", tags, v)
	}
	var p Predicate
	readJSON(t, stamped(t, "provenance.json"), &p)
	ep := p.BuildDefinition.ExternalParameters
	if !ep.Stamped || ep.Command != "bazel build --stamp //image:image" && !strings.HasPrefix(ep.Command, "bazel build --stamp --define=") {
		t.Errorf("stamped provenance: stamped=%v command=%q", ep.Stamped, ep.Command)
	}
	if st.Revision != "" {
		if diff := cmp.Diff(map[string]string{"gitCommit": st.Revision}, ep.Source.Digest); diff != "" {
			t.Errorf("stamped provenance's source digest (-want +got):\n%s", diff)
		}
	}
	if p.RunDetails.Metadata == nil || p.RunDetails.Metadata.StartedOn != st.Created || p.RunDetails.Metadata.InvocationID != st.InvocationID {
		t.Errorf("stamped provenance's metadata = %+v, want startedOn %s and invocationId %s", p.RunDetails.Metadata, st.Created, st.InvocationID)
	}
}

// goSum returns go.sum's lines as the provenance should list them: name => dirHash.
func goSum(t *testing.T) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(read(t, input(t, "GO_SUM")), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		sum, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(f[2], "h1:"))
		if err != nil {
			t.Fatalf("go.sum line %q: %v", line, err)
		}
		m[f[0]+"@"+f[1]] = hex.EncodeToString(sum)
	}
	return m
}

// sdkSHA256 returns toolchain.sums' sha256 of the SDK zip of go.mod's toolchain for the platform.
func sdkSHA256(t *testing.T, platform string) string {
	var toolchain string
	for _, line := range strings.Split(read(t, input(t, "GO_MOD")), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "toolchain" {
			toolchain = f[1]
		}
	}
	for _, line := range strings.Split(read(t, input(t, "TOOLCHAIN_SUMS")), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[1] == "v0.0.1-"+toolchain+"."+platform {
			return strings.TrimPrefix(f[2], "sha256:")
		}
	}
	t.Fatalf("toolchain.sums has no %s %s", toolchain, platform)
	return ""
}

func layoutDigest(t *testing.T, layout string) string {
	var index struct{ Manifests []struct{ Digest string } }
	readJSON(t, filepath.Join(layout, "index.json"), &index)
	if len(index.Manifests) != 1 {
		t.Fatalf("%s lists %d manifests", layout, len(index.Manifests))
	}
	return strings.TrimPrefix(index.Manifests[0].Digest, "sha256:")
}

func TestProvenanceDependencies(t *testing.T) {
	wantModules := goSum(t)
	baseDigest := layoutDigest(t, input(t, "BASE"))
	for _, tt := range []struct {
		key       string
		wantBases int
	}{{"PROVENANCE", 1}, {"PROVENANCE_INDEX", 2}} {
		t.Run(tt.key, func(t *testing.T) {
			var p Predicate
			readJSON(t, input(t, tt.key), &p)
			modules := map[string]string{}
			var sdk *Descriptor
			var bases []Descriptor
			for _, d := range p.BuildDefinition.ResolvedDependencies {
				switch {
				case d.Name == "go-sdk":
					d := d
					sdk = &d
				case strings.HasPrefix(d.URI, "pkg:golang/"):
					modules[d.Name] = d.Digest["dirHash"]
				default:
					bases = append(bases, d)
				}
			}
			if diff := cmp.Diff(wantModules, modules); diff != "" {
				t.Errorf("Go modules are not go.sum's (-go.sum +provenance):\n%s", diff)
			}
			if sdk == nil {
				t.Fatal("no go-sdk dependency")
			}
			if want := sdkSHA256(t, sdk.Annotations["platform"]); sdk.Digest["sha256"] != want {
				t.Errorf("go-sdk sha256 = %s, want toolchain.sums' %s", sdk.Digest["sha256"], want)
			}
			if len(bases) != tt.wantBases {
				t.Fatalf("%d base images, want %d: %+v", len(bases), tt.wantBases, bases)
			}
			sort.Slice(bases, func(i, j int) bool { return bases[i].Name < bases[j].Name })
			// //image:base (and the index's linux/amd64 base) is the base built here.
			if bases[0].Digest["sha256"] != baseDigest {
				t.Errorf("base %s digest = %s, want the built base's %s", bases[0].Name, bases[0].Digest["sha256"], baseDigest)
			}
			if tt.wantBases == 2 && (!strings.HasSuffix(bases[1].Name, "linux_arm64") || len(bases[1].Digest["sha256"]) != 64 || bases[1].Digest["sha256"] == baseDigest) {
				t.Errorf("the index's arm64 base = %+v, want its own sha256", bases[1])
			}
			if got := p.RunDetails.Builder.Version["bazel"]; got != strings.TrimSpace(read(t, input(t, "BAZELVERSION"))) {
				t.Errorf("builder's bazel version = %q, want .bazelversion's", got)
			}
		})
	}
}

// TestPushStampedTags pushes //image with remote_tags = //image:stamped_tags (upstream's
// pattern) to an in-process registry on 127.0.0.1: the version tag is the built digest.
func TestPushStampedTags(t *testing.T) {
	script := input(t, "PUSH_STAMPED_TAGS")
	want := strings.TrimSpace(read(t, input(t, "IMAGE_DIGEST_FILE")))
	tag := strings.TrimSpace(read(t, input(t, "STAMPED_TAGS")))
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/cat-server"
	if out, err := exec.Command(script, "-r", repo).CombinedOutput(); err != nil {
		t.Fatalf("%s -r %s: %v\n%s", script, repo, err, out)
	}
	ref, err := name.ParseReference(repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(ref)
	if err != nil {
		t.Fatalf("HEAD %s: %v", ref, err)
	}
	if got := desc.Digest.String(); got != want {
		t.Errorf("%s has digest %s, want the built %s", ref, got, want)
	}
}
