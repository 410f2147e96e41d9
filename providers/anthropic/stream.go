package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/providers/sse"
)

// blockKind says what a streamed content block turns into.
type blockKind uint8

const (
	blockIgnored  blockKind = iota // server tool blocks, redacted thinking, …
	blockText                      // text → content
	blockThinking                  // thinking → reasoning_content
	blockTool                      // tool_use → tool_calls
	blockJSONTool                  // structured-output tool → content
)

// blockState is one open or finished content block.
type blockState struct {
	kind blockKind
	tool int // index of the tool call, for blockTool
}

// decoder turns Anthropic stream events into unified chunks. It is a pure
// state machine: one call per event, no I/O.
type decoder struct {
	tr        translation
	created   int64
	id, model string
	usage     msgUsage
	blocks    map[int]blockState
	tools     int
	stop      string
	done      bool
}

func newDecoder(tr translation, created int64) *decoder {
	return &decoder{tr: tr, created: created, blocks: map[int]blockState{}}
}

// decode handles one event's data and returns the chunks it yields. An
// in-stream error event is returned as a *providers.Error.
func (d *decoder) decode(data []byte) ([]*providers.ChatChunk, error) {
	if len(data) == 0 || d.done {
		return nil, nil
	}
	var ev streamEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, &providers.Error{Err: fmt.Errorf("anthropic: stream event: %w: %w", errInvalidJSON, err)}
	}
	switch ev.Type {
	case "message_start":
		if ev.Message != nil {
			d.id, d.model = ev.Message.ID, ev.Message.Model
			mergeUsage(&d.usage, ev.Message.Usage)
		}
		empty := ""
		return d.one(providers.Delta{Role: "assistant", Content: &empty}, nil), nil
	case "content_block_start":
		if ev.ContentBlock == nil {
			return nil, nil
		}
		return d.blockStart(ev.Index, ev.ContentBlock), nil
	case "content_block_delta":
		if ev.Delta == nil {
			return nil, nil
		}
		return d.blockDelta(ev.Index, ev.Delta), nil
	case "message_delta":
		if ev.Usage != nil {
			mergeUsage(&d.usage, *ev.Usage)
		}
		if ev.Delta != nil && ev.Delta.StopReason != nil {
			d.stop = *ev.Delta.StopReason
		}
		fr := finishReason(d.stop, d.tr, d.tools > 0)
		return d.one(providers.Delta{}, &fr), nil
	case "message_stop":
		d.done = true
		c := d.chunk()
		c.Choices = []providers.ChunkChoice{}
		c.Usage = usageOf(d.usage)
		return []*providers.ChatChunk{c}, nil
	case "error":
		var env errorEnvelope
		env.Type = "error"
		if err := json.Unmarshal(data, &env); err != nil {
			return nil, &providers.Error{Err: fmt.Errorf("anthropic: error event: %w: %w", errInvalidJSON, err)}
		}
		return nil, &providers.Error{Status: statusForType(env.Error.Type), Type: env.Error.Type, Message: env.Error.Message}
	default: // ping, content_block_stop, and event types added later
		return nil, nil
	}
}

func (d *decoder) blockStart(index int, b *block) []*providers.ChatChunk {
	switch b.Type {
	case "text":
		d.blocks[index] = blockState{kind: blockText}
		if b.Text != "" {
			return d.one(providers.Delta{Content: &b.Text}, nil)
		}
	case "thinking":
		d.blocks[index] = blockState{kind: blockThinking}
		if b.Thinking != "" {
			return d.one(providers.Delta{ReasoningContent: &b.Thinking}, nil)
		}
	case "tool_use":
		if d.tr.jsonTool != "" && b.Name == d.tr.jsonTool {
			d.blocks[index] = blockState{kind: blockJSONTool}
			return nil
		}
		ti := d.tools
		d.tools++
		d.blocks[index] = blockState{kind: blockTool, tool: ti}
		return d.one(providers.Delta{ToolCalls: []providers.ToolCall{{
			Index: &ti, ID: b.ID, Type: "function",
			Function: providers.FunctionCall{Name: b.Name, Arguments: ""},
		}}}, nil)
	default:
		d.blocks[index] = blockState{kind: blockIgnored}
	}
	return nil
}

