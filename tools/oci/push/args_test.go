package push

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want Args
	}{
		{"none", nil, Args{}},
		{"short", []string{"-r", "reg/a", "-t", "v1", "-t", "v2"}, Args{Repository: "reg/a", Tags: []string{"v1", "v2"}}},
		{"long and =", []string{"--repository", "reg/a", "--repository=reg/b", "--tag=x", "--tag", "y"}, Args{Repository: "reg/b", Tags: []string{"x", "y"}}},
		{"last repository wins", []string{"--repository", "fixed/attr", "-r", "user/given"}, Args{Repository: "user/given"}},
		{"flags", []string{"--insecure", "-v", "--allow-nondistributable-artifacts", "--platform", "linux/arm64/v8"},
			Args{Insecure: true, Verbose: true, AllowNondistributable: true, Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
		{"verbose long", []string{"--verbose"}, Args{Verbose: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseArgs(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseArgs(%q) (-want +got):\n%s", tc.args, diff)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-r"}, "-r needs a value"},
		{[]string{"--tag"}, "--tag needs a value"},
		{[]string{"--platform"}, "--platform needs a value"},
		{[]string{"--platform", "linux"}, `--platform "linux": want OS/ARCH`},
		{[]string{"--jobs", "4"}, `unknown argument "--jobs"`},
		{[]string{"stray"}, `unknown argument "stray"`},
	} {
		_, err := ParseArgs(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseArgs(%q) error = %v, want it to contain %q", tc.args, err, tc.want)
		}
	}
}
