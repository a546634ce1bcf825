package index

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/cat-server/cat-server/tools/oci/ocilayout"
)

func writeImage(t *testing.T, arch, variant string) string {
	t.Helper()
	l, err := random.Layer(64, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	if img, err = mutate.Append(img, mutate.Addendum{Layer: l}); err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.ConfigFile()
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Variant = "linux", arch, variant
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), arch)
	if err := ocilayout.Write(dir, img); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBuild(t *testing.T) {
	amd, arm := writeImage(t, "amd64", ""), writeImage(t, "arm64", "v8")
	ann := filepath.Join(t.TempDir(), "ann.txt")
	if err := os.WriteFile(ann, []byte("org.opencontainers.image.version=1=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "index")
	d, err := Build(Spec{Images: []string{amd, arm}, Annotations: ann, Out: out, DigestOut: out + ".json.sha256"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ocilayout.ReadArtifact(out)
	if err != nil {
		t.Fatal(err)
	}
	idx, ok := a.(v1.ImageIndex)
	if !ok {
		t.Fatalf("layout holds a %T, want an index", a)
	}
	if got, _ := idx.Digest(); got != d {
		t.Errorf("layout digest %s, Build returned %s", got, d)
	}
	if err := validate.Index(idx); err != nil {
		t.Errorf("validate.Index: %v", err)
	}
	m, _ := idx.IndexManifest()
	var plats []string
	for _, desc := range m.Manifests {
		plats = append(plats, desc.Platform.String())
	}
	if diff := cmp.Diff([]string{"linux/amd64", "linux/arm64/v8"}, plats); diff != "" {
		t.Errorf("platforms (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"org.opencontainers.image.version": "1=2"}, m.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	if m.MediaType != types.OCIImageIndex {
		t.Errorf("media type %s, want %s", m.MediaType, types.OCIImageIndex)
	}
	b, _ := os.ReadFile(out + ".json.sha256")
	if string(b) != d.String()+"\n" {
		t.Errorf("digest file %q", b)
	}
	// Reproducible: the same inputs give the same digest.
	d2, err := Build(Spec{Images: []string{amd, arm}, Annotations: ann, Out: filepath.Join(t.TempDir(), "again")})
	if err != nil || d2 != d {
		t.Errorf("second build: %s, %v; want %s", d2, err, d)
	}
}

func TestErrors(t *testing.T) {
	amd := writeImage(t, "amd64", "")
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"no images", Spec{}, `"images" is empty`},
		{"same platform twice", Spec{Images: []string{amd, amd}}, `is for linux/amd64, as`},
		{"missing layout", Spec{Images: []string{"/nonexistent"}}, `"images"[0]: reading OCI layout /nonexistent`},
		{"missing annotations", Spec{Images: []string{amd}, Annotations: "/nonexistent/a"}, `"annotations": open /nonexistent/a`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.spec.Out = filepath.Join(dir, "out")
			_, err := Build(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build error = %v, want it to contain %q", err, tc.want)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
