package files

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cat-server/cat-server/server/internal/rawhttp"
)

const (
	outsideSecret = "OUTSIDE-SECRET-4f1c9b"
	dotSecret     = "DOTFILE-SECRET-8d2e7a"
	helloBody     = "hello, world\n"
)

var fixedTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// fixture is a served root inside a base directory that also holds files
// which must never be served:
//
//	base/secret                 outside secret file
//	base/outdir/inner.txt       outside secret file in a directory
//	base/root/                  the served root
//	  hello.txt, page.html, empty.bin
//	  sub/nested.txt
//	  a/                        (for /a/../../secret)
//	  .hidden, .git/config      dotfiles with secret content
//	  link-in -> hello.txt      symlink inside the root (served)
//	  link-out -> ../secret     symlink escaping the root
//	  link-outdir -> ../outdir  symlink to an outside directory
//	  link-abs -> /base/secret  absolute symlink escaping the root
type fixture struct {
	base, dir string
	root      *os.Root
}

func newFixture(tb testing.TB) fixture {
	tb.Helper()
	base := tb.TempDir()
	dir := filepath.Join(base, "root")
	write := func(name, content string) {
		tb.Helper()
		p := filepath.Join(base, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
		if err := os.Chtimes(p, fixedTime, fixedTime); err != nil {
			tb.Fatal(err)
		}
	}
	write("secret", outsideSecret)
	write("outdir/inner.txt", outsideSecret)
	write("root/hello.txt", helloBody)
	write("root/page.html", "<p>hi</p>")
	write("root/empty.bin", "")
	write("root/sub/nested.txt", "nested")
	write("root/.hidden", dotSecret)
	write("root/.git/config", dotSecret)
	write("root/sub/.hidden", dotSecret)
	if err := os.Mkdir(filepath.Join(dir, "a"), 0o755); err != nil {
		tb.Fatal(err)
	}
	for link, target := range map[string]string{
		"link-in":     "hello.txt",
		"link-out":    "../secret",
		"link-outdir": "../outdir",
		"link-abs":    filepath.Join(base, "secret"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			tb.Fatal(err)
		}
	}
	for _, d := range []string{"sub", "a", "."} {
		if err := os.Chtimes(filepath.Join(dir, d), fixedTime, fixedTime); err != nil {
			tb.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { root.Close() })
	return fixture{base: base, dir: dir, root: root}
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	fx := newFixture(t)
	srv := httptest.NewServer(New(fx.root, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return srv
}

var client = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type response struct {
	Status int
	Header map[string]string
	Body   string
}

// send makes a request to url and returns the status and body (with an
// empty Header map) and the response's headers.
func send(t *testing.T, method, url string, reqHeader map[string]string) (response, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range reqHeader {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: map[string]string{}, Body: string(body)}, resp.Header
}

// do sends a request and returns the status, the selected headers and the body.
func do(t *testing.T, srv *httptest.Server, method, target string, reqHeader map[string]string, headers ...string) response {
	t.Helper()
	got, h := send(t, method, srv.URL+target, reqHeader)
	for _, name := range headers {
		if v, ok := h[http.CanonicalHeaderKey(name)]; ok {
			got.Header[name] = strings.Join(v, ",")
		}
	}
	return got
}

func TestServeFile(t *testing.T) {
	srv := newServer(t)
	fi, err := os.Stat(filepath.Join(srv.Config.Handler.(*Handler).root.Name(), "hello.txt"))
	if err != nil {
		t.Fatal(err)
	}
	etag := ETag(fi)
	lastMod := fixedTime.Format(http.TimeFormat)
	hdrs := []string{"Content-Type", "Content-Length", "Last-Modified", "ETag", "Content-Range", "Accept-Ranges", "Allow", "Location"}

	tests := []struct {
		name      string
		method    string
		target    string
		reqHeader map[string]string
		want      response
	}{
		{
			name: "get", method: "GET", target: "/hello.txt",
			want: response{200, map[string]string{
				"Content-Type": "text/plain; charset=utf-8", "Content-Length": "13",
				"Last-Modified": lastMod, "ETag": etag, "Accept-Ranges": "bytes",
			}, helloBody},
		},
		{
			name: "head has no body", method: "HEAD", target: "/hello.txt",
			want: response{200, map[string]string{
				"Content-Type": "text/plain; charset=utf-8", "Content-Length": "13",
				"Last-Modified": lastMod, "ETag": etag, "Accept-Ranges": "bytes",
			}, ""},
		},
		{
			name: "html content type", method: "GET", target: "/page.html",
			want: response{200, map[string]string{
				"Content-Type": "text/html; charset=utf-8", "Content-Length": "9",
				"Last-Modified": lastMod, "ETag": ETag(mustStat(t, srv, "page.html")), "Accept-Ranges": "bytes",
			}, "<p>hi</p>"},
		},
		{
			name: "nested", method: "GET", target: "/sub/nested.txt",
			want: response{200, map[string]string{
				"Content-Type": "text/plain; charset=utf-8", "Content-Length": "6",
				"Last-Modified": lastMod, "ETag": ETag(mustStat(t, srv, "sub/nested.txt")), "Accept-Ranges": "bytes",
			}, "nested"},
		},
		{
			name: "symlink inside root", method: "GET", target: "/link-in",
			want: response{200, map[string]string{
				"Content-Type": "text/plain; charset=utf-8", "Content-Length": "13",
				"Last-Modified": lastMod, "ETag": etag, "Accept-Ranges": "bytes",
			}, helloBody},
		},
		{
			name: "if-none-match", method: "GET", target: "/hello.txt",
			reqHeader: map[string]string{"If-None-Match": etag},
			want:      response{304, map[string]string{"ETag": etag}, ""}, // net/http drops Last-Modified on 304
		},
		{
			name: "if-none-match other etag", method: "GET", target: "/hello.txt",
			reqHeader: map[string]string{"If-None-Match": `"other"`},
			want: response{200, map[string]string{
				"Content-Type": "text/plain; charset=utf-8", "Content-Length": "13",
				"Last-Modified": lastMod, "ETag": etag, "Accept-Ranges": "bytes",
			}, helloBody},
		},
		{
			name: "if-modified-since", method: "GET", target: "/hello.txt",
			reqHeader: map[string]string{"If-Modified-Since": lastMod},
			want:      response{304, map[string]string{"ETag": etag}, ""}, // net/http drops Last-Modified on 304
		},
		{
			name: "range", method: "GET", target: "/hello.txt",
			reqHeader: map[string]string{"Range": "bytes=0-4"},
			want: response{206, map[string]string{
				"Content-Type": "text/plain; charset=utf-8", "Content-Length": "5",
				"Last-Modified": lastMod, "ETag": etag, "Accept-Ranges": "bytes",
				"Content-Range": "bytes 0-4/13",
			}, "hello"},
		},
		{
			name: "suffix range", method: "GET", target: "/hello.txt",
			reqHeader: map[string]string{"Range": "bytes=-6"},
			want: response{206, map[string]string{
				"Content-Type": "text/plain; charset=utf-8", "Content-Length": "6",
				"Last-Modified": lastMod, "ETag": etag, "Accept-Ranges": "bytes",
				"Content-Range": "bytes 7-12/13",
			}, "world\n"},
		},
		{
			name: "unsatisfiable range", method: "GET", target: "/hello.txt",
			reqHeader: map[string]string{"Range": "bytes=100-200"},
			want: response{416, map[string]string{
				"Content-Type": "text/plain; charset=utf-8", "Content-Length": "33",
				"Content-Range": "bytes */13",
			}, "invalid range: failed to overlap\n"},
		},
		{
			name: "directory without slash redirects", method: "GET", target: "/sub?x=1",
			want: response{301, map[string]string{"Location": "./sub/?x=1", "Content-Length": "0"}, ""},
		},
		{
			name: "file with trailing slash", method: "GET", target: "/hello.txt/",
			want: response{404, map[string]string{"Content-Type": "text/plain; charset=utf-8", "Content-Length": "19"}, "404 page not found\n"},
		},
		{
			name: "missing", method: "GET", target: "/nope.txt",
			want: response{404, map[string]string{"Content-Type": "text/plain; charset=utf-8", "Content-Length": "19"}, "404 page not found\n"},
		},
		{
			name: "post", method: "POST", target: "/hello.txt",
			want: response{405, map[string]string{"Allow": "GET, HEAD", "Content-Type": "text/plain; charset=utf-8", "Content-Length": "19"}, "method not allowed\n"},
		},
		{
			name: "delete on directory", method: "DELETE", target: "/",
			want: response{405, map[string]string{"Allow": "GET, HEAD", "Content-Type": "text/plain; charset=utf-8", "Content-Length": "19"}, "method not allowed\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := do(t, srv, tt.method, tt.target, tt.reqHeader, hdrs...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s %s mismatch (-want +got):\n%s", tt.method, tt.target, diff)
			}
		})
	}
}

func mustStat(t *testing.T, srv *httptest.Server, rel string) os.FileInfo {
	t.Helper()
	fi, err := srv.Config.Handler.(*Handler).root.Stat(rel)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func TestDotfilesRefused(t *testing.T) {
	srv := newServer(t)
	for _, target := range []string{
		"/.hidden", "/.git/config", "/.git/", "/.git", "/sub/.hidden", "/%2ehidden", "/%2Egit/config", "/./hello.txt",
	} {
		t.Run(target, func(t *testing.T) {
			got := do(t, srv, "GET", target, nil)
			if got.Status != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404", target, got.Status)
			}
			if strings.Contains(got.Body, dotSecret) {
				t.Errorf("GET %s leaked dotfile content", target)
			}
		})
	}
}

func TestListingJSON(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		target string
		accept string
		want   []Entry
	}{
		{"/", "application/json", []Entry{
			{Name: "a", Dir: true, ModTime: fixedTime},
			{Name: "empty.bin", Size: 0, ModTime: fixedTime},
			{Name: "hello.txt", Size: 13, ModTime: fixedTime},
			{Name: "link-in", Size: 13, ModTime: fixedTime},
			{Name: "page.html", Size: 9, ModTime: fixedTime},
			{Name: "sub", Dir: true, ModTime: fixedTime},
		}},
		{"/sub/", "text/html;q=0.5, application/json", []Entry{
			{Name: "nested.txt", Size: 6, ModTime: fixedTime},
		}},
		{"/a/", "application/json; charset=utf-8", []Entry{}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			got := do(t, srv, "GET", tt.target, map[string]string{"Accept": tt.accept}, "Content-Type", "Vary")
			if diff := cmp.Diff(map[string]string{"Content-Type": "application/json", "Vary": "Accept"}, got.Header); got.Status != 200 || diff != "" {
				t.Fatalf("status %d, header diff (-want +got):\n%s", got.Status, diff)
			}
			var entries []Entry
			if err := json.Unmarshal([]byte(got.Body), &entries); err != nil {
				t.Fatalf("decoding %q: %v", got.Body, err)
			}
			if diff := cmp.Diff(tt.want, entries); diff != "" {
				t.Errorf("listing mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListingHTML(t *testing.T) {
	srv := newServer(t)
	for _, accept := range []string{"", "text/html", "*/*", "application/json;q=0"} {
		t.Run(accept, func(t *testing.T) {
			got := do(t, srv, "GET", "/", map[string]string{"Accept": accept}, "Content-Type")
			if got.Status != 200 || got.Header["Content-Type"] != "text/html; charset=utf-8" {
				t.Fatalf("got status %d, Content-Type %q", got.Status, got.Header["Content-Type"])
			}
			for _, want := range []string{`<title>Index of /</title>`, `href="./hello.txt"`, `href="./sub/"`, `href="./link-in"`} {
				if !strings.Contains(got.Body, want) {
					t.Errorf("listing lacks %q:\n%s", want, got.Body)
				}
			}
			for _, bad := range []string{".hidden", ".git", "link-out", "link-abs", `href="../"`} {
				if strings.Contains(got.Body, bad) {
					t.Errorf("listing contains %q:\n%s", bad, got.Body)
				}
			}
		})
	}
	got := do(t, srv, "HEAD", "/sub/", nil, "Content-Type")
	if got.Status != 200 || got.Body != "" {
		t.Errorf("HEAD /sub/: status %d, body %q; want 200 and no body", got.Status, got.Body)
	}
	got = do(t, srv, "GET", "/sub/", nil)
	if !strings.Contains(got.Body, `href="../"`) || !strings.Contains(got.Body, "Index of /sub/") {
		t.Errorf("GET /sub/ listing lacks parent link or title:\n%s", got.Body)
	}
}

// traversalAttacks are request targets, sent verbatim on the request line,
// that must never be answered with 200 or leak outside content.
var traversalAttacks = []string{
	"/../secret",
	"/%2e%2e/secret",
	"/%2E%2E/secret",
	"/%2E%2e/secret",
	"/..%2fsecret",
	"/..%2Fsecret",
	"/%2e%2e%2fsecret",
	"/%252e%252e/secret",
	"/%252e%252e%252fsecret",
	`/..\secret`,
	"/..%5csecret",
	"/....//secret",
	"/.../secret",
	"//etc/passwd",
	"/etc/passwd",
	"/a/../../secret",
	"/a/%2e%2e/%2e%2e/secret",
	"/sub/../../secret",
	"/%00",
	"/hello.txt%00",
	"/%2fetc/passwd",
	"/link-out",
	"/link-abs",
	"/link-outdir/inner.txt",
	"/link-outdir/",
	"/link-outdir",
	"/../outdir/inner.txt",
	"http://example.com/../secret",
	"http://example.com/%2e%2e/secret",
	"../secret",
	"secret",
	"*",
}

func TestTraversalRefused(t *testing.T) {
	srv := newServer(t)
	addr := srv.Listener.Addr().String()
	for _, target := range traversalAttacks {
		t.Run(target, func(t *testing.T) {
			status, body := rawhttp.Get(t, addr, target, 10*time.Second)
			t.Logf("status %d", status)
			// Our handler answers 404; Go's server itself rejects some
			// malformed request lines with 400 before the handler runs.
			if status != http.StatusNotFound && status != http.StatusBadRequest {
				t.Errorf("GET %s: status %d, want 404 (or 400 from net/http)", target, status)
			}
			if strings.Contains(body, outsideSecret) || strings.Contains(body, "root:x:0:0") {
				t.Errorf("GET %s leaked outside content: %q", target, body)
			}
		})
	}
}

func TestCleanPath(t *testing.T) {
	type result struct {
		Rel string
		OK  bool
	}
	tests := []struct {
		in   string
		want result
	}{
		{"/", result{".", true}},
		{"/hello.txt", result{"hello.txt", true}},
		{"/sub/", result{"sub", true}},
		{"/sub/nested.txt", result{"sub/nested.txt", true}},
		{"/with%20space", result{"with space", true}},
		{"/%252e%252e", result{"%2e%2e", true}}, // decoded once: a literal name inside the root
		{"/a..b", result{"a..b", true}},
		{"", result{}},
		{"hello.txt", result{}},
		{"/..", result{}},
		{"/../secret", result{}},
		{"/%2e%2e/secret", result{}},
		{"/..%2fsecret", result{}},
		{"/a%2Fb", result{}},
		{"/a%5cb", result{}},
		{`/a\b`, result{}},
		{"/%00", result{}},
		{"/a\x00b", result{}},
		{"//etc/passwd", result{}},
		{"/a//b", result{}},
		{"/sub//", result{}},
		{"/.hidden", result{}},
		{"/./x", result{}},
		{"/%zz", result{}},
	}
	for _, tt := range tests {
		rel, ok := CleanPath(tt.in)
		if diff := cmp.Diff(tt.want, result{rel, ok}); diff != "" {
			t.Errorf("CleanPath(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestWantsJSON(t *testing.T) {
	tests := map[string]bool{
		"":                                false,
		"*/*":                             false,
		"text/html":                       false,
		"application/json":                true,
		"Application/JSON":                true,
		"text/html, application/json;q=1": true,
		"application/json;q=0":            false,
		"application/json;q=0.000":        false,
		"application/json;q=0.1":          true,
		"application/jsonx":               false,
		"application/json; charset=utf-8": true,
	}
	for in, want := range tests {
		if got := wantsJSON(in); got != want {
			t.Errorf("wantsJSON(%q) = %v, want %v", in, got, want)
		}
	}
}
