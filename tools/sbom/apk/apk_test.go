package apk

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	db := `C:Q1abc=
P:musl
V:1.2.5-r9
A:x86_64
L:MIT
o:musl
T:the musl c library

P:busybox
V:1.37.0-r12
A:x86_64
L:GPL-2.0-only
o:busybox
F:bin
R:busybox
`
	got, err := Parse(DBPath, []byte(db))
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{
		{Name: "busybox", Version: "1.37.0-r12", Arch: "x86_64", License: "GPL-2.0-only", Origin: "busybox"},
		{Name: "musl", Version: "1.2.5-r9", Arch: "x86_64", License: "MIT", Origin: "musl"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, db, want string }{
		{"no version", "P:musl\n\nP:x\nV:1\n", DBPath + ":1: package entry without P: (name) or V: (version)"},
		{"no name, error names its first line", "P:a\nV:1\n\n\nC:Q1=\nV:2\n", DBPath + ":5: package entry without"},
		{"not key:value", "P:musl\nhello\n", DBPath + `:2: want "X:value", got "hello"`},
		{"long key", "Pkg:musl\n", DBPath + `:1: want "X:value"`},
		{"line over the 1 MiB limit", "P:" + strings.Repeat("x", 1<<20) + "\n", DBPath + ": bufio.Scanner: token too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(DBPath, []byte(tt.db))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	got, err := Parse(DBPath, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("Parse(empty) = %v, %v; want no packages", got, err)
	}
}
