// Command cst checks an OCI image layout against container-structure-test
// configs (schema 1.0.0 and 2.0.0), with container-structure-test's `test` flags.
//
//	cst test --image-from-oci-layout DIR --config a.yaml [--config b.yaml] [--driver docker] [--platform linux/amd64]
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
	"github.com/google/go-containerregistry/pkg/v1/tarball"
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
	// container-structure-test's command line: `test` and its flags.
	if len(args) > 0 && args[0] == "test" {
		args = args[1:]
	}
	fl := flag.NewFlagSet("cst test", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var configs multiFlag
	image := fl.String("image", "", "path to a docker-save .tar of the image")
	fl.StringVar(image, "i", "", "shorthand for --image")
	layoutDir := fl.String("image-from-oci-layout", "", "OCI image layout directory holding one image")
	fl.Var(&configs, "config", "container-structure-test config (schemaVersion 1.0.0 or 2.0.0); repeatable")
	fl.Var(&configs, "c", "shorthand for --config")
	driver := fl.String("driver", "docker", "docker, tar or host (host is refused)")
	fl.StringVar(driver, "d", "docker", "shorthand for --driver")
	platform := fl.String("platform", "", "the image's platform, os/arch[/variant]; another one fails")
	output := fl.String("output", "text", "report format; only text is supported")
	fl.StringVar(output, "o", "text", "shorthand for --output")
	quiet := fl.Bool("quiet", false, "print only failures and the summary")
	fl.BoolVar(quiet, "q", false, "shorthand for --quiet")
	// Accepted for upstream's command line; they change nothing here.
	fl.Bool("ignore-ref-annotation", false, "accepted; the image is read directly")
	fl.String("default-image-tag", "", "accepted; the image is loaded under a tag of its own")
	fl.Bool("no-color", false, "accepted; output has no color")
	// Upstream flags this runner cannot honour: refused when set.
	unsupported := map[string]*string{}
	for _, name := range []string{"metadata", "runtime", "test-report", "junit-suite-name"} {
		unsupported[name] = fl.String(name, "", "not supported by this runner")
	}
	pull := fl.Bool("pull", false, "not supported by this runner")
	save := fl.Bool("save", false, "not supported by this runner")
	dockerBin := fl.String("docker", "docker", "docker binary, a name looked up in PATH or a path; only used by commandTests (not an upstream flag)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: cst test (--image-from-oci-layout DIR | --image FILE.tar) --config FILE [--config FILE...] [--driver docker|tar] [--platform OS/ARCH]")
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
	for name, v := range unsupported {
		if *v != "" {
			return usage("--%s is not supported by this runner", name)
		}
	}
	switch {
	case *pull:
		return usage("--pull is not supported by this runner: the image is read from --image or --image-from-oci-layout")
	case *save:
		return usage("--save is not supported by this runner")
	case *output != "text":
		return usage("--output %q is not supported by this runner: only text", *output)
	case fl.NArg() > 0:
		return usage("unexpected arguments %q", fl.Args())
	case *driver == "host":
		return usage("--driver host (tests against this machine) is not supported by this runner")
	case *driver != "docker" && *driver != "tar":
		return usage("--driver %q: must be docker, tar or host", *driver)
	case *image == "" && *layoutDir == "":
		return usage("give --image FILE.tar or --image-from-oci-layout DIR")
	case *image != "" && *layoutDir != "":
		return usage("give only one of --image and --image-from-oci-layout")
	case *layoutDir != "" && *driver != "docker":
		return usage("--image-from-oci-layout is not supported when not using Docker driver")
	case len(configs) == 0:
		return usage("give at least one --config")
	}
	// Load every file first, so all config errors show at once.
	var cfgs []*config.Config
	bad := false
	for _, f := range configs {
		c, err := config.Load(f)
		if err != nil {
			fmt.Fprintf(stderr, "cst: config error:\n%v\n", err)
			bad = true
		}
		cfgs = append(cfgs, c)
	}
	if bad {
		return exitUsage
	}

	img, err := readImage(*layoutDir, *image)
	if err != nil {
		fmt.Fprintf(stderr, "cst: %v\n", err)
		return exitUsage
	}
	cf, err := img.ConfigFile()
	if err != nil {
		fmt.Fprintf(stderr, "cst: reading the image config: %v\n", err)
		return exitUsage
	}
	if *platform != "" {
		if err := matchPlatform(*platform, cf); err != nil {
			fmt.Fprintf(stderr, "cst: --platform %s: %v\n", *platform, err)
			return exitUsage
		}
	}

	var results []check.Result
	emit := func(rs ...check.Result) {
		for _, r := range rs {
			if !*quiet || !r.Passed() {
				for _, l := range r.Lines() {
					fmt.Fprintln(stdout, l)
				}
			}
			results = append(results, r)
		}
	}

	var root *imagefs.FS
	needFS := false
	for _, c := range cfgs {
		needFS = needFS || len(c.FileExistenceTests) > 0 || len(c.FileContentTests) > 0 || len(c.LicenseTests) > 0
	}
	if needFS {
		if root, err = imagefs.New(img); err != nil {
			fmt.Fprintf(stderr, "cst: reading the image filesystem: %v\n", err)
			return exitUsage
		}
	}

	nCommands := 0
	for _, c := range cfgs {
		nCommands += len(c.CommandTests)
	}
	// Upstream's order: commandTests, fileContentTests, fileExistenceTests, licenseTests,
	// metadataTest.
	if nCommands > 0 {
		if *driver == "tar" {
			for i, c := range cfgs {
				for _, t := range c.CommandTests {
					emit(check.Fail(configs[i], t.Name, "", "the tar driver cannot run commandTests: use driver docker"))
				}
			}
		} else {
			commandTests(ctx, *dockerBin, img, cf, configs, cfgs, emit)
		}
	}
	for i, c := range cfgs {
		emit(check.FileContent(configs[i], c.FileContentTests, root)...)
		opts := check.FileOptions{Env: check.EnvMap(cf.Config.Env, c.GlobalEnvVars), NoOwnership: *driver == "tar"}
		emit(check.FileExistenceWith(configs[i], c.FileExistenceTests, root, opts)...)
		emit(check.Licenses(configs[i], c.LicenseTests, root)...)
		emit(check.Metadata(configs[i], c.MetadataTest, cf)...)
	}

	summary := check.Summary(results)
	fmt.Fprintln(stdout, summary)
	if len(results) == 0 {
		// As upstream: a run without a single test fails.
		fmt.Fprintln(stdout, "FAIL: the configs hold no tests")
		return exitFail
	}
	for _, r := range results {
		if !r.Passed() {
			return exitFail
		}
	}
	return exitPass
}

