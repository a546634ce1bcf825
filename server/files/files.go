// Package files serves a directory tree read-only over HTTP.
//
// All file system access goes through an *os.Root, so no request can
// reach outside the root, including through symbolic links. In addition,
// request paths are checked by CleanPath; anything it refuses, anything
// missing, dotfiles, symlinks that escape the root and non-regular files
// all answer 404 Not Found, so callers cannot tell these cases apart.
//
// A directory requested without a trailing slash is redirected (301) to
// the same path with a slash, so relative links in listings resolve. A
// directory with a trailing slash answers a listing (index.html files are
// not special): HTML by default, JSON when the Accept header names
// application/json.
//
// Performance design. Small regular files (up to Options.CacheMaxFile,
// 64 KiB by default) are served from memory: their bytes and precomputed
// headers (ETag, Last-Modified, Content-Type, Content-Length, the sandbox
// CSP), at most Options.CacheBytes (8 MiB) in all; a full cache admits a
// new file one time in 16, evicting at random. A hit is revalidated on
// every request, with no open, read or close: one fstatat through the
// root, not following symlinks, per directory on the path (same inode,
// still a directory) and one for the file (same device, inode, mode, size,
// mtime and ctime). So a file changed, replaced, renamed or deleted on disk
// is seen by the very next request, and a path that now leaves the root
// is refused as before. Files whose ctime is under 2 s old are served but
// not cached, so that two changes within one timestamp granule cannot go
// unseen. Plain GET/HEAD hits skip http.ServeContent and allocate nothing;
// ranges and conditionals other than an exact If-None-Match go through
// http.ServeContent on the cached bytes. Larger files are sent with
// sendfile from offset 0, after the headers.
package files

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"
)

// Handler serves files and directory listings from an *os.Root.
type Handler struct {
	root     *os.Root
	logger   *slog.Logger
	opts     Options
	listings chan struct{} // semaphore: listings being built
	cache    *cache        // nil when off
}

// Options are the Handler's limits and policies.
type Options struct {
	// MaxListingEntries bounds the entries of one listing (>= 1).
	MaxListingEntries int
	// MaxListings bounds listings built at the same time (>= 1).
	MaxListings int
	// Sandbox makes file responses carry "Content-Security-Policy:
	// sandbox", so that HTML, SVG or scripts in the served directory run
	// in an opaque origin, never the server's.
	Sandbox bool
	// CacheBytes bounds the memory of the small-file cache (0: the
	// default; negative: no cache).
	CacheBytes int64
	// CacheMaxFile is the largest file the cache holds (0: the default).
	CacheMaxFile int64
}

// DefaultOptions are the options New uses.
func DefaultOptions() Options {
	return Options{MaxListingEntries: 5000, MaxListings: 4, Sandbox: true, CacheBytes: DefaultCacheBytes, CacheMaxFile: DefaultCacheMaxFile}
}

// New returns a Handler serving root with DefaultOptions. The caller keeps
// ownership of root and must keep it open while the handler is in use.
// Unexpected errors are logged to logger.
func New(root *os.Root, logger *slog.Logger) *Handler {
	return NewWithOptions(root, logger, DefaultOptions())
}

// NewWithOptions is New with explicit options; zero limits get their
// defaults.
func NewWithOptions(root *os.Root, logger *slog.Logger, opts Options) *Handler {
	def := DefaultOptions()
	if opts.MaxListingEntries <= 0 {
		opts.MaxListingEntries = def.MaxListingEntries
	}
	if opts.MaxListings <= 0 {
		opts.MaxListings = def.MaxListings
	}
	if opts.CacheBytes == 0 {
		opts.CacheBytes = def.CacheBytes
	}
	if opts.CacheMaxFile <= 0 {
		opts.CacheMaxFile = def.CacheMaxFile
	}
	h := &Handler{root: root, logger: logger, opts: opts, listings: make(chan struct{}, opts.MaxListings)}
	if opts.CacheBytes > 0 {
		c, err := newCache(root, opts.CacheBytes, opts.CacheMaxFile)
		if err != nil {
			logger.Error("file cache off: open served directory", "error", err)
		} else {
			h.cache = c
		}
	}
	return h
}

// Entry is one item of a JSON directory listing.
type Entry struct {
	Name string `json:"name"`
	// Size is the file size in bytes; 0 for directories.
	Size    int64     `json:"size"`
	Dir     bool      `json:"dir"`
	ModTime time.Time `json:"modTime"`
}

// ServeHTTP implements http.Handler for GET and HEAD; other methods get
// 405 with "Allow: GET, HEAD".
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["X-Content-Type-Options"] = nosniff // shared: no allocation per request
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rel, ok := CleanPath(r.URL.EscapedPath())
	if !ok {
		http.NotFound(w, r)
		return
	}
	trailingSlash := strings.HasSuffix(r.URL.Path, "/")
	if h.cache != nil && !trailingSlash {
		if e := h.cache.get(rel); e != nil {
			e.serve(w, r)
			return
		}
	}
	fi, err := h.root.Stat(rel)
	if err != nil {
		h.notFound(w, r, rel, err)
		return
	}
	switch {
	case fi.IsDir() && !trailingSlash:
		loc := "./" + url.PathEscape(path.Base(rel)) + "/"
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusMovedPermanently)
	case fi.IsDir():
		h.serveDir(w, r, rel)
	case fi.Mode().IsRegular() && !trailingSlash:
		h.serveFile(w, r, rel)
	default:
		http.NotFound(w, r)
	}
}

// notFound answers 404 for anything that cannot be served, whatever the
// reason: missing, unreadable (no existence oracle), a symlink leaving
// the root, not a regular file. Reasons other than "missing" are logged
// at debug level only, so clients cannot flood the log.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, rel string, err error) {
	if !errors.Is(err, fs.ErrNotExist) {
		// Includes "path escapes from parent" for symlinks leaving the root.
		h.logger.Debug("refusing path", "path", rel, "error", err)
	}
	http.NotFound(w, r)
}

func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, rel string) {
	f, fi, err := OpenRegular(h.root, rel)
	if err != nil {
		h.notFound(w, r, rel, err)
		return
	}
	defer f.Close()
	if err := h.setContentHeaders(w.Header(), fi.Name(), f); err != nil {
		h.notFound(w, r, rel, err)
		return
	}
	if h.cache != nil {
		if e := h.cache.load(rel, f, fi, w.Header()); e != nil {
			e.serve(w, r)
			return
		}
	}
	if serveOpen(w, r, f, fi) {
		return
	}
	w.Header().Set("ETag", ETag(fi))
	limitRanges(r, fi.Size())
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// ETag returns a strong entity tag derived from fi's size and modification
// time.
func ETag(fi fs.FileInfo) string {
	return etagOf(fi.ModTime(), fi.Size())
}

func etagOf(modTime time.Time, size int64) string {
	return fmt.Sprintf(`"%x-%x"`, modTime.UnixNano(), size)
}
