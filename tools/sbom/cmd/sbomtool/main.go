// Command sbomtool describes OCI images as CycloneDX SBOMs and wraps an SBOM
// in an OCI artifact that refers to its image. The Bazel rules of
// //tools/sbom:defs.bzl run it:
//
//	sbomtool sbom --image DIR --name NAME --binary FILE --main-package PKG --packages FILE --go-mod FILE --go-sum FILE --out FILE
//	sbomtool artifact --image DIR --sbom FILE --out DIR
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cat-server/cat-server/tools/oci/atomicfile"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/sbom/artifact"
	"github.com/cat-server/cat-server/tools/sbom/bom"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sbomtool:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: sbomtool sbom|artifact [flags]")
	}
	switch args[0] {
	case "sbom":
		return runSBOM(args[1:], stderr)
	case "artifact":
		return runArtifact(args[1:], stderr)
	}
	return fmt.Errorf("unknown subcommand %q: want sbom or artifact", args[0])
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sbomtool "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// required returns an error naming the first empty flag.
func required(flags map[string]string) error {
	for _, k := range sortedKeys(flags) {
		if flags[k] == "" {
			return fmt.Errorf("--%s is required", k)
		}
	}
	return nil
}

func runSBOM(args []string, stderr io.Writer) error {
	fs := newFlags("sbom", stderr)
	image := fs.String("image", "", "OCI image layout directory")
	name := fs.String("name", "", "name of the image in the SBOM (e.g. its Bazel label)")
	binary := fs.String("binary", "", "Go binary built into the image")
	mainPkg := fs.String("main-package", "", "import path of --binary's main package")
	packages := fs.String("packages", "", "file listing the import paths linked into --binary, one per line")
	goMod := fs.String("go-mod", "", "go.mod of the build")
	goSum := fs.String("go-sum", "", "go.sum of the build")
	out := fs.String("out", "", "SBOM file to write (CycloneDX JSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(map[string]string{"image": *image, "name": *name, "binary": *binary, "main-package": *mainPkg, "packages": *packages, "go-mod": *goMod, "go-sum": *goSum, "out": *out}); err != nil {
		return err
	}
	img, err := ocilayout.Read(*image)
	if err != nil {
		return fmt.Errorf("--image: %w", err)
	}
	list, err := os.ReadFile(*packages)
	if err != nil {
		return fmt.Errorf("--packages: %w", err)
	}
	in, err := bom.FromImage(*name, img, []bom.GoBinary{{
		File: *binary, MainPackage: *mainPkg, Packages: strings.Fields(string(list)), GoMod: *goMod, GoSum: *goSum,
	}})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := bom.Encode(&buf, bom.Build(in)); err != nil {
		return err
	}
	return atomicfile.WriteBytes(*out, 0o644, buf.Bytes())
}

func runArtifact(args []string, stderr io.Writer) error {
	fs := newFlags("artifact", stderr)
	image := fs.String("image", "", "OCI image layout directory the SBOM describes (the subject)")
	sbom := fs.String("sbom", "", "SBOM file (CycloneDX JSON)")
	out := fs.String("out", "", "OCI layout directory to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(map[string]string{"image": *image, "sbom": *sbom, "out": *out}); err != nil {
		return err
	}
	img, err := ocilayout.Read(*image)
	if err != nil {
		return fmt.Errorf("--image: %w", err)
	}
	content, err := os.ReadFile(*sbom)
	if err != nil {
		return fmt.Errorf("--sbom: %w", err)
	}
	if err := bom.Check(content); err != nil {
		return fmt.Errorf("--sbom %s: %w", *sbom, err)
	}
	subject, err := descriptor(img)
	if err != nil {
		return err
	}
	a, err := artifact.New(subject, bom.MediaType, bom.MediaType, content, map[string]string{
		"org.opencontainers.image.title": "sbom.cdx.json",
	})
	if err != nil {
		return err
	}
	return ocilayout.Write(*out, a)
}

// descriptor is img's manifest descriptor: what the artifact's subject holds.
func descriptor(img interface {
	MediaType() (types.MediaType, error)
	Digest() (v1.Hash, error)
	RawManifest() ([]byte, error)
}) (v1.Descriptor, error) {
	mt, err := img.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Digest: d, Size: int64(len(raw))}, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
