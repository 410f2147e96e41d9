package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sluicehq/sluice/providers"
)

// Ingress: Sluice's /v1/messages endpoint takes Anthropic Messages requests
// and answers them with any provider. These pure functions translate the
// client's request to the unified form and the unified answer back to the
// Anthropic wire format. What the unified form cannot hold is dropped:
// top_k, thinking (budgets and signatures), cache_control, server tools
// (rejected), container/mcp fields, is_error on tool results.

// RequestToUnified translates an Anthropic Messages request body into a
// unified chat request. Invalid requests yield a *providers.Error with
// Status 400 and Param naming the field at fault.
func RequestToUnified(body []byte) (*providers.ChatRequest, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("", "the request body is empty; send a JSON Messages request")
	}
	if !utf8.Valid(body) {
		return nil, badRequest("", "the request body is not valid UTF-8")
	}
	var in msgRequest
	if err := json.Unmarshal(body, &in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, badRequest(te.Field, "%s: expected %s, got %s", te.Field, te.Type, te.Value)
		}
		return nil, badRequest("", "the request body is not valid JSON: %v", err)
	}
	if in.Model == "" {
		return nil, badRequest("model", "model: field required")
	}
	if in.MaxTokens == nil {
		return nil, badRequest("max_tokens", "max_tokens: field required")
	}
	if *in.MaxTokens < 1 {
		return nil, badRequest("max_tokens", "max_tokens: must be at least 1")
	}
	if len(in.Messages) == 0 {
		return nil, badRequest("messages", "messages: at least one message is required")
	}
	out := &providers.ChatRequest{
		Model:       in.Model,
		MaxTokens:   in.MaxTokens,
		Temperature: in.Temperature,
		TopP:        in.TopP,
		Stop:        providers.Stop(in.StopSequences),
		Stream:      in.Stream,
	}
	if in.Stream {
		out.StreamOptions = &providers.StreamOptions{IncludeUsage: true}
	}
	if in.Metadata != nil {
		out.User = in.Metadata.UserID
	}

	if len(in.System) > 0 && !bytes.Equal(bytes.TrimSpace(in.System), []byte("null")) {
		sys, err := systemMessage(in.System)
		if err != nil {
			return nil, err
		}
		if sys != nil {
			out.Messages = append(out.Messages, *sys)
		}
	}
	for i, m := range in.Messages {
		msgs, err := unifiedMessages(m, "messages["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		out.Messages = append(out.Messages, msgs...)
	}

	for i, t := range in.Tools {
		if t.Type != "" && t.Type != "custom" {
			return nil, badRequest(fmt.Sprintf("tools[%d].type", i), "tool type %q (a server tool) is not supported on this model's route; declare custom tools with name and input_schema", t.Type)
		}
		if t.Name == "" {
			return nil, badRequest(fmt.Sprintf("tools[%d].name", i), "tools[%d].name: field required", i)
		}
		out.Tools = append(out.Tools, providers.Tool{Type: "function", Function: providers.FunctionDef{
			Name: t.Name, Description: t.Description, Parameters: t.InputSchema,
		}})
	}
	if tc := in.ToolChoice; tc != nil {
		switch tc.Type {
		case "auto":
			out.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceAuto}
		case "any":
			out.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceRequired}
		case "none":
			out.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceNone}
		case "tool":
			if tc.Name == "" {
				return nil, badRequest("tool_choice.name", "tool_choice.name: field required for type tool")
			}
			out.ToolChoice = &providers.ToolChoice{Function: tc.Name}
		default:
			return nil, badRequest("tool_choice.type", "tool_choice.type must be auto, any, tool or none, got %q", tc.Type)
		}
		if tc.DisableParallelToolUse {
			f := false
			out.ParallelToolCalls = &f
		}
	}
	if oc := in.OutputConfig; oc != nil {
		if f := oc.Format; f != nil {
			if f.Type != "json_schema" || isEmptyJSON(f.Schema) {
				return nil, badRequest("output_config.format", "output_config.format must be {\"type\":\"json_schema\",\"schema\":{…}}")
			}
			strict := true
			out.ResponseFormat = &providers.ResponseFormat{Type: "json_schema", JSONSchema: &providers.JSONSchema{Name: "response", Schema: f.Schema, Strict: &strict}}
		}
		switch oc.Effort {
		case "low", "medium", "high":
			out.ReasoningEffort = oc.Effort
		case "xhigh", "max":
			out.ReasoningEffort = "high"
		}
	}
	return out, nil
}

