package relay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/providers/openai"
	"github.com/sluicehq/sluice/providers/sse"
)

// Body size limits: a whole non-streamed answer, and an error answer.
const (
	maxBody      = 64 << 20
	maxErrorBody = 64 << 10
	// drainWait bounds the wait for the upstream's end of stream after its
	// terminating event, so that its connection can be reused.
	drainWait = time.Second
)

// passthrough returns the target's provider as a Passthrough for op.
func passthrough(p providers.Provider, op providers.Operation) (providers.Passthrough, bool) {
	pt, ok := p.(providers.Passthrough)
	if ok && pt.PassesThrough(op) {
		return pt, true
	}
	return nil, false
}

// errorParser reads a non-2xx upstream answer.
type errorParser func(status int, h http.Header, body []byte) *providers.Error

// forward sends body through pt and returns the 2xx response, or the
// upstream's error answer as a *providers.Error.
func (a *attempt) forward(pt providers.Passthrough, op providers.Operation, body []byte, parse errorParser) (*http.Response, error) {
	resp, err := pt.Forward(a.ctx, op, body)
	if err != nil {
		return nil, err
	}
	a.status = resp.StatusCode
	if resp.StatusCode/100 != 2 {
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		e := parse(resp.StatusCode, resp.Header, data)
		if rerr != nil && e.Err == nil {
			e.Err = rerr
		}
		return nil, e
	}
	return resp, nil
}

// readJSON reads a whole 2xx JSON answer.
func readJSON(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	var data []byte
	var err error
	if n := resp.ContentLength; n > 0 && n <= maxBody {
		// One allocation of the announced size; a longer body is an error
		// of the transport's, a shorter one io.ErrUnexpectedEOF.
		data = make([]byte, n)
		var k int
		k, err = io.ReadFull(resp.Body, data)
		data = data[:k]
	} else {
		data, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	}
	if err != nil {
		return nil, &providers.Error{Err: fmt.Errorf("reading upstream answer: %w", err)}
	}
	if len(data) > maxBody {
		return nil, &providers.Error{Err: fmt.Errorf("upstream answer larger than %d bytes", maxBody)}
	}
	if !gjson.ValidBytes(data) {
		return nil, &providers.Error{Err: errors.New("invalid JSON from upstream")}
	}
	return data, nil
}

// writeJSON sends a whole JSON answer to the client.
func (a *attempt) writeJSON(status int, data []byte) error {
	a.commit()
	w := a.c.w
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.commit(status, "application/json")
	if _, err := w.Write(data); err != nil {
		return err
	}
	return nil
}

// setModel rewrites the "model" member at path to model, leaving every
// other byte alone; data is returned as is when it already says model.
func setModel(data []byte, path, model string) []byte {
	m := gjson.Get(str(data), path)
	if !m.Exists() || m.Str == model {
		return data
	}
	out, err := sjson.SetBytes(data, path, model)
	if err != nil {
		return data
	}
	return out
}

// openAIError reads an OpenAI-format error answer.
func openAIError(status int, h http.Header, body []byte) *providers.Error {
	return openai.ParseError(status, h, body)
}

// openAIBodyError returns the error that an OpenAI-compatible server put
// in a 2xx body or stream event ({"error":…}), or nil.
func openAIBodyError(event string, data []byte) *providers.Error {
	// Nearly every event is a chunk without an "error" key: a substring
	// test spares them a JSON scan.
	if event != "error" && !bytes.Contains(data, []byte(`"error"`)) {
		return nil
	}
	e := gjson.Get(str(data), "error")
	if event != "error" && (!e.Exists() || e.Type == gjson.Null) {
		return nil
	}
	pe := openai.ParseError(0, nil, data)
	if pe.Message == "" {
		pe.Message = "the upstream provider sent an error in its answer"
	}
	var n int
	if _, err := fmt.Sscan(pe.Code, &n); err == nil && n >= 400 && n <= 599 {
		pe.Status = n
	}
	return pe
}

