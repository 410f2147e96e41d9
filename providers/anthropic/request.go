package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/providers"
)

// jsonObjectInstruction is appended to the system prompt for
// response_format json_object, which Anthropic has no switch for.
const jsonObjectInstruction = "Respond only with a single valid JSON object. Do not add any text, explanation or code fences around it."

// defaultJSONToolName names the forced tool of structured_output=tool when
// the schema has no name.
const defaultJSONToolName = "json_response"

// translation is what the response side must know about how a request was
// translated.
type translation struct {
	// jsonTool is the name of the forced structured-output tool, whose
	// input is returned as the message text; empty when none.
	jsonTool string
}

// emptySchema is the input_schema of a tool declared without parameters.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// outRequest is the Messages body this package sends: like msgRequest,
// with content held as blocks so it is encoded once.
type outRequest struct {
	Model         string        `json:"model"`
	System        []block       `json:"system,omitempty"`
	Messages      []outMsg      `json:"messages"`
	MaxTokens     *int          `json:"max_tokens,omitempty"`
	Temperature   *float64      `json:"temperature,omitempty"`
	TopP          *float64      `json:"top_p,omitempty"`
	StopSequences []string      `json:"stop_sequences,omitempty"`
	Stream        bool          `json:"stream,omitempty"`
	Metadata      *metadata     `json:"metadata,omitempty"`
	Tools         []toolParam   `json:"tools,omitempty"`
	ToolChoice    *toolChoice   `json:"tool_choice,omitempty"`
	OutputConfig  *outputConfig `json:"output_config,omitempty"`
}

// outMsg is one turn of an outRequest.
type outMsg struct {
	Role    string  `json:"role"`
	Content []block `json:"content"`
}

// buildRequest translates a unified request into a Messages API body.
func buildRequest(req *providers.ChatRequest, opts options, stream bool) ([]byte, translation, error) {
	out, tr, err := toMessages(req, opts)
	if err != nil {
		return nil, tr, err
	}
	out.Stream = stream
	b, err := json.Marshal(out)
	if err != nil {
		return nil, tr, fmt.Errorf("anthropic: encoding request: %w", err)
	}
	return b, tr, nil
}

