// Command provenance writes the SLSA v1 provenance predicate of a build
// (//tools/provenance:defs.bzl's slsa_provenance; package slsa says what is in it).
//
//	provenance --spec spec.json --out provenance.json
//
// spec.json (written by the rule):
//
//	{"stamp": "stamp.json", "go_mod": "go.mod", "go_sum": "go.sum",
//	 "toolchain_sums": "tools/gosdk/toolchain.sums", "bazel_version_file": ".bazelversion",
//	 "go_sdk_platform": "linux-amd64", "source_uri": "https://...", "target": "//image:image",
//	 "defines": {"uid": "1000"}, "platforms": [...], "compilation_mode": "fastbuild",
//	 "bases": [{"name": "//image/base:base", "layout": "bazel-out/.../base"}]}
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cat-server/cat-server/tools/oci/atomicfile"
	"github.com/cat-server/cat-server/tools/provenance/slsa"
)

type base struct {
	Name   string `json:"name"`
	Layout string `json:"layout"`
}

type spec struct {
	Stamp            string            `json:"stamp"`
	GoMod            string            `json:"go_mod"`
	GoSum            string            `json:"go_sum"`
	ToolchainSums    string            `json:"toolchain_sums"`
	BazelVersionFile string            `json:"bazel_version_file"`
	GoSDKPlatform    string            `json:"go_sdk_platform"`
	SourceURI        string            `json:"source_uri"`
	Target           string            `json:"target"`
	Defines          map[string]string `json:"defines"`
	Platforms        []string          `json:"platforms"`
	CompilationMode  string            `json:"compilation_mode"`
	Bases            []base            `json:"bases"`
}

func main() {
	if err := run(os.Args[1:], os.Stderr, time.Now); err != nil {
		fmt.Fprintln(os.Stderr, "provenance:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer, now func() time.Time) error {
	fs := flag.NewFlagSet("provenance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	specPath := fs.String("spec", "", "the rule's JSON spec")
	out := fs.String("out", "", "the predicate to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *specPath == "" || *out == "" {
		return errors.New("--spec and --out are required")
	}
	data, err := os.ReadFile(*specPath)
	if err != nil {
		return fmt.Errorf("reading --spec: %w", err)
	}
	var sp spec
	if err := json.Unmarshal(data, &sp); err != nil {
		return fmt.Errorf("--spec %s: %w", *specPath, err)
	}
	in, err := inputs(sp)
	if err != nil {
		return err
	}
	in.FinishedOn = now().UTC().Format(time.RFC3339)
	pred, err := json.MarshalIndent(slsa.Build(in), "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(*out, 0o644, func(w io.Writer) error {
		_, err := w.Write(append(pred, '\n'))
		return err
	})
}

func inputs(sp spec) (slsa.Inputs, error) {
	for field, v := range map[string]string{
		"stamp": sp.Stamp, "go_mod": sp.GoMod, "go_sum": sp.GoSum, "toolchain_sums": sp.ToolchainSums,
		"bazel_version_file": sp.BazelVersionFile, "go_sdk_platform": sp.GoSDKPlatform,
		"source_uri": sp.SourceURI, "target": sp.Target,
	} {
		if v == "" {
			return slsa.Inputs{}, fmt.Errorf("spec field %s is empty", field)
		}
	}
	if len(sp.Bases) == 0 {
		return slsa.Inputs{}, errors.New("spec field bases is empty")
	}
	st, err := slsa.ReadStamp(sp.Stamp)
	if err != nil {
		return slsa.Inputs{}, err
	}
	read := func(p string) ([]byte, error) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading %w", err)
		}
		return b, nil
	}
	goMod, err := read(sp.GoMod)
	if err != nil {
		return slsa.Inputs{}, err
	}
	goVersion, err := slsa.GoVersion(sp.GoMod, goMod)
	if err != nil {
		return slsa.Inputs{}, err
	}
	sums, err := read(sp.ToolchainSums)
	if err != nil {
		return slsa.Inputs{}, err
	}
	sdk, err := slsa.GoSDKDependency(sp.ToolchainSums, sums, goVersion, sp.GoSDKPlatform)
	if err != nil {
		return slsa.Inputs{}, err
	}
	goSum, err := read(sp.GoSum)
	if err != nil {
		return slsa.Inputs{}, err
	}
	modules, err := slsa.GoSumDependencies(sp.GoSum, goSum)
	if err != nil {
		return slsa.Inputs{}, err
	}
	bv, err := read(sp.BazelVersionFile)
	if err != nil {
		return slsa.Inputs{}, err
	}
	bazelVersion := strings.TrimSpace(string(bv))
	if bazelVersion == "" {
		return slsa.Inputs{}, fmt.Errorf("%s is empty", sp.BazelVersionFile)
	}
	var bases []slsa.ResourceDescriptor
	for _, b := range sp.Bases {
		d, err := slsa.BaseDependency(b.Name, b.Layout)
		if err != nil {
			return slsa.Inputs{}, err
		}
		bases = append(bases, d)
	}
	return slsa.Inputs{
		Stamp:           st,
		SourceURI:       sp.SourceURI,
		Target:          sp.Target,
		Defines:         sp.Defines,
		Platforms:       sp.Platforms,
		CompilationMode: sp.CompilationMode,
		BazelVersion:    bazelVersion,
		GoVersion:       goVersion,
		GoSDK:           sdk,
		GoSum:           modules,
		Bases:           bases,
	}, nil
}
