package ocilayout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestWriteThenRead(t *testing.T) {
	img, err := random.Image(256, 2)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "image")
	if err := Write(dir, img); err != nil {
		t.Fatalf("Write: %v", err)
	}
	// Writing again replaces the layout instead of adding a second manifest.
	if err := Write(dir, img); err != nil {
		t.Fatalf("second Write: %v", err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	want, _ := img.Digest()
	gotDigest, _ := got.Digest()
	if gotDigest != want {
		t.Errorf("digest = %s, want %s", gotDigest, want)
	}
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("parent holds %d entries, want only the layout (no temporary leftovers)", len(entries))
	}
}

func TestReadErrors(t *testing.T) {
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	twoImages := t.TempDir()
	p, err := layout.Write(twoImages, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := p.AppendImage(img); err != nil {
			t.Fatal(err)
		}
	}
	noImages := t.TempDir()
	if _, err := layout.Write(noImages, empty.Index); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir, want string
	}{
		{"missing directory", filepath.Join(t.TempDir(), "nope"), "index.json"},
		{"two manifests", twoImages, "holds 2 manifests, want exactly 1"},
		{"no manifest", noImages, "holds 0 manifests, want exactly 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(tc.dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read(%s) error = %v, want it to contain %q", tc.dir, err, tc.want)
			}
		})
	}
}

// Bazel's sandbox presents the blobs of an input layout as symbolic links.
func TestReadSymlinkedBlobs(t *testing.T) {
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(t.TempDir(), "real")
	if err := Write(real, img); err != nil {
		t.Fatal(err)
	}
	linked := t.TempDir()
	err = filepath.Walk(real, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(real, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(linked, rel), 0o755)
		}
		return os.Symlink(p, filepath.Join(linked, rel))
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read(linked)
	if err != nil {
		t.Fatalf("Read of a layout with symlinked blobs: %v", err)
	}
	if err := validate.Image(got); err != nil {
		t.Errorf("validate.Image: %v", err)
	}
	want, _ := img.Digest()
	if d, _ := got.Digest(); d != want {
		t.Errorf("digest = %s, want %s", d, want)
	}
}

func TestWriteMakesEverythingReadable(t *testing.T) {
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "image")
	if err := Write(dir, img); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := os.FileMode(0o644)
		if d.IsDir() {
			want = 0o755
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s has mode %v, want %v", p, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
