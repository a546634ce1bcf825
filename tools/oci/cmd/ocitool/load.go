package main

import (
	"context"
	"io"
	"os"

	"github.com/cat-server/cat-server/tools/oci/load"
)

func init() {
	commands["load"] = command{
		usage:   "load --image DIR --repo-tags FILE [--format docker|oci] [--loader PATH]",
		summary: "stream an OCI layout into `<loader> load --input` (docker, podman or nerdctl by default)",
		run: func(ctx context.Context, args []string, stdout io.Writer) error {
			fs := newFlags("load")
			f := addTarballFlags(fs)
			loader := fs.String("loader", "", "container CLI to run instead of docker/podman/nerdctl")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			what, write, err := f.writer()
			if err != nil {
				return err
			}
			return load.Load(ctx, *loader, what, write, stdout, os.Stderr)
		},
	}
}
