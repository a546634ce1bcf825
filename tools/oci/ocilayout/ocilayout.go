// Package ocilayout reads and writes single-image OCI image layouts: the
// directory form that oci_image produces (oci-layout, index.json with exactly
// one manifest descriptor, blobs/sha256/...).
package ocilayout

import (
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Read returns the one image of the OCI layout in dir. A layout whose index
// does not hold exactly one manifest is an error, as is a missing or
// malformed index.json.
func Read(dir string) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: index.json: %w", dir, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: index.json: %w", dir, err)
	}
	if len(m.Manifests) != 1 {
		return nil, fmt.Errorf("reading OCI layout %s: index.json holds %d manifests, want exactly 1", dir, len(m.Manifests))
	}
	desc := m.Manifests[0]
	if !desc.MediaType.IsImage() {
		return nil, fmt.Errorf("reading OCI layout %s: the manifest %s has media type %q, want an image manifest", dir, desc.Digest, desc.MediaType)
	}
	img, err := idx.Image(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: image %s: %w", dir, desc.Digest, err)
	}
	return img, nil
}

// Write stores img as a single-image OCI layout at dir. The layout is written
// into a temporary sibling directory first and renamed into place, so dir
// never holds a half-written layout; an existing dir is replaced.
func Write(dir string, img v1.Image) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", dir, err)
	}
	if err := p.AppendImage(img); err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("writing OCI layout %s: replacing the old layout: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", dir, err)
	}
	return nil
}
