//go:build linux

package files

import (
	"bytes"
	"hash/maphash"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Cache internals (the limits are DefaultCacheBytes and DefaultCacheMaxFile).
const (
	// racyWindow: a file whose ctime is this close to the time it is read
	// is served but not cached, because a later change within the same
	// timestamp granule (up to 2 s on some file systems) could leave its
	// stat unchanged.
	racyWindow = 2 * time.Second
	// entryOverhead is what an entry is charged beyond its body: key,
	// headers, path checks and map slot.
	entryOverhead = 512
	cacheShards   = 64
	admitOneIn    = 16
)

// cache holds the bytes and the precomputed response headers of small
// regular files, keyed by their cleaned path. Entries are revalidated on
// every use (see entry.fresh), so a hit costs one fstatat per path
// component and no open, read or close.
type cache struct {
	rootFD   int      // the served directory, for fstatat
	dir      *os.File // keeps rootFD open
	maxBytes int64
	maxFile  int64
	racy     time.Duration
	now      func() time.Time
	seed     maphash.Seed
	used     atomic.Int64 // bytes charged by all entries
	hits     atomic.Int64 // for tests
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.Mutex
	m  map[string]*entry
}

// fileID is what identifies a version of a file or directory: if any
// field differs, the file was changed, replaced or renamed. ctime cannot
// be set by users and changes on every write, chmod, link, unlink and
// rename of the inode.
type fileID struct {
	dev, ino     uint64
	mode         uint32
	size         int64
	mtime, ctime unix.Timespec
}

func idOf(st *unix.Stat_t) fileID {
	return fileID{dev: st.Dev, ino: st.Ino, mode: st.Mode, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}
}

// dirID identifies a directory on a path; only identity is compared (its
// times change whenever an entry inside it changes).
type dirID struct {
	path []byte // NUL-terminated, relative to the root
	dev  uint64
	ino  uint64
}

// entry is one cached file.
type entry struct {
	name    []byte  // NUL-terminated rel
	base    string  // last element of rel
	dirs    []dirID // each parent directory below the root, outermost first
	id      fileID
	body    []byte
	modTime time.Time
	// Header values, each a slice of one element with cap 1, shared by
	// all responses (net/http only reads them; an Add reallocates).
	etag, lastModified, contentType, contentLength []string
	csp                                            []string // nil: none
}

func newCache(root *os.Root, maxBytes, maxFile int64) (*cache, error) {
	dir, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	c := &cache{
		rootFD:   int(dir.Fd()),
		dir:      dir,
		maxBytes: maxBytes,
		maxFile:  maxFile,
		racy:     racyWindow,
		now:      time.Now,
		seed:     maphash.MakeSeed(),
	}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*entry)
	}
	return c, nil
}

func (c *cache) shard(rel string) *cacheShard {
	return &c.shards[maphash.String(c.seed, rel)%cacheShards]
}

// get returns the entry for rel if it is cached and still describes what
// the path names on disk now; a stale entry is dropped.
func (c *cache) get(rel string) *entry {
	s := c.shard(rel)
	s.mu.Lock()
	e := s.m[rel]
	s.mu.Unlock()
	if e == nil {
		return nil
	}
	if !c.fresh(e) {
		c.drop(rel, e)
		return nil
	}
	c.hits.Add(1)
	return e
}

