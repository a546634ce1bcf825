package dockersave

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestWriteOCI(t *testing.T) {
	idx, err := random.Index(64, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tags := []string{"cat-server:latest", "cat-server:v1"}
	if err := WriteOCI(&buf, idx, tags); err != nil {
		t.Fatal(err)
	}
	// Deterministic: the same input gives the same bytes.
	var again bytes.Buffer
	if err := WriteOCI(&again, idx, tags); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two writes of the same index differ")
	}
	dir := t.TempDir()
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(h.ModTime.Truncate(0)) || h.ModTime.Unix() != 0 {
			t.Errorf("%s: mtime %v, want 0", h.Name, h.ModTime)
		}
		p := filepath.Join(dir, h.Name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		b, _ := io.ReadAll(tr)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var top v1.IndexManifest
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	var got []string
	for _, m := range top.Manifests {
		if m.Digest != d {
			t.Errorf("index.json entry %s, want %s", m.Digest, d)
		}
		got = append(got, m.Annotations["org.opencontainers.image.ref.name"])
	}
	if diff := cmp.Diff(tags, got); diff != "" {
		t.Errorf("ref names (-want +got):\n%s", diff)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	read, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	child, err := read.ImageIndex(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(child); err != nil {
		t.Errorf("the tarball's index is incomplete: %v", err)
	}
}
