// Package geminifake is a fake Gemini Developer API: an http.Handler that
// speaks the real REST wire format of generativelanguage.googleapis.com
// under /v1beta/... and /v1/... — generateContent, streamGenerateContent
// (alt=sse, or a JSON array without it), embedContent, batchEmbedContents,
// and the models list — with Google's error envelope. It answers
// deterministically (an echo of the last user text, or calls of the declared
// tools), records every request, and can be scripted with faults. The
// gateway's end-to-end tests, the load benchmark and the demo mode use it.
//
// It imports only the standard library.
package geminifake

import (
	"encoding/json"
	"github.com/sluicehq/sluice/internal/fakes/fakekit"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault is applied to one request. Faults queue in the order scripted.
type Fault struct {
	// Status answers with this HTTP status and Google's error envelope.
	Status int
	// RetryAfter is sent as the Retry-After header with a Status fault
	// (and, when it is a number of seconds, as a google.rpc.RetryInfo
	// detail, which is how Gemini itself says it).
	RetryAfter string
	// Body replaces the error body of a Status fault.
	Body string
	// DelayFirstByte waits before answering (or until the client leaves).
	DelayFirstByte time.Duration
	// CutAfterChunks closes the connection of a stream after that many
	// events, before the one with the finishReason.
	CutAfterChunks int
	// MalformedSSE sends a data: line that is not JSON after the first event.
	MalformedSSE bool
	// InvalidJSON answers a non-streamed request 200 with a broken body.
	InvalidJSON bool
	// DelayBetweenChunks waits between stream events.
	DelayBetweenChunks time.Duration
	// Hang never answers; the handler returns when the client goes away.
	Hang bool
	// BlockReason answers as Gemini does for a prompt blocked by safety:
	// promptFeedback.blockReason set ("SAFETY", "PROHIBITED_CONTENT", …)
	// and no candidates.
	BlockReason string
}

// Recorded is one request the fake received.
type Recorded = fakekit.Recorded

// Fake is the fake Gemini API. Set its fields before serving; its methods
// are safe for concurrent use.
type Fake struct {
	// APIKey, when non-empty, is the key every request must carry in
	// x-goog-api-key or ?key=. A missing key is answered 403
	// PERMISSION_DENIED and a wrong one 400 INVALID_ARGUMENT with reason
	// API_KEY_INVALID, as Gemini does.
	APIKey string
	// Block, when non-empty, blocks every prompt with this blockReason.
	Block string
	// CallIDs adds ids (call_1, call_2, …) to function calls. Gemini's
	// Developer API usually sends none.
	CallIDs bool
	// Models are the model ids listed by GET models; a default list when nil.
	Models []string
	// EmbeddingDims is the vector length when the request gives no
	// outputDimensionality; 16 when zero.
	EmbeddingDims int

	fakekit.Recorder[Fault]
}

// New returns a fake with no key, no faults and the default models.
func New() *Fake { return &Fake{} }

// ServeHTTP routes {version}/models, {version}/models/{model} and
// {version}/models/{model}:{method}.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	seq := f.Record(r, body)

	if f.APIKey != "" {
		key := r.Header.Get("x-goog-api-key")
		if key == "" {
			key = r.URL.Query().Get("key")
		}
		switch {
		case key == "":
			writeError(w, http.StatusForbidden, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", nil)
			return
		case key != f.APIKey:
			writeError(w, http.StatusBadRequest, "API key not valid. Please pass a valid API key.", []any{map[string]any{
				"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
			}})
			return
		}
	}

	version, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if version != "v1beta" && version != "v1" && version != "v1alpha" {
		writeError(w, http.StatusNotFound, "Requested entity was not found.", nil)
		return
	}
	fault := f.NextFault()
	if !applyFault(w, r, fault) {
		return
	}

	if rest == "models" && r.Method == http.MethodGet {
		f.listModels(w, r)
		return
	}
	name, ok := strings.CutPrefix(rest, "models/")
	if !ok || name == "" {
		writeError(w, http.StatusNotFound, "Requested entity was not found.", nil)
		return
	}
	model, method, hasMethod := cutLast(name, ':')
	if !hasMethod {
		if r.Method != http.MethodGet {
			writeError(w, http.StatusNotFound, "Requested entity was not found.", nil)
			return
		}
		f.getModel(w, name)
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, "Requested entity was not found.", nil)
		return
	}
	switch method {
	case "generateContent":
		f.generate(w, r, body, model, seq, fault, false)
	case "streamGenerateContent":
		f.generate(w, r, body, model, seq, fault, true)
	case "embedContent":
		f.embed(w, body, model, false)
	case "batchEmbedContents":
		f.embed(w, body, model, true)
	default:
		writeError(w, http.StatusNotFound, "Requested entity was not found.", nil)
	}
}

