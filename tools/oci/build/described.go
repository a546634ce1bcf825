package build

import (
	"bytes"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/cat-server/cat-server/tools/oci/layer"
)

// described is a layer whose digest, size and diff ID come from the
// descriptor the layer tool wrote while writing it (layer.Descriptor), so
// assembling an image does not read and hash the layer again.
type described struct {
	path string
	desc layer.Descriptor
	mt   types.MediaType
}

// describedLayer returns the tar at path as a layer of the given family,
// described by the descriptor file descPath. The file must have the
// descriptor's size and start the way its compression does; its content is
// not hashed again.
func describedLayer(path, descPath string, fam family) (v1.Layer, error) {
	d, err := layer.ReadDescriptor(descPath)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() != d.Size {
		return nil, fmt.Errorf("%s has %d bytes, but its descriptor %s says %d: not the file the descriptor was written for", path, fi.Size(), descPath, d.Size)
	}
	magic := make([]byte, 2)
	n, _ := io.ReadFull(f, magic)
	isGzip := n == 2 && bytes.Equal(magic, []byte{0x1f, 0x8b})
	if isGzip != (d.Compression == layer.Gzip) {
		return nil, fmt.Errorf("%s: its descriptor %s says compression %q, the file says otherwise", path, descPath, d.Compression)
	}
	if d.Compression == layer.None {
		// A plain tar is an uncompressed layer, as it is (see plainLayer).
		return &described{path: path, desc: d, mt: uncompressedLayerType(fam)}, nil
	}
	return &described{path: path, desc: d, mt: gzipLayerType(fam)}, nil
}

func (l *described) Digest() (v1.Hash, error)            { return v1.NewHash(l.desc.Digest) }
func (l *described) DiffID() (v1.Hash, error)            { return v1.NewHash(l.desc.DiffID) }
func (l *described) Size() (int64, error)                { return l.desc.Size, nil }
func (l *described) MediaType() (types.MediaType, error) { return l.mt, nil }
func (l *described) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }

func (l *described) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	if l.desc.Compression == layer.None {
		return f, nil
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", l.path, err)
	}
	return readCloser{zr, f}, nil
}

type readCloser struct {
	io.Reader
	f *os.File
}

func (r readCloser) Close() error { return r.f.Close() }
