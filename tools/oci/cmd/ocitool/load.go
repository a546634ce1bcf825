package main

import (
	"context"
	"io"
	"os"

	"github.com/cat-server/cat-server/tools/oci/load"
)

func init() {
	commands["load"] = command{
		usage:   "load --tarball FILE",
		summary: "pipe a docker-save tarball into `docker load` (or podman, nerdctl)",
		run: func(ctx context.Context, args []string, stdout io.Writer) error {
			fs := newFlags("load")
			tarball := fs.String("tarball", "", "docker-save tarball")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			if *tarball == "" {
				return usagef("--tarball FILE is required")
			}
			return load.Load(ctx, *tarball, stdout, os.Stderr)
		},
	}
}
