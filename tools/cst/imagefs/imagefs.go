// Package imagefs is a read-only view of an image's merged filesystem: all
// layers stacked, upper layers winning, whiteouts (".wh.NAME") and opaque
// whiteouts (".wh..wh..opq") honoured as the OCI image spec describes.
//
// New reads every layer once and keeps only the tar headers in memory;
// ReadFile re-reads the one layer that provides the file.
package imagefs

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
	maxSymlinks    = 40
)

// Entry is one visible path of the merged filesystem.
type Entry struct {
	Path   string      // absolute and clean, "/" for the root
	Header *tar.Header // as stored in the layer (Name is the raw tar name)
	// Layer is the index (0 = lowest) of the layer that provides the entry,
	// or -1 for a directory no layer lists but some entry lies under.
	Layer   int
	ordinal int // position of the entry in its layer's tar
}

// IsDir reports whether the entry is a directory.
func (e *Entry) IsDir() bool { return e.Header.Typeflag == tar.TypeDir }

// IsSymlink reports whether the entry is a symbolic link.
func (e *Entry) IsSymlink() bool { return e.Header.Typeflag == tar.TypeSymlink }

// Mode returns the permission string as ls prints it ("-rwsr-xr-x",
// "drwxrwxrwt").
func (e *Entry) Mode() string { return LsMode(e.Header) }

// Caps on what an image (untrusted input) may make FS hold: the index keeps
// one Entry (its tar header, a few hundred bytes) per path, so at most
// MaxEntries of them across all layers; ReadFile returns at most MaxFileBytes.
// Memory therefore stays within about MaxEntries*1 KiB + MaxFileBytes (under
// 600 MiB) on any image; the layout reader's own bound comes on top
// (ocilayout). Variables so that tests can lower them.
var (
	MaxEntries   = 250_000
	MaxFileBytes = int64(256 << 20)
)

// FS is the merged filesystem of an image.
type FS struct {
	entries map[string]*Entry
	layers  []v1.Layer
}

// New reads the layers of img and indexes the merged filesystem.
func New(img v1.Image) (*FS, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading image layers: %w", err)
	}
	f := &FS{entries: map[string]*Entry{}, layers: layers}
	hidden := map[string]bool{} // whited out by an upper layer, with descendants
	opaque := map[string]bool{} // descendants from lower layers hidden
	count := 0
	for li := len(layers) - 1; li >= 0; li-- {
		layerHidden, layerOpaque := map[string]bool{}, map[string]bool{}
		err := eachEntry(layers[li], func(ordinal int, h *tar.Header, _ io.Reader) (bool, error) {
			if count++; count > MaxEntries {
				return false, fmt.Errorf("the image has more than %d files (tar entries); refusing to index more", MaxEntries)
			}
			p := Clean(h.Name)
			dir, base := path.Split(p)
			switch {
			case base == opaqueMarker:
				layerOpaque[Clean(dir)] = true
				return true, nil
			case strings.HasPrefix(base, whiteoutPrefix):
				layerHidden[path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix))] = true
				return true, nil
			}
			if e, ok := f.entries[p]; ok {
				if e.Layer == li { // same layer: the later entry wins, as in tar
					e.Header, e.ordinal = h, ordinal
				}
				return true, nil
			}
			if f.blocked(p, hidden, opaque) {
				return true, nil
			}
			f.entries[p] = &Entry{Path: p, Header: h, Layer: li, ordinal: ordinal}
			return true, nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading layer %d: %w", li, err)
		}
		for p := range layerHidden {
			hidden[p] = true
		}
		for p := range layerOpaque {
			opaque[p] = true
		}
	}
	// Directories implied by deeper entries (and the root) exist too.
	var paths []string
	for p := range f.entries {
		paths = append(paths, p)
	}
	paths = append(paths, "/")
	for _, p := range paths {
		for ; ; p = path.Dir(p) {
			if _, ok := f.entries[p]; !ok {
				f.entries[p] = &Entry{Path: p, Layer: -1, Header: &tar.Header{
					Name: strings.TrimPrefix(p, "/") + "/", Typeflag: tar.TypeDir, Mode: 0o755,
				}}
			}
			if p == "/" {
				break
			}
		}
	}
	return f, nil
}

// blocked reports whether an upper layer hides p: it, or a directory above
// it, was whited out; a directory above it was made opaque; or a directory
// above it was replaced by a non-directory.
func (f *FS) blocked(p string, hidden, opaque map[string]bool) bool {
	if hidden[p] {
		return true
	}
	for a := path.Dir(p); ; a = path.Dir(a) {
		if hidden[a] || opaque[a] {
			return true
		}
		if e, ok := f.entries[a]; ok && !e.IsDir() {
			return true
		}
		if a == "/" {
			return false
		}
	}
}

// Clean turns a tar entry name ("./usr/bin/", "usr/bin", "/usr/bin") into
// an absolute clean path ("/usr/bin").
func Clean(name string) string { return path.Join("/", name) }

