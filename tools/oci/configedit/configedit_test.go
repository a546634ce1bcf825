package configedit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/oci/rawconfig"
)

// writeImage writes a one-layer OCI image with a user and env to edit.
func writeImage(t *testing.T) (string, v1.Image) {
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
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config = v1.Config{User: "app", Env: []string{"A=1"}, Entrypoint: []string{"/x"}}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	img = mutate.Annotations(img, map[string]string{"k": "v"}).(v1.Image)
	dir := filepath.Join(t.TempDir(), "in")
	if err := ocilayout.Write(dir, img); err != nil {
		t.Fatal(err)
	}
	return dir, img
}

func TestEdit(t *testing.T) {
	in, orig := writeImage(t)
	out := filepath.Join(t.TempDir(), "out")
	digestFile := out + ".json.sha256"
	d, err := Edit(Spec{
		Image: in, User: "1000:1000", Out: out, DigestOut: digestFile,
		Healthcheck: &Healthcheck{Test: []string{"CMD", "/x", "healthcheck"}, Interval: "30s", Timeout: "3s", StartPeriod: "5s", Retries: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := ocilayout.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.ConfigFile()
	want := v1.Config{
		User: "1000:1000", Env: []string{"A=1"}, Entrypoint: []string{"/x"},
		Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/x", "healthcheck"}, Interval: 30 * time.Second, Timeout: 3 * time.Second, StartPeriod: 5 * time.Second, Retries: 3},
	}
	if diff := cmp.Diff(want, cfg.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	// Layers and manifest annotations are kept.
	m, _ := img.Manifest()
	om, _ := orig.Manifest()
	if diff := cmp.Diff(om.Layers, m.Layers); diff != "" {
		t.Errorf("layers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(om.Annotations, m.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	b, _ := os.ReadFile(digestFile)
	if string(b) != d.String()+"\n" {
		t.Errorf("digest file %q, want %q", b, d.String()+"\n")
	}
	raw, _ := img.RawConfigFile()
	if !strings.Contains(string(raw), `"Healthcheck":{"Test":["CMD","/x","healthcheck"],"Interval":30000000000,"Timeout":3000000000,"StartPeriod":5000000000,"Retries":3}`) {
		t.Errorf("config JSON lacks the Docker-style Healthcheck: %s", raw)
	}
}

func TestEditErrors(t *testing.T) {
	in, _ := writeImage(t)
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"no image", Spec{Out: "x"}, `"image" and "out" are required`},
		{"missing layout", Spec{Image: "/nonexistent", Out: "x"}, `"image": reading OCI layout /nonexistent`},
		{"user name", Spec{Image: in, User: "app"}, `"user": "app" is not UID:GID`},
		{"user not numeric", Spec{Image: in, User: "1000:staff"}, `"user": "1000:staff" is not UID:GID with integers`},
		{"user negative", Spec{Image: in, User: "-1:0"}, `is not UID:GID with integers`},
		{"healthcheck without test", Spec{Image: in, Healthcheck: &Healthcheck{}}, `"healthcheck": "test" is required`},
		{"healthcheck bad kind", Spec{Image: in, Healthcheck: &Healthcheck{Test: []string{"RUN", "x"}}}, `must start with "CMD", "CMD-SHELL" or "NONE"`},
		{"healthcheck bad duration", Spec{Image: in, Healthcheck: &Healthcheck{Test: []string{"NONE"}, Interval: "often"}}, `"healthcheck": "interval": "often" is not a duration`},
		{"healthcheck negative retries", Spec{Image: in, Healthcheck: &Healthcheck{Test: []string{"NONE"}, Retries: -1}}, `"retries" must not be negative`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.spec.Out == "" {
				tc.spec.Out = filepath.Join(dir, "out")
			}
			tc.spec.DigestOut = filepath.Join(dir, "digest")
			_, err := Edit(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Edit error = %v\nwant it to contain %q", err, tc.want)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
				t.Errorf("failed Edit left files behind: %v", left)
			}
		})
	}
}

// TestEditKeepsEmptyLists: an image whose config holds "Entrypoint": [] and
// "history": [] (rules_oci's oci_image with entrypoint = [] and no layers)
// keeps them through an edit.
func TestEditKeepsEmptyLists(t *testing.T) {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	cfg, _ := img.ConfigFile()
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	img, err := rawconfig.Set(img, cfg, rawconfig.Empty{Entrypoint: true, History: true})
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "in")
	if err := ocilayout.Write(in, img); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Edit(Spec{Image: in, User: "1000:1000", Out: out}); err != nil {
		t.Fatal(err)
	}
	edited, err := ocilayout.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := edited.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	got, err := rawconfig.Of(raw)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rawconfig.Empty{Entrypoint: true, History: true}, got); diff != "" {
		t.Errorf("empty lists after the edit (-want +got):\n%s\nconfig: %s", diff, raw)
	}
	if !strings.Contains(string(raw), `"User":"1000:1000"`) {
		t.Errorf("config %s lacks the edited user", raw)
	}
}
