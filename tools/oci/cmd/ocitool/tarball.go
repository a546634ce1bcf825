package main

import (
	"context"
	"io"

	"github.com/cat-server/cat-server/tools/oci/dockersave"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
)

func init() {
	commands["tarball"] = command{
		usage:   "tarball --image DIR [--tag REPO:TAG]... --out FILE",
		summary: "write an OCI layout as a docker-save tarball for `docker load`",
		run:     runTarball,
	}
}

func runTarball(_ context.Context, args []string, _ io.Writer) error {
	fs := newFlags("tarball")
	image := fs.String("image", "", "OCI layout directory")
	out := fs.String("out", "", "tarball to write")
	var tags stringList
	fs.Var(&tags, "tag", "REPO:TAG (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *image == "" || *out == "" {
		return usagef("--image and --out are required")
	}
	refs, err := dockersave.ParseTags(tags)
	if err != nil {
		return err
	}
	img, err := ocilayout.Read(*image)
	if err != nil {
		return err
	}
	return dockersave.WriteFile(*out, img, refs)
}
