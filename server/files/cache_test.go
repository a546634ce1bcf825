//go:build linux

package files

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// testRacy replaces racyWindow in tests: files are cached once their
// ctime is this old, so tests wait testRacy after writing instead of 2 s.
// It is far above the ctime granularity of Linux file systems (a jiffy
// at most), which is what the window protects against.
const testRacy = 50 * time.Millisecond

// cachedHandler returns a handler serving fx with a cache of the given
// limits, and one serving it without a cache, for comparison.
func cachedHandler(t *testing.T, fx fixture, maxBytes, maxFile int64) (cached, plain *Handler) {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	cached = New(fx.root, logger)
	c, err := newCache(fx.root, maxBytes, maxFile)
	if err != nil {
		t.Fatal(err)
	}
	c.racy = testRacy
	cached.cache = c
	plain = New(fx.root, logger)
	plain.cache = nil
	return cached, plain
}

// settle waits until files written so far are old enough to be cached.
func settle() { time.Sleep(testRacy + 20*time.Millisecond) }

// serve sends one request to h and returns the whole response: status,
// every header but Date, and body.
func serve(h http.Handler, method, target string, reqHeader map[string]string) response {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range reqHeader {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	got := response{Status: rec.Code, Header: map[string]string{}, Body: rec.Body.String()}
	for k, v := range rec.Result().Header {
		if k != "Date" {
			got.Header[k] = strings.Join(v, ",")
		}
	}
	// Multipart boundaries are random.
	if _, b, ok := strings.Cut(got.Header["Content-Type"], "boundary="); ok {
		got.Header["Content-Type"] = strings.ReplaceAll(got.Header["Content-Type"], b, "BOUNDARY")
		got.Body = strings.ReplaceAll(got.Body, b, "BOUNDARY")
	}
	return got
}

// TestCacheSameResponses checks that a cache hit answers exactly what the
// handler answers without a cache, for every kind of request.
func TestCacheSameResponses(t *testing.T) {
	fx := newFixture(t)
	if err := os.WriteFile(filepath.Join(fx.dir, "markup"), []byte("<!DOCTYPE html><p>x</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	cached, plain := cachedHandler(t, fx, DefaultCacheBytes, DefaultCacheMaxFile)
	settle()
	etag := ETag(mustStatRoot(t, fx, "hello.txt"))
	manyRanges := "bytes=0-0" + strings.Repeat(",1-1", MaxRanges)
	lastMod := fixedTime.Format(http.TimeFormat)
	tests := []struct {
		method, target string
		reqHeader      map[string]string
		hit            bool // the second request is served from the cache
	}{
		{"GET", "/hello.txt", nil, true},
		{"HEAD", "/hello.txt", nil, true},
		{"GET", "/page.html", nil, true},
		{"GET", "/empty.bin", nil, true},
		{"GET", "/markup", nil, true},
		{"GET", "/sub/nested.txt", nil, true},
		{"GET", "/hello.txt", map[string]string{"If-None-Match": etag}, true},
		{"HEAD", "/hello.txt", map[string]string{"If-None-Match": etag}, true},
		{"GET", "/hello.txt", map[string]string{"If-None-Match": `"other", ` + etag}, true},
		{"GET", "/hello.txt", map[string]string{"If-None-Match": `"other"`}, true},
		{"GET", "/hello.txt", map[string]string{"If-None-Match": "*"}, true},
		{"GET", "/hello.txt", map[string]string{"If-Modified-Since": lastMod}, true},
		{"GET", "/hello.txt", map[string]string{"If-Match": `"other"`}, true},
		{"GET", "/hello.txt", map[string]string{"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, true},
		{"GET", "/hello.txt", map[string]string{"Range": "bytes=0-4"}, true},
		{"GET", "/hello.txt", map[string]string{"Range": "bytes=0-1,3-4"}, true},
		{"GET", "/hello.txt", map[string]string{"Range": "bytes=100-200"}, true},
		{"GET", "/hello.txt", map[string]string{"Range": manyRanges}, true},
		{"GET", "/hello.txt", map[string]string{"Range": "bytes=0-5,2-8"}, true},
		{"GET", "/hello.txt", map[string]string{"Range": "bytes=0-4", "If-Range": `"other"`}, true},
		{"GET", "/link-in", nil, false}, // a symlink: never cached
		{"GET", "/hello.txt/", nil, false},
		{"POST", "/hello.txt", nil, false},
		{"GET", "/link-out", nil, false},
		{"GET", "/sub", nil, false},
		{"GET", "/sub/", nil, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.method, " ", tt.target, " ", tt.reqHeader), func(t *testing.T) {
			want := serve(plain, tt.method, tt.target, tt.reqHeader)
			serve(cached, tt.method, tt.target, tt.reqHeader) // fills
			hits := cached.cache.hits.Load()
			got := serve(cached, tt.method, tt.target, tt.reqHeader)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("cached response differs (-uncached +cached):\n%s", diff)
			}
			if hit := cached.cache.hits.Load() > hits; hit != tt.hit {
				t.Errorf("served from the cache: %v, want %v", hit, tt.hit)
			}
		})
	}
}

func mustStatRoot(t *testing.T, fx fixture, rel string) os.FileInfo {
	t.Helper()
	fi, err := fx.root.Stat(rel)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// TestCacheSeesChanges checks that the request right after a change on
// disk (no delay) is answered as the disk now is, for each way a cached
// file can change.
func TestCacheSeesChanges(t *testing.T) {
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		target string
		change func(t *testing.T, fx fixture)
		want   int    // status
		body   string // for 200
	}{
		{"rewritten in place, same size and mtime", "/hello.txt", func(t *testing.T, fx fixture) {
			p := filepath.Join(fx.dir, "hello.txt")
			must(t, os.WriteFile(p, []byte("HELLO, WORLD\n"), 0o644))
			must(t, os.Chtimes(p, fixedTime, fixedTime))
		}, 200, "HELLO, WORLD\n"},
		{"appended", "/hello.txt", func(t *testing.T, fx fixture) {
			f, err := os.OpenFile(filepath.Join(fx.dir, "hello.txt"), os.O_APPEND|os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteString("more\n")
			must(t, err)
			must(t, f.Close())
		}, 200, helloBody + "more\n"},
		{"replaced by rename, same size and mtime", "/hello.txt", func(t *testing.T, fx fixture) {
			p := filepath.Join(fx.dir, "new.tmp")
			must(t, os.WriteFile(p, []byte("hello, WORLD\n"), 0o644))
			must(t, os.Chtimes(p, fixedTime, fixedTime))
			must(t, os.Rename(p, filepath.Join(fx.dir, "hello.txt")))
		}, 200, "hello, WORLD\n"},
		{"renamed away", "/hello.txt", func(t *testing.T, fx fixture) {
			must(t, os.Rename(filepath.Join(fx.dir, "hello.txt"), filepath.Join(fx.dir, "moved.txt")))
		}, 404, ""},
		{"deleted", "/hello.txt", func(t *testing.T, fx fixture) {
			must(t, os.Remove(filepath.Join(fx.dir, "hello.txt")))
		}, 404, ""},
		{"replaced by a symlink leaving the root", "/hello.txt", func(t *testing.T, fx fixture) {
			must(t, os.Remove(filepath.Join(fx.dir, "hello.txt")))
			must(t, os.Symlink("../secret", filepath.Join(fx.dir, "hello.txt")))
		}, 404, ""},
		{"replaced by a symlink inside the root", "/hello.txt", func(t *testing.T, fx fixture) {
			must(t, os.Remove(filepath.Join(fx.dir, "hello.txt")))
			must(t, os.Symlink("page.html", filepath.Join(fx.dir, "hello.txt")))
		}, 200, "<p>hi</p>"},
		{"replaced by a directory", "/hello.txt", func(t *testing.T, fx fixture) {
			must(t, os.Remove(filepath.Join(fx.dir, "hello.txt")))
			must(t, os.Mkdir(filepath.Join(fx.dir, "hello.txt"), 0o755))
		}, 301, ""},
		{"replaced by a FIFO", "/hello.txt", func(t *testing.T, fx fixture) {
			must(t, os.Remove(filepath.Join(fx.dir, "hello.txt")))
			must(t, unix.Mkfifo(filepath.Join(fx.dir, "hello.txt"), 0o644))
		}, 404, ""},
		{"parent moved out of the root, symlink left in its place", "/sub/nested.txt", func(t *testing.T, fx fixture) {
			must(t, os.Rename(filepath.Join(fx.dir, "sub"), filepath.Join(fx.base, "sub")))
			must(t, os.Symlink("../sub", filepath.Join(fx.dir, "sub")))
		}, 404, ""},
		{"parent replaced by a new directory", "/sub/nested.txt", func(t *testing.T, fx fixture) {
			must(t, os.Rename(filepath.Join(fx.dir, "sub"), filepath.Join(fx.dir, "old")))
			must(t, os.Mkdir(filepath.Join(fx.dir, "sub"), 0o755))
			p := filepath.Join(fx.dir, "sub", "nested.txt")
			must(t, os.WriteFile(p, []byte("NESTED"), 0o644))
			must(t, os.Chtimes(p, fixedTime, fixedTime))
		}, 200, "NESTED"},
		{"parent renamed", "/sub/nested.txt", func(t *testing.T, fx fixture) {
			must(t, os.Rename(filepath.Join(fx.dir, "sub"), filepath.Join(fx.dir, "other")))
		}, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t)
			cached, plain := cachedHandler(t, fx, DefaultCacheBytes, DefaultCacheMaxFile)
			settle()
			serve(cached, "GET", tt.target, nil)
			before := serve(cached, "GET", tt.target, nil)
			if cached.cache.hits.Load() != 1 || before.Status != 200 {
				t.Fatalf("before the change: status %d, cache hits %d; want 200 from the cache", before.Status, cached.cache.hits.Load())
			}
			tt.change(t, fx)
			got := serve(cached, "GET", tt.target, nil)
			if got.Status != tt.want || (tt.want == 200 && got.Body != tt.body) {
				t.Fatalf("after the change: status %d, body %q; want %d, %q", got.Status, got.Body, tt.want, tt.body)
			}
			if strings.Contains(got.Body, outsideSecret) {
				t.Fatal("served content from outside the root")
			}
			if want := serve(plain, "GET", tt.target, nil); !cmp.Equal(want, got) {
				t.Errorf("after the change, cached and uncached differ (-uncached +cached):\n%s", cmp.Diff(want, got))
			}
			// And the new state is served (and cached, if it may be) from now on.
			settle()
			serve(cached, "GET", tt.target, nil)
			if again := serve(cached, "GET", tt.target, nil); !cmp.Equal(got, again) {
				t.Errorf("later requests differ (-first +later):\n%s", cmp.Diff(got, again))
			}
		})
	}
}

// TestCacheNotFilledWhileRacy checks that a file changed within the racy
// window is served but not cached.
func TestCacheNotFilledWhileRacy(t *testing.T) {
	fx := newFixture(t)
	cached, _ := cachedHandler(t, fx, DefaultCacheBytes, DefaultCacheMaxFile)
	cached.cache.racy = time.Hour
	for range 3 {
		if got := serve(cached, "GET", "/hello.txt", nil); got.Body != helloBody {
			t.Fatalf("body %q, want %q", got.Body, helloBody)
		}
	}
	if n := cached.cache.hits.Load(); n != 0 {
		t.Errorf("%d cache hits for a file changed within the racy window, want 0", n)
	}
}

// TestCacheLimits fills caches with more than they may hold and checks
// that the limits hold and every file is still served correctly.
func TestCacheLimits(t *testing.T) {
	tests := []struct {
		name              string
		maxBytes, maxFile int64
		files, size       int
		wantHits          bool
	}{
		{"defaults, 12 MB of 60 KiB files", DefaultCacheBytes, DefaultCacheMaxFile, 200, 60 << 10, true},
		{"room for 4 of 20 files", 4 * (1024 + entryOverhead + 16), DefaultCacheMaxFile, 20, 1024, true},
		{"files of exactly the largest size", DefaultCacheBytes, 1000, 5, 1000, true},
		{"files one byte too large", DefaultCacheBytes, 1000, 5, 1001, false},
		{"cache off", 0, DefaultCacheMaxFile, 5, 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			for i := range tt.files {
				body := bytes.Repeat([]byte{byte('a' + i%26)}, tt.size)
				if err := os.WriteFile(filepath.Join(fx.dir, fmt.Sprintf("f%03d", i)), body, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cached, _ := cachedHandler(t, fx, tt.maxBytes, tt.maxFile)
			c := cached.cache
			settle()
			for range 2 {
				for i := range tt.files {
					got := serve(cached, "GET", fmt.Sprintf("/f%03d", i), nil)
					if want := strings.Repeat(string(rune('a'+i%26)), tt.size); got.Status != 200 || got.Body != want {
						t.Fatalf("f%03d: status %d, %d bytes; want 200 and its content", i, got.Status, len(got.Body))
					}
					if used := c.used.Load(); used > max(tt.maxBytes, 0) {
						t.Fatalf("cache holds %d bytes, limit %d", used, tt.maxBytes)
					}
				}
			}
			var sum int64
			for i := range c.shards {
				for _, e := range c.shards[i].m {
					sum += e.cost()
				}
			}
			if used := c.used.Load(); sum != used {
				t.Errorf("entries cost %d bytes, accounted %d", sum, used)
			}
			// Once full, the cache keeps serving hits (it admits new
			// files rarely instead of replacing entries on every miss).
			hits := c.hits.Load()
			for i := range tt.files {
				serve(cached, "GET", fmt.Sprintf("/f%03d", i), nil)
			}
			if hit := c.hits.Load() > hits; hit != tt.wantHits {
				t.Errorf("a third pass had cache hits: %v, want %v", hit, tt.wantHits)
			}
		})
	}
}

// TestCacheConcurrentReplace replaces a file by rename, between two
// versions of different sizes, while clients read it: every response
// must be one whole version, with matching length and ETag.
func TestCacheConcurrentReplace(t *testing.T) {
	fx := newFixture(t)
	cached, _ := cachedHandler(t, fx, DefaultCacheBytes, DefaultCacheMaxFile)
	cached.cache.racy = 0 // fill as often as possible; the check is on consistency
	srv := httptest.NewServer(cached)
	t.Cleanup(srv.Close)
	versions := []string{strings.Repeat("a", 100), strings.Repeat("b", 2000)}
	done := make(chan struct{})
	var writer, readers sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			p := filepath.Join(fx.dir, "tmp")
			if err := os.WriteFile(p, []byte(versions[i%2]), 0o644); err != nil {
				t.Error(err)
				return
			}
			if err := os.Rename(p, filepath.Join(fx.dir, "hello.txt")); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	errs := make(chan error, 4)
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for range 300 {
				resp, err := client.Get(srv.URL + "/hello.txt")
				if err != nil {
					errs <- err
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					errs <- err
					return
				}
				b := string(body)
				if resp.StatusCode != 200 || (b != versions[0] && b != versions[1] && b != helloBody) || resp.ContentLength != int64(len(b)) ||
					!strings.HasSuffix(resp.Header.Get("ETag"), fmt.Sprintf(`-%x"`, len(b))) {
					errs <- fmt.Errorf("status %d, Content-Length %d, ETag %s, body of %d bytes %.10q...",
						resp.StatusCode, resp.ContentLength, resp.Header.Get("ETag"), len(b), b)
					return
				}
			}
		}()
	}
	readers.Wait()
	close(done)
	writer.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if cached.cache.hits.Load() == 0 {
		t.Error("no request was served from the cache")
	}
}

// TestServeOpenSameAsServeContent checks that files too large for the
// cache, sent by serveOpen through a real connection (flush, then
// sendfile), get the response http.ServeContent gives.
func TestServeOpenSameAsServeContent(t *testing.T) {
	fx := newFixture(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16+1)
	for _, name := range []string{"big.txt", "big.bin", "big.noext"} {
		if err := os.WriteFile(filepath.Join(fx.dir, name), big, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, plain := cachedHandler(t, fx, DefaultCacheBytes, 64<<10)
	// What serveFile does without serveOpen.
	reference := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Content-Type-Options"] = nosniff
		f, fi, err := OpenRegular(fx.root, r.URL.Path[1:])
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if err := plain.setContentHeaders(w.Header(), fi.Name(), f); err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("ETag", ETag(fi))
		limitRanges(r, fi.Size())
		http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
	})
	srv, ref := httptest.NewServer(h), httptest.NewServer(reference)
	t.Cleanup(srv.Close)
	t.Cleanup(ref.Close)
	get := func(t *testing.T, base, method, target string, hdr map[string]string) response {
		got, h := send(t, method, base+target, hdr)
		for k, v := range h {
			if k != "Date" {
				got.Header[k] = strings.Join(v, ",")
			}
		}
		return got
	}
	for _, target := range []string{"/big.txt", "/big.bin", "/big.noext"} {
		for _, method := range []string{"GET", "HEAD"} {
			for _, hdr := range []map[string]string{nil, {"Range": "bytes=1-2"}, {"If-Modified-Since": fixedTime.Format(http.TimeFormat)}} {
				t.Run(fmt.Sprint(method, target, hdr), func(t *testing.T) {
					want, got := get(t, ref.URL, method, target, hdr), get(t, srv.URL, method, target, hdr)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("response differs from http.ServeContent's (-ServeContent +handler):\n%s", diff)
					}
					if method == "GET" && hdr == nil && got.Body != string(big) {
						t.Errorf("body of %d bytes, want the file's %d", len(got.Body), len(big))
					}
				})
			}
		}
	}
}
