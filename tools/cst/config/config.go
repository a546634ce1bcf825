// Package config holds the two YAML schemas the cst runner reads, and parses
// them strictly:
//
//   - the container-structure-test (CST) schemas 1.0.0 and 2.0.0, with the keys
//     and validation rules of CST v1.22.0 (pkg/types/v1, v2), so the same files
//     stay valid for the upstream tool;
//   - the project's own image checks (schemaVersion
//     cat-server.image-checks/v1: size, healthcheck, noSetuidFiles, exposedPortsExactly), which
//     CST's schema lacks.
//
// Unknown keys, type mismatches, a wrong schemaVersion and invalid regular
// expressions are errors that name the file and line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// SchemaVersion is the current CST schema version; SchemaVersionV1 is also accepted.
const (
	SchemaVersion   = "2.0.0"
	SchemaVersionV1 = "1.0.0"
)

// Config is one CST config file. A schema 1.0.0 file is read into the same shape:
// its command lists become Command and Args; it has no metadataTest,
// containerRunOptions, uid or gid.
type Config struct {
	SchemaVersion       string               `yaml:"schemaVersion"`
	GlobalEnvVars       []EnvVar             `yaml:"globalEnvVars,omitempty"`
	MetadataTest        *MetadataTest        `yaml:"metadataTest,omitempty"`
	FileExistenceTests  []FileExistenceTest  `yaml:"fileExistenceTests,omitempty"`
	FileContentTests    []FileContentTest    `yaml:"fileContentTests,omitempty"`
	CommandTests        []CommandTest        `yaml:"commandTests,omitempty"`
	LicenseTests        []LicenseTest        `yaml:"licenseTests,omitempty"`
	ContainerRunOptions *ContainerRunOptions `yaml:"containerRunOptions,omitempty"`
}

// configV1 is schema 1.0.0 (CST pkg/types/v1).
type configV1 struct {
	SchemaVersion      string                `yaml:"schemaVersion"`
	GlobalEnvVars      []EnvVar              `yaml:"globalEnvVars,omitempty"`
	CommandTests       []commandTestV1       `yaml:"commandTests,omitempty"`
	FileExistenceTests []fileExistenceTestV1 `yaml:"fileExistenceTests,omitempty"`
	FileContentTests   []FileContentTest     `yaml:"fileContentTests,omitempty"`
	LicenseTests       []LicenseTest         `yaml:"licenseTests,omitempty"`
}

type commandTestV1 struct {
	Name           string     `yaml:"name,omitempty"`
	Setup          [][]string `yaml:"setup,omitempty"`
	Teardown       [][]string `yaml:"teardown,omitempty"`
	EnvVars        []EnvVar   `yaml:"envVars,omitempty"`
	Command        []string   `yaml:"command,omitempty"`
	ExpectedOutput []string   `yaml:"expectedOutput,omitempty"`
	ExcludedOutput []string   `yaml:"excludedOutput,omitempty"`
	ExpectedError  []string   `yaml:"expectedError,omitempty"`
	ExcludedError  []string   `yaml:"excludedError,omitempty"`
	ExitCode       int        `yaml:"exitCode,omitempty"`
}

type fileExistenceTestV1 struct {
	Name        string `yaml:"name,omitempty"`
	Path        string `yaml:"path,omitempty"`
	ShouldExist *bool  `yaml:"shouldExist,omitempty"`
	Permissions string `yaml:"permissions,omitempty"`
}

// LicenseTest checks Debian copyright files and/or given files for licenses CST
// refuses (AGPL, WTFPL).
type LicenseTest struct {
	Debian bool     `yaml:"debian,omitempty"`
	Files  []string `yaml:"files,omitempty"`
}

// ContainerRunOptions are the docker run options of commandTests' containers.
type ContainerRunOptions struct {
	User         string   `yaml:"user,omitempty"`
	Privileged   bool     `yaml:"privileged,omitempty"`
	TTY          bool     `yaml:"allocateTty,omitempty"`
	EnvVars      []string `yaml:"envVars,omitempty"`
	EnvFile      string   `yaml:"envFile,omitempty"`
	Capabilities []string `yaml:"capabilities,omitempty"`
	BindMounts   []string `yaml:"bindMounts,omitempty"`
}

// EnvVar is a key/value pair. IsRegex only matters in metadataTest.envVars.
type EnvVar struct {
	Key     string `yaml:"key,omitempty"`
	Value   string `yaml:"value,omitempty"`
	IsRegex bool   `yaml:"isRegex,omitempty"`
}

// Label is an image label expectation.
type Label struct {
	Key     string `yaml:"key,omitempty"`
	Value   string `yaml:"value,omitempty"`
	IsRegex bool   `yaml:"isRegex,omitempty"`
}

