package compat

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cat-server/cat-server/tools/compat/cstschema"
	"github.com/cat-server/cat-server/tools/compat/ruleapi"
	"github.com/cat-server/cat-server/tools/cst/config"
)

// repoRoot is the repository root seen from this package, under `go test` and under
// Bazel (a go_test runs in its package's directory of the runfiles tree).
const repoRoot = "../.."

var factsFlag = flag.String("facts", "facts/container-structure-test_v1.22.0.json",
	"comma-separated facts files to compare our rules with")

func TestUpstreamSurface(t *testing.T) {
	for _, path := range strings.Split(*factsFlag, ",") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := LoadFacts(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range Compare(repoRoot, f) {
				t.Error(d)
			}
		})
	}
}

// fixtureFacts matches testdata/ws exactly; each case below breaks one thing.
func fixtureFacts() *Facts {
	return &Facts{
		Project: "example/upstream",
		Version: "v0",
		Files: []FileFacts{{
			Load:     "@upstream//lib:defs.bzl",
			Ours:     "//lib:defs.bzl",
			ReadFrom: "lib/defs.bzl",
			Exports:  []string{"ext", "other_rule", "thing", "thing_rule"},
			Symbols: []SymbolFacts{
				{Name: "thing", ReadFrom: []string{"lib/defs.bzl"}, Kind: "macro", Params: []ruleapi.Param{
					{Name: "name"}, {Name: "tags", Default: "None"}, {Name: "**kwargs"},
				}},
				{Name: "thing_rule", ReadFrom: []string{"lib/private/rule.bzl"}, Kind: "rule", Test: true, Attrs: []ruleapi.Attr{
					{Name: "image", Type: "label", Mandatory: true, AllowSingleFile: "True"},
					{Name: "tars", Type: "label_list", AllowFiles: `[".tar", ".tar.gz"]`},
					{Name: "driver", Type: "string", Default: `"docker"`, Values: []string{"docker", "tar"}},
					{Name: "loader", Type: "label", AllowFiles: "True", Executable: true},
					{Name: "count", Type: "int", Default: "3"},
				}},
				{Name: "other_rule", ReadFrom: []string{"lib/private/rule.bzl"}, Kind: "rule", Executable: true, Attrs: []ruleapi.Attr{
					{Name: "image", Type: "label", Mandatory: true, AllowSingleFile: "True"},
					{Name: "tars", Type: "label_list", AllowFiles: `[".tar", ".tar.gz"]`},
					{Name: "driver", Type: "string", Default: `"docker"`, Values: []string{"docker", "tar"}},
					{Name: "loader", Type: "label", AllowFiles: "True", Executable: true},
				}},
				{Name: "ext", ReadFrom: []string{"lib/ext.bzl"}, Kind: "module_extension", TagClasses: map[string][]ruleapi.Attr{
					"pull": {{Name: "name", Type: "string"}, {Name: "reproducible", Type: "bool", Default: "True"}},
				}},
			},
		}},
	}
}

