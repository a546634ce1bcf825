package dockersave

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func TestWriteFile(t *testing.T) {
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	tags, err := ParseTags([]string{"cat-server:latest", "127.0.0.1:5000/team/cat-server:v1", "noversion"})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "sub", "image.tar")
	if err := WriteFile(out, img, tags); err != nil {
		t.Fatal(err)
	}
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(out) })
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 {
		t.Fatalf("manifest.json has %d images, want 1", len(m))
	}
	wantTags := []string{"cat-server:latest", "127.0.0.1:5000/team/cat-server:v1", "noversion:latest"}
	if diff := cmp.Diff(wantTags, m[0].RepoTags); diff != "" {
		t.Errorf("RepoTags (-want +got):\n%s", diff)
	}
	for _, tagStr := range wantTags {
		tag, err := name.NewTag(tagStr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tarball.ImageFromPath(out, &tag)
		if err != nil {
			t.Fatalf("ImageFromPath(%s): %v", tag, err)
		}
		wantCfg, _ := img.ConfigName()
		gotCfg, err := got.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		if gotCfg != wantCfg {
			t.Errorf("%s: config %s, want %s", tag, gotCfg, wantCfg)
		}
		wantLayers, _ := img.Layers()
		gotLayers, err := got.Layers()
		if err != nil {
			t.Fatal(err)
		}
		if len(gotLayers) != len(wantLayers) {
			t.Fatalf("%d layers, want %d", len(gotLayers), len(wantLayers))
		}
		for i := range wantLayers {
			w, _ := wantLayers[i].Digest()
			g, _ := gotLayers[i].Digest()
			if w != g {
				t.Errorf("layer %d digest %s, want %s", i, g, w)
			}
		}
	}
}

func TestUntagged(t *testing.T) {
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "image.tar")
	if err := WriteFile(out, img, nil); err != nil {
		t.Fatal(err)
	}
	got, err := tarball.ImageFromPath(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.ConfigName()
	if g, _ := got.ConfigName(); g != want {
		t.Errorf("config %s, want %s", g, want)
	}
}

func TestParseTagsErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"repo@sha256:" + strings.Repeat("a", 64), "not a digest reference"},
		{"Bad Repo:tag", `--tag "Bad Repo:tag": want REPO:TAG`},
		{"repo:bad tag!", `--tag "repo:bad tag!": want REPO:TAG`},
	} {
		_, err := ParseTags([]string{tc.in})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseTags(%q) error = %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	img, err := random.Image(256, 3)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := 0; i < 20; i++ {
		names = append(names, "repo:t"+string(rune('a'+i)))
	}
	tags, err := ParseTags(names)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var outs [][]byte
	for _, n := range []string{"1.tar", "2.tar"} {
		p := filepath.Join(dir, n)
		if err := WriteFile(p, img, tags); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("two tarballs of the same image and tags differ")
	}
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(filepath.Join(dir, "1.tar")) })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(names, m[0].RepoTags); diff != "" {
		t.Errorf("RepoTags not in the given order (-want +got):\n%s", diff)
	}
}