// MetadataTest checks the image config. A nil pointer or nil slice means the
// field was absent from the YAML and is not checked; a present-but-empty
// entrypoint or cmd ([]) means the image's must be empty; an empty workdir or
// user is not checked (as upstream).
type MetadataTest struct {
	EnvVars          []EnvVar  `yaml:"envVars,omitempty"`
	UnboundEnvVars   []EnvVar  `yaml:"unboundEnvVars,omitempty"`
	Labels           []Label   `yaml:"labels,omitempty"`
	ExposedPorts     []string  `yaml:"exposedPorts,omitempty"`
	UnexposedPorts   []string  `yaml:"unexposedPorts,omitempty"`
	Entrypoint       *[]string `yaml:"entrypoint,omitempty"`
	Cmd              *[]string `yaml:"cmd,omitempty"`
	Workdir          *string   `yaml:"workdir,omitempty"`
	Volumes          []string  `yaml:"volumes,omitempty"`
	UnmountedVolumes []string  `yaml:"unmountedVolumes,omitempty"`
	User             *string   `yaml:"user,omitempty"`
}

// FileExistenceTest checks one path of the merged image filesystem. UID and GID
// nil or -1 are not checked (upstream's default is -1).
type FileExistenceTest struct {
	Name           string `yaml:"name,omitempty"`
	Path           string `yaml:"path,omitempty"`
	ShouldExist    *bool  `yaml:"shouldExist,omitempty"` // absent means true, as in CST
	Permissions    string `yaml:"permissions,omitempty"`
	UID            *int   `yaml:"uid,omitempty"`
	GID            *int   `yaml:"gid,omitempty"`
	IsExecutableBy string `yaml:"isExecutableBy,omitempty"` // owner, group, other or any
}

// Exists reports whether the file should exist (CST's default is true).
func (t FileExistenceTest) Exists() bool { return t.ShouldExist == nil || *t.ShouldExist }

// FileContentTest matches regular expressions against one file's content.
type FileContentTest struct {
	Name             string   `yaml:"name,omitempty"`
	Path             string   `yaml:"path,omitempty"`
	ExpectedContents []string `yaml:"expectedContents,omitempty"`
	ExcludedContents []string `yaml:"excludedContents,omitempty"`
}

// CommandTest runs a command in a container from the image.
type CommandTest struct {
	Name           string     `yaml:"name,omitempty"`
	Setup          [][]string `yaml:"setup,omitempty"`
	Teardown       [][]string `yaml:"teardown,omitempty"`
	EnvVars        []EnvVar   `yaml:"envVars,omitempty"`
	Command        string     `yaml:"command,omitempty"`
	Args           []string   `yaml:"args,omitempty"`
	ExpectedOutput []string   `yaml:"expectedOutput,omitempty"`
	ExcludedOutput []string   `yaml:"excludedOutput,omitempty"`
	ExpectedError  []string   `yaml:"expectedError,omitempty"`
	ExcludedError  []string   `yaml:"excludedError,omitempty"`
	ExitCode       int        `yaml:"exitCode,omitempty"`
}

// Error lists every problem found in one file, one per line, each prefixed
// with "file:line: ".
type Error struct {
	File     string
	Problems []string
}

func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }

// Load reads and validates the CST config file at file. As upstream, the name must
// end in .yaml, .yml or .json; a .json file's unknown keys are ignored (upstream decodes
// JSON with encoding/json), a YAML file's are errors.
func Load(file string) (*Config, error) {
	switch path.Ext(file) {
	case ".yaml", ".yml", ".json":
	default:
		return nil, &Error{File: file, Problems: []string{file + ": Please provide valid JSON or YAML config file (.yaml, .yml or .json)"}}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, data)
}

