package health

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChecker(t *testing.T) {
	type result struct {
		Status int
		Allow  string
		CType  string
		Body   string
	}
	tests := []struct {
		name         string
		method       string
		shuttingDown bool
		want         result
	}{
		{"get ok", http.MethodGet, false, result{200, "", "application/json", `{"status":"ok"}` + "\n"}},
		{"head ok", http.MethodHead, false, result{200, "", "application/json", `{"status":"ok"}` + "\n"}},
		{"shutting down", http.MethodGet, true, result{503, "", "application/json", `{"status":"shutting down"}` + "\n"}},
		{"post", http.MethodPost, false, result{405, "GET, HEAD", "text/plain; charset=utf-8", "method not allowed\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New()
			if tt.shuttingDown {
				c.SetShuttingDown()
			}
			rec := httptest.NewRecorder()
			c.ServeHTTP(rec, httptest.NewRequest(tt.method, "/healthz", nil))
			got := result{rec.Code, rec.Header().Get("Allow"), rec.Header().Get("Content-Type"), rec.Body.String()}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckerProbe(t *testing.T) {
	var probeErr error
	c := NewWithProbe(func() error { return probeErr })
	for _, tt := range []struct {
		err    error
		status int
		body   string
	}{
		{nil, 200, `{"status":"ok"}` + "\n"},
		{errors.New("served directory was removed"), 503, `{"error":"served directory was removed","status":"unhealthy"}` + "\n"},
	} {
		probeErr = tt.err
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		if rec.Code != tt.status || rec.Body.String() != tt.body {
			t.Errorf("probe error %v: %d %q, want %d %q", tt.err, rec.Code, rec.Body.String(), tt.status, tt.body)
		}
	}
}
