package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	anthropicoption "github.com/anthropics/anthropic-sdk-go/option"
	openai "github.com/sashabaranov/go-openai"

	"gorm.io/gorm"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/access"
	"github.com/sluicehq/sluice/internal/access/accesstest"
	"github.com/sluicehq/sluice/internal/calllog"
	"github.com/sluicehq/sluice/internal/fakes/openaifake"
	"github.com/sluicehq/sluice/internal/limits"
	"github.com/sluicehq/sluice/internal/relay"
	"github.com/sluicehq/sluice/internal/tracing"
	"github.com/sluicehq/sluice/internal/upstream"
	"github.com/sluicehq/sluice/providers"
	_ "github.com/sluicehq/sluice/providers/all"
)

// gateway is a full data plane over a seeded database, with the OpenAI
// fake as the model's only provider.
type gateway struct {
	*accessEnv
	fake *openaifake.Fake
	url  string
	log  *collector
	// upstream is the fake's base URL.
	upstream string
}

// collector is a call log that keeps the records.
type collector struct {
	mu      sync.Mutex
	records []*calllog.Record
}

func (c *collector) Log(r *calllog.Record) {
	c.mu.Lock()
	c.records = append(c.records, r)
	c.mu.Unlock()
}

func (c *collector) all() []*calllog.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*calllog.Record(nil), c.records...)
}

func newGateway(t *testing.T, l admin.Limits) *gateway {
	t.Helper()
	return newGatewayWith(t, l, nil)
}

// newGatewayWith is newGateway with the call log made by mkLog over the
// gateway's database (nil: records are collected in memory).
func newGatewayWith(t *testing.T, l admin.Limits, mkLog func(db *gorm.DB) CallLog) *gateway {
	t.Helper()
	return newGatewayTraced(t, l, mkLog, nil)
}

// newGatewayTraced is newGatewayWith with tracing on when tr is set.
func newGatewayTraced(t *testing.T, l admin.Limits, mkLog func(db *gorm.DB) CallLog, tr *tracing.Tracing) *gateway {
	t.Helper()
	fake := openaifake.New()
	fake.APIKey = "sk-upstream"
	up := httptest.NewServer(fake)
	t.Cleanup(up.Close)

	db := accesstest.Migrated(t, "sqlite")
	e := &accessEnv{f: accesstest.Seed(t, db, l), clock: &fakeClock{}}
	e.clock.t = e.clock.t.Add(1e18) // any fixed time
	p := e.f.AddProvider(t, "openai-main", "openai", up.URL+"/v1", "sk-upstream")
	e.f.Route(t, p, "gpt-4o-mini-2024", 1, 0)
	e.f.Subscribe(t, admin.StatusApproved)

	client := upstream.NewClient(upstream.Config{})
	if tr != nil {
		client.Transport = tr.Transport(client.Transport)
	}
	e.store = access.NewStore(db, nil, e.clock, nil)
	e.store.BuildProvider = func(p admin.Provider) (providers.Provider, error) {
		return access.BuildProvider(p, accesstest.PlainOpener{}, client)
	}
	if err := e.store.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	log := &collector{}
	var callLog CallLog = log
	if mkLog != nil {
		callLog = mkLog(db)
	}
	e.s = New(Deps{Config: testConfig(), Relay: relay.New(relay.Config{BaseBackoff: time.Millisecond}), CallLog: callLog, Tracing: tr, Access: &Access{
		Verifier: e.f.Keyring.Verifier(100), Snapshots: e.store, Limiter: limits.NewMemory(e.clock), Clock: e.clock,
	}})
	srv := httptest.NewServer(e.s.Handler())
	t.Cleanup(srv.Close)
	return &gateway{accessEnv: e, fake: fake, url: srv.URL, log: log, upstream: up.URL}
}

func (g *gateway) openai() *openai.Client {
	cfg := openai.DefaultConfig(g.f.Key)
	cfg.BaseURL = g.url + "/v1"
	return openai.NewClientWithConfig(cfg)
}

