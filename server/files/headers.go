package files

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strings"
)

// SandboxPolicy is the Content-Security-Policy of file responses while
// Options.Sandbox is on: the browser renders the file in an opaque origin
// with scripts, forms, plugins and popups disabled.
const SandboxPolicy = "sandbox"

// Cache limits (the cache is in cache_linux.go; other systems have none).
const (
	// DefaultCacheBytes bounds the memory the cache may hold: the bytes
	// of the cached files plus a fixed overhead per entry.
	DefaultCacheBytes = 8 << 20
	// DefaultCacheMaxFile is the largest file that is cached; larger files
	// are sent from disk with sendfile.
	DefaultCacheMaxFile = 64 << 10
)

// Shared header values (net/http only reads them; an Add reallocates).
var (
	acceptRangesBytes = []string{"bytes"}
	nosniff           = []string{"nosniff"}
)

// safeSniffedType is the Content-Type of extension-less files whose
// content sniffs as markup.
const safeSniffedType = "text/plain; charset=utf-8"

// setContentHeaders sets Content-Type (and, with Options.Sandbox, the
// sandbox Content-Security-Policy) for the file name whose content is f.
// The type comes from the extension; without a known one, from sniffing
// the first 512 bytes, except that markup (HTML, XML) is never sniffed:
// it gets text/plain, so a file cannot become a page by its content alone.
// f is left at offset 0.
func (h *Handler) setContentHeaders(hdr http.Header, name string, f io.ReadSeeker) error {
	if h.opts.Sandbox {
		hdr.Set("Content-Security-Policy", SandboxPolicy)
	}
	ct := mime.TypeByExtension(filepath.Ext(name))
	if ct == "" {
		var buf [512]byte
		n, err := io.ReadFull(f, buf[:])
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return fmt.Errorf("sniff %s: %w", name, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("sniff %s: %w", name, err)
		}
		ct = sniffType(buf[:n])
	}
	hdr.Set("Content-Type", ct)
	return nil
}

// sniffType is http.DetectContentType without markup.
func sniffType(b []byte) string {
	ct := http.DetectContentType(b)
	mt, _, _ := strings.Cut(ct, ";")
	switch mt {
	case "text/html", "text/xml", "application/xml", "image/svg+xml":
		return safeSniffedType
	}
	return ct
}
