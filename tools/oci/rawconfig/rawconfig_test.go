package rawconfig

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestMarshal(t *testing.T) {
	base := &v1.ConfigFile{Created: v1.Time{Time: time.Unix(0, 0).UTC()}, OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{}}}
	withEnv := base.DeepCopy()
	withEnv.Config.Env = []string{"A=1"}
	withEntry := base.DeepCopy()
	withEntry.Config.Entrypoint = []string{"/bin/x"}
	for _, tc := range []struct {
		name string
		cfg  *v1.ConfigFile
		e    Empty
		want string
	}{
		{"nothing empty", base, Empty{}, `{"architecture":"amd64","created":"1970-01-01T00:00:00Z","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}`},
		{"all empty", base, Empty{Entrypoint: true, Cmd: true, History: true}, `{"architecture":"amd64","created":"1970-01-01T00:00:00Z","history":[],"os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Cmd":[],"Entrypoint":[]}}`},
		{"entrypoint beside env", withEnv, Empty{Entrypoint: true}, `{"architecture":"amd64","created":"1970-01-01T00:00:00Z","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Entrypoint":[],"Env":["A=1"]}}`},
		{"a list that is not empty stays", withEntry, Empty{Entrypoint: true}, `{"architecture":"amd64","created":"1970-01-01T00:00:00Z","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Entrypoint":["/bin/x"]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(tc.cfg, tc.e)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("Marshal (-want +got):\n%s", diff)
			}
			e, err := Of(got)
			if err != nil {
				t.Fatal(err)
			}
			want := Empty{Entrypoint: tc.e.Entrypoint && len(tc.cfg.Config.Entrypoint) == 0, Cmd: tc.e.Cmd, History: tc.e.History}
			if diff := cmp.Diff(want, e); diff != "" {
				t.Errorf("Of (-want +got):\n%s", diff)
			}
		})
	}
}

// With nothing empty, Marshal gives go-containerregistry's own bytes, so
// images that need no [] keep their digests.
func TestMarshalMatchesGGCR(t *testing.T) {
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Config: v1.Config{Env: []string{"A=1"}, Labels: map[string]string{"b": "2"}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	want, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Marshal(cfg, Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("(-ggcr +Marshal):\n%s", diff)
	}
}

func TestSetKeepsManifestAndValidates(t *testing.T) {
	img := mutate.Annotations(empty.Image, map[string]string{"k": "v"}).(v1.Image)
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	out, err := Set(img, cfg, Empty{Entrypoint: true, History: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(out); err != nil {
		t.Fatalf("validate: %v", err)
	}
	raw, err := out.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := Of(raw); !e.Entrypoint || !e.History {
		t.Errorf("config %s lost its empty lists", raw)
	}
	m, err := out.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Annotations["k"] != "v" {
		t.Errorf("annotations %v, want k=v kept", m.Annotations)
	}
	name, err := partial.ConfigName(out)
	if err != nil {
		t.Fatal(err)
	}
	if name != m.Config.Digest {
		t.Errorf("config name %s, manifest says %s", name, m.Config.Digest)
	}
	var rm v1.Manifest
	b, _ := out.RawManifest()
	if err := json.Unmarshal(b, &rm); err != nil || rm.Config.Size != int64(len(raw)) {
		t.Errorf("raw manifest config size %d, config is %d bytes (%v)", rm.Config.Size, len(raw), err)
	}
}

func TestOfBadJSON(t *testing.T) {
	if _, err := Of([]byte("{")); err == nil {
		t.Error("Of accepted a truncated config")
	}
}
