// Package anthropicfake is a fake Anthropic Messages API: an http.Handler
// speaking the real wire format (POST /v1/messages, streamed and not, tool
// use, the full event sequence with ping, the real error envelope, and
// POST /v1/messages/count_tokens), for end-to-end tests, the load benchmark
// and demo mode. Replies are deterministic echoes; faults are scripted.
// Like the real API, every request must carry an anthropic-version header,
// and x-api-key when Fake.APIKey is set.
//
// It imports only the standard library (no Gin, no GORM).
package anthropicfake

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/sluicehq/sluice/internal/fakes/fakekit"
	"io"
	"net/http"
	"strings"
	"time"
)

// Fault is a misbehaviour applied to one request. Faults are consumed in
// the order they were scripted, one per request.
type Fault struct {
	// Status answers with this HTTP status and Anthropic's error envelope.
	Status int
	// RetryAfter is sent as the Retry-After header with a Status fault.
	RetryAfter string
	// Body replaces the answer body (with Status, or 200 when Status is 0).
	Body string
	// DelayFirstByte waits this long before answering.
	DelayFirstByte time.Duration
	// CutAfterChunks ends a stream after this many events, without
	// message_stop.
	CutAfterChunks int
	// MalformedSSE sends a content_block_delta whose data is not JSON
	// after message_start.
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

// Fake is the fake Anthropic API. The zero value is not ready; use New.
type Fake struct {
	// APIKey, when non-empty, is the x-api-key every request must carry.
	APIKey string
	// FixedReply, when set, is the assistant's text for every request
	// instead of the echo of the last user message (for benchmarks).
	FixedReply string

	fakekit.Recorder[Fault]
}

// New returns a fake with no faults scripted and no key required.
func New() *Fake { return &Fake{} }

// ServeHTTP serves POST /v1/messages and POST /v1/messages/count_tokens.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "could not read the request body")
		return
	}
	fault, seq := f.Take(r, body)
	w.Header().Set("Request-Id", fmt.Sprintf("req_fake_%d", seq))
	if r.Method != http.MethodPost || (r.URL.Path != "/v1/messages" && r.URL.Path != "/v1/messages/count_tokens") {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	if f.APIKey != "" && r.Header.Get("X-Api-Key") != f.APIKey {
		writeError(w, http.StatusUnauthorized, "invalid x-api-key")
		return
	}
	if r.Header.Get("Anthropic-Version") == "" {
		writeError(w, http.StatusBadRequest, "anthropic-version: header is required")
		return
	}
	ctx := r.Context()
	if fault.Hang {
		<-ctx.Done()
		return
	}
	if !fakekit.Sleep(ctx, fault.DelayFirstByte) {
		return
	}
	if fault.Status != 0 {
		if fault.RetryAfter != "" {
			w.Header().Set("Retry-After", fault.RetryAfter)
		}
		if fault.Body != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(fault.Status)
			_, _ = io.WriteString(w, fault.Body)
			return
		}
		writeError(w, fault.Status, defaultMessage(fault.Status))
		return
	}
	if fault.Body != "" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, fault.Body)
		return
	}

	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "The request body is not valid JSON: "+err.Error())
		return
	}
	if req.Model == "" {
		writeError(w, http.StatusBadRequest, "model: Field required")
		return
	}
	if len(req.Messages) == 0 {
		writeError(w, http.StatusBadRequest, "messages: Field required")
		return
	}
	if r.URL.Path == "/v1/messages/count_tokens" {
		writeJSON(w, map[string]int{"input_tokens": req.promptWords()})
		return
	}
	if req.MaxTokens == nil {
		writeError(w, http.StatusBadRequest, "max_tokens: Field required")
		return
	}
	m := req.reply(seq, f.FixedReply)
	if !req.Stream {
		if fault.InvalidJSON {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":"msg_broken","type":"message","content":[{"type":"text","text":"unterminated`)
			return
		}
		writeJSON(w, m)
		return
	}
	f.stream(ctx, w, m, fault)
}

// stream writes m as Anthropic's event sequence.
func (f *Fake) stream(ctx context.Context, w http.ResponseWriter, m *message, fault Fault) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	events := streamEvents(m)
	for i, ev := range events {
		if fault.CutAfterChunks > 0 && i >= fault.CutAfterChunks {
			_ = rc.Flush()
			return
		}
		if i > 0 && !fakekit.Sleep(ctx, fault.DelayBetweenChunks) {
			return
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.name, ev.data); err != nil {
			return
		}
		if i == 0 && fault.MalformedSSE {
			_, _ = io.WriteString(w, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_de\n\n")
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// request is the part of a Messages request the fake reads.
type request struct {
	Model     string          `json:"model"`
	MaxTokens *int            `json:"max_tokens"`
	System    json.RawMessage `json:"system"`
	Messages  []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Name string `json:"name"`
	} `json:"tools"`
	Stream bool `json:"stream"`
}

// contentBlock is the part of a content block the fake reads.
type contentBlock struct {
	Type    string          `json:"type"`
	Text    string          `json:"text"`
	Content json.RawMessage `json:"content"`
}

// texts returns the text of a string or block content, including the text
// of tool results.
func texts(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var blocks []contentBlock
	if json.Unmarshal(raw, &blocks) != nil {
		return nil
	}
	var out []string
	for _, b := range blocks {
		switch b.Type {
		case "text":
			out = append(out, b.Text)
		case "tool_result":
			out = append(out, texts(b.Content)...)
		}
	}
	return out
}

// lastUserText is the text of the last user message, parts joined by a space.
func (r *request) lastUserText() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return strings.Join(texts(r.Messages[i].Content), " ")
		}
	}
	return ""
}

// promptWords counts the words of the system prompt and every message.
func (r *request) promptWords() int {
	n := 0
	if len(r.System) > 0 {
		for _, t := range texts(r.System) {
			n += len(strings.Fields(t))
		}
	}
	for _, m := range r.Messages {
		for _, t := range texts(m.Content) {
			n += len(strings.Fields(t))
		}
	}
	return n
}

// message is the Message the fake answers.
type message struct {
	ID           string  `json:"id"`
	Type         string  `json:"type"`
	Role         string  `json:"role"`
	Model        string  `json:"model"`
	Content      []any   `json:"content"`
	StopReason   string  `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
	Usage        usage   `json:"usage"`
}

type usage struct {
	InputTokens              int    `json:"input_tokens"`
	CacheCreationInputTokens int    `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int    `json:"cache_read_input_tokens"`
	OutputTokens             int    `json:"output_tokens"`
	ServiceTier              string `json:"service_tier,omitempty"`
}

type textBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type toolUseBlock struct {
	Type  string          `json:"type"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

// reply builds the echo (or fixed) text or the tool-use answer. A reply
// longer than max_tokens words is cut there and stops for max_tokens.
func (r *request) reply(seq int, fixed string) *message {
	m := &message{
		ID: fmt.Sprintf("msg_fake_%d", seq), Type: "message", Role: "assistant", Model: r.Model,
		StopReason: "end_turn",
		Usage:      usage{InputTokens: r.promptWords(), ServiceTier: "standard"},
	}
	last := r.lastUserText()
	words := strings.Fields(last)
	useTools := len(r.Tools) > 0 && contains(words, "use_tools")
	useTool := len(r.Tools) > 0 && contains(words, "use_tool")
	if useTool || useTools {
		tools := r.Tools[:1]
		if useTools {
			tools = r.Tools
		}
		args, _ := json.Marshal(map[string]string{"echo": last})
		for i, t := range tools {
			m.Content = append(m.Content, toolUseBlock{Type: "tool_use", ID: fmt.Sprintf("toolu_%d", i+1), Name: t.Name, Input: args})
			m.Usage.OutputTokens += len(strings.Fields(string(args)))
		}
		m.StopReason = "tool_use"
		return m
	}
	text := "echo: " + last
	if fixed != "" {
		text = fixed
	}
	if n := len(strings.Fields(text)); r.MaxTokens != nil && n > *r.MaxTokens {
		text = strings.Join(strings.Fields(text)[:*r.MaxTokens], " ")
		m.StopReason = "max_tokens"
	}
	m.Content = []any{textBlock{Type: "text", Text: text}}
	m.Usage.OutputTokens = len(strings.Fields(text))
	return m
}

func contains(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// event is one server-sent event.
type event struct {
	name string
	data []byte
}

// streamEvents renders m as the event sequence the real API sends:
// message_start, ping, then per block content_block_start, deltas,
// content_block_stop, then message_delta and message_stop.
func streamEvents(m *message) []event {
	var evs []event
	add := func(name string, v any) {
		b, _ := json.Marshal(v)
		evs = append(evs, event{name, b})
	}
	start := *m
	start.Content = []any{}
	start.Usage.OutputTokens = 1
	add("message_start", map[string]any{"type": "message_start", "message": struct {
		message
		StopReason *string `json:"stop_reason"`
	}{message: start}})
	add("ping", map[string]string{"type": "ping"})
	for i, c := range m.Content {
		switch b := c.(type) {
		case textBlock:
			add("content_block_start", map[string]any{"type": "content_block_start", "index": i, "content_block": textBlock{Type: "text", Text: ""}})
			for _, piece := range splitWords(b.Text) {
				add("content_block_delta", map[string]any{"type": "content_block_delta", "index": i, "delta": map[string]string{"type": "text_delta", "text": piece}})
			}
		case toolUseBlock:
			add("content_block_start", map[string]any{"type": "content_block_start", "index": i, "content_block": toolUseBlock{Type: "tool_use", ID: b.ID, Name: b.Name, Input: json.RawMessage(`{}`)}})
			in := string(b.Input)
			half := len(in) / 2
			for _, piece := range []string{"", in[:half], in[half:]} {
				add("content_block_delta", map[string]any{"type": "content_block_delta", "index": i, "delta": map[string]string{"type": "input_json_delta", "partial_json": piece}})
			}
		}
		add("content_block_stop", map[string]any{"type": "content_block_stop", "index": i})
	}
	add("message_delta", map[string]any{
		"type":  "message_delta",
		"delta": map[string]any{"stop_reason": m.StopReason, "stop_sequence": nil},
		"usage": map[string]int{
			"input_tokens": m.Usage.InputTokens, "cache_creation_input_tokens": 0,
			"cache_read_input_tokens": 0, "output_tokens": m.Usage.OutputTokens,
		},
	})
	add("message_stop", map[string]string{"type": "message_stop"})
	return evs
}

// splitWords splits s into one piece per word, each but the first keeping
// the space before it, so the pieces concatenate to s.
func splitWords(s string) []string {
	var out []string
	start := 0
	for i := 1; i < len(s); i++ {
		if s[i] == ' ' && s[i-1] != ' ' {
			out = append(out, s[start:i])
			start = i
		}
	}
	return append(out, s[start:])
}

// errorType is Anthropic's error type for a status.
func errorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusPaymentRequired:
		return "billing_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusGatewayTimeout:
		return "timeout_error"
	case 529:
		return "overloaded_error"
	}
	if status < 500 {
		return "invalid_request_error"
	}
	return "api_error"
}

func defaultMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Number of request tokens has exceeded your per-minute rate limit"
	case 529:
		return "Overloaded"
	case http.StatusInternalServerError:
		return "Internal server error"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return fmt.Sprintf("status %d", status)
}

// writeError writes Anthropic's error envelope.
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	if status == 529 || status == http.StatusTooManyRequests || status >= 500 {
		w.Header().Set("X-Should-Retry", "true")
	}
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{
		"type":       "error",
		"error":      map[string]string{"type": errorType(status), "message": msg},
		"request_id": w.Header().Get("Request-Id"),
	})
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(v)
	_, _ = w.Write(b)
}