// systemMessage turns the top-level system prompt (a string or text
// blocks) into one system message.
func systemMessage(raw json.RawMessage) (*providers.Message, error) {
	var s string
	if isJSONString(raw) && json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil, nil
		}
		return &providers.Message{Role: "system", Content: providers.TextContent(s)}, nil
	}
	var blocks []block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, badRequest("system", "system must be a string or a list of text blocks")
	}
	var parts []providers.ContentPart
	for i, b := range blocks {
		if b.Type != "text" {
			return nil, badRequest(fmt.Sprintf("system[%d].type", i), "system blocks must be text blocks, got %q", b.Type)
		}
		parts = append(parts, providers.ContentPart{Type: providers.PartText, Text: b.Text})
	}
	switch len(parts) {
	case 0:
		return nil, nil
	case 1:
		return &providers.Message{Role: "system", Content: providers.TextContent(parts[0].Text)}, nil
	}
	return &providers.Message{Role: "system", Content: providers.Content{Parts: parts}}, nil
}

// unifiedMessages turns one Anthropic turn into unified messages: a user
// turn's tool_result blocks become tool messages (first, as OpenAI wants
// them right after the assistant's calls), the rest one user message.
func unifiedMessages(m msgParam, param string) ([]providers.Message, error) {
	if m.Role != "user" && m.Role != "assistant" {
		return nil, badRequest(param+".role", "role must be user or assistant, got %q", m.Role)
	}
	var s string
	if isJSONString(m.Content) && json.Unmarshal(m.Content, &s) == nil {
		return []providers.Message{{Role: m.Role, Content: providers.TextContent(s)}}, nil
	}
	var blocks []block
	if err := json.Unmarshal(m.Content, &blocks); err != nil || blocks == nil {
		return nil, badRequest(param+".content", "content must be a string or a list of content blocks")
	}
	if m.Role == "assistant" {
		msg, err := assistantMessage(blocks, param)
		if err != nil {
			return nil, err
		}
		return []providers.Message{msg}, nil
	}
	var out []providers.Message
	var parts []providers.ContentPart
	for j, b := range blocks {
		bp := param + ".content[" + strconv.Itoa(j) + "]"
		if b.Type == "tool_result" {
			if b.ToolUseID == "" {
				return nil, badRequest(bp+".tool_use_id", "tool_result needs tool_use_id")
			}
			content, media, err := toolResultContent(b.Content, bp+".content")
			if err != nil {
				return nil, err
			}
			out = append(out, providers.Message{Role: "tool", ToolCallID: b.ToolUseID, Content: content})
			parts = append(parts, media...)
			continue
		}
		p, err := unifiedPart(b, bp)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	switch {
	case len(parts) == 1 && parts[0].Type == providers.PartText:
		out = append(out, providers.Message{Role: "user", Content: providers.TextContent(parts[0].Text)})
	case len(parts) > 0:
		out = append(out, providers.Message{Role: "user", Content: providers.Content{Parts: parts}})
	case len(out) == 0:
		out = append(out, providers.Message{Role: "user", Content: providers.Content{Parts: []providers.ContentPart{}}})
	}
	return out, nil
}

// assistantMessage joins an assistant turn's text blocks into its content,
// tool_use blocks into tool calls and thinking into reasoning content.
func assistantMessage(blocks []block, param string) (providers.Message, error) {
	msg := providers.Message{Role: "assistant"}
	var text, thinking strings.Builder
	hasText := false
	for j, b := range blocks {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
			hasText = true
		case "thinking":
			thinking.WriteString(b.Thinking)
		case "redacted_thinking":
		case "tool_use":
			if b.ID == "" || b.Name == "" {
				return msg, badRequest(fmt.Sprintf("%s.content[%d]", param, j), "tool_use needs id and name")
			}
			args, err := argumentsOf(b.Input)
			if err != nil {
				return msg, badRequest(fmt.Sprintf("%s.content[%d].input", param, j), "tool_use input must be a JSON object")
			}
			msg.ToolCalls = append(msg.ToolCalls, providers.ToolCall{ID: b.ID, Type: "function", Function: providers.FunctionCall{Name: b.Name, Arguments: args}})
		default:
			return msg, badRequest(fmt.Sprintf("%s.content[%d].type", param, j), "content block type %q is not supported in assistant turns on this model's route", b.Type)
		}
	}
	if hasText || len(msg.ToolCalls) == 0 {
		msg.Content = providers.TextContent(text.String())
	}
	msg.ReasoningContent = thinking.String()
	return msg, nil
}

