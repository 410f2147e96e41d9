package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/sluicehq/sluice/internal/apierr"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/providers/anthropic"
	"github.com/sluicehq/sluice/providers/sse"
)

// Messages relays POST /v1/messages: Anthropic Messages in and out. A
// target whose provider takes Messages natively gets the client's bytes
// (model rewritten); any other is reached through the unified form.
func (r *Relay) Messages(ctx context.Context, w http.ResponseWriter, req *Request) *Result {
	mc := &messagesCall{req: req}
	res := r.serve(ctx, w, req, dialectAnthropic, req.Targets, mc.attempt)
	if res.answered {
		mc.m.result(res, req.Body)
	}
	return res
}

// messagesCall is one /v1/messages call across its attempts (see
// chatCall).
type messagesCall struct {
	req     *Request
	m       meter
	unified *providers.ChatRequest // converted once, for translating targets
	convErr error
}

func (mc *messagesCall) attempt(a *attempt) error {
	mc.m = meter{}
	if pt, ok := passthrough(a.t.Provider, providers.OpMessages); ok {
		return a.passMessages(pt, &mc.m)
	}
	return mc.translate(a)
}

// translate runs an attempt on a target of another format.
//
//go:noinline
func (mc *messagesCall) translate(a *attempt) error {
	if mc.unified == nil && mc.convErr == nil {
		mc.unified, mc.convErr = offStack(func() (*providers.ChatRequest, error) {
			u, err := anthropic.RequestToUnified(mc.req.Body)
			var pe *providers.Error
			if errors.As(err, &pe) {
				err = &apierr.Error{Status: http.StatusBadRequest, Param: pe.Param, Message: pe.Message, Err: err}
			}
			return u, err
		})
	}
	if mc.convErr != nil {
		return mc.convErr
	}
	cr := new(providers.ChatRequest)
	*cr = *mc.unified
	cr.Model = a.t.UpstreamModel
	if mc.req.Stream {
		return a.translateMessagesStream(cr, &mc.m)
	}
	return a.translateMessages(cr, &mc.m)
}

// passMessages forwards a native Messages body with only "model" rewritten.
func (a *attempt) passMessages(pt providers.Passthrough, m *meter) error {
	body, err := a.passMessagesBody()
	if err != nil {
		return err
	}
	resp, err := a.forward(pt, providers.OpMessages, body, anthropicError)
	if err != nil {
		return err
	}
	if a.c.req.Stream {
		return a.copyAnthropicStream(resp, m)
	}
	return a.passMessagesAnswer(resp, m)
}

// passMessagesBody is the client's body with "model" rewritten.
//
//go:noinline
func (a *attempt) passMessagesBody() ([]byte, error) {
	body, err := sjson.SetBytes(a.c.req.Body, "model", a.t.UpstreamModel)
	if err != nil {
		return nil, apierr.BadRequest("model", "the request body could not be rewritten: "+err.Error())
	}
	return body, nil
}

// passMessagesAnswer reads a whole passed-through Message, meters it and
// writes it with the public model name.
//
//go:noinline
func (a *attempt) passMessagesAnswer(resp *http.Response, m *meter) error {
	req := a.c.req
	data, err := readJSON(resp)
	if err != nil {
		return err
	}
	s := str(data)
	if gjson.Get(s, "type").Str == "error" {
		return anthropicError(http.StatusBadGateway, nil, data)
	}
	m.anthropic(gjson.Get(s, "usage"))
	gjson.Get(s, "content").ForEach(func(_, b gjson.Result) bool {
		m.outBytes += len(b.Get("text").Str) + len(b.Get("input").Raw)
		return true
	})
	return a.writeJSON(resp.StatusCode, setModel(data, "model", req.Model))
}

// translateMessages calls the provider's Chat and writes an Anthropic
// Message.
func (a *attempt) translateMessages(cr *providers.ChatRequest, m *meter) error {
	cr.Stream, cr.StreamOptions = false, nil
	resp, err := a.t.Provider.Chat(a.ctx, cr)
	if err != nil {
		return err
	}
	a.status = http.StatusOK
	m.unified(resp.Usage)
	m.responseText(resp)
	data, err := anthropic.ResponseFromUnified(resp, a.c.req.Model)
	if err != nil {
		return &providers.Error{Err: fmt.Errorf("translating the answer: %w", err)}
	}
	return a.writeJSON(http.StatusOK, data)
}

// translateMessagesStream calls the provider's ChatStream and writes
// Anthropic stream events.
func (a *attempt) translateMessagesStream(cr *providers.ChatRequest, m *meter) error {
	cr.Stream = true
	cr.StreamOptions = &providers.StreamOptions{IncludeUsage: true}
	// Building the upstream request is deep (translation, encoding/json):
	// off the stream's stack (see offStack).
	s, err := offStack(func() (providers.Stream, error) { return a.t.Provider.ChatStream(a.ctx, cr) })
	if err != nil {
		return err
	}
	defer s.Close()
	a.status = http.StatusOK
	sw := sse.NewWriter(a.c.w)
	enc := anthropic.NewStreamEncoder(a.c.req.Model)
	send := func(evs []anthropic.Event) error {
		if len(evs) > 0 && !a.committed {
			a.startStream()
		}
		for _, ev := range evs {
			if err := sw.Event(ev.Name, ev.Data); err != nil {
				return err
			}
		}
		return a.c.w.flush()
	}
	for {
		ch, err := s.Recv()
		if err == io.EOF {
			return send(enc.Finish())
		}
		if err != nil {
			return err
		}
		a.kick()
		m.chunkText(ch)
		m.unified(ch.Usage)
		evs, err := enc.Encode(ch)
		if err != nil {
			return &providers.Error{Err: fmt.Errorf("translating a chunk: %w", err)}
		}
		if err := send(evs); err != nil {
			return err
		}
	}
}
