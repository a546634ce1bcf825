// Package healthcheck implements the client side of "cat-server
// healthcheck": one GET of the local /healthz endpoint, so a container
// HEALTHCHECK needs no shell, curl or wget.
package healthcheck

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Timeout bounds the whole probe: connect, request and response.
const Timeout = 2 * time.Second

// URL returns the health endpoint of a server listening on port on the
// loopback interface.
func URL(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
}

// Check GETs url and returns nil if and only if the answer is 200 OK
// within Timeout. Proxies from the environment and redirects are ignored.
func Check(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request for %s: %w", url, err)
	}
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("health probe: %w", err) // err names method and URL
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: unhealthy status %s", url, resp.Status)
	}
	return nil
}
