package files

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzPath checks, for arbitrary request targets, that CleanPath only
// returns local paths without dot segments, and that the handler never
// panics and never returns bytes from outside the root or from dotfiles.
// The traversal attacks are the seed corpus, so they also run under plain
// "go test".
func FuzzPath(f *testing.F) {
	for _, s := range traversalAttacks {
		f.Add(s)
	}
	for _, s := range []string{"/", "/hello.txt", "/sub/", "/sub", "/.hidden", "/%2ehidden", "/link-in", "/a%2f..%2f..%2fsecret"} {
		f.Add(s)
	}
	fx := newFixture(f)
	h := New(fx.root, slog.New(slog.DiscardHandler))

	f.Fuzz(func(t *testing.T, target string) {
		if rel, ok := CleanPath(target); ok {
			if !filepath.IsLocal(filepath.FromSlash(rel)) {
				t.Fatalf("CleanPath(%q) = %q: not local", target, rel)
			}
			if rel != "." {
				for _, seg := range strings.Split(rel, "/") {
					if seg == "" || strings.HasPrefix(seg, ".") || strings.ContainsAny(seg, "\\\x00") {
						t.Fatalf("CleanPath(%q) = %q: bad segment %q", target, rel, seg)
					}
				}
			}
		}

		// Build the request as net/http's server would from a request
		// line, without any client-side cleaning.
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			req := &http.Request{
				Method:     method,
				URL:        u,
				RequestURI: target,
				Proto:      "HTTP/1.1",
				ProtoMajor: 1,
				ProtoMinor: 1,
				Header:     http.Header{"Accept": {"application/json"}},
				Host:       "127.0.0.1",
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.String()
			if strings.Contains(body, outsideSecret) || strings.Contains(body, dotSecret) {
				t.Fatalf("%s %q leaked protected content (status %d): %q", method, target, rec.Code, body)
			}
			for _, name := range []string{"inner.txt", ".hidden", ".git", "link-out", "link-abs"} {
				if strings.Contains(body, `"`+name+`"`) {
					t.Fatalf("%s %q listed %q: %q", method, target, name, body)
				}
			}
		}
	})
}
