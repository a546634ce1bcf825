// Command cst checks an OCI image layout against container-structure-test
// configs (schema 2.0.0) and the project's image checks.
//
//	cst --image DIR --config a.yaml [--config b.yaml] [--image-checks checks.yaml] [--docker docker]
//
// It prints a PASS or FAIL line per check and a final "N passed, M failed"
// line, and exits 0 when every check passes, 1 when any fails, 2 on usage,
// config or image-reading errors.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cat-server/cat-server/tools/cst/check"
	"github.com/cat-server/cat-server/tools/cst/config"
	"github.com/cat-server/cat-server/tools/cst/docker"
	"github.com/cat-server/cat-server/tools/cst/imagefs"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const (
	exitPass  = 0
	exitFail  = 1
	exitUsage = 2
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// engineFactory connects to the container engine; tests replace it.
var engineFactory = func(ctx context.Context, dockerBin string, img v1.Image) (docker.Engine, string, func(), error) {
	cli, err := docker.NewCLI(ctx, dockerBin)
	if err != nil {
		return nil, "", nil, err
	}
	tag, err := cli.Load(ctx, img)
	if err != nil {
		return nil, "", nil, fmt.Errorf("loading the image into Docker: %w", err)
	}
	cleanup := func() {
		if err := cli.RemoveImage(context.WithoutCancel(ctx), tag); err != nil {
			fmt.Fprintf(os.Stderr, "cst: warning: removing %s: %v\n", tag, err)
		}
	}
	return cli, tag, cleanup, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("cst", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var configs, imageChecks multiFlag
	image := fl.String("image", "", "OCI image layout directory holding one image (required)")
	fl.Var(&configs, "config", "container-structure-test config (schemaVersion 2.0.0); repeatable")
	fl.Var(&imageChecks, "image-checks", "image checks file (schemaVersion "+config.ImageChecksSchemaVersion+"); repeatable")
	dockerBin := fl.String("docker", "docker", "docker binary, a name looked up in PATH or a path; only used by commandTests")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: cst --image DIR --config FILE [--config FILE...] [--image-checks FILE] [--docker BIN]")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "cst: "+format+"\n", a...)
		fl.Usage()
		return exitUsage
	}
	switch {
	case fl.NArg() > 0:
		return usage("unexpected arguments %q", fl.Args())
	case *image == "":
		return usage("--image is required")
	case len(configs) == 0 && len(imageChecks) == 0:
		return usage("give at least one --config or --image-checks")
	}

	// Load every file first, so all config errors show at once.
	var cfgs []*config.Config
	var ics []*config.ImageChecks
	bad := false
	for _, f := range configs {
		c, err := config.Load(f)
		if err != nil {
			fmt.Fprintf(stderr, "cst: config error:\n%v\n", err)
			bad = true
		}
		cfgs = append(cfgs, c)
	}
	for _, f := range imageChecks {
		c, err := config.LoadImageChecks(f)
		if err != nil {
			fmt.Fprintf(stderr, "cst: image checks error:\n%v\n", err)
			bad = true
		}
		ics = append(ics, c)
	}
	if bad {
		return exitUsage
	}

	img, err := ocilayout.Read(*image)
	if err != nil {
		fmt.Fprintf(stderr, "cst: %v\n", err)
		return exitUsage
	}
	cf, err := img.ConfigFile()
	if err != nil {
		fmt.Fprintf(stderr, "cst: reading the image config: %v\n", err)
		return exitUsage
	}

	var results []check.Result
	emit := func(rs ...check.Result) {
		for _, r := range rs {
			for _, l := range r.Lines() {
				fmt.Fprintln(stdout, l)
			}
			results = append(results, r)
		}
	}

	var root *imagefs.FS
	needFS := false
	for _, c := range cfgs {
		needFS = needFS || len(c.FileExistenceTests) > 0 || len(c.FileContentTests) > 0
	}
	for _, ic := range ics {
		needFS = needFS || ic.NoSetuidFiles
	}
	if needFS {
		if root, err = imagefs.New(img); err != nil {
			fmt.Fprintf(stderr, "cst: reading the image filesystem: %v\n", err)
			return exitUsage
		}
	}

	for i, c := range cfgs {
		emit(check.Metadata(configs[i], c.MetadataTest, cf)...)
		emit(check.FileExistence(configs[i], c.FileExistenceTests, root)...)
		emit(check.FileContent(configs[i], c.FileContentTests, root)...)
	}
	var sizes *check.Sizes
	for i, ic := range ics {
		if ic.Size != nil && sizes == nil {
			s, err := check.MeasureSizes(img)
			if err != nil {
				fmt.Fprintf(stderr, "cst: measuring the image: %v\n", err)
				return exitUsage
			}
			sizes = &s
		}
		emit(check.ImageChecks(imageChecks[i], ic, cf, sizes, root)...)
	}

	nCommands := 0
	for _, c := range cfgs {
		nCommands += len(c.CommandTests)
	}
	if nCommands > 0 {
		commandTests(ctx, *dockerBin, img, configs, cfgs, emit)
	}

	summary := check.Summary(results)
	fmt.Fprintln(stdout, summary)
	if len(results) == 0 {
		fmt.Fprintln(stderr, "cst: warning: the configs hold no checks")
	}
	for _, r := range results {
		if !r.Passed() {
			return exitFail
		}
	}
	return exitPass
}

// commandTests runs every config's commandTests through the engine. When
// there is no engine, every command test fails with the reason: they are
// never skipped silently.
func commandTests(ctx context.Context, dockerBin string, img v1.Image, files []string, cfgs []*config.Config, emit func(...check.Result)) {
	eng, ref, cleanup, err := engineFactory(ctx, dockerBin, img)
	if err != nil {
		field := "docker"
		if errors.Is(err, docker.ErrNoEngine) {
			field = ""
		}
		for i, c := range cfgs {
			for _, t := range c.CommandTests {
				emit(check.Fail(files[i], t.Name, field, "%v", err))
			}
		}
		return
	}
	defer cleanup()
	for i, c := range cfgs {
		for _, t := range c.CommandTests {
			emit(docker.RunTest(ctx, eng, ref, files[i], c.GlobalEnvVars, t))
		}
	}
}
