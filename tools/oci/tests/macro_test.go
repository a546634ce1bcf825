// Package tests reads back images that the oci_image, oci_image_index and oci_load
// macros built (see BUILD.bazel): each accepted form of their attributes, as rules_oci
// 2.3.2 gives it meaning.
package tests

import (
	"archive/tar"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/cat-server/cat-server/tools/oci/ocilayout"
)

func config(t *testing.T, dir string) (*v1.ConfigFile, *v1.Manifest) {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("needs the images built by Bazel: run `tools/bazel test //tools/oci/tests` (%v)", err)
	}
	img, err := ocilayout.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	return cfg, m
}

func TestInline(t *testing.T) {
	cfg, m := config(t, "inline")
	want := v1.Config{
		Entrypoint:   []string{"/bin/app"},
		Cmd:          []string{"serve", "two\nlines"},
		Env:          []string{"A=1", "B=1-1", "A2=1-1/x"},
		ExposedPorts: map[string]struct{}{"8080": {}, "53/udp": {}},
		Volumes:      map[string]struct{}{"/data": {}},
		Labels:       map[string]string{"org.example.l": "x"},
	}
	if diff := cmp.Diff(want, cfg.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if got := cfg.Platform().String(); got != "linux/arm64/v8" {
		t.Errorf("platform %s, want linux/arm64/v8", got)
	}
	if diff := cmp.Diff(map[string]string{"org.example.a": "1=2"}, m.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	if got := cfg.History[0].CreatedBy; got != "bazel build //tools/oci/tests:layer" {
		t.Errorf("history %q", got)
	}
}

func TestFromFiles(t *testing.T) {
	cfg, _ := config(t, "from_files")
	if diff := cmp.Diff([]string{"/bin/other"}, cfg.Config.Entrypoint); diff != "" {
		t.Errorf("entrypoint (-want +got):\n%s", diff)
	}
	if cfg.Config.Cmd != nil {
		t.Errorf("cmd %q, want the base's cleared by the entrypoint", cfg.Config.Cmd)
	}
	if diff := cmp.Diff([]string{"A=1", "B=1-1", "A2=1-1/x", "PATH=/app/bin:", "HOME=/home/app"}, cfg.Config.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if cfg.Config.User != "$(UID):1000" {
		t.Errorf("user %q, want it as written", cfg.Config.User)
	}
	if want := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC); !cfg.Created.Time.Equal(want) {
		t.Errorf("created %v, want %v", cfg.Created, want)
	}
	img, err := ocilayout.Read("from_files")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	b, err := os.ReadFile("from_files.json.sha256")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != d.String()+"\n" {
		t.Errorf(":from_files.digest holds %q, want %q", b, d.String()+"\n")
	}
}

func TestEmptyEntrypoint(t *testing.T) {
	cfg, _ := config(t, "empty_entrypoint")
	if len(cfg.Config.Entrypoint) != 0 || cfg.Config.Cmd != nil {
		t.Errorf("entrypoint %q, cmd %q; want both empty", cfg.Config.Entrypoint, cfg.Config.Cmd)
	}
	// As rules_oci 2.3 writes it (oci/private/image.sh): "Entrypoint": [],
	// and no Cmd at all.
	raw := rawConfig(t, "empty_entrypoint")
	if !strings.Contains(raw, `"Entrypoint":[]`) || strings.Contains(raw, `"Cmd"`) {
		t.Errorf("config %s; want \"Entrypoint\":[] and no Cmd", raw)
	}
}

// TestNoLayers: an image without base or layers has "history": [] and
// "rootfs": {"type": "layers", "diff_ids": []}, as rules_oci 2.3 writes it.
func TestNoLayers(t *testing.T) {
	raw := rawConfig(t, "from_files_amd64")
	for _, want := range []string{`"history":[]`, `"rootfs":{"type":"layers","diff_ids":[]}`} {
		if !strings.Contains(raw, want) {
			t.Errorf("config %s lacks %s", raw, want)
		}
	}
}

func rawConfig(t *testing.T, dir string) string {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("needs Bazel: %v", err)
	}
	img, err := ocilayout.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestIndexAndOCITarball(t *testing.T) {
	if _, err := os.Stat("index"); err != nil {
		t.Skipf("needs Bazel: %v", err)
	}
	a, err := ocilayout.ReadArtifact("index")
	if err != nil {
		t.Fatal(err)
	}
	idx, ok := a.(v1.ImageIndex)
	if !ok {
		t.Fatalf("index holds a %T", a)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var plats []string
	for _, d := range m.Manifests {
		plats = append(plats, d.Platform.String())
	}
	if diff := cmp.Diff([]string{"linux/arm64/v8", "linux/amd64"}, plats); diff != "" {
		t.Errorf("platforms (-want +got):\n%s", diff)
	}
	if m.Annotations["org.example.index"] != "yes" {
		t.Errorf("annotations %v", m.Annotations)
	}
	d, _ := idx.Digest()
	b, _ := os.ReadFile("index.json.sha256")
	if strings.TrimSpace(string(b)) != d.String() {
		t.Errorf(":index.digest %q, want %s", b, d)
	}
	f, err := os.Open("load_index/tarball.tar")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "index.json" {
			raw, _ := io.ReadAll(tr)
			if !strings.Contains(string(raw), `"org.opencontainers.image.ref.name":"example:multi"`) || !strings.Contains(string(raw), d.String()) {
				t.Errorf("tarball index.json = %s", raw)
			}
		}
	}
	if len(names) < 3 || names[0] != "oci-layout" || names[len(names)-1] != "index.json" {
		t.Errorf("tarball entries %v", names)
	}
}
