package main

import (
	"context"
	"io"

	"github.com/cat-server/cat-server/tools/oci/layer"
)

func init() {
	commands["layer"] = command{
		usage:   "layer --spec FILE",
		summary: "write a deterministic tar layer",
		run: func(_ context.Context, args []string, _ io.Writer) error {
			var spec layer.Spec
			if err := decodeSpec("layer", args, &spec); err != nil {
				return err
			}
			return layer.Build(spec)
		},
	}
}
