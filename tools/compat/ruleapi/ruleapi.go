// Package ruleapi reads the public interface of Starlark (.bzl) files without running
// them: the attributes of each rule and tag class, and the parameters of each macro.
//
// It follows the forms rule files use to build their attribute dicts: dict literals,
// names bound at top level or load()ed from files of the same repository, `a | b`,
// `dict(a, **b)`, `dicts.add(a, b)` and `struct(attrs = …).attrs`.
package ruleapi

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/bazelbuild/buildtools/build"
)

// Attr is one attribute of a rule or tag class. Default, AllowFiles and
// AllowSingleFile hold Starlark source text ("" when not given).
type Attr struct {
	Name            string   `json:"name"`
	Type            string   `json:"type"`
	Default         string   `json:"default,omitempty"`
	Mandatory       bool     `json:"mandatory,omitempty"`
	Values          []string `json:"values,omitempty"` // string values unquoted
	AllowFiles      string   `json:"allow_files,omitempty"`
	AllowSingleFile string   `json:"allow_single_file,omitempty"`
	Executable      bool     `json:"executable,omitempty"`
}

// Param is one parameter of a macro: "name", "*args" or "**kwargs" with its default
// as Starlark source text.
type Param struct {
	Name    string `json:"name"`
	Default string `json:"default,omitempty"`
}

// Kinds of Symbol.
const (
	KindRule      = "rule"
	KindMacro     = "macro"
	KindTagClass  = "tag_class"
	KindExtension = "module_extension"
)

// Symbol is what a name exported by a .bzl file is.
type Symbol struct {
	Kind string `json:"kind"`
	// File is where the value was defined, relative to the repository root.
	File       string            `json:"file"`
	Attrs      []Attr            `json:"attrs,omitempty"`
	Params     []Param           `json:"params,omitempty"`
	TagClasses map[string][]Attr `json:"tag_classes,omitempty"`
	// Test and Executable are rule(test = True) and rule(executable = True).
	Test       bool `json:"test,omitempty"`
	Executable bool `json:"executable,omitempty"`
}

// Reader parses .bzl files of one repository, each once.
type Reader struct {
	root  string
	files map[string]*build.File
}

// NewReader reads labels relative to the repository at root.
func NewReader(root string) *Reader {
	return &Reader{root: root, files: map[string]*build.File{}}
}

