package passwd

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cat-server/cat-server/tools/oci/ocilayout"
)

// tarEntry is one header (and content) of a hand-made layer.
type tarEntry struct {
	name, link, data string
	typ              byte
}

// rawLayout writes an OCI layout whose layers hold exactly the given tar
// entries (symlinks, whiteouts, directories), gzip-compressed.
func rawLayout(t *testing.T, layers ...[]tarEntry) string {
	t.Helper()
	var tars [][]byte
	for _, entries := range layers {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, e := range entries {
			h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.data))}
			if e.typ != tar.TypeReg {
				h.Size = 0
			}
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			tw.Write([]byte(e.data))
		}
		tw.Close()
		tars = append(tars, buf.Bytes())
	}
	return layoutOfTars(t, tars...)
}

func build(t *testing.T, base string, spec Spec) error {
	t.Helper()
	dir := t.TempDir()
	spec.Base = base
	spec.Out = filepath.Join(dir, "passwd.tar.gz")
	spec.InfoOut = filepath.Join(dir, "info.txt")
	err := Build(spec)
	if err != nil {
		if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
			t.Errorf("failed Build left files behind: %v", left)
		}
	}
	return err
}

func reg(name, data string) tarEntry { return tarEntry{name: name, data: data, typ: tar.TypeReg} }

const rootLine = "root:x:0:0:root:/root:/bin/sh\n"

func TestBaseFilesFollowLayers(t *testing.T) {
	for _, tc := range []struct {
		name               string
		layers             [][]tarEntry
		wantPasswd, wantGr string
	}{
		{"upper layer wins", [][]tarEntry{{reg("etc/passwd", "a"), reg("etc/group", "g")}, {reg("etc/passwd", "b")}}, "b", "g"},
		{"later entry in one layer wins", [][]tarEntry{{reg("etc/passwd", "a"), reg("./etc/passwd", "b")}}, "b", ""},
		{"opaque /etc hides the lower layers", [][]tarEntry{{reg("etc/passwd", "a"), reg("etc/group", "g")}, {reg("etc/.wh..wh..opq", ""), reg("etc/group", "h")}}, "", "h"},
		{"whiteout of /etc hides the lower layers", [][]tarEntry{{reg("etc/passwd", "a")}, {reg(".wh.etc", "")}}, "", ""},
		{"whiteout of passwd", [][]tarEntry{{reg("etc/passwd", "a"), reg("etc/group", "g")}, {reg("etc/.wh.passwd", "")}}, "", "g"},
		{"directory /etc over a lower /etc symlink replaces it", [][]tarEntry{{{name: "etc", link: "usr/etc", typ: tar.TypeSymlink}, reg("usr/etc/passwd", "a")}, {{name: "etc/", typ: tar.TypeDir}, reg("etc/group", "g")}}, "", "g"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := ocilayout.Read(rawLayout(t, tc.layers...))
			if err != nil {
				t.Fatal(err)
			}
			p, g, err := BaseFiles(img)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tc.wantPasswd, tc.wantGr}, []string{string(p), string(g)}); diff != "" {
				t.Errorf("passwd, group (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildRefusesHostileBases(t *testing.T) {
	app := defined("app", "1000", "1000")
	for _, tc := range []struct {
		name   string
		layers [][]tarEntry
		spec   Spec
		want   string // the error, after "layer N of M (DIGEST)" is replaced by "LAYER"
	}{
		{"/etc is a symlink", [][]tarEntry{{{name: "etc", link: "usr/etc", typ: tar.TypeSymlink}, reg("usr/etc/passwd", rootLine)}}, app,
			`the base image's /etc is a symbolic link to "usr/etc" (LAYER); the passwd layer would replace it with a directory and hide the base's /etc: use a base whose /etc is a directory`},
		{"/etc/passwd is a symlink", [][]tarEntry{{{name: "etc/passwd", link: "/usr/etc/passwd", typ: tar.TypeSymlink}}}, app,
			`the base image's /etc/passwd is not a regular file (tar type '2', LAYER); cannot merge into it`},
		{"CRLF", [][]tarEntry{{reg("etc/passwd", "root:x:0:0:root:/root:/bin/sh\r\n")}}, app,
			"the base image's /etc/passwd line 1: holds a carriage return (CRLF line endings are not read by the C library)"},
		{"NUL", [][]tarEntry{{reg("etc/passwd", rootLine+"evil:x:0:0::/:/bin/sh\x00\n")}}, app,
			"the base image's /etc/passwd line 2: holds a NUL byte"},
		{"non-numeric uid", [][]tarEntry{{reg("etc/passwd", rootLine+"app:x:abc:1000::/:/bin/sh\n")}}, app,
			`the base image's /etc/passwd line 2: uid "abc" is not a decimal number in 0..4294967294`},
		{"wrong field count", [][]tarEntry{{reg("etc/passwd", rootLine+"app:x:1000:1000\n")}}, app,
			"the base image's /etc/passwd line 2: has 4 fields, want 7 (name:password:uid:gid:gecos:home:shell)"},
		{"group with a wrong field count", [][]tarEntry{{reg("etc/group", "root:x:0\n")}}, app,
			"the base image's /etc/group line 1: has 3 fields, want 4 (name:password:gid:members)"},
		{"a name twice", [][]tarEntry{{reg("etc/passwd", rootLine+"app:x:1000:1000::/home/app:/sbin/nologin\napp:x:0:0::/:/bin/sh\n")}}, app,
			`the base image's /etc/passwd line 3: "app" is already on line 2`},
		{"the name as a NIS compat entry", [][]tarEntry{{reg("etc/passwd", rootLine+"+app::::::\n")}}, app,
			`--define user=app: "app" is already named in the base image's /etc/passwd line 2 (+app::::::), a NIS compat entry; choose another user name`},
		{"passwd over the cap", [][]tarEntry{{reg("etc/passwd", strings.Repeat("#", MaxDBBytes+1))}}, app,
			"the base image's /etc/passwd is 4194305 bytes (LAYER), more than the 4194304-byte limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := build(t, rawLayout(t, tc.layers...), tc.spec)
			got := layerRE(fmt.Sprint(err))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Build error (-want +got):\n%s", diff)
			}
		})
	}
}

