package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/apierr"
	"github.com/sluicehq/sluice/internal/relay"
	"github.com/sluicehq/sluice/prompts"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/providers/sse"
)

// promptsAPI manages prompts, their versions and publishing, and test-runs
// a version before it is published.
type promptsAPI struct {
	*API
	store *prompts.Store
	relay *relay.Relay
}

// registerPrompts adds the prompt routes to the signed-in group. Members
// manage the prompts of their teams' services; admins all of them.
func (a *API) registerPrompts(auth *gin.RouterGroup) {
	p := &promptsAPI{API: a, store: prompts.NewStore(a.deps.DB, a.deps.Notifier, a.deps.Clock),
		relay: relay.New(relay.Config{MaxAttempts: 2, Deadline: testRunTimeout})}
	auth.GET("/prompts", a.h(p.list))
	auth.POST("/prompts", a.h(p.create))
	auth.GET("/prompts/:id", a.h(p.get))
	auth.PATCH("/prompts/:id", a.h(p.update))
	auth.DELETE("/prompts/:id", a.h(p.delete))
	auth.GET("/prompts/:id/versions", a.h(p.versions))
	auth.POST("/prompts/:id/versions", a.h(p.addVersion))
	auth.GET("/prompts/:id/versions/:version", a.h(p.version))
	auth.GET("/prompts/:id/versions/:version/diff/:against", a.h(p.diff))
	auth.POST("/prompts/:id/publish", a.h(p.publish))
	auth.POST("/prompts/:id/unpublish", a.h(p.unpublish))
	auth.POST("/prompts/:id/test", a.h(p.test))
}

// testRunTimeout bounds a test run, retries included.
const testRunTimeout = 60 * time.Second

