package main

import (
	"context"
	"io"
	"log"
	"os"

	"github.com/google/go-containerregistry/pkg/logs"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/oci/push"
	"github.com/cat-server/cat-server/tools/oci/specfile"
)

func init() {
	commands["push"] = command{
		usage:   "push --image DIR [--repository-file FILE] [--remote-tags FILE] [-- [-r|--repository REPO] [-t|--tag TAG]... [--insecure] [-v] [--platform P] [--allow-nondistributable-artifacts]]",
		summary: "push an OCI layout (image or index) by digest, then tag it; the arguments after -- follow rules_oci's oci_push",
		run:     runPush,
	}
}

func runPush(ctx context.Context, args []string, stdout io.Writer) error {
	// The tool's own flags (written by the oci_push rule) are taken out;
	// everything else is the user's, parsed with upstream's grammar.
	own := map[string]*string{"--image": new(string), "--repository-file": new(string), "--remote-tags": new(string)}
	var rest []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if p, ok := own[args[i]]; ok {
			if i+1 == len(args) {
				return usagef("%s needs a value", args[i])
			}
			*p = args[i+1]
			i++
			continue
		}
		rest = append(rest, args[i])
	}
	image, repoFile, tagsFile := own["--image"], own["--repository-file"], own["--remote-tags"]
	if *image == "" {
		return usagef("--image DIR is required")
	}
	a, err := push.ParseArgs(rest)
	if err != nil {
		return usagef("%v", err)
	}
	repository := a.Repository
	if repository == "" && *repoFile != "" {
		lines, err := specfile.ReadLines("repository_file", *repoFile)
		if err != nil {
			return err
		}
		if len(lines) > 0 {
			repository = lines[0]
		}
	}
	if repository == "" {
		// rules_oci 2.3's message, word for word (oci/private/push.sh.tpl).
		return upstreamError{"ERROR: repository not set. Please pass --repository flag."}
	}
	tags := a.Tags
	if *tagsFile != "" {
		more, err := specfile.ReadLines("remote_tags", *tagsFile)
		if err != nil {
			return err
		}
		tags = append(tags, more...)
	}
	var nameOpts []name.Option
	var opts []remote.Option
	if a.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	if a.AllowNondistributable {
		opts = append(opts, remote.WithNondistributable)
	}
	if a.Platform != nil {
		opts = append(opts, remote.WithPlatform(*a.Platform))
	}
	if a.Verbose {
		logs.Debug = log.New(os.Stderr, "", log.LstdFlags)
	}
	if _, _, err := push.Target(repository, tags, nameOpts...); err != nil {
		return err
	}
	art, err := ocilayout.ReadArtifact(*image)
	if err != nil {
		return err
	}
	pa, ok := art.(push.Artifact)
	if !ok {
		return usagef("%s holds neither an image nor an index", *image)
	}
	_, err = push.PushWith(ctx, pa, repository, tags, stdout, nameOpts, opts...)
	return err
}
