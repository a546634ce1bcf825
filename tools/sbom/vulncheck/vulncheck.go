// Package vulncheck runs govulncheck (golang.org/x/vuln) in binary mode on a
// Go binary and applies the project's severity rules to its findings:
//
//   - FAIL: a vulnerable symbol is in the binary (govulncheck's symbol-level
//     finding: the linker kept it, so the program can call it).
//   - WARN: the binary links a vulnerable package but none of its vulnerable
//     symbols (package level), or only requires an affected module version
//     (module level).
//
// Binaries linked by rules_go carry the Go version in their build
// information but no module list, which govulncheck needs to look modules
// up. The modules therefore come from the SBOM (the build graph mapped
// through go.mod): govulncheck's own -mode=extract reads the binary's
// symbols, the module list is added to that extract, and govulncheck
// -mode=binary checks it. A binary that does carry modules (built by `go
// build`) keeps its own.
package vulncheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/vuln/scan"
)

// Module is a module linked into the binary.
type Module struct{ Path, Version string }

// Options say what to check against which database.
type Options struct {
	// Binary is the Go binary's file.
	Binary string
	// MainPackage and MainModule describe the binary's main package and
	// module; Modules are the other linked modules.
	MainPackage string
	MainModule  Module
	Modules     []Module
	// GOOS and GOARCH of the binary (from the image config).
	GOOS, GOARCH string
	// DB is the vulnerability database URL (https://... or file:///...).
	DB string
	// TempDir receives the extract file.
	TempDir string
}

// Level is how close a finding is to the program.
type Level string

const (
	LevelSymbol  Level = "symbol"  // a vulnerable symbol is in the binary
	LevelPackage Level = "package" // a vulnerable package is linked, not its vulnerable symbols
	LevelModule  Level = "module"  // an affected module version is linked
)

// Finding is one vulnerability govulncheck reported.
type Finding struct {
	ID, Summary     string
	Module, Version string
	// Fixed is the first fixed version ("" when there is none).
	Fixed   string
	Level   Level
	Symbols []string // at LevelSymbol: the vulnerable symbols in the binary
}

// Fails reports whether the finding fails the check.
func (f Finding) Fails() bool { return f.Level == LevelSymbol }

// String is one report line: "FAIL GO-...: module@version (fixed in vX): ...".
func (f Finding) String() string {
	verdict := "WARN"
	if f.Fails() {
		verdict = "FAIL"
	}
	fixed := "no fixed version"
	if f.Fixed != "" {
		fixed = "fixed in " + f.Fixed
	}
	var what string
	switch f.Level {
	case LevelSymbol:
		what = "vulnerable symbol in the binary: " + strings.Join(f.Symbols, ", ")
	case LevelPackage:
		what = "vulnerable package linked, its vulnerable symbols are not in the binary"
	default:
		what = "affected module version linked, no vulnerable package in the binary"
	}
	return fmt.Sprintf("%s %s: %s@%s (%s): %s: %s", verdict, f.ID, f.Module, f.Version, fixed, what, f.Summary)
}

// Report is the outcome of one check.
type Report struct {
	// Findings, worst first.
	Findings []Finding
	// Stripped is set when the binary has no symbol table: govulncheck then
	// counts every vulnerable symbol of an affected module as present.
	Stripped bool
}

// Run checks the binary.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.DB == "" {
		return nil, errors.New("no vulnerability database given")
	}
	var extract, stderr bytes.Buffer
	if err := govulncheck(ctx, &extract, &stderr, "-mode=extract", o.Binary); err != nil {
		return nil, fmt.Errorf("govulncheck -mode=extract %s: %w\n%s", o.Binary, err, stderr.String())
	}
	blob, stripped, err := addModules(extract.Bytes(), o)
	if err != nil {
		return nil, err
	}
	blobFile := filepath.Join(o.TempDir, filepath.Base(o.Binary)+".govulncheck-extract.json")
	if err := os.WriteFile(blobFile, blob, 0o644); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	stderr.Reset()
	if err := govulncheck(ctx, &out, &stderr, "-mode=binary", "-json", "-db", o.DB, blobFile); err != nil {
		return nil, fmt.Errorf("govulncheck -mode=binary -db %s: %w\n%s", o.DB, err, stderr.String())
	}
	findings, err := parse(&out)
	if err != nil {
		return nil, err
	}
	return &Report{Findings: findings, Stripped: stripped}, nil
}

