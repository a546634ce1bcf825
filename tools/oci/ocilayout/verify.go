package ocilayout

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cat-server/cat-server/tools/oci/blobhash"
)

// Caps on what a layout may hold. A layout is untrusted input (a base image
// comes from a registry): every JSON document is read whole, so each has a
// size cap, and every list a count cap; layers are only ever streamed.
// With these caps, reading and verifying a layout needs at most a few times
// MaxConfigBytes of memory (the raw config and its parsed form) plus the
// decompressors' fixed buffers (zstd windows are capped at MaxZstdWindow):
// well under 256 MiB whatever the layout holds (see TestHostileLayoutMemory).
const (
	MaxIndexJSONBytes = 4 << 20  // index.json and image-index blobs
	MaxManifestBytes  = 4 << 20  // image manifests
	MaxConfigBytes    = 8 << 20  // image configs
	MaxDescriptors    = 1000     // manifests in an index, layers in a manifest
	MaxZstdWindow     = 64 << 20 // zstd decoder window
)

// Media types a layout may use; anything else (a Helm chart, an artifact,
// a foreign layer) is refused.
var (
	manifestTypes = map[types.MediaType]bool{types.OCIManifestSchema1: true, types.DockerManifestSchema2: true}
	indexTypes    = map[types.MediaType]bool{types.OCIImageIndex: true, types.DockerManifestList: true}
	configTypes   = map[types.MediaType]bool{types.OCIConfigJSON: true, types.DockerConfigJSON: true}
	layerTypes    = map[types.MediaType]string{
		types.OCILayer:                "gzip",
		types.DockerLayer:             "gzip",
		types.OCILayerZStd:            "zstd",
		types.OCIUncompressedLayer:    "",
		types.DockerUncompressedLayer: "",
	}
)

// blobPath is where the layout at dir keeps the blob h.
func blobPath(dir string, h v1.Hash) string {
	return filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
}

// checkDigest refuses digests that are not sha256 of 64 lower-case hex
// digits (the path of the blob is built from them).
func checkDigest(what string, h v1.Hash) error {
	valid := h.Algorithm == "sha256" && len(h.Hex) == 64
	for _, c := range h.Hex {
		valid = valid && (c >= '0' && c <= '9' || c >= 'a' && c <= 'f')
	}
	if !valid {
		return fmt.Errorf("the %s digest %q is not sha256:<64 hex digits>", what, h.String())
	}
	return nil
}

// readJSONBlob reads the blob of desc whole (at most limit bytes) and
// checks it against the descriptor's size and digest.
func readJSONBlob(dir, what string, desc v1.Descriptor, limit int64) ([]byte, error) {
	if err := checkDigest(what, desc.Digest); err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	if desc.Size > limit {
		return nil, fmt.Errorf("reading OCI layout %s: the %s %s is %d bytes, more than the %d-byte limit", dir, what, desc.Digest, desc.Size, limit)
	}
	if desc.Size < 0 {
		return nil, fmt.Errorf("reading OCI layout %s: the %s %s has a negative size %d in its descriptor", dir, what, desc.Digest, desc.Size)
	}
	f, err := os.Open(blobPath(dir, desc.Digest))
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: the %s blob %s: %w", dir, what, desc.Digest, err)
	}
	defer f.Close()
	buf := make([]byte, desc.Size+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("reading OCI layout %s: the %s blob %s: %w", dir, what, desc.Digest, err)
	}
	if int64(n) > desc.Size {
		return nil, fmt.Errorf("reading OCI layout %s: the %s blob %s is more than %d bytes, its descriptor says %d", dir, what, desc.Digest, desc.Size, desc.Size)
	}
	if int64(n) < desc.Size {
		return nil, fmt.Errorf("reading OCI layout %s: the %s blob %s is %d bytes, its descriptor says %d", dir, what, desc.Digest, n, desc.Size)
	}
	buf = buf[:n]
	w := blobhash.New()
	w.Write(buf)
	if got := w.Digest(); got != desc.Digest {
		return nil, fmt.Errorf("reading OCI layout %s: the %s blob %s has digest %s: its content does not match its name", dir, what, desc.Digest, got)
	}
	return buf, nil
}