// anthropicError reads Anthropic's error envelope
// {"type":"error","error":{"type","message"}}.
func anthropicError(status int, h http.Header, body []byte) *providers.Error {
	e := &providers.Error{Status: status}
	if h != nil {
		e.RetryAfter = providers.RetryAfter(h, time.Now())
	}
	if gjson.ValidBytes(body) {
		e.Type = gjson.GetBytes(body, "error.type").String()
		e.Message = gjson.GetBytes(body, "error.message").String()
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 512 {
			e.Message = strings.ToValidUTF8(e.Message[:512], "") + "…"
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// anthropicStatus maps an in-stream Anthropic error type to a status.
func anthropicStatus(typ string) int {
	switch typ {
	case "invalid_request_error":
		return http.StatusBadRequest
	case "rate_limit_error":
		return http.StatusTooManyRequests
	case "overloaded_error":
		return 529
	case "timeout_error":
		return http.StatusGatewayTimeout
	}
	return 0
}

// nextEvent reads the next event of an upstream stream, restarting the
// idle timeout when one comes. A stream that ends cleanly before its
// terminating event is truncated.
func (a *attempt) nextEvent(rd *sse.Reader) (*sse.Event, error) {
	ev, err := rd.Next()
	if err != nil {
		if a.c.w.err != nil { // the flush before the read failed
			return nil, a.c.w.err
		}
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &providers.Error{Err: fmt.Errorf("%w (%w)", providers.ErrTruncated, err)}
		}
		return nil, &providers.Error{Err: fmt.Errorf("reading upstream stream: %w", err)}
	}
	a.kick()
	return ev, nil
}

// streamReader reads the upstream's events, flushing what was written to
// the client before each read from the upstream (see flushBeforeRead).
func (a *attempt) streamReader(body io.Reader) *sse.Reader {
	return sse.NewReader(&flushBeforeRead{r: body, w: a.c.w})
}

// drain reads what the upstream sends after its terminating event (usually
// nothing), for at most drainWait, so its connection can be reused.
//
//go:noinline
func (a *attempt) drain(body io.Reader) {
	a.watchdog.Reset(drainWait)
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
}

// startStream commits the client to a 200 event stream.
func (a *attempt) startStream() {
	a.commit()
	a.c.w.commit(http.StatusOK, "text/event-stream")
}

// sendEvent writes one event to the client and flushes it.
func (a *attempt) sendEvent(sw *sse.Writer, name string, data []byte) error {
	if err := sw.Event(name, data); err != nil {
		return err
	}
	return a.c.w.flush()
}

var doneData = []byte("[DONE]")

// copyOpenAIStream copies an OpenAI-format stream to the client event by
// event. The first event is read before anything is written, so a failure
// there can still be retried. With hideUsage the usage-only chunk (asked
// for by the relay, not the client) is recorded but not sent. Events are
// flushed before each read from the upstream (streamReader), not one by
// one.
//
// The frames of a stream's loop stay on its goroutine's stack for as long
// as it lasts, under everything each event calls (JSON scanning, number
// parsing, writes to the client): the loop keeps its state on the heap
// and handles each event in a function of its own, so that the deepest
// of those calls stays under 8 KiB, past which Go doubles the stack to
// 16 KiB for the rest of the stream (see bench/README.md, memory).
func (a *attempt) copyOpenAIStream(resp *http.Response, hideUsage bool, m *meter) error {
	s := a.newOpenAIStream(resp.Body, hideUsage, m)
	return a.copyStream(resp, s.rd, s)
}

// eventHandler handles one event of a passed-through stream; done is true
// after the stream's terminating event.
type eventHandler interface {
	event(ev *sse.Event) (done bool, err error)
}

// copyStream is the loop of a passed-through stream: it reads the
// upstream's events from rd and hands each to h, until the terminating
// one (after which it drains the body so the connection can be reused)
// or an error; the body is closed either way.
func (a *attempt) copyStream(resp *http.Response, rd *sse.Reader, h eventHandler) error {
	for {
		ev, err := a.nextEvent(rd)
		if err == nil {
			var done bool
			if done, err = h.event(ev); done && err == nil {
				a.drain(resp.Body)
			}
			if !done && err == nil {
				continue
			}
		}
		_ = resp.Body.Close()
		return err
	}
}

// openAIStream is the state of copyOpenAIStream between events.
type openAIStream struct {
	a         *attempt
	rd        *sse.Reader
	sw        *sse.Writer
	model     modelName
	hideUsage bool
	m         *meter
	scratch   []byte
	members   openAIChunk
}

//go:noinline
func (a *attempt) newOpenAIStream(body io.Reader, hideUsage bool, m *meter) *openAIStream {
	return &openAIStream{a: a, sw: sse.NewWriter(a.c.w), model: newModelName(a.c.req.Model), hideUsage: hideUsage, m: m,
		rd: a.streamReader(body)}
}

// openAIChunk holds the top-level members of an OpenAI chunk or answer
// that the relay reads.
type openAIChunk struct {
	model, choices, usage, err gjson.Result
}

// event handles one upstream event; done is true after data: [DONE].
//
//go:noinline
func (s *openAIStream) event(ev *sse.Event) (done bool, err error) {
	a := s.a
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 {
		return false, nil
	}
	if bytes.Equal(data, doneData) {
		if !a.committed {
			a.startStream()
		}
		return true, a.sendEvent(s.sw, "", doneData)
	}
	if !gjson.ValidBytes(data) {
		return false, &providers.Error{Err: errors.New("invalid JSON in an upstream stream event")}
	}
	mb := &s.members
	mb.find(data)
	if ev.Event == "error" || mb.err.Exists() && mb.err.Type != gjson.Null {
		if pe := openAIBodyError(ev.Event, data); pe != nil {
			return false, pe
		}
	}
	if mb.usage.IsObject() {
		s.m.openAI(mb.usage)
		if s.hideUsage && !hasElements(mb.choices) {
			return false, nil
		}
	}
	s.m.openAIDeltas(mb.choices)
	s.scratch, data = s.model.set(s.scratch, data, mb.model)
	if !a.committed {
		a.startStream()
	}
	return false, s.sw.Event(ev.Event, data)
}

// openAIDeltas counts the text of a chunk's choices' deltas.
//
//go:noinline
func (m *meter) openAIDeltas(choices gjson.Result) {
	choices.ForEach(func(_, ch gjson.Result) bool {
		ch.Get("delta").ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "content", "reasoning_content":
				m.outBytes += len(v.Str)
			case "tool_calls":
				v.ForEach(func(_, tc gjson.Result) bool {
					m.outBytes += len(tc.Get("function.arguments").Str)
					return true
				})
			}
			return true
		})
		return true
	})
}