// toMessages translates a unified request into the wire request.
func toMessages(req *providers.ChatRequest, opts options) (*outRequest, translation, error) {
	var tr translation
	if req.N != nil && *req.N > 1 {
		return nil, tr, badRequest("n", "n=%d is not supported by Anthropic models, which return one choice per request; send n=1 or make several requests", *req.N)
	}
	out := &outRequest{
		Model:         req.Model,
		Temperature:   req.Temperature,
		TopP:          req.TopP,
		StopSequences: req.Stop,
	}
	maxTokens, ok := req.MaxOutputTokens()
	if !ok {
		maxTokens = opts.defaultMaxTokens
	}
	out.MaxTokens = &maxTokens
	if req.User != "" {
		out.Metadata = &metadata{UserID: req.User}
	}

	var system []block
	var msgs []outMsg
	var cur []block
	curRole := ""
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		msgs = append(msgs, outMsg{Role: curRole, Content: cur})
		cur = nil
		return nil
	}
	add := func(role string, blocks []block) error {
		if len(blocks) == 0 {
			return nil
		}
		if role != curRole {
			if err := flush(); err != nil {
				return err
			}
			curRole = role
		}
		cur = append(cur, blocks...)
		return nil
	}

	for i, m := range req.Messages {
		param := "messages[" + strconv.Itoa(i) + "]"
		switch m.Role {
		case "system", "developer":
			bs, err := contentBlocks(m.Content, param, false)
			if err != nil {
				return nil, tr, err
			}
			system = append(system, bs...)
		case "user":
			bs, err := contentBlocks(m.Content, param, true)
			if err != nil {
				return nil, tr, err
			}
			if err := add("user", bs); err != nil {
				return nil, tr, err
			}
		case "assistant":
			bs, err := contentBlocks(m.Content, param, false)
			if err != nil {
				return nil, tr, err
			}
			for j, tc := range m.ToolCalls {
				input, err := toolInput(tc.Function.Arguments)
				if err != nil {
					return nil, tr, badRequest(fmt.Sprintf("%s.tool_calls[%d].function.arguments", param, j), "tool call arguments must be a JSON object: %v", err)
				}
				bs = append(bs, block{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
			}
			if err := add("assistant", bs); err != nil {
				return nil, tr, err
			}
		case "tool":
			if m.ToolCallID == "" {
				return nil, tr, badRequest(param+".tool_call_id", "a tool message needs tool_call_id, the id of the assistant tool call it answers")
			}
			res := block{Type: "tool_result", ToolUseID: m.ToolCallID}
			if m.Content.Parts != nil {
				bs, err := contentBlocks(m.Content, param, true)
				if err != nil {
					return nil, tr, err
				}
				if len(bs) > 0 {
					raw, err := json.Marshal(bs)
					if err != nil {
						return nil, tr, err
					}
					res.Content = raw
				}
			} else if s := m.Content.String(); s != "" {
				raw, err := json.Marshal(s)
				if err != nil {
					return nil, tr, err
				}
				res.Content = raw
			}
			if err := add("user", []block{res}); err != nil {
				return nil, tr, err
			}
		default:
			return nil, tr, badRequest(param+".role", "role %q is not supported; use system, developer, user, assistant or tool", m.Role)
		}
	}
	if err := flush(); err != nil {
		return nil, tr, err
	}
	if len(msgs) == 0 {
		return nil, tr, badRequest("messages", "messages must contain at least one user or assistant message with content")
	}
	out.Messages = msgs

	for i, t := range req.Tools {
		if t.Type != "" && t.Type != "function" {
			return nil, tr, badRequest(fmt.Sprintf("tools[%d].type", i), "tool type %q is not supported; only function tools are", t.Type)
		}
		schema := t.Function.Parameters
		if isEmptyJSON(schema) {
			schema = emptySchema
		}
		out.Tools = append(out.Tools, toolParam{Name: t.Function.Name, Description: t.Function.Description, InputSchema: schema})
	}
	if len(out.Tools) > 0 {
		tc, err := toolChoiceOf(req)
		if err != nil {
			return nil, tr, err
		}
		out.ToolChoice = tc
	}

	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "", "text":
		case "json_object":
			system = append(system, block{Type: "text", Text: jsonObjectInstruction})
		case "json_schema":
			if rf.JSONSchema == nil || isEmptyJSON(rf.JSONSchema.Schema) {
				return nil, tr, badRequest("response_format.json_schema", "response_format json_schema needs json_schema.schema")
			}
			if opts.toolStructured {
				if len(out.Tools) > 0 {
					return nil, tr, badRequest("response_format", "response_format json_schema cannot be combined with tools on this provider (structured_output=tool)")
				}
				name := rf.JSONSchema.Name
				if name == "" {
					name = defaultJSONToolName
				}
				desc := rf.JSONSchema.Description
				if desc == "" {
					desc = "Give the final answer as the input of this tool."
				}
				out.Tools = []toolParam{{Name: name, Description: desc, InputSchema: rf.JSONSchema.Schema}}
				out.ToolChoice = &toolChoice{Type: "tool", Name: name}
				tr.jsonTool = name
			} else {
				out.OutputConfig = &outputConfig{Format: &outputFormat{Type: "json_schema", Schema: rf.JSONSchema.Schema}}
			}
		default:
			return nil, tr, badRequest("response_format.type", "response_format type %q is not supported; use text, json_object or json_schema", rf.Type)
		}
	}

	out.System = system
	return out, tr, nil
}

