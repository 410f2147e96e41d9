package gemini

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/providers"
)

// Tool call ids. Gemini 3 gives each functionCall an id, which must come
// back on the matching functionResponse; older models give none, and the
// adapter then numbers calls call_1, call_2, … within a response. Either
// way the id is sent back on both the functionCall and the functionResponse
// of a replayed conversation, so the pair always matches.
//
// When a call carries a thoughtSignature (Gemini 2.5+ thinking models;
// Gemini 3 rejects a replayed call without it), the signature travels inside
// the OpenAI id as "<id>__thought__<signature>" and is put back on the
// functionCall part when the client replays the conversation. Base64 never
// contains "__".
const thoughtSep = "__thought__"

// skipSignature is Google's documented thoughtSignature for a replayed
// function call whose real signature is unknown (history from another model
// or a client that rebuilt the ids). Only Gemini 3 and later need it.
const skipSignature = "skip_thought_signature_validator"

// badRequest is a request that cannot be expressed in Gemini's format.
// It is a *providers.Error with status 400 so the gateway answers the
// client 400 and does not retry.
func badRequest(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &providers.Error{Status: 400, Type: "invalid_request_error", Message: "gemini: " + msg, Err: errors.New(msg)}
}

// translateRequest turns an OpenAI chat request into a generateContent body.
func translateRequest(req *providers.ChatRequest) (*generateRequest, error) {
	out := &generateRequest{Contents: []content{}}
	callNames := map[string]string{}
	var system []part

	for i := range req.Messages {
		m := &req.Messages[i]
		switch m.Role {
		case "system", "developer":
			system = append(system, textParts(m.Content)...)
		case "user":
			parts, err := userParts(m.Content)
			if err != nil {
				return nil, badRequest("messages[%d].%v", i, err)
			}
			out.Contents = appendTurn(out.Contents, "user", parts)
		case "assistant":
			parts := textParts(m.Content)
			firstCall := true
			for j, tc := range m.ToolCalls {
				id, sig := splitCallID(tc.ID)
				args, err := callArgs(tc.Function.Arguments)
				if err != nil {
					return nil, badRequest("messages[%d].tool_calls[%d].function.arguments: %v", i, j, err)
				}
				if tc.ID != "" {
					callNames[tc.ID] = tc.Function.Name
				}
				p := part{FunctionCall: &functionCall{ID: id, Name: tc.Function.Name, Args: args}, ThoughtSignature: sig}
				if firstCall && sig == "" && needsSignature(req.Model) && !anySignature(m.ToolCalls) {
					p.ThoughtSignature = skipSignature
				}
				firstCall = false
				parts = append(parts, p)
			}
			out.Contents = appendTurn(out.Contents, "model", parts)
		case "tool", "function":
			name, ok := callNames[m.ToolCallID]
			if !ok {
				name = m.Name
			}
			if name == "" {
				return nil, badRequest("messages[%d]: tool message answers unknown tool_call_id %q", i, m.ToolCallID)
			}
			id, _ := splitCallID(m.ToolCallID)
			p := part{FunctionResponse: &functionResponse{ID: id, Name: name, Response: toolResponse(m.Content)}}
			out.Contents = appendTurn(out.Contents, "user", []part{p})
		default:
			return nil, badRequest("messages[%d]: unsupported role %q", i, m.Role)
		}
	}
	if len(system) > 0 {
		out.SystemInstruction = &content{Parts: system}
	}

	if err := translateTools(req, out); err != nil {
		return nil, err
	}
	gc, err := generationConfigOf(req)
	if err != nil {
		return nil, err
	}
	out.GenerationConfig = gc
	return out, nil
}

// appendTurn adds parts as a turn of role, merged into the previous turn
// when it has the same role (Gemini wants user and model to alternate).
// A turn without parts is skipped.
func appendTurn(turns []content, role string, parts []part) []content {
	if len(parts) == 0 {
		return turns
	}
	if n := len(turns); n > 0 && turns[n-1].Role == role {
		turns[n-1].Parts = append(turns[n-1].Parts, parts...)
		return turns
	}
	return append(turns, content{Role: role, Parts: parts})
}

// textParts returns the non-empty text of c as parts.
func textParts(c providers.Content) []part {
	if c.IsText {
		if c.Text == "" {
			return nil
		}
		return []part{{Text: c.Text}}
	}
	var out []part
	for _, p := range c.Parts {
		if p.Type == providers.PartText && p.Text != "" {
			out = append(out, part{Text: p.Text})
		}
	}
	return out
}