type promptRequest struct {
	Slug        *string `json:"slug"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
	ServiceID   *uint64 `json:"service_id"`
}

func (p *promptsAPI) list(c *gin.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	svc, err := queryID(c, "service_id")
	if err != nil {
		return err
	}
	list, total, err := p.store.List(c.Request.Context(), prompts.Filter{Scope: who(c).scope(), ServiceID: svc, Q: c.Query("q"), Page: pg})
	if err != nil {
		return err
	}
	return listJSON(c, list, pg, total)
}

// prompt loads a prompt the caller may see; another team's is 404.
func (p *promptsAPI) prompt(c *gin.Context) (*prompts.View, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	v, err := p.store.Get(c.Request.Context(), id)
	if err != nil {
		return nil, err
	}
	if !who(c).scope().Has(v.TeamID) {
		return nil, notFound("prompt", id)
	}
	return v, nil
}

// promptForWrite loads a prompt the caller may change; another team's
// that they can see (none, for members) is 403.
func (p *promptsAPI) promptForWrite(c *gin.Context) (*prompts.View, error) {
	v, err := p.prompt(c)
	if err != nil {
		return nil, err
	}
	return v, writeTeam(who(c), v.TeamID)
}

func (p *promptsAPI) get(c *gin.Context) error {
	v, err := p.prompt(c)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

func (p *promptsAPI) create(c *gin.Context) error {
	var req promptRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Slug == nil || !slugRE.MatchString(*req.Slug) {
		return badField("slug", "slug is required: 1 to 63 lower-case letters, digits and '-', starting with a letter or digit (it is the URL: /v1/prompts/SLUG)")
	}
	name, err := text("name", deref(req.Name), true, 200)
	if err != nil {
		return err
	}
	desc, err := text("description", deref(req.Description), false, 10000)
	if err != nil {
		return err
	}
	if req.ServiceID == nil || *req.ServiceID == 0 {
		return badField("service_id", "service_id is required: the id of the service whose subscribers may call the prompt")
	}
	team, err := p.store.ServiceTeam(c.Request.Context(), *req.ServiceID)
	if err != nil {
		return err
	}
	if err := writeTeam(who(c), team); err != nil {
		return err
	}
	v, err := p.store.Create(c.Request.Context(), who(c).actor(), &prompts.Prompt{Slug: *req.Slug, Name: name, Description: desc, ServiceID: *req.ServiceID})
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, v)
	return nil
}

func (p *promptsAPI) update(c *gin.Context) error {
	v, err := p.promptForWrite(c)
	if err != nil {
		return err
	}
	var req promptRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Slug != nil && *req.Slug != v.Slug {
		return badField("slug", "slug cannot change: callers use it in their URLs; create a new prompt instead")
	}
	var u prompts.Update
	if req.Name != nil {
		name, err := text("name", *req.Name, true, 200)
		if err != nil {
			return err
		}
		u.Name = &name
	}
	if req.Description != nil {
		d, err := text("description", *req.Description, false, 10000)
		if err != nil {
			return err
		}
		u.Description = &d
	}
	if req.ServiceID != nil {
		team, err := p.store.ServiceTeam(c.Request.Context(), *req.ServiceID)
		if err != nil {
			return err
		}
		if err := writeTeam(who(c), team); err != nil {
			return err
		}
		u.ServiceID = req.ServiceID
	}
	v, err = p.store.Update(c.Request.Context(), who(c).actor(), v.ID, u)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

func (p *promptsAPI) delete(c *gin.Context) error {
	v, err := p.promptForWrite(c)
	if err != nil {
		return err
	}
	if err := p.store.Delete(c.Request.Context(), who(c).actor(), v.ID); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

type versionRequest struct {
	Model            string            `json:"model"`
	Messages         []prompts.Message `json:"messages"`
	Parameters       json.RawMessage   `json:"parameters"`
	VariablesSchema  json.RawMessage   `json:"variables_schema"`
	AllowedOverrides []string          `json:"allowed_overrides"`
	Note             string            `json:"note"`
}

func (p *promptsAPI) addVersion(c *gin.Context) error {
	pr, err := p.promptForWrite(c)
	if err != nil {
		return err
	}
	var req versionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	note, err := text("note", req.Note, false, 2000)
	if err != nil {
		return err
	}
	v := &prompts.Version{Model: req.Model, Messages: req.Messages, Parameters: compactJSON(req.Parameters),
		VariablesSchema: compactJSON(req.VariablesSchema), AllowedOverrides: req.AllowedOverrides, Note: note}
	if err := p.store.AddVersion(c.Request.Context(), who(c).actor(), pr.ID, v); err != nil {
		return err
	}
	c.JSON(http.StatusCreated, v)
	return nil
}

// compactJSON is raw without insignificant space; nil for absent or null.
func compactJSON(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

func (p *promptsAPI) versions(c *gin.Context) error {
	pr, err := p.prompt(c)
	if err != nil {
		return err
	}
	pg, err := page(c)
	if err != nil {
		return err
	}
	list, total, err := p.store.Versions(c.Request.Context(), pr.ID, pg)
	if err != nil {
		return err
	}
	return listJSON(c, list, pg, total)
}

// versionParam reads a version number path parameter.
func versionParam(c *gin.Context, name string) (int, error) {
	n, err := strconv.Atoi(c.Param(name))
	if err != nil || n < 1 {
		return 0, badField(name, fmt.Sprintf("%s must be a version number from 1, got %q", name, c.Param(name)))
	}
	return n, nil
}

func (p *promptsAPI) version(c *gin.Context) error {
	pr, err := p.prompt(c)
	if err != nil {
		return err
	}
	n, err := versionParam(c, "version")
	if err != nil {
		return err
	}
	v, err := p.store.Version(c.Request.Context(), pr.ID, n)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

func (p *promptsAPI) diff(c *gin.Context) error {
	pr, err := p.prompt(c)
	if err != nil {
		return err
	}
	from, err := versionParam(c, "version")
	if err != nil {
		return err
	}
	to, err := versionParam(c, "against")
	if err != nil {
		return err
	}
	a, err := p.store.Version(c.Request.Context(), pr.ID, from)
	if err != nil {
		return err
	}
	b, err := p.store.Version(c.Request.Context(), pr.ID, to)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, prompts.Compare(a, b))
	return nil
}

type publishRequest struct {
	Version int `json:"version"`
}

func (p *promptsAPI) publish(c *gin.Context) error {
	pr, err := p.promptForWrite(c)
	if err != nil {
		return err
	}
	var req publishRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Version < 1 {
		return badField("version", "version is required: the version number to make live (an older one rolls back)")
	}
	v, err := p.store.Publish(c.Request.Context(), who(c).actor(), pr.ID, req.Version)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

func (p *promptsAPI) unpublish(c *gin.Context) error {
	pr, err := p.promptForWrite(c)
	if err != nil {
		return err
	}
	var req struct{}
	if err := decodeOptional(c, &req); err != nil {
		return err
	}
	v, err := p.store.Unpublish(c.Request.Context(), who(c).actor(), pr.ID)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

type testRunRequest struct {
	Variables json.RawMessage `json:"variables"`
	// Version defaults to the published version, else the latest.
	Version   int                        `json:"version"`
	Overrides map[string]json.RawMessage `json:"overrides"`
	// Stream answers text/event-stream: the content as it arrives, then
	// the summary.
	Stream bool `json:"stream"`
}

// testRun is the answer of a test run.
type testRun struct {
	Version       int              `json:"version"`
	Model         string           `json:"model"`
	Messages      json.RawMessage  `json:"messages"`
	Status        int              `json:"status"`
	Completion    json.RawMessage  `json:"completion,omitempty"`
	Output        *string          `json:"output,omitempty"`
	FinishReason  string           `json:"finish_reason,omitempty"`
	Error         json.RawMessage  `json:"error,omitempty"`
	Provider      string           `json:"provider,omitempty"`
	UpstreamModel string           `json:"upstream_model,omitempty"`
	LatencyMillis int64            `json:"latency_ms"`
	Usage         *providers.Usage `json:"usage,omitempty"`
	Attempts      []testRunAttempt `json:"attempts"`
}

type testRunAttempt struct {
	Target string `json:"target"`
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`
}

