package passwd

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/cat-server/cat-server/tools/oci/layer"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
)

const basePasswd = "root:x:0:0:root:/root:/bin/bash\n# a comment\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nexisting:x:1000:1000::/home/existing:/bin/sh\n"
const baseGroup = "root:x:0:\ndialout:x:20:\nnogroup:x:65534:\nexisting:x:1000:\n"

// baseLayout writes an OCI layout whose filesystem is built from layers of
// path -> content (a content of "" with a ".wh." name is a whiteout).
func baseLayout(t *testing.T, layers ...map[string]string) string {
	t.Helper()
	var tars [][]byte
	for _, files := range layers {
		var entries []layer.Entry
		for p, c := range files {
			entries = append(entries, layer.Entry{Type: layer.File, Dest: p, Mode: 0o644, Data: []byte(c)})
		}
		var buf bytes.Buffer
		if err := layer.Write(&buf, entries, layer.None); err != nil {
			t.Fatal(err)
		}
		tars = append(tars, buf.Bytes())
	}
	return layoutOfTars(t, tars...)
}

// layoutOfTars writes an OCI layout of an image whose layers are the given
// tars, in order (gzip-compressed).
func layoutOfTars(t *testing.T, tars ...[]byte) string {
	t.Helper()
	img := empty.Image
	for _, data := range tars {
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "base")
	if err := ocilayout.Write(dir, img); err != nil {
		t.Fatal(err)
	}
	return dir
}

func defined(user, uid, gid string) Spec {
	return Spec{User: user, UID: uid, GID: gid, Sources: Sources{User: SourceDefine, UID: SourceDefine, GID: SourceDefine}}
}

// readLayer returns the layer's entries as "name mode uid:gid" and the
// contents of its files.
func readLayer(t *testing.T, path string) ([]string, map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names, files
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name+" "+modeString(h.Mode)+" "+itoa(h.Uid)+":"+itoa(h.Gid))
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			files[h.Name] = string(b)
		}
	}
}

func modeString(m int64) string { return "0" + strconv.FormatInt(m, 8) }
func itoa(i int) string         { return strconv.Itoa(i) }

func TestBuildMerge(t *testing.T) {
	base := baseLayout(t, map[string]string{"/etc/passwd": basePasswd, "/etc/group": baseGroup})
	// The base's group file is deleted by a whiteout in a later layer.
	whiteout := baseLayout(t, map[string]string{"/etc/passwd": basePasswd, "/etc/group": baseGroup}, map[string]string{"/etc/.wh.group": ""})
	noNewline := baseLayout(t, map[string]string{"/etc/passwd": "root:x:0:0:root:/root:/bin/sh", "/etc/group": "root:x:0:"})
	for _, tc := range []struct {
		name       string
		base       string
		spec       Spec
		wantPasswd string
		wantGroup  string
		wantInfo   string
	}{
		{
			name:       "appends to base, keeps base entries in order",
			base:       base,
			spec:       Spec{User: "app", UID: "1001", GID: "2000", Sources: Sources{User: SourceDefault, UID: SourceDefault, GID: SourceDefine}},
			wantPasswd: basePasswd + "app:x:1001:2000::/home/app:/sbin/nologin\n",
			wantGroup:  baseGroup + "app:x:2000:\n",
			wantInfo:   "user=app (default)\nuid=1001 (default)\ngid=2000 (--define)\n",
		},
		{
			name:       "identical entries are reused",
			base:       base,
			spec:       defined("existing", "1000", "1000"),
			wantPasswd: basePasswd,
			wantGroup:  baseGroup,
			wantInfo:   "user=existing (--define)\nuid=1000 (--define)\ngid=1000 (--define)\n",
		},
		{
			name:       "no base",
			spec:       defined("app", "1000", "1000"),
			wantPasswd: "app:x:1000:1000::/home/app:/sbin/nologin\n",
			wantGroup:  "app:x:1000:\n",
			wantInfo:   "user=app (--define)\nuid=1000 (--define)\ngid=1000 (--define)\n",
		},
		{
			name:       "whiteout removes base group",
			base:       whiteout,
			spec:       defined("app", "1001", "1001"),
			wantPasswd: basePasswd + "app:x:1001:1001::/home/app:/sbin/nologin\n",
			wantGroup:  "app:x:1001:\n",
			wantInfo:   "user=app (--define)\nuid=1001 (--define)\ngid=1001 (--define)\n",
		},
		{
			name:       "base without final newline",
			base:       noNewline,
			spec:       defined("app", "1001", "1001"),
			wantPasswd: "root:x:0:0:root:/root:/bin/sh\napp:x:1001:1001::/home/app:/sbin/nologin\n",
			wantGroup:  "root:x:0:\napp:x:1001:\n",
			wantInfo:   "user=app (--define)\nuid=1001 (--define)\ngid=1001 (--define)\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := tc.spec
			spec.Base = tc.base
			spec.Out = filepath.Join(dir, "passwd.tar.gz")
			spec.InfoOut = filepath.Join(dir, "info.txt")
			if err := Build(spec); err != nil {
				t.Fatal(err)
			}
			names, files := readLayer(t, spec.Out)
			u, g := spec.UID, spec.GID
			wantNames := []string{"etc/ 0755 0:0", "etc/group 0644 0:0", "etc/passwd 0644 0:0", "home/ 0755 0:0", "home/" + spec.User + "/ 0755 " + u + ":" + g}
			if diff := cmp.Diff(wantNames, names); diff != "" {
				t.Errorf("layer entries (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPasswd, files["etc/passwd"]); diff != "" {
				t.Errorf("/etc/passwd (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantGroup, files["etc/group"]); diff != "" {
				t.Errorf("/etc/group (-want +got):\n%s", diff)
			}
			info, err := os.ReadFile(spec.InfoOut)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantInfo, string(info)); diff != "" {
				t.Errorf("info (-want +got):\n%s", diff)
			}
			// Determinism: a second build is byte-identical.
			first, _ := os.ReadFile(spec.Out)
			if err := Build(spec); err != nil {
				t.Fatal(err)
			}
			second, _ := os.ReadFile(spec.Out)
			if !bytes.Equal(first, second) {
				t.Error("two builds of the same spec differ")
			}
		})
	}
}

