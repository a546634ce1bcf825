//go:build linux

package files

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// discardWriter is a reusable http.ResponseWriter that keeps the status
// and counts the body, so benchmarks measure the handler, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
	n      int64
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(s int)   { d.status = s }
func (d *discardWriter) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	d.n += int64(len(p))
	return len(p), nil
}

func (d *discardWriter) reset() {
	clear(d.h)
	d.status, d.n = 0, 0
}

// BenchmarkServe measures one request through the handler's hot paths:
// a 1 KiB file (from the cache, and with the cache off), a 1 MiB file
// (read from disk: this writer has no sendfile), a 304 for If-None-Match,
// and a directory listing of 100 files.
//
//	go test ./server/files -run '^$' -bench Serve -benchmem
func BenchmarkServe(b *testing.B) {
	dir := b.TempDir()
	write := func(name string, size int) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte("x"), size), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write("small.txt", 1024)
	write("r/f0001.txt", 1024)
	write("large.bin", 1<<20)
	for i := range 100 {
		write("list/f"+strconv.Itoa(i)+".txt", 10)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { root.Close() })
	cached := New(root, slog.New(slog.DiscardHandler))
	cached.cache.racy = 0 // the files were just written and do not change
	uncached := New(root, slog.New(slog.DiscardHandler))
	uncached.cache = nil
	etag := ETag(mustStatB(b, filepath.Join(dir, "small.txt")))

	for _, bc := range []struct {
		name   string
		h      *Handler
		target string
		header map[string]string
		status int
		size   int64
	}{
		{"1KiB", cached, "/small.txt", nil, 200, 1024},
		{"1KiB-nested", cached, "/r/f0001.txt", nil, 200, 1024},
		{"1KiB-nocache", uncached, "/small.txt", nil, 200, 1024},
		{"1MiB", cached, "/large.bin", nil, 200, 1 << 20},
		{"304", cached, "/small.txt", map[string]string{"If-None-Match": etag}, 304, 0},
		{"304-nocache", uncached, "/small.txt", map[string]string{"If-None-Match": etag}, 304, 0},
		{"listing", cached, "/list/", nil, 200, -1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, bc.target, nil)
			for k, v := range bc.header {
				req.Header.Set(k, v)
			}
			w := &discardWriter{h: http.Header{}}
			bc.h.ServeHTTP(w, req) // fills the cache
			b.ReportAllocs()
			if bc.size > 0 {
				b.SetBytes(bc.size)
			}
			for b.Loop() {
				w.reset()
				bc.h.ServeHTTP(w, req)
			}
			if w.status != bc.status || (bc.size >= 0 && w.n != bc.size) {
				b.Fatalf("got status %d, %d bytes; want %d, %d bytes", w.status, w.n, bc.status, bc.size)
			}
		})
	}
}

func mustStatB(b *testing.B, p string) os.FileInfo {
	b.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	return fi
}
