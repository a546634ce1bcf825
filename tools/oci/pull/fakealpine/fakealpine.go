// Package fakealpine builds, for tests, a multi-platform image shaped like
// the official alpine image on Docker Hub — a Docker manifest list holding
// linux/amd64 and linux/arm64/v8 images (Docker schema 2 manifests and
// gzip layers) plus BuildKit attestation manifests with the platform
// unknown/unknown — and serves it from an in-process registry.
package fakealpine

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Passwd is alpine's /etc/passwd.
const Passwd = `root:x:0:0:root:/root:/bin/sh
bin:x:1:1:bin:/bin:/sbin/nologin
daemon:x:2:2:daemon:/sbin:/sbin/nologin
lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin
sync:x:5:0:sync:/sbin:/bin/sync
shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown
halt:x:7:0:halt:/sbin:/sbin/halt
mail:x:8:12:mail:/var/mail:/sbin/nologin
news:x:9:13:news:/usr/lib/news:/sbin/nologin
uucp:x:10:14:uucp:/var/spool/uucppublic:/sbin/nologin
cron:x:16:16:cron:/var/spool/cron:/sbin/nologin
ftp:x:21:21::/var/lib/ftp:/sbin/nologin
sshd:x:22:22:sshd:/dev/null:/sbin/nologin
games:x:35:35:games:/usr/games:/sbin/nologin
ntp:x:123:123:NTP:/var/empty:/sbin/nologin
guest:x:405:100:guest:/dev/null:/sbin/nologin
nobody:x:65534:65534:nobody:/:/sbin/nologin
`

// Group is alpine's /etc/group.
const Group = `root:x:0:root
bin:x:1:root,bin,daemon
daemon:x:2:root,bin,daemon
sys:x:3:root,bin
adm:x:4:root,daemon
tty:x:5:
disk:x:6:root
lp:x:7:lp
kmem:x:9:
wheel:x:10:root
floppy:x:11:root
mail:x:12:mail
news:x:13:news
uucp:x:14:uucp
cron:x:16:cron
console:x:17:
audio:x:18:
cdrom:x:19:
dialout:x:20:root
ftp:x:21:
sshd:x:22:
input:x:23:
tape:x:26:root
video:x:27:root
netdev:x:28:
kvm:x:34:kvm
games:x:35:
shadow:x:42:
www-data:x:82:
users:x:100:games
ntp:x:123:
abuild:x:300:
utmp:x:406:
ping:x:999:
nogroup:x:65533:
nobody:x:65534:
`

// Platforms are the runnable platforms of the fixture's index, in order.
var Platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64", Variant: "v8"},
}

// Fixture is the alpine-shaped index and its images.
type Fixture struct {
	Index       v1.ImageIndex
	IndexDigest v1.Hash
	// Images maps "linux/amd64" and "linux/arm64/v8" to their images.
	Images map[string]v1.Image
	// Digests maps the same keys to the images' manifest digests.
	Digests map[string]v1.Hash
}

// New builds the fixture.
func New() (*Fixture, error) {
	f := &Fixture{Images: map[string]v1.Image{}, Digests: map[string]v1.Hash{}}
	idx := mutate.IndexMediaType(empty.Index, types.DockerManifestList)
	var adds []mutate.IndexAddendum
	var attestations []mutate.IndexAddendum
	for _, p := range Platforms {
		img, err := Image(p)
		if err != nil {
			return nil, err
		}
		d, err := img.Digest()
		if err != nil {
			return nil, err
		}
		key := platformKey(p)
		f.Images[key] = img
		f.Digests[key] = d
		p := p
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
		att, err := attestation(key)
		if err != nil {
			return nil, err
		}
		attestations = append(attestations, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{
				"vnd.docker.reference.digest": d.String(),
				"vnd.docker.reference.type":   "attestation-manifest",
			},
		}})
	}
	f.Index = mutate.AppendManifests(idx, append(adds, attestations...)...)
	var err error
	if f.IndexDigest, err = f.Index.Digest(); err != nil {
		return nil, err
	}
	return f, nil
}

func platformKey(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Image builds the alpine-shaped image for p: one gzip Docker layer with
// /etc/passwd, /etc/group, /etc/alpine-release, /etc/apk/arch (naming p's
// architecture) and /bin/sh.
func Image(p v1.Platform) (v1.Image, error) {
	layer, err := RootFS(p.Architecture)
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.DockerManifestSchema2)
	img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: time.Unix(1720000000, 0).UTC()}, CreatedBy: "ADD alpine-minirootfs.tar.gz / # buildkit"},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Created = v1.Time{Time: time.Unix(1720000000, 0).UTC()}
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cf.Config.Cmd = []string{"/bin/sh"}
	return mutate.ConfigFile(img, cf)
}

// RootFS is the fixture's root file system layer for arch.
func RootFS(arch string) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(1720000000, 0)
	dirs := []string{"bin/", "etc/", "etc/apk/", "root/", "sbin/", "tmp/"}
	for _, d := range dirs {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode, ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	files := []struct {
		name, body string
		mode       int64
	}{
		{"bin/busybox", "#!fake busybox for " + arch + "\n", 0o755},
		{"etc/alpine-release", "3.20.3\n", 0o644},
		{"etc/apk/arch", arch + "\n", 0o644},
		{"etc/group", Group, 0o644},
		{"etc/passwd", Passwd, 0o644},
		{"etc/shadow", "root:*::0:::::\n", 0o640},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.body)), ModTime: mtime}); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/sh", Linkname: "/bin/busybox", Mode: 0o777, ModTime: mtime}); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.DockerLayer))
}

// attestation is a BuildKit-style attestation manifest for the image key.
func attestation(key string) (v1.Image, error) {
	l := static.NewLayer([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","subject":"`+key+`"}`), "application/vnd.in-toto+json")
	return mutate.AppendLayers(empty.Image, l)
}

// Server is an in-process registry holding a fixture.
type Server struct {
	*httptest.Server
	// Repo is "127.0.0.1:<port>/library/alpine"; the index is tagged 3.20.
	Repo string

	mu      sync.Mutex
	corrupt map[string]bool
}

// Serve starts a registry on 127.0.0.1 holding f at Repo:3.20. It is
// stopped when the test ends.
func Serve(t testing.TB, f *Fixture) *Server {
	t.Helper()
	s, err := Start(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a registry on 127.0.0.1 holding f at Repo:3.20; Close stops
// it.
func Start(f *Fixture) (*Server, error) {
	s := &Server{corrupt: map[string]bool{}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(reg, w, r)
	}))
	s.Repo = strings.TrimPrefix(s.URL, "http://") + "/library/alpine"
	ref, err := name.NewTag(s.Repo + ":3.20")
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := remote.WriteIndex(ref, f.Index); err != nil {
		s.Close()
		return nil, fmt.Errorf("pushing the fixture: %w", err)
	}
	return s, nil
}

// Corrupt makes the server flip one byte of the blob or manifest d in every
// later response (its length is kept).
func (s *Server) Corrupt(d v1.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt[d.String()] = true
}

func (s *Server) serve(reg http.Handler, w http.ResponseWriter, r *http.Request) {
	i := strings.LastIndex(r.URL.Path, "/")
	s.mu.Lock()
	bad := r.Method == http.MethodGet && s.corrupt[r.URL.Path[i+1:]]
	s.mu.Unlock()
	if !bad {
		reg.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	reg.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if len(body) > 0 {
		body[len(body)/2] ^= 0xff
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(body)
}