// openAIMembers finds, in one pass over an OpenAI answer or chunk, the
// top-level members the relay reads.
func openAIMembers(data []byte) (model, choices, usage, errv gjson.Result) {
	var c openAIChunk
	c.find(data)
	return c.model, c.choices, c.usage, c.err
}

// find fills c from data in one pass over its top-level members.
func (c *openAIChunk) find(data []byte) {
	*c = openAIChunk{}
	gjson.Parse(str(data)).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "model":
			c.model = v
		case "choices":
			c.choices = v
		case "usage":
			c.usage = v
		case "error":
			c.err = v
		}
		return true
	})
}

// hasElements reports whether v is a non-empty array.
func hasElements(v gjson.Result) bool {
	n := false
	v.ForEach(func(_, _ gjson.Result) bool {
		n = true
		return false
	})
	return n && v.IsArray()
}

// modelName is the public model name that stream events are rewritten to
// carry.
type modelName struct {
	name   string
	quoted []byte // its JSON string, when it needs no escaping
}

func newModelName(name string) modelName {
	m := modelName{name: name}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return m
		}
	}
	m.quoted = append(append(append(m.quoted, '"'), name...), '"')
	return m
}

// set returns data with the member whose value is v (found by a top-level
// pass over data) rewritten to the model name, built in buf when it
// changes; data comes back as is when v is missing or already the name.
// The new value replaces the old one byte for byte, so nothing else in
// data moves.
func (m modelName) set(buf, data []byte, v gjson.Result) ([]byte, []byte) {
	if !v.Exists() || v.Type == gjson.String && v.Str == m.name {
		return buf, data
	}
	end := v.Index + len(v.Raw)
	if m.quoted == nil || v.Index <= 0 || end > len(data) || string(data[v.Index:end]) != v.Raw {
		return buf, setModel(data, "model", m.name)
	}
	buf = append(buf[:0], data[:v.Index]...)
	buf = append(buf, m.quoted...)
	buf = append(buf, data[end:]...)
	return buf, buf
}

// copyAnthropicStream copies an Anthropic Messages stream to the client
// event by event, up to message_stop. Its loop keeps its state on the heap
// and handles each event in a function of its own (see copyOpenAIStream).
func (a *attempt) copyAnthropicStream(resp *http.Response, m *meter) error {
	s := a.newAnthropicStream(resp.Body, m)
	return a.copyStream(resp, s.rd, s)
}

// anthropicStream is the state of copyAnthropicStream between events.
type anthropicStream struct {
	a  *attempt
	rd *sse.Reader
	sw *sse.Writer
	m  *meter
}

//go:noinline
func (a *attempt) newAnthropicStream(body io.Reader, m *meter) *anthropicStream {
	return &anthropicStream{a: a, rd: a.streamReader(body), sw: sse.NewWriter(a.c.w), m: m}
}

// event handles one upstream event; done is true after message_stop.
//
//go:noinline
func (s *anthropicStream) event(ev *sse.Event) (done bool, err error) {
	a, m := s.a, s.m
	data := ev.Data
	if len(bytes.TrimSpace(data)) == 0 {
		return false, nil
	}
	if !gjson.ValidBytes(data) {
		return false, &providers.Error{Err: errors.New("invalid JSON in an upstream stream event")}
	}
	text := str(data)
	typ := gjson.Get(text, "type").Str
	switch {
	case ev.Event == "error" || typ == "error":
		pe := anthropicError(0, nil, data)
		pe.Status = anthropicStatus(pe.Type)
		return false, pe
	case typ == "message_start":
		m.anthropic(gjson.Get(text, "message.usage"))
		data = setModel(data, "message.model", a.c.req.Model)
	case typ == "message_delta":
		m.anthropic(gjson.Get(text, "usage"))
	case typ == "content_block_delta":
		d := gjson.Get(text, "delta")
		m.outBytes += len(d.Get("text").Str) + len(d.Get("partial_json").Str) + len(d.Get("thinking").Str)
	}
	if !a.committed {
		a.startStream()
	}
	if typ == "message_stop" {
		return true, a.sendEvent(s.sw, ev.Event, data)
	}
	return false, s.sw.Event(ev.Event, data)
}
