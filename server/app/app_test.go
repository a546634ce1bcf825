package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cat-server/cat-server/server/config"
	"github.com/cat-server/cat-server/server/internal/rawhttp"
)

const waitLimit = 10 * time.Second

// syncBuffer is a bytes.Buffer safe for concurrent writes by the server.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type started struct {
	addr   string
	dir    string // the served root
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

// start runs the server on 127.0.0.1:0 over a temp root containing
// hello.txt, with a secret file next to (outside) the root.
func start(t *testing.T, mode config.Mode, grace time.Duration, wrap func(http.Handler) http.Handler) started {
	t.Helper()
	return startWith(t, options{edit: func(c *config.Config) { c.Mode, c.ShutdownGrace = mode, grace }, wrap: wrap})
}

// options adjust startWith's server.
type options struct {
	edit   func(*config.Config)            // changes the default config
	setup  func(t *testing.T, dir string)  // adds to the root
	wrapLn func(net.Listener) net.Listener // wraps the listener
	wrap   func(http.Handler) http.Handler // wraps the router
	force  context.Context                 // see WithForce
}

// startWith is start with default limits changed by o.
func startWith(t *testing.T, o options) started {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "root")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "secret"), []byte("OUTSIDE-SECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	if o.setup != nil {
		o.setup(t, dir)
	}
	var ln net.Listener
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults(dir)
	cfg.Port = ln.Addr().(*net.TCPAddr).Port
	cfg.ShutdownGrace = 5 * time.Second
	if o.edit != nil {
		o.edit(&cfg)
	}
	if o.wrapLn != nil {
		ln = o.wrapLn(ln)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	if o.force != nil {
		ctx = WithForce(ctx, o.force)
	}
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, ln, logger, o.wrap) }()
	s := started{addr: ln.Addr().String(), dir: dir, cancel: cancel, done: done, logs: logs}
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitLimit):
			t.Error("Run did not return after cancel")
		}
	})
	return s
}

// wait returns Run's result, failing the test if it takes unreasonably long.
func (s started) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // keep it for Cleanup
		return err
	case <-time.After(waitLimit):
		t.Fatal("Run did not return")
		return nil
	}
}

var client = &http.Client{Timeout: waitLimit, Transport: &http.Transport{DisableKeepAlives: true}}

// fetch sends one request; it does not use testing.T so that it can run in
// goroutines that may outlive a failing test.
func fetch(method, url string, header http.Header) (int, http.Header, string, error) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return 0, nil, "", err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body), err
}

func TestRunServes(t *testing.T) {
	s := start(t, config.ModeRelease, 5*time.Second, nil)
	base := "http://" + s.addr
	type result struct {
		Status int
		Allow  string
		Body   string
	}
	tests := []struct {
		method, path string
		want         result
	}{
		{"GET", "/healthz", result{200, "", `{"status":"ok"}` + "\n"}},
		{"HEAD", "/healthz", result{200, "", ""}},
		{"POST", "/healthz", result{405, "GET, HEAD", "method not allowed\n"}},
		{"PUT", "/hello.txt", result{405, "GET, HEAD", "method not allowed\n"}},
		{"GET", "/hello.txt", result{200, "", "hello"}},
		{"GET", "/missing", result{404, "", "404 page not found\n"}},
		{"GET", "/healthz/", result{404, "", "404 page not found\n"}},
	}
	for _, tt := range tests {
		status, h, body, err := fetch(tt.method, base+tt.path, nil)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		if diff := cmp.Diff(tt.want, result{status, h.Get("Allow"), body}); diff != "" {
			t.Errorf("%s %s mismatch (-want +got):\n%s", tt.method, tt.path, diff)
		}
		// Date comes from httpdate's cached second: one value, the current time.
		if dates := h.Values("Date"); len(dates) != 1 {
			t.Errorf("%s %s: Date headers %q, want one", tt.method, tt.path, dates)
		} else if d, err := http.ParseTime(dates[0]); err != nil || time.Since(d).Abs() > 2*time.Second {
			t.Errorf("%s %s: Date %q (%v) is not the current time", tt.method, tt.path, dates[0], err)
		}
	}

	// Traversal through the full router, sent verbatim on the wire.
	for _, target := range []string{"/../secret", "/%2e%2e/secret", "/..%2fsecret", "/%252e%252e/secret", "//secret", `/..\secret`} {
		status, body := rawhttp.Get(t, s.addr, target, waitLimit)
		if status == http.StatusOK || strings.Contains(body, "OUTSIDE-SECRET") {
			t.Errorf("GET %s: status %d, body %q", target, status, body)
		}
	}

	s.cancel()
	if err := s.wait(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}

	// Release mode: JSON lines, start-up line with port, root and mode,
	// and no per-request lines.
	var msgs []string
	sc := bufio.NewScanner(strings.NewReader(s.logs.String()))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		msgs = append(msgs, rec["msg"].(string))
		if rec["msg"] == "cat-server started" {
			for _, k := range []string{"port", "root", "mode", "addr"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("start-up line lacks %q: %s", k, sc.Text())
				}
			}
		}
	}
	if diff := cmp.Diff([]string{"cat-server started", "shutting down", "cat-server stopped"}, msgs); diff != "" {
		t.Errorf("log messages mismatch (-want +got):\n%s", diff)
	}
}