// Exports lists the public names of the file at label: top-level assignments and
// defs not starting with "_". load()ed names are not re-exported by Starlark.
func (r *Reader) Exports(label string) ([]string, error) {
	rel, err := labelPath(label, "")
	if err != nil {
		return nil, err
	}
	f, err := r.parse(rel)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, stmt := range f.Stmt {
		switch s := stmt.(type) {
		case *build.AssignExpr:
			if id, ok := s.LHS.(*build.Ident); ok {
				seen[id.Name] = true
			}
		case *build.DefStmt:
			seen[s.Name] = true
		}
	}
	var names []string
	for n := range seen {
		if !strings.HasPrefix(n, "_") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Lookup resolves name as exported by the file at label (e.g. "//tools/cst:defs.bzl").
func (r *Reader) Lookup(label, name string) (*Symbol, error) {
	rel, err := labelPath(label, "")
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "_") {
		return nil, fmt.Errorf("%s: %q is private (starts with _)", rel, name)
	}
	return r.symbol(rel, name, 0)
}

const maxDepth = 32

func (r *Reader) parse(rel string) (*build.File, error) {
	if f, ok := r.files[rel]; ok {
		return f, nil
	}
	data, err := os.ReadFile(filepath.Join(r.root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", rel, err)
	}
	f, err := build.ParseBzl(rel, data)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", rel, err)
	}
	r.files[rel] = f
	return f, nil
}

// labelPath turns a load() label into a repository-relative path. from is the
// repository-relative path of the loading file ("" for labels given by the caller).
func labelPath(label, from string) (string, error) {
	switch {
	case strings.HasPrefix(label, "@//"), strings.HasPrefix(label, "@@//"):
		label = label[strings.Index(label, "//"):]
	case strings.HasPrefix(label, "@"):
		return "", fmt.Errorf("load of %q: labels of other repositories are not followed", label)
	}
	var pkg, name string
	switch {
	case strings.HasPrefix(label, "//"):
		rest := label[2:]
		i := strings.Index(rest, ":")
		if i < 0 {
			return "", fmt.Errorf("label %q has no ':' before the file name", label)
		}
		pkg, name = rest[:i], rest[i+1:]
	case strings.HasPrefix(label, ":"):
		pkg, name = path.Dir(from), label[1:]
	default:
		pkg, name = path.Dir(from), label
	}
	if from == "" && !strings.HasPrefix(label, "//") {
		return "", fmt.Errorf("label %q must start with //", label)
	}
	if !strings.HasSuffix(name, ".bzl") {
		return "", fmt.Errorf("label %q does not name a .bzl file", label)
	}
	return path.Clean(path.Join(pkg, name)), nil
}

// binding is where a top-level name of a file comes from.
type binding struct {
	file  string
	value build.Expr // the assigned value, or nil
	def   *build.DefStmt
}

func (r *Reader) bind(rel, name string, depth int) (*binding, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%s: %s: too many indirections", rel, name)
	}
	f, err := r.parse(rel)
	if err != nil {
		return nil, err
	}
	var found *binding
	for _, stmt := range f.Stmt {
		switch s := stmt.(type) {
		case *build.AssignExpr:
			if id, ok := s.LHS.(*build.Ident); ok && id.Name == name && s.Op == "=" {
				found = &binding{file: rel, value: s.RHS}
			}
		case *build.DefStmt:
			if s.Name == name {
				found = &binding{file: rel, def: s}
			}
		case *build.LoadStmt:
			for i, to := range s.To {
				if to.Name != name {
					continue
				}
				target, err := labelPath(s.Module.Value, rel)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %w", rel, name, err)
				}
				return r.bind(target, s.From[i].Name, depth+1)
			}
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%s: no top-level name %q", rel, name)
	}
	return found, nil
}

func (r *Reader) symbol(rel, name string, depth int) (*Symbol, error) {
	b, err := r.bind(rel, name, depth)
	if err != nil {
		return nil, err
	}
	if b.def != nil {
		return &Symbol{Kind: KindMacro, File: b.file, Params: params(b.def)}, nil
	}
	return r.symbolOf(b.file, b.value, depth+1)
}

func (r *Reader) symbolOf(rel string, v build.Expr, depth int) (*Symbol, error) {
	switch e := v.(type) {
	case *build.Ident:
		return r.symbol(rel, e.Name, depth+1)
	case *build.CallExpr:
		fn, ok := e.X.(*build.Ident)
		if !ok {
			return nil, fmt.Errorf("%s:%d: %s is not a rule, macro, tag_class or module_extension", rel, line(e), build.FormatString(e.X))
		}
		switch fn.Name {
		case "rule", "tag_class":
			sym := &Symbol{Kind: KindRule, File: rel}
			if fn.Name == "tag_class" {
				sym.Kind = KindTagClass
			}
			if a := kwarg(e, "attrs"); a != nil {
				attrs, err := r.attrDict(rel, a, depth+1)
				if err != nil {
					return nil, err
				}
				sym.Attrs = attrs
			}
			if t := kwarg(e, "test"); t != nil {
				sym.Test = build.FormatString(t) == "True"
			}
			if x := kwarg(e, "executable"); x != nil {
				sym.Executable = build.FormatString(x) == "True"
			}
			return sym, nil
		case "module_extension":
			sym := &Symbol{Kind: KindExtension, File: rel, TagClasses: map[string][]Attr{}}
			tc := kwarg(e, "tag_classes")
			if tc == nil {
				return sym, nil
			}
			d, ok := tc.(*build.DictExpr)
			if !ok {
				return nil, fmt.Errorf("%s:%d: tag_classes must be a dict literal", rel, line(tc))
			}
			for _, kv := range d.List {
				k, ok := kv.Key.(*build.StringExpr)
				if !ok {
					return nil, fmt.Errorf("%s:%d: tag_classes key must be a string", rel, line(kv))
				}
				t, err := r.symbolOf(rel, kv.Value, depth+1)
				if err != nil {
					return nil, err
				}
				if t.Kind != KindTagClass {
					return nil, fmt.Errorf("%s:%d: tag class %q is a %s", rel, line(kv), k.Value, t.Kind)
				}
				sym.TagClasses[k.Value] = t.Attrs
			}
			return sym, nil
		}
		return nil, fmt.Errorf("%s:%d: %s(...) is not a rule, tag_class or module_extension", rel, line(e), fn.Name)
	}
	return nil, fmt.Errorf("%s:%d: %s is not a rule, macro, tag_class or module_extension", rel, line(v), build.FormatString(v))
}

