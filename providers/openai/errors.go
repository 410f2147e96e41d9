package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/providers"
)

// maxErrorMessage bounds the message taken from a non-JSON error body.
const maxErrorMessage = 512

// ParseError turns an upstream error answer into a *providers.Error. It
// reads the OpenAI envelope {"error":{"message","type","param","code"}}
// (code a string, a number or null), and the shapes OpenAI-compatible
// servers use instead: {"error":"text"} (Ollama), a top-level
// {"message","type","param","code"} (vLLM, Mistral, whose message may be
// an object), and {"detail":…} (FastAPI servers). Any other body becomes
// the message, trimmed and cut to a short prefix.
func ParseError(status int, h http.Header, body []byte) *providers.Error {
	e := &providers.Error{Status: status}
	if h != nil {
		e.RetryAfter = providers.RetryAfter(h, time.Now())
	}
	if !envelope(e, body) {
		e.Message = textPrefix(body)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// envelope fills e from a JSON error body and reports whether body was one.
func envelope(e *providers.Error, body []byte) bool {
	if !gjson.ValidBytes(body) {
		return false
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return false
	}
	obj := root
	if v := root.Get("error"); v.Exists() && v.Type != gjson.Null {
		if !v.IsObject() {
			e.Message = scalarOrJSON(v)
			return true
		}
		obj = v
	}
	e.Message = scalarOrJSON(obj.Get("message"))
	if e.Message == "" {
		e.Message = scalarOrJSON(obj.Get("detail"))
	}
	e.Type = scalarOrJSON(obj.Get("type"))
	e.Param = scalarOrJSON(obj.Get("param"))
	e.Code = scalarOrJSON(obj.Get("code"))
	return true
}

// scalarOrJSON returns a string or number as text, null and absent as "",
// and an object or array as its compact JSON.
func scalarOrJSON(v gjson.Result) string {
	switch v.Type {
	case gjson.Null:
		return ""
	case gjson.String:
		return v.Str
	case gjson.JSON:
		var b strings.Builder
		b.Grow(len(v.Raw))
		if err := compactJSON(&b, v.Raw); err != nil {
			return v.Raw
		}
		return b.String()
	default:
		return v.Raw
	}
}

// compactJSON writes raw without insignificant whitespace.
func compactJSON(b *strings.Builder, raw string) error {
	inString, escaped := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString:
			if escaped {
				escaped = false
			} else if c == '\\' {
				escaped = true
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		b.WriteByte(c)
	}
	if inString {
		return errors.New("unterminated string")
	}
	return nil
}

// textPrefix returns the start of a non-JSON body as a one-line message.
func textPrefix(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > maxErrorMessage {
		s = s[:maxErrorMessage]
		for !utf8.ValidString(s) && len(s) > 0 {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return strings.ToValidUTF8(strings.Join(strings.Fields(s), " "), "\uFFFD")
}

// streamError is the error of an in-stream {"error":…} event. It has no
// HTTP status unless the event's code is one (OpenRouter sends 502 etc.).
func streamError(data []byte) *providers.Error {
	e := &providers.Error{}
	if !envelope(e, data) {
		e.Message = textPrefix(data)
	}
	if n, err := strconv.Atoi(e.Code); err == nil && n >= 400 && n <= 599 {
		e.Status = n
	}
	if e.Message == "" {
		e.Message = "error event in upstream stream"
	}
	return e
}

// invalidJSON is the error for a 2xx answer that is not what OpenAI sends.
func invalidJSON(err error) *providers.Error {
	return &providers.Error{Err: fmt.Errorf("invalid JSON from upstream: %w", err)}
}

// watchdog bounds an upstream attempt: Config.Timeout is the longest the
// upstream may keep the caller waiting, for the response headers and then
// for each further read of the body. A slow but steady stream lives on; a
// silent upstream is cut off. A nil watchdog bounds nothing.
type watchdog struct {
	ctx     context.Context
	timeout time.Duration
	timer   *time.Timer
	cancel  context.CancelCauseFunc
}

// startWatchdog returns a context bounded by timeout (none when zero).
func startWatchdog(ctx context.Context, timeout time.Duration) (context.Context, *watchdog) {
	if timeout <= 0 {
		return ctx, nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{ctx: ctx, timeout: timeout, cancel: cancel}
	cause := fmt.Errorf("no data from upstream for %v: %w", timeout, context.DeadlineExceeded)
	w.timer = time.AfterFunc(timeout, func() { cancel(cause) })
	return ctx, w
}

// kick restarts the timeout after progress.
func (w *watchdog) kick() {
	if w != nil {
		w.timer.Reset(w.timeout)
	}
}

// stop ends the attempt and releases the timer and context.
func (w *watchdog) stop() {
	if w != nil {
		w.timer.Stop()
		w.cancel(nil)
	}
}

// explain returns the watchdog's timeout as the cause of err when it fired.
func (w *watchdog) explain(err error) error {
	if w == nil {
		return err
	}
	if c := context.Cause(w.ctx); c != nil && errors.Is(c, context.DeadlineExceeded) {
		return fmt.Errorf("%w (%v)", c, err)
	}
	return err
}

// watchedBody is a response body whose reads keep the watchdog quiet and
// whose Close ends the attempt.
type watchedBody struct {
	io.ReadCloser
	wd *watchdog
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.wd.kick()
	}
	if err != nil && err != io.EOF {
		err = b.wd.explain(err)
	}
	return n, err
}

func (b *watchedBody) Close() error {
	err := b.ReadCloser.Close()
	b.wd.stop()
	return err
}
