package registrytest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fatalRecorder stands in for the test given to Start: it records the
// failure and ends Start's goroutine, as t.Fatal would.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// startFailure runs Start and returns how it failed ("" if it did not).
func startFailure(t *testing.T) string {
	f := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(f)
	}()
	<-done
	return f.msg
}

// fakeRegistry puts a docker-registry shell script first on PATH.
func fakeRegistry(t *testing.T, script string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "docker-registry"), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// Start fails, and says why, when the registry is missing, dies, or never
// answers within its start timeout (the sleeping fake would exit after 30 s
// and be reported as "exited": "within 300ms" shows the timeout cut it off).
func TestStartFailsLoudly(t *testing.T) {
	Need(t, "htpasswd", "apache2-utils") // the fakes below replace only docker-registry
	defer func(d time.Duration) { startTimeout = d }(startTimeout)
	startTimeout = 300 * time.Millisecond

	for _, tc := range []struct {
		name  string
		setup func(t *testing.T)
		want  []string
	}{
		{"package missing", func(t *testing.T) { t.Setenv("PATH", t.TempDir()) },
			[]string{"needs docker-registry from Debian's docker-registry package", "tools/provision/install-test-deps.sh", "--test_tag_filters=-requires-registry"}},
		{"registry exits", func(t *testing.T) { fakeRegistry(t, `echo "configuration error: boom" >&2; exit 1`) },
			[]string{"docker-registry did not start", "docker-registry exited", "configuration error: boom"}},
		{"registry never answers", func(t *testing.T) { fakeRegistry(t, "exec sleep 30") },
			[]string{"docker-registry did not start", "within 300ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup(t)
			msg := startFailure(t)
			if msg == "" {
				t.Fatal("Start succeeded")
			}
			t.Logf("Start failed as expected: %s", msg)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Start failed without saying %q:\n%s", w, msg)
				}
			}
		})
	}
}
