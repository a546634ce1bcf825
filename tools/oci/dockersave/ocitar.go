package dockersave

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// WriteOCI writes idx as an OCI-layout tarball (oci-layout, index.json,
// blobs/sha256/...), the format rules_oci's oci_load writes with
// format = "oci": index.json repeats the index's descriptor once per tag,
// annotated with org.opencontainers.image.ref.name = the tag (as given).
// Entries are in a fixed order with mtime 0, so the tar is deterministic.
func WriteOCI(w io.Writer, idx v1.ImageIndex, tags []string) error {
	tw := tar.NewWriter(w)
	layoutFile := []byte(`{"imageLayoutVersion": "1.0.0"}`)
	if err := writeEntry(tw, "oci-layout", bytes.NewReader(layoutFile), int64(len(layoutFile))); err != nil {
		return err
	}
	written := map[v1.Hash]bool{}
	blob := func(h v1.Hash, data []byte) error {
		if written[h] {
			return nil
		}
		written[h] = true
		return writeEntry(tw, "blobs/"+h.Algorithm+"/"+h.Hex, bytes.NewReader(data), int64(len(data)))
	}
	raw, err := idx.RawManifest()
	if err != nil {
		return err
	}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	if err := blob(d, raw); err != nil {
		return err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, desc := range m.Manifests {
		if !desc.MediaType.IsImage() {
			return fmt.Errorf("index entry %s has media type %s; only images can be written", desc.Digest, desc.MediaType)
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return err
		}
		if err := writeImageBlobs(tw, img, blob, written); err != nil {
			return fmt.Errorf("image %s: %w", desc.Digest, err)
		}
	}
	mt, err := idx.MediaType()
	if err != nil {
		return err
	}
	top := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{}}
	for _, t := range tags {
		top.Manifests = append(top.Manifests, v1.Descriptor{
			MediaType:   mt,
			Size:        int64(len(raw)),
			Digest:      d,
			Annotations: map[string]string{"org.opencontainers.image.ref.name": t},
		})
	}
	ij, err := json.Marshal(top)
	if err != nil {
		return err
	}
	if err := writeEntry(tw, "index.json", bytes.NewReader(ij), int64(len(ij))); err != nil {
		return err
	}
	return tw.Close()
}

func writeImageBlobs(tw *tar.Writer, img v1.Image, blob func(v1.Hash, []byte) error, written map[v1.Hash]bool) error {
	raw, err := img.RawManifest()
	if err != nil {
		return err
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	if err := blob(d, raw); err != nil {
		return err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	cn, err := img.ConfigName()
	if err != nil {
		return err
	}
	if err := blob(cn, cfg); err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		ld, err := l.Digest()
		if err != nil {
			return err
		}
		if written[ld] {
			continue
		}
		written[ld] = true
		size, err := l.Size()
		if err != nil {
			return err
		}
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		err = writeEntry(tw, "blobs/"+ld.Algorithm+"/"+ld.Hex, rc, size)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
