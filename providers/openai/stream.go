package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/providers/sse"
)

// Stream is a streamed chat completion read from an OpenAI-format SSE body,
// one event per Recv. It ends with io.EOF at "data: [DONE]"; a body that
// ends before it yields an error wrapping providers.ErrTruncated. Every
// other failure is a *providers.Error.
type Stream struct {
	body      io.ReadCloser
	r         *sse.Reader
	err       error // sticky: io.EOF after [DONE], or the first failure
	closeOnce sync.Once
	closeErr  error
}

var _ providers.Stream = (*Stream)(nil)

// NewStream returns a Stream reading body; Close closes body.
func NewStream(body io.ReadCloser) *Stream {
	return &Stream{body: body, r: sse.NewReader(body)}
}

// Recv returns the next chunk, io.EOF after the last, or an error.
func (s *Stream) Recv() (*providers.ChatChunk, error) {
	for s.err == nil {
		ev, err := s.r.Next()
		if err != nil {
			s.err = readError(err)
			break
		}
		if bytes.Equal(ev.Data, []byte("[DONE]")) {
			s.err = io.EOF
			break
		}
		c, err := DecodeChunk(ev.Event, ev.Data)
		if err != nil {
			s.err = err
			break
		}
		if c != nil {
			return c, nil
		}
	}
	return nil, s.err
}

// readError turns a failure to read the next event into the stream's error.
func readError(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return &providers.Error{Err: fmt.Errorf("%w: no data: [DONE] (%w)", providers.ErrTruncated, err)}
	}
	return &providers.Error{Err: fmt.Errorf("reading upstream stream: %w", err)}
}

// Close releases the upstream connection. It is safe to call more than once.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.body.Close() })
	return s.closeErr
}

// DecodeChunk decodes the data of one stream event (event is the SSE event
// name, usually empty). It returns nil, nil for an event that carries
// nothing (no choices and no usage, like Azure's prompt_filter_results
// chunk or an empty data line), and an error for an {"error":…} event or an
// "event: error", or for data that is not a JSON chunk.
func DecodeChunk(event string, data []byte) (*providers.ChatChunk, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, nil
	}
	w := new(wireChunk)
	if err := json.Unmarshal(data, w); err != nil {
		if event == "error" {
			return nil, streamError(data)
		}
		return nil, invalidJSON(fmt.Errorf("stream event: %w", err))
	}
	if event == "error" || hasError(w.Error) {
		return nil, streamError(data)
	}
	if len(w.Choices) == 0 && w.Usage == nil {
		return nil, nil
	}
	w.ChatChunk.Usage = w.Usage.unified()
	return &w.ChatChunk, nil
}

// wireChunk is a chunk as sent, with the error member some servers put in
// the stream.
type wireChunk struct {
	providers.ChatChunk
	Usage *wireUsage      `json:"usage"`
	Error json.RawMessage `json:"error"`
}
