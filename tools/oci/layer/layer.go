// Package layer writes deterministic tar layers: the same entries give
// byte-identical output whatever order they come in and whatever the
// timestamps, owners and umask of the input files are.
//
// The tar holds the entries sorted by path, with missing parent directories
// added (mode 0755, owned by 0:0). Names carry no leading "/" and
// directories end in "/". Every header has mtime 0 (the Unix epoch), no
// uname/gname and no access/change times; headers are USTAR, or PAX when a
// value does not fit USTAR (long names, large ids). gzip output has no name
// and no mtime in its header and uses a fixed compressor, level and block
// size (klauspost/pgzip at level 3 in 256 KiB blocks, whose version go.mod
// pins): its output does not depend on how many blocks are compressed at
// once.
//
// While it writes a layer, the package also computes the layer's
// descriptor (digest, size and diff ID), so that the image step does not
// read the layer again to hash it.
package layer

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/pgzip"

	"github.com/cat-server/cat-server/tools/oci/atomicfile"
	"github.com/cat-server/cat-server/tools/oci/blobhash"
)

// Type is the kind of a layer entry.
type Type string

// The entry types.
const (
	File    Type = "file"
	Dir     Type = "dir"
	Symlink Type = "symlink"
)

// Compression selects how the tar is compressed.
type Compression string

// The supported compressions.
const (
	Gzip Compression = "gzip"
	None Compression = "none"
)

// GzipLevel is the fixed gzip compression level of every layer. The layer is
// rebuilt on every code edit, so speed counts as much as size. On the 10.8 MB
// cat-server layer with pgzip on 2 cores (bench/README.md): level 3 takes
// about 48 ms for 4.62 MB, level 5 75 ms for 4.43 MB, level 1 40 ms for
// 4.89 MB; compress/gzip's default level 6 took 316 ms on one core. Level 3:
// about 30 ms less per edit than level 5 for 4.3 % more bytes.
const GzipLevel = 3

// gzipBlock is the size of the blocks pgzip compresses in parallel (each
// with the previous block's end as its dictionary). Part of the output
// format: changing it changes every layer's digest.
const gzipBlock = 256 << 10

// Descriptor is what an image needs to know of a layer without reading it:
// the digest and size of the file as written, and the digest of the
// uncompressed tar (the diff ID).
type Descriptor struct {
	Compression Compression `json:"compression"`
	Digest      string      `json:"digest"`
	Size        int64       `json:"size"`
	DiffID      string      `json:"diffID"`
}

// ReadDescriptor reads a descriptor written by Build.
func ReadDescriptor(file string) (Descriptor, error) {
	var d Descriptor
	b, err := os.ReadFile(file)
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("layer descriptor %s: %w", file, err)
	}
	if d.Compression != Gzip && d.Compression != None || !validDigest(d.Digest) || !validDigest(d.DiffID) || d.Size < 0 {
		return d, fmt.Errorf("layer descriptor %s: want compression gzip or none, sha256 digest and diffID and a size, got %s", file, b)
	}
	return d, nil
}

