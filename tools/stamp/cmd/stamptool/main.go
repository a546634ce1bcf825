// Command stamptool is the one tool of //tools/stamp's rules.
//
//	stamptool info --out stamp.json [--stable stable-status.txt --volatile volatile-status.txt]
//	stamptool expand --template F --spec spec.json --out F [--executable] [--stable S --volatile V]
//
// Without --stable (the build has no --stamp) info writes {"stamped": false} and
// expand ignores the stamp substitutions, so nothing volatile enters the output.
// spec.json is {"substitutions": [[from, to], ...], "stamp_substitutions": [[from, to], ...]}.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cat-server/cat-server/tools/oci/atomicfile"
	"github.com/cat-server/cat-server/tools/stamp/status"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "stamptool:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: stamptool info|expand [flags]")
	}
	switch args[0] {
	case "info":
		return info(args[1:], stderr)
	case "expand":
		return expand(args[1:], stderr)
	default:
		return fmt.Errorf("unknown subcommand %q (want info or expand)", args[0])
	}
}

// statusFlags are --stable and --volatile: both or neither.
type statusFlags struct{ stable, volatile string }

func (s *statusFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.stable, "stable", "", "Bazel's stable-status.txt (only when stamping)")
	fs.StringVar(&s.volatile, "volatile", "", "Bazel's volatile-status.txt (only when stamping)")
}

// read returns the merged status, or nil when not stamping.
func (s *statusFlags) read() (status.Status, error) {
	if s.stable == "" && s.volatile == "" {
		return nil, nil
	}
	if s.stable == "" || s.volatile == "" {
		return nil, errors.New("--stable and --volatile go together")
	}
	return status.ReadFiles(s.stable, s.volatile)
}

func info(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf statusFlags
	sf.register(fs)
	out := fs.String("out", "", "the stamp.json to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("--out is required")
	}
	st, err := sf.read()
	if err != nil {
		return err
	}
	inf := status.Unstamped()
	if st != nil {
		if inf, err = status.InfoOf(st); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(inf, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(*out, append(data, '\n'), 0o644)
}

// spec is expand's --spec file.
type spec struct {
	Substitutions      [][2]string `json:"substitutions"`
	StampSubstitutions [][2]string `json:"stamp_substitutions"`
}

func pairs(p [][2]string) []status.Substitution {
	subs := make([]status.Substitution, len(p))
	for i, kv := range p {
		subs[i] = status.Substitution{From: kv[0], To: kv[1]}
	}
	return subs
}

func expand(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("expand", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf statusFlags
	sf.register(fs)
	template := fs.String("template", "", "the template file")
	specPath := fs.String("spec", "", "JSON file of the substitutions")
	out := fs.String("out", "", "the file to write")
	executable := fs.Bool("executable", false, "make the output executable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for name, v := range map[string]string{"--template": *template, "--spec": *specPath, "--out": *out} {
		if v == "" {
			return fmt.Errorf("%s is required", name)
		}
	}
	st, err := sf.read()
	if err != nil {
		return err
	}
	tmpl, err := os.ReadFile(*template)
	if err != nil {
		return fmt.Errorf("reading --template: %w", err)
	}
	data, err := os.ReadFile(*specPath)
	if err != nil {
		return fmt.Errorf("reading --spec: %w", err)
	}
	var sp spec
	if err := json.Unmarshal(data, &sp); err != nil {
		return fmt.Errorf("--spec %s: %w", *specPath, err)
	}
	text, err := status.Expand(string(tmpl), pairs(sp.Substitutions), pairs(sp.StampSubstitutions), st)
	if err != nil {
		return fmt.Errorf("expanding %s: %w", *template, err)
	}
	perm := os.FileMode(0o644)
	if *executable {
		perm = 0o755
	}
	return writeFile(*out, []byte(text), perm)
}

func writeFile(path string, data []byte, perm os.FileMode) error {
	return atomicfile.Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