// readIndexJSON reads the layout's index.json (capped, at most
// MaxDescriptors entries).
func readIndexJSON(dir string) (*v1.IndexManifest, error) {
	f, err := os.Open(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: index.json: %w", dir, err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, MaxIndexJSONBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: index.json: %w", dir, err)
	}
	if len(raw) > MaxIndexJSONBytes {
		return nil, fmt.Errorf("reading OCI layout %s: index.json is more than the %d-byte limit", dir, MaxIndexJSONBytes)
	}
	m, err := parseIndex(raw)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: index.json: %w", dir, err)
	}
	return m, nil
}

func parseIndex(raw []byte) (*v1.IndexManifest, error) {
	var m v1.IndexManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("not a JSON image index: %w", err)
	}
	if len(m.Manifests) > MaxDescriptors {
		return nil, fmt.Errorf("%d manifests, more than the limit of %d", len(m.Manifests), MaxDescriptors)
	}
	return &m, nil
}

// verifiedImage reads and checks the image that desc points at: the
// manifest and config against their descriptors and media types, then every
// layer streamed through its digest, size and diff_id.
//
// With artifacts set (push), an OCI artifact manifest (an artifactType or
// the empty config, e.g. an SBOM with a subject) is read too: its blobs are
// checked against their digests and sizes, and have no diff_ids.
func verifiedImage(dir string, desc v1.Descriptor, artifacts bool) (*image, error) {
	if !manifestTypes[desc.MediaType] {
		return nil, fmt.Errorf("reading OCI layout %s: the manifest %s has media type %q, want an OCI or Docker image manifest", dir, desc.Digest, desc.MediaType)
	}
	raw, err := readJSONBlob(dir, "manifest", desc, MaxManifestBytes)
	if err != nil {
		return nil, err
	}
	var m artifactManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: the manifest %s is not a JSON image manifest: %v", dir, desc.Digest, err)
	}
	if m.MediaType != "" && m.MediaType != desc.MediaType {
		return nil, fmt.Errorf("reading OCI layout %s: the manifest %s says its media type is %q, its descriptor %q", dir, desc.Digest, m.MediaType, desc.MediaType)
	}
	if len(m.Layers) > MaxDescriptors {
		return nil, fmt.Errorf("reading OCI layout %s: the manifest %s lists %d layers, more than the limit of %d", dir, desc.Digest, len(m.Layers), MaxDescriptors)
	}
	if artifacts && (m.ArtifactType != "" || m.Config.MediaType == ociEmpty) {
		return verifiedArtifact(dir, desc, raw, &m)
	}
	if !configTypes[m.Config.MediaType] {
		return nil, fmt.Errorf("reading OCI layout %s: the config %s has media type %q, want an OCI or Docker image config", dir, m.Config.Digest, m.Config.MediaType)
	}
	rawConfig, err := readJSONBlob(dir, "config", m.Config, MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawConfig))
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: the config %s is not a JSON image config: %v", dir, m.Config.Digest, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("reading OCI layout %s: the manifest %s lists %d layers, its config %s has %d diff_ids", dir, desc.Digest, len(m.Layers), m.Config.Digest, len(cfg.RootFS.DiffIDs))
	}
	for i, l := range m.Layers {
		if err := verifyLayer(dir, l, cfg.RootFS.DiffIDs[i]); err != nil {
			return nil, fmt.Errorf("reading OCI layout %s: layer %d of %d: %w", dir, i+1, len(m.Layers), err)
		}
	}
	return &image{dir: dir, mediaType: desc.MediaType, rawManifest: raw, manifest: &m.Manifest, rawConfig: rawConfig}, nil
}

// ociEmpty is the media type of the empty config of OCI artifacts.
const ociEmpty types.MediaType = "application/vnd.oci.empty.v1+json"

// artifactManifest is an image manifest with OCI 1.1's artifactType.
type artifactManifest struct {
	v1.Manifest
	ArtifactType string `json:"artifactType,omitempty"`
}