func params(d *build.DefStmt) []Param {
	var ps []Param
	for _, p := range d.Params {
		switch e := p.(type) {
		case *build.Ident:
			ps = append(ps, Param{Name: e.Name})
		case *build.AssignExpr:
			ps = append(ps, Param{Name: build.FormatString(e.LHS), Default: build.FormatString(e.RHS)})
		case *build.UnaryExpr:
			ps = append(ps, Param{Name: e.Op + build.FormatString(e.X)})
		default:
			ps = append(ps, Param{Name: build.FormatString(p)})
		}
	}
	return ps
}

func kwarg(c *build.CallExpr, name string) build.Expr {
	for _, a := range c.List {
		if as, ok := a.(*build.AssignExpr); ok {
			if id, ok := as.LHS.(*build.Ident); ok && id.Name == name {
				return as.RHS
			}
		}
	}
	return nil
}

func line(e build.Expr) int {
	start, _ := e.Span()
	return start.Line
}

// value resolves a top-level name to its assigned expression (for defaults, values
// and allow_files given through constants); other expressions are returned as is.
func (r *Reader) value(rel string, e build.Expr, depth int) (string, build.Expr, error) {
	id, ok := e.(*build.Ident)
	if !ok || id.Name == "True" || id.Name == "False" || id.Name == "None" {
		return rel, e, nil
	}
	b, err := r.bind(rel, id.Name, depth+1)
	if err != nil {
		return "", nil, err
	}
	if b.value == nil {
		return "", nil, fmt.Errorf("%s: %s is a function, not a value", rel, id.Name)
	}
	return r.value(b.file, b.value, depth+1)
}

// attrDict evaluates an expression that yields a dict of attr.*() values.
func (r *Reader) attrDict(rel string, e build.Expr, depth int) ([]Attr, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%s:%d: too many indirections", rel, line(e))
	}
	switch x := e.(type) {
	case *build.DictExpr:
		var attrs []Attr
		for _, kv := range x.List {
			k, ok := kv.Key.(*build.StringExpr)
			if !ok {
				return nil, fmt.Errorf("%s:%d: attribute name must be a string", rel, line(kv))
			}
			a, err := r.attr(rel, k.Value, kv.Value, depth+1)
			if err != nil {
				return nil, err
			}
			attrs = append(attrs, a)
		}
		return attrs, nil
	case *build.Ident:
		b, err := r.bind(rel, x.Name, depth+1)
		if err != nil {
			return nil, err
		}
		if b.value == nil {
			return nil, fmt.Errorf("%s:%d: %s is a function, not a dict", rel, line(x), x.Name)
		}
		return r.attrDict(b.file, b.value, depth+1)
	case *build.BinaryExpr:
		if x.Op != "|" && x.Op != "+" {
			break
		}
		return r.merge(rel, []build.Expr{x.X, x.Y}, depth)
	case *build.DotExpr:
		// struct(attrs = {...}).attrs, through a name.
		base, ok := x.X.(*build.Ident)
		if !ok {
			break
		}
		b, err := r.bind(rel, base.Name, depth+1)
		if err != nil {
			return nil, err
		}
		c, ok := b.value.(*build.CallExpr)
		if !ok || build.FormatString(c.X) != "struct" {
			return nil, fmt.Errorf("%s:%d: %s is not a struct(...)", rel, line(x), base.Name)
		}
		field := kwarg(c, x.Name)
		if field == nil {
			return nil, fmt.Errorf("%s:%d: struct %s has no field %s", rel, line(x), base.Name, x.Name)
		}
		return r.attrDict(b.file, field, depth+1)
	case *build.CallExpr:
		switch build.FormatString(x.X) {
		case "dict", "dicts.add":
			var parts []build.Expr
			var extra []*build.KeyValueExpr
			for _, a := range x.List {
				switch v := a.(type) {
				case *build.UnaryExpr: // **d
					parts = append(parts, v.X)
				case *build.AssignExpr: // k = attr.x()
					extra = append(extra, &build.KeyValueExpr{Key: &build.StringExpr{Value: build.FormatString(v.LHS)}, Value: v.RHS})
				default:
					parts = append(parts, v)
				}
			}
			if len(extra) > 0 {
				parts = append(parts, &build.DictExpr{List: extra})
			}
			return r.merge(rel, parts, depth)
		}
	}
	return nil, fmt.Errorf("%s:%d: cannot read an attribute dict from %s", rel, line(e), build.FormatString(e))
}

