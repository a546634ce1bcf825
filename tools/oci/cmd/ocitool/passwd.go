package main

import (
	"context"
	"io"

	"github.com/cat-server/cat-server/tools/oci/passwd"
)

func init() {
	commands["passwd"] = command{
		usage:   "passwd --spec FILE",
		summary: "write the layer adding the non-root user to /etc/passwd and /etc/group",
		run: func(_ context.Context, args []string, _ io.Writer) error {
			var spec passwd.Spec
			if err := decodeSpec("passwd", args, &spec); err != nil {
				return err
			}
			return passwd.Build(spec)
		},
	}
}
