package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/providers/sse"
)

// streamDecoder turns the events of :streamGenerateContent?alt=sse into
// chat chunks. Each event is a whole GenerateContentResponse holding only
// the new parts. Gemini sends no terminating event: the stream is complete
// when the body ends after an event with a finishReason (or a blocked
// prompt); usage comes in usageMetadata, the last one being the total.
type streamDecoder struct {
	meta     meta
	id       string
	model    string
	cands    map[int]*candState
	finished bool
	usage    *providers.Usage
}

// candState is what the decoder remembers about one candidate.
type candState struct {
	roleSent bool
	calls    int
}

func newStreamDecoder(m meta) *streamDecoder {
	return &streamDecoder{meta: m, cands: map[int]*candState{}}
}

// decode translates one event's data into zero or more chunks.
func (d *streamDecoder) decode(data []byte) ([]*providers.ChatChunk, error) {
	var r generateResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, &providers.Error{Err: fmt.Errorf("gemini: invalid JSON from upstream in stream: %w", err)}
	}
	if r.Error != nil {
		return nil, errorFromAPI(r.Error, r.Error.Code)
	}
	if d.id == "" {
		d.id = r.ResponseID
		if d.id == "" {
			d.id = d.meta.fallbackID
		}
	}
	if d.model == "" {
		d.model = r.ModelVersion
		if d.model == "" {
			d.model = d.meta.model
		}
	}
	if u := translateUsage(r.UsageMetadata); u != nil {
		d.usage = u
	}

	if len(r.Candidates) == 0 {
		if r.PromptFeedback == nil || r.PromptFeedback.BlockReason == "" {
			return nil, nil
		}
		d.finished = true
		empty, reason := "", providers.FinishContentFilter
		return []*providers.ChatChunk{d.chunk([]providers.ChunkChoice{{
			Delta:        providers.Delta{Role: "assistant", Content: &empty},
			FinishReason: &reason,
		}})}, nil
	}

	var deltas, finishes []providers.ChunkChoice
	for i := range r.Candidates {
		c := &r.Candidates[i]
		idx := candidateIndex(c, i)
		st := d.cands[idx]
		if st == nil {
			st = &candState{}
			d.cands[idx] = st
		}
		var delta providers.Delta
		var text, thought strings.Builder
		hasText, hasThought := false, false
		if c.Content != nil {
			for _, p := range c.Content.Parts {
				switch {
				case p.FunctionCall != nil:
					st.calls++
					tc := toolCallOf(p, st.calls)
					n := st.calls - 1
					tc.Index = &n
					delta.ToolCalls = append(delta.ToolCalls, tc)
				case p.Thought:
					if p.Text != "" {
						thought.WriteString(p.Text)
						hasThought = true
					}
				case p.Text != "":
					text.WriteString(p.Text)
					hasText = true
				}
			}
		}
		if hasText {
			s := text.String()
			delta.Content = &s
		}
		if hasThought {
			s := thought.String()
			delta.ReasoningContent = &s
		}
		hasDelta := hasText || hasThought || len(delta.ToolCalls) > 0
		if !st.roleSent && (hasDelta || c.FinishReason != "") {
			delta.Role = "assistant"
			st.roleSent = true
			hasDelta = true
		}
		if hasDelta {
			deltas = append(deltas, providers.ChunkChoice{Index: idx, Delta: delta})
		}
		if c.FinishReason != "" {
			reason := finishReason(c.FinishReason, st.calls > 0)
			finishes = append(finishes, providers.ChunkChoice{Index: idx, FinishReason: &reason})
			d.finished = true
		}
	}
	var out []*providers.ChatChunk
	if len(deltas) > 0 {
		out = append(out, d.chunk(deltas))
	}
	if len(finishes) > 0 {
		out = append(out, d.chunk(finishes))
	}
	return out, nil
}

// end is called when the body ended cleanly. It returns the usage chunk
// (empty choices) of a complete stream, or an error wrapping
// providers.ErrTruncated when no finishReason was ever seen.
func (d *streamDecoder) end() ([]*providers.ChatChunk, error) {
	if !d.finished {
		return nil, &providers.Error{Err: fmt.Errorf("gemini: stream ended without a finishReason: %w", providers.ErrTruncated)}
	}
	if d.usage == nil {
		return nil, nil
	}
	c := d.chunk([]providers.ChunkChoice{})
	c.Usage = d.usage
	return []*providers.ChatChunk{c}, nil
}

func (d *streamDecoder) chunk(choices []providers.ChunkChoice) *providers.ChatChunk {
	return &providers.ChatChunk{
		ID:      d.id,
		Object:  "chat.completion.chunk",
		Created: d.meta.created,
		Model:   d.model,
		Choices: choices,
	}
}

// stream is a providers.Stream reading one SSE event at a time.
type stream struct {
	body    io.ReadCloser
	r       *sse.Reader
	dec     *streamDecoder
	pending []*providers.ChatChunk
	err     error
	cancel  context.CancelFunc
	closed  bool
}

func newStream(body io.ReadCloser, m meta, cancel context.CancelFunc) *stream {
	return &stream{body: body, r: sse.NewReader(body), dec: newStreamDecoder(m), cancel: cancel}
}

// Recv returns the next chunk, io.EOF after the last one of a complete
// stream, or the error that broke it off.
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
		ev, err := s.r.Next()
		switch {
		case err == io.EOF:
			s.pending, s.err = s.dec.end()
			if s.err == nil {
				s.err = io.EOF
			}
			continue
		case errors.Is(err, io.ErrUnexpectedEOF):
			s.err = &providers.Error{Err: fmt.Errorf("gemini: reading stream: %w: %w", providers.ErrTruncated, err)}
			continue
		case err != nil:
			s.err = &providers.Error{Err: fmt.Errorf("gemini: reading stream: %w", err)}
			continue
		}
		if len(ev.Data) == 0 {
			continue
		}
		chunks, err := s.dec.decode(ev.Data)
		if err != nil {
			s.err = err
			continue
		}
		s.pending = chunks
	}
}

// Close releases the upstream connection; it is safe to call twice.
func (s *stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.body.Close()
	if s.cancel != nil {
		s.cancel()
	}
	return err
}
