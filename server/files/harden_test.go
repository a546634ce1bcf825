//go:build unix

package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// within runs f and fails the test if it does not return within limit:
// the attacks below would hang a worker forever.
func within(t *testing.T, limit time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%s did not return within %s", what, limit)
	}
}

func TestOpenRegularRefusesFIFOAndDevices(t *testing.T) {
	fx := newFixture(t)
	if err := syscall.Mkfifo(filepath.Join(fx.dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fifo", "sub", "."} {
		within(t, 5*time.Second, "OpenRegular("+name+")", func() {
			f, _, err := OpenRegular(fx.root, name)
			if err == nil {
				f.Close()
			}
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("OpenRegular(%s) = %v, want ErrNotRegular", name, err)
			}
		})
	}
	f, fi, err := OpenRegular(fx.root, "hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 64)
	n, err := f.Read(b)
	if err != nil || string(b[:n]) != helloBody || fi.Size() != int64(len(helloBody)) {
		t.Errorf("reading hello.txt opened by OpenRegular = %q, %v (size %d)", b[:n], err, fi.Size())
	}
}

// TestFIFOSwappedIn swaps a FIFO and a regular file at the same name while
// requests for it run: every request must finish (200 or 404), none hang.
func TestFIFOSwappedIn(t *testing.T) {
	fx := newFixture(t)
	srv := httptest.NewServer(New(fx.root, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	fifo, file, target := filepath.Join(fx.base, "fifo"), filepath.Join(fx.base, "file"), filepath.Join(fx.dir, "swap")
	if err := os.WriteFile(target, []byte("regular"), 0o644); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Put a fresh FIFO or file in place atomically.
			if i%2 == 0 {
				_ = syscall.Mkfifo(fifo, 0o644)
				_ = os.Rename(fifo, target)
			} else {
				_ = os.WriteFile(file, []byte("regular"), 0o644)
				_ = os.Rename(file, target)
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()
	statuses := map[int]int{}
	within(t, 20*time.Second, "300 requests during swaps", func() {
		for range 300 {
			resp, err := client.Get(srv.URL + "/swap")
			if err != nil {
				t.Errorf("GET /swap: %v", err)
				return
			}
			resp.Body.Close()
			statuses[resp.StatusCode]++
		}
	})
	for st := range statuses {
		if st != 200 && st != 404 {
			t.Errorf("statuses %v, want only 200 and 404", statuses)
		}
	}
	t.Logf("statuses %v", statuses)
}

func TestActiveContentSandboxed(t *testing.T) {
	fx := newFixture(t)
	for name, content := range map[string]string{
		"xss":        "<html><script>alert(document.cookie)</script></html>",
		"xml":        `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
		"plain":      "just text",
		"image.svg":  `<svg xmlns="http://www.w3.org/2000/svg"/>`,
		"binary":     "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
		"script.js":  "alert(1)",
		"page2.html": "<script>alert(1)</script>",
	} {
		if err := os.WriteFile(filepath.Join(fx.dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type result struct{ ContentType, CSP, Nosniff string }
	tests := []struct {
		name    string
		sandbox bool
		want    result
	}{
		{"xss", true, result{"text/plain; charset=utf-8", "sandbox", "nosniff"}},
		{"xml", true, result{"text/plain; charset=utf-8", "sandbox", "nosniff"}},
		{"plain", true, result{"text/plain; charset=utf-8", "sandbox", "nosniff"}},
		{"binary", true, result{"image/png", "sandbox", "nosniff"}},
		{"image.svg", true, result{"image/svg+xml", "sandbox", "nosniff"}},
		{"script.js", true, result{"text/javascript; charset=utf-8", "sandbox", "nosniff"}},
		{"page2.html", true, result{"text/html; charset=utf-8", "sandbox", "nosniff"}},
		{"page2.html", false, result{"text/html; charset=utf-8", "", "nosniff"}},
		{"xss", false, result{"text/plain; charset=utf-8", "", "nosniff"}},
	}
	for _, tt := range tests {
		opts := DefaultOptions()
		opts.Sandbox = tt.sandbox
		w := httptest.NewRecorder()
		NewWithOptions(fx.root, slog.New(slog.DiscardHandler), opts).ServeHTTP(w, httptest.NewRequest("GET", "/"+tt.name, nil))
		h := w.Result().Header
		got := result{h.Get("Content-Type"), h.Get("Content-Security-Policy"), h.Get("X-Content-Type-Options")}
		if diff := cmp.Diff(tt.want, got); w.Code != 200 || diff != "" {
			t.Errorf("%s sandbox=%v: status %d (-want +got):\n%s", tt.name, tt.sandbox, w.Code, diff)
		}
	}
}

func TestLimitRanges(t *testing.T) {
	many := make([]string, MaxRanges+1)
	for i := range many {
		many[i] = fmt.Sprintf("%d-%d", 10*i, 10*i)
	}
	tests := []struct {
		rng     string
		removed bool
	}{
		{"bytes=0-9", false},
		{"bytes=0-9,20-29", false},
		{"bytes=-10", false},
		{"bytes=990-", false},
		{"bytes=" + strings.Join(many[:MaxRanges], ","), false},
		{"bytes=" + strings.Join(many, ","), true},
		{"bytes=0-9,5-14", true},
		{"bytes=0-,-1", true},
		{"bytes=0-999,0-999", true},
		{"bytes=0-9, 10-19", false},    // adjacent is not overlapping
		{"bytes=2000-3000,0-9", false}, // unsatisfiable part ignored
		{"bytes=oops", false},          // left to ServeContent: 416
		{"items=0-1,0-1", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Range", tt.rng)
		if got := limitRanges(r, 1000); got != tt.removed || (r.Header.Get("Range") == "") != tt.removed {
			t.Errorf("limitRanges(%q) = %v (header now %q), want %v", tt.rng, got, r.Header.Get("Range"), tt.removed)
		}
	}
}

func TestListingCapped(t *testing.T) {
	fx := newFixture(t)
	dir := filepath.Join(fx.dir, "many")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf(".dot%02d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		max           int
		wantEntries   int
		wantTruncated string
	}{
		{10, 10, "10"},
		{50, 50, ""},
		{49, 49, "49"},
		{1000, 50, ""},
	} {
		h := NewWithOptions(fx.root, slog.New(slog.DiscardHandler), Options{MaxListingEntries: tt.max, MaxListings: 1, Sandbox: true})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/many/", nil))
		got := strings.Count(w.Body.String(), "<tr><td><a href=\"./f")
		note := strings.Contains(w.Body.String(), "Only the first")
		if got != tt.wantEntries || w.Header().Get(TruncatedHeader) != tt.wantTruncated || note != (tt.wantTruncated != "") {
			t.Errorf("max %d: %d entries, %s %q, note %v; want %d, %q", tt.max, got, TruncatedHeader, w.Header().Get(TruncatedHeader), note, tt.wantEntries, tt.wantTruncated)
		}
	}
}

// TestListingConcurrencyAndHEAD: with every listing slot taken, GET waits
// (until its client gives up) while HEAD answers at once: HEAD does not
// build the listing.
func TestListingConcurrencyAndHEAD(t *testing.T) {
	fx := newFixture(t)
	h := NewWithOptions(fx.root, slog.New(slog.DiscardHandler), Options{MaxListingEntries: 10, MaxListings: 1})
	if err := h.acquireListing(context.Background()); err != nil {
		t.Fatal(err)
	}
	within(t, 5*time.Second, "HEAD with the listing slot taken", func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("HEAD", "/sub/", nil))
		if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("HEAD /sub/ = %d %q %v", w.Code, w.Body.String(), w.Header())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	w := httptest.NewRecorder()
	within(t, 5*time.Second, "GET with the listing slot taken", func() {
		h.ServeHTTP(w, httptest.NewRequest("GET", "/sub/", nil).WithContext(ctx))
	})
	if strings.Contains(w.Body.String(), "nested.txt") {
		t.Errorf("GET built a listing while the only slot was taken")
	}
	h.releaseListing()
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/sub/", nil))
	if !strings.Contains(w.Body.String(), "nested.txt") {
		t.Errorf("GET after the slot was freed: %d %q", w.Code, w.Body.String())
	}
}

// TestSymlinkRule: links are followed wherever they lead inside the root,
// dot-directories included (Kubernetes ConfigMap volumes: key ->
// ..data/key, ..data -> ..2024_01_02), but a name the client asks for is
// never a dotfile, and listings never show dotfiles.
func TestSymlinkRule(t *testing.T) {
	fx := newFixture(t)
	cm := filepath.Join(fx.dir, "config")
	if err := os.MkdirAll(filepath.Join(cm, "..2024_01_02"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cm, "..2024_01_02", "app.yaml"), []byte("key: value\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"config/..data":    "..2024_01_02",
		"config/app.yaml":  "..data/app.yaml",
		"link-to-dotfile":  ".hidden",
		"config/.dotlink":  "app.yaml",
		"config/link-up":   "../hello.txt",
		"config/link-loop": "link-loop",
	} {
		if err := os.Symlink(target, filepath.Join(fx.dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(New(fx.root, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	tests := []struct {
		target string
		status int
		body   string
	}{
		{"/config/app.yaml", 200, "key: value\n"},
		{"/config/link-up", 200, helloBody},
		{"/link-to-dotfile", 200, dotSecret}, // the operator's link publishes its target
		{"/config/..data/app.yaml", 404, ""},
		{"/config/..2024_01_02/app.yaml", 404, ""},
		{"/config/.dotlink", 404, ""},
		{"/config/link-loop", 404, ""},
	}
	for _, tt := range tests {
		resp, err := client.Get(srv.URL + tt.target)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || (tt.status == 200 && b.String() != tt.body) {
			t.Errorf("GET %s = %d %q, want %d %q", tt.target, resp.StatusCode, b.String(), tt.status, tt.body)
		}
	}
	w := httptest.NewRecorder()
	New(fx.root, slog.New(slog.DiscardHandler)).ServeHTTP(w, httptest.NewRequest("GET", "/config/", nil))
	for _, want := range []string{`href="./app.yaml"`, `href="./link-up"`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("listing of /config/ lacks %s:\n%s", want, w.Body.String())
		}
	}
	if strings.Contains(w.Body.String(), "..data") || strings.Contains(w.Body.String(), "dotlink") || strings.Contains(w.Body.String(), "link-loop") {
		t.Errorf("listing of /config/ shows dotfiles or a broken link:\n%s", w.Body.String())
	}
}

// TestUnreadableIsNotFound: a directory that cannot be listed, or a file
// that cannot be opened, answers the same 404 as a missing one, logged at
// debug level only.
func TestUnreadableIsNotFound(t *testing.T) {
	fx := newFixture(t)
	var logs bytes.Buffer
	h := New(fx.root, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	locked := filepath.Join(fx.dir, "locked")
	if err := os.Mkdir(locked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fx.dir, "locked.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// As root (CI containers), permissions are not enforced; a directory
	// removed between the Stat and the listing takes the same path.
	targets := []string{"/missing/"}
	w := httptest.NewRecorder()
	h.serveDir(w, httptest.NewRequest("GET", "/gone/", nil), "gone")
	if w.Code != 404 {
		t.Errorf("listing a vanished directory = %d, want 404", w.Code)
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(fx.dir, "locked.txt"), 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(locked, 0o755) })
		targets = append(targets, "/locked/", "/locked.txt")
	} else {
		t.Log("running as root: unreadable modes are not enforced, only the vanished directory is tried")
	}
	for _, target := range targets {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		if w.Code != 404 || w.Body.String() != "404 page not found\n" {
			t.Errorf("GET %s = %d %q, want the plain 404", target, w.Code, w.Body.String())
		}
	}
	if logs.Len() != 0 {
		t.Errorf("info-level logs for unreadable paths:\n%s", logs.String())
	}
}
