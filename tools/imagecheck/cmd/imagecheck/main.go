// Command imagecheck checks an OCI image layout against image-check files (schemaVersion
// cat-server.image-checks/v1): what container-structure-test has no key for, i.e. size,
// HEALTHCHECK, setuid files and the exact set of exposed ports.
//
//	imagecheck --image DIR --checks checks.yaml [--checks more.yaml]
//
// It prints a PASS or FAIL line per check and a final "N passed, M failed" line, and
// exits 0 when every check passes, 1 when any fails, 2 on usage, file or image errors.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cat-server/cat-server/tools/cst/check"
	"github.com/cat-server/cat-server/tools/cst/config"
	"github.com/cat-server/cat-server/tools/cst/imagefs"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("imagecheck", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var files multiFlag
	image := fl.String("image", "", "OCI image layout directory holding one image (required)")
	fl.Var(&files, "checks", "image checks file (schemaVersion "+config.ImageChecksSchemaVersion+"); repeatable")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	switch {
	case fl.NArg() > 0:
		fmt.Fprintf(stderr, "imagecheck: unexpected arguments %q\n", fl.Args())
		return 2
	case *image == "":
		fmt.Fprintln(stderr, "imagecheck: --image is required")
		return 2
	case len(files) == 0:
		fmt.Fprintln(stderr, "imagecheck: give at least one --checks")
		return 2
	}
	var ics []*config.ImageChecks
	bad := false
	for _, f := range files {
		c, err := config.LoadImageChecks(f)
		if err != nil {
			fmt.Fprintf(stderr, "imagecheck: image checks error:\n%v\n", err)
			bad = true
		}
		ics = append(ics, c)
	}
	if bad {
		return 2
	}
	img, err := ocilayout.Read(*image)
	if err != nil {
		fmt.Fprintf(stderr, "imagecheck: %v\n", err)
		return 2
	}
	cf, err := img.ConfigFile()
	if err != nil {
		fmt.Fprintf(stderr, "imagecheck: reading the image config: %v\n", err)
		return 2
	}
	var root *imagefs.FS
	var sizes *check.Sizes
	var results []check.Result
	for i, ic := range ics {
		if ic.NoSetuidFiles && root == nil {
			if root, err = imagefs.New(img); err != nil {
				fmt.Fprintf(stderr, "imagecheck: reading the image filesystem: %v\n", err)
				return 2
			}
		}
		if ic.Size != nil && sizes == nil {
			s, err := check.MeasureSizes(img)
			if err != nil {
				fmt.Fprintf(stderr, "imagecheck: measuring the image: %v\n", err)
				return 2
			}
			sizes = &s
		}
		for _, r := range check.ImageChecks(files[i], ic, cf, sizes, root) {
			for _, l := range r.Lines() {
				fmt.Fprintln(stdout, l)
			}
			results = append(results, r)
		}
	}
	fmt.Fprintln(stdout, check.Summary(results))
	if len(results) == 0 {
		fmt.Fprintln(stdout, "FAIL: the files hold no checks")
		return 1
	}
	for _, r := range results {
		if !r.Passed() {
			return 1
		}
	}
	return 0
}
