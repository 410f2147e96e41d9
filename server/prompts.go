package server

import (
	"bytes"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/internal/access"
	"github.com/sluicehq/sluice/prompts"
)

// The prompt APIs: POST /v1/prompts/:slug renders a published prompt and
// sends it through the same limits, relay and call log as
// /v1/chat/completions; GET describes it.

const ctxPrompt = "sluice.prompt"

// readPrompt resolves the published prompt, checks the consumer's
// subscription to its service, validates the variables and builds the
// chat completions body the relay sends. It stands where readModel and
// authorize stand on /v1/chat/completions.
func (s *Server) readPrompt(c *gin.Context) {
	cl := callOf(c)
	snap := s.deps.Access.Snapshots.Current()
	p, err := snap.Prompt(c.Param("slug"))
	if err != nil {
		fail(c, err)
		return
	}
	cl.promptSlug, cl.promptVersion, cl.model = p.Slug, p.Version, p.Template.Model
	g, err := snap.AuthorizePrompt(cl.consumerID, p)
	if err != nil {
		fail(c, err)
		return
	}
	// From here a refusal (bad variables) is still the service's call.
	cl.grant = g
	body, err := ReadBody(c)
	if err != nil {
		fail(c, err)
		return
	}
	pc, err := prompts.ParseCall(body)
	if err != nil {
		fail(c, err)
		return
	}
	chat, err := p.Template.Body(pc)
	if err != nil {
		fail(c, err)
		return
	}
	maxTokens := gjson.GetBytes(chat, "max_completion_tokens")
	if !maxTokens.Exists() {
		maxTokens = gjson.GetBytes(chat, "max_tokens")
	}
	cl.body, cl.model, cl.stream = chat, p.Template.Model, pc.Stream
	cl.estTokens = len(chat)/4 + max(int(maxTokens.Int()), 0)
	c.Set(ctxPrompt, p)
}

// promptReply turns the relay's chat.completion into a prompt.completion.
// Streams and errors pass through as the relay wrote them.
func (s *Server) promptReply(c *gin.Context) {
	if callOf(c).stream {
		c.Next()
		return
	}
	orig := c.Writer
	w := &captureWriter{ResponseWriter: orig}
	c.Writer = w
	c.Next()
	c.Writer = orig
	p := c.MustGet(ctxPrompt).(*access.Prompt)
	if w.Status() == http.StatusOK {
		if out, err := prompts.Answer(w.buf.Bytes(), p.Slug, p.Version, p.Template.JSONOutput()); err == nil {
			orig.Header().Del("Content-Length")
			orig.Header().Set("Content-Type", "application/json")
			orig.WriteHeader(http.StatusOK)
			_, _ = orig.Write(out)
			return
		}
	}
	orig.WriteHeader(w.Status())
	_, _ = orig.Write(w.buf.Bytes())
}

// captureWriter keeps a non-streaming answer (a small JSON body) so that
// promptReply can reshape it. Headers go straight to the real writer.
type captureWriter struct {
	gin.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *captureWriter) WriteHeaderNow() {}
func (w *captureWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.buf.Write(b)
}
func (w *captureWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }
func (w *captureWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
func (w *captureWriter) Size() int     { return w.buf.Len() }
func (w *captureWriter) Written() bool { return w.status != 0 }
func (w *captureWriter) Flush()        {}

// describePrompt answers GET /v1/prompts/:slug: what the prompt does, its
// variables schema and an example request. Any valid key may read it; the
// answer names the service to subscribe to.
func (s *Server) describePrompt(c *gin.Context) {
	cl := callOf(c)
	p, err := s.deps.Access.Snapshots.Current().Prompt(c.Param("slug"))
	if err != nil {
		fail(c, err)
		return
	}
	cl.promptSlug, cl.promptVersion = p.Slug, p.Version
	service := ""
	if svc, ok := s.deps.Access.Snapshots.Current().Service(p.ServiceID); ok {
		service = svc.Slug
	}
	output := "text"
	if p.Template.JSONOutput() {
		output = "json"
	}
	c.JSON(http.StatusOK, gin.H{
		"object": "prompt", "slug": p.Slug, "name": p.Name, "description": p.Description,
		"version": p.Version, "model": p.Template.Model, "service": service,
		"url":               "/v1/prompts/" + p.Slug,
		"variables_schema":  p.Template.Schema.Raw,
		"allowed_overrides": p.Template.Overrides,
		"output":            output,
		"example_request":   p.Template.Example(),
	})
}