func (r *Reader) merge(rel string, parts []build.Expr, depth int) ([]Attr, error) {
	var out []Attr
	index := map[string]int{}
	for _, p := range parts {
		attrs, err := r.attrDict(rel, p, depth+1)
		if err != nil {
			return nil, err
		}
		for _, a := range attrs {
			if i, ok := index[a.Name]; ok {
				out[i] = a
				continue
			}
			index[a.Name] = len(out)
			out = append(out, a)
		}
	}
	return out, nil
}

func (r *Reader) attr(rel, name string, e build.Expr, depth int) (Attr, error) {
	if strings.HasPrefix(name, "_") {
		// Private attributes are no interface; they may be built by helpers.
		return Attr{Name: name, Type: "private"}, nil
	}
	c, ok := e.(*build.CallExpr)
	if !ok {
		return Attr{}, fmt.Errorf("%s:%d: attribute %q: expected attr.<type>(...), got %s", rel, line(e), name, build.FormatString(e))
	}
	dot, ok := c.X.(*build.DotExpr)
	if !ok || build.FormatString(dot.X) != "attr" {
		return Attr{}, fmt.Errorf("%s:%d: attribute %q: expected attr.<type>(...), got %s(...)", rel, line(e), name, build.FormatString(c.X))
	}
	a := Attr{Name: name, Type: dot.Name}
	src := func(key string) (string, build.Expr, error) {
		v := kwarg(c, key)
		if v == nil {
			return "", nil, nil
		}
		_, val, err := r.value(rel, v, depth+1)
		if err != nil {
			return "", nil, fmt.Errorf("attribute %q: %s: %w", name, key, err)
		}
		return source(val), val, nil
	}
	var err error
	if a.Default, _, err = src("default"); err != nil {
		return Attr{}, err
	}
	if a.AllowFiles, _, err = src("allow_files"); err != nil {
		return Attr{}, err
	}
	if a.AllowSingleFile, _, err = src("allow_single_file"); err != nil {
		return Attr{}, err
	}
	m, _, err := src("mandatory")
	if err != nil {
		return Attr{}, err
	}
	a.Mandatory = m == "True"
	x, _, err := src("executable")
	if err != nil {
		return Attr{}, err
	}
	a.Executable = x == "True"
	_, vals, err := src("values")
	if err != nil {
		return Attr{}, err
	}
	if vals != nil {
		l, ok := vals.(*build.ListExpr)
		if !ok {
			return Attr{}, fmt.Errorf("%s:%d: attribute %q: values must be a list literal", rel, line(vals), name)
		}
		for _, v := range l.List {
			if s, ok := v.(*build.StringExpr); ok {
				a.Values = append(a.Values, s.Value)
				continue
			}
			a.Values = append(a.Values, build.FormatString(v))
		}
	}
	return a, nil
}

// source renders literals compactly (a list written over several lines reads the same
// as one written on one line); anything else as buildifier prints it.
func source(e build.Expr) string {
	switch x := e.(type) {
	case *build.StringExpr:
		return strconv.Quote(x.Value)
	case *build.ListExpr:
		parts := make([]string, len(x.List))
		for i, v := range x.List {
			parts[i] = source(v)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return build.FormatString(e)
}
