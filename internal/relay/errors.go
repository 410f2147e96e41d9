package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/apierr"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/providers/anthropic"
	"github.com/sluicehq/sluice/providers/sse"
)

// failure is a classified attempt failure: what the client is told, and
// what the retry loop and the breaker do with it.
type failure struct {
	status                    int // for the client
	typ, code, param, message string
	retryable                 bool
	retryAfter                time.Duration
	upstream                  int  // the upstream's status; 0 when none
	own                       bool // the gateway's own error (a bad request), not the upstream's
	deadline                  bool // the call's deadline passed
	clientGone                bool
	err                       error // the cause, for the log
}

func (f *failure) logMessage() string {
	if f.err != nil {
		return f.err.Error()
	}
	return f.message
}

// classify turns an attempt's error into a failure.
func (c *call) classify(a *attempt, err error) *failure {
	if c.parent.Err() != nil || errors.Is(err, errClientGone) {
		return c.gone()
	}
	switch a.cause {
	case errDeadline:
		return &failure{status: http.StatusGatewayTimeout, deadline: true, err: err,
			message: fmt.Sprintf("the upstream provider did not answer within the %v deadline; retry the request", c.r.cfg.Deadline)}
	case errFirstByte, errIdle:
		return &failure{status: http.StatusGatewayTimeout, retryable: true, err: fmt.Errorf("%w (%v)", a.cause, err),
			message: "the upstream provider timed out; retry the request"}
	}
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return &failure{status: ae.Status, typ: ae.Type, code: ae.Code, param: ae.Param, message: ae.Message, own: true, err: err}
	}
	var pe *providers.Error
	if errors.As(err, &pe) {
		f := &failure{upstream: pe.Status, retryAfter: pe.RetryAfter, retryable: pe.Retryable(), err: err}
		switch {
		case pe.Status >= 400 && pe.Status < 500:
			f.status, f.typ, f.code, f.param, f.message = pe.Status, pe.Type, pe.Code, pe.Param, pe.Message
			if f.message == "" {
				f.message = http.StatusText(pe.Status)
			}
		case pe.Status >= 500:
			f.status = http.StatusBadGateway
			f.message = "the upstream provider failed (status " + strconv.Itoa(pe.Status) + ")"
			if pe.Message != "" {
				f.message += ": " + pe.Message
			}
		case pe.Status != 0:
			f.status, f.retryable = http.StatusBadGateway, true
			f.message = "the upstream provider sent an unexpected status " + strconv.Itoa(pe.Status)
		case isTimeout(pe.Err):
			f.status, f.retryable = http.StatusGatewayTimeout, true
			f.message = "the upstream provider timed out; retry the request"
		default:
			f.status, f.retryable = http.StatusBadGateway, true
			f.message = pe.Message
			if f.message == "" {
				f.message = upstreamFailed(err)
			}
		}
		return f
	}
	if isTimeout(err) {
		return &failure{status: http.StatusGatewayTimeout, retryable: true, err: err, message: "the upstream provider timed out; retry the request"}
	}
	return &failure{status: http.StatusBadGateway, retryable: true, err: err, message: upstreamFailed(err)}
}

// upstreamFailed is the message for a failure without the upstream's own
// words: what happened in general, never the internal cause.
func upstreamFailed(err error) string {
	if errors.Is(err, providers.ErrTruncated) {
		return "the upstream provider's stream ended before it was complete; retry the request"
	}
	return "the upstream provider could not be reached or sent an invalid answer; retry the request"
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dialect is the wire format the client speaks, which decides the shape
// of errors.
type dialect int

const (
	dialectOpenAI    dialect = iota // OpenAI envelope and stream error data line
	dialectAnthropic                // Anthropic envelope and "event: error"
)

// writeError writes f as the whole answer.
func (d dialect) writeError(w *clientWriter, f *failure) {
	h := w.Header()
	if f.status == http.StatusTooManyRequests && f.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((f.retryAfter+time.Second-1)/time.Second)))
	}
	if d == dialectAnthropic {
		w.commit(f.status, "application/json")
		_, _ = w.Write(anthropic.ErrorBody(f.status, f.message))
		return
	}
	w.commit(f.status, "application/json")
	_, _ = w.Write(apierr.JSON(f.apiErr()))
}

// streamError ends a stream that failed after its first byte with an error
// event (and never the stream's clean end).
func (d dialect) streamError(w *clientWriter, f *failure) {
	sw := sse.NewWriter(w)
	status := f.status
	if f.upstream >= 400 {
		status = f.upstream
	}
	if d == dialectAnthropic {
		_ = sw.Event("error", anthropic.ErrorBody(status, f.message))
	} else {
		e := f.apiErr()
		if e.Code == "" {
			e.Code = "upstream_error"
		}
		_ = sw.Data(apierr.JSON(e))
	}
	w.flush()
}

func (f *failure) apiErr() *apierr.Error {
	e := &apierr.Error{Status: f.status, Code: f.code, Param: f.param, Message: f.message}
	if f.status < 500 {
		e.Type = f.typ
	}
	return e
}