// test renders a version (a draft included) with the given variables and
// sends it to the model's targets, as the data plane would. With "stream"
// it answers an event stream (see streamTest).
func (p *promptsAPI) test(c *gin.Context) error {
	pr, err := p.promptForWrite(c)
	if err != nil {
		return err
	}
	var req testRunRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	n := req.Version
	if n == 0 {
		n = pr.PublishedVersion
	}
	if n == 0 {
		n = pr.LatestVersion
	}
	if n == 0 {
		return badField("version", "the prompt has no version yet: save one with POST /prompts/{id}/versions")
	}
	ctx := c.Request.Context()
	v, err := p.store.Version(ctx, pr.ID, n)
	if err != nil {
		return badField("version", fmt.Sprintf("prompt %d has no version %d", pr.ID, n))
	}
	tpl, err := v.Compile()
	if err != nil {
		return err
	}
	vars, err := prompts.DecodeVariables(req.Variables)
	if err != nil {
		return badField("variables", err.Error())
	}
	if req.Overrides == nil {
		req.Overrides = map[string]json.RawMessage{}
	}
	body, err := tpl.Body(&prompts.Call{Variables: vars, Overrides: req.Overrides, Stream: req.Stream})
	if err != nil {
		return err
	}
	model, err := p.stores.Models.ByName(ctx, tpl.Model)
	if err != nil {
		return &admin.ConflictError{Message: fmt.Sprintf("version %d calls model %q, which no longer exists", n, tpl.Model)}
	}
	var targets []relay.Target
	for _, t := range model.Targets {
		prov, err := p.providers.Get(ctx, t.ProviderID)
		if err != nil || !prov.Enabled {
			continue
		}
		built, err := p.build(prov)
		if err != nil {
			continue
		}
		targets = append(targets, relay.Target{ID: prov.Name + "/" + t.UpstreamModel, ProviderName: prov.Name, ProviderKind: prov.Kind,
			Provider: built, UpstreamModel: t.UpstreamModel, Weight: t.Weight, Priority: t.Priority})
	}
	rreq := &relay.Request{Body: body, Model: tpl.Model, Stream: req.Stream, Targets: targets, RequestID: c.Writer.Header().Get("x-request-id")}
	out := testRun{Version: n, Model: tpl.Model, Messages: json.RawMessage(gjson.GetBytes(body, "messages").Raw), Attempts: []testRunAttempt{}}
	// The client going away cancels the request's context, and with it
	// the upstream call.
	ctx, cancel := context.WithTimeout(ctx, testRunTimeout)
	defer cancel()
	if req.Stream {
		p.streamTest(ctx, c, rreq, &out)
		return nil
	}
	w := &bufferWriter{h: http.Header{}}
	start := time.Now()
	res := p.relay.Chat(ctx, w, rreq)
	out.summarize(res, w.status, start)
	if w.status == http.StatusOK {
		ans, err := prompts.Answer(w.buf.Bytes(), pr.Slug, n, tpl.JSONOutput())
		if err != nil {
			return apierr.From(err)
		}
		out.Completion = ans
	} else if gjson.ValidBytes(w.buf.Bytes()) {
		out.Error = json.RawMessage(gjson.GetBytes(w.buf.Bytes(), "error").Raw)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// summarize fills in what the relay did: the status a caller would have
// got, the attempts, the target that answered, the latency and the usage.
func (out *testRun) summarize(res *relay.Result, status int, start time.Time) {
	out.Status, out.LatencyMillis = status, time.Since(start).Milliseconds()
	if out.Status == 0 || res.Status == 499 {
		out.Status = res.Status // 499: the client went away
	}
	for _, at := range res.Attempts {
		out.Attempts = append(out.Attempts, testRunAttempt{Target: at.TargetID, Status: at.Status, Error: at.Err})
	}
	if res.Target != nil {
		out.Provider, out.UpstreamModel = res.Target.ProviderName, res.Target.UpstreamModel
	}
	if out.Status == http.StatusOK {
		u := res.Usage
		out.Usage = &u
	}
}

// The events of a streamed test run (text/event-stream):
//
//	event: start    {"version","model","messages"}: the rendered request
//	event: delta    {"content"}: text as it arrives from the upstream
//	event: summary  PromptTestRun, with "output" (the whole text) instead of
//	                "completion"; "error" when the upstream failed, before
//	                or during the stream
//
// The summary is always the last event.
const testStreamDoc = "With \"stream\": true the answer is text/event-stream: `event: start` {version, model, messages}; " +
	"`event: delta` {content} for each piece of text as the upstream sends it; then `event: summary`, a PromptTestRun " +
	"with output (the whole text), finish_reason, usage, attempts and latency_ms, and error when the upstream failed. " +
	"Closing the connection cancels the upstream call."

// streamTest relays a streamed test run, turning the upstream's chunks
// into delta events as they arrive, and ends with the summary.
func (p *promptsAPI) streamTest(ctx context.Context, c *gin.Context, req *relay.Request, out *testRun) {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.Writer.WriteHeader(http.StatusOK)
	sw := &testStreamWriter{client: c.Writer, sse: sse.NewWriter(c.Writer), h: http.Header{}}
	start, _ := json.Marshal(map[string]any{"version": out.Version, "model": out.Model, "messages": out.Messages})
	sw.event("start", start)

	began := time.Now()
	res := p.relay.Chat(ctx, sw, req)
	out.summarize(res, sw.status, began)
	if sw.status == http.StatusOK {
		text := sw.text.String()
		out.Output, out.FinishReason, out.Error = &text, sw.finish, sw.failure
	} else if gjson.ValidBytes(sw.errBody.Bytes()) {
		out.Error = json.RawMessage(gjson.GetBytes(sw.errBody.Bytes(), "error").Raw)
	}
	summary, err := json.Marshal(out)
	if err != nil {
		return
	}
	sw.event("summary", summary)
}

// testStreamWriter is the relay's client in a streamed test run: it reads
// the OpenAI chunks the relay writes and sends their text on as delta
// events; an error answer (before the stream began) is kept for the
// summary.
type testStreamWriter struct {
	client  gin.ResponseWriter
	sse     *sse.Writer
	h       http.Header // the relay's headers; the stream's are set already
	status  int
	pending []byte // a partial event
	errBody bytes.Buffer
	text    strings.Builder
	finish  string
	failure json.RawMessage // an error event in the stream
	err     error           // the client went away
}

func (w *testStreamWriter) Header() http.Header { return w.h }

func (w *testStreamWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *testStreamWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.status != http.StatusOK {
		return w.errBody.Write(b)
	}
	if w.err != nil {
		return 0, w.err
	}
	w.pending = append(w.pending, b...)
	for {
		i := bytes.Index(w.pending, []byte("\n\n"))
		if i < 0 {
			break
		}
		w.chunk(w.pending[:i])
		w.pending = w.pending[i+2:]
	}
	return len(b), w.err
}

// Flush is a no-op: every event is flushed as it is sent.
func (w *testStreamWriter) Flush() {}

// chunk handles one event of the relay's OpenAI stream.
func (w *testStreamWriter) chunk(ev []byte) {
	var data []byte
	for _, line := range bytes.Split(ev, []byte("\n")) {
		if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			data = append(data, bytes.TrimPrefix(d, []byte(" "))...)
		}
	}
	if len(data) == 0 || string(data) == "[DONE]" || !gjson.ValidBytes(data) {
		return
	}
	if e := gjson.GetBytes(data, "error"); e.Exists() {
		w.failure = json.RawMessage(e.Raw)
		return
	}
	var delta strings.Builder
	gjson.GetBytes(data, "choices").ForEach(func(_, ch gjson.Result) bool {
		if ch.Get("index").Int() != 0 {
			return true
		}
		delta.WriteString(ch.Get("delta.content").String())
		if f := ch.Get("finish_reason").String(); f != "" {
			w.finish = f
		}
		return true
	})
	if delta.Len() == 0 {
		return
	}
	w.text.WriteString(delta.String())
	b, _ := json.Marshal(map[string]string{"content": delta.String()})
	w.event("delta", b)
}

// event sends one event to the client and flushes it; a failed write
// means the client went away, which ends the relay's call.
func (w *testStreamWriter) event(name string, data []byte) {
	if w.err != nil {
		return
	}
	if err := w.sse.Event(name, data); err != nil {
		w.err = err
		return
	}
	if err := http.NewResponseController(w.client).Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		w.err = err
	}
}

