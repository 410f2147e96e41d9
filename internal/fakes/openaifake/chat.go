package openaifake

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode"
)

// chatRequest is the part of a chat completions request the fake reads.
type chatRequest struct {
	Model         string    `json:"model"`
	Messages      []message `json:"messages"`
	Stream        bool      `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text returns a message's text: the string, or its text parts joined by a
// space.
func (m message) text() (string, error) {
	raw := m.Content
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", errors.New("content must be a string or an array of content parts")
	}
	var texts []string
	for _, p := range parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, " "), nil
}

// toolCall is one call in the fake's answer.
type toolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function functionCall `json:"function"`
}

type functionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// usage is OpenAI's usage object with its detail objects.
type usage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
		AudioTokens  int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens          int `json:"reasoning_tokens"`
		AudioTokens              int `json:"audio_tokens"`
		AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

// reply is what the fake answers to one chat request.
type reply struct {
	id, model string
	text      string
	calls     []toolCall
	finish    string
	usage     usage
}

// chat answers /chat/completions.
func (c *call) chat() {
	var req chatRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		c.badRequest("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)", "", "")
		return
	}
	if req.Model == "" && !c.azure {
		c.badRequest("you must provide a model parameter", "", "")
		return
	}
	if len(req.Messages) == 0 {
		c.badRequest("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
		return
	}
	if req.StreamOptions != nil && !req.Stream {
		c.badRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", "")
		return
	}
	rep, err := c.f.answer(&req)
	if err != nil {
		c.badRequest(err.Error(), "messages", "")
		return
	}
	if rep.model == "" {
		rep.model = c.deployment
	}
	if req.Stream {
		c.stream(rep, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	if c.fault.InvalidJSON {
		c.writeInvalidJSON()
		return
	}
	c.writeJSON(http.StatusOK, completion(rep))
}

func (c *call) badRequest(msg, param, code string) {
	if c.azure {
		c.azureError(http.StatusBadRequest, "BadRequest", msg)
		return
	}
	c.writeError(http.StatusBadRequest, msg, "invalid_request_error", param, code)
}

// answer computes the reply: tool calls when asked for with use_tool or
// use_tools, else the echo (or Fake.FixedReply).
func (f *Fake) answer(req *chatRequest) (*reply, error) {
	rep := &reply{
		id:     "chatcmpl-fake" + strconv.FormatInt(f.ids.Add(1), 10),
		model:  req.Model,
		finish: "stop",
	}
	last := ""
	for _, m := range req.Messages {
		t, err := m.text()
		if err != nil {
			return nil, err
		}
		rep.usage.PromptTokens += countWords(t)
		if m.Role == "user" {
			last = t
		}
	}
	mode := ""
	if len(req.Tools) > 0 {
		for _, w := range strings.Fields(last) {
			if w == "use_tool" || w == "use_tools" {
				mode = w
				break
			}
		}
	}
	if mode != "" {
		args := string(appendJSONString([]byte(`{"echo":`), last)) + "}"
		n := 1
		if mode == "use_tools" {
			n = len(req.Tools)
		}
		for i := range n {
			rep.calls = append(rep.calls, toolCall{
				ID:       "call_" + strconv.Itoa(i+1),
				Type:     "function",
				Function: functionCall{Name: req.Tools[i].Function.Name, Arguments: args},
			})
			rep.usage.CompletionTokens += countWords(args)
		}
		rep.finish = "tool_calls"
	} else {
		rep.text = f.FixedReply
		if rep.text == "" {
			rep.text = "echo: " + last
		}
		rep.usage.CompletionTokens = countWords(rep.text)
	}
	rep.usage.TotalTokens = rep.usage.PromptTokens + rep.usage.CompletionTokens
	return rep, nil
}

// countWords counts whitespace-separated words.
func countWords(s string) int {
	n, in := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			in = false
		} else if !in {
			in = true
			n++
		}
	}
	return n
}

// chatCompletion is a non-streamed answer as OpenAI sends it.
type chatCompletion struct {
	ID                string   `json:"id"`
	Object            string   `json:"object"`
	Created           int64    `json:"created"`
	Model             string   `json:"model"`
	Choices           []choice `json:"choices"`
	Usage             usage    `json:"usage"`
	ServiceTier       string   `json:"service_tier"`
	SystemFingerprint string   `json:"system_fingerprint"`
}

type choice struct {
	Index        int             `json:"index"`
	Message      responseMessage `json:"message"`
	Logprobs     *struct{}       `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
}

type responseMessage struct {
	Role        string     `json:"role"`
	Content     *string    `json:"content"`
	ToolCalls   []toolCall `json:"tool_calls,omitempty"`
	Refusal     *string    `json:"refusal"`
	Annotations []struct{} `json:"annotations"`
}

func completion(rep *reply) *chatCompletion {
	msg := responseMessage{Role: "assistant", ToolCalls: rep.calls, Annotations: []struct{}{}}
	if rep.calls == nil {
		msg.Content = &rep.text
	}
	return &chatCompletion{
		ID:                rep.id,
		Object:            "chat.completion",
		Created:           Created,
		Model:             rep.model,
		Choices:           []choice{{Message: msg, FinishReason: rep.finish}},
		Usage:             rep.usage,
		ServiceTier:       "default",
		SystemFingerprint: "fp_fake",
	}
}
