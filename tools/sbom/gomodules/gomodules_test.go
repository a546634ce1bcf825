package gomodules

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const goMod = `module example.com/app

go 1.25.0

require (
	example.com/lib v1.2.3
	example.com/lib/sub v0.1.0
	example.com/old v1.0.0
	example.com/local v1.0.0
)

replace example.com/old => example.com/new v1.1.0

replace example.com/local => ../local
`

const goSum = `example.com/lib v1.2.3 h1:lib=
example.com/lib v1.2.3/go.mod h1:libmod=
example.com/lib/sub v0.1.0 h1:sub=
example.com/new v1.1.0 h1:new=
example.com/old v1.0.0 h1:old=
`

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		pkgs    []string
		want    *Result
		wantErr string
	}{{
		name: "longest module path wins, replace followed",
		pkgs: []string{"example.com/app/cmd", "example.com/lib/x", "example.com/lib", "example.com/lib/sub/y", "example.com/old/z", "example.com/local/w", "example.com/app"},
		want: &Result{
			Main: Module{Path: "example.com/app", Version: "(devel)", Packages: []string{"example.com/app", "example.com/app/cmd"}},
			Deps: []Module{
				{Path: "example.com/lib", Version: "v1.2.3", Sum: "h1:lib=", Packages: []string{"example.com/lib", "example.com/lib/x"}},
				{Path: "example.com/lib/sub", Version: "v0.1.0", Sum: "h1:sub=", Packages: []string{"example.com/lib/sub/y"}},
				{Path: "example.com/local", Version: "v1.0.0", Packages: []string{"example.com/local/w"}},
				{Path: "example.com/new", Version: "v1.1.0", Sum: "h1:new=", Packages: []string{"example.com/old/z"}},
			},
		},
	}, {
		name: "only the main module",
		pkgs: []string{"example.com/app"},
		want: &Result{Main: Module{Path: "example.com/app", Version: "(devel)", Packages: []string{"example.com/app"}}},
	}, {
		name:    "a package no module provides",
		pkgs:    []string{"example.com/libx/p"},
		wantErr: "package example.com/libx/p is linked but no module in go.mod provides it",
	}, {
		name:    "empty import path",
		pkgs:    []string{""},
		wantErr: "empty package import path",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve("go.mod", []byte(goMod), "go.sum", []byte(goSum), tt.pkgs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name, goMod, goSum, want string
	}{
		{"missing hash", goMod, "example.com/lib v1.2.3/go.mod h1:x=\n", "go.sum has no hash for example.com/lib@v1.2.3"},
		{"bad go.sum line", goMod, "example.com/lib v1.2.3\n", `go.sum:1: want "module version hash"`},
		{"bad go.mod", "module\nrequire (", goSum, "parsing go.mod"},
		{"no module directive", "go 1.25\n", goSum, "go.mod: no module directive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve("go.mod", []byte(tt.goMod), "go.sum", []byte(tt.goSum), []string{"example.com/lib"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
