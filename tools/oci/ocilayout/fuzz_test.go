package ocilayout

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// FuzzRead writes a layout from arbitrary parts (a config, one layer blob
// and its media type, and the config's diff_id given as the digest of
// another arbitrary blob, or a whole raw manifest) and reads it. Read must
// not panic, and an image it accepts must be what it claims: every layer's
// bytes hash to its digest, and uncompressed to its diff_id.
func FuzzRead(f *testing.F) {
	good := goodLayout(f)
	cfg, _ := json.Marshal(map[string]any{"rootfs": map[string]any{"type": "layers", "diff_ids": good.DiffIDs}})
	f.Add(cfg, good.Layers[0], string(types.OCILayer), []byte(nil))
	raw := tarOf(f, "etc/passwd", "root:x:0:0::/:\n")
	cfg2, _ := json.Marshal(map[string]any{"rootfs": map[string]any{"type": "layers", "diff_ids": []v1.Hash{hashOf(raw)}}})
	f.Add(cfg2, raw, string(types.OCIUncompressedLayer), []byte(nil))
	f.Add(cfg2, raw, string(types.OCILayerZStd), []byte(nil))
	f.Add([]byte(`{"rootfs":{"diff_ids":[]},"history":[]}`), []byte{}, string(types.DockerLayer), []byte(`{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:00","size":-1},"layers":[]}`))
	f.Fuzz(func(t *testing.T, config, layer []byte, layerType string, rawManifest []byte) {
		dir := t.TempDir()
		c := writeBlobFile(t, dir, config)
		c.MediaType = types.OCIConfigJSON
		l := writeBlobFile(t, dir, layer)
		l.MediaType = types.MediaType(layerType)
		m := rawManifest
		if len(m) == 0 {
			m, _ = json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: c, Layers: []v1.Descriptor{l}})
		}
		md := writeBlobFile(t, dir, m)
		md.MediaType = types.OCIManifestSchema1
		writeIndexJSON(t, dir, md)
		img, err := Read(dir)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if !strings.HasPrefix(err.Error(), "reading OCI layout "+dir+": ") {
				t.Errorf("error does not name the layout: %v", err)
			}
			return
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatalf("accepted image has no config: %v", err)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		if len(layers) != len(cf.RootFS.DiffIDs) {
			t.Fatalf("%d layers, %d diff_ids", len(layers), len(cf.RootFS.DiffIDs))
		}
		for i, ly := range layers {
			d, _ := ly.Digest()
			b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", d.Hex))
			if err != nil || hashOf(b) != d {
				t.Errorf("layer %d: accepted, but its blob does not hash to %s (%v)", i, d, err)
			}
			rc, err := ly.Uncompressed()
			if err != nil {
				t.Fatalf("layer %d: %v", i, err)
			}
			u, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || hashOf(u) != cf.RootFS.DiffIDs[i] {
				t.Errorf("layer %d: accepted, but uncompressed it is not its diff_id %s (%v)", i, cf.RootFS.DiffIDs[i], err)
			}
		}
	})
}
