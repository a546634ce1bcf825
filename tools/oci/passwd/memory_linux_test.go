package passwd

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// MaxRSS is the stated memory bound of `ocitool passwd` (and the layout
// reader under it) on any base image: the caps of ocilayout and of this
// package keep the peak resident set under it.
const MaxRSS = 128 << 20

const subprocessEnv = "PASSWD_TEST_BUILD_SPEC"

// TestMain runs Build in a child process when asked to, and prints the
// child's peak resident set (VmHWM of /proc/self/status: the child's own
// address space, which rusage's ru_maxrss is not, since it keeps the forking
// parent's high-water mark across exec).
func TestMain(m *testing.M) {
	if spec := os.Getenv(subprocessEnv); spec != "" {
		var s Spec
		if err := json.Unmarshal([]byte(spec), &s); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		err := Build(s)
		status, _ := os.ReadFile("/proc/self/status")
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				fmt.Println(line)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// buildInChild runs Build(spec) in a child process and returns its stderr
// and peak RSS in bytes.
func buildInChild(t *testing.T, spec Spec) (string, int64) {
	t.Helper()
	dir := t.TempDir()
	spec.Out = filepath.Join(dir, "passwd.tar.gz")
	spec.InfoOut = filepath.Join(dir, "info.txt")
	b, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), subprocessEnv+"="+string(b))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	var kib int64
	if _, err := fmt.Sscanf(strings.TrimSpace(stdout.String()), "VmHWM: %d kB", &kib); err != nil || kib == 0 {
		t.Fatalf("child printed no peak RSS (%v): %q", err, stdout.String())
	}
	return strings.TrimSpace(stderr.String()), kib * 1024
}

// hugePasswdLayout writes a layout whose one gzip layer holds an /etc/passwd
// of size bytes (a multiple of chunk) that compresses to a few MB: the same
// gzip member of one chunk of passwd lines, repeated (gzip readers read
// concatenated members as one stream). Digests and diff_id are correct, so
// only the caps can refuse it.
func hugePasswdLayout(t *testing.T, size int64) (string, v1.Hash) {
	const chunkSize = 1 << 20
	line := "user:x:1:1::/home/user:/sbin/nologin\n"
	chunk := []byte(strings.Repeat(line, chunkSize/len(line)+1)[:chunkSize])
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	if err := tw.WriteHeader(&tar.Header{Name: "etc/passwd", Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	trailer := make([]byte, 1024) // end of archive
	member := func(b []byte) []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	dir := filepath.Join(t.TempDir(), "base")
	os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
	f, err := os.Create(filepath.Join(dir, "layer.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	comp, diff := sha256.New(), sha256.New()
	write := func(raw, z []byte) {
		f.Write(z)
		comp.Write(z)
		diff.Write(raw)
	}
	write(hdr.Bytes(), member(hdr.Bytes()))
	zchunk := member(chunk)
	for n := int64(0); n < size; n += chunkSize {
		write(chunk, zchunk)
	}
	write(trailer, member(trailer))
	st, _ := f.Stat()
	f.Close()
	layerDigest := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(comp.Sum(nil))}
	os.Rename(f.Name(), filepath.Join(dir, "blobs", "sha256", layerDigest.Hex))
	diffID := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(diff.Sum(nil))}
	writeImage(t, dir, []v1.Descriptor{{MediaType: types.OCILayer, Digest: layerDigest, Size: st.Size()}}, []v1.Hash{diffID}, 0)
	return dir, layerDigest
}

// writeImage writes config, manifest and index.json; the config is followed
// by pad spaces (written in chunks: the test itself stays small).
func writeImage(t *testing.T, dir string, layers []v1.Descriptor, diffIDs []v1.Hash, pad int64) v1.Descriptor {
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
	tmp := filepath.Join(dir, "config.tmp")
	f, err := os.Create(tmp)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	w := io.MultiWriter(f, h)
	w.Write(cfg)
	spaces := bytes.Repeat([]byte(" "), 1<<20)
	for n := pad; n > 0; n -= int64(len(spaces)) {
		w.Write(spaces[:min(n, int64(len(spaces)))])
	}
	f.Close()
	config := v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}, Size: int64(len(cfg)) + pad}
	os.Rename(tmp, filepath.Join(dir, "blobs", "sha256", config.Digest.Hex))
	m, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: config, Layers: layers})
	idx, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, Manifests: []v1.Descriptor{blob(t, dir, types.OCIManifestSchema1, m)}})
	os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644)
	return config
}

func blob(t *testing.T, dir string, mt types.MediaType, b []byte) v1.Descriptor {
	s := sha256.Sum256(b)
	h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", h.Hex), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: mt, Digest: h, Size: int64(len(b))}
}

// TestHostileBaseMemory runs the passwd step as a child process on bases
// built to exhaust memory and checks its error and that its peak RSS stays
// under MaxRSS (before the caps, a 1.5 GiB /etc/passwd drove it past 6 GB,
// a 200 MB config to 2.5 GB).
func TestHostileBaseMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skips the 1.5 GiB decompression")
	}
	t.Run("1.5 GiB /etc/passwd compressed small", func(t *testing.T) {
		base, layer := hugePasswdLayout(t, 1536<<20)
		st, _ := os.Stat(filepath.Join(base, "blobs", "sha256", layer.Hex))
		t.Logf("layer: %d bytes compressed, 1610612736 bytes of /etc/passwd", st.Size())
		msg, rss := buildInChild(t, Spec{Base: base, User: "app", UID: "1000", GID: "1000", Sources: Sources{SourceDefault, SourceDefault, SourceDefault}})
		want := fmt.Sprintf("the base image's /etc/passwd is 1610612736 bytes (layer 1 of 1 (%s)), more than the 4194304-byte limit", layer)
		if msg != want {
			t.Errorf("error:\n%s\nwant:\n%s", msg, want)
		}
		t.Logf("peak RSS %d MiB", rss>>20)
		if rss > MaxRSS {
			t.Errorf("peak RSS %d MiB, over the %d MiB bound", rss>>20, MaxRSS>>20)
		}
	})
	for _, tc := range []struct {
		name string
		lie  bool // the descriptor says the config is small
	}{{"200 MB config", false}, {"200 MB config whose descriptor says it is small", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "base")
			os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
			cfg := writeImage(t, dir, nil, nil, 200<<20)
			var want string
			if tc.lie {
				// Rewrite the manifest with the config's size as 1000 bytes.
				small := cfg
				small.Size = 1000
				m, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: small})
				idx, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, Manifests: []v1.Descriptor{blob(t, dir, types.OCIManifestSchema1, m)}})
				os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644)
				want = fmt.Sprintf(`"base": reading OCI layout %s: the config blob %s is more than 1000 bytes, its descriptor says 1000`, dir, cfg.Digest)
			} else {
				want = fmt.Sprintf(`"base": reading OCI layout %s: the config %s is %d bytes, more than the 8388608-byte limit`, dir, cfg.Digest, cfg.Size)
			}
			msg, rss := buildInChild(t, Spec{Base: dir, User: "app", UID: "1000", GID: "1000", Sources: Sources{SourceDefault, SourceDefault, SourceDefault}})
			if msg != want {
				t.Errorf("error:\n%s\nwant:\n%s", msg, want)
			}
			t.Logf("peak RSS %d MiB", rss>>20)
			if rss > MaxRSS {
				t.Errorf("peak RSS %d MiB, over the %d MiB bound", rss>>20, MaxRSS>>20)
			}
		})
	}
}
