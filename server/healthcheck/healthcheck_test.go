package healthcheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	serve := func(status int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/healthz" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(status)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/healthz"
	}
	closedPort := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		return URL(port)
	}
	tests := []struct {
		name    string
		url     string
		wantErr string // "" means success
	}{
		{"healthy", serve(http.StatusOK), ""},
		{"shutting down", serve(http.StatusServiceUnavailable), "unhealthy status 503 Service Unavailable"},
		{"redirect not followed", serve(http.StatusFound), "unhealthy status 302 Found"},
		{"closed port", closedPort(), "connect: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(context.Background(), tt.url)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Check = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Check = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestURL(t *testing.T) {
	if got, want := URL(8080), "http://127.0.0.1:8080/healthz"; got != want {
		t.Errorf("URL(8080) = %q, want %q", got, want)
	}
}
