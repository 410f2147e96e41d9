// Package openaifake is a fake OpenAI (and Azure OpenAI) server: an
// http.Handler speaking the real wire format of /v1/chat/completions
// (streamed or not, with tool calls), /v1/embeddings and /v1/models, and of
// Azure's /openai/deployments/{deployment}/… paths, for end-to-end tests,
// the load benchmark and demos. It is deterministic and safe for concurrent
// use, and it can be scripted to fail in the ways real upstreams do.
//
// Serve it under httptest and use base URL srv.URL+"/v1" for OpenAI, or
// srv.URL as the Azure endpoint. It imports only the standard library.
package openaifake

import (
	"encoding/json"
	"github.com/sluicehq/sluice/internal/fakes/fakekit"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Created is the "created" timestamp of every answer, fixed so that answers
// are deterministic.
const Created = 1735689600

// Fault is a failure applied to one request. Faults queued with Script are
// taken one per request, in order.
type Fault struct {
	// Status, when non-zero, answers with this status and OpenAI's (or
	// Azure's) error envelope.
	Status int
	// RetryAfter is sent as the Retry-After header of a Status answer.
	RetryAfter string
	// Body replaces the error envelope of a Status answer.
	Body string
	// DelayFirstByte waits this long before answering at all.
	DelayFirstByte time.Duration
	// CutAfterChunks closes the connection of a stream after this many
	// events, without the data: [DONE] terminator.
	CutAfterChunks int
	// MalformedSSE sends a data line that is not JSON as a stream's second
	// event.
	MalformedSSE bool
	// InvalidJSON answers a non-streamed request with 200 and a broken body.
	InvalidJSON bool
	// DelayBetweenChunks waits this long between stream events.
	DelayBetweenChunks time.Duration
	// Hang never answers; the handler returns when the client goes away.
	Hang bool
}

// Recorded is one request the fake received.
type Recorded = fakekit.Recorded

// Fake is the fake server. Set its fields before serving; its methods are
// safe for concurrent use.
type Fake struct {
	// APIKey, when set, is required as "Authorization: Bearer KEY"
	// (OpenAI paths) or "api-key: KEY" (Azure paths).
	APIKey string
	// FixedReply, when set, is the assistant's text for every request
	// instead of the echo of the last user message (for benchmarks).
	FixedReply string
	// Models are the ids /v1/models lists; nil lists DefaultModels.
	Models []string

	fakekit.Recorder[Fault]
	ids atomic.Int64 // response ids
}

// DefaultModels are the model ids listed when Fake.Models is nil.
func DefaultModels() []string {
	return []string{"gpt-4o", "gpt-4o-mini", "text-embedding-3-small"}
}

// New returns a fake that echoes.
func New() *Fake { return &Fake{} }

// call is one request being answered.
type call struct {
	f     *Fake
	w     http.ResponseWriter
	r     *http.Request
	body  []byte
	azure bool
	fault Fault
	// deployment is the Azure deployment of the path.
	deployment string
}

// ServeHTTP answers one request.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return
	}
	f.Record(r, body)
	c := &call{f: f, w: w, r: r, body: body}

	route, ok := c.route()
	if !ok {
		return
	}
	if !c.authorized() {
		return
	}
	c.fault = f.NextFault()
	if c.fault.Hang {
		<-r.Context().Done()
		return
	}
	if !fakekit.Sleep(r.Context(), c.fault.DelayFirstByte) {
		return
	}
	if c.fault.Status != 0 {
		if c.fault.RetryAfter != "" {
			w.Header().Set("Retry-After", c.fault.RetryAfter)
		}
		if c.fault.Body != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(c.fault.Status)
			_, _ = io.WriteString(w, c.fault.Body)
			return
		}
		c.fail(c.fault.Status, "")
		return
	}
	route(c)
}

// route picks the handler of the request's path, answering 404 or 405
// itself when there is none.
func (c *call) route() (func(*call), bool) {
	p := c.r.URL.Path
	if rest, ok := strings.CutPrefix(p, "/v1/"); ok {
		return c.openAIRoute(rest)
	}
	if rest, ok := strings.CutPrefix(p, "/openai/"); ok {
		c.azure = true
		if c.r.URL.Query().Get("api-version") == "" {
			c.azureError(http.StatusNotFound, "404", "Resource not found")
			return nil, false
		}
		return c.azureRoute(rest)
	}
	c.invalidURL()
	return nil, false
}

func (c *call) openAIRoute(rest string) (func(*call), bool) {
	switch {
	case rest == "chat/completions":
		return c.post((*call).chat)
	case rest == "embeddings":
		return c.post((*call).embeddings)
	case rest == "models":
		return c.get((*call).models)
	case strings.HasPrefix(rest, "models/"):
		return c.get((*call).model)
	}
	c.invalidURL()
	return nil, false
}

// invalidURL answers a path OpenAI does not serve.
func (c *call) invalidURL() {
	c.writeError(http.StatusNotFound, "Invalid URL ("+c.r.Method+" "+c.r.URL.Path+")", "invalid_request_error", "", "")
}

