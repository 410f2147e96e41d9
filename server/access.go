package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"
	"unsafe"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/admin/keys"
	"github.com/sluicehq/sluice/internal/access"
	"github.com/sluicehq/sluice/internal/apierr"
	"github.com/sluicehq/sluice/internal/limits"
	"github.com/sluicehq/sluice/internal/relay"
	"github.com/sluicehq/sluice/providers/anthropic"
)

// Access is what the data-plane checks need.
type Access struct {
	// Verifier checks consumer keys' signatures and expiry.
	Verifier *keys.Verifier
	// Snapshots gives the in-memory snapshot and records key use.
	Snapshots Snapshots
	// Limiter counts requests and tokens per subscription.
	Limiter limits.Limiter
	// Clock tells the time (tests pass a fake one).
	Clock interface{ Now() time.Time }
	// Subscriptions takes consumers' own subscription requests.
	Subscriptions SelfService
}

// Snapshots is the part of access.Store the data plane reads.
type Snapshots interface {
	Current() *access.Snapshot
	Touch(keyID string, now time.Time)
}

// call is what the data-plane steps learn about one request, in order. It
// travels in the gin context under one key, so the steps cost one
// allocation, not one per fact.
type call struct {
	start      time.Time
	endpoint   string
	authDone   time.Time // key checked
	checksDone time.Time // subscription and limits checked
	errMsg     string    // the message of a refusal written by fail
	consumerID uint64
	keyID      string
	body       []byte
	model      string
	grant      access.Grant
	stream     bool
	// anthropic: errors go out in Anthropic's envelope (/v1/messages).
	anthropic bool
	// promptSlug and promptVersion name the prompt a prompt API call ran.
	promptSlug    string
	promptVersion int
	// tee keeps the answer when the service logs bodies.
	tee *teeWriter
	// result is what the relay did.
	result *relay.Result
	// estTokens guesses the call's tokens before it is made: about four
	// bytes of prompt per token, plus the output it may produce.
	estTokens int
}

const ctxCall = "sluice.call"

func callOf(c *gin.Context) *call {
	if v, ok := c.Get(ctxCall); ok {
		return v.(*call)
	}
	cl := &call{start: time.Now()}
	c.Set(ctxCall, cl)
	return cl
}

// fail writes err in the envelope the route's clients expect and stops
// the chain.
func fail(c *gin.Context, err error) {
	e := apierr.From(err)
	if v, ok := c.Get(ctxCall); ok {
		v.(*call).errMsg = e.Message
	}
	if v, ok := c.Get(ctxCall); ok && v.(*call).anthropic {
		c.Data(e.Status, "application/json", anthropic.ErrorBody(e.Status, e.Message))
		c.Abort()
		return
	}
	apierr.Write(c.Writer, e)
	c.Abort()
}

func unauthorized(msg string) *apierr.Error {
	return &apierr.Error{Status: http.StatusUnauthorized, Code: "invalid_api_key", Message: msg}
}

// authenticate admits a request carrying a valid, unexpired, unrevoked
// consumer key (Authorization: Bearer, x-api-key or api-key).
func (s *Server) authenticate(c *gin.Context) {
	a := s.deps.Access
	h := c.Request.Header
	token, err := keys.ExtractKey(h.Get("Authorization"), h.Get("X-Api-Key"), h.Get("Api-Key"))
	if err != nil {
		if errors.Is(err, keys.ErrMissing) {
			fail(c, unauthorized("missing key: send your Sluice key as Authorization: Bearer KEY"))
		} else {
			fail(c, unauthorized("malformed key: the Authorization header must be Bearer KEY"))
		}
		return
	}
	now := a.Clock.Now()
	claims, err := a.Verifier.Verify(token, now)
	switch {
	case errors.Is(err, keys.ErrExpired):
		fail(c, unauthorized("expired key: ask for a new key"))
		return
	case err != nil:
		fail(c, unauthorized("malformed key: not a key issued by this gateway"))
		return
	}
	k, ok := a.Snapshots.Current().Key(claims.KeyID)
	if cid, err := strconv.ParseUint(claims.ConsumerID, 10, 64); !ok || err != nil || cid != k.ConsumerID {
		fail(c, unauthorized("unknown key: it was deleted or belongs to another gateway"))
		return
	}
	if k.Revoked {
		fail(c, unauthorized("revoked key: ask for a new key"))
		return
	}
	a.Snapshots.Touch(k.ID, now)
	cl := callOf(c)
	cl.consumerID, cl.keyID = k.ConsumerID, k.ID
	cl.authDone = time.Now()
}

