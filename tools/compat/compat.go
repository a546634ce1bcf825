// Package compat checks that this repository's Starlark rules have the interface of
// the upstream projects they stand in for, against facts recorded from upstream's
// sources (facts/*.json: project, version, and the file each fact was read from).
package compat

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/google/go-cmp/cmp"

	"github.com/cat-server/cat-server/tools/compat/ruleapi"
)

// Facts is one upstream project's public Starlark surface at one version.
type Facts struct {
	Project string      `json:"project"`
	Version string      `json:"version"`
	Note    string      `json:"note,omitempty"`
	Files   []FileFacts `json:"files"`
}

// FileFacts is one .bzl file users load() from upstream, and the file of ours that a
// switch replaces by it.
type FileFacts struct {
	// Load is upstream's label, e.g. "@container_structure_test//:defs.bzl".
	Load string `json:"load"`
	// Ours is the label of our file with the same interface, e.g. "//tools/cst:defs.bzl".
	Ours string `json:"ours"`
	// ReadFrom is the upstream file (path in upstream's repository) Exports was read from.
	ReadFrom string `json:"read_from"`
	// Exports are all public names of upstream's file. Ours must not export others, so
	// that every load() of ours keeps working after the switch.
	Exports []string      `json:"exports"`
	Symbols []SymbolFacts `json:"symbols"`
}

// SymbolFacts is one exported name: a rule with its public attributes, a macro with its
// parameters, or a module extension with its tag classes' attributes.
type SymbolFacts struct {
	Name string `json:"name"`
	// ReadFrom lists the upstream files the facts come from.
	ReadFrom   []string                  `json:"read_from"`
	Kind       string                    `json:"kind"`
	Test       bool                      `json:"test,omitempty"`
	Executable bool                      `json:"executable,omitempty"`
	Attrs      []ruleapi.Attr            `json:"attrs,omitempty"`
	Params     []ruleapi.Param           `json:"params,omitempty"`
	TagClasses map[string][]ruleapi.Attr `json:"tag_classes,omitempty"`
}

// LoadFacts reads a facts file, strictly.
func LoadFacts(path string) (*Facts, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading facts: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var f Facts
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Project == "" || f.Version == "" {
		return nil, fmt.Errorf("%s: project and version are required", path)
	}
	for _, file := range f.Files {
		if file.Load == "" || file.Ours == "" || file.ReadFrom == "" {
			return nil, fmt.Errorf("%s: every file needs load, ours and read_from", path)
		}
		for _, s := range file.Symbols {
			if s.Name == "" || s.Kind == "" || len(s.ReadFrom) == 0 {
				return nil, fmt.Errorf("%s: %s: every symbol needs name, kind and read_from", path, file.Load)
			}
		}
	}
	return &f, nil
}

// Compare reads our files under root and returns one readable difference per
// mismatching export or symbol; none means ours has upstream's interface.
func Compare(root string, f *Facts) []string {
	r := ruleapi.NewReader(root)
	var diffs []string
	for _, file := range f.Files {
		where := fmt.Sprintf("%s (upstream %s %s %s)", file.Ours, f.Project, f.Version, file.Load)
		exports, err := r.Exports(file.Ours)
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		upstream := map[string]bool{}
		for _, e := range file.Exports {
			upstream[e] = true
		}
		var extra []string
		for _, e := range exports {
			if !upstream[e] {
				extra = append(extra, e)
			}
		}
		if len(extra) > 0 {
			diffs = append(diffs, fmt.Sprintf("%s: public names upstream's file does not have (a load() of them breaks on a switch): %s",
				where, strings.Join(extra, ", ")))
		}
		for _, s := range file.Symbols {
			got, err := r.Lookup(file.Ours, s.Name)
			if err != nil {
				diffs = append(diffs, fmt.Sprintf("%s: %s: %v", where, s.Name, err))
				continue
			}
			if d := cmp.Diff(normalize(s), normalize(fromSymbol(s.Name, got, s))); d != "" {
				diffs = append(diffs, fmt.Sprintf("%s: %s differs (-upstream %s +ours %s):\n%s",
					where, s.Name, strings.Join(s.ReadFrom, ", "), got.File, d))
			}
		}
	}
	return diffs
}

// fromSymbol turns what we read into facts of the same shape, keeping only the tag
// classes upstream's facts list.
func fromSymbol(name string, s *ruleapi.Symbol, want SymbolFacts) SymbolFacts {
	out := SymbolFacts{Name: name, Kind: s.Kind, Test: s.Test, Executable: s.Executable, Attrs: s.Attrs, Params: s.Params}
	if s.TagClasses != nil {
		out.TagClasses = map[string][]ruleapi.Attr{}
		for tag := range want.TagClasses {
			attrs, ok := s.TagClasses[tag]
			if !ok {
				attrs = []ruleapi.Attr{{Name: "(tag class missing)"}}
			}
			out.TagClasses[tag] = attrs
		}
	}
	return out
}

// normalize drops what is not interface (private attributes, read_from) and sorts
// attributes by name.
func normalize(s SymbolFacts) SymbolFacts {
	s.ReadFrom = nil
	s.Attrs = public(s.Attrs)
	if s.TagClasses != nil {
		tc := map[string][]ruleapi.Attr{}
		for k, v := range s.TagClasses {
			tc[k] = public(v)
		}
		s.TagClasses = tc
	}
	return s
}

func public(attrs []ruleapi.Attr) []ruleapi.Attr {
	var out []ruleapi.Attr
	for _, a := range attrs {
		if !strings.HasPrefix(a.Name, "_") {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