// Parse decodes and validates a CST config; name is used in error messages.
func Parse(name string, data []byte) (*Config, error) {
	var head struct {
		SchemaVersion string `yaml:"schemaVersion"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, yamlError(name, err)
	}
	var c Config
	var p *problems
	var err error
	switch head.SchemaVersion {
	case SchemaVersionV1:
		var v1 configV1
		if p, err = start(name, data, &v1); err != nil {
			return nil, err
		}
		c = fromV1(v1)
	case SchemaVersion:
		if p, err = start(name, data, &c); err != nil {
			return nil, err
		}
	case "":
		return nil, &Error{File: name, Problems: []string{fmt.Sprintf("%s: schemaVersion is missing, want %q or %q", name, SchemaVersion, SchemaVersionV1)}}
	default:
		return nil, &Error{File: name, Problems: []string{fmt.Sprintf("%s: schemaVersion is %q, want %q or %q", name, head.SchemaVersion, SchemaVersion, SchemaVersionV1)}}
	}
	p.envVars(path_("globalEnvVars"), c.GlobalEnvVars, false)
	if m := c.MetadataTest; m != nil {
		p.envVars(path_("metadataTest", "envVars"), m.EnvVars, true)
		for i, l := range m.Labels {
			at := path_("metadataTest", "labels", i)
			if l.Key == "" {
				p.add(at, "key is empty")
			}
			if l.IsRegex {
				p.regex(append(at, "value"), l.Value)
			}
		}
		for i, port := range m.ExposedPorts {
			if port == "" {
				p.add(path_("metadataTest", "exposedPorts", i), "Port cannot be empty")
			}
		}
		for i, v := range m.Volumes {
			if v == "" {
				p.add(path_("metadataTest", "volumes", i), "Volume cannot be empty")
			}
		}
		p.envVars(path_("metadataTest", "unboundEnvVars"), m.UnboundEnvVars, false)
	}
	for i, t := range c.FileExistenceTests {
		at := path_("fileExistenceTests", i)
		p.nameAndPath(at, t.Name, t.Path, true)
	}
	for i, t := range c.FileContentTests {
		at := path_("fileContentTests", i)
		p.nameAndPath(at, t.Name, t.Path, false)
		p.regexes(append(at, "expectedContents"), t.ExpectedContents)
		p.regexes(append(at, "excludedContents"), t.ExcludedContents)
	}
	for i, t := range c.CommandTests {
		at := path_("commandTests", i)
		if t.Name == "" {
			p.add(at, "name is missing")
		}
		if t.Command == "" {
			p.add(at, "command is missing")
		}
		for _, f := range []struct {
			key  string
			cmds [][]string
		}{{"setup", t.Setup}, {"teardown", t.Teardown}} {
			for j, cmd := range f.cmds {
				if len(cmd) == 0 || cmd[0] == "" {
					p.add(append(at, f.key, j), "%s[%d] is empty, want [command, args...]", f.key, j)
				}
			}
		}
		p.envVars(append(at, "envVars"), t.EnvVars, false)
		for j, v := range t.EnvVars {
			if v.Value == "" {
				p.add(append(at, "envVars", j), "Please provide non-empty keys and values for all specified env vars")
			}
		}
		p.regexes(append(at, "expectedOutput"), t.ExpectedOutput)
		p.regexes(append(at, "excludedOutput"), t.ExcludedOutput)
		p.regexes(append(at, "expectedError"), t.ExpectedError)
		p.regexes(append(at, "excludedError"), t.ExcludedError)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return &c, nil
}

// fromV1 reads a schema 1.0.0 file into Config: a command list is command + args.
func fromV1(v configV1) Config {
	c := Config{SchemaVersion: v.SchemaVersion, GlobalEnvVars: v.GlobalEnvVars, FileContentTests: v.FileContentTests, LicenseTests: v.LicenseTests}
	for _, t := range v.CommandTests {
		ct := CommandTest{Name: t.Name, Setup: t.Setup, Teardown: t.Teardown, EnvVars: t.EnvVars,
			ExpectedOutput: t.ExpectedOutput, ExcludedOutput: t.ExcludedOutput, ExpectedError: t.ExpectedError,
			ExcludedError: t.ExcludedError, ExitCode: t.ExitCode}
		if len(t.Command) > 0 {
			ct.Command, ct.Args = t.Command[0], t.Command[1:]
		}
		c.CommandTests = append(c.CommandTests, ct)
	}
	for _, t := range v.FileExistenceTests {
		c.FileExistenceTests = append(c.FileExistenceTests, FileExistenceTest{Name: t.Name, Path: t.Path, ShouldExist: t.ShouldExist, Permissions: t.Permissions})
	}
	return c
}

// decodeStrict decodes exactly one YAML document from data into out,
// rejecting unknown keys, and returns the document's node tree (for line
// numbers in later validation errors). When the only problems are type
// errors it returns both the tree and an *Error listing them, so callers
// can validate the rest and report everything at once.
func decodeStrict(name string, data []byte, out any) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(!strings.HasSuffix(name, ".json"))
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Problems: []string{name + ": the file is empty"}}
		}
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, yamlError(name, err)
		}
		// Type errors (unknown keys, mismatched types) leave the rest of
		// out decoded: report them together with the validation problems.
		var root yaml.Node
		if uerr := yaml.Unmarshal(data, &root); uerr != nil {
			return nil, yamlError(name, err)
		}
		return &root, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &Error{File: name, Problems: []string{fmt.Sprintf("%s:%d: a second YAML document; want exactly one", name, extra.Line)}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	return &root, nil
}

var (
	unknownFieldRE = regexp.MustCompile(`^line (\d+): field (.+) not found in type (\S+)$`)
	lineRE         = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// sections names the YAML place of each Go type, for unknown-key errors.
var sections = map[string]string{
	"config.Config":              "at the top level",
	"config.EnvVar":              "in an env var entry (keys: key, value, isRegex)",
	"config.Label":               "in a label entry (keys: key, value, isRegex)",
	"config.MetadataTest":        "in metadataTest",
	"config.FileExistenceTest":   "in a fileExistenceTests entry",
	"config.FileContentTest":     "in a fileContentTests entry",
	"config.CommandTest":         "in a commandTests entry",
	"config.commandTestV1":       "in a commandTests entry (schema 1.0.0)",
	"config.fileExistenceTestV1": "in a fileExistenceTests entry (schema 1.0.0)",
	"config.configV1":            "at the top level (schema 1.0.0)",
	"config.LicenseTest":         "in a licenseTests entry",
	"config.ContainerRunOptions": "in containerRunOptions",
	"config.ImageChecks":         "at the top level",
	"config.SizeLimits":          "in size",
	"config.HealthcheckExpects":  "in healthcheck",
}

// yamlError rewrites yaml.v3 errors as "file:line: message" lines.
func yamlError(name string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	e := &Error{File: name}
	for _, m := range msgs {
		if s := unknownFieldRE.FindStringSubmatch(m); s != nil {
			where := sections[s[3]]
			if where == "" {
				where = "in " + s[3]
			}
			e.Problems = append(e.Problems, fmt.Sprintf("%s:%s: unknown key %q %s", name, s[1], s[2], where))
		} else if s := lineRE.FindStringSubmatch(m); s != nil {
			e.Problems = append(e.Problems, fmt.Sprintf("%s:%s: %s", name, s[1], s[2]))
		} else {
			e.Problems = append(e.Problems, fmt.Sprintf("%s: %s", name, m))
		}
	}
	return e
}

// start decodes data into out and returns the problem list to validate
// into, holding the type errors already found; other errors are returned.
func start(name string, data []byte, out any) (*problems, error) {
	root, err := decodeStrict(name, data, out)
	p := &problems{file: name, root: root}
	if err != nil {
		var e *Error
		if root == nil || !errors.As(err, &e) {
			return nil, err
		}
		p.list = e.Problems
	}
	return p, nil
}

// problems collects validation errors with their YAML location.
type problems struct {
	file string
	root *yaml.Node
	list []string
}

// path_ builds a YAML location: strings are mapping keys, ints sequence
// indexes.
func path_(elems ...any) []any { return elems }

func (p *problems) add(at []any, format string, args ...any) {
	loc := p.file
	if line := lineOf(p.root, at); line > 0 {
		loc += ":" + strconv.Itoa(line)
	}
	msg := fmt.Sprintf(format, args...)
	if len(at) > 0 {
		msg = render(at) + ": " + msg
	}
	p.list = append(p.list, loc+": "+msg)
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &Error{File: p.file, Problems: p.list}
}

// nameAndPath checks a file test's name and path. Upstream resolves relative paths
// from the root, and fileExistenceTests paths may hold $VAR (relativeOK).
func (p *problems) nameAndPath(at []any, name, file string, relativeOK bool) {
	if name == "" {
		p.add(at, "name is missing")
	}
	switch {
	case file == "":
		p.add(at, "path is missing")
	case !relativeOK && !path.IsAbs(file):
		p.add(append(at, "path"), "path %q is not absolute", file)
	}
}

func (p *problems) envVars(at []any, vars []EnvVar, regexAllowed bool) {
	for i, v := range vars {
		here := append(append([]any{}, at...), i)
		if v.Key == "" {
			p.add(here, "key is empty")
		}
		if v.IsRegex {
			if regexAllowed {
				p.regex(append(here, "value"), v.Value)
			} else {
				p.add(append(here, "isRegex"), "isRegex only applies to metadataTest.envVars")
			}
		}
	}
}

func (p *problems) regexes(at []any, res []string) {
	for i, re := range res {
		p.regex(append(append([]any{}, at...), i), re)
	}
}

func (p *problems) regex(at []any, re string) {
	if _, err := regexp.Compile(re); err != nil {
		p.add(at, "invalid regular expression %q: %v", re, err)
	}
}

func render(at []any) string {
	var b strings.Builder
	for _, e := range at {
		switch e := e.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", e)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, e)
		}
	}
	return b.String()
}

// lineOf returns the line of the deepest node of at that exists in root.
func lineOf(root *yaml.Node, at []any) int {
	if root == nil {
		return 0
	}
	n := root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return 0
		}
		n = n.Content[0]
	}
	line := n.Line
	for _, e := range at {
		switch e := e.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == e {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		case int:
			if n.Kind != yaml.SequenceNode || e >= len(n.Content) {
				return line
			}
			n = n.Content[e]
			line = n.Line
		}
	}
	return line
}
