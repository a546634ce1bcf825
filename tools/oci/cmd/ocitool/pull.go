package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/cat-server/cat-server/tools/oci/pull"
)

func init() {
	commands["pull"] = command{
		usage:   "pull --image REPO (--digest sha256:... | --tag TAG) [--platform OS/ARCH[/VARIANT]] --out DIR [--name NAME] [--digest-out FILE]",
		summary: "pull one platform's image from a registry, verify every blob, write it as an OCI layout (oci_pull)",
		run:     runPull,
	}
	commands["import"] = command{
		usage:   "import --from PATH --platform OS/ARCH[/VARIANT] --out DIR",
		summary: "import a base image from an OCI layout directory or a docker-save tarball, verified like pull",
		run:     runImport,
	}
}

func runPull(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("pull")
	var opts pull.Options
	fs.StringVar(&opts.Image, "image", "", "repository without tag or digest, e.g. index.docker.io/library/alpine")
	fs.StringVar(&opts.Digest, "digest", "", "manifest or index digest to pin, sha256:...")
	fs.StringVar(&opts.Tag, "tag", "", "tag, used only without --digest (warns with the digest to pin)")
	fs.StringVar(&opts.Platform, "platform", "", "os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8 (none: a single-platform image)")
	digestOut := fs.String("digest-out", "", "file to write the digest the reference resolved to (index or manifest)")
	fs.StringVar(&opts.Out, "out", "", "directory to write the single-image OCI layout to")
	fs.StringVar(&opts.Name, "name", "", "name of the image in messages (default: the repository's last path element)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case opts.Image == "":
		return usagef("--image REPO is required")
	case opts.Digest == "" && opts.Tag == "":
		return usagef("--digest or --tag is required")
	case opts.Out == "":
		return usagef("--out DIR is required")
	}
	res, err := pull.Pull(ctx, opts)
	if err != nil {
		return err
	}
	if *digestOut != "" {
		if err := os.WriteFile(*digestOut, []byte(res.Digest.String()), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "pulled %s %s: image %s (from %s) into %s\n", opts.Image, res.Platform, res.ImageDigest, res.Digest, opts.Out)
	return nil
}

func runImport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("import")
	from := fs.String("from", "", "OCI layout directory or docker-save tarball")
	platform := fs.String("platform", "", "os/arch[/variant], e.g. linux/amd64")
	out := fs.String("out", "", "directory to write the single-image OCI layout to")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *from == "":
		return usagef("--from PATH is required")
	case *platform == "":
		return usagef("--platform OS/ARCH[/VARIANT] is required")
	case *out == "":
		return usagef("--out DIR is required")
	}
	res, err := pull.Import(ctx, *from, *platform, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %s %s: image %s into %s\n", *from, res.Platform, res.ImageDigest, *out)
	return nil
}
