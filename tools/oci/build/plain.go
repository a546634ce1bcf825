package build

import (
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cat-server/cat-server/tools/oci/blobhash"
)

// plainLayer returns the plain tar at path as an uncompressed layer
// (application/vnd.oci.image.layer.v1.tar, or Docker's
// application/vnd.docker.image.rootfs.diff.tar), its bytes as they are: its
// digest and diff ID are both the tar's SHA-256, as rules_oci 2.3's
// oci_image adds a plain tar (oci/private/descriptor.sh, image.sh).
func plainLayer(path string, fam family) (v1.Layer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := blobhash.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &uncompressed{path: path, digest: h.Digest(), size: h.Size(), mediaType: uncompressedLayerType(fam)}, nil
}

// uncompressedLayerType is the media type of a plain tar layer in an image
// of the given family.
func uncompressedLayerType(fam family) types.MediaType {
	if fam == dockerFamily {
		return types.DockerUncompressedLayer
	}
	return types.OCIUncompressedLayer
}

// uncompressed is a layer whose blob is the plain tar itself.
type uncompressed struct {
	path      string
	digest    v1.Hash
	size      int64
	mediaType types.MediaType
}

func (l *uncompressed) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *uncompressed) DiffID() (v1.Hash, error)            { return l.digest, nil }
func (l *uncompressed) Size() (int64, error)                { return l.size, nil }
func (l *uncompressed) MediaType() (types.MediaType, error) { return l.mediaType, nil }
func (l *uncompressed) Compressed() (io.ReadCloser, error)  { return l.open() }
func (l *uncompressed) Uncompressed() (io.ReadCloser, error) {
	return l.open()
}

func (l *uncompressed) open() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.Size() != l.size {
		f.Close()
		return nil, fmt.Errorf("%s changed while the image was built: %d bytes, was %d", l.path, fi.Size(), l.size)
	}
	return f, nil
}
