package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// handBlob stores b in the layout at dir and returns its descriptor.
func handBlob(t *testing.T, dir string, mt types.MediaType, b []byte) v1.Descriptor {
	t.Helper()
	s := sha256.Sum256(b)
	h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
	p := filepath.Join(dir, "blobs", "sha256", h.Hex)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: mt, Digest: h, Size: int64(len(b))}
}

// TestBadInputOneSentence: bad bases and files fail with one line naming
// the file at fault, never a library diff dump.
func TestBadInputOneSentence(t *testing.T) {
	// A layer-less base as other tools write it: "history": [] and no layers.
	zero := filepath.Join(t.TempDir(), "zero")
	cfg := handBlob(t, zero, types.OCIConfigJSON, []byte(`{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]},"history":[]}`))
	m, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cfg, Layers: []v1.Descriptor{}})
	idx, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, Manifests: []v1.Descriptor{handBlob(t, zero, types.OCIManifestSchema1, m)}})
	os.WriteFile(filepath.Join(zero, "index.json"), idx, 0o644)

	base := writeBase(t, types.OCIManifestSchema1)
	labels := file(t, "ok=1\nbad=\xff\xfe\n")
	env := file(t, "A B=1\n")
	nul := file(t, "A=x\x00y\n")
	for _, tc := range []struct {
		name string
		spec Spec
		want string // "" for success
	}{
		// Built, keeping "history": [] as upstream does (see rawconfig).
		{"zero-layer base with history []", Spec{Base: zero, Env: file(t, "A=1\n")}, ""},
		{"label with invalid UTF-8", Spec{Base: base, Labels: labels}, fmt.Sprintf(`"labels": %s:2: key "bad": not valid UTF-8`, labels)},
		{"env key with a space", Spec{Base: base, Env: env}, fmt.Sprintf(`"env": %s:1: key "A B" holds whitespace or a control character`, env)},
		{"env value with NUL", Spec{Base: base, Env: nul}, fmt.Sprintf(`"env": %s:1: key "A": holds a NUL byte`, nul)},
		{"annotation key with NUL", Spec{Base: base, Annotations: nul}, fmt.Sprintf(`"annotations": %s:1: key "A": holds a NUL byte`, nul)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.spec.Out = filepath.Join(dir, "out")
			tc.spec.DigestOut = filepath.Join(dir, "digest")
			_, err := Build(tc.spec)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Build error = %v, want success", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Build error = %v\nwant %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines")
			}
		})
	}
}