func TestCompareFixture(t *testing.T) {
	root := "testdata/ws"
	if d := Compare(root, fixtureFacts()); len(d) != 0 {
		t.Fatalf("the fixture matches its facts, got differences:\n%s", strings.Join(d, "\n"))
	}
	tests := []struct {
		name   string
		change func(f *Facts)
		want   []string // substrings of the one reported difference
	}{
		{"default differs", func(f *Facts) { f.Files[0].Symbols[1].Attrs[2].Default = `"tar"` }, []string{"thing_rule differs", `"docker"`, `"tar"`}},
		{"mandatory differs", func(f *Facts) { f.Files[0].Symbols[1].Attrs[0].Mandatory = false }, []string{"thing_rule differs", "Mandatory"}},
		{"type differs", func(f *Facts) { f.Files[0].Symbols[1].Attrs[4].Type = "string" }, []string{"thing_rule differs", `"int"`}},
		{"values differ", func(f *Facts) { f.Files[0].Symbols[1].Attrs[2].Values = []string{"docker", "tar", "host"} }, []string{"thing_rule differs", `"host"`}},
		{"upstream has an attribute we lack", func(f *Facts) {
			s := &f.Files[0].Symbols[2]
			s.Attrs = append(s.Attrs, ruleapi.Attr{Name: "platform", Type: "string"})
		}, []string{"other_rule differs", "platform"}},
		{"we have an attribute upstream lacks", func(f *Facts) { f.Files[0].Symbols[1].Attrs = f.Files[0].Symbols[1].Attrs[:4] }, []string{"thing_rule differs", "count"}},
		{"allow_files differ", func(f *Facts) { f.Files[0].Symbols[1].Attrs[1].AllowFiles = "True" }, []string{"thing_rule differs", "AllowFiles"}},
		{"macro parameter default", func(f *Facts) { f.Files[0].Symbols[0].Params[1].Default = "[]" }, []string{"thing differs", "None"}},
		{"not a test rule", func(f *Facts) { f.Files[0].Symbols[1].Test = false }, []string{"thing_rule differs", "Test"}},
		{"kind differs", func(f *Facts) { f.Files[0].Symbols[0].Kind = "rule" }, []string{"thing differs", "macro"}},
		{"tag class attribute", func(f *Facts) {
			f.Files[0].Symbols[3].TagClasses["pull"][1].Default = "False"
		}, []string{"ext differs", "True"}},
		{"tag class missing", func(f *Facts) {
			f.Files[0].Symbols[3].TagClasses["toolchains"] = nil
		}, []string{"ext differs", "tag class missing"}},
		{"symbol missing", func(f *Facts) {
			f.Files[0].Symbols = append(f.Files[0].Symbols, SymbolFacts{Name: "oci_push", ReadFrom: []string{"x"}, Kind: "macro"})
			f.Files[0].Exports = append(f.Files[0].Exports, "oci_push")
		}, []string{"oci_push", `no top-level name "oci_push"`}},
		{"we export a name upstream lacks", func(f *Facts) { f.Files[0].Exports = f.Files[0].Exports[1:] }, []string{"public names upstream's file does not have", "ext"}},
		{"our file is missing", func(f *Facts) { f.Files[0].Ours = "//nope:defs.bzl" }, []string{"nope/defs.bzl"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fixtureFacts()
			tc.change(f)
			diffs := Compare(root, f)
			if len(diffs) != 1 {
				t.Fatalf("want exactly one difference, got %d:\n%s", len(diffs), strings.Join(diffs, "\n"))
			}
			for _, w := range tc.want {
				if !strings.Contains(diffs[0], w) {
					t.Errorf("difference does not mention %q:\n%s", w, diffs[0])
				}
			}
		})
	}
}

func TestLoadFactsRejects(t *testing.T) {
	for _, path := range []string{"testdata/facts_unknown_field.json", "testdata/facts_no_version.json", "testdata/missing.json"} {
		if _, err := LoadFacts(path); err == nil {
			t.Errorf("LoadFacts(%s): want an error", path)
		}
	}
}

// The recorded facts files themselves must load (the rules_oci one is compared by its
// own target once tools/oci matches it).
func TestFactsFilesLoad(t *testing.T) {
	for _, path := range []string{"facts/container-structure-test_v1.22.0.json", "facts/rules_oci_v2.3.2.json"} {
		f, err := LoadFacts(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(true, len(f.Files) > 0); diff != "" {
			t.Errorf("%s: no files recorded", path)
		}
	}
}

// templateVars are what //image:structure_test_config fills in from the default --defines.
var templateVars = strings.NewReplacer("$(USER_RE)", "app", "$(USER)", "app", "$(UID)", "1000", "$(GID)", "1000")

// TestSharedYAML runs every structure-test file in image/ through our runner's parser
// and through upstream's recorded schema rules: a file either of them rejects fails.
func TestSharedYAML(t *testing.T) {
	schema, err := cstschema.Load("facts/container-structure-test_v1.22.0_schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml", "*.yaml.tpl"} {
		m, err := filepath.Glob(filepath.Join(repoRoot, "image", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	structureTests := 0
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(path, ".tpl") {
				data = []byte(templateVars.Replace(string(data)))
				if i := strings.Index(string(data), "$("); i >= 0 {
					t.Fatalf("%s: a template variable is left after expansion: %q", path, string(data[i:min(i+20, len(data))]))
				}
			}
			if strings.Contains(string(data), "schemaVersion: "+config.ImageChecksSchemaVersion) {
				// Our own image checks (tools/imagecheck), not a structure test.
				if _, err := config.ParseImageChecks(path, data); err != nil {
					t.Error(err)
				}
				return
			}
			structureTests++
			if _, err := config.Parse(path, data); err != nil {
				t.Errorf("our runner rejects it:\n%v", err)
			}
			for _, p := range schema.Check(path, data) {
				t.Errorf("upstream would reject it: %s", p)
			}
		})
	}
	if structureTests < 2 {
		t.Errorf("found %d structure-test files in image/, want at least structure_test.yaml.tpl and structure_test_commands.yaml", structureTests)
	}
}
