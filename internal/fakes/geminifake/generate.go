package geminifake

import (
	"encoding/json"
	"fmt"
	"github.com/sluicehq/sluice/internal/fakes/fakekit"
	"net/http"
	"strings"
	"unicode"
)

// genRequest is the part of a GenerateContentRequest the fake reads.
type genRequest struct {
	Contents          []genContent `json:"contents"`
	SystemInstruction *genContent  `json:"systemInstruction"`
	Tools             []struct {
		FunctionDeclarations []struct {
			Name string `json:"name"`
		} `json:"functionDeclarations"`
	} `json:"tools"`
}

type genContent struct {
	Role  string `json:"role"`
	Parts []struct {
		Text             string          `json:"text"`
		Thought          bool            `json:"thought"`
		FunctionResponse json.RawMessage `json:"functionResponse"`
	} `json:"parts"`
}

// The answer, in the order and shape Gemini writes it.
type respBody struct {
	Candidates     []respCandidate `json:"candidates,omitempty"`
	PromptFeedback *respFeedback   `json:"promptFeedback,omitempty"`
	UsageMetadata  respUsage       `json:"usageMetadata"`
	ModelVersion   string          `json:"modelVersion"`
	ResponseID     string          `json:"responseId"`
}

type respCandidate struct {
	Content      respContent `json:"content"`
	FinishReason string      `json:"finishReason,omitempty"`
	Index        int         `json:"index"`
}

type respContent struct {
	Parts []respPart `json:"parts"`
	Role  string     `json:"role"`
}

type respPart struct {
	Text         string    `json:"text,omitempty"`
	FunctionCall *respCall `json:"functionCall,omitempty"`
}

type respCall struct {
	ID   string            `json:"id,omitempty"`
	Name string            `json:"name"`
	Args map[string]string `json:"args"`
}

type respFeedback struct {
	BlockReason   string         `json:"blockReason"`
	SafetyRatings []safetyRating `json:"safetyRatings"`
}

type safetyRating struct {
	Category    string `json:"category"`
	Probability string `json:"probability"`
}

type respUsage struct {
	PromptTokenCount     int             `json:"promptTokenCount"`
	CandidatesTokenCount int             `json:"candidatesTokenCount,omitempty"`
	TotalTokenCount      int             `json:"totalTokenCount"`
	PromptTokensDetails  []modalityCount `json:"promptTokensDetails,omitempty"`
}

type modalityCount struct {
	Modality   string `json:"modality"`
	TokenCount int    `json:"tokenCount"`
}

// reply is what the fake decided to answer.
type reply struct {
	text       string
	calls      []respCall
	block      string
	prompt     int
	completion int
}

// decide computes the answer: a blocked prompt, calls of the declared tools
// (when the request ends with user text containing use_tool or use_tools),
// or "echo: " + the last user text.
func (f *Fake) decide(req *genRequest, fault Fault) reply {
	var rp reply
	countWords := func(c *genContent) {
		for _, p := range c.Parts {
			rp.prompt += len(strings.Fields(p.Text))
		}
	}
	if req.SystemInstruction != nil {
		countWords(req.SystemInstruction)
	}
	lastUser := ""
	for i := range req.Contents {
		c := &req.Contents[i]
		countWords(c)
		if c.Role == "model" {
			continue
		}
		var texts []string
		for _, p := range c.Parts {
			if p.Text != "" && !p.Thought {
				texts = append(texts, p.Text)
			}
		}
		if len(texts) > 0 {
			lastUser = strings.Join(texts, " ")
		}
	}

	rp.block = fault.BlockReason
	if rp.block == "" {
		rp.block = f.Block
	}
	if rp.block != "" {
		return rp
	}

	var tools []string
	for _, t := range req.Tools {
		for _, d := range t.FunctionDeclarations {
			tools = append(tools, d.Name)
		}
	}
	if len(tools) > 0 && endsWithUserText(req.Contents) {
		words := strings.Fields(lastUser)
		switch {
		case hasWord(words, "use_tools"):
		case hasWord(words, "use_tool"):
			tools = tools[:1]
		default:
			tools = nil
		}
		for i, name := range tools {
			c := respCall{Name: name, Args: map[string]string{"echo": lastUser}}
			if f.CallIDs {
				c.ID = fmt.Sprintf("call_%d", i+1)
			}
			rp.calls = append(rp.calls, c)
			rp.completion += len(strings.Fields(lastUser)) + 1
		}
		if len(rp.calls) > 0 {
			return rp
		}
	}
	rp.text = "echo: " + lastUser
	rp.completion = len(strings.Fields(rp.text))
	return rp
}

// endsWithUserText reports whether the last turn is user text (not a
// function response), so a tool loop ends after one round.
func endsWithUserText(contents []genContent) bool {
	if len(contents) == 0 {
		return false
	}
	last := contents[len(contents)-1]
	if last.Role == "model" {
		return false
	}
	hasText := false
	for _, p := range last.Parts {
		if len(p.FunctionResponse) > 0 {
			return false
		}
		if p.Text != "" {
			hasText = true
		}
	}
	return hasText
}

func hasWord(words []string, w string) bool {
	for _, x := range words {
		if strings.Trim(x, ".,;:!?\"'") == w {
			return true
		}
	}
	return false
}

