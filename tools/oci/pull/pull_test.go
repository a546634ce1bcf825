package pull

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/oci/pull/fakealpine"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// summary is what the tests compare about a written layout.
type summary struct {
	ImageDigest     v1.Hash
	MediaType       types.MediaType
	ConfigMediaType types.MediaType
	LayerMediaTypes []types.MediaType
	Platform        string
	Arch            string // the content of /etc/apk/arch, set by the fixture
}

func summarize(t *testing.T, dir string) summary {
	t.Helper()
	img, err := ocilayout.Read(dir)
	if err != nil {
		t.Fatalf("reading the written layout: %v", err)
	}
	d, _ := img.Digest()
	mt, _ := img.MediaType()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	s := summary{ImageDigest: d, MediaType: mt, ConfigMediaType: m.Config.MediaType,
		Platform: Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}.String()}
	for _, l := range m.Layers {
		s.LayerMediaTypes = append(s.LayerMediaTypes, l.MediaType)
	}
	s.Arch = strings.TrimSpace(string(fileFromImage(t, img, "etc/apk/arch")))
	return s
}

func fileFromImage(t *testing.T, img v1.Image, path string) []byte {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		if b, ok := readTarFile(t, l, path); ok {
			return b
		}
	}
	t.Fatalf("%s not found in the image", path)
	return nil
}

