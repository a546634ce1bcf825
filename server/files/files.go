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
}

// DefaultOptions are the options New uses.
func DefaultOptions() Options {
	return Options{MaxListingEntries: 5000, MaxListings: 4, Sandbox: true}
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
	return &Handler{root: root, logger: logger, opts: opts, listings: make(chan struct{}, opts.MaxListings)}
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
	w.Header().Set("X-Content-Type-Options", "nosniff")
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
	w.Header().Set("ETag", ETag(fi))
	limitRanges(r, fi.Size())
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// ETag returns a strong entity tag derived from fi's size and modification
// time.
func ETag(fi fs.FileInfo) string {
	return fmt.Sprintf(`"%x-%x"`, fi.ModTime().UnixNano(), fi.Size())
}
