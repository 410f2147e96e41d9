package anthropic

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/providers"
)

// decodeResponse translates a Message into a unified chat completion.
// created is the creation time to report (Anthropic sends none).
func decodeResponse(raw []byte, tr translation, created int64) (*providers.ChatResponse, error) {
	var m msgResponse
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("anthropic: %w: %w", errInvalidJSON, err)
	}
	if m.Type != "message" {
		return nil, fmt.Errorf("anthropic: %w: type %q is not a message", errInvalidJSON, m.Type)
	}
	var text, thinking strings.Builder
	var calls []providers.ToolCall
	hasText := false
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
			hasText = true
		case "thinking":
			thinking.WriteString(b.Thinking)
		case "tool_use":
			args, err := argumentsOf(b.Input)
			if err != nil {
				return nil, fmt.Errorf("anthropic: %w: tool_use input: %w", errInvalidJSON, err)
			}
			if tr.jsonTool != "" && b.Name == tr.jsonTool {
				text.WriteString(args)
				hasText = true
				continue
			}
			calls = append(calls, providers.ToolCall{ID: b.ID, Type: "function", Function: providers.FunctionCall{Name: b.Name, Arguments: args}})
		}
	}
	msg := providers.Message{Role: "assistant", ToolCalls: calls, ReasoningContent: thinking.String()}
	if hasText || len(calls) == 0 {
		msg.Content = providers.TextContent(text.String())
	}
	stop := ""
	if m.StopReason != nil {
		stop = *m.StopReason
	}
	return &providers.ChatResponse{
		ID:      m.ID,
		Object:  "chat.completion",
		Created: created,
		Model:   m.Model,
		Choices: []providers.Choice{{Index: 0, Message: msg, FinishReason: finishReason(stop, tr, len(calls) > 0)}},
		Usage:   usageOf(m.Usage),
	}, nil
}

// argumentsOf renders a tool_use input as compact JSON arguments.
func argumentsOf(input json.RawMessage) (string, error) {
	if len(input) == 0 {
		return "{}", nil
	}
	c, err := compactJSON(input)
	if err != nil {
		return "", err
	}
	return string(c), nil
}

// finishReason maps an Anthropic stop_reason to an OpenAI finish reason.
// A tool_use stop caused only by the structured-output tool is a plain stop.
func finishReason(stop string, tr translation, realCalls bool) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return providers.FinishLength
	case "tool_use":
		if tr.jsonTool != "" && !realCalls {
			return providers.FinishStop
		}
		return providers.FinishToolCalls
	case "refusal":
		return providers.FinishContentFilter
	default: // end_turn, stop_sequence, pause_turn, unknown
		return providers.FinishStop
	}
}

// usageOf maps Anthropic usage: prompt tokens include cache reads and cache
// writes, which Anthropic counts apart from input_tokens.
func usageOf(u msgUsage) *providers.Usage {
	in, out := deref(u.InputTokens), deref(u.OutputTokens)
	read, write := deref(u.CacheReadInputTokens), deref(u.CacheCreationInputTokens)
	prompt := in + read + write
	return &providers.Usage{
		PromptTokens:        prompt,
		CompletionTokens:    out,
		TotalTokens:         prompt + out,
		PromptTokensDetails: &providers.PromptTokensDetails{CachedTokens: read, CacheCreationTokens: write},
	}
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