// toolChoiceOf maps tool_choice and parallel_tool_calls.
func toolChoiceOf(req *providers.ChatRequest) (*toolChoice, error) {
	noParallel := req.ParallelToolCalls != nil && !*req.ParallelToolCalls
	tc := &toolChoice{Type: "auto"}
	if c := req.ToolChoice; c != nil {
		switch {
		case c.Function != "":
			tc = &toolChoice{Type: "tool", Name: c.Function}
		case c.Mode == providers.ToolChoiceAuto || c.Mode == "":
		case c.Mode == providers.ToolChoiceRequired:
			tc.Type = "any"
		case c.Mode == providers.ToolChoiceNone:
			return &toolChoice{Type: "none"}, nil
		default:
			return nil, badRequest("tool_choice", "tool_choice %q is not supported; use auto, required, none or a named function", c.Mode)
		}
	} else if !noParallel {
		return nil, nil // Anthropic's default is auto.
	}
	tc.DisableParallelToolUse = noParallel
	return tc, nil
}

// contentBlocks turns message content into text and image blocks. Empty
// text is dropped (Anthropic rejects empty text blocks). Images and
// documents are allowed only where media is (user and tool messages).
func contentBlocks(c providers.Content, param string, media bool) ([]block, error) {
	if c.Parts == nil {
		if s := c.String(); s != "" {
			return []block{{Type: "text", Text: s}}, nil
		}
		return nil, nil
	}
	out := make([]block, 0, len(c.Parts))
	for j, p := range c.Parts {
		pp := func() string { return fmt.Sprintf("%s.content[%d]", param, j) }
		switch p.Type {
		case providers.PartText:
			if p.Text != "" {
				out = append(out, block{Type: "text", Text: p.Text})
			}
		case providers.PartImageURL:
			if !media {
				return nil, badRequest(pp(), "image parts are allowed only in user and tool messages")
			}
			if p.ImageURL == nil || p.ImageURL.URL == "" {
				return nil, badRequest(pp()+".image_url.url", "image_url part needs a url")
			}
			src, err := mediaSource(p.ImageURL.URL, pp()+".image_url.url")
			if err != nil {
				return nil, err
			}
			out = append(out, block{Type: "image", Source: src})
		case providers.PartFile:
			if !media {
				return nil, badRequest(pp(), "file parts are allowed only in user and tool messages")
			}
			if p.File == nil || p.File.FileData == "" {
				return nil, badRequest(pp()+".file", "only inline files (file_data as a data: URL) are supported with Anthropic models, not file_id")
			}
			src, err := mediaSource(p.File.FileData, pp()+".file.file_data")
			if err != nil {
				return nil, err
			}
			out = append(out, block{Type: "document", Source: src})
		default:
			return nil, badRequest(pp()+".type", "content part type %q is not supported with Anthropic models", p.Type)
		}
	}
	return out, nil
}

// mediaSource turns a data: URL into a base64 source and an http(s) URL
// into a url source.
func mediaSource(u, param string) (*source, error) {
	if rest, ok := strings.CutPrefix(u, "data:"); ok {
		meta, data, ok := strings.Cut(rest, ",")
		mediaType, isB64 := strings.CutSuffix(meta, ";base64")
		if !ok || !isB64 || mediaType == "" {
			return nil, badRequest(param, "data: URLs must look like data:<media type>;base64,<data>")
		}
		return &source{Type: "base64", MediaType: mediaType, Data: data}, nil
	}
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return &source{Type: "url", URL: u}, nil
	}
	return nil, badRequest(param, "media must be a data: URL or an http(s) URL")
}

// toolInput parses tool call arguments into a JSON object; empty arguments
// are the empty object.
func toolInput(args string) (json.RawMessage, error) {
	if strings.TrimSpace(args) == "" {
		return json.RawMessage(`{}`), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(args), &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("got null")
	}
	return compactJSON([]byte(args))
}

// compactJSON returns b without insignificant whitespace.
func compactJSON(b []byte) (json.RawMessage, error) {
	var buf bytes.Buffer
	buf.Grow(len(b))
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	return json.RawMessage(buf.Bytes()), nil
}

// isEmptyJSON reports whether raw is absent, null or {}.
func isEmptyJSON(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null" || s == "{}"
}