// applyFault applies the fault's delays and error answer; it reports
// whether the request should go on to a normal answer.
func applyFault(w http.ResponseWriter, r *http.Request, ft Fault) bool {
	if ft.Hang {
		<-r.Context().Done()
		return false
	}
	if !fakekit.Sleep(r.Context(), ft.DelayFirstByte) {
		return false
	}
	if ft.Status == 0 {
		return true
	}
	if ft.RetryAfter != "" {
		w.Header().Set("Retry-After", ft.RetryAfter)
	}
	if ft.Body != "" {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(ft.Status)
		_, _ = io.WriteString(w, ft.Body)
		return false
	}
	var details []any
	if secs, err := strconv.Atoi(ft.RetryAfter); err == nil && ft.Status == http.StatusTooManyRequests {
		details = []any{map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": strconv.Itoa(secs) + "s"}}
	}
	writeError(w, ft.Status, defaultMessage(ft.Status), details)
	return false
}

// statusNames are the google.rpc.Code names Gemini puts in error.status.
var statusNames = map[int]string{
	400: "INVALID_ARGUMENT",
	401: "UNAUTHENTICATED",
	403: "PERMISSION_DENIED",
	404: "NOT_FOUND",
	409: "ABORTED",
	429: "RESOURCE_EXHAUSTED",
	499: "CANCELLED",
	500: "INTERNAL",
	501: "NOT_IMPLEMENTED",
	503: "UNAVAILABLE",
	504: "DEADLINE_EXCEEDED",
}

// StatusName returns the google.rpc.Code name Gemini uses for an HTTP status.
func StatusName(status int) string {
	if s, ok := statusNames[status]; ok {
		return s
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "UNKNOWN"
}

func defaultMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Resource has been exhausted (e.g. check quota)."
	case http.StatusServiceUnavailable:
		return "The model is overloaded. Please try again later."
	case http.StatusInternalServerError:
		return "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
	case http.StatusBadRequest:
		return "Request contains an invalid argument."
	default:
		return http.StatusText(status)
	}
}

// writeError writes {"error":{"code","message","status"[,"details"]}}.
func writeError(w http.ResponseWriter, status int, msg string, details []any) {
	e := map[string]any{"code": status, "message": msg, "status": StatusName(status)}
	if details != nil {
		e["details"] = details
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func cutLast(s string, sep byte) (before, after string, found bool) {
	if i := strings.LastIndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// The models list.

var defaultModels = []string{"gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash", "gemini-embedding-001", "text-embedding-004"}

func (f *Fake) models() []string {
	if f.Models != nil {
		return f.Models
	}
	return defaultModels
}

func modelObject(id string) map[string]any {
	methods := []string{"generateContent", "countTokens", "streamGenerateContent"}
	if strings.Contains(id, "embedding") {
		methods = []string{"embedContent", "batchEmbedContents"}
	}
	return map[string]any{
		"name": "models/" + id, "version": "001", "displayName": id, "description": "Fake " + id,
		"inputTokenLimit": 1048576, "outputTokenLimit": 65536, "supportedGenerationMethods": methods,
	}
}

// listModels answers GET models, paginated by pageSize and pageToken (an
// offset).
func (f *Fake) listModels(w http.ResponseWriter, r *http.Request) {
	all := f.models()
	size, _ := strconv.Atoi(r.URL.Query().Get("pageSize"))
	if size <= 0 || size > 1000 {
		size = 50
	}
	start, _ := strconv.Atoi(r.URL.Query().Get("pageToken"))
	if start < 0 || start > len(all) {
		start = len(all)
	}
	end := min(start+size, len(all))
	list := make([]any, 0, end-start)
	for _, m := range all[start:end] {
		list = append(list, modelObject(m))
	}
	resp := map[string]any{"models": list}
	if end < len(all) {
		resp["nextPageToken"] = strconv.Itoa(end)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (f *Fake) getModel(w http.ResponseWriter, name string) {
	for _, m := range f.models() {
		if m == name {
			writeJSON(w, http.StatusOK, modelObject(m))
			return
		}
	}
	writeError(w, http.StatusNotFound, "models/"+name+" is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.", nil)
}

// Embeddings.

type embedRequest struct {
	Model   string `json:"model"`
	Content struct {
		Parts []struct {
			Text string `json:"text"`
		} `json:"parts"`
	} `json:"content"`
	OutputDimensionality int `json:"outputDimensionality"`
}

func (f *Fake) embed(w http.ResponseWriter, body []byte, model string, batch bool) {
	var reqs []embedRequest
	if batch {
		var b struct {
			Requests []embedRequest `json:"requests"`
		}
		if err := json.Unmarshal(body, &b); err != nil {
			writeError(w, http.StatusBadRequest, "Invalid JSON payload received. "+err.Error(), nil)
			return
		}
		for i, r := range b.Requests {
			if r.Model != "models/"+model {
				writeError(w, http.StatusBadRequest, "Model name in requests["+strconv.Itoa(i)+"] must match the model in the URL.", nil)
				return
			}
		}
		reqs = b.Requests
	} else {
		var one embedRequest
		if err := json.Unmarshal(body, &one); err != nil {
			writeError(w, http.StatusBadRequest, "Invalid JSON payload received. "+err.Error(), nil)
			return
		}
		reqs = []embedRequest{one}
	}
	if len(reqs) == 0 {
		writeError(w, http.StatusBadRequest, "* BatchEmbedContentsRequest.requests: contents is not specified\n", nil)
		return
	}
	vecs := make([]any, len(reqs))
	for i, r := range reqs {
		var texts []string
		for _, p := range r.Content.Parts {
			texts = append(texts, p.Text)
		}
		dims := r.OutputDimensionality
		if dims <= 0 {
			dims = f.EmbeddingDims
		}
		if dims <= 0 {
			dims = 16
		}
		vecs[i] = map[string]any{"values": Vector(strings.Join(texts, " "), dims)}
	}
	if batch {
		writeJSON(w, http.StatusOK, map[string]any{"embeddings": vecs})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"embedding": vecs[0]})
}

// Vector is the fake's deterministic unit vector for text.
func Vector(text string, dims int) []float64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, text)
	x := h.Sum64() | 1
	out := make([]float64, dims)
	var norm float64
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		v := float64(x%2001)/1000 - 1
		out[i] = v
		norm += v * v
	}
	if norm == 0 {
		out[0], norm = 1, 1
	}
	n := math.Sqrt(norm)
	for i := range out {
		out[i] = math.Round(out[i]/n*1e6) / 1e6
	}
	return out
}
