package ocilayout

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Artifact is the content of a layout: a v1.Image or a v1.ImageIndex.
type Artifact interface {
	MediaType() (types.MediaType, error)
	Digest() (v1.Hash, error)
	RawManifest() ([]byte, error)
}

// ReadArtifact returns the one image or image index that the layout at dir
// holds (index.json with exactly one descriptor), read and verified as Read
// reads images; an OCI artifact (e.g. an SBOM with a subject, for push) is
// accepted too, its blobs checked against their digests and sizes.
func ReadArtifact(dir string) (Artifact, error) {
	desc, err := single(dir)
	if err != nil {
		return nil, err
	}
	switch {
	case desc.MediaType.IsImage():
		return readImage(dir, desc, true)
	case desc.MediaType.IsIndex():
		return readIndex(dir, desc)
	}
	return nil, fmt.Errorf("reading OCI layout %s: the descriptor %s has media type %q, neither an image nor an index", dir, desc.Digest, desc.MediaType)
}

func single(dir string) (v1.Descriptor, error) {
	idx, err := readIndexJSON(dir)
	if err != nil {
		return v1.Descriptor{}, err
	}
	if len(idx.Manifests) != 1 {
		return v1.Descriptor{}, fmt.Errorf("reading OCI layout %s: index.json holds %d manifests, want exactly 1", dir, len(idx.Manifests))
	}
	return idx.Manifests[0], nil
}

// index is an image index stored in a layout's blobs.
type index struct {
	dir      string
	desc     v1.Descriptor
	raw      []byte
	manifest *v1.IndexManifest
}

func readIndex(dir string, desc v1.Descriptor) (*index, error) {
	if !indexTypes[desc.MediaType] {
		return nil, fmt.Errorf("reading OCI layout %s: the index %s has media type %q, want an OCI image index or a Docker manifest list", dir, desc.Digest, desc.MediaType)
	}
	raw, err := readJSONBlob(dir, "index", desc, MaxIndexJSONBytes)
	if err != nil {
		return nil, err
	}
	m, err := parseIndex(raw)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: index %s: %w", dir, desc.Digest, err)
	}
	return &index{dir: dir, desc: desc, raw: raw, manifest: m}, nil
}

func (i *index) MediaType() (types.MediaType, error)       { return i.desc.MediaType, nil }
func (i *index) Digest() (v1.Hash, error)                  { return i.desc.Digest, nil }
func (i *index) Size() (int64, error)                      { return int64(len(i.raw)), nil }
func (i *index) RawManifest() ([]byte, error)              { return i.raw, nil }
func (i *index) IndexManifest() (*v1.IndexManifest, error) { return i.manifest.DeepCopy(), nil }
func (i *index) Manifests() ([]v1.Descriptor, error)       { return i.manifest.Manifests, nil }

func (i *index) child(h v1.Hash) (v1.Descriptor, error) {
	for _, d := range i.manifest.Manifests {
		if d.Digest == h {
			return d, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("OCI layout %s: %s is not in index %s", i.dir, h, i.desc.Digest)
}

func (i *index) Image(h v1.Hash) (v1.Image, error) {
	d, err := i.child(h)
	if err != nil {
		return nil, err
	}
	return readImage(i.dir, d, false)
}

func (i *index) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	d, err := i.child(h)
	if err != nil {
		return nil, err
	}
	return readIndex(i.dir, d)
}

var _ v1.ImageIndex = (*index)(nil)
