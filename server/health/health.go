// Package health provides the /healthz handler.
package health

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
)

// Checker answers health probes. The zero value is ready to use and
// reports healthy until SetShuttingDown is called.
type Checker struct {
	shuttingDown atomic.Bool
	probe        func() error
}

// New returns a Checker that reports healthy.
func New() *Checker { return &Checker{} }

// NewWithProbe returns a Checker that also runs probe on every request
// and reports unhealthy (503) while it fails, e.g. when the served
// directory is gone.
func NewWithProbe(probe func() error) *Checker { return &Checker{probe: probe} }

// SetShuttingDown makes subsequent probes answer 503.
func (c *Checker) SetShuttingDown() { c.shuttingDown.Store(true) }

// ServeHTTP answers GET and HEAD with 200 {"status":"ok"} while serving and
// 503 {"status":"shutting down"} after SetShuttingDown. Other methods get
// 405 with an Allow header.
func (c *Checker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	status, body := http.StatusOK, `{"status":"ok"}`+"\n"
	if c.shuttingDown.Load() {
		status, body = http.StatusServiceUnavailable, `{"status":"shutting down"}`+"\n"
	} else if c.probe != nil {
		if err := c.probe(); err != nil {
			b, _ := json.Marshal(map[string]string{"status": "unhealthy", "error": err.Error()})
			status, body = http.StatusServiceUnavailable, string(b)+"\n"
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
