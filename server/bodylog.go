package server

import (
	"bytes"
	"strconv"
	"strings"
	"unsafe"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/sluicehq/sluice/internal/calllog"
)

// Body logging. When the service of a call sets LogBodies, its record
// carries the request body and the answer written to the client (for a
// stream, the SSE text), both redacted:
//
//   - every top-level string field named api_key, key or authorization
//     (in any case) becomes "[redacted]";
//   - so does every value at the service's RedactFields paths: gjson/sjson
//     paths of dot-separated keys where '#' stands for every element of an
//     array ("messages.#.content", "user", "input.0"). A path that matches
//     nothing adds nothing.
//
// A response that is not one JSON document is treated as SSE: each
// "data:" line whose payload is JSON is redacted the same way; other
// lines are kept as they are. The response is captured up to
// calllog.MaxBodyBytes; an answer cut there could not be redacted whole, so
// a cut JSON answer is not stored (a notice stands in its place) and a cut
// SSE answer loses its incomplete last line. Headers are never stored.

const redacted = "[redacted]"

// teeWriter passes every write through to the client at once and keeps a
// copy of the first calllog.MaxBodyBytes bytes.
type teeWriter struct {
	gin.ResponseWriter
	buf []byte
	cut bool // more was written than kept
}

func (w *teeWriter) keep(p []byte) {
	n := calllog.MaxBodyBytes - len(w.buf)
	if n < len(p) {
		w.cut = true
	}
	if n > 0 {
		w.buf = append(w.buf, p[:min(n, len(p))]...)
	}
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.keep(p)
	return w.ResponseWriter.Write(p)
}

func (w *teeWriter) WriteString(s string) (int, error) {
	w.keep(unsafe.Slice(unsafe.StringData(s), len(s)))
	return w.ResponseWriter.WriteString(s)
}

// captureBodies starts keeping the answer when the call's service logs
// bodies.
func captureBodies(c *gin.Context, cl *call) {
	if svc := cl.grant.Service; svc == nil || !svc.LogBodies || cl.tee != nil {
		return
	}
	cl.tee = &teeWriter{ResponseWriter: c.Writer}
	c.Writer = cl.tee
}

// redactJSON redacts one JSON document (see above); other input comes
// back unchanged.
func redactJSON(doc []byte, paths []string) []byte {
	if !gjson.ValidBytes(doc) {
		return doc
	}
	var keys []string
	gjson.ParseBytes(doc).ForEach(func(k, v gjson.Result) bool {
		if v.Type == gjson.String {
			switch strings.ToLower(k.Str) {
			case "api_key", "key", "authorization":
				keys = append(keys, k.Str)
			}
		}
		return true
	})
	out := doc
	set := func(path string) {
		if b, err := sjson.SetBytes(out, path, redacted); err == nil {
			out = b
		}
	}
	for _, k := range keys {
		set(escapePath(k))
	}
	for _, p := range paths {
		for _, concrete := range expand(out, "", strings.Split(p, ".")) {
			set(concrete)
		}
	}
	return out
}

// escapePath escapes a key for gjson/sjson.
func escapePath(k string) string {
	var b strings.Builder
	for _, r := range k {
		if strings.ContainsRune(`.*?|#@\!=<>%"`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// expand turns a path with '#' segments into the concrete paths that
// exist in doc.
func expand(doc []byte, prefix string, segs []string) []string {
	join := func(p, s string) string {
		if p == "" {
			return s
		}
		return p + "." + s
	}
	for i, s := range segs {
		if s != "#" {
			prefix = join(prefix, s)
			continue
		}
		arr := gjson.GetBytes(doc, prefix)
		if !arr.IsArray() {
			return nil
		}
		var out []string
		for j := range len(arr.Array()) {
			out = append(out, expand(doc, join(prefix, strconv.Itoa(j)), segs[i+1:])...)
		}
		return out
	}
	if prefix == "" || !gjson.GetBytes(doc, prefix).Exists() {
		return nil
	}
	return []string{prefix}
}

// cutNotice stands in for an answer cut at the capture limit before it
// could be redacted.
const cutNotice = "[answer longer than the capture limit: not stored, as it could not be redacted whole]"

// redactResponse redacts a JSON answer, or each JSON data: line of an SSE
// one. cut says the capture stopped at the limit.
func redactResponse(b []byte, paths []string, cut bool) []byte {
	if gjson.ValidBytes(b) {
		return redactJSON(b, paths)
	}
	if cut {
		if !looksLikeSSE(b) {
			return []byte(cutNotice)
		}
		// Only the last line can be incomplete: drop it.
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			b = b[:i+1]
		} else {
			return []byte(cutNotice)
		}
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	var out bytes.Buffer
	out.Grow(len(b))
	for _, line := range lines {
		body := bytes.TrimRight(line, "\r\n")
		payload, ok := bytes.CutPrefix(body, []byte("data:"))
		payload = bytes.TrimLeft(payload, " ")
		if !ok || !gjson.ValidBytes(payload) {
			out.Write(line)
			continue
		}
		out.WriteString("data: ")
		out.Write(redactJSON(payload, paths))
		out.Write(line[len(body):])
	}
	return out.Bytes()
}

// loggedBodies fills the record's bodies when the call's service logs
// them.
func loggedBodies(r *calllog.Record, cl *call) {
	svc := cl.grant.Service
	if svc == nil || !svc.LogBodies {
		return
	}
	if cl.body != nil {
		s := string(redactJSON(cl.body, svc.RedactFields))
		r.RequestBody = &s
	}
	if cl.tee != nil {
		s := string(redactResponse(cl.tee.buf, svc.RedactFields, cl.tee.cut))
		r.ResponseBody = &s
	}
}

// looksLikeSSE reports whether b starts as a server-sent event stream.
func looksLikeSSE(b []byte) bool {
	b = bytes.TrimLeft(b, "\r\n")
	return bytes.HasPrefix(b, []byte("data:")) || bytes.HasPrefix(b, []byte("event:")) || bytes.HasPrefix(b, []byte(":"))
}