// userParts converts a user message's text, images, audio and files.
func userParts(c providers.Content) ([]part, error) {
	if c.IsText || c.Parts == nil {
		return textParts(c), nil
	}
	out := make([]part, 0, len(c.Parts))
	for j, p := range c.Parts {
		switch p.Type {
		case providers.PartText:
			if p.Text != "" {
				out = append(out, part{Text: p.Text})
			}
		case providers.PartImageURL:
			if p.ImageURL == nil || p.ImageURL.URL == "" {
				return nil, fmt.Errorf("content[%d]: image_url needs a url", j)
			}
			ip, err := mediaPart(p.ImageURL.URL)
			if err != nil {
				return nil, fmt.Errorf("content[%d]: %w", j, err)
			}
			out = append(out, ip)
		case providers.PartInputAudio:
			if p.InputAudio == nil || p.InputAudio.Data == "" {
				return nil, fmt.Errorf("content[%d]: input_audio needs data", j)
			}
			out = append(out, part{InlineData: &blob{MIMEType: "audio/" + p.InputAudio.Format, Data: p.InputAudio.Data}})
		case providers.PartFile:
			if p.File == nil || p.File.FileData == "" {
				return nil, fmt.Errorf("content[%d]: only inline files (file_data) are supported by Gemini", j)
			}
			fp, err := mediaPart(p.File.FileData)
			if err != nil {
				return nil, fmt.Errorf("content[%d]: %w", j, err)
			}
			out = append(out, fp)
		default:
			return nil, fmt.Errorf("content[%d]: unsupported part type %q", j, p.Type)
		}
	}
	return out, nil
}

// mediaPart turns a data: URL into inlineData and an http(s) URL into
// fileData with a MIME type guessed from the extension.
func mediaPart(u string) (part, error) {
	if strings.HasPrefix(u, "data:") {
		mime, data, err := parseDataURL(u)
		if err != nil {
			return part{}, err
		}
		return part{InlineData: &blob{MIMEType: mime, Data: data}}, nil
	}
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https" && pu.Scheme != "gs") {
		return part{}, fmt.Errorf("url must be a data: URL or an http(s) URL")
	}
	return part{FileData: &fileData{MIMEType: guessMIME(pu.Path), FileURI: u}}, nil
}

// parseDataURL splits "data:<mime>[;base64],<data>" into the MIME type and
// base64 data (percent-encoded data is decoded and re-encoded).
func parseDataURL(u string) (mime, data string, err error) {
	meta, payload, ok := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	if !ok {
		return "", "", errors.New("malformed data: URL")
	}
	isBase64 := false
	if m, found := strings.CutSuffix(meta, ";base64"); found {
		meta, isBase64 = m, true
	}
	mime, _, _ = strings.Cut(meta, ";")
	if mime == "" {
		mime = "text/plain"
	}
	if isBase64 {
		return mime, payload, nil
	}
	raw, err := url.PathUnescape(payload)
	if err != nil {
		return "", "", fmt.Errorf("malformed data: URL: %w", err)
	}
	return mime, base64.StdEncoding.EncodeToString([]byte(raw)), nil
}

// guessMIME guesses a media type from a URL path's extension.
func guessMIME(p string) string {
	switch strings.ToLower(path.Ext(p)) {
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".heic":
		return "image/heic"
	case ".heif":
		return "image/heif"
	case ".pdf":
		return "application/pdf"
	case ".mp3":
		return "audio/mp3"
	case ".wav":
		return "audio/wav"
	case ".mp4":
		return "video/mp4"
	default:
		return "image/jpeg"
	}
}