// layerRE replaces "layer N of M (sha256:...)" by "LAYER".
func layerRE(s string) string {
	i := strings.Index(s, "layer ")
	j := strings.Index(s, ")")
	if i < 0 || j < i || !strings.Contains(s[i:j], "sha256:") {
		return s
	}
	return s[:i] + "LAYER" + s[j+1:]
}

// TestBuildRefusesCorruptBase: a base layer with a few flipped bytes (same
// size) or deleted fails the build naming the blob, instead of being read as
// "no /etc/passwd" (which dropped root and nobody from the image).
func TestBuildRefusesCorruptBase(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(path string)
		want   string
	}{
		{"flipped bytes", func(p string) {
			b, _ := os.ReadFile(p)
			for i := len(b) / 2; i < len(b)/2+4; i++ {
				b[i] ^= 0x55
			}
			os.WriteFile(p, b, 0o644)
		}, "its content does not match its name"},
		{"deleted", func(p string) { os.Remove(p) }, "no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := baseLayout(t, map[string]string{"/etc/passwd": basePasswd, "/etc/group": baseGroup})
			img, err := ocilayout.Read(base)
			if err != nil {
				t.Fatal(err)
			}
			ls, _ := img.Layers()
			d, _ := ls[0].Digest()
			tc.damage(filepath.Join(base, "blobs", "sha256", d.Hex))
			err = build(t, base, defined("app", "1001", "1001"))
			want := fmt.Sprintf(`"base": reading OCI layout %s: layer 1 of 1: blob %s`, base, d)
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build error = %v\nwant %q ... %q", err, want, tc.want)
			}
		})
	}
}
