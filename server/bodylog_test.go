package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/calllog"
)

// logBodies sets the fixture service's body logging and reloads the
// snapshot.
func (g *gateway) logBodies(t *testing.T, on bool, redact ...string) {
	t.Helper()
	svc := admin.Service{ID: g.f.Service.ID}
	if err := g.f.DB.Model(&svc).Select("log_bodies", "redact_fields").
		Updates(admin.Service{LogBodies: on, RedactFields: redact}).Error; err != nil {
		t.Fatal(err)
	}
	if err := g.store.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (g *gateway) post(t *testing.T, body string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", g.url+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+g.f.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

// lastRecord waits for the record of the latest call.
func (g *gateway) lastRecord(t *testing.T, n int) *calllog.Record {
	t.Helper()
	for range 200 {
		if all := g.log.all(); len(all) >= n {
			return all[n-1]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no record %d", n)
	return nil
}

func TestBodiesLoggedRedacted(t *testing.T) {
	g := newGateway(t, admin.Limits{})
	g.logBodies(t, true, "user", "messages.#.content", "metadata.missing")
	body := `{"model":"gpt-4o","user":"secret-user","api_key":"sk-client","Authorization":"Bearer x","messages":[{"role":"user","content":"hello there"}]}`
	answer := g.post(t, body)
	r := g.lastRecord(t, 1)
	if r.RequestBody == nil || r.ResponseBody == nil {
		t.Fatalf("bodies not captured: %+v", r)
	}
	req := *r.RequestBody
	for _, secret := range []string{"secret-user", "sk-client", "Bearer x", "hello there"} {
		if strings.Contains(req, secret) {
			t.Fatalf("request body %s keeps %q", req, secret)
		}
	}
	if !strings.Contains(req, `"user":"[redacted]"`) || !strings.Contains(req, `"api_key":"[redacted]"`) ||
		!strings.Contains(req, `"Authorization":"[redacted]"`) || !strings.Contains(req, `"content":"[redacted]"`) ||
		!strings.Contains(req, `"role":"user"`) || strings.Contains(req, "metadata") {
		t.Fatalf("request body %s", req)
	}
	// The answer is stored as the client got it, with its configured
	// paths redacted (the fake echoes into choices, not messages).
	if *r.ResponseBody != answer || !strings.Contains(answer, "echo: hello there") {
		t.Fatalf("response body %q, client got %q", *r.ResponseBody, answer)
	}

	// A stream is stored as its SSE text.
	stream := g.post(t, `{"model":"gpt-4o","stream":true,"user":"secret-user","messages":[{"role":"user","content":"hi"}]}`)
	r = g.lastRecord(t, 2)
	if r.ResponseBody == nil || !strings.HasPrefix(*r.ResponseBody, "data: ") || !strings.Contains(*r.ResponseBody, "data: [DONE]") ||
		len(*r.ResponseBody) != len(stream) {
		t.Fatalf("stream body %q, client got %q", deref(r.ResponseBody), stream)
	}
	if strings.Contains(*r.RequestBody, "secret-user") {
		t.Fatalf("stream request body %s", *r.RequestBody)
	}
}

func TestBodiesNotLoggedWhenDisabled(t *testing.T) {
	g := newGateway(t, admin.Limits{})
	g.post(t, `{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}`)
	if r := g.lastRecord(t, 1); r.RequestBody != nil || r.ResponseBody != nil {
		t.Fatalf("bodies stored without LogBodies: %+v", r)
	}
}

func TestBodyCaptureCapped(t *testing.T) {
	g := newGateway(t, admin.Limits{})
	g.logBodies(t, true)
	g.s.deps.Config.MaxBodyBytes = 1 << 20
	long := strings.Repeat("word ", 2*calllog.MaxBodyBytes/5)
	answer := g.post(t, `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"`+long+`"}]}`)
	r := g.lastRecord(t, 1)
	if len(answer) <= calllog.MaxBodyBytes {
		t.Skipf("answer of %d bytes does not pass the cap", len(answer))
	}
	// The capture stops at the limit and drops the incomplete last line,
	// so what is stored is whole events only, a prefix of the answer.
	got := deref(r.ResponseBody)
	if got == "" || len(got) > calllog.MaxBodyBytes || len(got) < calllog.MaxBodyBytes-1000 ||
		!strings.HasPrefix(answer, got) || !strings.HasSuffix(got, "\n") {
		t.Fatalf("captured %d bytes of %d", len(got), len(answer))
	}
}

func TestTeeWriterRedactsSSELines(t *testing.T) {
	in := "data: {\"user\":\"u1\",\"key\":\"k\",\"x\":1}\n\ndata: not json\n\ndata: [DONE]\n\n"
	got := string(redactResponse([]byte(in), []string{"user"}, false))
	want := "data: {\"user\":\"[redacted]\",\"key\":\"[redacted]\",\"x\":1}\n\ndata: not json\n\ndata: [DONE]\n\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if got := string(redactJSON([]byte(`{"a":[{"b":1},{"c":2},{"b":3}]}`), []string{"a.#.b"})); got != `{"a":[{"b":"[redacted]"},{"c":2},{"b":"[redacted]"}]}` {
		t.Fatalf("wildcard: %s", got)
	}
}

func TestCutAnswersAreNotStoredUnredacted(t *testing.T) {
	cutJSON := []byte(`{"choices":[{"message":{"content":"secret-user said`)
	if got := string(redactResponse(cutJSON, []string{"user"}, true)); got != cutNotice {
		t.Fatalf("cut JSON stored as %q", got)
	}
	cutSSE := []byte("data: {\"user\":\"u1\"}\n\ndata: {\"user\":\"secret-u")
	if got := string(redactResponse(cutSSE, []string{"user"}, true)); got != "data: {\"user\":\"[redacted]\"}\n\n" {
		t.Fatalf("cut SSE stored as %q", got)
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