// readImage reads the image from an OCI layout directory or a docker-save tarball.
func readImage(layoutDir, tarPath string) (v1.Image, error) {
	if layoutDir != "" {
		return ocilayout.Read(layoutDir)
	}
	img, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		return nil, fmt.Errorf("--image %s: reading a docker-save tarball: %w", tarPath, err)
	}
	return img, nil
}

// matchPlatform checks the image config against os/arch[/variant].
func matchPlatform(want string, cf *v1.ConfigFile) error {
	p, err := v1.ParsePlatform(want)
	if err != nil {
		return err
	}
	got := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	if p.OS != got.OS || p.Architecture != got.Architecture || (p.Variant != "" && p.Variant != got.Variant) {
		return fmt.Errorf("the image is for %s", got.String())
	}
	return nil
}

// commandTests runs every config's commandTests through the engine. When
// there is no engine, every command test fails with the reason: they are
// never skipped silently.
func commandTests(ctx context.Context, dockerBin string, img v1.Image, cf *v1.ConfigFile, files []string, cfgs []*config.Config, emit func(...check.Result)) {
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
			emit(docker.RunTest(ctx, eng, ref, files[i], docker.Options{
				Global:     c.GlobalEnvVars,
				ImageEnv:   cf.Config.Env,
				RunOptions: c.ContainerRunOptions,
			}, t))
		}
	}
}
