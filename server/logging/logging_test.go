package logging

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestNew(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, false)
	l.Debug("hidden")
	l.Info("shown", "k", "v")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("release log is not one JSON object: %v: %q", err, buf.String())
	}
	if diff := cmp.Diff(map[string]any{"level": "INFO", "msg": "shown", "k": "v"}, rec, cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "time" })); diff != "" {
		t.Errorf("release record mismatch (-want +got):\n%s", diff)
	}

	buf.Reset()
	New(&buf, true).Debug("dbg")
	if !strings.Contains(buf.String(), "level=DEBUG msg=dbg") {
		t.Errorf("debug log = %q, want a text DEBUG line", buf.String())
	}
}

func TestRequests(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := Requests(logger)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/teapot" {
			w.WriteHeader(http.StatusTeapot)
		}
		_, _ = io.WriteString(w, "hello")
	}))
	tests := []struct {
		path string
		want map[string]any
	}{
		{"/x", map[string]any{"level": "DEBUG", "msg": "request", "method": "GET", "path": "/x", "status": 200.0, "bytes": 5.0}},
		{"/teapot", map[string]any{"level": "DEBUG", "msg": "request", "method": "GET", "path": "/teapot", "status": 418.0, "bytes": 5.0}},
	}
	for _, tt := range tests {
		buf.Reset()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tt.path, nil))
		var rec map[string]any
		if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
			t.Fatalf("%s: %v: %q", tt.path, err, buf.String())
		}
		if _, ok := rec["duration"]; !ok {
			t.Errorf("%s: no duration in %v", tt.path, rec)
		}
		ignore := cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "time" || k == "duration" || k == "remote" })
		if diff := cmp.Diff(tt.want, rec, ignore); diff != "" {
			t.Errorf("%s: record mismatch (-want +got):\n%s", tt.path, diff)
		}
	}
}
