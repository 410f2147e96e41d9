package relay_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/internal/fakes/anthropicfake"
	"github.com/sluicehq/sluice/internal/fakes/openaifake"
	"github.com/sluicehq/sluice/internal/relay"
)

// TestPassthroughFaults runs the scripted upstream faults against an
// OpenAI-compatible primary target, with or without a healthy secondary.
func TestPassthroughFaults(t *testing.T) {
	const badParam = `{"error":{"message":"Invalid value for 'temperature': must be <= 2.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}`
	cases := []struct {
		name         string
		stream       bool
		faults       []openaifake.Fault
		secondary    bool
		cfg          func(*relay.Config)
		wantStatus   int
		wantAttempts int
		wantTarget   string // "primary", "secondary" or "" for none
		check        func(t *testing.T, res *relay.Result, h http.Header, body string, clock *fakeClock)
	}{
		{name: "500 then the next target", faults: []openaifake.Fault{{Status: 500}}, secondary: true,
			wantStatus: 200, wantAttempts: 2, wantTarget: "secondary",
			check: func(t *testing.T, res *relay.Result, _ http.Header, body string, _ *fakeClock) {
				assert.Equal(t, 500, res.Attempts[0].Status)
				assert.True(t, res.Attempts[0].Retried)
				assert.False(t, res.Attempts[1].Retried)
				assert.Equal(t, "echo: hi", gjson.Get(body, "choices.0.message.content").String())
			}},
		{name: "500 then the same target again", faults: []openaifake.Fault{{Status: 503}},
			wantStatus: 200, wantAttempts: 2, wantTarget: "primary"},
		{name: "500 on every attempt is a 502", faults: []openaifake.Fault{{Status: 500}, {Status: 500}, {Status: 500}},
			wantStatus: 502, wantAttempts: 3, wantTarget: "primary",
			check: func(t *testing.T, _ *relay.Result, _ http.Header, body string, _ *fakeClock) {
				assert.Contains(t, gjson.Get(body, "error.message").String(), "status 500")
				assert.Equal(t, "api_error", gjson.Get(body, "error.type").String())
			}},
		{name: "429 Retry-After is honoured", faults: []openaifake.Fault{{Status: 429, RetryAfter: "3"}},
			wantStatus: 200, wantAttempts: 2, wantTarget: "primary",
			check: func(t *testing.T, _ *relay.Result, _ http.Header, _ string, clock *fakeClock) {
				assert.Equal(t, []time.Duration{3 * time.Second}, clock.Sleeps())
			}},
		{name: "429 Retry-After past the deadline is not waited for", faults: []openaifake.Fault{{Status: 429, RetryAfter: "1000"}},
			wantStatus: 429, wantAttempts: 1, wantTarget: "primary",
			check: func(t *testing.T, _ *relay.Result, h http.Header, body string, clock *fakeClock) {
				assert.Empty(t, clock.Sleeps())
				assert.Equal(t, "1000", h.Get("Retry-After"))
				assert.Equal(t, "Rate limit reached for requests. Please try again later.", gjson.Get(body, "error.message").String())
				assert.Equal(t, "rate_limit_exceeded", gjson.Get(body, "error.code").String())
			}},
		{name: "429 Retry-After past the deadline moves to another target", faults: []openaifake.Fault{{Status: 429, RetryAfter: "1000"}},
			secondary: true, wantStatus: 200, wantAttempts: 2, wantTarget: "secondary",
			check: func(t *testing.T, _ *relay.Result, _ http.Header, _ string, clock *fakeClock) {
				for _, s := range clock.Sleeps() {
					assert.Less(t, s, time.Second)
				}
			}},
		{name: "slow first byte then the next target", faults: []openaifake.Fault{{DelayFirstByte: 5 * time.Second}},
			secondary: true, cfg: func(c *relay.Config) { c.FirstByteTimeout = 100 * time.Millisecond },
			wantStatus: 200, wantAttempts: 2, wantTarget: "secondary",
			check: func(t *testing.T, res *relay.Result, _ http.Header, _ string, _ *fakeClock) {
				assert.Contains(t, res.Attempts[0].Err, "first byte")
			}},
		{name: "slow first byte everywhere is a 504", faults: []openaifake.Fault{{DelayFirstByte: 5 * time.Second}},
			cfg:        func(c *relay.Config) { c.FirstByteTimeout = 100 * time.Millisecond; c.MaxAttempts = 1 },
			wantStatus: 504, wantAttempts: 1,
			check: func(t *testing.T, _ *relay.Result, _ http.Header, body string, _ *fakeClock) {
				assert.Equal(t, "timeout_error", gjson.Get(body, "error.type").String())
			}},
		{name: "a hanging upstream past the call deadline is a 504", faults: []openaifake.Fault{{Hang: true}}, secondary: true,
			cfg:        func(c *relay.Config) { c.Deadline = 150 * time.Millisecond },
			wantStatus: 504, wantAttempts: 1,
			check: func(t *testing.T, _ *relay.Result, _ http.Header, body string, _ *fakeClock) {
				assert.Contains(t, gjson.Get(body, "error.message").String(), "deadline")
			}},
		{name: "400 goes to the client unchanged and is not retried", faults: []openaifake.Fault{{Status: 400, Body: badParam}},
			secondary: true, wantStatus: 400, wantAttempts: 1, wantTarget: "primary",
			check: func(t *testing.T, _ *relay.Result, _ http.Header, body string, _ *fakeClock) {
				assert.JSONEq(t, badParam, body)
			}},
		{name: "invalid JSON is a 502", faults: []openaifake.Fault{{InvalidJSON: true}, {InvalidJSON: true}, {InvalidJSON: true}},
			wantStatus: 502, wantAttempts: 3},
		{name: "stream: 500 before the first byte then the next target", stream: true, faults: []openaifake.Fault{{Status: 500}},
			secondary: true, wantStatus: 200, wantAttempts: 2, wantTarget: "secondary",
			check: func(t *testing.T, _ *relay.Result, _ http.Header, body string, _ *fakeClock) {
				evs := events(body)
				assert.Equal(t, "[DONE]", evs[len(evs)-1])
			}},
		{name: "stream: cut after the first byte ends with an error event", stream: true, faults: []openaifake.Fault{{CutAfterChunks: 2}},
			secondary: true, wantStatus: 200, wantAttempts: 1, wantTarget: "primary",
			check: func(t *testing.T, res *relay.Result, _ http.Header, body string, _ *fakeClock) {
				evs := events(body)
				require.Len(t, evs, 3, body)
				last := evs[len(evs)-1]
				assert.NotContains(t, body, "[DONE]")
				assert.True(t, gjson.Get(last, "error.message").Exists(), last)
				assert.Equal(t, "upstream_error", gjson.Get(last, "error.code").String())
				assert.Contains(t, res.ErrMessage, "ended before it was complete")
			}},
		{name: "stream: malformed SSE ends with an error event", stream: true, faults: []openaifake.Fault{{MalformedSSE: true}},
			secondary: true, wantStatus: 200, wantAttempts: 1, wantTarget: "primary",
			check: func(t *testing.T, _ *relay.Result, _ http.Header, body string, _ *fakeClock) {
				evs := events(body)
				assert.NotContains(t, body, "[DONE]")
				assert.True(t, gjson.Get(evs[len(evs)-1], "error").Exists())
			}},
		{name: "stream: slow first byte is a 504", stream: true, faults: []openaifake.Fault{{DelayFirstByte: 5 * time.Second}},
			cfg: func(c *relay.Config) { c.FirstByteTimeout = 100 * time.Millisecond; c.MaxAttempts = 1 }, wantStatus: 504, wantAttempts: 1},
		{name: "stream: idle upstream after the first byte ends with an error event", stream: true,
			faults: []openaifake.Fault{{DelayBetweenChunks: 5 * time.Second}},
			cfg:    func(c *relay.Config) { c.IdleTimeout = 100 * time.Millisecond }, wantStatus: 200, wantAttempts: 1, wantTarget: "primary",
			check: func(t *testing.T, res *relay.Result, _ http.Header, body string, _ *fakeClock) {
				assert.NotContains(t, body, "[DONE]")
				evs := events(body)
				assert.Contains(t, gjson.Get(evs[len(evs)-1], "error.message").String(), "timed out")
			}},
	}
	u := newUpstreams(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			primaryFake := openaifake.New()
			primaryFake.Script(tc.faults...)
			primary := u.targetAt(t, "primary", "openai", serve(t, primaryFake)+"/v1", 0)
			targets := []relay.Target{primary}
			u.oai.Reset()
			if tc.secondary {
				s := u.targetAt(t, "secondary", "openai", u.oaiURL+"/v1", 1)
				targets = append(targets, s)
			}
			clock := newFakeClock()
			r := newRelay(clock)
			if tc.cfg != nil {
				r = newRelay(clock, tc.cfg)
			}
			g := newGateway(t, r, targets...)
			status, h, body := g.post(t, "/v1/chat/completions", chatBody("hi", tc.stream, ""))
			res := g.last(t)
			assert.Equal(t, tc.wantStatus, status, body)
			assert.Equal(t, tc.wantStatus, res.Status)
			require.Len(t, res.Attempts, tc.wantAttempts)
			if tc.wantTarget == "" {
				assert.Nil(t, res.Target)
			} else if assert.NotNil(t, res.Target) {
				assert.Equal(t, tc.wantTarget, res.Target.ID)
			}
			if status != 200 {
				assert.NotEmpty(t, res.ErrMessage)
				assert.True(t, gjson.Get(body, "error.message").Exists(), body)
			}
			if !tc.secondary || tc.wantTarget == "primary" {
				assert.Empty(t, u.oai.Requests(), "the secondary was not called")
			}
			if tc.check != nil {
				tc.check(t, res, h, body, clock)
			}
		})
	}
}

