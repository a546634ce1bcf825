// Package app wires cat-server together: the chi router, the http.Server
// with its timeouts, and the run loop with graceful shutdown.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cat-server/cat-server/server/config"
	"github.com/cat-server/cat-server/server/files"
	"github.com/cat-server/cat-server/server/health"
	"github.com/cat-server/cat-server/server/logging"
)

// Server timeouts. There is deliberately no WriteTimeout: it would bound
// the whole response, cutting off large downloads to slow clients. Slow
// or stalled readers are instead bounded by the kernel's TCP timeouts,
// and idle keep-alive connections by IdleTimeout.
const (
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading the whole request; GET and HEAD have no
	// meaningful body.
	ReadTimeout = 30 * time.Second
	IdleTimeout = 120 * time.Second
)

// NewRouter returns the HTTP handler: GET/HEAD /healthz served by hc and
// everything else served from root. In debug mode every request is logged
// at debug level.
func NewRouter(root *os.Root, hc *health.Checker, logger *slog.Logger, debug bool) http.Handler {
	r := chi.NewRouter()
	if debug {
		r.Use(logging.Requests(logger))
	}
	// Handle (not Get) so that the handlers themselves answer other
	// methods with 405 and "Allow: GET, HEAD".
	r.Handle("/healthz", hc)
	r.Handle("/*", files.New(root, logger))
	return r
}

// Run serves cfg.Root on ln until ctx is done, then shuts down gracefully:
// it stops accepting connections, makes /healthz answer 503, and waits up
// to cfg.ShutdownGrace for in-flight requests. It returns nil after a clean
// shutdown, and an error if serving fails or the grace period is exceeded
// (remaining connections are then closed forcibly). Run closes ln.
func Run(ctx context.Context, cfg config.Config, ln net.Listener, logger *slog.Logger) error {
	return run(ctx, cfg, ln, logger, nil)
}

// run is Run with an optional wrapper around the router, used by tests to
// hold requests in flight.
func run(ctx context.Context, cfg config.Config, ln net.Listener, logger *slog.Logger, wrap func(http.Handler) http.Handler) error {
	root, err := os.OpenRoot(cfg.Root)
	if err != nil {
		ln.Close()
		return fmt.Errorf("open root %q: %w", cfg.Root, err)
	}
	defer root.Close()

	hc := health.New()
	var handler http.Handler = NewRouter(root, hc, logger, cfg.Mode == config.ModeDebug)
	if wrap != nil {
		handler = wrap(handler)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		IdleTimeout:       IdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("cat-server started",
		"addr", ln.Addr().String(), "port", cfg.Port, "root", cfg.Root,
		"mode", string(cfg.Mode), "shutdownGrace", cfg.ShutdownGrace.String())

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	logger.Info("shutting down", "reason", context.Cause(ctx).Error(), "grace", cfg.ShutdownGrace.String())
	hc.SetShuttingDown()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		closeErr := srv.Close()
		<-serveErr
		return fmt.Errorf("graceful shutdown did not finish within %s, closed remaining connections: %w", cfg.ShutdownGrace, errors.Join(err, closeErr))
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("cat-server stopped")
	return nil
}
