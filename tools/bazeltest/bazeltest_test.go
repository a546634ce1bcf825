package bazeltest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPaths(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "_main/img"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_SRCDIR", root)
	t.Setenv("FILES", "_main/a.txt _main/img")
	want := []string{filepath.Join(root, "_main/a.txt"), filepath.Join(root, "_main/img")}
	if diff := cmp.Diff(want, Paths(t, "FILES", "//x")); diff != "" {
		t.Errorf("Paths (-want +got):\n%s", diff)
	}
	if got := Path(t, "FILES", "//x"); got != want[0] {
		t.Errorf("Path = %s, want %s", got, want[0])
	}
	if got := Dir(t, "FILES", "//x"); got != want[1] {
		t.Errorf("Dir = %s, want %s", got, want[1])
	}
}