// unifiedPart turns a user content block (text, image, document) into a
// content part.
func unifiedPart(b block, param string) (providers.ContentPart, error) {
	switch b.Type {
	case "text":
		return providers.ContentPart{Type: providers.PartText, Text: b.Text}, nil
	case "image":
		u, err := sourceURL(b.Source, param)
		if err != nil {
			return providers.ContentPart{}, err
		}
		return providers.ContentPart{Type: providers.PartImageURL, ImageURL: &providers.ImageURL{URL: u}}, nil
	case "document":
		if b.Source == nil || b.Source.Type != "base64" {
			return providers.ContentPart{}, badRequest(param+".source", "only base64 documents are supported on this model's route")
		}
		u, err := sourceURL(b.Source, param)
		if err != nil {
			return providers.ContentPart{}, err
		}
		return providers.ContentPart{Type: providers.PartFile, File: &providers.File{FileData: u}}, nil
	default:
		return providers.ContentPart{}, badRequest(param+".type", "content block type %q is not supported in user turns on this model's route", b.Type)
	}
}

// sourceURL turns an image or document source into a data: or http(s) URL.
func sourceURL(s *source, param string) (string, error) {
	switch {
	case s == nil:
		return "", badRequest(param+".source", "source: field required")
	case s.Type == "base64" && s.MediaType != "" && s.Data != "":
		return "data:" + s.MediaType + ";base64," + s.Data, nil
	case s.Type == "url" && s.URL != "":
		return s.URL, nil
	default:
		return "", badRequest(param+".source", "source must be {type: base64, media_type, data} or {type: url, url}")
	}
}

// toolResultContent returns a tool result's text as the tool message
// content, and its images as parts for the following user message (tool
// messages carry text only).
func toolResultContent(raw json.RawMessage, param string) (providers.Content, []providers.ContentPart, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return providers.TextContent(""), nil, nil
	}
	var s string
	if isJSONString(raw) && json.Unmarshal(raw, &s) == nil {
		return providers.TextContent(s), nil, nil
	}
	var blocks []block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return providers.Content{}, nil, badRequest(param, "tool_result content must be a string or a list of blocks")
	}
	var text []string
	var media []providers.ContentPart
	for j, b := range blocks {
		p, err := unifiedPart(b, fmt.Sprintf("%s[%d]", param, j))
		if err != nil {
			return providers.Content{}, nil, err
		}
		if p.Type == providers.PartText {
			text = append(text, p.Text)
		} else {
			media = append(media, p)
		}
	}
	return providers.TextContent(strings.Join(text, "\n")), media, nil
}

// isJSONString reports whether raw holds a JSON string (and not a list).
func isJSONString(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '"'
}

