package relay

import (
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/providers"
)

// meter collects a call's usage: as the upstream reports it, or else the
// output text it saw, to estimate from.
type meter struct {
	usage    providers.Usage
	reported bool
	outBytes int
}

// result stores the usage in res, estimating it from the bytes of text
// (≈ 4 bytes a token) when the upstream reported none.
func (m *meter) result(res *Result, body []byte) {
	if m.reported {
		res.Usage = m.usage
		return
	}
	p, c := promptBytes(body)/4, m.outBytes/4
	res.Usage = providers.Usage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c}
	res.UsageEstimated = true
}

// openAI takes an OpenAI usage object. It is read with gjson, not
// encoding/json: that reflection costs more, and it runs deep in a
// stream's stack (see copyOpenAIStream).
//
//go:noinline
func (m *meter) openAI(u gjson.Result) {
	if !u.IsObject() {
		return
	}
	var out providers.Usage
	u.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "prompt_tokens":
			out.PromptTokens = int(v.Int())
		case "completion_tokens":
			out.CompletionTokens = int(v.Int())
		case "total_tokens":
			out.TotalTokens = int(v.Int())
		case "prompt_tokens_details":
			if v.IsObject() {
				out.PromptTokensDetails = &providers.PromptTokensDetails{CachedTokens: int(v.Get("cached_tokens").Int()),
					AudioTokens: int(v.Get("audio_tokens").Int()), CacheCreationTokens: int(v.Get("cache_creation_tokens").Int())}
			}
		case "completion_tokens_details":
			if v.IsObject() {
				out.CompletionTokensDetails = &providers.CompletionTokensDetails{ReasoningTokens: int(v.Get("reasoning_tokens").Int()),
					AudioTokens: int(v.Get("audio_tokens").Int())}
			}
		}
		return true
	})
	m.usage, m.reported = out, true
}

// unified takes usage a provider reported.
func (m *meter) unified(u *providers.Usage) {
	if u != nil {
		m.usage, m.reported = *u, true
	}
}

// anthropic merges an Anthropic usage object: stream events carry
// cumulative counts, and absent ones keep their earlier value.
//
//go:noinline
func (m *meter) anthropic(u gjson.Result) {
	if !u.IsObject() {
		return
	}
	d := &m.usage
	in, cr, cw := u.Get("input_tokens"), u.Get("cache_read_input_tokens"), u.Get("cache_creation_input_tokens")
	if in.Exists() || cr.Exists() || cw.Exists() {
		cached, created := 0, 0
		if d.PromptTokensDetails != nil {
			cached, created = d.PromptTokensDetails.CachedTokens, d.PromptTokensDetails.CacheCreationTokens
		}
		input := d.PromptTokens - cached - created
		if in.Exists() {
			input = int(in.Int())
		}
		if cr.Exists() {
			cached = int(cr.Int())
		}
		if cw.Exists() {
			created = int(cw.Int())
		}
		d.PromptTokens = input + cached + created
		if cached > 0 || created > 0 {
			d.PromptTokensDetails = &providers.PromptTokensDetails{CachedTokens: cached, CacheCreationTokens: created}
		}
	}
	if o := u.Get("output_tokens"); o.Exists() {
		d.CompletionTokens = int(o.Int())
	}
	d.TotalTokens = d.PromptTokens + d.CompletionTokens
	m.reported = true
}

// chunkText counts the output text of a unified chunk.
func (m *meter) chunkText(c *providers.ChatChunk) {
	for _, ch := range c.Choices {
		d := ch.Delta
		if d.Content != nil {
			m.outBytes += len(*d.Content)
		}
		if d.ReasoningContent != nil {
			m.outBytes += len(*d.ReasoningContent)
		}
		for _, tc := range d.ToolCalls {
			m.outBytes += len(tc.Function.Name) + len(tc.Function.Arguments)
		}
	}
}

// responseText counts the output text of a unified response.
func (m *meter) responseText(r *providers.ChatResponse) {
	for _, ch := range r.Choices {
		m.outBytes += len(ch.Message.Content.String()) + len(ch.Message.ReasoningContent)
		for _, tc := range ch.Message.ToolCalls {
			m.outBytes += len(tc.Function.Name) + len(tc.Function.Arguments)
		}
	}
}

// promptBytes counts the text of a chat or messages request body: the
// string contents and text parts of its messages, and its system prompt.
func promptBytes(body []byte) int {
	n := 0
	count := func(c gjson.Result) {
		switch {
		case c.Type == gjson.String:
			n += len(c.Str)
		case c.IsArray():
			c.ForEach(func(_, p gjson.Result) bool {
				n += len(p.Get("text").Str)
				return true
			})
		}
	}
	s := str(body)
	count(gjson.Get(s, "system"))
	gjson.Get(s, "messages").ForEach(func(_, msg gjson.Result) bool {
		count(msg.Get("content"))
		return true
	})
	if n == 0 { // embeddings: the input
		in := gjson.Get(s, "input")
		if in.Type == gjson.String {
			n += len(in.Str)
		} else {
			in.ForEach(func(_, v gjson.Result) bool { n += len(v.Str); return true })
		}
	}
	return n
}

// str views b as a string without copying, for gjson lookups whose
// results do not outlive b.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