// fresh reports whether every directory on e's path is still the same
// real directory (not a symlink) and the path still names the same,
// unchanged regular file. Each check is an fstatat that does not follow
// the last component, relative to the root.
func (c *cache) fresh(e *entry) bool {
	var st unix.Stat_t
	for i := range e.dirs {
		d := &e.dirs[i]
		if fstatat(c.rootFD, d.path, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Dev != d.dev || st.Ino != d.ino {
			return false
		}
	}
	return fstatat(c.rootFD, e.name, &st) == nil && idOf(&st) == e.id
}

// fstatat is unix.Fstatat(fd, path, st, AT_SYMLINK_NOFOLLOW) for a path
// that is already NUL-terminated, so a hit allocates nothing.
func fstatat(fd int, path []byte, st *unix.Stat_t) error {
	_, _, errno := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(fd), uintptr(unsafe.Pointer(&path[0])),
		uintptr(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func (c *cache) drop(rel string, e *entry) {
	s := c.shard(rel)
	s.mu.Lock()
	if s.m[rel] == e {
		delete(s.m, rel)
		c.used.Add(-e.cost())
	}
	s.mu.Unlock()
}

func (e *entry) cost() int64 { return int64(len(e.body)) + int64(len(e.name)) + entryOverhead }

// load reads f, the open regular file at rel with info fi, at offset 0,
// and returns an entry for it, cached when it may be. hdr holds the
// Content-Type and Content-Security-Policy already chosen for f; the
// entry keeps them. It returns nil if f is too large for the cache or
// cannot be read; the caller then serves f itself.
func (c *cache) load(rel string, f *os.File, fi os.FileInfo, hdr http.Header) *entry {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || fi.Size() > c.maxFile || !c.admit(fi.Size()+int64(len(rel))+1+entryOverhead) {
		return nil
	}
	before := idOfSyscall(st)
	body := make([]byte, fi.Size())
	if !readUnchanged(f, body, before) {
		// Leave f as it was given: the caller serves it from the start.
		// (Seeking a regular file at a valid offset does not fail.)
		_, _ = f.Seek(0, io.SeekStart)
		return nil
	}
	e := newEntry(rel, before, body, fi.ModTime(), hdr)
	if c.cacheable(e) {
		c.put(rel, e)
	}
	return e
}

// readUnchanged fills body from f and reports whether f's inode is still
// the version id after the read (no write, rename or unlink meanwhile).
func readUnchanged(f *os.File, body []byte, id fileID) bool {
	if _, err := io.ReadFull(f, body); err != nil {
		return false
	}
	after, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := after.Sys().(*syscall.Stat_t)
	return ok && idOfSyscall(st) == id
}

// admit decides whether a file that would cost cost bytes is read into
// the cache. While there is room, always. When entries would have to be
// evicted, one time in admitOneIn: a working set larger than the cache
// then keeps most of the cache's entries (which serve hits) instead of
// replacing them on every miss, and the files not admitted are sent
// with sendfile, not read and copied.
func (c *cache) admit(cost int64) bool {
	if c.maxBytes <= 0 || cost > c.maxBytes {
		return false
	}
	return c.used.Load()+cost <= c.maxBytes || rand.N(admitOneIn) == 0
}

func idOfSyscall(st *syscall.Stat_t) fileID {
	return fileID{
		dev: st.Dev, ino: st.Ino, mode: st.Mode, size: st.Size,
		mtime: unix.Timespec{Sec: st.Mtim.Sec, Nsec: st.Mtim.Nsec},
		ctime: unix.Timespec{Sec: st.Ctim.Sec, Nsec: st.Ctim.Nsec},
	}
}

// cacheable reports whether e may be kept: its ctime is older than the
// racy window, its path has no symbolic link in it (the checks in fresh
// do not follow links), and the path still names the file that was read.
// It fills e.dirs.
func (c *cache) cacheable(e *entry) bool {
	if c.maxBytes <= 0 || e.cost() > c.maxBytes {
		return false
	}
	ctime := time.Unix(e.id.ctime.Sec, e.id.ctime.Nsec)
	if c.now().Sub(ctime) < c.racy {
		return false
	}
	rel := string(e.name[:len(e.name)-1])
	var st unix.Stat_t
	for i := 0; i < len(rel); i++ {
		if rel[i] != '/' {
			continue
		}
		p := append([]byte(rel[:i]), 0)
		if fstatat(c.rootFD, p, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return false
		}
		e.dirs = append(e.dirs, dirID{path: p, dev: st.Dev, ino: st.Ino})
	}
	return fstatat(c.rootFD, e.name, &st) == nil && idOf(&st) == e.id
}

// put stores e under rel, evicting other entries while the cache holds
// more than maxBytes. Eviction takes entries in map order, which is
// random: cheap, and fair enough to a working set larger than the cache.
func (c *cache) put(rel string, e *entry) {
	s := c.shard(rel)
	s.mu.Lock()
	if old := s.m[rel]; old != nil {
		c.used.Add(-old.cost())
	}
	s.m[rel] = e
	used := c.used.Add(e.cost())
	s.mu.Unlock()
	if used <= c.maxBytes {
		return
	}
	start := maphash.String(c.seed, rel)
	for i := uint64(0); i < cacheShards && c.used.Load() > c.maxBytes; i++ {
		s := &c.shards[(start+i)%cacheShards]
		s.mu.Lock()
		for k, v := range s.m {
			if c.used.Load() <= c.maxBytes {
				break
			}
			if v == e {
				continue
			}
			delete(s.m, k)
			c.used.Add(-v.cost())
		}
		s.mu.Unlock()
	}
}

func newEntry(rel string, id fileID, body []byte, modTime time.Time, hdr http.Header) *entry {
	one := func(s string) []string { return []string{s} }
	var csp []string
	if v := hdr.Get("Content-Security-Policy"); v != "" {
		csp = one(v)
	}
	return &entry{
		csp:           csp,
		name:          append([]byte(rel), 0),
		base:          path.Base(rel),
		id:            id,
		body:          body,
		modTime:       modTime,
		etag:          one(etagOf(modTime, int64(len(body)))),
		lastModified:  one(modTime.UTC().Format(http.TimeFormat)),
		contentType:   one(hdr.Get("Content-Type")),
		contentLength: one(strconv.Itoa(len(body))),
	}
}

// serve writes e as the response to r. Plain GET and HEAD, and
// If-None-Match naming exactly e's ETag, are answered here from the
// precomputed headers; anything else conditional or ranged goes through
// http.ServeContent on the cached bytes, so semantics do not change.
func (e *entry) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if e.csp != nil {
		h["Content-Security-Policy"] = e.csp
	}
	h["Etag"] = e.etag
	hd := r.Header
	if len(hd["Range"]) != 0 || len(hd["If-Match"]) != 0 || len(hd["If-Unmodified-Since"]) != 0 || len(hd["If-Modified-Since"]) != 0 {
		e.serveContent(w, r)
		return
	}
	if inm := hd["If-None-Match"]; len(inm) != 0 {
		if len(inm) != 1 || inm[0] != e.etag[0] {
			e.serveContent(w, r)
			return
		}
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Last-Modified"] = e.lastModified
	h["Content-Type"] = e.contentType
	h["Accept-Ranges"] = acceptRangesBytes
	h["Content-Length"] = e.contentLength
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(e.body)
	}
}

// serveContent answers r with http.ServeContent on the cached bytes.
func (e *entry) serveContent(w http.ResponseWriter, r *http.Request) {
	w.Header()["Content-Type"] = e.contentType
	limitRanges(r, int64(len(e.body)))
	http.ServeContent(w, r, e.base, e.modTime, bytes.NewReader(e.body))
}
