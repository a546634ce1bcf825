// Package apk reads the package database of Alpine's apk
// (/lib/apk/db/installed): one paragraph per package of "X:value" lines.
package apk

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// DBPath is where apk keeps the installed packages.
const DBPath = "/lib/apk/db/installed"

// Package is one installed package.
type Package struct {
	Name    string // P:
	Version string // V:
	Arch    string // A:
	License string // L:
	Origin  string // o: the source package
}

// Parse reads an installed database. A paragraph without a name or version
// is an error naming the line it starts on. Packages are returned sorted by
// name.
func Parse(name string, data []byte) ([]Package, error) {
	var pkgs []Package
	var cur Package
	start, n, open := 0, 0, false
	flush := func() error {
		if !open {
			return nil
		}
		open = false
		if cur.Name == "" || cur.Version == "" {
			return fmt.Errorf("%s:%d: package entry without P: (name) or V: (version)", name, start)
		}
		pkgs = append(pkgs, cur)
		cur = Package{}
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		if !open {
			start, open = n, true
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok || len(key) != 1 {
			return nil, fmt.Errorf("%s:%d: want \"X:value\", got %q", name, n, line)
		}
		switch key {
		case "P":
			cur.Name = value
		case "V":
			cur.Version = value
		case "A":
			cur.Arch = value
		case "L":
			cur.License = value
		case "o":
			cur.Origin = value
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	return pkgs, nil
}
