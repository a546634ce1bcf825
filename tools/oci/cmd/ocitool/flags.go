package main

import (
	"errors"
	"flag"
	"io"
	"strings"

	"github.com/cat-server/cat-server/tools/oci/specfile"
)

// newFlags returns a FlagSet that reports errors instead of exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args and refuses positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// decodeSpec parses `--spec FILE` from args and decodes the file into v.
func decodeSpec(name string, args []string, v any) error {
	fs := newFlags(name)
	spec := fs.String("spec", "", "JSON spec file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *spec == "" {
		return usagef("--spec FILE is required")
	}
	return specfile.Decode(*spec, v)
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// lastString is a string flag that may repeat; the last value wins.
type lastString string

func (s *lastString) String() string     { return string(*s) }
func (s *lastString) Set(v string) error { *s = lastString(v); return nil }
