package slsa

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestH1ToDirHash(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		// The example of in-toto's DigestSet spec (dirHash).
		{"h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ""},
		{"h2:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "", "not an h1: hash"},
		{"h1:not base64!", "", "not h1: and a base64 SHA-256"},
		{"h1:AAAA", "", "not h1: and a base64 SHA-256"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := H1ToDirHash(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("H1ToDirHash(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

const empty = "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
const emptyHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func TestGoSumDependencies(t *testing.T) {
	tests := []struct {
		name, in string
		want     []ResourceDescriptor
		wantErr  string
	}{
		{"module and go.mod lines", "example.com/a v1.0.0 " + empty + "\nexample.com/a v1.0.0/go.mod " + empty + "\n\n", []ResourceDescriptor{
			{Name: "example.com/a@v1.0.0", URI: "pkg:golang/example.com/a@v1.0.0", Digest: map[string]string{"dirHash": emptyHex}},
			{Name: "example.com/a@v1.0.0/go.mod", URI: "pkg:golang/example.com/a@v1.0.0#go.mod", Digest: map[string]string{"dirHash": emptyHex}},
		}, ""},
		{"empty", "", nil, ""},
		{"two fields", "example.com/a v1.0.0\n", nil, "go.sum line 1: want MODULE VERSION HASH"},
		{"bad hash", "example.com/a v1.0.0 " + empty + "\nexample.com/b v1 h1:x\n", nil, "go.sum line 2: hash \"h1:x\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := GoSumDependencies("go.sum", []byte(tt.in))
			checkResult(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestGoVersion(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{"toolchain line wins", "module m\n\ngo 1.25.0\n\ntoolchain go1.26.10 // pinned\n", "go1.26.10", ""},
		{"go line", "module m\ngo 1.25.0\n", "go1.25.0", ""},
		{"neither", "module m\n", "", "go.mod has no toolchain or go line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := GoVersion("go.mod", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("GoVersion() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

const sha = "f64ecb0807852be2c98899561c45288a9ad57f4e88f3cd002ffabeccbd03bfe1"

func TestGoSDKDependency(t *testing.T) {
	sums := "# comment\ngolang.org/toolchain v0.0.1-go1.26.10.linux-arm64 sha256:" + strings.Repeat("0", 64) + " " + empty + "\n" +
		"golang.org/toolchain v0.0.1-go1.26.10.linux-amd64 sha256:" + sha + " " + empty + "\n"
	tests := []struct {
		name, sums, platform string
		want                 ResourceDescriptor
		wantErr              string
	}{
		{"the host's line", sums, "linux-amd64", ResourceDescriptor{
			Name:        "go-sdk",
			URI:         "pkg:golang/golang.org/toolchain@v0.0.1-go1.26.10.linux-amd64",
			Digest:      map[string]string{"sha256": sha, "dirHash": emptyHex},
			Annotations: map[string]string{"goVersion": "go1.26.10", "platform": "linux-amd64"},
		}, ""},
		{"no line for the platform", sums, "windows-amd64", ResourceDescriptor{}, "has no line for golang.org/toolchain v0.0.1-go1.26.10.windows-amd64"},
		{"bad sha256", "golang.org/toolchain v0.0.1-go1.26.10.linux-amd64 sha256:xyz " + empty + "\n", "linux-amd64", ResourceDescriptor{}, "sums line 1: \"sha256:xyz\""},
		{"short line", "golang.org/toolchain v0.0.1-go1.26.10.linux-amd64\n", "linux-amd64", ResourceDescriptor{}, "sums line 1: want MODULE VERSION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := GoSDKDependency("sums", []byte(tt.sums), "go1.26.10", tt.platform)
			checkResult(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestBaseDependency(t *testing.T) {
	layout := func(index string) string {
		dir := t.TempDir()
		if index != "" {
			os.WriteFile(filepath.Join(dir, "index.json"), []byte(index), 0o644)
		}
		return dir
	}
	digest := "sha256:" + sha
	tests := []struct {
		name, index string
		want        ResourceDescriptor
		wantErr     string
	}{
		{"one manifest", `{"manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "` + digest + `"}]}`, ResourceDescriptor{
			Name: "//base", Digest: map[string]string{"sha256": sha}, MediaType: "application/vnd.oci.image.manifest.v1+json",
		}, ""},
		{"no index.json", "", ResourceDescriptor{}, "base //base: open"},
		{"not JSON", "{", ResourceDescriptor{}, "index.json: unexpected end"},
		{"two manifests", `{"manifests": [{"digest": "` + digest + `"}, {"digest": "` + digest + `"}]}`, ResourceDescriptor{}, "lists 2 manifests, want 1"},
		{"bad digest", `{"manifests": [{"digest": "sha512:abc"}]}`, ResourceDescriptor{}, `manifest digest "sha512:abc"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BaseDependency("//base", layout(tt.index))
			checkResult(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestBuild(t *testing.T) {
	dirty := true
	sdk := ResourceDescriptor{Name: "go-sdk", URI: "pkg:golang/golang.org/toolchain@v0.0.1-go1.26.10.linux-amd64", Digest: map[string]string{"sha256": sha}, Annotations: map[string]string{"platform": "linux-amd64"}}
	mod := ResourceDescriptor{Name: "example.com/a@v1.0.0", URI: "pkg:golang/example.com/a@v1.0.0", Digest: map[string]string{"dirHash": emptyHex}}
	base := ResourceDescriptor{Name: "//image/base:base", Digest: map[string]string{"sha256": sha}}
	in := Inputs{
		SourceURI:       "https://github.com/cat-server/cat-server",
		Target:          "//image:image",
		Defines:         map[string]string{"uid": "1100", "user": "ci_user"},
		CompilationMode: "fastbuild",
		BazelVersion:    "7.7.1",
		GoVersion:       "go1.26.10",
		GoSDK:           sdk,
		GoSum:           []ResourceDescriptor{mod},
		Bases:           []ResourceDescriptor{base},
		FinishedOn:      "2026-12-04T20:05:00Z",
	}
	stamped := in
	stamped.Stamp = Stamp{Stamped: true, Revision: "abc123", Version: "0.1.0", Dirty: &dirty, Created: "2026-12-04T20:00:00Z", InvocationID: "id-1"}
	stampedNoGit := stamped
	stampedNoGit.Stamp.Revision = ""
	optimized := in
	optimized.CompilationMode = "opt"
	optimized.Defines = nil

	builder := Builder{ID: BuilderID, Version: map[string]string{"bazel": "7.7.1", "go": "go1.26.10"}}
	internal := InternalParameters{CompilationMode: "fastbuild", GoSDKPlatform: "linux-amd64", Bazelrc: ".bazelrc at the source commit"}
	tests := []struct {
		name string
		in   Inputs
		want Predicate
	}{
		{"unstamped: no commit, no metadata", in, Predicate{
			BuildDefinition: BuildDefinition{
				BuildType: BuildType,
				ExternalParameters: ExternalParameters{
					Source:  Source{URI: in.SourceURI, Note: "built without --stamp: no commit recorded (bazel build --stamp records it)"},
					Target:  "//image:image",
					Command: "bazel build --define=uid=1100 --define=user=ci_user //image:image",
					Defines: in.Defines,
				},
				InternalParameters:   internal,
				ResolvedDependencies: []ResourceDescriptor{mod, sdk, base},
			},
			RunDetails: RunDetails{Builder: builder},
		}},
		{"stamped: commit as parameter and dependency, metadata", stamped, Predicate{
			BuildDefinition: BuildDefinition{
				BuildType: BuildType,
				ExternalParameters: ExternalParameters{
					Source:  Source{URI: in.SourceURI, Digest: map[string]string{"gitCommit": "abc123"}, Dirty: &dirty},
					Target:  "//image:image",
					Command: "bazel build --stamp --define=uid=1100 --define=user=ci_user //image:image",
					Defines: in.Defines,
					Stamped: true,
				},
				InternalParameters: internal,
				ResolvedDependencies: []ResourceDescriptor{mod, sdk, base,
					{Name: "source", URI: "git+https://github.com/cat-server/cat-server", Digest: map[string]string{"gitCommit": "abc123"}}},
			},
			RunDetails: RunDetails{Builder: builder, Metadata: &Metadata{InvocationID: "id-1", StartedOn: "2026-12-04T20:00:00Z", FinishedOn: "2026-12-04T20:05:00Z"}},
		}},
		{"stamped outside git: says so", stampedNoGit, Predicate{
			BuildDefinition: BuildDefinition{
				BuildType: BuildType,
				ExternalParameters: ExternalParameters{
					Source:  Source{URI: in.SourceURI, Dirty: &dirty, Note: "stamped outside a git checkout: no commit"},
					Target:  "//image:image",
					Command: "bazel build --stamp --define=uid=1100 --define=user=ci_user //image:image",
					Defines: in.Defines,
					Stamped: true,
				},
				InternalParameters:   internal,
				ResolvedDependencies: []ResourceDescriptor{mod, sdk, base},
			},
			RunDetails: RunDetails{Builder: builder, Metadata: &Metadata{InvocationID: "id-1", StartedOn: "2026-12-04T20:00:00Z", FinishedOn: "2026-12-04T20:05:00Z"}},
		}},
		{"-c opt, no defines", optimized, Predicate{
			BuildDefinition: BuildDefinition{
				BuildType: BuildType,
				ExternalParameters: ExternalParameters{
					Source:  Source{URI: in.SourceURI, Note: "built without --stamp: no commit recorded (bazel build --stamp records it)"},
					Target:  "//image:image",
					Command: "bazel build -c opt //image:image",
				},
				InternalParameters:   InternalParameters{CompilationMode: "opt", GoSDKPlatform: "linux-amd64", Bazelrc: ".bazelrc at the source commit"},
				ResolvedDependencies: []ResourceDescriptor{mod, sdk, base},
			},
			RunDetails: RunDetails{Builder: builder},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Build(tt.in)); diff != "" {
				t.Errorf("Build() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadStamp(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		want          Stamp
		wantErr       string
	}{
		{"unstamped", `{"stamped": false}`, Stamp{}, ""},
		{"stamped", `{"stamped": true, "revision": "abc", "version": "1"}`, Stamp{Stamped: true, Revision: "abc", Version: "1"}, ""},
		{"stamped without version", `{"stamped": true}`, Stamp{}, "stamped but no version"},
		{"not JSON", `{`, Stamp{}, "unexpected end"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, string(rune('a'+i)))
			os.WriteFile(p, []byte(tt.content), 0o644)
			got, err := ReadStamp(p)
			checkResult(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// checkResult checks a table test's result: the error containing wantErr,
// or no error and got equal to want.
func checkResult[T any](t *testing.T, got T, err error, want T, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error = %v, want one containing %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
