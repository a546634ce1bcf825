package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "sub", "out.txt")
	if err := WriteBytes(out, 0o644, []byte("first")); err != nil {
		t.Fatal(err)
	}
	// A failing fill keeps the old content and leaves no temporary file.
	err := Write(out, 0o644, func(w io.Writer) error {
		io.WriteString(w, "half")
		return errors.New("boom")
	})
	if err == nil || err.Error() != "boom" {
		t.Fatalf("Write error = %v, want boom", err)
	}
	got, err := os.ReadFile(out)
	if err != nil || string(got) != "first" {
		t.Errorf("content = %q, %v; want the old %q", got, err, "first")
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1 (no temporary leftovers)", len(entries))
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, %v; want 0644", fi.Mode(), err)
	}
}