func TestBuildRefusals(t *testing.T) {
	base := baseLayout(t, map[string]string{"/etc/passwd": basePasswd, "/etc/group": baseGroup})
	withDefault := defined("app", "abc", "1000")
	withDefault.Sources.UID = SourceDefault
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"uid=abc", defined("app", "abc", "1000"), "--define uid=abc: uid must be an integer in 1..2147483646"},
		{"uid=abc default", withDefault, "uid=abc (default): uid must be an integer in 1..2147483646"},
		{"uid=0", defined("app", "0", "1000"), "--define uid=0: uid 0 is root; the image must run as a non-root user"},
		{"uid=-1", defined("app", "-1", "1000"), "--define uid=-1: uid must be an integer in 1..2147483646"},
		{"uid=+5", defined("app", "+5", "1000"), "--define uid=+5: uid must be an integer in 1..2147483646"},
		{"uid with space", defined("app", " 5", "1000"), "--define uid= 5: uid must be an integer in 1..2147483646"},
		{"uid=2147483647", defined("app", "2147483647", "1000"), "--define uid=2147483647: uid must be an integer in 1..2147483646"},
		{"uid=99999999999", defined("app", "99999999999", "1000"), "--define uid=99999999999: uid must be an integer in 1..2147483646"},
		{"uid=007", defined("app", "007", "1000"), "--define uid=007: uid must be an integer in 1..2147483646, written without leading zeros"},
		{"gid=0", defined("app", "1000", "0"), "--define gid=0: gid 0 is the root group; the image must run with a non-root group"},
		{"user=Bad:Name", defined("Bad:Name", "1000", "1000"), "--define user=Bad:Name: user name must match ^[a-z_][a-z0-9_-]*[$]?$ and be at most 32 characters (the rule useradd applies)"},
		{"user empty", defined("", "1000", "1000"), "--define user=: user name must match"},
		{"user too long", defined(strings.Repeat("a", 33), "1000", "1000"), "be at most 32 characters"},
		{"user=root", defined("root", "1001", "1001"), `--define user=root: user "root" already exists with uid 0 in the base image's /etc/passwd (root:x:0:0:root:/root:/bin/bash); choose another user name`},
		{"uid clash", defined("app", "65534", "1001"), `--define uid=65534: uid 65534 is already user "nobody" in the base image's /etc/passwd; choose another uid`},
		{"gid clash", defined("app", "1001", "20"), `--define gid=20: gid 20 is already group "dialout" in the base image's /etc/group; choose another gid`},
		{"group name clash", defined("dialout", "1001", "1001"), `--define gid=1001: group "dialout" (named like the user) already exists with gid 20 in the base image's /etc/group (dialout:x:20:); choose gid 20 or another user name`},
		{"same user, other primary gid", defined("existing", "1000", "1001"), `--define gid=1001: user "existing" already exists in the base image's /etc/passwd with primary gid 1000, not 1001`},
		{"bad source", Spec{User: "app", UID: "1", GID: "1", Sources: Sources{User: "cli", UID: SourceDefine, GID: SourceDefine}}, `"sources"."user": "cli" is not "default" or "--define"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := tc.spec
			spec.Base = base
			spec.Out = filepath.Join(dir, "passwd.tar.gz")
			spec.InfoOut = filepath.Join(dir, "info.txt")
			err := Build(spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build error = %v\nwant it to contain %q", err, tc.want)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
				t.Errorf("failed Build left files behind: %v", left)
			}
		})
	}
}

func TestBaseFilesMissing(t *testing.T) {
	img, err := ocilayout.Read(baseLayout(t, map[string]string{"/etc/hostname": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	p, g, err := BaseFiles(img)
	if err != nil || p != nil || g != nil {
		t.Errorf("BaseFiles = %q, %q, %v; want nil, nil, nil", p, g, err)
	}
}