func (d *decoder) blockDelta(index int, delta *eventDelta) []*providers.ChatChunk {
	st := d.blocks[index]
	switch delta.Type {
	case "text_delta":
		if delta.Text != "" {
			return d.one(providers.Delta{Content: &delta.Text}, nil)
		}
	case "thinking_delta":
		if delta.Thinking != "" {
			return d.one(providers.Delta{ReasoningContent: &delta.Thinking}, nil)
		}
	case "input_json_delta":
		if delta.PartialJSON == "" {
			return nil
		}
		switch st.kind {
		case blockTool:
			ti := st.tool
			return d.one(providers.Delta{ToolCalls: []providers.ToolCall{{
				Index: &ti, Function: providers.FunctionCall{Arguments: delta.PartialJSON},
			}}}, nil)
		case blockJSONTool:
			return d.one(providers.Delta{Content: &delta.PartialJSON}, nil)
		}
	}
	// signature_delta, citations_delta: nothing to carry.
	return nil
}

// chunk returns an empty chunk with the stream's identity.
func (d *decoder) chunk() *providers.ChatChunk {
	return &providers.ChatChunk{ID: d.id, Object: "chat.completion.chunk", Created: d.created, Model: d.model}
}

// one returns a single chunk with one choice.
func (d *decoder) one(delta providers.Delta, finish *string) []*providers.ChatChunk {
	c := d.chunk()
	c.Choices = []providers.ChunkChoice{{Index: 0, Delta: delta, FinishReason: finish}}
	return []*providers.ChatChunk{c}
}

// mergeUsage overwrites acc with the counts present in u (stream usage
// counts are cumulative totals).
func mergeUsage(acc *msgUsage, u msgUsage) {
	if u.InputTokens != nil {
		acc.InputTokens = u.InputTokens
	}
	if u.OutputTokens != nil {
		acc.OutputTokens = u.OutputTokens
	}
	if u.CacheReadInputTokens != nil {
		acc.CacheReadInputTokens = u.CacheReadInputTokens
	}
	if u.CacheCreationInputTokens != nil {
		acc.CacheCreationInputTokens = u.CacheCreationInputTokens
	}
}

// stream reads a streamed message one event at a time.
type stream struct {
	body      io.ReadCloser
	cancel    context.CancelFunc
	r         *sse.Reader
	dec       *decoder
	pending   []*providers.ChatChunk
	err       error
	closeOnce sync.Once
}

func newStream(body io.ReadCloser, cancel context.CancelFunc, dec *decoder) *stream {
	return &stream{body: body, cancel: cancel, r: sse.NewReader(body), dec: dec}
}

// Recv returns the next chunk; io.EOF after message_stop.
func (s *stream) Recv() (*providers.ChatChunk, error) {
	for {
		if len(s.pending) > 0 {
			c := s.pending[0]
			s.pending[0] = nil
			s.pending = s.pending[1:]
			return c, nil
		}
		if s.err != nil {
			return nil, s.err
		}
		if s.dec.done {
			s.err = io.EOF
			continue
		}
		ev, err := s.r.Next()
		if err != nil {
			s.err = readError(err)
			continue
		}
		chunks, err := s.dec.decode(ev.Data)
		if err != nil {
			s.err = err
		}
		s.pending = chunks
	}
}

// readError classifies a failure to read the next event.
func readError(err error) error {
	switch {
	case errors.Is(err, io.EOF):
		return &providers.Error{Err: fmt.Errorf("anthropic: stream ended before message_stop: %w", providers.ErrTruncated)}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &providers.Error{Err: fmt.Errorf("anthropic: reading stream: %w", err)}
	default:
		return &providers.Error{Err: fmt.Errorf("anthropic: reading stream: %w: %w", providers.ErrTruncated, err)}
	}
}

// Close closes the upstream body; safe to call more than once.
func (s *stream) Close() error {
	var err error
	s.closeOnce.Do(func() {
		err = s.body.Close()
		if s.cancel != nil {
			s.cancel()
		}
	})
	return err
}
