package main

import (
	"context"
	"io"

	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/oci/push"
)

func init() {
	commands["push"] = command{
		usage:   "push --image DIR [--repository|-r REPO]... [--tag|-t TAG]...",
		summary: "push an OCI layout by digest, then tag it (the last repository given wins; tags add up)",
		run:     runPush,
	}
}

func runPush(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("push")
	image := fs.String("image", "", "OCI layout directory")
	var repo lastString
	var tags stringList
	fs.Var(&repo, "repository", "repository, e.g. registry.example.com/team/app (the last one given wins)")
	fs.Var(&repo, "r", "short for --repository")
	fs.Var(&tags, "tag", "tag to apply (repeatable)")
	fs.Var(&tags, "t", "short for --tag")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *image == "" {
		return usagef("--image DIR is required")
	}
	if _, _, err := push.Target(string(repo), tags); err != nil {
		return err
	}
	img, err := ocilayout.Read(*image)
	if err != nil {
		return err
	}
	_, err = push.Push(ctx, img, string(repo), tags, stdout)
	return err
}
