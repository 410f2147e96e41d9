package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/internal/relay"
)

// Relay sends admitted calls upstream and writes the answers.
type Relay interface {
	Chat(ctx context.Context, w http.ResponseWriter, req *relay.Request) *relay.Result
	Embeddings(ctx context.Context, w http.ResponseWriter, req *relay.Request) *relay.Result
	Messages(ctx context.Context, w http.ResponseWriter, req *relay.Request) *relay.Result
}

// relayTo is the last step of a data-plane route: it hands the admitted
// call to the relay, then settles the limiter with the tokens actually used.
func (s *Server) relayTo(op func(Relay) func(context.Context, http.ResponseWriter, *relay.Request) *relay.Result) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl := callOf(c)
		cl.checksDone = time.Now()
		captureBodies(c, cl)
		req := &relay.Request{Body: cl.body, Model: cl.model, Stream: cl.stream,
			Targets: cl.grant.Model.Targets, RequestID: RequestID(c)}
		res := op(s.deps.Relay)(c.Request.Context(), c.Writer, req)
		cl.result = res
		if l := cl.grant.Service.Limits; l.TPM > 0 || l.MonthlyTokens > 0 {
			// The client may be gone; the tokens were still spent.
			ctx := context.WithoutCancel(c.Request.Context())
			s.deps.Access.Limiter.Settle(ctx, cl.grant.Subscription.LimitKey, l, cl.estTokens, res.Usage.TotalTokens)
		}
	}
}

func chatOp(r Relay) func(context.Context, http.ResponseWriter, *relay.Request) *relay.Result {
	return r.Chat
}

func embeddingsOp(r Relay) func(context.Context, http.ResponseWriter, *relay.Request) *relay.Result {
	return r.Embeddings
}

func messagesOp(r Relay) func(context.Context, http.ResponseWriter, *relay.Request) *relay.Result {
	return r.Messages
}

// anthropicErrors makes the checks of this route answer in Anthropic's
// error envelope (/v1/messages is called by Anthropic SDKs).
func anthropicErrors(c *gin.Context) {
	callOf(c).anthropic = true
}
