package release

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want Flags
	}{
		{"equals form", []string{"--repository=r.example/a", "--key=k.key", "--offline", "--tag=v1", "--tag=latest"},
			Flags{Repository: "r.example/a", Key: "k.key", Offline: true, Tags: []string{"v1", "latest"}}},
		{"space form, last repository wins", []string{"--repository", "r.example/a", "-r", "r.example/b", "--key", "env://K", "-t", "x"},
			Flags{Repository: "r.example/b", Key: "env://K", Tags: []string{"x"}}},
		{"keyless online", []string{"--repository=r.example/a"}, Flags{Repository: "r.example/a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFlags(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--repository is required"},
		{[]string{"--repository=r/a", "--bogus"}, `unknown argument "--bogus"`},
		{[]string{"--repository=r/a", "--key"}, "--key needs a value"},
		{[]string{"--repository=r/a", "--offline"}, "--offline needs --key"},
		{[]string{"--repository=r/a", "--key=k", "--offline=yes"}, "--offline takes no value"},
	} {
		if _, err := ParseFlags(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFlags(%q): %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadStamp(t *testing.T) {
	good := write(t, "stamp.json", `{"stamped": true, "revision": "abc", "version": "0.1.0", "dirty": false, "created": "2026-12-04T20:00:00Z"}`)
	if s, err := ReadStamp(good); err != nil || s.Version != "0.1.0" || s.Revision != "abc" {
		t.Errorf("ReadStamp: %+v, %v", s, err)
	}
	for _, tc := range []struct{ content, want string }{
		{`{"stamped": false}`, "refusing to release an unstamped build"},
		{`{"stamped": true}`, `needs "revision" and "version"`},
		{`nope`, "not a stamp file"},
	} {
		if _, err := ReadStamp(write(t, "stamp.json", tc.content)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadStamp(%s): %v, want an error containing %q", tc.content, err, tc.want)
		}
	}
	if _, err := ReadStamp(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "reading the stamp") {
		t.Errorf("missing stamp: %v", err)
	}
}

func TestTags(t *testing.T) {
	got, err := Tags(write(t, "tags.txt", "0.1.0\n\n  v2 \n"), []string{"latest", "0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"0.1.0", "v2", "latest"}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// Bad repositories and tags are refused before anything is pushed.
func TestPlanRefuses(t *testing.T) {
	none := func(context.Context, []string) error { t.Error("cosign ran"); return nil }
	for _, tc := range []struct {
		repo string
		tags []string
		want string
	}{
		{"r.example/a", []string{"bad tag!"}, "bad tag!"},
		{"R.example/UPPER", nil, "R.example/UPPER"},
		{"r.example/a", nil, "reading OCI layout"},
	} {
		_, err := Plan(Inputs{Image: t.TempDir()}, Flags{Repository: tc.repo}, tc.tags, none, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Plan(%q, %q): %v, want an error containing %q", tc.repo, tc.tags, err, tc.want)
		}
	}
}

// A release against an in-process registry whose cosign fails at the
// provenance attestation: the image and SBOM referrer are there, no tag is,
// and the error says what was and was not done.
func TestRunStopsBeforeTags(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	repo := u.Host + "/cat/server"

	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := layout.Write(dir, mustEmptyIndex(t, img)); err != nil {
		t.Fatal(err)
	}
	var calls [][]string
	cosign := func(_ context.Context, args []string) error {
		calls = append(calls, args)
		if args[0] == "attest" && slicesContains(args, "slsaprovenance1") {
			return errors.New("exit status 1")
		}
		return nil
	}
	in := Inputs{Image: dir, SBOM: "sbom.json", Provenance: "prov.json"}
	f := Flags{Repository: repo, Key: "k.key", Offline: true}
	var out bytes.Buffer
	steps, err := Plan(in, f, []string{"0.1.0", "latest"}, cosign, &out)
	if err != nil {
		t.Fatal(err)
	}
	err = Run(context.Background(), steps, &out)
	if err == nil {
		t.Fatal("Run passed with a failing cosign")
	}
	d, _ := img.Digest()
	ref := repo + "@" + d.String()
	for _, want := range []string{
		"release stopped at step 4/6 (attest slsaprovenance1 on " + ref + ")",
		"done: push the image " + ref + "; sign " + ref + "; attest cyclonedx on " + ref,
		"not done: attest slsaprovenance1 on " + ref + "; tag " + repo + ":0.1.0; tag " + repo + ":latest",
		"running the same command again is safe",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	wantCalls := [][]string{
		{"sign", "--yes", "--key", "k.key", "--tlog-upload=false", "--use-signing-config=false", ref},
		{"attest", "--yes", "--key", "k.key", "--tlog-upload=false", "--use-signing-config=false", "--type", "cyclonedx", "--predicate", "sbom.json", ref},
		{"attest", "--yes", "--key", "k.key", "--tlog-upload=false", "--use-signing-config=false", "--type", "slsaprovenance1", "--predicate", "prov.json", ref},
	}
	if diff := cmp.Diff(wantCalls, calls); diff != "" {
		t.Errorf("cosign calls (-want +got):\n%s", diff)
	}
	r, _ := name.NewRepository(repo)
	if _, err := remote.Head(r.Digest(d.String())); err != nil {
		t.Errorf("the image is not in the registry: %v", err)
	}
	if _, err := remote.Head(r.Tag("0.1.0")); err == nil {
		t.Error("tag 0.1.0 exists although the release stopped before the tags")
	}

	// Again with a working cosign: safe, and the tags come last.
	calls = nil
	ok := func(_ context.Context, args []string) error { calls = append(calls, args); return nil }
	steps, err = Plan(in, f, []string{"0.1.0", "latest"}, ok, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), steps, &out); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"0.1.0", "latest"} {
		desc, err := remote.Head(r.Tag(tag))
		if err != nil || desc.Digest != d {
			t.Errorf("tag %s: %v %v, want %s", tag, desc, err, d)
		}
	}
	if len(calls) != 3 {
		t.Errorf("second run: %d cosign calls, want 3", len(calls))
	}
}
