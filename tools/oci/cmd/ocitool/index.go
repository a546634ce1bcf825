package main

import (
	"context"
	"io"

	"github.com/cat-server/cat-server/tools/oci/index"
)

func init() {
	commands["index"] = command{
		usage:   "index --spec FILE",
		summary: "assemble a multi-platform image index (oci_image_index) into an OCI layout directory",
		run: func(_ context.Context, args []string, _ io.Writer) error {
			var spec index.Spec
			if err := decodeSpec("index", args, &spec); err != nil {
				return err
			}
			_, err := index.Build(spec)
			return err
		},
	}
}