// callArgs checks that an OpenAI arguments string is a JSON object and
// returns it compact; empty arguments become {}.
func callArgs(s string) (json.RawMessage, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return json.RawMessage("{}"), nil
	}
	if s[0] != '{' || !json.Valid([]byte(s)) {
		return nil, errors.New("must be a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// toolResponse is the functionResponse.response of a tool message: its
// content when that is a JSON object, else {"content": "<text>"}.
func toolResponse(c providers.Content) json.RawMessage {
	text := c.String()
	trimmed := strings.TrimSpace(text)
	if strings.HasPrefix(trimmed, "{") && json.Valid([]byte(trimmed)) {
		var buf bytes.Buffer
		if json.Compact(&buf, []byte(trimmed)) == nil {
			return buf.Bytes()
		}
	}
	b, _ := json.Marshal(map[string]string{"content": text})
	return b
}

// splitCallID separates an OpenAI tool call id into the call id and the
// thought signature carried in it, if any.
func splitCallID(id string) (callID, signature string) {
	if i := strings.Index(id, thoughtSep); i >= 0 {
		return id[:i], id[i+len(thoughtSep):]
	}
	return id, ""
}

// joinCallID is the inverse of splitCallID.
func joinCallID(callID, signature string) string {
	if signature == "" {
		return callID
	}
	return callID + thoughtSep + signature
}

func anySignature(calls []providers.ToolCall) bool {
	for _, tc := range calls {
		if _, sig := splitCallID(tc.ID); sig != "" {
			return true
		}
	}
	return false
}

// needsSignature reports whether model is Gemini 3 or later, which rejects
// a replayed function call without a thoughtSignature.
func needsSignature(model string) bool {
	m := model
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	rest, ok := strings.CutPrefix(m, "gemini-")
	if !ok {
		return false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	major, err := strconv.Atoi(rest[:end])
	return err == nil && major >= 3
}

// translateTools sets tools and toolConfig.
func translateTools(req *providers.ChatRequest, out *generateRequest) error {
	if len(req.Tools) == 0 {
		return nil
	}
	decls := make([]functionDeclaration, 0, len(req.Tools))
	for i, t := range req.Tools {
		if t.Type != "" && t.Type != "function" {
			return badRequest("tools[%d]: unsupported tool type %q", i, t.Type)
		}
		if t.Function.Name == "" {
			return badRequest("tools[%d]: function.name is required", i)
		}
		params, err := sanitizeSchema(t.Function.Parameters)
		if err != nil {
			return badRequest("tools[%d].function.parameters: %v", i, err)
		}
		decls = append(decls, functionDeclaration{Name: t.Function.Name, Description: t.Function.Description, Parameters: params})
	}
	out.Tools = []tool{{FunctionDeclarations: decls}}

	tc := req.ToolChoice
	if tc == nil {
		return nil
	}
	switch {
	case tc.Function != "":
		out.ToolConfig = &toolConfig{FunctionCallingConfig: functionCallingConfig{Mode: "ANY", AllowedFunctionNames: []string{tc.Function}}}
	case tc.Mode == providers.ToolChoiceAuto:
		out.ToolConfig = &toolConfig{FunctionCallingConfig: functionCallingConfig{Mode: "AUTO"}}
	case tc.Mode == providers.ToolChoiceNone:
		out.ToolConfig = &toolConfig{FunctionCallingConfig: functionCallingConfig{Mode: "NONE"}}
	case tc.Mode == providers.ToolChoiceRequired:
		out.ToolConfig = &toolConfig{FunctionCallingConfig: functionCallingConfig{Mode: "ANY"}}
	default:
		return badRequest("tool_choice: unsupported value %q", tc.Mode)
	}
	return nil
}

// generationConfigOf maps sampling and output options; nil when none is set.
func generationConfigOf(req *providers.ChatRequest) (*generationConfig, error) {
	gc := generationConfig{
		Temperature:      req.Temperature,
		TopP:             req.TopP,
		StopSequences:    req.Stop,
		CandidateCount:   req.N,
		Seed:             req.Seed,
		PresencePenalty:  req.PresencePenalty,
		FrequencyPenalty: req.FrequencyPenalty,
	}
	if n, ok := req.MaxOutputTokens(); ok {
		gc.MaxOutputTokens = &n
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "", "text":
		case "json_object":
			gc.ResponseMIMEType = "application/json"
		case "json_schema":
			gc.ResponseMIMEType = "application/json"
			if rf.JSONSchema != nil {
				s, err := responseJSONSchema(rf.JSONSchema.Schema)
				if err != nil {
					return nil, badRequest("response_format.json_schema.schema: %v", err)
				}
				gc.ResponseJSONSchema = s
			}
		default:
			return nil, badRequest("response_format: unsupported type %q", rf.Type)
		}
	}
	if gc.Temperature == nil && gc.TopP == nil && gc.MaxOutputTokens == nil && len(gc.StopSequences) == 0 &&
		gc.CandidateCount == nil && gc.Seed == nil && gc.PresencePenalty == nil && gc.FrequencyPenalty == nil &&
		gc.ResponseMIMEType == "" {
		return nil, nil
	}
	return &gc, nil
}