func validDigest(s string) bool {
	hex, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for _, c := range hex {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Entry is one path in the layer.
type Entry struct {
	Type Type
	// Dest is the absolute, clean path in the image, e.g. /app/cat-server.
	Dest string
	// Mode holds the permission bits plus setuid (04000), setgid (02000)
	// and sticky (01000) bits, as in tar headers.
	Mode int64
	UID  int
	GID  int
	// Src is the file whose content a File entry gets. If Src is empty,
	// Data is the content.
	Src  string
	Data []byte
	// Target is the link target of a Symlink entry.
	Target string
}

// DefaultMode is the mode an entry of type t gets when the spec gives none.
func DefaultMode(t Type) int64 {
	switch t {
	case Dir:
		return 0o755
	case Symlink:
		return 0o777
	}
	return 0o644
}

// ParseMode parses an octal mode such as "0755", "755" or "1777" (sticky).
// Values above 07777 are refused.
func ParseMode(s string) (int64, error) {
	if s == "" {
		return 0, errors.New(`mode is empty, want an octal number such as "0755"`)
	}
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("mode %q is not an octal mode in 0000..7777 (such as \"0755\" or \"1777\")", s)
	}
	return int64(m), nil
}

// CheckDest reports whether dest is an absolute, clean path other than "/".
func CheckDest(dest string) error {
	switch {
	case dest == "":
		return errors.New("dest is empty, want an absolute path such as /app/bin")
	case !strings.HasPrefix(dest, "/"):
		return fmt.Errorf("dest %q is not absolute (it must start with /)", dest)
	case path.Clean(dest) != dest:
		return fmt.Errorf("dest %q is not clean (want %q)", dest, path.Clean(dest))
	case dest == "/":
		return errors.New(`dest "/" is the root directory, which a layer cannot hold as an entry`)
	case strings.ContainsRune(dest, 0):
		return fmt.Errorf("dest %q contains a NUL byte", dest)
	}
	return nil
}

// check validates one entry on its own.
func (e Entry) check() error {
	if err := CheckDest(e.Dest); err != nil {
		return err
	}
	if e.Mode < 0 || e.Mode > 0o7777 {
		return fmt.Errorf("%s: mode %o is outside 0000..7777", e.Dest, e.Mode)
	}
	if e.UID < 0 || e.GID < 0 {
		return fmt.Errorf("%s: uid and gid must not be negative (got %d:%d)", e.Dest, e.UID, e.GID)
	}
	switch e.Type {
	case File:
		if e.Target != "" {
			return fmt.Errorf("%s: target is only for symlinks", e.Dest)
		}
	case Dir:
		if e.Src != "" || e.Data != nil || e.Target != "" {
			return fmt.Errorf("%s: a dir takes neither src nor target", e.Dest)
		}
	case Symlink:
		if e.Src != "" || e.Data != nil {
			return fmt.Errorf("%s: src is only for files", e.Dest)
		}
		if e.Target == "" {
			return fmt.Errorf("%s: a symlink needs a target", e.Dest)
		}
	default:
		return fmt.Errorf("%s: type %q is not one of file, dir, symlink", e.Dest, e.Type)
	}
	return nil
}

// plan validates entries, adds missing parents and sorts them by path.
func plan(entries []Entry) ([]Entry, error) {
	byDest := make(map[string]int, len(entries))
	for i, e := range entries {
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		if j, dup := byDest[e.Dest]; dup {
			return nil, fmt.Errorf("entry %d: duplicate dest %s (also entry %d)", i, e.Dest, j)
		}
		byDest[e.Dest] = i
	}
	all := append([]Entry(nil), entries...)
	for _, e := range entries {
		for dir := path.Dir(e.Dest); dir != "/"; dir = path.Dir(dir) {
			if j, ok := byDest[dir]; ok {
				if all[j].Type != Dir {
					return nil, fmt.Errorf("%s needs %s to be a directory, but it is a %s", e.Dest, dir, all[j].Type)
				}
				continue
			}
			byDest[dir] = len(all)
			all = append(all, Entry{Type: Dir, Dest: dir, Mode: 0o755})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Dest < all[j].Dest })
	return all, nil
}

// Write writes the layer for entries to w.
func Write(w io.Writer, entries []Entry, c Compression) error {
	_, err := WriteDescribed(w, entries, c)
	return err
}

// WriteDescribed writes the layer for entries to w and returns its
// descriptor.
func WriteDescribed(w io.Writer, entries []Entry, c Compression) (Descriptor, error) {
	all, err := plan(entries)
	if err != nil {
		return Descriptor{}, err
	}
	file := blobhash.New()
	var out io.Writer = io.MultiWriter(w, file)
	var gz *pgzip.Writer
	switch c {
	case Gzip:
		gz, err = pgzip.NewWriterLevel(out, GzipLevel)
		if err != nil {
			return Descriptor{}, err
		}
		if err := gz.SetConcurrency(gzipBlock, 4); err != nil {
			return Descriptor{}, err
		}
		// No name, no comment, mtime 0.
		gz.ModTime = time.Unix(0, 0)
		out = gz
	case None:
	default:
		return Descriptor{}, fmt.Errorf("compression %q is not one of gzip, none", c)
	}
	tarred := blobhash.New()
	tw := tar.NewWriter(io.MultiWriter(out, tarred))
	for _, e := range all {
		if err := writeEntry(tw, e); err != nil {
			return Descriptor{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return Descriptor{}, err
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return Descriptor{}, err
		}
	}
	return Descriptor{Compression: c, Digest: file.Digest().String(), Size: file.Size(), DiffID: tarred.Digest().String()}, nil
}

// WriteFile writes the layer to the file out atomically.
func WriteFile(out string, entries []Entry, c Compression) error {
	_, err := writeFileDescribed(out, entries, c)
	return err
}

func writeFileDescribed(out string, entries []Entry, c Compression) (Descriptor, error) {
	var d Descriptor
	err := atomicfile.Write(out, 0o644, func(w io.Writer) error {
		var err error
		d, err = WriteDescribed(w, entries, c)
		return err
	})
	return d, err
}

func writeEntry(tw *tar.Writer, e Entry) error {
	hdr := &tar.Header{
		Name:    strings.TrimPrefix(e.Dest, "/"),
		Mode:    e.Mode,
		Uid:     e.UID,
		Gid:     e.GID,
		ModTime: time.Unix(0, 0),
		// Format left unknown: archive/tar then picks USTAR when the header
		// fits it and PAX otherwise, and never writes atime/ctime.
	}
	switch e.Type {
	case Dir:
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
		return header(tw, hdr)
	case Symlink:
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname = e.Target
		return header(tw, hdr)
	}
	hdr.Typeflag = tar.TypeReg
	if e.Src == "" {
		hdr.Size = int64(len(e.Data))
		if err := header(tw, hdr); err != nil {
			return err
		}
		_, err := tw.Write(e.Data)
		return err
	}
	f, err := os.Open(e.Src)
	if err != nil {
		return fmt.Errorf("%s: src: %w", e.Dest, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: src: %w", e.Dest, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: src %s is not a regular file (it is %v)", e.Dest, e.Src, fi.Mode().Type())
	}
	hdr.Size = fi.Size()
	if err := header(tw, hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, f, hdr.Size); err != nil {
		return fmt.Errorf("%s: copying src %s: %w (did it change while being read?)", e.Dest, e.Src, err)
	}
	return nil
}

func header(tw *tar.Writer, hdr *tar.Header) error {
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("/%s: tar header: %w", strings.TrimSuffix(hdr.Name, "/"), err)
	}
	return nil
}

// Spec is the JSON spec of `ocitool layer`.
type Spec struct {
	Out string `json:"out"`
	// DescriptorOut, if set, is where the layer's Descriptor is written
	// (JSON), for the image step.
	DescriptorOut string      `json:"descriptor_out"`
	Entries       []SpecEntry `json:"entries"`
	Compression   Compression `json:"compression"`
}

// SpecEntry is one entry of Spec. Mode is an octal string; empty means
// 0644 for files, 0755 for dirs, 0777 for symlinks.
type SpecEntry struct {
	Type   Type   `json:"type"`
	Src    string `json:"src"`
	Dest   string `json:"dest"`
	Mode   string `json:"mode"`
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
	Target string `json:"target"`
}

// Build writes the layer that spec describes. Compression defaults to gzip.
func Build(spec Spec) error {
	if spec.Out == "" {
		return errors.New(`"out" is required`)
	}
	c := spec.Compression
	if c == "" {
		c = Gzip
	}
	if c != Gzip && c != None {
		return fmt.Errorf(`"compression": %q is not one of "gzip", "none"`, c)
	}
	entries := make([]Entry, len(spec.Entries))
	for i, se := range spec.Entries {
		e := Entry{Type: se.Type, Dest: se.Dest, UID: se.UID, GID: se.GID, Src: se.Src, Target: se.Target}
		if se.Type == File && se.Src == "" {
			return fmt.Errorf(`"entries"[%d] (%s): a file needs "src"`, i, se.Dest)
		}
		e.Mode = DefaultMode(se.Type)
		if se.Mode != "" {
			m, err := ParseMode(se.Mode)
			if err != nil {
				return fmt.Errorf(`"entries"[%d] (%s): "mode": %w`, i, se.Dest, err)
			}
			e.Mode = m
		}
		entries[i] = e
	}
	d, err := writeFileDescribed(spec.Out, entries, c)
	if err != nil {
		return fmt.Errorf("layer %s: %w", spec.Out, err)
	}
	if spec.DescriptorOut != "" {
		b, err := json.MarshalIndent(d, "", "\t")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteBytes(spec.DescriptorOut, 0o644, append(b, '\n')); err != nil {
			return fmt.Errorf("layer descriptor %s: %w", spec.DescriptorOut, err)
		}
	}
	return nil
}
