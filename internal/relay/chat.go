package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/sluicehq/sluice/internal/apierr"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/providers/sse"
)

// Chat relays POST /v1/chat/completions. It writes the whole answer,
// success or error, to w and returns what happened.
func (r *Relay) Chat(ctx context.Context, w http.ResponseWriter, req *Request) *Result {
	ch := &chatCall{req: req, includeUsage: includeUsage(req.Body)}
	res := r.serve(ctx, w, req, dialectOpenAI, req.Targets, ch.attempt)
	if res.answered {
		ch.m.result(res, req.Body)
	}
	return res
}

// includeUsage reports whether a chat body asks for usage on its stream.
//
//go:noinline
func includeUsage(body []byte) bool {
	return gjson.GetBytes(body, "stream_options.include_usage").Bool()
}

// chatCall is one chat completions call across its attempts.
type chatCall struct {
	req          *Request
	includeUsage bool
	m            meter
	unified      *providers.ChatRequest // decoded once, for translating targets
	decodeErr    error
}

func (ch *chatCall) attempt(a *attempt) error {
	ch.m = meter{}
	if pt, ok := passthrough(a.t.Provider, providers.OpChat); ok {
		return a.passChat(pt, ch.includeUsage, &ch.m)
	}
	return ch.translate(a)
}

// translate runs an attempt on a target of another format.
//
//go:noinline
func (ch *chatCall) translate(a *attempt) error {
	if ch.unified == nil && ch.decodeErr == nil {
		ch.unified, ch.decodeErr = offStack(func() (*providers.ChatRequest, error) { return decodeChat(ch.req.Body) })
	}
	if ch.decodeErr != nil {
		return ch.decodeErr
	}
	cr := new(providers.ChatRequest)
	*cr = *ch.unified
	cr.Model = a.t.UpstreamModel
	if ch.req.Stream {
		return a.translateChatStream(cr, ch.includeUsage, &ch.m)
	}
	return a.translateChat(cr, &ch.m)
}

// decodeChat decodes a chat completions body for translation; a body that
// does not fit is the client's 400.
func decodeChat(body []byte) (*providers.ChatRequest, error) {
	var cr providers.ChatRequest
	if err := json.Unmarshal(body, &cr); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, apierr.BadRequest(te.Field, fmt.Sprintf("%s: expected %s, got %s", te.Field, te.Type, te.Value))
		}
		return nil, apierr.BadRequest("", "the request body is not a valid chat completions request: "+err.Error())
	}
	if len(cr.Messages) == 0 {
		return nil, apierr.BadRequest("messages", "messages: at least one message is required")
	}
	return &cr, nil
}

// passChat forwards the client's body with only "model" rewritten (and,
// for a stream, include_usage added so that usage can be counted).
func (a *attempt) passChat(pt providers.Passthrough, includeUsage bool, m *meter) error {
	body, hide, err := a.passChatBody(includeUsage)
	if err != nil {
		return err
	}
	resp, err := a.forward(pt, providers.OpChat, body, openAIError)
	if err != nil {
		return err
	}
	if a.c.req.Stream {
		return a.copyOpenAIStream(resp, hide, m)
	}
	return a.passChatAnswer(resp, m)
}

// passChatBody is the body passChat sends: the client's with "model"
// rewritten and, on a stream the client asked no usage of, include_usage
// added (hide is then true). Apart from passChat, whose frame stays on the
// stack for the whole stream, to keep that frame small.
//
//go:noinline
func (a *attempt) passChatBody(includeUsage bool) (body []byte, hide bool, err error) {
	req := a.c.req
	body, err = sjson.SetBytes(req.Body, "model", a.t.UpstreamModel)
	if err != nil {
		return nil, false, apierr.BadRequest("model", "the request body could not be rewritten: "+err.Error())
	}
	if req.Stream && !includeUsage {
		if body, err = sjson.SetBytes(body, "stream_options.include_usage", true); err != nil {
			return nil, false, apierr.BadRequest("stream_options", "the request body could not be rewritten: "+err.Error())
		}
		hide = true
	}
	return body, hide, nil
}

// passChatAnswer reads a whole passed-through answer, meters it and writes
// it to the client with the public model name.
//
//go:noinline
func (a *attempt) passChatAnswer(resp *http.Response, m *meter) error {
	req := a.c.req
	data, err := readJSON(resp)
	if err != nil {
		return err
	}
	model, choices, usage, errv := openAIMembers(data)
	if errv.Exists() && errv.Type != gjson.Null {
		if pe := openAIBodyError("", data); pe != nil {
			return pe
		}
	}
	if usage.IsObject() {
		m.openAI(usage)
	}
	choices.ForEach(func(_, ch gjson.Result) bool {
		msg := ch.Get("message")
		m.outBytes += len(msg.Get("content").Str)
		msg.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
			m.outBytes += len(tc.Get("function.arguments").Str)
			return true
		})
		return true
	})
	_, data = newModelName(req.Model).set(nil, data, model)
	return a.writeJSON(resp.StatusCode, data)
}

// translateChat calls the provider's Chat and writes the OpenAI answer.
func (a *attempt) translateChat(cr *providers.ChatRequest, m *meter) error {
	cr.Stream, cr.StreamOptions = false, nil
	resp, err := a.t.Provider.Chat(a.ctx, cr)
	if err != nil {
		return err
	}
	a.status = http.StatusOK
	resp.Model = a.c.req.Model
	m.unified(resp.Usage)
	m.responseText(resp)
	data, err := json.Marshal(resp)
	if err != nil {
		return &providers.Error{Err: fmt.Errorf("encoding the answer: %w", err)}
	}
	return a.writeJSON(http.StatusOK, data)
}

// translateChatStream calls the provider's ChatStream and writes OpenAI
// chunks, then data: [DONE]. The usage chunk goes to the client only when
// it asked for it.
func (a *attempt) translateChatStream(cr *providers.ChatRequest, includeUsage bool, m *meter) error {
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
	for {
		ch, err := s.Recv()
		if err == io.EOF {
			if !a.committed {
				a.startStream()
			}
			return a.sendEvent(sw, "", doneData)
		}
		if err != nil {
			return err
		}
		a.kick()
		m.chunkText(ch)
		if ch.Usage != nil {
			m.unified(ch.Usage)
			if !includeUsage {
				if len(ch.Choices) == 0 {
					continue
				}
				ch.Usage = nil
			}
		}
		ch.Model = a.c.req.Model
		data, err := json.Marshal(ch)
		if err != nil {
			return &providers.Error{Err: fmt.Errorf("encoding a chunk: %w", err)}
		}
		if !a.committed {
			a.startStream()
		}
		if err := a.sendEvent(sw, "", data); err != nil {
			return err
		}
	}
}
