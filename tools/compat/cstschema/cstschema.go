// Package cstschema checks structure-test YAML against a recorded copy of the rules
// container-structure-test applies when it reads a file: which keys each test kind has
// per schema version, and their types, decoded strictly (facts/*_schema.json). It is a
// second opinion beside our runner's parser: a file upstream would reject fails here
// even when our runner would accept it.
package cstschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Schema is the recorded facts: schema version → root type, and each type's fields.
type Schema struct {
	Project  string            `json:"project"`
	Version  string            `json:"version"`
	Note     string            `json:"note"`
	ReadFrom []string          `json:"read_from"`
	Versions map[string]string `json:"versions"`
	Types    map[string]Type   `json:"types"`
}

// Type is one struct of upstream's: YAML key → type ("string", "bool", "int", a type
// name, or "[]" before any of them).
type Type struct {
	ReadFrom string            `json:"read_from"`
	Fields   map[string]string `json:"fields"`
}

// Load reads a schema facts file and checks every type it names is defined.
func Load(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading schema facts: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Schema
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	known := func(t string) bool {
		t = strings.TrimLeft(t, "[]")
		_, ok := s.Types[t]
		return ok || t == "string" || t == "bool" || t == "int"
	}
	for v, root := range s.Versions {
		if !known(root) {
			return nil, fmt.Errorf("%s: version %s: unknown type %q", path, v, root)
		}
	}
	for name, t := range s.Types {
		for k, ft := range t.Fields {
			if !known(ft) {
				return nil, fmt.Errorf("%s: %s.%s: unknown type %q", path, name, k, ft)
			}
		}
	}
	return &s, nil
}

// Check returns every problem upstream's strict decoding would report for the YAML
// file, each as "name:line: …"; none means upstream accepts its structure.
func (s *Schema) Check(name string, data []byte) []string {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []string{fmt.Sprintf("%s: %v", name, err)}
	}
	if len(doc.Content) == 0 {
		return []string{fmt.Sprintf("%s: empty file: Please provide schema version", name)}
	}
	root := deref(doc.Content[0])
	c := &checker{s: s, file: name}
	if root.Kind != yaml.MappingNode {
		c.add(root, "the file must be a mapping")
		return c.problems
	}
	var version string
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "schemaVersion" {
			version = deref(root.Content[i+1]).Value
		}
	}
	rootType, ok := s.Versions[version]
	switch {
	case version == "":
		c.add(root, "Please provide schema version")
		return c.problems
	case !ok:
		c.add(root, "Unsupported schema version: %s", version)
		return c.problems
	}
	c.value(root, rootType, "")
	return c.problems
}

type checker struct {
	s        *Schema
	file     string
	problems []string
}

func (c *checker) add(n *yaml.Node, format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf("%s:%d: %s", c.file, n.Line, fmt.Sprintf(format, args...)))
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// YAML 1.1 booleans, as yaml.v2 resolves plain scalars.
var (
	yaml11Bool = regexp.MustCompile(`^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	yaml11Int  = regexp.MustCompile(`^[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]*|[1-9][0-9_]*)$`)
)

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Style == 0 && (n.Value == "" || n.Value == "~" || n.Value == "null" || n.Value == "Null" || n.Value == "NULL")
}

// value checks node n against type t; where is the path for messages.
func (c *checker) value(n *yaml.Node, t, where string) {
	n = deref(n)
	if isNull(n) {
		return // a null leaves the zero value
	}
	label := where
	if label == "" {
		label = "the file"
	}
	switch {
	case strings.HasPrefix(t, "[]"):
		if n.Kind != yaml.SequenceNode {
			c.add(n, "%s: cannot unmarshal %s into %s", label, kind(n), t)
			return
		}
		for i, e := range n.Content {
			c.value(e, t[2:], fmt.Sprintf("%s[%d]", where, i))
		}
	case t == "string":
		if n.Kind != yaml.ScalarNode {
			c.add(n, "%s: cannot unmarshal %s into string", label, kind(n))
		}
	case t == "bool":
		if n.Kind != yaml.ScalarNode || n.Style != 0 || !yaml11Bool.MatchString(n.Value) {
			c.add(n, "%s: cannot unmarshal %s into bool", label, kind(n))
		}
	case t == "int":
		if n.Kind != yaml.ScalarNode || n.Style != 0 || !yaml11Int.MatchString(n.Value) {
			c.add(n, "%s: cannot unmarshal %s into int", label, kind(n))
		}
	default:
		typ := c.s.Types[t]
		if n.Kind != yaml.MappingNode {
			c.add(n, "%s: cannot unmarshal %s into %s", label, kind(n), t)
			return
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := deref(n.Content[i]), n.Content[i+1]
			if k.Value == "<<" { // a merge: the merged mapping's keys count as this one's
				c.value(v, t, where)
				continue
			}
			if seen[k.Value] {
				c.add(k, "%s: key %q already set in map", label, k.Value)
				continue
			}
			seen[k.Value] = true
			ft, ok := typ.Fields[k.Value]
			if !ok {
				c.add(k, "%s: field %s not found in type %s (%s)", label, k.Value, t, typ.ReadFrom)
				continue
			}
			sub := k.Value
			if where != "" {
				sub = where + "." + k.Value
			}
			c.value(v, ft, sub)
		}
	}
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.MappingNode:
		return "a mapping"
	}
	if n.Style != 0 {
		return fmt.Sprintf("the quoted string %q", n.Value)
	}
	return fmt.Sprintf("%s %q", strings.TrimPrefix(n.Tag, "!!"), n.Value)
}
