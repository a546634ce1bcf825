// Package ocilayout reads and writes single-image OCI image layouts: the
// directory form that oci_image produces (oci-layout, index.json with exactly
// one manifest descriptor, blobs/sha256/...).
package ocilayout

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cat-server/cat-server/tools/oci/atomicfile"
)

// Read returns the one image of the OCI layout in dir. A layout whose index
// does not hold exactly one manifest is an error, as is a missing or
// malformed index.json.
//
// The layout is untrusted input and is verified before anything is derived
// from it: the manifest, config and every layer against their descriptors'
// digests and sizes, the layers' uncompressed digests against the config's
// diff_ids, and every media type against the OCI and Docker image types.
// Layers are streamed; JSON documents are read whole within the caps of
// verify.go. A mismatch is an error naming the layout, the blob and what
// differed.
//
// Blobs may be symbolic links: Bazel's sandbox presents the files of an input
// directory that way, and go-containerregistry's layout package refuses them,
// so the layout is read here with plain file opens.
func Read(dir string) (v1.Image, error) {
	desc, err := single(dir)
	if err != nil {
		return nil, err
	}
	if !desc.MediaType.IsImage() {
		return nil, fmt.Errorf("reading OCI layout %s: the manifest %s has media type %q, want an image manifest", dir, desc.Digest, desc.MediaType)
	}
	return readImage(dir, desc, false)
}

func readImage(dir string, desc v1.Descriptor, artifacts bool) (v1.Image, error) {
	img, err := verifiedImage(dir, desc, artifacts)
	if err != nil {
		return nil, err
	}
	out, err := partial.CompressedToImage(img)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	return out, nil
}

// image is the compressed view of a layout's verified image that partial
// completes.
type image struct {
	dir         string
	mediaType   types.MediaType
	rawManifest []byte
	manifest    *v1.Manifest
	rawConfig   []byte
}

func (i *image) path(h v1.Hash) string { return blobPath(i.dir, h) }

func (i *image) MediaType() (types.MediaType, error) { return i.mediaType, nil }
func (i *image) RawManifest() ([]byte, error)        { return i.rawManifest, nil }
func (i *image) RawConfigFile() ([]byte, error)      { return i.rawConfig, nil }

func (i *image) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, d := range i.manifest.Layers {
		if d.Digest == h {
			return &layer{img: i, desc: d}, nil
		}
	}
	return nil, fmt.Errorf("blob %s is not a layer in the manifest of OCI layout %s", h, i.dir)
}

// layer is one compressed blob of the layout.
type layer struct {
	img  *image
	desc v1.Descriptor
}

func (l *layer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *layer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *layer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *layer) Compressed() (io.ReadCloser, error) {
	f, err := os.Open(l.img.path(l.desc.Digest))
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: layer %s: %w", l.img.dir, l.desc.Digest, err)
	}
	return f, nil
}

// Write stores img as a single-image OCI layout at dir. The layout is written
// into a temporary sibling directory first and renamed into place, so dir
// never holds a half-written layout; an existing dir is replaced.
func Write(dir string, img v1.Image) error {
	return write(dir, func(p layout.Path) error { return p.AppendImage(img) })
}

// WriteDigest writes d to file as rules_oci's <name>.digest target holds
// it ("sha256:...\n"), atomically. An empty file name writes nothing.
func WriteDigest(file string, d v1.Hash) error {
	if file == "" {
		return nil
	}
	return atomicfile.WriteBytes(file, 0o644, []byte(d.String()+"\n"))
}

// WriteIndex stores idx as an OCI layout at dir whose index.json holds one
// descriptor, of idx itself (as rules_oci's oci_image_index writes it), with
// the same atomicity as Write.
func WriteIndex(dir string, idx v1.ImageIndex) error {
	return write(dir, func(p layout.Path) error { return p.AppendIndex(idx) })
}

func write(dir string, add func(layout.Path) error) error {
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
	if err := add(p); err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", dir, err)
	}
	// Readable by everyone, as a registry or `docker save` would hand it out:
	// go-containerregistry writes some blobs with mode 0600.
	err = filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	})
	if err != nil {
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
