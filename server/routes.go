package server

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/internal/apierr"
)

// routes declares every route. Read a line left to right for the order a
// request goes through.
//
// A step that only checks or prepares returns without calling c.Next():
// Gin then runs the next step itself, and the returned step's stack frame
// is gone. Only steps with work after the call (accessLog, observe,
// recover, record, promptReply) call c.Next(), with small frames, since
// everything under them (a stream can last minutes) sits on the same
// goroutine stack, and a stack that outgrows 8 KiB doubles to 16 KiB for
// every open call.
func (s *Server) routes() {
	r := s.engine
	r.Use(requestID, s.accessLog, s.observe, s.recover, s.limitBody)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(s.deps.Metrics.Handler()))

	if s.deps.Access != nil {
		v1 := r.Group("/v1", s.record, s.authenticate)
		v1.GET("/models", s.listModels)
		if s.deps.Relay != nil {
			v1.POST("/chat/completions", s.readModel, s.authorize, s.limit, s.relayTo(chatOp))
			v1.POST("/embeddings", s.readModel, s.authorize, s.limit, s.relayTo(embeddingsOp))
			r.POST("/v1/messages", s.record, anthropicErrors, s.authenticate, s.readModel, s.authorize, s.limit, s.relayTo(messagesOp))
			v1.POST("/prompts/:slug", s.readPrompt, s.limit, s.promptReply, s.relayTo(chatOp))
			v1.GET("/prompts/:slug", s.describePrompt)
		}
		if s.deps.Access.Subscriptions != nil {
			v1.POST("/subscriptions", s.requestSubscription)
			v1.GET("/subscriptions", s.listSubscriptions)
		}
	}
	if s.deps.AdminAPI != nil {
		s.deps.AdminAPI.Register(r.Group("/admin/api/v1"))
	}

	if s.deps.Routes != nil {
		s.deps.Routes(r)
	}

	r.NoRoute(s.noRoute)
}

// noRoute answers unknown API paths with a JSON 404 and everything else
// with the console.
func (s *Server) noRoute(c *gin.Context) {
	p := c.Request.URL.Path
	if strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/admin/api/") || s.deps.Console == nil {
		apierr.Write(c.Writer, &apierr.Error{Status: http.StatusNotFound, Code: "unknown_url",
			Message: "no route for " + c.Request.Method + " " + p + "; see /admin/api/v1/openapi.json and the README for the API"})
		return
	}
	s.console(c)
}

// writeError writes err in the OpenAI envelope and logs a 5xx's cause with
// the request id.
func writeError(c *gin.Context, err error) {
	apierr.Write(c.Writer, err)
}
