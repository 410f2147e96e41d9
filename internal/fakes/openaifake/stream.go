package openaifake

import (
	"encoding/json"
	"github.com/sluicehq/sluice/internal/fakes/fakekit"
	"net/http"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// azurePromptFilter is the first event of an Azure stream: no choices, the
// prompt's content filter results.
const azurePromptFilter = `{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}`

// events writes the server-sent events of one stream, applying the
// stream faults. It reuses one buffer for every event.
type events struct {
	c     *call
	rc    *http.ResponseController
	buf   []byte
	n     int    // events written
	head  []byte // chunk JSON up to the delta
	usage bool   // include_usage: every chunk carries "usage":null
}

// stream answers a streamed chat completion: a role chunk, one chunk per
// word (or per tool-call fragment), a finish chunk, the usage chunk when
// asked for, and data: [DONE].
func (c *call) stream(rep *reply, includeUsage bool) {
	h := c.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	c.w.WriteHeader(http.StatusOK)

	e := &events{c: c, rc: http.NewResponseController(c.w), usage: includeUsage}
	e.buf = make([]byte, 0, 512+len(rep.text))
	e.head = append(e.head, `{"id":`...)
	e.head = appendJSONString(e.head, rep.id)
	e.head = append(e.head, `,"object":"chat.completion.chunk","created":`...)
	e.head = strconv.AppendInt(e.head, Created, 10)
	e.head = append(e.head, `,"model":`...)
	e.head = appendJSONString(e.head, rep.model)
	e.head = append(e.head, `,"system_fingerprint":"fp_fake","choices":[{"index":0,"delta":`...)

	if c.azure && !e.raw([]byte(azurePromptFilter)) {
		return
	}
	if rep.calls == nil {
		if !e.chunk([]byte(`{"role":"assistant","content":"","refusal":null}`), "") {
			return
		}
		var delta []byte
		for _, w := range splitWords(rep.text) {
			delta = append(delta[:0], `{"content":`...)
			delta = appendJSONString(delta, w)
			delta = append(delta, '}')
			if !e.chunk(delta, "") {
				return
			}
		}
	} else if !e.toolCalls(rep.calls) {
		return
	}
	if !e.chunk([]byte(`{}`), rep.finish) {
		return
	}
	if includeUsage {
		u, _ := json.Marshal(rep.usage)
		b := make([]byte, 0, 256+len(u))
		b = append(b, `{"id":`...)
		b = appendJSONString(b, rep.id)
		b = append(b, `,"object":"chat.completion.chunk","created":`...)
		b = strconv.AppendInt(b, Created, 10)
		b = append(b, `,"model":`...)
		b = appendJSONString(b, rep.model)
		b = append(b, `,"system_fingerprint":"fp_fake","choices":[],"usage":`...)
		b = append(b, u...)
		b = append(b, '}')
		if !e.raw(b) {
			return
		}
	}
	e.raw([]byte("[DONE]"))
}

// toolCalls writes each call as OpenAI streams it: a chunk with its id,
// name and empty arguments, then the arguments in two fragments.
func (e *events) toolCalls(calls []toolCall) bool {
	var delta []byte
	for i, tc := range calls {
		delta = append(delta[:0], '{')
		if i == 0 {
			delta = append(delta, `"role":"assistant","content":null,`...)
		}
		delta = append(delta, `"tool_calls":[{"index":`...)
		delta = strconv.AppendInt(delta, int64(i), 10)
		delta = append(delta, `,"id":`...)
		delta = appendJSONString(delta, tc.ID)
		delta = append(delta, `,"type":"function","function":{"name":`...)
		delta = appendJSONString(delta, tc.Function.Name)
		delta = append(delta, `,"arguments":""}}]`...)
		if i == 0 {
			delta = append(delta, `,"refusal":null`...)
		}
		delta = append(delta, '}')
		if !e.chunk(delta, "") {
			return false
		}
		args := tc.Function.Arguments
		cut := len(args) / 2
		for cut > 0 && !utf8.RuneStart(args[cut]) {
			cut--
		}
		for _, frag := range []string{args[:cut], args[cut:]} {
			if frag == "" {
				continue
			}
			delta = append(delta[:0], `{"tool_calls":[{"index":`...)
			delta = strconv.AppendInt(delta, int64(i), 10)
			delta = append(delta, `,"function":{"arguments":`...)
			delta = appendJSONString(delta, frag)
			delta = append(delta, `}}]}`...)
			if !e.chunk(delta, "") {
				return false
			}
		}
	}
	return true
}

// chunk writes a chat.completion.chunk with one choice holding delta.
func (e *events) chunk(delta []byte, finish string) bool {
	b := append(e.buf[:0], "data: "...)
	b = append(b, e.head...)
	b = append(b, delta...)
	b = append(b, `,"logprobs":null,"finish_reason":`...)
	if finish == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, finish)
	}
	b = append(b, "}]"...)
	if e.usage {
		b = append(b, `,"usage":null`...)
	}
	b = append(b, "}\n\n"...)
	e.buf = b
	return e.write()
}

// raw writes one event with data as is.
func (e *events) raw(data []byte) bool {
	b := append(e.buf[:0], "data: "...)
	b = append(b, data...)
	b = append(b, "\n\n"...)
	e.buf = b
	return e.write()
}

// write sends e.buf as the next event, applying the stream faults, and
// reports whether the stream goes on.
func (e *events) write() bool {
	ft := &e.c.fault
	ctx := e.c.r.Context()
	if e.n > 0 && !fakekit.Sleep(ctx, ft.DelayBetweenChunks) {
		return false
	}
	if _, err := e.c.w.Write(e.buf); err != nil {
		return false
	}
	e.n++
	if ft.MalformedSSE && e.n == 1 {
		if _, err := e.c.w.Write([]byte("data: {\"id\":\"chatcmpl-broken\",\"choices\":[{\n\n")); err != nil {
			return false
		}
		e.n++
	}
	if err := e.rc.Flush(); err != nil {
		return false
	}
	if ft.CutAfterChunks > 0 && e.n >= ft.CutAfterChunks {
		// Abort the response: the connection closes with no terminator.
		panic(http.ErrAbortHandler)
	}
	return ctx.Err() == nil
}

// splitWords splits s after each run of whitespace, so that the pieces
// concatenate to s: "echo: a  b" → "echo: ", "a  ", "b".
func splitWords(s string) []string {
	var out []string
	start, inSpace := 0, false
	for i, r := range s {
		sp := unicode.IsSpace(r)
		if inSpace && !sp {
			out = append(out, s[start:i])
			start = i
		}
		inSpace = sp
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does; HTML characters are not escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