func TestDebugModeLogsRequests(t *testing.T) {
	s := start(t, config.ModeDebug, 5*time.Second, nil)
	if _, _, _, err := fetch("GET", "http://"+s.addr+"/hello.txt", nil); err != nil {
		t.Fatal(err)
	}
	s.cancel()
	if err := s.wait(t); err != nil {
		t.Fatal(err)
	}
	logs := s.logs.String()
	for _, want := range []string{`"msg":"request"`, `"method":"GET"`, `"path":"/hello.txt"`, `"status":200`, `"bytes":5`, `"duration":`} {
		if !strings.Contains(logs, want) {
			t.Errorf("debug logs lack %s:\n%s", want, logs)
		}
	}
}

// holdWrapper holds requests carrying the X-Test-Hold header until release
// is closed, signalling on entered when one arrives.
func holdWrapper(entered chan<- struct{}, release <-chan struct{}) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Test-Hold") != "" {
				entered <- struct{}{}
				<-release
			}
			next.ServeHTTP(w, r)
		})
	}
}

type reply struct {
	status int
	body   string
	err    error
}

// startHeld sends a GET /hello.txt to addr that holdWrapper holds, waits
// until it has reached the server (signalled on entered) and returns the
// channel its reply will arrive on.
func startHeld(t *testing.T, addr string, entered <-chan struct{}) <-chan reply {
	t.Helper()
	replies := make(chan reply, 1)
	go func() {
		status, _, body, err := fetch("GET", "http://"+addr+"/hello.txt", http.Header{"X-Test-Hold": {"1"}})
		replies <- reply{status, body, err}
	}()
	select {
	case <-entered:
	case <-time.After(waitLimit):
		t.Fatal("held request never reached the server")
	}
	return replies
}

func TestGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	s := start(t, config.ModeRelease, waitLimit, holdWrapper(entered, release))

	replies := startHeld(t, s.addr, entered)

	s.cancel()
	// New connections are refused once shutdown has closed the listener.
	waitRefused(t, s.addr)
	select {
	case err := <-s.done:
		t.Fatalf("Run returned %v while a request was in flight", err)
	default:
	}

	close(release)
	select {
	case r := <-replies:
		if r.err != nil || r.status != http.StatusOK || r.body != "hello" {
			t.Errorf("in-flight request = (%d, %q, %v), want (200, \"hello\", nil)", r.status, r.body, r.err)
		}
	case <-time.After(waitLimit):
		t.Fatal("in-flight request did not complete")
	}
	if err := s.wait(t); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

func TestShutdownGraceExceeded(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	s := start(t, config.ModeRelease, 50*time.Millisecond, holdWrapper(entered, release))

	startHeld(t, s.addr, entered)
	s.cancel()
	err := s.wait(t)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "graceful shutdown did not finish within 50ms") {
		t.Errorf("Run = %v, want grace-period error wrapping context.DeadlineExceeded", err)
	}
}

func TestRunBadRoot(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{Root: filepath.Join(t.TempDir(), "missing"), Port: 1, Mode: config.ModeRelease, ShutdownGrace: time.Second}
	err = Run(context.Background(), cfg, ln, slog.New(slog.DiscardHandler))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Run = %v, want error wrapping os.ErrNotExist", err)
	}
}

// waitRefused dials addr until the connection is refused.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s still accepts connections after shutdown began", addr)
}
