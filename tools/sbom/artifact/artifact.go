// Package artifact wraps a file (an SBOM) in an OCI 1.1 artifact manifest
// that refers to an image: artifactType names what it is, `subject` holds
// the image's manifest descriptor, the config is the empty descriptor, and
// the file is the one layer. Pushed beside the image, registries list it
// through the referrers API (GET /v2/<name>/referrers/<image digest>).
package artifact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// EmptyMediaType is the OCI empty descriptor's media type; its content is "{}".
const EmptyMediaType types.MediaType = "application/vnd.oci.empty.v1+json"

var emptyConfig = []byte("{}")

// New returns the artifact for content (of mediaType) referring to subject.
// Its annotations are kept on the manifest (e.g. org.opencontainers.image.title).
func New(subject v1.Descriptor, artifactType, mediaType string, content []byte, annotations map[string]string) (v1.Image, error) {
	if artifactType == "" || mediaType == "" {
		return nil, fmt.Errorf("artifact type and media type must be set")
	}
	cfgHash, cfgSize, err := v1.SHA256(bytes.NewReader(emptyConfig))
	if err != nil {
		return nil, err
	}
	layerHash, layerSize, err := v1.SHA256(bytes.NewReader(content))
	if err != nil {
		return nil, err
	}
	sub := v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  artifactType,
		Config:        v1.Descriptor{MediaType: EmptyMediaType, Digest: cfgHash, Size: cfgSize},
		Layers:        []v1.Descriptor{{MediaType: types.MediaType(mediaType), Digest: layerHash, Size: layerSize}},
		Subject:       &sub,
		Annotations:   annotations,
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&image{raw: raw, layerHash: layerHash, content: content, mediaType: types.MediaType(mediaType)})
}

type image struct {
	raw       []byte
	layerHash v1.Hash
	content   []byte
	mediaType types.MediaType
}

func (i *image) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (i *image) RawManifest() ([]byte, error)        { return i.raw, nil }
func (i *image) RawConfigFile() ([]byte, error)      { return emptyConfig, nil }
func (i *image) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h != i.layerHash {
		return nil, fmt.Errorf("artifact has no blob %s", h)
	}
	return &layer{i}, nil
}

type layer struct{ i *image }

func (l *layer) Digest() (v1.Hash, error)            { return l.i.layerHash, nil }
func (l *layer) Size() (int64, error)                { return int64(len(l.i.content)), nil }
func (l *layer) MediaType() (types.MediaType, error) { return l.i.mediaType, nil }
func (l *layer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.i.content)), nil
}
