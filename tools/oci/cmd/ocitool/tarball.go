package main

import (
	"context"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/cat-server/cat-server/tools/oci/atomicfile"
	"github.com/cat-server/cat-server/tools/oci/dockersave"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/oci/specfile"
)

func init() {
	commands["tarball"] = command{
		usage:   "tarball --image DIR --repo-tags FILE [--format docker|oci] --out FILE",
		summary: "write an OCI layout as a tarball for `docker load` (oci_load's output group tarball)",
		run:     runTarball,
	}
}

// tarballFlags are the flags tarball and load share.
type tarballFlags struct {
	image, repoTags, format *string
}

func addTarballFlags(fs interface {
	String(name, value, usage string) *string
}) tarballFlags {
	return tarballFlags{
		image:    fs.String("image", "", "OCI layout directory"),
		repoTags: fs.String("repo-tags", "", "file with one REPO:TAG per line"),
		format:   fs.String("format", "docker", "docker (an image) or oci (an image index)"),
	}
}

// writer checks the flags and returns what the tarball holds and a function
// that streams it, as rules_oci's oci_load builds it: format docker takes an
// image (a docker-save tarball), format oci an image index (an OCI layout
// tarball).
func (f tarballFlags) writer() (string, func(io.Writer) error, error) {
	if *f.image == "" || *f.repoTags == "" {
		return "", nil, usagef("--image and --repo-tags are required")
	}
	tags, err := specfile.ReadLines("repo_tags", *f.repoTags)
	if err != nil {
		return "", nil, err
	}
	a, err := ocilayout.ReadArtifact(*f.image)
	if err != nil {
		return "", nil, err
	}
	what := fmt.Sprintf("%s (%v)", *f.image, tags)
	switch *f.format {
	case "docker":
		img, ok := a.(v1.Image)
		if !ok {
			return "", nil, fmt.Errorf("format docker is only supported for oci_image targets, but %s holds an image index; use format = \"oci\"", *f.image)
		}
		refs, err := dockersave.ParseTags(tags)
		if err != nil {
			return "", nil, err
		}
		return what, func(w io.Writer) error { return dockersave.Write(w, img, refs) }, nil
	case "oci":
		idx, ok := a.(v1.ImageIndex)
		if !ok {
			return "", nil, fmt.Errorf("format oci is only supported for oci_image_index targets, but %s holds an image; use format = \"docker\"", *f.image)
		}
		return what, func(w io.Writer) error { return dockersave.WriteOCI(w, idx, tags) }, nil
	}
	return "", nil, usagef("--format %q: want docker or oci", *f.format)
}

func runTarball(_ context.Context, args []string, _ io.Writer) error {
	fs := newFlags("tarball")
	f := addTarballFlags(fs)
	out := fs.String("out", "", "tarball to write")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	_, write, err := f.writer()
	if err != nil {
		return err
	}
	return atomicfile.Write(*out, 0o644, write)
}
