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
	"github.com/cat-server/cat-server/server/httpdate"
	"github.com/cat-server/cat-server/server/limits"
	"github.com/cat-server/cat-server/server/logging"
)

// Server timeouts. There is deliberately no WriteTimeout: it would bound
// the whole response, cutting off large downloads to slow clients. Stalled
// readers are instead cut by the send timeout (config.Config.SendTimeout),
// a deadline on the progress of each write (see package limits), and idle
// keep-alive connections by IdleTimeout.
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
	return newRouter(hc, files.New(root, logger), logger, debug)
}

func newRouter(hc *health.Checker, fh *files.Handler, logger *slog.Logger, debug bool) http.Handler {
	r := chi.NewRouter()
	if debug {
		r.Use(logging.Requests(logger))
	}
	r.Use(closeIfBody, onlyGetHead)
	// chi answers methods it does not know (PROPFIND, FOO) itself,
	// before any route; onlyGetHead runs first, and this covers the rest.
	r.MethodNotAllowed(methodNotAllowed)
	r.Handle("/healthz", hc)
	r.Handle("/*", fh)
	return r
}

// onlyGetHead answers every method but GET and HEAD with 405 and
// "Allow: GET, HEAD", whether or not chi knows the method.
func onlyGetHead(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// closeIfBody closes the connection after answering a request that has a
// body: framed by Transfer-Encoding (net/http has then already dropped any
// Content-Length beside it) or by a non-zero Content-Length. RFC 9112 section 6.3 requires closing after
// a request with both; GET and HEAD never need a body, so no client loses
// anything, and a smuggled second request is never read.
func closeIfBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TransferEncoding) > 0 || r.ContentLength > 0 {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// withDefaultLimits fills limits left at zero (a Config not made by
// config.Parse) with their defaults; a zero limit would refuse everything.
func withDefaultLimits(cfg config.Config) config.Config {
	def := config.Defaults(cfg.Root)
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = def.MaxHeaderBytes
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = def.MaxConns
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = def.SendTimeout
	}
	if cfg.MaxListingEntries <= 0 {
		cfg.MaxListingEntries = def.MaxListingEntries
	}
	if cfg.MaxListings <= 0 {
		cfg.MaxListings = def.MaxListings
	}
	return cfg
}

type forceKey struct{}

type connKey struct{}

// markBusy marks the request's connection busy while next serves it, so
// that the connection limit never displaces it (see limits.Listener). It
// also sets the Date header from httpdate's value of the current second,
// which net/http would otherwise format for every response.
func markBusy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpdate.Set(w.Header(), time.Now())
		if c, ok := r.Context().Value(connKey{}).(*limits.Conn); ok {
			c.Enter()
			defer c.Leave()
		}
		next.ServeHTTP(w, r)
	})
}

// Force returns the force context WithForce put in ctx, if any.
func Force(ctx context.Context) (context.Context, bool) {
	f, ok := ctx.Value(forceKey{}).(context.Context)
	return f, ok
}

// WithForce returns ctx carrying force: once force is done during the
// shutdown grace period (a second signal), Run closes the remaining
// connections at once instead of waiting out the grace.
func WithForce(ctx, force context.Context) context.Context {
	return context.WithValue(ctx, forceKey{}, force)
}

// Run serves cfg.Root on ln until ctx is done (limits left at zero in cfg
// get their defaults), then shuts down gracefully:
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
	cfg = withDefaultLimits(cfg)
	root, err := os.OpenRoot(cfg.Root)
	if err != nil {
		ln.Close()
		return fmt.Errorf("open root %q: %w", cfg.Root, err)
	}
	defer root.Close()

	hc := health.NewWithProbe(func() error { return files.RootAlive(root) })
	fh := files.NewWithOptions(root, logger, files.Options{
		MaxListingEntries: cfg.MaxListingEntries,
		MaxListings:       cfg.MaxListings,
		Sandbox:           cfg.Sandbox,
	})
	var handler http.Handler = newRouter(hc, fh, logger, cfg.Mode == config.ModeDebug)
	if wrap != nil {
		handler = wrap(handler)
	}
	handler = markBusy(handler)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ConnContext:       func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) },
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	serveErr := make(chan error, 1)
	lln := limits.Listener(ln, cfg.MaxConns, cfg.SendTimeout)
	go func() { serveErr <- srv.Serve(lln) }()
	logger.Info("cat-server started",
		"addr", ln.Addr().String(), "port", cfg.Port, "root", cfg.Root,
		"mode", string(cfg.Mode), "shutdownGrace", cfg.ShutdownGrace.String(),
		"maxConns", cfg.MaxConns, "maxHeaderBytes", cfg.MaxHeaderBytes, "sendTimeout", cfg.SendTimeout.String(),
		"maxListingEntries", cfg.MaxListingEntries, "maxListings", cfg.MaxListings, "sandbox", cfg.Sandbox)

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	logger.Info("shutting down", "reason", context.Cause(ctx).Error(), "grace", cfg.ShutdownGrace.String())
	hc.SetShuttingDown()
	// Clients that stopped reading must not hold the shutdown past its
	// grace: during it, half the grace without progress cuts them.
	limits.ShortenSendTimeout(lln, cfg.ShutdownGrace/2)
	shutdownCtx, cancel := context.WithTimeoutCause(context.WithoutCancel(ctx), cfg.ShutdownGrace,
		fmt.Errorf("graceful shutdown did not finish within %s", cfg.ShutdownGrace))
	defer cancel()
	if force, ok := Force(ctx); ok {
		stop := context.AfterFunc(force, func() { cancel() })
		defer stop()
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		cause := context.Cause(shutdownCtx)
		if errors.Is(cause, context.Canceled) {
			cause = errors.New("shutdown cut short by a second signal")
		}
		closeErr := srv.Close()
		<-serveErr
		return fmt.Errorf("%w, closed remaining connections: %w", cause, errors.Join(err, closeErr))
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("cat-server stopped")
	return nil
}