// ResponseFromUnified renders a unified chat completion as an Anthropic
// Message. requestedModel is the model name the client asked for; the
// response's own model is used when it is empty.
func ResponseFromUnified(resp *providers.ChatResponse, requestedModel string) ([]byte, error) {
	if resp == nil {
		return nil, errors.New("anthropic: nil response")
	}
	m := outMessage{
		ID: messageID(resp.ID), Type: "message", Role: "assistant", Model: requestedModel,
		Content: []any{},
	}
	if m.Model == "" {
		m.Model = resp.Model
	}
	finish := ""
	if len(resp.Choices) > 0 {
		c := resp.Choices[0]
		finish = c.FinishReason
		if c.Message.ReasoningContent != "" {
			m.Content = append(m.Content, outThinking{Type: "thinking", Thinking: c.Message.ReasoningContent})
		}
		text := c.Message.Content.String()
		if text == "" && c.Message.Refusal != "" {
			text = c.Message.Refusal
		}
		if text != "" {
			m.Content = append(m.Content, outText{Type: "text", Text: text})
		}
		for i, tc := range c.Message.ToolCalls {
			input, err := toolInput(tc.Function.Arguments)
			if err != nil {
				return nil, fmt.Errorf("anthropic: tool call %d of the upstream answer has arguments that are not a JSON object: %w", i, err)
			}
			m.Content = append(m.Content, outToolUse{Type: "tool_use", ID: toolUseID(tc.ID, i), Name: tc.Function.Name, Input: input})
		}
		sr := stopReason(finish, len(c.Message.ToolCalls) > 0)
		m.StopReason = &sr
	} else {
		sr := "end_turn"
		m.StopReason = &sr
	}
	m.Usage = outUsageOf(resp.Usage)
	return json.Marshal(m)
}

// outMessage is a Message as Sluice writes it.
type outMessage struct {
	ID           string   `json:"id"`
	Type         string   `json:"type"`
	Role         string   `json:"role"`
	Model        string   `json:"model"`
	Content      []any    `json:"content"`
	StopReason   *string  `json:"stop_reason"`
	StopSequence *string  `json:"stop_sequence"`
	Usage        outUsage `json:"usage"`
}

type outText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type outThinking struct {
	Type      string `json:"type"`
	Thinking  string `json:"thinking"`
	Signature string `json:"signature"`
}

