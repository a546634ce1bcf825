// Package dockersave writes an image as a `docker save`-style tarball
// (manifest.json + config + layers), the format `docker load` reads.
package dockersave

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cat-server/cat-server/tools/oci/atomicfile"
)

// ParseTags parses "REPO:TAG" references. A reference without ":TAG" means
// ":latest", as with docker. Digests ("@sha256:...") are refused.
func ParseTags(tags []string) ([]name.Tag, error) {
	out := make([]name.Tag, 0, len(tags))
	for _, t := range tags {
		if strings.Contains(t, "@") {
			return nil, fmt.Errorf("--tag %q: want REPO:TAG, not a digest reference", t)
		}
		tag, err := name.NewTag(t)
		if err != nil {
			return nil, fmt.Errorf("--tag %q: want REPO:TAG: %v", t, err)
		}
		out = append(out, tag)
	}
	return out, nil
}

// WriteFile writes img, tagged with tags (in the given order), to the file
// out atomically. With no tags the image loads untagged. The tarball is
// deterministic: entries config, layers, manifest.json, all with mtime 0.
func WriteFile(out string, img v1.Image, tags []name.Tag) error {
	return atomicfile.Write(out, 0o644, func(w io.Writer) error {
		if err := Write(w, img, tags); err != nil {
			return fmt.Errorf("writing tarball %s: %w", out, err)
		}
		return nil
	})
}

// manifestEntry is one image of a docker-save manifest.json.
type manifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// Write writes the tarball to w (see WriteFile).
func Write(w io.Writer, img v1.Image, tags []name.Tag) error {
	repoTags := []string{}
	seen := map[string]bool{}
	for _, t := range tags {
		s := t.String()
		if t.Identifier() == name.DefaultTag && !strings.HasSuffix(s, ":"+name.DefaultTag) {
			s += ":" + name.DefaultTag
		}
		if !seen[s] {
			seen[s] = true
			repoTags = append(repoTags, s)
		}
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	entry := manifestEntry{Config: cfgName.Hex + ".json", RepoTags: repoTags}
	if err := writeEntry(tw, entry.Config, bytes.NewReader(cfg), int64(len(cfg))); err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	written := map[string]bool{}
	for i, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		mt, err := l.MediaType()
		if err != nil {
			return err
		}
		ext := ".tar.gz"
		if mt == types.OCILayerZStd {
			ext = ".tar.zst"
		} else if mt == types.OCIUncompressedLayer || mt == types.OCIUncompressedRestrictedLayer {
			ext = ".tar"
		}
		file := d.Hex + ext
		entry.Layers = append(entry.Layers, file)
		if written[file] {
			continue
		}
		written[file] = true
		size, err := l.Size()
		if err != nil {
			return err
		}
		rc, err := l.Compressed()
		if err != nil {
			return fmt.Errorf("layer %d (%s): %w", i, d, err)
		}
		err = writeEntry(tw, file, rc, size)
		rc.Close()
		if err != nil {
			return fmt.Errorf("layer %d (%s): %w", i, d, err)
		}
	}
	m, err := json.Marshal([]manifestEntry{entry})
	if err != nil {
		return err
	}
	if err := writeEntry(tw, "manifest.json", bytes.NewReader(m), int64(len(m))); err != nil {
		return err
	}
	return tw.Close()
}

func writeEntry(tw *tar.Writer, name string, r io.Reader, size int64) error {
	hdr := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size, ModTime: time.Unix(0, 0)}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.Copy(tw, r)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("%s: got %d bytes, want %d", name, n, size)
	}
	return nil
}