// eachEntry calls fn for every entry of the layer's uncompressed tar until
// fn returns false, then drains the stream so the layer digest is verified.
func eachEntry(l v1.Layer, fn func(ordinal int, h *tar.Header, r io.Reader) (bool, error)) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for i := 0; ; i++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		more, err := fn(i, h, tr)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	_, err = io.Copy(io.Discard, rc)
	return err
}

// Lstat returns the entry at p, following symlinks in the directories of p
// but not a symlink at p itself. The error wraps fs.ErrNotExist when there
// is nothing at p.
func (f *FS) Lstat(p string) (*Entry, error) { return f.lookup(p, false) }

// Stat returns the entry at p, following all symlinks (absolute targets are
// resolved against the image root, never the host).
func (f *FS) Stat(p string) (*Entry, error) { return f.lookup(p, true) }

func (f *FS) lookup(p string, followLast bool) (*Entry, error) {
	rest := strings.Split(strings.TrimPrefix(Clean(p), "/"), "/")
	if rest[0] == "" {
		return f.entries["/"], nil
	}
	cur, hops := "/", 0
	for len(rest) > 0 {
		next := path.Join(cur, rest[0])
		rest = rest[1:]
		e, ok := f.entries[next]
		if !ok {
			return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
		}
		if e.IsSymlink() && (len(rest) > 0 || followLast) {
			if hops++; hops > maxSymlinks {
				return nil, fmt.Errorf("%s: too many levels of symbolic links", p)
			}
			target := e.Header.Linkname
			if !path.IsAbs(target) {
				target = path.Join(cur, target)
			}
			target = strings.TrimPrefix(Clean(target), "/")
			if target != "" {
				rest = append(strings.Split(target, "/"), rest...)
			}
			cur = "/"
			continue
		}
		if len(rest) > 0 && !e.IsDir() {
			return nil, fmt.Errorf("%s: %s is not a directory: %w", p, next, fs.ErrNotExist)
		}
		cur = next
	}
	return f.entries[cur], nil
}

// ReadFile returns the content of the regular file at p, following symlinks
// and hard links.
func (f *FS) ReadFile(p string) ([]byte, error) {
	e, err := f.Stat(p)
	if err != nil {
		return nil, err
	}
	for hops := 0; e.Header.Typeflag == tar.TypeLink; hops++ {
		if hops > maxSymlinks {
			return nil, fmt.Errorf("%s: too many hard link hops", p)
		}
		t, ok := f.entries[Clean(e.Header.Linkname)]
		if !ok {
			return nil, fmt.Errorf("%s: hard link target %s: %w", p, e.Header.Linkname, fs.ErrNotExist)
		}
		e = t
	}
	if e.Header.Typeflag != tar.TypeReg && e.Header.Typeflag != tar.TypeRegA {
		return nil, fmt.Errorf("%s is not a regular file (%s)", p, e.Mode())
	}
	if e.Header.Size > MaxFileBytes {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d-byte limit for reading a file of an image", p, e.Header.Size, MaxFileBytes)
	}
	var content []byte
	found := false
	err = eachEntry(f.layers[e.Layer], func(ordinal int, _ *tar.Header, r io.Reader) (bool, error) {
		if ordinal != e.ordinal {
			return true, nil
		}
		b, err := io.ReadAll(io.LimitReader(r, MaxFileBytes))
		content, found = b, true
		return false, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s from layer %d: %w", p, e.Layer, err)
	}
	if !found {
		return nil, fmt.Errorf("reading %s: entry vanished from layer %d", p, e.Layer)
	}
	return content, nil
}

// Walk calls fn for every entry, in path order.
func (f *FS) Walk(fn func(*Entry)) {
	paths := make([]string, 0, len(f.entries))
	for p := range f.entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fn(f.entries[p])
	}
}

// LsMode renders a tar header's type and mode the way ls -l does:
// "-rwxr-xr-x", "drwxrwxrwt" (sticky), "-rwsr-xr-x" (setuid), "-rwSr--r--"
// (setuid without owner execute), "lrwxrwxrwx".
func LsMode(h *tar.Header) string {
	b := []byte("----------")
	switch h.Typeflag {
	case tar.TypeDir:
		b[0] = 'd'
	case tar.TypeSymlink:
		b[0] = 'l'
	case tar.TypeChar:
		b[0] = 'c'
	case tar.TypeBlock:
		b[0] = 'b'
	case tar.TypeFifo:
		b[0] = 'p'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if h.Mode&(1<<(8-i)) != 0 {
			b[1+i] = rwx[i]
		}
	}
	special := func(bit int64, pos int, set, unset byte) {
		if h.Mode&bit == 0 {
			return
		}
		if b[pos] == 'x' {
			b[pos] = set
		} else {
			b[pos] = unset
		}
	}
	special(0o4000, 3, 's', 'S')
	special(0o2000, 6, 's', 'S')
	special(0o1000, 9, 't', 'T')
	return string(b)
}

// GoMode renders the header's mode as Go's fs.FileMode.String does
// ("urwxr-xr-x" for setuid, "dtrwxrwxrwx" for a sticky directory), the
// format upstream container-structure-test compares against.
func GoMode(h *tar.Header) string { return h.FileInfo().Mode().String() }
