//go:build unix

package app

// Attacks from issue 9, each against the real server (run), asserting its
// bound: RSS or open fds from /proc/self, time to disconnect, status and
// headers. Loops and times are bounded so that they suit bazel test.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"context"

	"github.com/google/go-cmp/cmp"

	"github.com/cat-server/cat-server/server/config"
	"github.com/cat-server/cat-server/server/files"
	"github.com/cat-server/cat-server/server/internal/rawhttp"
)

// rssBytes returns this process's resident set size.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// openFDs returns how many file descriptors this process has open.
func openFDs(t *testing.T) int {
	t.Helper()
	des, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(des)
}

// waitFDs waits until openFDs() == want, failing after limit. It returns
// how long that took.
func waitFDs(t *testing.T, want int, limit time.Duration) time.Duration {
	t.Helper()
	startAt := time.Now()
	for {
		got := openFDs(t)
		if got == want {
			return time.Since(startAt)
		}
		if time.Since(startAt) > limit {
			t.Fatalf("open fds = %d after %s, want %d", got, limit, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fdsTo returns how many of this process's fds are open on path.
func fdsTo(t *testing.T, path string) int {
	t.Helper()
	des, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, de := range des {
		if target, err := os.Readlink("/proc/self/fd/" + de.Name()); err == nil && target == path {
			n++
		}
	}
	return n
}

// waitFDsTo waits until fdsTo(path) == want, failing after limit. It
// returns how long that took.
func waitFDsTo(t *testing.T, path string, want int, limit time.Duration) time.Duration {
	t.Helper()
	startAt := time.Now()
	for {
		got := fdsTo(t, path)
		if got == want {
			return time.Since(startAt)
		}
		if time.Since(startAt) > limit {
			t.Fatalf("%d fds open on %s after %s, want %d", got, path, limit, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func statusLine(c net.Conn) string {
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(line)
}

// TestHeaderBomb: 50 connections each sending a 1 MB header that never
// ends. With Go's default 1 MB MaxHeaderBytes this took RSS past 100 MB.
func TestHeaderBomb(t *testing.T) {
	s := startWith(t, options{})
	const conns = 50
	payload := []byte("GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Bomb: " + strings.Repeat("a", 1<<20))
	runtime.GC()
	before := rssBytes(t)
	lines := make([]string, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", s.addr, waitLimit)
			if err != nil {
				lines[i] = "dial: " + err.Error()
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(waitLimit))
			_, _ = c.Write(payload) // fails once the server hangs up
			lines[i] = statusLine(c)
		})
	}
	wg.Wait()
	grown := rssBytes(t) - before
	for i, l := range lines {
		// The server answers 431 and hangs up; a client still writing may
		// see the reset before the answer.
		if l != "HTTP/1.1 431 Request Header Fields Too Large" && !strings.Contains(l, "reset") && !strings.Contains(l, "broken pipe") {
			t.Errorf("connection %d: %q, want 431 or a reset", i, l)
		}
	}
	if grown > 24<<20 {
		t.Errorf("RSS grew by %d MB for %d 1 MB headers, want < 24 MB", grown>>20, conns)
	}
	t.Logf("RSS grew by %.1f MB", float64(grown)/(1<<20))
	if st, _, _, err := fetch("GET", "http://"+s.addr+"/healthz", nil); err != nil || st != 200 {
		t.Errorf("healthz after the attack = %d, %v", st, err)
	}
}

// TestConnectionLimitSlowloris: connections that never finish their
// request cannot lock out a normal client: a new connection takes the
// place of the oldest one that is not serving a request.
func TestConnectionLimitSlowloris(t *testing.T) {
	const maxConns = 4
	s := startWith(t, options{edit: func(c *config.Config) { c.MaxConns = maxConns }})
	baseline := openFDs(t)
	for range 20 {
		c, err := net.DialTimeout("tcp", s.addr, waitLimit)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /hello.txt HTTP/1.1\r\nHost: x\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	// 20 client fds, and at most maxConns on the server's side (2 spare
	// for the runtime's own); without the limit it would be 40.
	time.Sleep(200 * time.Millisecond)
	if got := openFDs(t) - baseline; got > 20+maxConns+2 {
		t.Errorf("%d fds for 20 slowloris connections, want at most %d", got, 20+maxConns+2)
	}
	for range 5 {
		st, _, body, err := fetch("GET", "http://"+s.addr+"/hello.txt", nil)
		if err != nil || st != 200 || body != "hello" {
			t.Fatalf("normal client during slowloris: %d %q %v", st, body, err)
		}
	}
}

// TestConnectionLimitBusy: with every place serving a request, more
// connections are answered 503 and closed at once, hold no fd, and a freed
// place is usable again.
func TestConnectionLimitBusy(t *testing.T) {
	const maxConns = 4
	entered, release := make(chan struct{}, maxConns), make(chan struct{})
	s := startWith(t, options{edit: func(c *config.Config) { c.MaxConns = maxConns }, wrap: holdWrapper(entered, release)})
	var replies []<-chan reply
	for range maxConns {
		replies = append(replies, startHeld(t, s.addr, entered))
	}
	baseline := openFDs(t)
	for i := range 50 {
		c, err := net.DialTimeout("tcp", s.addr, waitLimit)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(waitLimit))
		if got, want := statusLine(c), "HTTP/1.1 503 Service Unavailable"; got != want {
			t.Fatalf("connection %d over the limit: %q, want %q", i, got, want)
		}
		c.Close()
	}
	waitFDs(t, baseline, waitLimit)
	close(release)
	for _, r := range replies {
		if got := <-r; got.err != nil || got.status != 200 {
			t.Errorf("held request: %d %v", got.status, got.err)
		}
	}
	if st, _, body, err := fetch("GET", "http://"+s.addr+"/hello.txt", nil); err != nil || st != 200 || body != "hello" {
		t.Errorf("after the held requests: %d %q %v", st, body, err)
	}
}

// smallSendBuffers fixes the send buffer of accepted connections, so a
// reader that stops stalls the server after a few KB instead of after the
// megabytes of loopback autotuning.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(32 << 10)
	}
	return c, err
}

// dialSmallWindow dials addr with a 16 KB receive buffer.
func dialSmallWindow(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: waitLimit, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func bigFile(size int64) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		if err := os.WriteFile(filepath.Join(dir, "big.bin"), []byte(strings.Repeat("x", int(size))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStalledReaderCut: a client that requests a large file and stops
// reading loses its connection (and the server its fds) about one send
// timeout after its buffers are full; a graceful shutdown afterwards is
// clean.
func TestStalledReaderCut(t *testing.T) {
	const size = 8 << 20
	sendTimeout := time.Second
	s := startWith(t, options{
		edit:   func(c *config.Config) { c.SendTimeout = sendTimeout },
		setup:  bigFile(size),
		wrapLn: func(ln net.Listener) net.Listener { return smallSendBuffers{ln} },
	})
	c := dialSmallWindow(t, s.addr)
	if _, err := io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// The server holds big.bin open while it serves it.
	big := filepath.Join(s.dir, "big.bin")
	waitFDsTo(t, big, 1, waitLimit)
	took := waitFDsTo(t, big, 0, 5*sendTimeout)
	if took < sendTimeout/4 {
		t.Errorf("cut after %s, before the %s send timeout", took, sendTimeout)
	}
	_ = c.SetReadDeadline(time.Now().Add(waitLimit))
	n, err := io.Copy(io.Discard, c)
	if n >= size {
		t.Errorf("stalled reader still got %d bytes (%v), want the connection cut short", n, err)
	}
	t.Logf("cut %s after the buffers filled; the client got %d bytes", took, n)
	s.cancel()
	if err := s.wait(t); err != nil {
		t.Errorf("Run after cutting the stalled reader = %v, want a clean shutdown", err)
	}
}

// TestSlowReaderCompletes: a client reading steadily but slowly gets the
// whole file, taking several send timeouts.
func TestSlowReaderCompletes(t *testing.T) {
	const size = 1 << 20
	sendTimeout := time.Second
	s := startWith(t, options{
		edit:   func(c *config.Config) { c.SendTimeout = sendTimeout },
		setup:  bigFile(size),
		wrapLn: func(ln net.Listener) net.Listener { return smallSendBuffers{ln} },
	})
	c := dialSmallWindow(t, s.addr)
	if _, err := io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	startAt := time.Now()
	br := bufio.NewReaderSize(c, 32<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got int64
	buf := make([]byte, 32<<10)
	for {
		n, err := io.ReadFull(resp.Body, buf) // 32 KB per 100 ms: 320 KB/s
		got += int64(n)
		if err != nil {
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				t.Fatalf("slow reader cut after %d bytes, %s: %v", got, time.Since(startAt), err)
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(startAt)
	if got != size {
		t.Errorf("slow reader got %d bytes, want %d", got, size)
	}
	if took < 2*sendTimeout {
		t.Errorf("download took %s, want it to outlast the send timeout (%s) to prove anything", took, sendTimeout)
	}
	t.Logf("slow reader got %d bytes in %s", got, took)
}

// TestMethods: every method but GET and HEAD, chi-known or not, gets 405
// with "Allow: GET, HEAD", on every path.
func TestMethods(t *testing.T) {
	s := startWith(t, options{})
	type result struct {
		Status int
		Allow  string
	}
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "MKCOL", "LOCK", "FOO"} {
		for _, target := range []string{"/", "/hello.txt", "/healthz", "/missing", "/.hidden"} {
			req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", method, target)
			r := rawhttp.Do(t, s.addr, req, waitLimit)
			if diff := cmp.Diff(result{405, "GET, HEAD"}, result{r.Status, r.Header.Get("Allow")}); diff != "" {
				t.Errorf("%s %s (-want +got):\n%s", method, target, diff)
			}
		}
	}
	r := rawhttp.Do(t, s.addr, "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", time.Second)
	if r.Status != 405 || r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("CONNECT = %d, Allow %q; want 405, GET, HEAD", r.Status, r.Header.Get("Allow"))
	}
}

// TestBodyClosesConnection: a request with both Content-Length and
// Transfer-Encoding is answered, then the connection is closed, so the
// request smuggled after it is never read.
func TestBodyClosesConnection(t *testing.T) {
	s := startWith(t, options{})
	type result struct {
		Status int
		Body   string
		Closed bool
	}
	tests := []struct {
		name, req string
		want      result
	}{
		{"CL and TE", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
			result{200, "hello", true}},
		{"TE only", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", result{200, "hello", true}},
		{"no body keeps the connection", "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", result{200, "hello", false}},
	}
	for _, tt := range tests {
		r := rawhttp.Do(t, s.addr, tt.req, 300*time.Millisecond)
		if diff := cmp.Diff(tt.want, result{r.Status, r.Body, r.Closed}); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestHealthzRootGone: /healthz answers 503 once the served directory is
// removed, even if one of the same name comes back.
func TestHealthzRootGone(t *testing.T) {
	s := startWith(t, options{})
	if st, _, _, err := fetch("GET", "http://"+s.addr+"/healthz", nil); err != nil || st != 200 {
		t.Fatalf("healthz = %d, %v; want 200", st, err)
	}
	if err := os.RemoveAll(s.dir); err != nil {
		t.Fatal(err)
	}
	st, _, body, err := fetch("GET", "http://"+s.addr+"/healthz", nil)
	if err != nil || st != 503 || !strings.Contains(body, "unhealthy") {
		t.Errorf("healthz after removing the root = %d %q, %v; want 503 unhealthy", st, body, err)
	}
	if err := os.Mkdir(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if st, _, _, _ := fetch("GET", "http://"+s.addr+"/healthz", nil); st != 503 {
		t.Errorf("healthz after re-creating the root = %d, want 503 (the server still holds the old one)", st)
	}
}

// TestSecondSignalCutsGrace: once shutdown has begun, force (the second
// signal) closes what is left at once instead of after the grace period.
func TestSecondSignalCutsGrace(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	force, forceNow := context.WithCancel(context.Background())
	defer forceNow()
	s := startWith(t, options{
		edit:  func(c *config.Config) { c.ShutdownGrace = time.Hour },
		wrap:  holdWrapper(entered, release),
		force: force,
	})
	startHeld(t, s.addr, entered)
	s.cancel()
	waitRefused(t, s.addr)
	forceNow()
	err := s.wait(t)
	if err == nil || !strings.Contains(err.Error(), "shutdown cut short by a second signal") {
		t.Errorf("Run = %v, want the cut-short error", err)
	}
}

// TestRangeAttacks: many tiny parts and overlapping large parts are served
// whole, so the bytes sent never exceed the file's size.
func TestRangeAttacks(t *testing.T) {
	const size = 1024
	s := startWith(t, options{setup: bigFile(size)})
	tiny := make([]string, 200)
	for i := range tiny {
		tiny[i] = fmt.Sprintf("%d-%d", 2*i, 2*i)
	}
	overlapping := strings.Repeat("0-1023,", 100) + "0-1023"
	type result struct {
		Status int
		Bytes  int
	}
	tests := []struct {
		name, rng string
		want      result
	}{
		{"one part", "bytes=0-9", result{206, 10}},
		{"two parts", "bytes=0-9,20-29", result{206, -1}}, // multipart: headers included
		{"200 tiny parts", "bytes=" + strings.Join(tiny, ","), result{200, size}},
		{"overlapping large parts", "bytes=" + overlapping, result{200, size}},
		{"two overlapping parts", "bytes=0-600,500-1023", result{200, size}},
	}
	for _, tt := range tests {
		st, _, body, err := fetch("GET", "http://"+s.addr+"/big.bin", http.Header{"Range": {tt.rng}})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := result{st, len(body)}
		if tt.want.Bytes < 0 {
			if len(body) > 2*size {
				t.Errorf("%s: %d bytes for 20 asked", tt.name, len(body))
			}
			got.Bytes = -1
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	// 200,000 parts do not fit in the header limit.
	huge := "bytes=" + strings.Repeat("0-0,", 200000) + "0-0"
	r := rawhttp.Do(t, s.addr, "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: "+huge+"\r\n\r\n", waitLimit)
	if r.Status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("200,000 parts: status %d, want 431", r.Status)
	}
}

// TestListingBounded: four concurrent listings of a directory with more
// entries than the limit each show the first MaxListingEntries, say so, and
// memory stays bounded.
func TestListingBounded(t *testing.T) {
	const n, limit = 2500, 1000
	s := startWith(t, options{edit: func(c *config.Config) { c.MaxListingEntries = limit }, setup: func(t *testing.T, dir string) {
		big := filepath.Join(dir, "big")
		if err := os.Mkdir(big, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			f, err := os.Create(filepath.Join(big, fmt.Sprintf("entry-with-a-longish-name-%06d.txt", i)))
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}})
	runtime.GC()
	before := rssBytes(t)
	startAt := time.Now()
	defer func() { t.Logf("listings took %s", time.Since(startAt)) }()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			st, h, body, err := fetch("GET", "http://"+s.addr+"/big/", http.Header{"Accept": {"application/json"}})
			if err != nil {
				errs[i] = err
				return
			}
			var entries []files.Entry
			if err := json.Unmarshal([]byte(body), &entries); err != nil {
				errs[i] = err
				return
			}
			want := strconv.Itoa(limit)
			if st != 200 || len(entries) != limit || h.Get(files.TruncatedHeader) != want {
				errs[i] = fmt.Errorf("status %d, %d entries, %s %q; want 200, %s entries and %s", st, len(entries), files.TruncatedHeader, h.Get(files.TruncatedHeader), want, want)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	grown := rssBytes(t) - before
	if grown > 24<<20 {
		t.Errorf("RSS grew by %d MB for 4 listings, want < 24 MB", grown>>20)
	}
	t.Logf("RSS grew by %.1f MB", float64(grown)/(1<<20))
	st, h, body, err := fetch("HEAD", "http://"+s.addr+"/big/", nil)
	if err != nil || st != 200 || body != "" || h.Get(files.TruncatedHeader) != "" {
		t.Errorf("HEAD listing = %d %q %v, truncated %q; want 200, no body, not rendered", st, body, err, h.Get(files.TruncatedHeader))
	}
}

// TestShutdownCutsStalledReader: a client that stopped reading before the
// shutdown, with the send timeout far longer than the grace, is cut within
// the grace, and the shutdown is clean (exit 0).
func TestShutdownCutsStalledReader(t *testing.T) {
	const grace = 2 * time.Second
	s := startWith(t, options{
		edit: func(c *config.Config) {
			c.SendTimeout, c.ShutdownGrace = time.Hour, grace
		},
		setup:  bigFile(8 << 20),
		wrapLn: func(ln net.Listener) net.Listener { return smallSendBuffers{ln} },
	})
	c := dialSmallWindow(t, s.addr)
	if _, err := io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitFDsTo(t, filepath.Join(s.dir, "big.bin"), 1, waitLimit)
	time.Sleep(200 * time.Millisecond) // buffers full, the write stalled
	startAt := time.Now()
	s.cancel()
	if err := s.wait(t); err != nil {
		t.Errorf("Run = %v, want a clean shutdown", err)
	}
	if took := time.Since(startAt); took >= grace {
		t.Errorf("shutdown took %s, want under the %s grace", took, grace)
	}
}
