package layer

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// hdr is the part of a tar header the tests compare.
type hdr struct {
	Name     string
	Type     byte
	Mode     int64
	UID, GID int
	Link     string
	Content  string
	MTime    int64
	Uname    string
	Gname    string
	PAX      map[string]string
}

func readTar(t *testing.T, data []byte, gz bool) []hdr {
	t.Helper()
	var r io.Reader = bytes.NewReader(data)
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		if zr.Name != "" || !zr.ModTime.IsZero() || zr.Comment != "" {
			t.Errorf("gzip header has name %q, mtime %v, comment %q; want none", zr.Name, zr.ModTime, zr.Comment)
		}
		r = zr
	}
	tr := tar.NewReader(r)
	var out []hdr
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, hdr{h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid, h.Linkname, string(b), h.ModTime.Unix(), h.Uname, h.Gname, h.PAXRecords})
	}
}

func writeFile(t *testing.T, dir, name, content string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuildContents(t *testing.T) {
	dir := t.TempDir()
	bin := writeFile(t, dir, "bin", "#!/bin/true\n", 0o600)
	spec := Spec{
		Out:         filepath.Join(dir, "out.tar.gz"),
		Compression: Gzip,
		Entries: []SpecEntry{
			{Type: Symlink, Dest: "/usr/bin/cat-server", Target: "/app/cat-server"},
			{Type: File, Src: bin, Dest: "/app/cat-server", Mode: "0755", UID: 1000, GID: 2000},
			{Type: Dir, Dest: "/tmp", Mode: "1777"},
			{Type: File, Src: bin, Dest: "/app/setuid", Mode: "4755"},
			{Type: File, Src: bin, Dest: "/etc/default-mode"},
			{Type: Dir, Dest: "/home/big", UID: 2147483646, GID: 2147483646},
		},
	}
	if err := Build(spec); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(spec.Out)
	if err != nil {
		t.Fatal(err)
	}
	const content = "#!/bin/true\n"
	big := map[string]string{"uid": "2147483646", "gid": "2147483646"}
	want := []hdr{
		{Name: "app/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "app/cat-server", Type: tar.TypeReg, Mode: 0o755, UID: 1000, GID: 2000, Content: content},
		{Name: "app/setuid", Type: tar.TypeReg, Mode: 0o4755, Content: content},
		{Name: "etc/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "etc/default-mode", Type: tar.TypeReg, Mode: 0o644, Content: content},
		{Name: "home/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "home/big/", Type: tar.TypeDir, Mode: 0o755, UID: 2147483646, GID: 2147483646, PAX: big},
		{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777},
		{Name: "usr/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "usr/bin/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "usr/bin/cat-server", Type: tar.TypeSymlink, Mode: 0o777, Link: "/app/cat-server"},
	}
	if diff := cmp.Diff(want, readTar(t, data, true)); diff != "" {
		t.Errorf("layer contents (-want +got):\n%s", diff)
	}
}

func TestDeterminism(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a", "aaa", 0o644)
	b := writeFile(t, dir, "b", "bbb", 0o755)
	entries := []SpecEntry{
		{Type: File, Src: a, Dest: "/x/a", Mode: "0644"},
		{Type: File, Src: b, Dest: "/x/y/b", Mode: "0755"},
		{Type: Dir, Dest: "/var/tmp", Mode: "1777"},
		{Type: Symlink, Dest: "/x/link", Target: "a"},
	}
	reversed := make([]SpecEntry, len(entries))
	for i, e := range entries {
		reversed[len(entries)-1-i] = e
	}
	for _, c := range []Compression{Gzip, None} {
		t.Run(string(c), func(t *testing.T) {
			out1 := filepath.Join(dir, "1-"+string(c))
			out2 := filepath.Join(dir, "2-"+string(c))
			if err := Build(Spec{Out: out1, Entries: entries, Compression: c}); err != nil {
				t.Fatal(err)
			}
			// Different mtimes on the inputs must not matter.
			if err := os.Chtimes(a, time0(), time0()); err != nil {
				t.Fatal(err)
			}
			if err := Build(Spec{Out: out2, Entries: reversed, Compression: c}); err != nil {
				t.Fatal(err)
			}
			d1, _ := os.ReadFile(out1)
			d2, _ := os.ReadFile(out2)
			if !bytes.Equal(d1, d2) {
				t.Errorf("two builds differ (%d vs %d bytes)", len(d1), len(d2))
			}
			for _, h := range readTar(t, d1, c == Gzip) {
				if h.MTime != 0 || h.Uname != "" || h.Gname != "" || len(h.PAX) != 0 {
					t.Errorf("%s: mtime %d, uname %q, gname %q, pax %v; want 0, empty, empty, none", h.Name, h.MTime, h.Uname, h.Gname, h.PAX)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "src", "x", 0o644)
	for _, tc := range []struct {
		name    string
		entries []SpecEntry
		comp    Compression
		want    string
	}{
		{"duplicate dest", []SpecEntry{{Type: File, Src: src, Dest: "/a"}, {Type: Dir, Dest: "/a"}}, "", "entry 1: duplicate dest /a (also entry 0)"},
		{"relative dest", []SpecEntry{{Type: File, Src: src, Dest: "app/a"}}, "", `dest "app/a" is not absolute`},
		{"unclean dest", []SpecEntry{{Type: File, Src: src, Dest: "/app/../a"}}, "", `dest "/app/../a" is not clean (want "/a")`},
		{"trailing slash", []SpecEntry{{Type: Dir, Dest: "/app/"}}, "", `is not clean`},
		{"root", []SpecEntry{{Type: Dir, Dest: "/"}}, "", `root directory`},
		{"bad mode", []SpecEntry{{Type: File, Src: src, Dest: "/a", Mode: "0999"}}, "", `"mode": mode "0999" is not an octal mode`},
		{"mode too big", []SpecEntry{{Type: File, Src: src, Dest: "/a", Mode: "17777"}}, "", `mode "17777" is not an octal mode`},
		{"missing src", []SpecEntry{{Type: File, Src: filepath.Join(dir, "nope"), Dest: "/a"}}, "", "/a: src: open " + filepath.Join(dir, "nope")},
		{"src is a directory", []SpecEntry{{Type: File, Src: dir, Dest: "/a"}}, "", "is not a regular file"},
		{"file without src", []SpecEntry{{Type: File, Dest: "/a"}}, "", `a file needs "src"`},
		{"symlink without target", []SpecEntry{{Type: Symlink, Dest: "/a"}}, "", "a symlink needs a target"},
		{"unknown type", []SpecEntry{{Type: "fifo", Dest: "/a"}}, "", `type "fifo" is not one of file, dir, symlink`},
		{"file as parent", []SpecEntry{{Type: File, Src: src, Dest: "/a"}, {Type: File, Src: src, Dest: "/a/b"}}, "", "/a/b needs /a to be a directory, but it is a file"},
		{"negative uid", []SpecEntry{{Type: Dir, Dest: "/a", UID: -1}}, "", "must not be negative"},
		{"bad compression", nil, "bzip2", `"compression": "bzip2" is not one of`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.tar")
			err := Build(Spec{Out: out, Entries: tc.entries, Compression: tc.comp})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build error = %v, want it to contain %q", err, tc.want)
			}
			if _, statErr := os.Stat(out); !os.IsNotExist(statErr) {
				t.Errorf("failed Build left %s behind", out)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*")); len(left) != 0 {
				t.Errorf("failed Build left files behind: %v", left)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0755", 0o755, true}, {"755", 0o755, true}, {"1777", 0o1777, true}, {"4755", 0o4755, true},
		{"0", 0, true}, {"", 0, false}, {"8", 0, false}, {"-1", 0, false}, {"0o755", 0, false}, {"10000", 0, false},
	} {
		got, err := ParseMode(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseMode(%q) = %o, %v; want %o, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func time0() time.Time { return time.Unix(12345, 0) }

// TestDescriptor checks that the descriptor Build writes is the digest and
// size of the file and the digest of the tar inside it, for a layer large
// enough to span many of pgzip's blocks.
func TestDescriptor(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 3<<20+12345) // several 256 KiB blocks, not a multiple
	for i := range big {
		big[i] = byte(i*7 + i/1000)
	}
	src := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(src, big, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []Compression{Gzip, None} {
		t.Run(string(c), func(t *testing.T) {
			out := filepath.Join(dir, "layer-"+string(c))
			descOut := out + ".descriptor.json"
			spec := Spec{Out: out, DescriptorOut: descOut, Compression: c, Entries: []SpecEntry{
				{Type: File, Src: src, Dest: "/app/big.bin"},
				{Type: Dir, Dest: "/srv"},
			}}
			if err := Build(spec); err != nil {
				t.Fatal(err)
			}
			got, err := ReadDescriptor(descOut)
			if err != nil {
				t.Fatal(err)
			}
			file, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			tarBytes := file
			if c == Gzip {
				zr, err := gzip.NewReader(bytes.NewReader(file))
				if err != nil {
					t.Fatal(err)
				}
				if tarBytes, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			want := Descriptor{Compression: c, Digest: sha(file), Size: int64(len(file)), DiffID: sha(tarBytes)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("descriptor (-computed from the file +written):\n%s", diff)
			}
			if hs := readTar(t, file, c == Gzip); len(hs) != 3 || hs[1].Content != string(big) {
				t.Errorf("layer holds %d entries; want /app/, /app/big.bin with its content, /srv/", len(hs))
			}
		})
	}
}

func sha(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

func TestReadDescriptorErrors(t *testing.T) {
	good := `"digest": "sha256:` + strings.Repeat("a", 64) + `", "diffID": "sha256:` + strings.Repeat("b", 64) + `", "size": 10`
	tests := []struct {
		name, content, want string
	}{
		{"not JSON", "{", "unexpected end of JSON input"},
		{"unknown compression", `{"compression": "xz", ` + good + `}`, "want compression gzip or none"},
		{"short digest", `{"compression": "gzip", "digest": "sha256:abc", "diffID": "sha256:` + strings.Repeat("b", 64) + `", "size": 1}`, "want compression gzip or none"},
		{"upper-case hex", `{"compression": "gzip", "digest": "sha256:` + strings.Repeat("A", 64) + `", "diffID": "sha256:` + strings.Repeat("b", 64) + `", "size": 1}`, "want compression gzip or none"},
		{"negative size", `{"compression": "none", "digest": "sha256:` + strings.Repeat("a", 64) + `", "diffID": "sha256:` + strings.Repeat("b", 64) + `", "size": -1}`, "want compression gzip or none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "d.json")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadDescriptor(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("ReadDescriptor = %v; want an error naming %s and saying %q", err, p, tt.want)
			}
		})
	}
	p := filepath.Join(t.TempDir(), "ok.json")
	if err := os.WriteFile(p, []byte(`{"compression": "gzip", `+good+`}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDescriptor(p); err != nil {
		t.Errorf("ReadDescriptor of a valid descriptor: %v", err)
	}
}