// TestStreamCutBeforeFirstEvent: an upstream that answers 200 and closes
// before any event is retried on the next target.
func TestStreamCutBeforeFirstEvent(t *testing.T) {
	u := newUpstreams(t)
	broken := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		_, _ = w.Write([]byte(": keep-alive\n\n"))
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}))
	g := newGateway(t, newRelay(newFakeClock()),
		u.targetAt(t, "broken", "openai-compatible", broken+"/v1", 0),
		u.targetAt(t, "good", "openai", u.oaiURL+"/v1", 1))
	status, _, body := g.post(t, "/v1/chat/completions", chatBody("hi", true, ""))
	res := g.last(t)
	require.Equal(t, 200, status)
	evs := events(body)
	assert.Equal(t, "[DONE]", evs[len(evs)-1])
	require.Len(t, res.Attempts, 2)
	assert.Equal(t, "broken", res.Attempts[0].TargetID)
	assert.Contains(t, res.Attempts[0].Err, "ended before it was complete")
	assert.Equal(t, "good", res.Target.ID)
}

// TestConnectionRefused: an upstream that is not listening is skipped.
func TestConnectionRefused(t *testing.T) {
	u := newUpstreams(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	for _, stream := range []bool{false, true} {
		g := newGateway(t, newRelay(newFakeClock()),
			u.targetAt(t, "dead", "openai", deadURL+"/v1", 0),
			u.targetAt(t, "good", "openai", u.oaiURL+"/v1", 1))
		status, _, _ := g.post(t, "/v1/chat/completions", chatBody("hi", stream, ""))
		res := g.last(t)
		require.Equal(t, 200, status)
		require.Len(t, res.Attempts, 2)
		assert.Zero(t, res.Attempts[0].Status)
		assert.Equal(t, "good", res.Target.ID)
	}
	// Nowhere to go: 502.
	g := newGateway(t, newRelay(newFakeClock()), u.targetAt(t, "dead", "openai", deadURL+"/v1", 0))
	status, _, body := g.post(t, "/v1/chat/completions", chatBody("hi", false, ""))
	assert.Equal(t, 502, status)
	assert.NotContains(t, body, "127.0.0.1", "the internal cause is not shown")
	assert.Len(t, g.last(t).Attempts, 3)
}

// TestTranslationFaults: failures of translated (Anthropic) upstreams.
func TestTranslationFaults(t *testing.T) {
	u := newUpstreams(t)
	t.Run("529 then gemini", func(t *testing.T) {
		u.ant.Reset()
		u.ant.Script(anthropicfake.Fault{Status: 529})
		g := newGateway(t, newRelay(newFakeClock()), u.target(t, "anthropic", 0), u.target(t, "gemini", 1))
		status, _, body := g.post(t, "/v1/chat/completions", chatBody("hi", false, ""))
		res := g.last(t)
		require.Equal(t, 200, status, body)
		assert.Equal(t, "echo: hi", gjson.Get(body, "choices.0.message.content").String())
		require.Len(t, res.Attempts, 2)
		assert.Equal(t, 529, res.Attempts[0].Status)
		assert.Equal(t, "gemini", res.Target.ProviderKind)
	})
	t.Run("400 carried over", func(t *testing.T) {
		u.ant.Reset()
		u.ant.Script(anthropicfake.Fault{Status: 400, Body: `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too large"}}`})
		g := newGateway(t, newRelay(newFakeClock()), u.target(t, "anthropic", 0), u.target(t, "gemini", 1))
		status, _, body := g.post(t, "/v1/chat/completions", chatBody("hi", true, ""))
		require.Equal(t, 400, status)
		assert.Equal(t, "max_tokens: too large", gjson.Get(body, "error.message").String())
		assert.Len(t, g.last(t).Attempts, 1)
	})
	t.Run("stream cut midway", func(t *testing.T) {
		u.ant.Reset()
		u.ant.Script(anthropicfake.Fault{CutAfterChunks: 4})
		g := newGateway(t, newRelay(newFakeClock()), u.target(t, "anthropic", 0), u.target(t, "gemini", 1))
		status, _, body := g.post(t, "/v1/chat/completions", chatBody("one two three four five", true, ""))
		res := g.last(t)
		require.Equal(t, 200, status)
		assert.NotContains(t, body, "[DONE]")
		evs := events(body)
		assert.True(t, gjson.Get(evs[len(evs)-1], "error").Exists(), body)
		assert.Len(t, res.Attempts, 1)
		assert.NotEmpty(t, res.ErrMessage)
	})
	t.Run("bad body for translation is a 400", func(t *testing.T) {
		g := newGateway(t, newRelay(newFakeClock()), u.target(t, "anthropic", 0))
		status, _, body := g.post(t, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}`)
		require.Equal(t, 400, status, body)
		assert.Equal(t, "temperature", gjson.Get(body, "error.param").String())
		assert.Len(t, g.last(t).Attempts, 1)
	})
}

// TestNoTarget: an empty route is a 503.
func TestNoTarget(t *testing.T) {
	g := newGateway(t, newRelay(newFakeClock()))
	status, _, body := g.post(t, "/v1/chat/completions", chatBody("hi", false, ""))
	assert.Equal(t, 503, status)
	assert.True(t, strings.Contains(gjson.Get(body, "error.message").String(), "circuits are open"), body)
	res := g.last(t)
	assert.Empty(t, res.Attempts)
	assert.Nil(t, res.Target)
}