func TestChatThroughTheGateway(t *testing.T) {
	g := newGateway(t, admin.Limits{})
	ctx := context.Background()
	req := openai.ChatCompletionRequest{Model: "gpt-4o", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hello there"}}}
	resp, err := g.openai().CreateChatCompletion(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "echo: hello there" || resp.Model != "gpt-4o" || resp.Usage.TotalTokens == 0 {
		t.Fatalf("response %+v", resp)
	}
	// The upstream saw its own model name and the upstream key, never the consumer's.
	last := g.fake.Requests()[len(g.fake.Requests())-1]
	if !strings.Contains(string(last.Body), `"model":"gpt-4o-mini-2024"`) || last.Header.Get("Authorization") != "Bearer sk-upstream" {
		t.Fatalf("upstream got %s with %q", last.Body, last.Header.Get("Authorization"))
	}

	stream, err := g.openai().CreateChatCompletionStream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(chunk.Choices) > 0 {
			text.WriteString(chunk.Choices[0].Delta.Content)
		}
	}
	stream.Close()
	if text.String() != "echo: hello there" {
		t.Fatalf("streamed %q", text.String())
	}

	emb, err := g.openai().CreateEmbeddings(ctx, openai.EmbeddingRequestStrings{Model: "gpt-4o", Input: []string{"a", "b"}})
	if err != nil || len(emb.Data) != 2 {
		t.Fatalf("embeddings: %+v %v", emb, err)
	}
}

func TestChatRefusalsUseTheRightEnvelope(t *testing.T) {
	g := newGateway(t, admin.Limits{})
	// OpenAI SDK sees an APIError with the status.
	bad := openai.DefaultConfig("not-a-key")
	bad.BaseURL = g.url + "/v1"
	_, err := openai.NewClientWithConfig(bad).CreateChatCompletion(context.Background(), openai.ChatCompletionRequest{Model: "gpt-4o",
		Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "x"}}})
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 401 || !strings.Contains(apiErr.Message, "malformed key") {
		t.Fatalf("err = %v", err)
	}
	// Anthropic SDK on /v1/messages sees its own error type.
	ac := anthropic.NewClient(anthropicoption.WithAPIKey("not-a-key"), anthropicoption.WithBaseURL(g.url), anthropicoption.WithMaxRetries(0))
	_, err = ac.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "gpt-4o", MaxTokens: 10,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	var aErr *anthropic.Error
	if !errors.As(err, &aErr) || aErr.StatusCode != 401 || !strings.Contains(aErr.Error(), "authentication_error") {
		t.Fatalf("anthropic err = %v", err)
	}
	// With a good key, /v1/messages reaches the OpenAI provider through translation.
	ac = anthropic.NewClient(anthropicoption.WithAPIKey(g.f.Key), anthropicoption.WithBaseURL(g.url), anthropicoption.WithMaxRetries(0))
	msg, err := ac.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "gpt-4o", MaxTokens: 50,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("bonjour"))}})
	if err != nil || len(msg.Content) == 0 || msg.Content[0].Text != "echo: bonjour" {
		t.Fatalf("messages: %+v %v", msg, err)
	}
}

func TestTokensSettledFromActualUsage(t *testing.T) {
	g := newGateway(t, admin.Limits{TPM: 1000})
	body := `{"model":"gpt-4o","max_tokens":500,"messages":[{"role":"user","content":"one two three"}]}`
	est := len(body)/4 + 500
	send := func() (remaining string, total int) {
		req, _ := http.NewRequest("POST", g.url+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+g.f.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out openai.ChatCompletionResponse
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("status %d: %v", resp.StatusCode, err)
		}
		return resp.Header.Get("X-Ratelimit-Remaining-Tokens"), out.Usage.TotalTokens
	}
	// Admitted with the estimate…
	rem, used := send()
	if rem != strconv.Itoa(1000-est) || used == 0 || used >= est {
		t.Fatalf("after admit: remaining %s, used %d, estimate %d", rem, used, est)
	}
	// …then settled to the usage the upstream reported, so the second call
	// is charged against 1000 - used, not 1000 - estimate.
	rem, _ = send()
	if rem != strconv.Itoa(1000-used-est) {
		t.Fatalf("after settle and a second admit: remaining %s, want %d", rem, 1000-used-est)
	}
}

// TestEveryCallIsRecorded: answered, refused and failed calls each leave
// one record with the fields the call log needs.
func TestEveryCallIsRecorded(t *testing.T) {
	g := newGateway(t, admin.Limits{})
	post := func(key, body string) int {
		req, _ := http.NewRequest("POST", g.url+"/v1/chat/completions", strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	ok := post(g.f.Key, `{"model":"gpt-4o","messages":[{"role":"user","content":"one two three"}]}`)
	noKey := post("", `{"model":"gpt-4o"}`)
	unknown := post(g.f.Key, `{"model":"nope","messages":[]}`)
	g.fake.Script(openaifake.Fault{Status: 400, Body: `{"error":{"message":"bad temperature","type":"invalid_request_error"}}`})
	upstream400 := post(g.f.Key, `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`)
	if ok != 200 || noKey != 401 || unknown != 404 || upstream400 != 400 {
		t.Fatalf("statuses %d %d %d %d", ok, noKey, unknown, upstream400)
	}
	recs := g.log.all()
	if len(recs) != 4 {
		t.Fatalf("%d records for 4 calls", len(recs))
	}
	r := recs[0]
	if r.Status != 200 || r.Endpoint != "chat" || r.Model != "gpt-4o" || r.Provider != "openai-main" ||
		r.UpstreamModel != "gpt-4o-mini-2024" || r.TokensIn != 3 || r.TokensOut == 0 || r.UsageEstimated ||
		r.ConsumerID != g.f.Consumer.ID || r.KeyID != "key_1" || r.ServiceID != g.f.Service.ID || r.TeamID != g.f.Team.ID ||
		r.RequestID == "" || len(r.Attempts) != 1 || r.Attempts[0].Status != 200 || r.Total <= 0 || r.Auth <= 0 || r.BytesIn == 0 || r.BytesOut == 0 {
		t.Fatalf("success record %+v", r)
	}
	want := (3*2.5 + float64(r.TokensOut)*10) / 1e6
	if r.Cost < want*0.999 || r.Cost > want*1.001 {
		t.Fatalf("cost %g, want %g", r.Cost, want)
	}
	if r := recs[1]; r.Status != 401 || !strings.Contains(r.Error, "missing key") || r.ConsumerID != 0 || r.Auth != r.Total {
		t.Fatalf("401 record %+v", r)
	}
	if r := recs[2]; r.Status != 404 || r.ConsumerID != g.f.Consumer.ID || r.TeamID != g.f.Team.ID || !strings.Contains(r.Error, `"nope"`) {
		t.Fatalf("404 record %+v", r)
	}
	if r := recs[3]; r.Status != 400 || !strings.Contains(r.Error, "bad temperature") || len(r.Attempts) != 1 {
		t.Fatalf("upstream 400 record %+v", r)
	}
}