type outToolUse struct {
	Type  string          `json:"type"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

type outUsage struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	OutputTokens             int `json:"output_tokens"`
}

// outUsageOf splits unified prompt tokens back into Anthropic's uncached
// input, cache reads and cache writes.
func outUsageOf(u *providers.Usage) outUsage {
	if u == nil {
		return outUsage{}
	}
	o := outUsage{OutputTokens: u.CompletionTokens}
	if d := u.PromptTokensDetails; d != nil {
		o.CacheReadInputTokens = d.CachedTokens
		o.CacheCreationInputTokens = d.CacheCreationTokens
	}
	o.InputTokens = max(u.PromptTokens-o.CacheReadInputTokens-o.CacheCreationInputTokens, 0)
	return o
}

// stopReason maps an OpenAI finish reason to an Anthropic stop_reason. A
// message with tool calls stops for tool_use whatever the upstream said.
func stopReason(finish string, calls bool) string {
	switch {
	case finish == providers.FinishLength:
		return "max_tokens"
	case finish == providers.FinishContentFilter:
		return "refusal"
	case finish == providers.FinishToolCalls || finish == "function_call" || calls:
		return "tool_use"
	default:
		return "end_turn"
	}
}

// messageID gives a unified id Anthropic's msg_ prefix.
func messageID(id string) string {
	if strings.HasPrefix(id, "msg_") {
		return id
	}
	if id == "" {
		return "msg_sluice"
	}
	return "msg_" + strings.TrimPrefix(id, "chatcmpl-")
}

// toolUseID returns the call's id, or a stable one when the upstream gave
// none.
func toolUseID(id string, i int) string {
	if id != "" {
		return id
	}
	return fmt.Sprintf("toolu_%d", i+1)
}

// Event is one server-sent event of an Anthropic stream: write it with
// sse.Writer.Event(e.Name, e.Data).
type Event struct {
	Name string
	Data []byte
}

// StreamEncoder turns unified chunks into Anthropic stream events:
// message_start, content_block_start/delta/stop for text, thinking and
// tool_use blocks, then message_delta and message_stop from Finish. It is
// used by one stream at a time.
type StreamEncoder struct {
	model    string
	started  bool
	finished bool
	open     int // index of the open block; -1 when none
	openKind blockKind
	next     int         // index of the next block
	tools    map[int]int // unified tool call index → block index
	lastTool int         // unified index of the latest tool call
	finish   string
	calls    bool
	usage    *providers.Usage
}

// NewStreamEncoder returns an encoder that names requestedModel in its
// message_start (the chunk's own model when empty).
func NewStreamEncoder(requestedModel string) *StreamEncoder {
	return &StreamEncoder{model: requestedModel, open: -1, tools: map[int]int{}, lastTool: -1}
}

// Encode returns the events for one unified chunk (possibly none).
func (e *StreamEncoder) Encode(c *providers.ChatChunk) ([]Event, error) {
	if c == nil || e.finished {
		return nil, nil
	}
	var evs []Event
	if !e.started {
		evs = e.start(c.ID, c.Model, evs)
	}
	if c.Usage != nil {
		e.usage = c.Usage
	}
	for _, ch := range c.Choices {
		if ch.Index != 0 {
			continue
		}
		d := ch.Delta
		if d.ReasoningContent != nil && *d.ReasoningContent != "" {
			evs = e.ensure(blockThinking, evs)
			evs = append(evs, e.delta(e.open, deltaThinking{Type: "thinking_delta", Thinking: *d.ReasoningContent}))
		}
		text := ""
		if d.Content != nil {
			text = *d.Content
		}
		if d.Refusal != nil {
			text += *d.Refusal
		}
		if text != "" {
			evs = e.ensure(blockText, evs)
			evs = append(evs, e.delta(e.open, deltaText{Type: "text_delta", Text: text}))
		}
		for _, tc := range d.ToolCalls {
			idx := e.lastTool
			if tc.Index != nil {
				idx = *tc.Index
			} else if tc.ID != "" || idx < 0 {
				idx++
			}
			bi, ok := e.tools[idx]
			if !ok {
				evs = e.closeOpen(evs)
				bi = e.next
				e.next++
				e.open, e.openKind = bi, blockTool
				e.tools[idx] = bi
				e.calls = true
				evs = append(evs, mustEvent("content_block_start", startEvent{
					Type: "content_block_start", Index: bi,
					ContentBlock: outToolUse{Type: "tool_use", ID: toolUseID(tc.ID, idx), Name: tc.Function.Name, Input: json.RawMessage(`{}`)},
				}))
			}
			e.lastTool = idx
			if tc.Function.Arguments != "" {
				evs = append(evs, e.delta(bi, deltaJSON{Type: "input_json_delta", PartialJSON: tc.Function.Arguments}))
			}
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			e.finish = *ch.FinishReason
		}
	}
	return evs, nil
}

// Finish returns the closing events: content_block_stop of the open block,
// message_delta with the stop reason and usage, message_stop. Call it once
// the upstream stream ended cleanly.
func (e *StreamEncoder) Finish() []Event {
	if e.finished {
		return nil
	}
	var evs []Event
	if !e.started {
		evs = e.start("", "", evs)
	}
	evs = e.closeOpen(evs)
	e.finished = true
	sr := stopReason(e.finish, e.calls)
	u := outUsageOf(e.usage)
	evs = append(evs,
		mustEvent("message_delta", messageDeltaEvent{Type: "message_delta", Delta: stopDelta{StopReason: sr}, Usage: u}),
		mustEvent("message_stop", typeOnly{Type: "message_stop"}),
	)
	return evs
}

// Error returns the error event that ends a stream that failed after its
// first byte. The message is the upstream's when it gave one.
func (e *StreamEncoder) Error(err error) Event {
	e.finished = true
	status, msg := http.StatusBadGateway, "The upstream provider's stream failed; retry the request."
	var pe *providers.Error
	if errors.As(err, &pe) {
		if pe.Status != 0 {
			status = pe.Status
		}
		if pe.Message != "" {
			msg = pe.Message
		}
	}
	if errors.Is(err, providers.ErrTruncated) {
		msg = "The upstream provider's stream ended before it was complete; retry the request."
	}
	return Event{Name: "error", Data: ErrorBody(status, msg)}
}

func (e *StreamEncoder) start(id, model string, evs []Event) []Event {
	e.started = true
	if e.model == "" {
		e.model = model
	}
	return append(evs, mustEvent("message_start", messageStartEvent{Type: "message_start", Message: outMessage{
		ID: messageID(id), Type: "message", Role: "assistant", Model: e.model, Content: []any{},
	}}))
}

// ensure opens a block of kind unless one is open.
func (e *StreamEncoder) ensure(kind blockKind, evs []Event) []Event {
	if e.open >= 0 && e.openKind == kind {
		return evs
	}
	evs = e.closeOpen(evs)
	e.open, e.openKind = e.next, kind
	e.next++
	var cb any = outText{Type: "text"}
	if kind == blockThinking {
		cb = outThinking{Type: "thinking"}
	}
	return append(evs, mustEvent("content_block_start", startEvent{Type: "content_block_start", Index: e.open, ContentBlock: cb}))
}

func (e *StreamEncoder) closeOpen(evs []Event) []Event {
	if e.open < 0 {
		return evs
	}
	evs = append(evs, mustEvent("content_block_stop", indexEvent{Type: "content_block_stop", Index: e.open}))
	e.open = -1
	return evs
}

func (e *StreamEncoder) delta(index int, d any) Event {
	return mustEvent("content_block_delta", deltaEvent{Type: "content_block_delta", Index: index, Delta: d})
}

// mustEvent encodes an event; the payloads are plain structs of strings,
// numbers and valid raw JSON, which cannot fail to encode.
func mustEvent(name string, v any) Event {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("anthropic: encoding %s event: %v", name, err))
	}
	return Event{Name: name, Data: b}
}

type typeOnly struct {
	Type string `json:"type"`
}

type messageStartEvent struct {
	Type    string     `json:"type"`
	Message outMessage `json:"message"`
}

type startEvent struct {
	Type         string `json:"type"`
	Index        int    `json:"index"`
	ContentBlock any    `json:"content_block"`
}

type indexEvent struct {
	Type  string `json:"type"`
	Index int    `json:"index"`
}

type deltaEvent struct {
	Type  string `json:"type"`
	Index int    `json:"index"`
	Delta any    `json:"delta"`
}

type deltaText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type deltaThinking struct {
	Type     string `json:"type"`
	Thinking string `json:"thinking"`
}

type deltaJSON struct {
	Type        string `json:"type"`
	PartialJSON string `json:"partial_json"`
}

type stopDelta struct {
	StopReason   string  `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
}

type messageDeltaEvent struct {
	Type  string    `json:"type"`
	Delta stopDelta `json:"delta"`
	Usage outUsage  `json:"usage"`
}

// ErrorBody returns Anthropic's error envelope for status, with the error
// type Anthropic uses for that status.
func ErrorBody(status int, message string) []byte {
	var env errorEnvelope
	env.Type = "error"
	env.Error.Type = ErrorType(status)
	env.Error.Message = message
	b, _ := json.Marshal(env)
	return b
}

// ErrorType returns the Anthropic error type for an HTTP status.
func ErrorType(status int) string {
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
	case http.StatusServiceUnavailable, 529:
		return "overloaded_error"
	}
	if status >= 400 && status < 500 {
		return "invalid_request_error"
	}
	return "api_error"
}
