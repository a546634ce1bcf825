// Package index assembles a multi-platform image index the way rules_oci
// 2.x's oci_image_index does: every image of the given layouts, each with
// the platform of its config, in one OCI index, written as a layout whose
// index.json holds one descriptor (of the index).
package index

import (
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/oci/specfile"
)

// Spec is the JSON spec of `ocitool index`.
type Spec struct {
	// Images are single-image OCI layout directories, in index order.
	Images []string `json:"images"`
	// Annotations is a file of KEY=VALUE lines for the index ("" for none).
	Annotations string `json:"annotations"`
	// Out is the layout directory to write.
	Out string `json:"out"`
	// DigestOut, if set, receives the index digest "sha256:...\n".
	DigestOut string `json:"digest_out"`
}

// Build assembles the index and writes the outputs.
func Build(spec Spec) (v1.Hash, error) {
	if spec.Out == "" {
		return v1.Hash{}, errors.New(`"out" is required`)
	}
	idx, err := Index(spec)
	if err != nil {
		return v1.Hash{}, err
	}
	d, err := idx.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	if err := ocilayout.WriteIndex(spec.Out, idx); err != nil {
		return v1.Hash{}, err
	}
	if err := ocilayout.WriteDigest(spec.DigestOut, d); err != nil {
		return v1.Hash{}, err
	}
	return d, nil
}

// Index assembles the index spec describes. Two images for the same
// platform are an error: a client could not choose between them.
func Index(spec Spec) (v1.ImageIndex, error) {
	if len(spec.Images) == 0 {
		return nil, errors.New(`"images" is empty; an index needs at least one image`)
	}
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	seen := map[string]string{}
	for i, dir := range spec.Images {
		img, err := ocilayout.Read(dir)
		if err != nil {
			return nil, fmt.Errorf(`"images"[%d]: %w`, i, err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf(`"images"[%d]: %s: config: %w`, i, dir, err)
		}
		p := cfg.Platform()
		if p == nil || p.OS == "" || p.Architecture == "" {
			return nil, fmt.Errorf(`"images"[%d]: %s: the config has no os/architecture`, i, dir)
		}
		if prev, ok := seen[p.String()]; ok {
			return nil, fmt.Errorf(`"images"[%d]: %s is for %s, as %s is already`, i, dir, p, prev)
		}
		seen[p.String()] = dir
		mt, err := img.MediaType()
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{MediaType: mt, Platform: p},
		})
	}
	if spec.Annotations != "" {
		kvs, err := specfile.ReadKeyValues("annotations", spec.Annotations)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, kv := range kvs {
			m[kv.Key] = kv.Value
		}
		if len(m) > 0 {
			idx = mutate.Annotations(idx, m).(v1.ImageIndex)
		}
	}
	return idx, nil
}
