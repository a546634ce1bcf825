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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// Handler serves files and directory listings from an *os.Root.
type Handler struct {
	root   *os.Root
	logger *slog.Logger
	cache  *cache // nil if the root could not be opened for it
}

// New returns a Handler serving root. The caller keeps ownership of root
// and must keep it open while the handler is in use. Unexpected errors are
// logged to logger.
func New(root *os.Root, logger *slog.Logger) *Handler {
	h := &Handler{root: root, logger: logger}
	c, err := newCache(root, DefaultCacheBytes, DefaultCacheMaxFile)
	if err != nil {
		logger.Error("file cache disabled: open root", "error", err)
	} else {
		h.cache = c
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

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, rel string, err error) {
	if !errors.Is(err, fs.ErrNotExist) {
		// Includes "path escapes from parent" for symlinks leaving the root.
		h.logger.Debug("refusing path", "path", rel, "error", err)
	}
	http.NotFound(w, r)
}

func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, rel string) {
	f, err := h.root.Open(rel)
	if err != nil {
		h.notFound(w, r, rel, err)
		return
	}
	defer f.Close()
	// Stat the open file: the earlier Stat was only used to avoid
	// opening FIFOs and devices; this one describes what we serve.
	fi, err := f.Stat()
	if err != nil {
		h.logger.Error("stat open file", "path", rel, "error", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	if !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	if h.cache != nil {
		if e := h.cache.load(rel, f, fi); e != nil {
			e.serve(w, r)
			return
		}
	}
	if serveOpen(w, r, f, fi) {
		return
	}
	w.Header().Set("ETag", ETag(fi))
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

func (h *Handler) serveDir(w http.ResponseWriter, r *http.Request, rel string) {
	entries, err := h.list(rel)
	if err != nil {
		h.logger.Error("list directory", "path", rel, "error", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if wantsJSON(r.Header.Get("Accept")) {
		w.Header().Set("Content-Type", "application/json")
		err = json.NewEncoder(&buf).Encode(entries)
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err = listingTemplate.Execute(&buf, listingData{
			Path:    "/" + strings.TrimPrefix(rel+"/", "./"),
			Parent:  rel != ".",
			Entries: entries,
		})
	}
	if err != nil {
		h.logger.Error("render listing", "path", rel, "error", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Vary", "Accept")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	_, _ = buf.WriteTo(w)
}

// list returns the visible entries of directory rel, sorted by name.
// Dotfiles are omitted, as are entries that cannot be served: symlinks
// that are broken or leave the root, and anything that is neither a
// regular file nor a directory.
func (h *Handler) list(rel string) ([]Entry, error) {
	d, err := h.root.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	defer d.Close()
	des, err := d.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	entries := make([]Entry, 0, len(des))
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		fi, err := h.root.Stat(path.Join(rel, name)) // follows symlinks within the root only
		if err != nil {
			continue
		}
		e := Entry{Name: name, Dir: fi.IsDir(), ModTime: fi.ModTime().UTC()}
		switch {
		case fi.IsDir():
		case fi.Mode().IsRegular():
			e.Size = fi.Size()
		default:
			continue
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return entries, nil
}

// wantsJSON reports whether the Accept header explicitly asks for
// application/json (with a non-zero q value).
func wantsJSON(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != "application/json" {
			continue
		}
		if q := params["q"]; q != "" && strings.Trim(q, "0.") == "" {
			continue // q=0, q=0.0, ...: explicitly not acceptable
		}
		return true
	}
	return false
}

type listingData struct {
	Path    string
	Parent  bool
	Entries []Entry
}

var listingTemplate = template.Must(template.New("listing").Funcs(template.FuncMap{
	"href": func(e Entry) string {
		s := "./" + url.PathEscape(e.Name)
		if e.Dir {
			s += "/"
		}
		return s
	},
	"when": func(t time.Time) string { return t.Format(time.RFC3339) },
}).Parse(`<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Index of {{.Path}}</title></head>
<body>
<h1>Index of {{.Path}}</h1>
<table>
<tr><th>Name</th><th>Size</th><th>Modified</th></tr>
{{- if .Parent}}
<tr><td><a href="../">../</a></td><td></td><td></td></tr>
{{- end}}
{{- range .Entries}}
<tr><td><a href="{{href .}}">{{.Name}}{{if .Dir}}/{{end}}</a></td><td>{{if not .Dir}}{{.Size}}{{end}}</td><td>{{when .ModTime}}</td></tr>
{{- end}}
</table>
</body>
</html>
`))
