package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TruncatedHeader is set on a listing that shows only the first entries;
// its value is how many it shows.
const TruncatedHeader = "X-Listing-Truncated"

// readDirBatch is how many names are read from a directory at a time.
const readDirBatch = 256

// serveDir answers a listing of directory rel. HEAD gets the headers
// only, without reading the directory. At most Options.MaxListings
// listings are built at once (others wait), each with at most
// Options.MaxListingEntries entries, streamed to the client.
func (h *Handler) serveDir(w http.ResponseWriter, r *http.Request, rel string) {
	asJSON := wantsJSON(r.Header.Get("Accept"))
	hdr := w.Header()
	if asJSON {
		hdr.Set("Content-Type", "application/json")
	} else {
		hdr.Set("Content-Type", "text/html; charset=utf-8")
	}
	hdr.Set("Vary", "Accept")
	hdr.Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		return
	}
	if err := h.acquireListing(r.Context()); err != nil {
		return // the client is gone
	}
	defer h.releaseListing()
	entries, truncated, err := h.list(rel)
	if err != nil {
		// Unreadable or vanished: the same 404 as a missing path, so
		// it is no existence oracle, and no log flood at info level.
		h.notFound(w, r, rel, err)
		return
	}
	if truncated {
		hdr.Set(TruncatedHeader, strconv.Itoa(len(entries)))
	}
	if asJSON {
		err = writeJSON(w, entries)
	} else {
		err = listingTemplate.Execute(w, listingData{
			Path:      "/" + strings.TrimPrefix(rel+"/", "./"),
			Parent:    rel != ".",
			Entries:   entries,
			Truncated: truncated,
		})
	}
	if err != nil {
		h.logger.Debug("write listing", "path", rel, "error", err)
	}
}

func (h *Handler) acquireListing(ctx context.Context) error {
	select {
	case h.listings <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Handler) releaseListing() { <-h.listings }

// writeJSON writes entries as one JSON array, one entry at a time.
func writeJSON(w io.Writer, entries []Entry) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	for i, e := range entries {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if i > 0 {
			b = append([]byte{','}, b...)
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]\n")
	return err
}

// list returns the visible entries of directory rel, sorted by name, and
// whether there were more than Options.MaxListingEntries of them (then it
// returns that many: the first ones the directory yields, not the first by
// name). It reads at most 4 times that many names in all, dotfiles
// included. Dotfiles are omitted, as are entries that cannot be served:
// symlinks that are broken or leave the root, and anything that is neither
// a regular file nor a directory. Entries are stat'ed relative to the open
// directory; only symlinks are resolved from the root, so that links
// leaving the root are recognised.
func (h *Handler) list(rel string) (entries []Entry, truncated bool, err error) {
	dir, err := h.root.OpenRoot(rel) // O_DIRECTORY: a FIFO cannot block it
	if err != nil {
		return nil, false, fmt.Errorf("open: %w", err)
	}
	defer dir.Close()
	d, err := dir.Open(".")
	if err != nil {
		return nil, false, fmt.Errorf("open: %w", err)
	}
	defer d.Close()
	maxEntries := h.opts.MaxListingEntries
	scanBudget := 4 * maxEntries
	eof := false
	for scanBudget > 0 && !truncated && !eof {
		des, err := d.ReadDir(min(readDirBatch, scanBudget))
		scanBudget -= len(des)
		for _, de := range des {
			name := de.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			var fi fs.FileInfo
			var serr error
			if de.Type()&fs.ModeSymlink != 0 {
				fi, serr = h.root.Stat(path.Join(rel, name)) // follows symlinks within the root only
			} else {
				fi, serr = dir.Lstat(name) // fstatat on the open directory
			}
			if serr != nil {
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
			if len(entries) == maxEntries {
				truncated = true
				break
			}
			entries = append(entries, e)
		}
		eof = errors.Is(err, io.EOF)
		if err != nil && !eof {
			return nil, false, fmt.Errorf("read: %w", err)
		}
	}
	if scanBudget <= 0 && !eof {
		truncated = true
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	if entries == nil {
		entries = []Entry{}
	}
	return entries, truncated, nil
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
	Path      string
	Parent    bool
	Entries   []Entry
	Truncated bool
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
{{- if .Truncated}}
<p>Only the first {{len .Entries}} entries are shown.</p>
{{- end}}
</body>
</html>
`))
