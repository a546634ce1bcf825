package ocilayout

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// hashOf is the sha256 digest of b.
func hashOf(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// tarOf is an uncompressed tar holding files path -> content.
func tarOf(t testing.TB, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		if err := tw.WriteHeader(&tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[i+1]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipOf(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// handLayout is an OCI layout written by hand, field by field, so that a
// test can make any part of it wrong.
type handLayout struct {
	Layers       [][]byte // layer blobs as stored
	LayerTypes   []types.MediaType
	DiffIDs      []v1.Hash
	ConfigType   types.MediaType
	ManifestType types.MediaType
	User         string
	// Edit changes the manifest before it is written.
	Edit func(m *v1.Manifest)
}

// goodLayout is one gzip layer with an /etc/passwd, OCI media types.
func goodLayout(t testing.TB) handLayout {
	raw := tarOf(t, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
	return handLayout{
		Layers:       [][]byte{gzipOf(t, raw)},
		LayerTypes:   []types.MediaType{types.OCILayer},
		DiffIDs:      []v1.Hash{hashOf(raw)},
		ConfigType:   types.OCIConfigJSON,
		ManifestType: types.OCIManifestSchema1,
		User:         "1000",
	}
}

func writeBlobFile(t testing.TB, dir string, b []byte) v1.Descriptor {
	t.Helper()
	h := hashOf(b)
	p := filepath.Join(dir, "blobs", "sha256", h.Hex)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{Digest: h, Size: int64(len(b))}
}

// write stores the layout in a new directory and returns it with the
// manifest and config descriptors.
func (l handLayout) write(t testing.TB) (dir string, manifest v1.Descriptor, m v1.Manifest) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "layout")
	cfg, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"User": l.User},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": l.DiffIDs},
	})
	if err != nil {
		t.Fatal(err)
	}
	m = v1.Manifest{SchemaVersion: 2, MediaType: l.ManifestType, Config: writeBlobFile(t, dir, cfg)}
	m.Config.MediaType = l.ConfigType
	for i, b := range l.Layers {
		d := writeBlobFile(t, dir, b)
		d.MediaType = l.LayerTypes[i]
		m.Layers = append(m.Layers, d)
	}
	if l.Edit != nil {
		l.Edit(&m)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	manifest = writeBlobFile(t, dir, raw)
	manifest.MediaType = l.ManifestType
	writeIndexJSON(t, dir, manifest)
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, manifest, m
}

func writeIndexJSON(t testing.TB, dir string, descs ...v1.Descriptor) {
	t.Helper()
	idx, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: descs})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644); err != nil {
		t.Fatal(err)
	}
}

func blobFile(dir string, h v1.Hash) string { return filepath.Join(dir, "blobs", "sha256", h.Hex) }

func TestReadVerifiesGoodLayout(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*handLayout)
	}{
		{"oci gzip", func(*handLayout) {}},
		{"docker gzip", func(l *handLayout) {
			l.ManifestType, l.ConfigType, l.LayerTypes = types.DockerManifestSchema2, types.DockerConfigJSON, []types.MediaType{types.DockerLayer}
		}},
		{"oci uncompressed", func(l *handLayout) {
			l.Layers[0] = tarOf(t, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
			l.LayerTypes = []types.MediaType{types.OCIUncompressedLayer}
		}},
		{"no layers", func(l *handLayout) { l.Layers, l.LayerTypes, l.DiffIDs = nil, nil, nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := goodLayout(t)
			tc.edit(&l)
			dir, desc, _ := l.write(t)
			img, err := Read(dir)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if d, _ := img.Digest(); d != desc.Digest {
				t.Errorf("digest %s, want %s", d, desc.Digest)
			}
			if cfg, err := img.ConfigFile(); err != nil || cfg.Config.User != "1000" {
				t.Errorf("config user = %v, %v; want 1000", cfg, err)
			}
		})
	}
}