// bufferWriter keeps a relay answer in memory.
type bufferWriter struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (w *bufferWriter) Header() http.Header { return w.h }
func (w *bufferWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *bufferWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.buf.Write(b)
}

// The prompt operations and schemas of the OpenAPI document.
func init() {
	messageSchema := obj(object{"role": enum("system", "user", "assistant", "developer"),
		"content": object{"type": "string", "description": "text with {{name}} placeholders; each must be a property of variables_schema"}}, "role", "content")
	promptProps := object{"slug": object{"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$", "description": "the URL: POST /v1/prompts/{slug}"},
		"name": str(), "description": str(), "service_id": object{"type": "integer", "description": "the service whose approved subscribers may call the prompt"}}
	versionProps := object{"model": object{"type": "string", "description": "public model name"},
		"messages":          arr(messageSchema),
		"parameters":        object{"type": "object", "description": "default chat completions parameters: temperature, max_tokens, response_format, tools…"},
		"variables_schema":  object{"type": "object", "description": "JSON Schema (2020-12) of the variables: an object schema whose properties are the variables (types, required, enum, default, maxLength)"},
		"allowed_overrides": object{"type": "array", "items": str(), "description": "parameters a caller may set on a call; default max_tokens, max_completion_tokens, temperature, top_p, seed, user, stream_options"},
		"note":              object{"type": "string", "description": "what changed"}}
	schemas["Prompt"] = obj(object{"id": integer(), "slug": str(), "name": str(), "description": str(), "service_id": integer(),
		"service_slug": str(), "team_id": integer(), "latest_version": integer(),
		"published_version": object{"type": "integer", "description": "the live version; 0 when unpublished"},
		"published_by":      nullable(integer()), "published_by_email": str(), "published_at": nullable(dateTime()),
		"created_at": dateTime(), "updated_at": dateTime()})
	schemas["PromptVersion"] = withProps(obj(versionProps), object{"prompt_id": integer(), "version": integer(),
		"created_by": nullable(integer()), "created_by_email": str(), "created_at": dateTime()})
	schemas["PromptList"] = listOf("Prompt")
	schemas["PromptVersionList"] = listOf("PromptVersion")
	schemas["PromptDiff"] = obj(object{"from": integer(), "to": integer(),
		"messages": object{"type": "string", "description": "unified line diff of the messages"},
		"changes":  arr(obj(object{"path": str(), "from": object{"description": "value before; absent when added"}, "to": object{"description": "value after; absent when removed"}}))})
	schemas["PromptTestRun"] = obj(object{"version": integer(), "model": str(), "messages": arr(messageSchema),
		"status":        object{"type": "integer", "description": "the status a data-plane caller would have got"},
		"completion":    object{"type": "object", "description": "the prompt.completion answer when status is 200"},
		"error":         object{"type": "object", "description": "the error envelope's error otherwise"},
		"output":        object{"type": "string", "description": "streamed runs: the whole text of the answer"},
		"finish_reason": object{"type": "string", "description": "streamed runs: why the answer ended (stop, length…)"},
		"provider":      str(), "upstream_model": str(), "latency_ms": integer(),
		"usage": obj(object{"prompt_tokens": integer(), "completion_tokens": integer(), "total_tokens": integer(),
			"prompt_tokens_details": object{"type": "object"}, "completion_tokens_details": object{"type": "object"}}),
		"attempts": arr(obj(object{"target": str(), "status": integer(), "error": str()}))})

	promptBody := obj(promptProps, "slug", "name", "service_id")
	promptPatch := obj(object{"name": str(), "description": str(), "service_id": integer()})
	versionBody := obj(versionProps, "model", "messages")
	publishBody := obj(object{"version": object{"type": "integer", "minimum": 1, "description": "the version to make live; an older one rolls back"}}, "version")
	testBody := obj(object{"variables": object{"type": "object"}, "version": object{"type": "integer", "description": "any version, drafts included; default the published one, else the latest"},
		"overrides": object{"type": "object", "description": "allowed parameter overrides, e.g. {\"max_tokens\":50}"},
		"stream":    object{"type": "boolean", "description": "answer text/event-stream: the text as it arrives, then the PromptTestRun summary"}})
	operations = append(operations,
		operation{method: "GET", path: "/prompts", summary: "List prompts (members: their teams' services')", tag: "prompts", query: []param{q("service_id", "of this service", integer()), q("q", "substring of the slug or name", str())}, status: 200, response: "PromptList", errors: []int{400}},
		operation{method: "POST", path: "/prompts", summary: "Create a prompt (no version yet)", tag: "prompts", body: promptBody, status: 201, response: "Prompt", errors: []int{400, 403, 409}},
		operation{method: "GET", path: "/prompts/{id}", summary: "A prompt", tag: "prompts", status: 200, response: "Prompt", errors: []int{404}},
		operation{method: "PATCH", path: "/prompts/{id}", summary: "Change a prompt's name, description or service (the slug is fixed)", tag: "prompts", body: promptPatch, status: 200, response: "Prompt", errors: []int{400, 403, 404}},
		operation{method: "DELETE", path: "/prompts/{id}", summary: "Delete a prompt and its versions", tag: "prompts", status: 204, errors: []int{403, 404}},
		operation{method: "GET", path: "/prompts/{id}/versions", summary: "A prompt's versions, newest first (who saved each, and when)", tag: "prompts", status: 200, response: "PromptVersionList", errors: []int{400, 404}},
		operation{method: "POST", path: "/prompts/{id}/versions", summary: "Save a new immutable version; placeholders the schema does not declare are a 400", tag: "prompts", body: versionBody, status: 201, response: "PromptVersion", errors: []int{400, 403, 404}},
		operation{method: "GET", path: "/prompts/{id}/versions/{version}", summary: "One version", tag: "prompts", status: 200, response: "PromptVersion", errors: []int{400, 404}},
		operation{method: "GET", path: "/prompts/{id}/versions/{version}/diff/{against}", summary: "What changed from version {version} to version {against}", tag: "prompts", status: 200, response: "PromptDiff", errors: []int{400, 404}},
		operation{method: "POST", path: "/prompts/{id}/publish", summary: "Make a version live (publishing an older one is a rollback); 409 when its model was deleted", tag: "prompts", body: publishBody, status: 200, response: "Prompt", errors: []int{400, 403, 404, 409}},
		operation{method: "POST", path: "/prompts/{id}/unpublish", summary: "Take the prompt off the data plane (callers get 404)", tag: "prompts", body: obj(object{}), optionalBody: true, status: 200, response: "Prompt", errors: []int{403, 404}},
		operation{method: "POST", path: "/prompts/{id}/test", summary: "Test-run any version (drafts included) with variables, through the model's targets", tag: "prompts", body: testBody, status: 200, response: "PromptTestRun", stream: testStreamDoc, errors: []int{400, 403, 404, 409}},
	)
}
