package relay_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/internal/fakes/anthropicfake"
	"github.com/sluicehq/sluice/internal/fakes/geminifake"
	"github.com/sluicehq/sluice/internal/fakes/openaifake"
	"github.com/sluicehq/sluice/internal/relay"
	"github.com/sluicehq/sluice/internal/upstream"
	"github.com/sluicehq/sluice/providers"
	_ "github.com/sluicehq/sluice/providers/anthropic"
	_ "github.com/sluicehq/sluice/providers/gemini"
	_ "github.com/sluicehq/sluice/providers/openai"
)

// fakeClock is the relay's clock in tests: Sleep records the wait and
// moves the clock on at once.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// upstreams are the three fakes, each under its own httptest server, and
// the shared upstream client.
type upstreams struct {
	oai    *openaifake.Fake
	ant    *anthropicfake.Fake
	gem    *geminifake.Fake
	oaiURL string
	antURL string
	gemURL string
	client *http.Client
}

func newUpstreams(t testing.TB) *upstreams {
	t.Helper()
	u := &upstreams{oai: openaifake.New(), ant: anthropicfake.New(), gem: geminifake.New()}
	u.oaiURL = serve(t, u.oai)
	u.antURL = serve(t, u.ant)
	u.gemURL = serve(t, u.gem)
	tr := upstream.NewTransport(upstream.Config{})
	u.client = &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)
	return u
}

func serve(t testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// provider builds a provider of kind at baseURL with the shared client.
func (u *upstreams) provider(t testing.TB, kind, baseURL string) providers.Provider {
	t.Helper()
	p, err := providers.New(providers.Config{Name: kind, Kind: kind, BaseURL: baseURL, APIKey: "k", HTTP: u.client})
	require.NoError(t, err)
	return p
}

// target builds a target of kind ("openai", "anthropic", "gemini") served
// by its fake.
func (u *upstreams) target(t testing.TB, kind string, prio int) relay.Target {
	t.Helper()
	var base, model string
	switch kind {
	case "openai":
		base, model = u.oaiURL+"/v1", "gpt-4o-mini"
	case "anthropic":
		base, model = u.antURL, "claude-haiku-4-5"
	case "gemini":
		base, model = u.gemURL, "gemini-2.5-flash"
	}
	return relay.Target{ID: kind + "/" + model, ProviderName: kind, ProviderKind: kind,
		Provider: u.provider(t, kind, base), UpstreamModel: model, Weight: 1, Priority: prio}
}

// targetAt builds a target of kind at an arbitrary base URL.
func (u *upstreams) targetAt(t testing.TB, id, kind, base string, prio int) relay.Target {
	t.Helper()
	return relay.Target{ID: id, ProviderName: id, ProviderKind: kind, Provider: u.provider(t, kind, base),
		UpstreamModel: "up-model", Weight: 1, Priority: prio}
}

// gateway is an httptest server whose handler calls the relay, as the
// server package does, and keeps the Results.
type gateway struct {
	url     string
	mu      sync.Mutex
	results []*relay.Result
	done    chan *relay.Result
}

const publicModel = "house-model"

func newGateway(t testing.TB, r *relay.Relay, targets ...relay.Target) *gateway {
	t.Helper()
	g := &gateway{done: make(chan *relay.Result, 100)}
	h := http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		body, _ := io.ReadAll(hr.Body)
		req := &relay.Request{Body: body, Model: gjson.GetBytes(body, "model").String(),
			Stream: gjson.GetBytes(body, "stream").Bool(), Targets: targets, RequestID: "req-1"}
		var res *relay.Result
		switch hr.URL.Path {
		case "/v1/chat/completions":
			res = r.Chat(hr.Context(), w, req)
		case "/v1/embeddings":
			res = r.Embeddings(hr.Context(), w, req)
		case "/v1/messages":
			res = r.Messages(hr.Context(), w, req)
		default:
			http.NotFound(w, hr)
			return
		}
		g.mu.Lock()
		g.results = append(g.results, res)
		g.mu.Unlock()
		g.done <- res
	})
	g.url = serve(t, h)
	return g
}

// last waits for the Result of the latest call.
func (g *gateway) last(t testing.TB) *relay.Result {
	t.Helper()
	select {
	case res := <-g.done:
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("no result from the relay")
		return nil
	}
}

// post sends a raw body and returns the status and whole answer.
func (g *gateway) post(t testing.TB, path, body string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Post(g.url+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	_ = err // a stream that ends with an error event may end abruptly
	return resp.StatusCode, resp.Header, string(b)
}

// events splits an SSE answer into its data payloads.
func events(body string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

func newRelay(clock *fakeClock, mut ...func(*relay.Config)) *relay.Relay {
	cfg := relay.Config{Now: clock.Now, Sleep: clock.Sleep, BaseBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond,
		Rand: func() float64 { return 0 }, Logger: slog.New(slog.DiscardHandler)}
	for _, m := range mut {
		m(&cfg)
	}
	return relay.New(cfg)
}

func chatBody(text string, stream bool, extra string) string {
	var b bytes.Buffer
	b.WriteString(`{"model":"` + publicModel + `","messages":[{"role":"user","content":"` + text + `"}]`)
	if stream {
		b.WriteString(`,"stream":true`)
	}
	b.WriteString(extra)
	b.WriteString(`}`)
	return b.String()
}

type responseWriter = http.ResponseWriter

// httpHandlerFunc adapts a function of the request body to a handler.
func httpHandlerFunc(f func(w http.ResponseWriter, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f(w, b)
	})
}
