package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/tracing"
)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// SchemaChecker reports whether migrations are pending.
type SchemaChecker interface {
	Pending(ctx context.Context) (bool, error)
}

// Deps are what the server is built from.
type Deps struct {
	Config  *config.Config
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	DB      Pinger
	Schema  SchemaChecker
	Console fs.FS
	// Access enables the data plane (/v1); nil serves only health,
	// metrics and the console.
	Access *Access
	// Relay sends admitted data-plane calls upstream; nil leaves the
	// model endpoints out.
	Relay Relay
	// Tracing, when set, gives every data-plane call a span.
	Tracing *tracing.Tracing
	// CallLog, when set, receives one record per data-plane call.
	CallLog CallLog
	// AdminAPI, when set, is mounted at /admin/api/v1.
	AdminAPI interface{ Register(g *gin.RouterGroup) }
	// Routes, when set, adds routes after the built-in ones (tests use it
	// to exercise middleware with handlers of their own).
	Routes func(r *gin.Engine)
}

// Server is Sluice's HTTP server.
type Server struct {
	deps   Deps
	engine *gin.Engine
}

// New builds the server and its routes.
func New(deps Deps) *Server {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Metrics == nil {
		deps.Metrics = metrics.New()
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{deps: deps, engine: gin.New()}
	s.engine.ContextWithFallback = true // c.Done()/c.Err() follow the request's context
	// X-Forwarded-For is believed only from the configured load balancers;
	// by default from nobody, so the client address is the peer's.
	_ = s.engine.SetTrustedProxies(deps.Config.TrustedProxies)
	s.routes()
	return s
}

// Handler is the root HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Run serves on ln until ctx is cancelled, then shuts down gracefully: it
// stops accepting, lets in-flight requests and streams finish for up to the
// configured ShutdownTimeout, then cuts whatever is left. It returns nil
// after a clean shutdown.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.deps.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.deps.Logger.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	timeout := s.deps.Config.ShutdownTimeout
	s.deps.Logger.Info("shutting down: draining in-flight requests", "timeout", timeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.deps.Logger.Warn("shutdown deadline reached: closing remaining connections")
		_ = srv.Close()
		err = nil
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
