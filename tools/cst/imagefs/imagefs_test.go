package imagefs_test

import (
	"archive/tar"
	"errors"
	"io/fs"
	"testing"

	"github.com/cat-server/cat-server/tools/cst/imagefs"
	ti "github.com/cat-server/cat-server/tools/cst/testimage"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// layered builds an image whose layers exercise whiteouts, opaque
// directories, replacement and symlinks, and reads it back from an OCI
// layout as cst does.
func layered(t *testing.T) *imagefs.FS {
	t.Helper()
	img := ti.Image(t, v1.Config{},
		ti.Layer(t,
			ti.Dir("./", 0o755),
			ti.Dir("./etc/", 0o755),
			ti.File("./etc/passwd", 0o644, "root:x:0:0\n"),
			ti.File("./etc/shadow", 0o600, "secret"),
			ti.Dir("./opt/", 0o755),
			ti.File("./opt/old-a", 0o644, "a"),
			ti.File("./opt/old-b", 0o644, "b"),
			ti.Dir("./var/", 0o755),
			ti.File("./var/cache/x", 0o644, "x"), // no ./var/cache/ entry: implicit dir
			ti.Dir("./usr/bin/", 0o755),
			ti.File("./usr/bin/tool", 0o755, "v1"),
			ti.Dir("./lib/", 0o755),
			ti.File("./lib/libc.so", 0o644, "libc"),
			ti.Dir("/tmp", 0o1777),
		),
		ti.Layer(t,
			ti.Whiteout("etc/shadow"),
			ti.Opaque("opt"),
			ti.File("opt/new", 0o644, "new"),
			ti.File("usr/bin/tool", 0o4755, "v2").Owned(0, 0),
			ti.Symlink("bin", "usr/bin"),
			ti.Symlink("etc/os-release", "/usr/lib/os-release"),
			ti.File("usr/lib/os-release", 0o644, "ID=test\n"),
			ti.Hardlink("usr/bin/tool2", "usr/bin/tool"),
			ti.File("lib", 0o644, "lib is now a file"), // replaces the directory
			ti.Symlink("loop", "loop"),
		),
		ti.Layer(t,
			ti.Whiteout("var"),
			ti.File("var/fresh", 0o640, "f").Owned(1000, 1001),
		),
	)
	dir := ti.WriteLayout(t, img)
	back, err := ocilayout.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := imagefs.New(back)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

func TestMergedView(t *testing.T) {
	f := layered(t)
	var got []string
	f.Walk(func(e *imagefs.Entry) { got = append(got, e.Mode()+" "+e.Path) })
	want := []string{
		"drwxr-xr-x /",
		"lrwxrwxrwx /bin",
		"drwxr-xr-x /etc",
		"lrwxrwxrwx /etc/os-release",
		"-rw-r--r-- /etc/passwd",
		"-rw-r--r-- /lib",
		"lrwxrwxrwx /loop",
		"drwxr-xr-x /opt",
		"-rw-r--r-- /opt/new",
		"drwxrwxrwt /tmp",
		"drwxr-xr-x /usr",
		"drwxr-xr-x /usr/bin",
		"-rwsr-xr-x /usr/bin/tool",
		"-rw-r--r-- /usr/bin/tool2",
		"drwxr-xr-x /usr/lib",
		"-rw-r--r-- /usr/lib/os-release",
		"drwxr-xr-x /var",
		"-rw-r----- /var/fresh",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged filesystem mismatch (-want +got):\n%s", diff)
	}
}

func TestLookup(t *testing.T) {
	f := layered(t)
	for _, tc := range []struct {
		path    string
		lstat   bool
		want    string // path of the entry found, "" for not found
		wantErr error
	}{
		{path: "/etc/passwd", want: "/etc/passwd"},
		{path: "etc/passwd", want: "/etc/passwd"},
		{path: "/etc/shadow", wantErr: fs.ErrNotExist},         // whiteout
		{path: "/opt/old-a", wantErr: fs.ErrNotExist},          // opaque dir
		{path: "/var/cache/x", wantErr: fs.ErrNotExist},        // whiteout of a dir
		{path: "/lib/libc.so", wantErr: fs.ErrNotExist},        // dir replaced by a file
		{path: "/bin/tool", want: "/usr/bin/tool"},             // through a dir symlink
		{path: "/bin", lstat: true, want: "/bin"},              // the link itself
		{path: "/bin", want: "/usr/bin"},                       // followed
		{path: "/etc/os-release", want: "/usr/lib/os-release"}, // absolute target, in the image root
		{path: "/bin/../etc/passwd", want: "/etc/passwd"},      // cleaned lexically
		{path: "/etc/passwd/x", wantErr: fs.ErrNotExist},       // not a directory
		{path: "/", want: "/"},
	} {
		lookup := f.Stat
		if tc.lstat {
			lookup = f.Lstat
		}
		e, err := lookup(tc.path)
		switch {
		case tc.wantErr != nil:
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("lookup(%q) error = %v, want %v", tc.path, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("lookup(%q): %v", tc.path, err)
		case e.Path != tc.want:
			t.Errorf("lookup(%q) = %s, want %s", tc.path, e.Path, tc.want)
		}
	}
	if _, err := f.Stat("/loop"); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(/loop) error = %v, want a symlink loop error", err)
	}
}

func TestReadFile(t *testing.T) {
	f := layered(t)
	for path, want := range map[string]string{
		"/etc/passwd":     "root:x:0:0\n",
		"/bin/tool":       "v2", // upper layer wins
		"/usr/bin/tool2":  "v2", // hard link
		"/etc/os-release": "ID=test\n",
		"/opt/new":        "new",
	} {
		got, err := f.ReadFile(path)
		if err != nil {
			t.Errorf("ReadFile(%s): %v", path, err)
			continue
		}
		if string(got) != want {
			t.Errorf("ReadFile(%s) = %q, want %q", path, got, want)
		}
	}
	if _, err := f.ReadFile("/etc/shadow"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(whited-out file) error = %v, want fs.ErrNotExist", err)
	}
	if _, err := f.ReadFile("/etc"); err == nil {
		t.Errorf("ReadFile(directory) succeeded, want an error")
	}
}

func TestOwnership(t *testing.T) {
	f := layered(t)
	e, err := f.Stat("/var/fresh")
	if err != nil {
		t.Fatal(err)
	}
	if e.Header.Uid != 1000 || e.Header.Gid != 1001 {
		t.Errorf("uid/gid = %d/%d, want 1000/1001", e.Header.Uid, e.Header.Gid)
	}
}

func TestModes(t *testing.T) {
	for _, tc := range []struct {
		typ      byte
		mode     int64
		ls, goFm string
	}{
		{tar.TypeReg, 0o755, "-rwxr-xr-x", "-rwxr-xr-x"},
		{tar.TypeDir, 0o1777, "drwxrwxrwt", "dtrwxrwxrwx"},
		{tar.TypeDir, 0o1770, "drwxrwx--T", "dtrwxrwx---"},
		{tar.TypeReg, 0o4755, "-rwsr-xr-x", "urwxr-xr-x"},
		{tar.TypeReg, 0o4644, "-rwSr--r--", "urw-r--r--"},
		{tar.TypeReg, 0o2755, "-rwxr-sr-x", "grwxr-xr-x"},
		{tar.TypeSymlink, 0o777, "lrwxrwxrwx", "Lrwxrwxrwx"},
	} {
		h := &tar.Header{Typeflag: tc.typ, Mode: tc.mode}
		if got := imagefs.LsMode(h); got != tc.ls {
			t.Errorf("LsMode(%c %04o) = %q, want %q", tc.typ, tc.mode, got, tc.ls)
		}
		if got := imagefs.GoMode(h); got != tc.goFm {
			t.Errorf("GoMode(%c %04o) = %q, want %q", tc.typ, tc.mode, got, tc.goFm)
		}
	}
}