func verifiedArtifact(dir string, desc v1.Descriptor, raw []byte, m *artifactManifest) (*image, error) {
	rawConfig, err := readJSONBlob(dir, "config", m.Config, MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	for i, l := range m.Layers {
		if err := verifyBlob(dir, l); err != nil {
			return nil, fmt.Errorf("reading OCI layout %s: blob %d of %d: %w", dir, i+1, len(m.Layers), err)
		}
	}
	return &image{dir: dir, mediaType: desc.MediaType, rawManifest: raw, manifest: &m.Manifest, rawConfig: rawConfig}, nil
}

// verifyBlob streams a blob through its digest and size.
func verifyBlob(dir string, desc v1.Descriptor) error {
	if err := checkDigest("blob", desc.Digest); err != nil {
		return err
	}
	f, err := os.Open(blobPath(dir, desc.Digest))
	if err != nil {
		return fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	defer f.Close()
	w := blobhash.New()
	if _, err := io.Copy(w, io.LimitReader(f, desc.Size+1)); err != nil {
		return fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	if w.Size() != desc.Size {
		return fmt.Errorf("blob %s is %d bytes, its descriptor says %d", desc.Digest, w.Size(), desc.Size)
	}
	if got := w.Digest(); got != desc.Digest {
		return fmt.Errorf("blob %s has digest %s: its content does not match its name", desc.Digest, got)
	}
	return nil
}

// verifyLayer streams the layer blob through its digest and size, and its
// uncompressed form through the diff_id.
func verifyLayer(dir string, desc v1.Descriptor, diffID v1.Hash) error {
	comp, ok := layerTypes[desc.MediaType]
	if !ok {
		return fmt.Errorf("blob %s has media type %q, not an OCI or Docker layer type", desc.Digest, desc.MediaType)
	}
	if err := checkDigest("layer", desc.Digest); err != nil {
		return err
	}
	f, err := os.Open(blobPath(dir, desc.Digest))
	if err != nil {
		return fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	defer f.Close()
	compressed := blobhash.New()
	uncompressed := blobhash.New()
	// The descriptor's size plus one byte: a longer file is caught without
	// reading all of it.
	src := io.TeeReader(io.LimitReader(f, desc.Size+1), compressed)
	// A blob that does not match its digest is reported as such, even when
	// the damage also breaks its compression.
	decompressErr := decompress(comp, src, uncompressed)
	if _, err := io.Copy(io.Discard, src); err != nil {
		return fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	if compressed.Size() > desc.Size {
		return fmt.Errorf("blob %s is more than %d bytes, its descriptor says %d", desc.Digest, desc.Size, desc.Size)
	}
	if compressed.Size() < desc.Size {
		return fmt.Errorf("blob %s is %d bytes, its descriptor says %d", desc.Digest, compressed.Size(), desc.Size)
	}
	if got := compressed.Digest(); got != desc.Digest {
		return fmt.Errorf("blob %s has digest %s: its content does not match its name", desc.Digest, got)
	}
	if decompressErr != nil {
		return fmt.Errorf("blob %s (%s): %v", desc.Digest, desc.MediaType, decompressErr)
	}
	if got := uncompressed.Digest(); got != diffID {
		return fmt.Errorf("blob %s uncompressed has digest %s, the config's diff_id says %s", desc.Digest, got, diffID)
	}
	return nil
}

// decompress copies the decompressed form of r to w.
func decompress(comp string, r io.Reader, w io.Writer) error {
	switch comp {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("not gzip: %v", err)
		}
		if _, err := io.Copy(w, zr); err != nil {
			return fmt.Errorf("corrupt gzip stream: %v", err)
		}
		return zr.Close()
	case "zstd":
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(MaxZstdWindow), zstd.WithDecoderLowmem(true))
		if err != nil {
			return err
		}
		defer zr.Close()
		if _, err := io.Copy(w, zr); err != nil {
			return fmt.Errorf("corrupt zstd stream: %v", err)
		}
		return nil
	}
	_, err := io.Copy(w, r)
	return err
}