// pieces splits text into words keeping the whitespace after each, so the
// pieces concatenate back to text.
func pieces(text string) []string {
	var out []string
	start, inSpace := 0, false
	for i, r := range text {
		sp := unicode.IsSpace(r)
		if inSpace && !sp {
			out = append(out, text[start:i])
			start = i
		}
		inSpace = sp
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// events builds the answer: one body for a non-streamed call, one per
// stream event otherwise (one per word; calls arrive whole).
func (rp reply) events(model, id string, stream bool) []respBody {
	usage := respUsage{
		PromptTokenCount:     rp.prompt,
		CandidatesTokenCount: rp.completion,
		TotalTokenCount:      rp.prompt + rp.completion,
		PromptTokensDetails:  []modalityCount{{Modality: "TEXT", TokenCount: rp.prompt}},
	}
	base := respBody{ModelVersion: model, ResponseID: id, UsageMetadata: usage}
	if rp.block != "" {
		base.UsageMetadata.CandidatesTokenCount = 0
		base.UsageMetadata.TotalTokenCount = rp.prompt
		base.PromptFeedback = &respFeedback{BlockReason: rp.block, SafetyRatings: []safetyRating{
			{Category: "HARM_CATEGORY_SEXUALLY_EXPLICIT", Probability: "NEGLIGIBLE"},
			{Category: "HARM_CATEGORY_HATE_SPEECH", Probability: "NEGLIGIBLE"},
			{Category: "HARM_CATEGORY_HARASSMENT", Probability: "NEGLIGIBLE"},
			{Category: "HARM_CATEGORY_DANGEROUS_CONTENT", Probability: "HIGH"},
		}}
		return []respBody{base}
	}
	if len(rp.calls) > 0 {
		parts := make([]respPart, len(rp.calls))
		for i := range rp.calls {
			parts[i] = respPart{FunctionCall: &rp.calls[i]}
		}
		base.Candidates = []respCandidate{{Content: respContent{Parts: parts, Role: "model"}, FinishReason: "STOP"}}
		return []respBody{base}
	}
	if !stream {
		base.Candidates = []respCandidate{{Content: respContent{Parts: []respPart{{Text: rp.text}}, Role: "model"}, FinishReason: "STOP"}}
		return []respBody{base}
	}
	ps := pieces(rp.text)
	out := make([]respBody, len(ps))
	for i, p := range ps {
		ev := respBody{ModelVersion: model, ResponseID: id,
			UsageMetadata: respUsage{PromptTokenCount: rp.prompt, TotalTokenCount: rp.prompt},
			Candidates:    []respCandidate{{Content: respContent{Parts: []respPart{{Text: p}}, Role: "model"}}},
		}
		if i == len(ps)-1 {
			ev.Candidates[0].FinishReason = "STOP"
			ev.UsageMetadata = usage
		}
		out[i] = ev
	}
	return out
}

// generate answers generateContent and streamGenerateContent.
func (f *Fake) generate(w http.ResponseWriter, r *http.Request, body []byte, model string, seq int, fault Fault, stream bool) {
	var req genRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid JSON payload received. "+err.Error(), nil)
		return
	}
	if len(req.Contents) == 0 {
		writeError(w, http.StatusBadRequest, "* GenerateContentRequest.contents: contents is not specified\n", nil)
		return
	}
	for i, c := range req.Contents {
		if c.Role != "" && c.Role != "user" && c.Role != "model" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Please use a valid role: user, model. (contents[%d].role = %q)", i, c.Role), nil)
			return
		}
	}
	rp := f.decide(&req, fault)
	id := fmt.Sprintf("fakeResp%06d", seq)
	events := rp.events(model, id, stream)

	if !stream {
		if fault.InvalidJSON {
			w.Header().Set("Content-Type", "application/json; charset=UTF-8")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"candidates": [{"content": {"parts": [{"text": "echo`))
			return
		}
		writeJSON(w, http.StatusOK, events[0])
		return
	}
	if r.URL.Query().Get("alt") != "sse" {
		f.writeArray(w, r, events, fault)
		return
	}
	f.writeSSE(w, r, events, fault)
}

// writeSSE streams the events as server-sent events ("data: …\r\n\r\n", as
// Gemini writes them), applying the stream faults.
func (f *Fake) writeSSE(w http.ResponseWriter, r *http.Request, events []respBody, fault Fault) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	cut := -1
	if fault.CutAfterChunks > 0 {
		cut = min(fault.CutAfterChunks, len(events)-1)
	}
	for i, ev := range events {
		if i == cut {
			panic(http.ErrAbortHandler) // drop the connection: no final chunk
		}
		if i > 0 && !fakekit.Sleep(r.Context(), fault.DelayBetweenChunks) {
			return
		}
		b, _ := json.Marshal(ev)
		if _, err := fmt.Fprintf(w, "data: %s\r\n\r\n", b); err != nil {
			return
		}
		if i == 0 && fault.MalformedSSE {
			_, _ = w.Write([]byte("data: {\"candidates\": [{\"content\": garbage\r\n\r\n"))
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// writeArray answers streamGenerateContent without alt=sse: a JSON array
// of the events.
func (f *Fake) writeArray(w http.ResponseWriter, r *http.Request, events []respBody, fault Fault) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("["))
	for i, ev := range events {
		if i > 0 {
			if !fakekit.Sleep(r.Context(), fault.DelayBetweenChunks) {
				return
			}
			_, _ = w.Write([]byte(",\r\n"))
		}
		b, _ := json.Marshal(ev)
		_, _ = w.Write(b)
	}
	_, _ = w.Write([]byte("]"))
}
