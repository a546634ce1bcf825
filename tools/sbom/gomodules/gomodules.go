// Package gomodules maps the Go packages linked into a binary to the modules
// of go.mod that provide them, with their versions and go.sum hashes: what
// `go version -m` would print for a binary built by the go command.
package gomodules

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// Module is one module that provides linked packages.
type Module struct {
	Path    string
	Version string
	// Sum is the module's go.sum hash ("h1:..."); empty for the main module
	// and for modules replaced by a local directory.
	Sum string
	// Packages are the linked packages the module provides, sorted.
	Packages []string
}

// Result is the module view of one binary.
type Result struct {
	// Main is the main module (version "(devel)").
	Main Module
	// Deps are the other modules, sorted by path.
	Deps []Module
}

// Resolve assigns each package in pkgs (import paths of the packages linked
// into a binary, standard library excluded) to the module that provides it:
// the main module of goMod or the required module with the longest matching
// path, as the go command does. A replace directive is followed. A package
// no module provides, or a required module without a go.sum line, is an
// error naming it and the file.
func Resolve(goModName string, goMod []byte, goSumName string, goSum []byte, pkgs []string) (*Result, error) {
	f, err := modfile.Parse(goModName, goMod, nil)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", goModName, err)
	}
	if f.Module == nil {
		return nil, fmt.Errorf("%s: no module directive", goModName)
	}
	sums, err := parseSum(goSumName, goSum)
	if err != nil {
		return nil, err
	}
	replaced := map[string]*modfile.Replace{}
	for _, r := range f.Replace {
		replaced[r.Old.Path] = r
	}
	res := &Result{Main: Module{Path: f.Module.Mod.Path, Version: "(devel)"}}
	byPath := map[string]*Module{}
	for _, pkg := range pkgs {
		if pkg == "" {
			return nil, fmt.Errorf("empty package import path")
		}
		if within(pkg, f.Module.Mod.Path) {
			res.Main.Packages = append(res.Main.Packages, pkg)
			continue
		}
		var best *modfile.Require
		for _, r := range f.Require {
			if within(pkg, r.Mod.Path) && (best == nil || len(r.Mod.Path) > len(best.Mod.Path)) {
				best = r
			}
		}
		if best == nil {
			return nil, fmt.Errorf("package %s is linked but no module in %s provides it (run `go mod tidy`)", pkg, goModName)
		}
		m, ok := byPath[best.Mod.Path]
		if !ok {
			m = &Module{Path: best.Mod.Path, Version: best.Mod.Version}
			mod := best.Mod
			if r, ok := replaced[best.Mod.Path]; ok && (r.Old.Version == "" || r.Old.Version == best.Mod.Version) {
				if r.New.Version == "" {
					// Replaced by a local directory: the go command reports
					// the required version with no hash.
					mod = module.Version{}
				} else {
					mod = r.New
					m.Path, m.Version = r.New.Path, r.New.Version
				}
			}
			if mod.Path != "" {
				sum, ok := sums[mod.Path+"@"+mod.Version]
				if !ok {
					return nil, fmt.Errorf("%s has no hash for %s@%s (run `go mod tidy`)", goSumName, mod.Path, mod.Version)
				}
				m.Sum = sum
			}
			byPath[best.Mod.Path] = m
		}
		m.Packages = append(m.Packages, pkg)
	}
	for _, m := range byPath {
		sort.Strings(m.Packages)
		res.Deps = append(res.Deps, *m)
	}
	sort.Strings(res.Main.Packages)
	sort.Slice(res.Deps, func(i, j int) bool { return res.Deps[i].Path < res.Deps[j].Path })
	return res, nil
}

// within reports whether package pkg lies in module path mod.
func within(pkg, mod string) bool {
	return pkg == mod || strings.HasPrefix(pkg, mod+"/")
}

// parseSum reads go.sum's module hashes (not the /go.mod ones), keyed by
// "path@version".
func parseSum(name string, data []byte) (map[string]string, error) {
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("%s:%d: want \"module version hash\", got %q", name, n, line)
		}
		if strings.HasSuffix(f[1], "/go.mod") {
			continue
		}
		sums[f[0]+"@"+f[1]] = f[2]
	}
	return sums, sc.Err()
}
