package main

import (
	"context"
	"io"

	"github.com/cat-server/cat-server/tools/oci/build"
)

func init() {
	commands["image"] = command{
		usage:   "image --spec FILE",
		summary: "assemble an image (oci_image) into an OCI layout directory",
		run: func(_ context.Context, args []string, _ io.Writer) error {
			var spec build.Spec
			if err := decodeSpec("image", args, &spec); err != nil {
				return err
			}
			_, err := build.Build(spec)
			return err
		},
	}
}
