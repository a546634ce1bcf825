package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cat-server/cat-server/tools/sbom/vulndbtest"
)

func TestBadInvocations(t *testing.T) {
	dir := t.TempDir()
	notBOM := filepath.Join(dir, "x.json")
	if err := os.WriteFile(notBOM, []byte(`{"spdxVersion":"SPDX-2.3"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := vulndbtest.Write(filepath.Join(dir, "db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	db = strings.TrimPrefix(db, "file://")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	notFound := srv.URL
	tests := []struct {
		args []string
		env  string
		want string
	}{
		{nil, "", "--image is required"},
		{[]string{"--image", dir}, "", "--sbom is required"},
		{[]string{"--image", dir, "--sbom", notBOM}, "", "no vulnerability database: set GOVULNDB"},
		{[]string{"--image", dir, "--sbom", notBOM}, "ftp://x", `GOVULNDB / --db "ftp://x"`},
		{[]string{"--image", dir, "--sbom", notBOM, "--timeout", "0s"}, "file:///x", "--timeout 0s: must be > 0"},
		{[]string{"--image", dir, "--sbom", notBOM}, "file:///nonexistent", "GOVULNDB file:///nonexistent is not a Go vulnerability database mirror"},
		{[]string{"--image", dir, "--sbom", notBOM}, "file:///tmp/no-such-vulndb", "; note: Bazel's test sandbox gives each test a private, empty /tmp, so a database under the host's /tmp is not visible to `bazel test`: keep it outside /tmp"},
		{[]string{"--image", dir, "--sbom", notBOM}, "file://" + db, "not a CycloneDX BOM"},
		{[]string{"--image", dir, "--sbom", notBOM}, "http://" + closed, "GOVULNDB http://" + closed + ": cannot reach the database"},
		{[]string{"--image", dir, "--sbom", notBOM}, notFound, "HTTP 404: not a Go vulnerability database"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv("GOVULNDB", tt.env)
			err := run(tt.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
