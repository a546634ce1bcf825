package build

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/cat-server/cat-server/tools/oci/layer"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
)

var baseCreated = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// writeBase writes a one-layer base image with a config to play against.
func writeBase(t *testing.T, mt types.MediaType) string {
	t.Helper()
	img, err := random.Image(100, 1)
	if err != nil {
		t.Fatal(err)
	}
	// random.Image uses Docker media types; convert for OCI.
	if mt == types.OCIManifestSchema1 {
		l, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		img = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
		if img, err = mutate.Append(img, mutate.Addendum{Layer: l[0], MediaType: types.OCILayer}); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "arm64"
	cfg.Created = v1.Time{Time: baseCreated}
	cfg.Config = v1.Config{
		Env:          []string{"PATH=/usr/bin:/bin", "HOME=/home/base"},
		Cmd:          []string{"/bin/sh"},
		Labels:       map[string]string{"base": "yes", "override": "base"},
		ExposedPorts: map[string]struct{}{"22/tcp": {}},
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "base")
	if err := ocilayout.Write(dir, img); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeLayer writes a small layer with the given compression.
func writeLayer(t *testing.T, name, content string, c layer.Compression) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	e := []layer.Entry{{Type: layer.File, Dest: "/app/" + name, Mode: 0o755, Data: []byte(content)}}
	if err := layer.WriteFile(out, e, c); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeZstdLayer writes a zstd-compressed tar layer.
func writeZstdLayer(t *testing.T) string {
	t.Helper()
	plain := writeLayer(t, "z.tar", "z", layer.None)
	l, err := tarball.LayerFromFile(plain, tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "z.tar.zst")
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// file writes content to a new temporary file and returns its path, as the
// oci_image macro writes inline values.
func file(t *testing.T, content string) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "spec")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

func buildSpec(t *testing.T, spec Spec) (v1.Image, v1.Hash) {
	t.Helper()
	if spec.Out == "" {
		spec.Out = filepath.Join(t.TempDir(), "image")
	}
	d, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	img, err := ocilayout.Read(spec.Out)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := img.Digest(); got != d {
		t.Errorf("layout digest %s, Build returned %s", got, d)
	}
	return img, d
}

func config(t *testing.T, img v1.Image) *v1.ConfigFile {
	t.Helper()
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestConfigNoBase(t *testing.T) {
	gz := writeLayer(t, "a.tar.gz", "a", layer.Gzip)
	plain := writeLayer(t, "b.tar", "b", layer.None)
	img, _ := buildSpec(t, Spec{
		Tars:         []string{gz, plain},
		TarLabels:    []string{"//app:a", "//app:b"},
		Entrypoint:   file(t, "/app/cat-server\nline%5Cnbreak"),
		Cmd:          file(t, "serve\n\n"),
		Env:          file(t, "B=2\nA=1=one\nP=x${UNSET}y$\nQ=$B$A\n"),
		User:         "$(UID):1000",
		Workdir:      "/app",
		ExposedPorts: file(t, "8080,9090/udp"),
		Volumes:      file(t, "/data"),
		Labels:       file(t, "org.opencontainers.image.source=https://example.com\n"),
		Annotations:  file(t, "org.opencontainers.image.version=1.2.3"),
		OS:           "linux",
		Architecture: "arm64",
		Variant:      "v8",
	})
	cfg := config(t, img)
	epoch := v1.Time{Time: time.Unix(0, 0).UTC()}
	want := v1.ConfigFile{
		Architecture: "arm64",
		OS:           "linux",
		Variant:      "v8",
		Created:      epoch,
		History: []v1.History{
			{Created: epoch, CreatedBy: "bazel build //app:a"},
			{Created: epoch, CreatedBy: "bazel build //app:b"},
		},
		RootFS: v1.RootFS{Type: "layers", DiffIDs: cfg.RootFS.DiffIDs},
		Config: v1.Config{
			Entrypoint:   []string{"/app/cat-server", "line\nbreak"},
			Cmd:          []string{"serve"},
			Env:          []string{"B=2", "A=1=one", "P=xy$", "Q=21=one"},
			User:         "$(UID):1000",
			WorkingDir:   "/app",
			ExposedPorts: map[string]struct{}{"8080": {}, "9090/udp": {}},
			Volumes:      map[string]struct{}{"/data": {}},
			Labels:       map[string]string{"org.opencontainers.image.source": "https://example.com"},
		},
	}
	if diff := cmp.Diff(&want, cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if len(cfg.RootFS.DiffIDs) != 2 {
		t.Errorf("%d diff ids, want 2", len(cfg.RootFS.DiffIDs))
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"org.opencontainers.image.version": "1.2.3"}, m.Annotations); diff != "" {
		t.Errorf("manifest annotations (-want +got):\n%s", diff)
	}
	wantTypes := []types.MediaType{types.OCIManifestSchema1, types.OCIConfigJSON, types.OCILayer, types.OCIUncompressedLayer}
	gotTypes := []types.MediaType{m.MediaType, m.Config.MediaType, m.Layers[0].MediaType, m.Layers[1].MediaType}
	if diff := cmp.Diff(wantTypes, gotTypes); diff != "" {
		t.Errorf("media types (-want +got):\n%s", diff)
	}
	// The gzip layer is used byte for byte.
	gzData, _ := os.ReadFile(gz)
	if m.Layers[0].Size != int64(len(gzData)) {
		t.Errorf("gzip layer size %d, want the input's %d (used as-is)", m.Layers[0].Size, len(gzData))
	}
}

func TestConfigWithBase(t *testing.T) {
	ociBase := writeBase(t, types.OCIManifestSchema1)
	dockerBase := writeBase(t, types.DockerManifestSchema2)
	gz := writeLayer(t, "a.tar.gz", "a", layer.Gzip)
	for _, tc := range []struct {
		name  string
		spec  Spec
		check func(t *testing.T, cfg *v1.ConfigFile, m *v1.Manifest)
	}{
		{
			name: "entrypoint clears base cmd",
			spec: Spec{Base: ociBase, Entrypoint: file(t, "/app/x\n")},
			check: func(t *testing.T, cfg *v1.ConfigFile, _ *v1.Manifest) {
				if diff := cmp.Diff([]string{"/app/x"}, cfg.Config.Entrypoint); diff != "" {
					t.Errorf("entrypoint (-want +got):\n%s", diff)
				}
				if cfg.Config.Cmd != nil {
					t.Errorf("cmd = %q, want cleared", cfg.Config.Cmd)
				}
			},
		},
		{
			name: "cmd alone keeps the rest",
			spec: Spec{Base: ociBase, Cmd: file(t, "-v")},
			check: func(t *testing.T, cfg *v1.ConfigFile, _ *v1.Manifest) {
				if diff := cmp.Diff([]string{"-v"}, cfg.Config.Cmd); diff != "" {
					t.Errorf("cmd (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "empty entrypoint sets it empty and clears cmd",
			spec: Spec{Base: ociBase, Entrypoint: file(t, "")},
			check: func(t *testing.T, cfg *v1.ConfigFile, _ *v1.Manifest) {
				if len(cfg.Config.Entrypoint) != 0 || cfg.Config.Cmd != nil {
					t.Errorf("entrypoint %q, cmd %q; want both empty", cfg.Config.Entrypoint, cfg.Config.Cmd)
				}
			},
		},
		{
			name: "empty cmd sets it empty",
			spec: Spec{Base: ociBase, Cmd: file(t, "")},
			check: func(t *testing.T, cfg *v1.ConfigFile, _ *v1.Manifest) {
				if len(cfg.Config.Cmd) != 0 {
					t.Errorf("cmd %q, want empty", cfg.Config.Cmd)
				}
			},
		},
		{
			name: "entrypoint and cmd: cmd applies after entrypoint",
			spec: Spec{Base: ociBase, Entrypoint: file(t, "/e"), Cmd: file(t, "c")},
			check: func(t *testing.T, cfg *v1.ConfigFile, _ *v1.Manifest) {
				if diff := cmp.Diff([]string{"c"}, cfg.Config.Cmd); diff != "" {
					t.Errorf("cmd (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "null entrypoint and cmd keep the base's",
			spec: Spec{Base: ociBase},
			check: func(t *testing.T, cfg *v1.ConfigFile, _ *v1.Manifest) {
				if diff := cmp.Diff([]string{"/bin/sh"}, cfg.Config.Cmd); diff != "" {
					t.Errorf("cmd (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "env expands against base env",
			spec: Spec{Base: ociBase, Env: file(t, "PATH=/app/bin:$PATH\nAPP_HOME=${HOME}/app\nLIT=$ and ${ and $-\nHOME=/home/app\nAFTER=$HOME:$APP_HOME\n")},
			check: func(t *testing.T, cfg *v1.ConfigFile, _ *v1.Manifest) {
				want := []string{"PATH=/app/bin:/usr/bin:/bin", "HOME=/home/app", "APP_HOME=/home/base/app", "LIT=$ and ${ and $-", "AFTER=/home/app:/home/base/app"}
				if diff := cmp.Diff(want, cfg.Config.Env); diff != "" {
					t.Errorf("env (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "labels merge, ports add up",
			spec: Spec{Base: ociBase, Labels: file(t, "override=mine\nnew=1=2\n"), ExposedPorts: file(t, "8080/TCP,9090\n"), Volumes: file(t, "/a,/b")},
			check: func(t *testing.T, cfg *v1.ConfigFile, _ *v1.Manifest) {
				if diff := cmp.Diff(map[string]string{"base": "yes", "override": "mine", "new": "1=2"}, cfg.Config.Labels); diff != "" {
					t.Errorf("labels (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(map[string]struct{}{"22/tcp": {}, "8080/TCP": {}, "9090": {}}, cfg.Config.ExposedPorts); diff != "" {
					t.Errorf("ports (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(map[string]struct{}{"/a": {}, "/b": {}}, cfg.Config.Volumes); diff != "" {
					t.Errorf("volumes (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "base created and platform kept",
			spec: Spec{Base: ociBase, Tars: []string{gz}, TarLabels: []string{"//x:y"}},
			check: func(t *testing.T, cfg *v1.ConfigFile, m *v1.Manifest) {
				if !cfg.Created.Time.Equal(baseCreated) || cfg.OS != "linux" || cfg.Architecture != "arm64" {
					t.Errorf("created %v, platform %s/%s; want %v, linux/arm64", cfg.Created, cfg.OS, cfg.Architecture, baseCreated)
				}
				last := cfg.History[len(cfg.History)-1]
				if last.CreatedBy != "bazel build //x:y" || !last.Created.Time.Equal(baseCreated) {
					t.Errorf("last history = %+v", last)
				}
				if len(m.Layers) != 2 || m.Layers[1].MediaType != types.OCILayer {
					t.Errorf("layers = %+v, want base layer + one OCI layer", m.Layers)
				}
			},
		},
		{
			name: "created overrides",
			spec: Spec{Base: ociBase, Created: file(t, "2025-01-02T03:04:05+01:00\n")},
			check: func(t *testing.T, cfg *v1.ConfigFile, _ *v1.Manifest) {
				if want := time.Date(2025, 1, 2, 2, 4, 5, 0, time.UTC); !cfg.Created.Time.Equal(want) {
					t.Errorf("created = %v, want %v", cfg.Created, want)
				}
			},
		},
		{
			name: "zstd layer on OCI base",
			spec: Spec{Base: ociBase, Tars: []string{writeZstdLayer(t)}, TarLabels: []string{"//z"}},
			check: func(t *testing.T, _ *v1.ConfigFile, m *v1.Manifest) {
				if got := m.Layers[len(m.Layers)-1].MediaType; got != types.OCILayerZStd {
					t.Errorf("zstd layer media type = %s, want %s", got, types.OCILayerZStd)
				}
			},
		},
		{
			name: "docker base gives docker layers",
			spec: Spec{Base: dockerBase, Tars: []string{gz, writeLayer(t, "b.tar", "b", layer.None)}, TarLabels: []string{"//a", "//b"}},
			check: func(t *testing.T, _ *v1.ConfigFile, m *v1.Manifest) {
				got := []types.MediaType{m.MediaType, m.Config.MediaType}
				for _, l := range m.Layers {
					got = append(got, l.MediaType)
				}
				want := []types.MediaType{types.DockerManifestSchema2, types.DockerConfigJSON, types.DockerLayer, types.DockerLayer, types.DockerUncompressedLayer}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("media types (-want +got):\n%s", diff)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, _ := buildSpec(t, tc.spec)
			m, err := img.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, config(t, img), m)
		})
	}
}

func TestLayerOrderAndReproducibility(t *testing.T) {
	a := writeLayer(t, "a.tar.gz", "a", layer.Gzip)
	b := writeLayer(t, "b.tar", "b", layer.None)
	spec := Spec{Tars: []string{b, a}, TarLabels: []string{"//:b", "//:a"}, OS: "linux", Architecture: "amd64", Entrypoint: file(t, "/x")}
	dir := t.TempDir()
	spec.Out = filepath.Join(dir, "one")
	spec.DigestOut = filepath.Join(dir, "one.digest")
	img1, d1 := buildSpec(t, spec)
	spec.Out = filepath.Join(dir, "two")
	_, d2 := buildSpec(t, spec)
	if d1 != d2 {
		t.Errorf("two builds give %s and %s, want the same digest", d1, d2)
	}
	digestFile, err := os.ReadFile(filepath.Join(dir, "one.digest"))
	if err != nil {
		t.Fatal(err)
	}
	if string(digestFile) != d1.String()+"\n" {
		t.Errorf("digest_out = %q, want %q and a newline", digestFile, d1)
	}
	var index v1.IndexManifest
	raw, err := os.ReadFile(filepath.Join(dir, "one", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Manifests) != 1 || index.Manifests[0].Digest != d1 {
		t.Errorf("index.json manifests = %+v, want exactly %s", index.Manifests, d1)
	}
	// Layers stay in the given order, never sorted.
	cfg := config(t, img1)
	if got := []string{cfg.History[0].CreatedBy, cfg.History[1].CreatedBy}; !cmp.Equal(got, []string{"bazel build //:b", "bazel build //:a"}) {
		t.Errorf("history = %q, want b then a", got)
	}
}

func TestErrors(t *testing.T) {
	base := writeBase(t, types.OCIManifestSchema1)
	dockerBase := writeBase(t, types.DockerManifestSchema2)
	gz := writeLayer(t, "a.tar.gz", "a", layer.Gzip)
	notTar := filepath.Join(t.TempDir(), "x.tar")
	if err := os.WriteFile(notTar, []byte("hello, this is not a tar file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	xz := filepath.Join(t.TempDir(), "x.tar.xz")
	if err := os.WriteFile(xz, []byte{0xfd, '7', 'z', 'X', 'Z', 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	zst := filepath.Join(t.TempDir(), "x.tar.zst")
	if err := os.WriteFile(zst, []byte{0x28, 0xb5, 0x2f, 0xfd, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"no os/arch without base", Spec{}, `"os" and "architecture" are required when there is no base image`},
		{"no arch without base", Spec{OS: "linux"}, `"architecture" is required when there is no base image`},
		{"os with base", Spec{Base: base, OS: "linux"}, `"os" ("linux") cannot be set when there is a base image`},
		{"architecture with base", Spec{Base: base, Architecture: "amd64"}, `"architecture" ("amd64") cannot be set when there is a base image`},
		{"labels mismatch", Spec{Base: base, Tars: []string{gz}}, `"tar_labels" has 0 entries but "tars" has 1`},
		{"missing tar", Spec{Base: base, Tars: []string{"/nonexistent.tar"}, TarLabels: []string{"//x"}}, `"tars"[0]: open /nonexistent.tar`},
		{"not a tar", Spec{Base: base, Tars: []string{notTar}, TarLabels: []string{"//x"}}, "is neither a tar nor a gzip/zstd-compressed tar"},
		{"xz", Spec{Base: base, Tars: []string{xz}, TarLabels: []string{"//x"}}, "is bzip2- or xz-compressed"},
		{"zstd on docker base", Spec{Base: dockerBase, Tars: []string{zst}, TarLabels: []string{"//x"}}, "Docker media types, which have no zstd layer type"},
		{"bad created", Spec{Base: base, Created: file(t, "yesterday")}, `holds "yesterday", not an RFC 3339 time`},
		{"missing created file", Spec{Base: base, Created: "/nonexistent/created"}, `"created": open /nonexistent/created`},
		{"env line without =", Spec{Base: base, Env: file(t, "A=1\nB\n")}, `"env": `},
		{"labels empty key", Spec{Base: base, Labels: file(t, "=x")}, `"labels": `},
		{"annotations missing file", Spec{Base: base, Annotations: "/nonexistent/ann"}, `"annotations": open /nonexistent/ann`},
		{"entrypoint missing file", Spec{Base: base, Entrypoint: "/nonexistent/ep"}, `"entrypoint": open /nonexistent/ep`},
		{"missing base", Spec{Base: "/nonexistent"}, `"base": reading OCI layout /nonexistent`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.spec.Out = filepath.Join(dir, "out")
			tc.spec.DigestOut = filepath.Join(dir, "digest")
			_, err := Build(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build error = %v\nwant it to contain %q", err, tc.want)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
				t.Errorf("failed Build left files behind: %v", left)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "a", "B_1": "b"}
	for in, want := range map[string]string{
		"$A":      "a",
		"${A}x":   "ax",
		"$B_1-$A": "b-a",
		"$Ax":     "",
		"${Ax}":   "",
		"$":       "$",
		"a$ b":    "a$ b",
		"${A":     "a",
		"$A}":     "a",
		"$1":      "",
		"${}":     "${}",
		"$$A":     "$a",
		"no vars": "no vars",
	} {
		if got := Expand(in, vars); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}

// writeDescribedLayer writes a layer through layer.Build, which also writes
// its descriptor; it returns both paths.
func writeDescribedLayer(t *testing.T, name, content string, c layer.Compression) (tarPath, descPath string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	tarPath = filepath.Join(dir, name)
	descPath = tarPath + ".descriptor.json"
	spec := layer.Spec{Out: tarPath, DescriptorOut: descPath, Compression: c, Entries: []layer.SpecEntry{{Type: layer.File, Src: src, Dest: "/app/" + name}}}
	if err := layer.Build(spec); err != nil {
		t.Fatal(err)
	}
	return tarPath, descPath
}

// TestDescribedLayers checks that an image built from layers with
// descriptors (not hashed again) is the image built by hashing them.
func TestDescribedLayers(t *testing.T) {
	for _, mt := range []types.MediaType{types.OCIManifestSchema1, types.DockerManifestSchema2} {
		t.Run(string(mt), func(t *testing.T) {
			base := writeBase(t, mt)
			gz, gzDesc := writeDescribedLayer(t, "a.tar.gz", strings.Repeat("cat-server ", 100000), layer.Gzip)
			plain, plainDesc := writeDescribedLayer(t, "b.tar", "b", layer.None)
			spec := Spec{Base: base, Tars: []string{gz, plain}, TarLabels: []string{"//:a", "//:b"}}
			_, hashed := buildSpec(t, spec)
			spec.TarDescriptors = []string{gzDesc, plainDesc}
			img, described := buildSpec(t, spec)
			if hashed != described {
				t.Errorf("digest with descriptors %s, without %s", described, hashed)
			}
			// validate.Image reads every layer as gzip, so the plain layer
			// is checked by hand: its blob is the tar, digest = diff ID.
			if err := validate.Image(img, validate.Fast); err != nil {
				t.Errorf("validation of the image built with descriptors: %v", err)
			}
			layers, err := img.Layers()
			if err != nil {
				t.Fatal(err)
			}
			if err := validate.Layer(layers[len(layers)-2]); err != nil {
				t.Errorf("full validation of the gzip layer: %v", err)
			}
			checkPlainLayer(t, layers[len(layers)-1], plain)
		})
	}
}

func TestDescribedLayerErrors(t *testing.T) {
	base := writeBase(t, types.OCIManifestSchema1)
	gz, gzDesc := writeDescribedLayer(t, "a.tar.gz", "a", layer.Gzip)
	other, _ := writeDescribedLayer(t, "other.tar.gz", "something longer than a", layer.Gzip)
	plain, _ := writeDescribedLayer(t, "b.tar", "b", layer.None)
	sameSize := filepath.Join(t.TempDir(), "same.tar")
	data, err := os.ReadFile(gz)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sameSize, make([]byte, len(data)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"count mismatch", Spec{Base: base, Tars: []string{gz}, TarLabels: []string{"//x"}, TarDescriptors: []string{gzDesc, gzDesc}}, `"tar_descriptors" has 2 entries but "tars" has 1`},
		{"descriptor of another file", Spec{Base: base, Tars: []string{other}, TarLabels: []string{"//x"}, TarDescriptors: []string{gzDesc}}, "not the file the descriptor was written for"},
		{"gzip descriptor on a plain file", Spec{Base: base, Tars: []string{sameSize}, TarLabels: []string{"//x"}, TarDescriptors: []string{gzDesc}}, `says compression "gzip", the file says otherwise`},
		{"missing descriptor", Spec{Base: base, Tars: []string{plain}, TarLabels: []string{"//x"}, TarDescriptors: []string{"/nonexistent/d.json"}}, `"tars"[0]: open /nonexistent/d.json`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.spec.Out = filepath.Join(dir, "out")
			_, err := Build(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build error = %v\nwant it to contain %q", err, tc.want)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
				t.Errorf("failed Build left files behind: %v", left)
			}
		})
	}
}

// checkPlainLayer checks that l is the plain tar at path as it is: its blob
// the tar's bytes, digest and diff ID both the tar's SHA-256.
func checkPlainLayer(t *testing.T, l v1.Layer, path string) {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func() (io.ReadCloser, error){"Compressed": l.Compressed, "Uncompressed": l.Uncompressed} {
		rc, err := read()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s() is not the tar's bytes (%d bytes, want %d)", name, len(got), len(want))
		}
	}
	d, _ := l.Digest()
	diffID, _ := l.DiffID()
	if d != h || diffID != h {
		t.Errorf("digest %s, diff ID %s; want both %s", d, diffID, h)
	}
}

// TestEmptyListsAsUpstream checks the lists rules_oci's oci_image writes as
// an explicit [] (oci/private/image.sh): entrypoint = [] and cmd = [],
// and "history" and "rootfs.diff_ids" of an image without layers.
func TestEmptyListsAsUpstream(t *testing.T) {
	base := writeBase(t, types.OCIManifestSchema1)
	for _, tc := range []struct {
		name string
		spec Spec
		want string // the config's lists, as JSON
	}{
		{"no base, no layers", Spec{OS: "linux", Architecture: "amd64"},
			`{"history":[],"diff_ids":[],"Entrypoint":null,"Cmd":null}`},
		{"entrypoint = [] clears cmd", Spec{OS: "linux", Architecture: "amd64", Entrypoint: file(t, ""), Cmd: file(t, "")},
			`{"history":[],"diff_ids":[],"Entrypoint":[],"Cmd":[]}`},
		{"entrypoint = [] on a base", Spec{Base: base, Entrypoint: file(t, "")},
			`{"history":"base's","diff_ids":"base's","Entrypoint":[],"Cmd":null}`},
		{"cmd = [] on a base", Spec{Base: base, Cmd: file(t, "")},
			`{"history":"base's","diff_ids":"base's","Entrypoint":null,"Cmd":[]}`},
		{"nothing empty", Spec{Base: base, Entrypoint: file(t, "/bin/x")},
			`{"history":"base's","diff_ids":"base's","Entrypoint":["/bin/x"],"Cmd":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Image(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate.Image(img, validate.Fast); err != nil {
				t.Fatalf("validate: %v", err)
			}
			raw, err := img.RawConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			var c struct {
				History json.RawMessage `json:"history"`
				RootFS  struct {
					DiffIDs json.RawMessage `json:"diff_ids"`
				} `json:"rootfs"`
				Config struct {
					Entrypoint json.RawMessage
					Cmd        json.RawMessage
				} `json:"config"`
			}
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatal(err)
			}
			nonEmpty := func(r json.RawMessage) json.RawMessage {
				if len(r) > 2 && tc.spec.Base != "" {
					return json.RawMessage(`"base's"`)
				}
				return r
			}
			or := func(r json.RawMessage) json.RawMessage {
				if r == nil {
					return json.RawMessage("null")
				}
				return r
			}
			got := fmt.Sprintf(`{"history":%s,"diff_ids":%s,"Entrypoint":%s,"Cmd":%s}`,
				or(nonEmpty(c.History)), or(nonEmpty(c.RootFS.DiffIDs)), or(c.Config.Entrypoint), or(c.Config.Cmd))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config lists (-want +got):\n%s\nconfig: %s", diff, raw)
			}
		})
	}
}
