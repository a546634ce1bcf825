// Command release is the Go side of tools/release/defs.bzl's image_release:
//
//	release --image DIR --stamp FILE [--sbom FILE --sbom-artifact DIR] [--provenance FILE]
//	        [--stamped-tags FILE] [--recursive] -- --repository=REG/REPO [--key=KEYREF] [--offline] [--tag=T]...
//
// It refuses an unstamped build, then pushes the image by digest, its SBOM
// referrer, signs it and attests the SBOM and provenance with the cosign on
// PATH, and tags it last. COSIGN_PASSWORD (and any registry credentials) reach
// cosign through the environment and are never printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cat-server/cat-server/tools/cosign/launch"
	"github.com/cat-server/cat-server/tools/release/release"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	var in release.Inputs
	fs.StringVar(&in.Image, "image", "", "OCI layout of the image or index")
	fs.StringVar(&in.Stamp, "stamp", "", "stamp.json")
	fs.StringVar(&in.SBOM, "sbom", "", "CycloneDX SBOM to attest")
	fs.StringVar(&in.SBOMArtifact, "sbom-artifact", "", "OCI layout of the SBOM referrer")
	fs.StringVar(&in.Provenance, "provenance", "", "SLSA v1 provenance predicate to attest")
	fs.StringVar(&in.StampedTags, "stamped-tags", "", "file of tags, one per line")
	fs.BoolVar(&in.Recursive, "recursive", false, "sign an index and each of its images")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if in.Image == "" || in.Stamp == "" {
		return errors.New("--image and --stamp are required (the rule passes them)")
	}
	f, err := release.ParseFlags(fs.Args())
	if err != nil {
		return err
	}
	st, err := release.ReadStamp(in.Stamp)
	if err != nil {
		return err
	}
	dirty := ""
	if st.Dirty {
		dirty = " (dirty tree)"
	}
	fmt.Printf("release: version %s, revision %s%s\n", st.Version, st.Revision, dirty)
	tags, err := release.Tags(in.StampedTags, f.Tags)
	if err != nil {
		return err
	}
	bin, err := exec.LookPath("cosign")
	if err != nil {
		return launch.NotFound(err)
	}
	cosign := func(ctx context.Context, args []string) error {
		fmt.Printf("cosign %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("cosign %s: %w", args[0], err)
		}
		return nil
	}
	steps, err := release.Plan(in, f, tags, cosign, os.Stdout)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return release.Run(ctx, steps, os.Stdout)
}