// TestReadRefusesHostileLayouts builds each tampered layout of issue 18 and
// checks the exact error: it names the layout, the blob and what differed.
func TestReadRefusesHostileLayouts(t *testing.T) {
	type result struct{ dir, want string }
	for _, tc := range []struct {
		name string
		make func(t *testing.T) result
	}{
		{"gzip layer with flipped bytes, same size", func(t *testing.T) result {
			dir, _, m := goodLayout(t).write(t)
			p := blobFile(dir, m.Layers[0].Digest)
			b, _ := os.ReadFile(p)
			for i := 12; i < 16; i++ {
				b[i] ^= 0xff
			}
			os.WriteFile(p, b, 0o644)
			return result{dir, fmt.Sprintf("reading OCI layout %s: layer 1 of 1: blob %s has digest %s: its content does not match its name", dir, m.Layers[0].Digest, hashOf(b))}
		}},
		{"layer blob deleted", func(t *testing.T) result {
			dir, _, m := goodLayout(t).write(t)
			p := blobFile(dir, m.Layers[0].Digest)
			os.Remove(p)
			return result{dir, fmt.Sprintf("reading OCI layout %s: layer 1 of 1: blob %s: open %s: no such file or directory", dir, m.Layers[0].Digest, p)}
		}},
		{"uncompressed layer replaced by one of the same size adding a root user", func(t *testing.T) result {
			l := goodLayout(t)
			l.Layers[0] = tarOf(t, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
			l.LayerTypes[0] = types.OCIUncompressedLayer
			dir, _, m := l.write(t)
			evil := tarOf(t, "etc/passwd", "evil:x:0:0::/:/bin/sh\nroot:x:0:0::/:\n")
			if len(evil) != len(l.Layers[0]) {
				t.Fatalf("evil layer is %d bytes, want %d", len(evil), len(l.Layers[0]))
			}
			os.WriteFile(blobFile(dir, m.Layers[0].Digest), evil, 0o644)
			return result{dir, fmt.Sprintf("reading OCI layout %s: layer 1 of 1: blob %s has digest %s: its content does not match its name", dir, m.Layers[0].Digest, hashOf(evil))}
		}},
		{"layer whose diff_id does not match (manifest and index rewritten)", func(t *testing.T) result {
			l := goodLayout(t)
			raw := tarOf(t, "etc/passwd", "evil:x:0:0::/:/bin/sh\n")
			l.Layers[0] = gzipOf(t, raw)
			dir, _, m := l.write(t)
			return result{dir, fmt.Sprintf("reading OCI layout %s: layer 1 of 1: blob %s uncompressed has digest %s, the config's diff_id says %s", dir, m.Layers[0].Digest, hashOf(raw), l.DiffIDs[0])}
		}},
		{"config tampered (User 0), same size", func(t *testing.T) result {
			dir, _, m := goodLayout(t).write(t)
			p := blobFile(dir, m.Config.Digest)
			b, _ := os.ReadFile(p)
			b = bytes.Replace(b, []byte(`"User":"1000"`), []byte(`"User":"0000"`), 1)
			os.WriteFile(p, b, 0o644)
			return result{dir, fmt.Sprintf("reading OCI layout %s: the config blob %s has digest %s: its content does not match its name", dir, m.Config.Digest, hashOf(b))}
		}},
		{"config longer than its descriptor", func(t *testing.T) result {
			dir, _, m := goodLayout(t).write(t)
			p := blobFile(dir, m.Config.Digest)
			f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			f.Write(bytes.Repeat([]byte(" "), 100))
			f.Close()
			return result{dir, fmt.Sprintf("reading OCI layout %s: the config blob %s is more than %d bytes, its descriptor says %d", dir, m.Config.Digest, m.Config.Size, m.Config.Size)}
		}},
		{"manifest tampered", func(t *testing.T) result {
			dir, desc, _ := goodLayout(t).write(t)
			p := blobFile(dir, desc.Digest)
			b, _ := os.ReadFile(p)
			b = bytes.Replace(b, []byte(`"schemaVersion":2`), []byte(`"schemaVersion":3`), 1)
			os.WriteFile(p, b, 0o644)
			return result{dir, fmt.Sprintf("reading OCI layout %s: the manifest blob %s has digest %s: its content does not match its name", dir, desc.Digest, hashOf(b))}
		}},
		{"helm chart config", func(t *testing.T) result {
			l := goodLayout(t)
			l.ConfigType = "application/vnd.cncf.helm.config.v1+json"
			dir, _, m := l.write(t)
			return result{dir, fmt.Sprintf(`reading OCI layout %s: the config %s has media type "application/vnd.cncf.helm.config.v1+json", want an OCI or Docker image config`, dir, m.Config.Digest)}
		}},
		{"helm chart layer", func(t *testing.T) result {
			l := goodLayout(t)
			l.LayerTypes[0] = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
			dir, _, m := l.write(t)
			return result{dir, fmt.Sprintf(`reading OCI layout %s: layer 1 of 1: blob %s has media type "application/vnd.cncf.helm.chart.content.v1.tar+gzip", not an OCI or Docker layer type`, dir, m.Layers[0].Digest)}
		}},
		{"artifact manifest type", func(t *testing.T) result {
			l := goodLayout(t)
			l.ManifestType = "application/vnd.oci.artifact.manifest.v1+json"
			dir, desc, _ := l.write(t)
			return result{dir, fmt.Sprintf(`reading OCI layout %s: the manifest %s has media type "application/vnd.oci.artifact.manifest.v1+json", want an image manifest`, dir, desc.Digest)}
		}},
		{"more layers than diff_ids", func(t *testing.T) result {
			l := goodLayout(t)
			l.DiffIDs = nil
			dir, desc, m := l.write(t)
			return result{dir, fmt.Sprintf("reading OCI layout %s: the manifest %s lists 1 layers, its config %s has 0 diff_ids", dir, desc.Digest, m.Config.Digest)}
		}},
		{"200 MB config", func(t *testing.T) result {
			l := goodLayout(t)
			var cfg v1.Descriptor
			l.Edit = func(m *v1.Manifest) {
				m.Config.Size = 200 << 20
				cfg = m.Config
			}
			dir, _, _ := l.write(t)
			// The file really is that big (sparse): the size cap, not a missing file, refuses it.
			if err := os.Truncate(blobFile(dir, cfg.Digest), cfg.Size); err != nil {
				t.Fatal(err)
			}
			return result{dir, fmt.Sprintf("reading OCI layout %s: the config %s is 209715200 bytes, more than the 8388608-byte limit", dir, cfg.Digest)}
		}},
		{"layer digest that is not sha256 hex", func(t *testing.T) result {
			l := goodLayout(t)
			sha512 := v1.Hash{Algorithm: "sha512", Hex: strings.Repeat("ab", 64)}
			l.Edit = func(m *v1.Manifest) { m.Layers[0].Digest = sha512 }
			dir, _, _ := l.write(t)
			return result{dir, fmt.Sprintf(`reading OCI layout %s: layer 1 of 1: the layer digest %q is not sha256:<64 hex digits>`, dir, sha512)}
		}},
		{"too many layers", func(t *testing.T) result {
			l := goodLayout(t)
			l.Edit = func(m *v1.Manifest) {
				for len(m.Layers) <= MaxDescriptors {
					m.Layers = append(m.Layers, m.Layers[0])
				}
			}
			dir, desc, _ := l.write(t)
			return result{dir, fmt.Sprintf("reading OCI layout %s: the manifest %s lists 1001 layers, more than the limit of 1000", dir, desc.Digest)}
		}},
		{"index.json over its cap", func(t *testing.T) result {
			dir, _, _ := goodLayout(t).write(t)
			os.WriteFile(filepath.Join(dir, "index.json"), bytes.Repeat([]byte(" "), MaxIndexJSONBytes+1), 0o644)
			return result{dir, fmt.Sprintf("reading OCI layout %s: index.json is more than the 4194304-byte limit", dir)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.make(t)
			_, err := Read(r.dir)
			got := fmt.Sprint(err)
			if diff := cmp.Diff(r.want, got); diff != "" {
				t.Errorf("Read error (-want +got):\n%s", diff)
			}
			// ReadArtifact (push, load) reads images the same way.
			if _, err := ReadArtifact(r.dir); err == nil || !strings.HasPrefix(err.Error(), "reading OCI layout "+r.dir+": ") {
				t.Errorf("ReadArtifact error = %v, want one naming the layout like Read's %s", err, got)
			}
			if strings.Count(got, "\n") != 0 {
				t.Errorf("error spans lines: %q", got)
			}
		})
	}
}

// TestReadArtifactVerifiesArtifacts: an OCI artifact (an SBOM with the empty
// config) is read for push, but only with its blobs intact; Read, which
// derives images from layouts, refuses it.
func TestReadArtifactVerifiesArtifacts(t *testing.T) {
	l := goodLayout(t)
	l.Layers = [][]byte{[]byte(`{"bomFormat":"CycloneDX"}`)}
	l.LayerTypes = []types.MediaType{"application/vnd.cyclonedx+json"}
	l.ConfigType = ociEmpty
	dir, desc, m := l.write(t)
	a, err := ReadArtifact(dir)
	if err != nil {
		t.Fatalf("ReadArtifact: %v", err)
	}
	if d, _ := a.Digest(); d != desc.Digest {
		t.Errorf("digest %s, want %s", d, desc.Digest)
	}
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), `has media type "application/vnd.oci.empty.v1+json", want an OCI or Docker image config`) {
		t.Errorf("Read of an artifact: %v", err)
	}
	p := blobFile(dir, m.Layers[0].Digest)
	b := []byte(`{"bomFormat":"CycloneDY"}`)
	os.WriteFile(p, b, 0o644)
	want := fmt.Sprintf("reading OCI layout %s: blob 1 of 1: blob %s has digest %s: its content does not match its name", dir, m.Layers[0].Digest, hashOf(b))
	if _, err := ReadArtifact(dir); fmt.Sprint(err) != want {
		t.Errorf("tampered artifact: error %v\nwant %s", err, want)
	}
}
