package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cat-server/cat-server/tools/oci/ocilayout"
)

func runTool(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeSpec(t *testing.T, json string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(p, []byte(json), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRegistered(t *testing.T) {
	for _, c := range []string{"layer", "passwd", "image", "tarball", "load", "push", "config", "index"} {
		if _, ok := commands[c]; !ok {
			t.Errorf("subcommand %q is not registered", c)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"no args", nil, 2, "usage: ocitool SUBCOMMAND"},
		{"unknown", []string{"frobnicate"}, 2, `ocitool: unknown subcommand "frobnicate"`},
		{"missing spec", []string{"layer"}, 2, "ocitool layer: --spec FILE is required"},
		{"bad flag", []string{"image", "--nope"}, 2, "flag provided but not defined: -nope"},
		{"positional", []string{"layer", "--spec", "x", "extra"}, 2, `unexpected argument "extra"`},
		{"unknown field", []string{"layer", "--spec", writeSpec(t, `{"out": "x", "bogus": 1}`)}, 1, `unknown field "bogus"`},
		{"wrong type", []string{"layer", "--spec", writeSpec(t, `{"out": "x", "entries": [{"uid": "0"}]}`)}, 1, `field "entries.uid": want an integer, got JSON string`},
		{"passwd uid as number", []string{"passwd", "--spec", writeSpec(t, `{"uid": 1000}`)}, 1, `field "uid": want a string, got JSON number`},
		{"trailing data", []string{"image", "--spec", writeSpec(t, `{} {}`)}, 1, "unexpected data after the JSON object"},
		{"missing out", []string{"image", "--spec", writeSpec(t, `{}`)}, 1, `"out" is required`},
		// rules_oci 2.3's oci/private/push.sh.tpl, the whole of stderr.
		{"push without repository", []string{"push", "--image", t.TempDir()}, 1, "ERROR: repository not set. Please pass --repository flag.\n"},
		{"push unknown argument", []string{"push", "--image", t.TempDir(), "--", "--jobs", "2"}, 2, `unknown argument "--jobs"`},
		{"push -r without value", []string{"push", "--image", t.TempDir(), "-r"}, 2, "-r needs a value"},
		{"tarball without out", []string{"tarball", "--image", "x", "--repo-tags", "y"}, 2, "--out is required"},
		{"load without image", []string{"load"}, 2, "--image and --repo-tags are required"},
		{"load bad format", []string{"load", "--image", "x", "--repo-tags", writeSpec(t, "a:b"), "--format", "tar"}, 1, "reading OCI layout x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runTool(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.want) || strings.HasPrefix(tc.want, "ERROR: ") && stderr != tc.want {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.wantCode, tc.want)
			}
		})
	}
}

func TestPushFlags(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "image")
	if err := ocilayout.Write(dir, img); err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()
	// As the run script calls it: the rule's files, then the attribute's
	// repository, then the user's "$@". Run-time tags come first, then the
	// remote_tags file's (rules_oci's order).
	code, stdout, stderr := runTool(t, "push", "--image", dir, "--remote-tags", writeSpec(t, "d1\n"), "--",
		"--repository", host+"/default", "-r", host+"/mine", "-t", "u1", "--tag=u2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	repo := host + "/mine"
	want := "pushed " + repo + "@" + digest.String() + "\ntagged " + repo + ":u1\ntagged " + repo + ":u2\ntagged " + repo + ":d1\n"
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	for _, tag := range []string{"d1", "u1", "u2"} {
		ref, err := name.ParseReference(repo + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Head(ref)
		if err != nil || desc.Digest != digest {
			t.Errorf("%s: %v, %v; want digest %s", ref, desc, err, digest)
		}
	}
	if _, err := remote.Head(mustRef(t, host+"/default:d1")); err == nil {
		t.Errorf("the overridden default repository was pushed to")
	}
	// repository_file gives the repository when no -r is given.
	code, stdout, stderr = runTool(t, "push", "--image", dir, "--repository-file", writeSpec(t, host+"/fromfile\n"), "--", "--tag", "f1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := "pushed " + host + "/fromfile@" + digest.String() + "\ntagged " + host + "/fromfile:f1\n"; stdout != want {
		t.Errorf("output %q, want %q", stdout, want)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