// readModel reads the JSON body and the model it names.
func (s *Server) readModel(c *gin.Context) {
	body, err := ReadBody(c)
	if err != nil {
		fail(c, err)
		return
	}
	if !gjson.ValidBytes(body) {
		fail(c, apierr.New(http.StatusBadRequest, "malformed JSON body (or invalid UTF-8); send a JSON object"))
		return
	}
	if body[firstNonSpace(body)] != '{' {
		fail(c, apierr.New(http.StatusBadRequest, "the body must be a JSON object"))
		return
	}
	// One pass over the top-level fields finds everything the checks and
	// the relay need, without decoding the body.
	var model gjson.Result
	maxTokens := -1
	// The body is never modified after it is read, so it can be viewed as
	// a string without a copy.
	gjson.Parse(unsafe.String(&body[0], len(body))).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "model":
			model = v
		case "max_completion_tokens":
			if v.Type == gjson.Number {
				maxTokens = int(v.Int())
			}
		case "max_tokens":
			if v.Type == gjson.Number && maxTokens < 0 {
				maxTokens = int(v.Int())
			}
		case "stream":
			callOf(c).stream = v.Type == gjson.True
		}
		return true
	})
	if model.Type != gjson.String || model.Str == "" {
		fail(c, apierr.BadRequest("model", "model is required: a model name from GET /v1/models"))
		return
	}
	cl := callOf(c)
	cl.body, cl.model = body, model.Str
	cl.estTokens = len(body)/4 + max(maxTokens, 0)
}

func firstNonSpace(b []byte) int {
	for i, ch := range b {
		if ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' {
			return i
		}
	}
	return 0
}

// authorize admits a consumer holding an approved subscription to a
// service that contains the requested model.
func (s *Server) authorize(c *gin.Context) {
	cl := callOf(c)
	g, err := s.deps.Access.Snapshots.Current().Authorize(cl.consumerID, cl.model)
	if err != nil {
		fail(c, err)
		return
	}
	cl.grant = g
}

// limit applies the service's per-subscription limits, with an estimate
// of the call's tokens that the relay settles against actual usage.
func (s *Server) limit(c *gin.Context) {
	cl := callOf(c)
	l := cl.grant.Service.Limits
	if l == (limits.Limits{}) {
		return
	}
	d, err := s.deps.Access.Limiter.Admit(c.Request.Context(), cl.grant.Subscription.LimitKey, l, cl.estTokens)
	if err != nil {
		fail(c, err)
		return
	}
	d.Headers(c.Writer.Header())
	if !d.Allowed {
		fail(c, &apierr.Error{Status: http.StatusTooManyRequests, Type: "rate_limit_error", Code: "rate_limit_exceeded",
			Message: "rate limit reached for service " + strconv.Quote(cl.grant.Service.Slug) + " (" + d.Reason + "); retry after " +
				c.Writer.Header().Get("Retry-After") + " s"})
	}
}

// listModels answers GET /v1/models with the models this key may call.
func (s *Server) listModels(c *gin.Context) {
	snap := s.deps.Access.Snapshots.Current()
	models := snap.CallableModels(callOf(c).consumerID)
	type entry struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	out := struct {
		Object string  `json:"object"`
		Data   []entry `json:"data"`
	}{Object: "list", Data: make([]entry, 0, len(models))}
	for _, m := range models {
		out.Data = append(out.Data, entry{ID: m.Name, Object: "model", Created: snap.LoadedAt.Unix(), OwnedBy: "sluice"})
	}
	c.JSON(http.StatusOK, out)
}