func fixture(t *testing.T) *fakealpine.Fixture {
	t.Helper()
	f, err := fakealpine.New()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func assertNothingWritten(t *testing.T, out string) {
	t.Helper()
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("after the failure %s exists (stat error %v), want it absent", out, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	for _, e := range entries {
		t.Errorf("after the failure the output's parent holds %s, want it empty", e.Name())
	}
}

func TestPull(t *testing.T) {
	f := fixture(t)
	amd64 := f.Digests["linux/amd64"]
	arm64 := f.Digests["linux/arm64/v8"]
	dockerLayers := []types.MediaType{types.DockerLayer}
	amd64Summary := summary{ImageDigest: amd64, MediaType: types.DockerManifestSchema2, ConfigMediaType: types.DockerConfigJSON,
		LayerMediaTypes: dockerLayers, Platform: "linux/amd64", Arch: "amd64"}
	arm64Summary := summary{ImageDigest: arm64, MediaType: types.DockerManifestSchema2, ConfigMediaType: types.DockerConfigJSON,
		LayerMediaTypes: dockerLayers, Platform: "linux/arm64/v8", Arch: "arm64"}
	amd64Img := f.Images["linux/amd64"]
	amd64Manifest, err := amd64Img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	amd64Layer := amd64Manifest.Layers[0].Digest
	amd64Config := amd64Manifest.Config.Digest
	unreachable := closedPort(t)

	for _, tc := range []struct {
		name    string
		opts    Options // Image defaults to the server's repo, Digest to the index's
		corrupt v1.Hash // a blob or manifest the server tampers with
		want    *summary
		wantErr []string // substrings of the error
		warn    bool     // a tag-only warning is expected
	}{
		{name: "amd64 by digest", opts: Options{Platform: "linux/amd64"}, want: &amd64Summary},
		{name: "arm64 does not match variant v8 (exact, as rules_oci)", opts: Options{Platform: "linux/arm64"}, wantErr: []string{"has no image for platform linux/arm64; available platforms: linux/amd64, linux/arm64/v8"}},
		{name: "no platform for an index", opts: Options{Platform: "-"}, wantErr: []string{"is a multi-platform image index, so platforms must be given"}},
		{name: "no platform for a single image (_single)", opts: Options{Digest: amd64.String(), Platform: "-"}, want: &amd64Summary},
		{name: "arm64/v8", opts: Options{Platform: "linux/arm64/v8"}, want: &arm64Summary},
		{name: "tag only warns", opts: Options{Digest: "-", Tag: "3.20", Platform: "linux/amd64"}, want: &amd64Summary, warn: true},
		{name: "digest wins over tag", opts: Options{Tag: "no-such-tag", Platform: "linux/amd64"}, want: &amd64Summary},
		{name: "single image by digest", opts: Options{Digest: amd64.String(), Platform: "linux/amd64"}, want: &amd64Summary},
		{
			name:    "single image of another platform",
			opts:    Options{Digest: amd64.String(), Platform: "linux/arm64"},
			wantErr: []string{"pull alpine:", "is for platform linux/amd64, not linux/arm64"},
		},
		{
			name:    "wrong digest",
			opts:    Options{Digest: "sha256:" + strings.Repeat("0", 64), Platform: "linux/amd64"},
			wantErr: []string{"pull alpine:", "sha256:" + strings.Repeat("0", 64) + " not found in registry"},
		},
		{
			name:    "malformed digest",
			opts:    Options{Digest: "sha256:1234", Platform: "linux/amd64"},
			wantErr: []string{`invalid digest "sha256:1234"`},
		},
		{
			name:    "missing platform",
			opts:    Options{Platform: "linux/s390x"},
			wantErr: []string{"no image for platform linux/s390x; available platforms: linux/amd64, linux/arm64/v8"},
		},
		{
			name:    "bad platform",
			opts:    Options{Platform: "linux"},
			wantErr: []string{`invalid platform "linux"`},
		},
		{
			name:    "unreachable registry",
			opts:    Options{Image: unreachable + "/library/alpine", Platform: "linux/amd64"},
			wantErr: []string{"pull alpine: cannot reach registry " + unreachable + ":", "connection refused"},
		},
		{
			name:    "corrupt layer",
			opts:    Options{Platform: "linux/amd64"},
			corrupt: amd64Layer,
			wantErr: []string{"corrupt blob " + amd64Layer.String() + " (layer 1 of 1 of alpine linux/amd64)"},
		},
		{
			name:    "corrupt config",
			opts:    Options{Platform: "linux/amd64"},
			corrupt: amd64Config,
			wantErr: []string{"corrupt blob " + amd64Config.String() + " (config of alpine linux/amd64)"},
		},
		{
			name:    "corrupt platform manifest",
			opts:    Options{Platform: "linux/amd64"},
			corrupt: amd64,
			wantErr: []string{"corrupt blob " + amd64.String() + " (manifest of alpine linux/amd64)"},
		},
		{
			name:    "corrupt index",
			opts:    Options{Platform: "linux/amd64"},
			corrupt: f.IndexDigest,
			wantErr: []string{"corrupt blob", f.IndexDigest.String()},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakealpine.Serve(t, f)
			if tc.corrupt != (v1.Hash{}) {
				srv.Corrupt(tc.corrupt)
			}
			opts := tc.opts
			if opts.Image == "" {
				opts.Image = srv.Repo
			}
			switch opts.Digest {
			case "":
				opts.Digest = f.IndexDigest.String()
			case "-":
				opts.Digest = ""
			}
			if opts.Platform == "-" {
				opts.Platform = ""
			}
			var stderr bytes.Buffer
			opts.Stderr = &stderr
			opts.Out = filepath.Join(t.TempDir(), "layout")

			res, err := Pull(context.Background(), opts)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("Pull succeeded, want an error containing %q", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("Pull error = %q, want it to contain %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("Pull error spans several lines: %q", err)
				}
				t.Logf("error: %v", err)
				assertNothingWritten(t, opts.Out)
				return
			}
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			if diff := cmp.Diff(*tc.want, summarize(t, opts.Out)); diff != "" {
				t.Errorf("written image (-want +got):\n%s", diff)
			}
			if res.ImageDigest != tc.want.ImageDigest {
				t.Errorf("Result.ImageDigest = %s, want %s", res.ImageDigest, tc.want.ImageDigest)
			}
			wantWarning := ""
			if tc.warn {
				wantWarning = `WARNING: alpine is pulled by tag "3.20" only; pin it: digest = "` + f.IndexDigest.String() + `"`
			}
			if diff := cmp.Diff(wantWarning, res.Warning); diff != "" {
				t.Errorf("Result.Warning (-want +got):\n%s", diff)
			}
			if got := strings.TrimSpace(stderr.String()); got != wantWarning {
				t.Errorf("stderr = %q, want %q", got, wantWarning)
			}
			// Only the layout is left next to it: the staging directory is gone.
			entries, _ := os.ReadDir(filepath.Dir(opts.Out))
			if len(entries) != 1 {
				t.Errorf("the output's parent holds %d entries, want only the layout", len(entries))
			}
		})
	}
}

func TestImport(t *testing.T) {
	f := fixture(t)
	tmp := t.TempDir()

	// A multi-platform OCI layout, like `crane pull --format=oci` of an index.
	multi := filepath.Join(tmp, "multi")
	if _, err := layout.Write(multi, f.Index); err != nil {
		t.Fatal(err)
	}
	// A single-image layout (index.json's entry has no platform).
	single := filepath.Join(tmp, "single")
	if err := ocilayout.Write(single, f.Images["linux/arm64/v8"]); err != nil {
		t.Fatal(err)
	}
	// A docker-save tarball.
	saved := filepath.Join(tmp, "alpine.tar")
	tag, err := name.NewTag("alpine:3.20")
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(saved, tag, f.Images["linux/amd64"]); err != nil {
		t.Fatal(err)
	}
	// A layout with a tampered layer.
	broken := filepath.Join(tmp, "broken")
	if err := ocilayout.Write(broken, f.Images["linux/amd64"]); err != nil {
		t.Fatal(err)
	}
	m, _ := f.Images["linux/amd64"].Manifest()
	layerPath := filepath.Join(broken, "blobs", "sha256", m.Layers[0].Digest.Hex)
	b, err := os.ReadFile(layerPath)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(layerPath, b, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, src, platform string
		wantPlatform        string
		wantDigest          v1.Hash // zero: not compared (a tarball's manifest is synthesised)
		wantErr             string
	}{
		{name: "layout index amd64", src: multi, platform: "linux/amd64", wantPlatform: "linux/amd64", wantDigest: f.Digests["linux/amd64"]},
		{name: "layout index arm64/v8", src: multi, platform: "linux/arm64/v8", wantPlatform: "linux/arm64/v8", wantDigest: f.Digests["linux/arm64/v8"]},
		{name: "layout index arm64 is not arm64/v8", src: multi, platform: "linux/arm64", wantErr: "no image for platform linux/arm64; available platforms: linux/amd64, linux/arm64/v8"},
		{name: "layout index missing platform", src: multi, platform: "linux/riscv64", wantErr: "no image for platform linux/riscv64; available platforms: linux/amd64, linux/arm64/v8"},
		{name: "single-image layout", src: single, platform: "linux/arm64/v8", wantPlatform: "linux/arm64/v8", wantDigest: f.Digests["linux/arm64/v8"]},
		{name: "single-image layout wrong platform", src: single, platform: "linux/amd64", wantErr: "is for platform linux/arm64/v8, not linux/amd64"},
		{name: "docker-save tarball", src: saved, platform: "linux/amd64", wantPlatform: "linux/amd64"},
		{name: "docker-save tarball wrong platform", src: saved, platform: "linux/arm64", wantErr: "is for platform linux/amd64, not linux/arm64"},
		{name: "corrupt layer", src: broken, platform: "linux/amd64", wantErr: "corrupt blob " + m.Layers[0].Digest.String() + " (layer 1 of 1 of "},
		{name: "missing source", src: filepath.Join(tmp, "nope"), platform: "linux/amd64", wantErr: "no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "layout")
			res, err := Import(context.Background(), tc.src, tc.platform, out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Import error = %v, want it to contain %q", err, tc.wantErr)
				}
				t.Logf("error: %v", err)
				assertNothingWritten(t, out)
				return
			}
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			got := summarize(t, out)
			if got.Platform != tc.wantPlatform {
				t.Errorf("platform = %s, want %s", got.Platform, tc.wantPlatform)
			}
			if tc.wantDigest != (v1.Hash{}) && (got.ImageDigest != tc.wantDigest || res.ImageDigest != tc.wantDigest) {
				t.Errorf("image digest = %s (result %s), want %s", got.ImageDigest, res.ImageDigest, tc.wantDigest)
			}
			if diff := cmp.Diff(types.DockerManifestSchema2, got.MediaType); diff != "" {
				t.Errorf("media type (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlatformMatches(t *testing.T) {
	for _, tc := range []struct {
		want              string
		os, arch, variant string
		match             bool
	}{
		{"linux/amd64", "linux", "amd64", "", true},
		{"linux/arm64", "linux", "arm64", "v8", true},
		{"linux/arm64/v8", "linux", "arm64", "", true},
		{"linux/arm64/v8", "linux", "arm64", "v8", true},
		{"linux/arm/v7", "linux", "arm", "", true},
		{"linux/arm/v6", "linux", "arm", "v7", false},
		{"linux/arm64", "linux", "amd64", "", false},
		{"linux/amd64", "windows", "amd64", "", false},
		{"linux/amd64", "unknown", "unknown", "", false},
	} {
		p, err := ParsePlatform(tc.want)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Matches(tc.os, tc.arch, tc.variant); got != tc.match {
			t.Errorf("%s.Matches(%s, %s, %q) = %v, want %v", tc.want, tc.os, tc.arch, tc.variant, got, tc.match)
		}
	}
	for _, bad := range []string{"", "linux", "linux/", "/amd64", "linux/arm64/v8/x"} {
		if _, err := ParsePlatform(bad); err == nil {
			t.Errorf("ParsePlatform(%q) succeeded, want an error", bad)
		}
	}
}

// TestImportCapsIndexJSON: a layout whose index.json is over the cap is
// refused before go-containerregistry reads it whole.
func TestImportCapsIndexJSON(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "index.json"), make([]byte, 5<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	_, err := Import(context.Background(), src, "linux/amd64", out)
	want := fmt.Sprintf("import %s: index.json is 5242880 bytes, more than the 4194304-byte limit", src)
	if fmt.Sprint(err) != want {
		t.Errorf("Import error = %v\nwant %s", err, want)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("out was written: %v", err)
	}
}