func (c *call) azureRoute(rest string) (func(*call), bool) {
	if rest == "models" {
		return c.get((*call).models)
	}
	if d, ok := strings.CutPrefix(rest, "deployments/"); ok {
		dep, op, _ := strings.Cut(d, "/")
		c.deployment = dep
		switch {
		case dep == "":
		case op == "chat/completions":
			return c.post((*call).chat)
		case op == "embeddings":
			return c.post((*call).embeddings)
		}
	}
	c.azureError(http.StatusNotFound, "404", "Resource not found")
	return nil, false
}

func (c *call) post(h func(*call)) (func(*call), bool) {
	if c.r.Method != http.MethodPost {
		c.writeError(http.StatusMethodNotAllowed, "Invalid method for URL ("+c.r.Method+" "+c.r.URL.Path+")", "invalid_request_error", "", "")
		return nil, false
	}
	return h, true
}

func (c *call) get(h func(*call)) (func(*call), bool) {
	if c.r.Method != http.MethodGet {
		c.writeError(http.StatusMethodNotAllowed, "Invalid method for URL ("+c.r.Method+" "+c.r.URL.Path+")", "invalid_request_error", "", "")
		return nil, false
	}
	return h, true
}

// authorized checks the credential when Fake.APIKey is set, answering 401
// otherwise.
func (c *call) authorized() bool {
	want := c.f.APIKey
	if want == "" {
		return true
	}
	if c.azure {
		if c.r.Header.Get("Api-Key") == want {
			return true
		}
		c.azureError(http.StatusUnauthorized, "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.")
		return false
	}
	got, ok := strings.CutPrefix(c.r.Header.Get("Authorization"), "Bearer ")
	if ok && got == want {
		return true
	}
	if !ok || got == "" {
		c.writeError(http.StatusUnauthorized, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.", "invalid_request_error", "", "")
		return false
	}
	c.writeError(http.StatusUnauthorized, "Incorrect API key provided: "+redact(got)+". You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", "", "invalid_api_key")
	return false
}

// redact shows a key the way OpenAI does: its ends only.
func redact(key string) string {
	if len(key) <= 8 {
		return "****"
	}
	return key[:3] + "*****" + key[len(key)-4:]
}

// fail answers status with the envelope of the path's flavour (OpenAI or
// Azure) and a typical message for the status unless msg is given.
func (c *call) fail(status int, msg string) {
	typ, code, def := statusError(status)
	if msg == "" {
		msg = def
	}
	if c.azure {
		c.azureError(status, azureCode(status, code), msg)
		return
	}
	c.writeError(status, msg, typ, "", code)
}

// statusError is OpenAI's type, code and message for an error status.
func statusError(status int) (typ, code, msg string) {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error", "", "Invalid request."
	case http.StatusUnauthorized:
		return "invalid_request_error", "invalid_api_key", "Incorrect API key provided."
	case http.StatusForbidden:
		return "invalid_request_error", "unsupported_country_region_territory", "Country, region, or territory not supported"
	case http.StatusNotFound:
		return "invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."
	case http.StatusTooManyRequests:
		return "requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."
	case http.StatusInternalServerError:
		return "server_error", "", "The server had an error while processing your request. Sorry about that!"
	case http.StatusServiceUnavailable:
		return "server_error", "", "The engine is currently overloaded, please try again later."
	}
	if status >= 500 {
		return "server_error", "", http.StatusText(status)
	}
	return "invalid_request_error", "", http.StatusText(status)
}

// azureCode is the code Azure puts in its envelope: the status as a
// string for the common statuses, else OpenAI's code.
func azureCode(status int, code string) string {
	switch status {
	case http.StatusUnauthorized, http.StatusNotFound, http.StatusTooManyRequests:
		return itoa(status)
	case http.StatusInternalServerError:
		return "InternalServerError"
	}
	if code == "" {
		return itoa(status)
	}
	return code
}

// errorEnvelope is OpenAI's error envelope; param and code are null when
// empty, as OpenAI sends them.
type errorEnvelope struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func (c *call) writeError(status int, msg, typ, param, code string) {
	e := errorEnvelope{Error: errorBody{Message: msg, Type: typ}}
	if param != "" {
		e.Error.Param = &param
	}
	if code != "" {
		e.Error.Code = &code
	}
	c.writeJSON(status, e)
}

// azureError answers with Azure's envelope {"error":{"code","message"}}.
func (c *call) azureError(status int, code, msg string) {
	c.writeJSON(status, map[string]map[string]string{"error": {"code": code, "message": msg}})
}

func (c *call) writeJSON(status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"message":"fake: encoding failed","type":"server_error","param":null,"code":null}}`)
	}
	h := c.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", itoa(len(b)))
	c.w.WriteHeader(status)
	_, _ = c.w.Write(b)
}

// writeInvalidJSON answers 200 with a body cut in the middle.
func (c *call) writeInvalidJSON() {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(c.w, `{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"index":0,"message":{"role":"assist`)
}

func itoa(n int) string { return strconv.Itoa(n) }
