package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// healthz answers 200 while the process runs.
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 when the database answers and the schema is current,
// else 503 with the reason, so a load balancer sends no traffic to a
// replica that cannot serve it.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	if s.deps.DB != nil {
		if err := s.deps.DB.Ping(ctx); err != nil {
			s.deps.Logger.Warn("not ready: database", "err", err)
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "database unreachable: " + err.Error()})
			return
		}
	}
	if s.deps.Schema != nil {
		pending, err := s.deps.Schema.Pending(ctx)
		if err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "cannot read schema version: " + err.Error()})
			return
		}
		if pending {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "migrations pending: run `sluice migrate up`"})
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
