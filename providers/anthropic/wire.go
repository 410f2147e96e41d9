package anthropic

import "encoding/json"

// The Anthropic Messages API wire types, as checked against
// anthropic-sdk-go v1.84.0 (message.go) and the API reference. One block
// type serves every content block kind, in requests and responses; fields a
// kind does not use stay empty and are omitted.

// msgRequest is a POST /v1/messages body.
type msgRequest struct {
	Model         string          `json:"model"`
	System        json.RawMessage `json:"system,omitempty"` // string or text blocks
	Messages      []msgParam      `json:"messages"`
	MaxTokens     *int            `json:"max_tokens,omitempty"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	TopK          *int            `json:"top_k,omitempty"`
	StopSequences []string        `json:"stop_sequences,omitempty"`
	Stream        bool            `json:"stream,omitempty"`
	Metadata      *metadata       `json:"metadata,omitempty"`
	Tools         []toolParam     `json:"tools,omitempty"`
	ToolChoice    *toolChoice     `json:"tool_choice,omitempty"`
	OutputConfig  *outputConfig   `json:"output_config,omitempty"`
	Thinking      json.RawMessage `json:"thinking,omitempty"`
}

// msgParam is one turn of the conversation. Content is a string or a list of
// blocks on input; this package always sends blocks.
type msgParam struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// block is any content block: text, image, document, tool_use, tool_result,
// thinking, redacted_thinking, and server-tool blocks we pass over.
type block struct {
	Type string `json:"type"`
	// text
	Text string `json:"text,omitempty"`
	// image, document
	Source *source `json:"source,omitempty"`
	// tool_use
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
	// tool_result: Content is a string or a list of text/image blocks.
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
	// thinking, redacted_thinking
	Thinking  string `json:"thinking,omitempty"`
	Signature string `json:"signature,omitempty"`
	Data      string `json:"data,omitempty"`
	// CacheControl is passed over untouched when a client sets it.
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// source is where an image or document comes from: inline base64 or a URL.
type source struct {
	Type      string `json:"type"` // base64 | url
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

// metadata is the request metadata Anthropic accepts: only user_id.
type metadata struct {
	UserID string `json:"user_id,omitempty"`
}

// toolParam declares a client tool. Server tools (web_search_…, bash_…)
// carry a Type and no InputSchema.
type toolParam struct {
	Type         string          `json:"type,omitempty"`
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// toolChoice is {"type":"auto"|"any"|"tool"|"none"}.
type toolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
}

// outputConfig carries structured output (format) and effort.
type outputConfig struct {
	Format *outputFormat `json:"format,omitempty"`
	Effort string        `json:"effort,omitempty"`
}

// outputFormat is {"type":"json_schema","schema":{…}}.
type outputFormat struct {
	Type   string          `json:"type"`
	Schema json.RawMessage `json:"schema,omitempty"`
}

// msgResponse is a Message object.
type msgResponse struct {
	ID           string   `json:"id"`
	Type         string   `json:"type"`
	Role         string   `json:"role"`
	Model        string   `json:"model"`
	Content      []block  `json:"content"`
	StopReason   *string  `json:"stop_reason"`
	StopSequence *string  `json:"stop_sequence"`
	Usage        msgUsage `json:"usage"`
}

// msgUsage is the usage object of a Message (and of message_delta, where
// every count is a cumulative total and absent ones keep their earlier value).
type msgUsage struct {
	InputTokens              *int `json:"input_tokens,omitempty"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens,omitempty"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens,omitempty"`
	OutputTokens             *int `json:"output_tokens,omitempty"`
}

// errorEnvelope is {"type":"error","error":{"type","message"}}, used by
// non-2xx answers and by the in-stream error event.
type errorEnvelope struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// streamEvent is one decoded server-sent event of a streamed message. Only
// the fields of its Type are set.
type streamEvent struct {
	Type         string          `json:"type"`
	Message      *msgResponse    `json:"message,omitempty"`       // message_start
	Index        int             `json:"index"`                   // content_block_*
	ContentBlock *block          `json:"content_block,omitempty"` // content_block_start
	Delta        *eventDelta     `json:"delta,omitempty"`         // content_block_delta, message_delta
	Usage        *msgUsage       `json:"usage,omitempty"`         // message_delta
	Error        json.RawMessage `json:"error,omitempty"`         // error
}

// eventDelta is the delta of a content_block_delta (text_delta,
// input_json_delta, thinking_delta, signature_delta, citations_delta) or of
// a message_delta (stop_reason, stop_sequence).
type eventDelta struct {
	Type         string  `json:"type,omitempty"`
	Text         string  `json:"text,omitempty"`
	PartialJSON  string  `json:"partial_json,omitempty"`
	Thinking     string  `json:"thinking,omitempty"`
	Signature    string  `json:"signature,omitempty"`
	StopReason   *string `json:"stop_reason,omitempty"`
	StopSequence *string `json:"stop_sequence,omitempty"`
}
