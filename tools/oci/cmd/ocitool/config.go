package main

import (
	"context"
	"io"

	"github.com/cat-server/cat-server/tools/oci/configedit"
)

func init() {
	commands["config"] = command{
		usage:   "config --spec FILE",
		summary: "change the config of any single-image OCI layout (HEALTHCHECK, numeric user) into a new layout",
		run: func(_ context.Context, args []string, _ io.Writer) error {
			var spec configedit.Spec
			if err := decodeSpec("config", args, &spec); err != nil {
				return err
			}
			_, err := configedit.Edit(spec)
			return err
		},
	}
}
