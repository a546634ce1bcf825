package imagefs_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cat-server/cat-server/tools/cst/imagefs"
	ti "github.com/cat-server/cat-server/tools/cst/testimage"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestCaps lowers the caps and checks that an image over them is refused
// with a one-line error, not indexed or read whole.
func TestCaps(t *testing.T) {
	maxEntries, maxFile := imagefs.MaxEntries, imagefs.MaxFileBytes
	t.Cleanup(func() { imagefs.MaxEntries, imagefs.MaxFileBytes = maxEntries, maxFile })
	imagefs.MaxEntries, imagefs.MaxFileBytes = 5, 10

	var files []ti.Entry
	for i := 0; i < 6; i++ {
		files = append(files, ti.File(fmt.Sprintf("f%d", i), 0o644, "x"))
	}
	back, err := ocilayout.Read(ti.WriteLayout(t, ti.Image(t, v1.Config{}, ti.Layer(t, files...))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := imagefs.New(back); err == nil || !strings.HasSuffix(err.Error(), "the image has more than 5 files (tar entries); refusing to index more") {
		t.Errorf("New over MaxEntries: %v", err)
	}

	back, err = ocilayout.Read(ti.WriteLayout(t, ti.Image(t, v1.Config{}, ti.Layer(t, ti.File("big", 0o644, strings.Repeat("x", 11)), ti.File("ok", 0o644, strings.Repeat("x", 10))))))
	if err != nil {
		t.Fatal(err)
	}
	f, err := imagefs.New(back)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadFile("/big"); err == nil || err.Error() != "/big is 11 bytes, more than the 10-byte limit for reading a file of an image" {
		t.Errorf("ReadFile over MaxFileBytes: %v", err)
	}
	if b, err := f.ReadFile("/ok"); err != nil || len(b) != 10 {
		t.Errorf("ReadFile at MaxFileBytes = %d bytes, %v", len(b), err)
	}
}