func govulncheck(ctx context.Context, stdout, stderr io.Writer, args ...string) error {
	cmd := scan.Command(ctx, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Stdin = strings.NewReader("")
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Wait()
}

// addModules completes govulncheck's extract of the binary (a header line,
// then the binary's description) with the module list, main package and
// platform when the binary does not carry them, and reports whether the
// binary had no symbols.
func addModules(extract []byte, o Options) (_ []byte, stripped bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(extract))
	var header json.RawMessage
	var bin map[string]json.RawMessage
	if err := dec.Decode(&header); err != nil {
		return nil, false, fmt.Errorf("govulncheck extract: header: %w", err)
	}
	if err := dec.Decode(&bin); err != nil {
		return nil, false, fmt.Errorf("govulncheck extract: body: %w", err)
	}
	_, hasSymbols := bin["pkgSymbols"]
	set := func(key string, v any) error {
		if _, ok := bin[key]; ok {
			return nil // the binary's own information wins
		}
		b, err := json.Marshal(v)
		bin[key] = b
		return err
	}
	type pm struct{ Path, Version string }
	mods := make([]pm, 0, len(o.Modules))
	for _, m := range o.Modules {
		mods = append(mods, pm(m))
	}
	for _, kv := range []struct {
		key string
		v   any
	}{
		{"modules", mods},
		{"main", pm(o.MainModule)},
		{"path", o.MainPackage},
		{"goos", o.GOOS},
		{"goarch", o.GOARCH},
	} {
		if err := set(kv.key, kv.v); err != nil {
			return nil, false, err
		}
	}
	body, err := json.Marshal(bin)
	if err != nil {
		return nil, false, err
	}
	return append(append(append([]byte{}, header...), '\n'), append(body, '\n')...), !hasSymbols, nil
}

// message is the part of govulncheck's -json stream this package reads.
type message struct {
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
		Details string `json:"details"`
	} `json:"osv"`
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
			Receiver string `json:"receiver"`
		} `json:"trace"`
	} `json:"finding"`
}

var rank = map[Level]int{LevelSymbol: 0, LevelPackage: 1, LevelModule: 2}

func parse(r io.Reader) ([]Finding, error) {
	summaries := map[string]string{}
	byID := map[string]*Finding{}
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading govulncheck -json output: %w", err)
		}
		if m.OSV != nil {
			s := m.OSV.Summary
			if s == "" {
				s = m.OSV.Details
			}
			summaries[m.OSV.ID] = s
		}
		if m.Finding == nil || len(m.Finding.Trace) == 0 {
			continue
		}
		fr := m.Finding.Trace[0]
		level := LevelModule
		switch {
		case fr.Function != "":
			level = LevelSymbol
		case fr.Package != "":
			level = LevelPackage
		}
		f, ok := byID[m.Finding.OSV]
		if !ok {
			f = &Finding{ID: m.Finding.OSV, Module: fr.Module, Version: fr.Version, Fixed: m.Finding.FixedVersion, Level: level}
			byID[f.ID] = f
		}
		if rank[level] < rank[f.Level] {
			f.Level = level
		}
		if level == LevelSymbol {
			sym := fr.Package + "." + fr.Function
			if fr.Receiver != "" {
				sym = fr.Package + "." + fr.Receiver + "." + fr.Function
			}
			f.Symbols = append(f.Symbols, sym)
		}
	}
	var out []Finding
	for id, f := range byID {
		f.Summary = summaries[id]
		sort.Strings(f.Symbols)
		f.Symbols = dedupe(f.Symbols)
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		if rank[out[i].Level] != rank[out[j].Level] {
			return rank[out[i].Level] < rank[out[j].Level]
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
