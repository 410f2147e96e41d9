package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/internal/apierr"
)

// RequestIDHeader carries the request id on every response.
const RequestIDHeader = "X-Request-Id"

const ctxRequestID = "sluice.request_id"

// RequestID returns the id of the request c belongs to.
func RequestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// requestID takes the client's x-request-id when it is sane, else makes
// one, and sets it on the response before anything else can write.
func requestID(c *gin.Context) {
	id := c.GetHeader(RequestIDHeader)
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Set(ctxRequestID, id)
	c.Writer.Header().Set(RequestIDHeader, id)
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if b := id[i]; b < 0x21 || b > 0x7e {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var raw [12]byte
	_, _ = rand.Read(raw[:])
	var out [4 + 24]byte
	copy(out[:], "req_")
	hex.Encode(out[4:], raw[:])
	return string(out[:])
}

// recover turns a panic into a 500 in the OpenAI envelope (when nothing
// was written yet) and logs the stack with the request id.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as the net/http docs do
			panic(v)
		}
		s.deps.Logger.Error("panic in handler", "request_id", RequestID(c), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if !c.Writer.Written() {
			apierr.Write(c.Writer, &apierr.Error{Status: http.StatusInternalServerError,
				Message: "internal error (request " + RequestID(c) + "); the server log has the details"})
		}
		c.Abort()
	}()
	c.Next()
}

// limitBody refuses bodies over the configured size: at once when the
// declared length is too large, else when a handler reads past the limit
// (ReadBody turns that into 413).
func (s *Server) limitBody(c *gin.Context) {
	limit := s.deps.Config.MaxBodyBytes
	if c.Request.ContentLength > limit {
		c.Header("Connection", "close")
		apierr.Write(c.Writer, tooLarge(limit))
		c.Abort()
		return
	}
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
}

func tooLarge(limit int64) *apierr.Error {
	return &apierr.Error{Status: http.StatusRequestEntityTooLarge, Code: "request_too_large",
		Message: fmt.Sprintf("request body is larger than the limit of %d bytes", limit)}
}

// ReadBody reads the whole request body (JSON requests are small; streams
// go the other way). A body over the limit is a 413, an empty one a 400.
func ReadBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, apierr.New(http.StatusBadRequest, "request body is empty; send a JSON object")
	}
	b, err := readAll(c.Request)
	if err != nil {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge(mbe.Limit)
		}
		return nil, apierr.New(http.StatusBadRequest, "could not read request body: "+err.Error())
	}
	if len(b) == 0 {
		return nil, apierr.New(http.StatusBadRequest, "request body is empty; send a JSON object")
	}
	return b, nil
}

// observe records the request in the HTTP metrics, labelled by route
// pattern (never the raw path, which would explode cardinality).
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.observed(c, start)
}

// observed is observe's second half, apart so that observe's stack frame,
// which stays under every later step for the whole call, is small.
//
//go:noinline
func (s *Server) observed(c *gin.Context, start time.Time) {
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := strconv.Itoa(c.Writer.Status())
	s.deps.Metrics.Requests.WithLabelValues(route, c.Request.Method, status).Inc()
	s.deps.Metrics.Duration.WithLabelValues(route, c.Request.Method, status).Observe(time.Since(start).Seconds())
}

// accessLog writes one structured line per request. Probes are logged at
// debug level only. Headers are never logged: they hold keys.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.logAccess(c, start)
}

// logAccess is accessLog's second half (see observed).
//
//go:noinline
func (s *Server) logAccess(c *gin.Context, start time.Time) {
	level := slog.LevelInfo
	switch c.Request.URL.Path {
	case "/healthz", "/readyz", "/metrics":
		level = slog.LevelDebug
	}
	if !s.deps.Logger.Enabled(c.Request.Context(), level) {
		return
	}
	s.deps.Logger.LogAttrs(c.Request.Context(), level, "request",
		slog.String("request_id", RequestID(c)),
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", c.Writer.Status()),
		slog.Int("bytes", c.Writer.Size()),
		slog.Duration("duration", time.Since(start)),
		slog.String("client", c.ClientIP()),
	)
}
