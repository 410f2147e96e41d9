package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/providers"
)

// meta is what a translated answer needs besides the upstream body: the id
// to use when Gemini sends no responseId, the model to report when it sends
// no modelVersion, and the creation time.
type meta struct {
	fallbackID string
	model      string
	created    int64
}

// decodeResponse parses a generateContent body and translates it.
func decodeResponse(body []byte, m meta) (*providers.ChatResponse, error) {
	var r generateResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, &providers.Error{Err: fmt.Errorf("gemini: invalid JSON from upstream: %w", err)}
	}
	if r.Error != nil {
		return nil, errorFromAPI(r.Error, r.Error.Code)
	}
	return translateResponse(&r, m), nil
}

// translateResponse turns a GenerateContentResponse into a chat completion.
// A prompt blocked by safety (promptFeedback.blockReason, no candidates) is
// not an error: it becomes one choice with empty content and finish_reason
// content_filter, which is what OpenAI answers for filtered output.
func translateResponse(r *generateResponse, m meta) *providers.ChatResponse {
	out := &providers.ChatResponse{
		ID:      r.ResponseID,
		Object:  "chat.completion",
		Created: m.created,
		Model:   r.ModelVersion,
		Usage:   translateUsage(r.UsageMetadata),
	}
	if out.ID == "" {
		out.ID = m.fallbackID
	}
	if out.Model == "" {
		out.Model = m.model
	}
	if len(r.Candidates) == 0 {
		reason := providers.FinishStop
		if r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
			reason = providers.FinishContentFilter
		}
		out.Choices = []providers.Choice{{
			Message:      providers.Message{Role: "assistant", Content: providers.TextContent("")},
			FinishReason: reason,
		}}
		return out
	}
	out.Choices = make([]providers.Choice, 0, len(r.Candidates))
	for i := range r.Candidates {
		c := &r.Candidates[i]
		msg := providers.Message{Role: "assistant"}
		var text, thought strings.Builder
		if c.Content != nil {
			for _, p := range c.Content.Parts {
				switch {
				case p.FunctionCall != nil:
					msg.ToolCalls = append(msg.ToolCalls, toolCallOf(p, len(msg.ToolCalls)+1))
				case p.Thought:
					thought.WriteString(p.Text)
				default:
					text.WriteString(p.Text)
				}
			}
		}
		if text.Len() > 0 || len(msg.ToolCalls) == 0 {
			msg.Content = providers.TextContent(text.String()) // null when the turn only calls tools
		}
		msg.ReasoningContent = thought.String()
		out.Choices = append(out.Choices, providers.Choice{
			Index:        candidateIndex(c, i),
			Message:      msg,
			FinishReason: finishReason(c.FinishReason, len(msg.ToolCalls) > 0),
		})
	}
	return out
}

// candidateIndex is the candidate's index, absent on the wire when 0.
func candidateIndex(c *candidate, pos int) int {
	if c.Index != nil {
		return *c.Index
	}
	return pos
}

// toolCallOf translates a functionCall part; n numbers calls without an id.
func toolCallOf(p part, n int) providers.ToolCall {
	id := p.FunctionCall.ID
	if id == "" {
		id = "call_" + strconv.Itoa(n)
	}
	return providers.ToolCall{
		ID:       joinCallID(id, p.ThoughtSignature),
		Type:     "function",
		Function: providers.FunctionCall{Name: p.FunctionCall.Name, Arguments: compactArgs(p.FunctionCall.Args)},
	}
}

// compactArgs renders function call args as compact JSON, {} when absent.
func compactArgs(args json.RawMessage) string {
	if len(bytes.TrimSpace(args)) == 0 || bytes.Equal(bytes.TrimSpace(args), []byte("null")) {
		return "{}"
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, args); err != nil {
		return string(args)
	}
	return buf.String()
}

// finishReason maps Gemini's finishReason to OpenAI's.
func finishReason(reason string, toolCalls bool) string {
	switch reason {
	case "MAX_TOKENS":
		return providers.FinishLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return providers.FinishContentFilter
	}
	if toolCalls {
		return providers.FinishToolCalls
	}
	return providers.FinishStop
}

// translateUsage maps usageMetadata. OpenAI counts reasoning in completion
// tokens, Gemini apart (thoughtsTokenCount), so they are added; tokens
// of server-side tool prompts count as prompt tokens.
func translateUsage(u *usageMetadata) *providers.Usage {
	if u == nil {
		return nil
	}
	out := &providers.Usage{
		PromptTokens:     u.PromptTokenCount + u.ToolUsePromptTokenCount,
		CompletionTokens: u.CandidatesTokenCount + u.ThoughtsTokenCount,
		TotalTokens:      u.TotalTokenCount,
	}
	if out.TotalTokens == 0 {
		out.TotalTokens = out.PromptTokens + out.CompletionTokens
	}
	if u.CachedContentTokenCount > 0 {
		out.PromptTokensDetails = &providers.PromptTokensDetails{CachedTokens: u.CachedContentTokenCount}
	}
	if u.ThoughtsTokenCount > 0 {
		out.CompletionTokensDetails = &providers.CompletionTokensDetails{ReasoningTokens: u.ThoughtsTokenCount}
	}
	return out
}
