package relay_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/internal/fakes/openaifake"
	"github.com/sluicehq/sluice/internal/relay"
)

func fails(n, status int) []openaifake.Fault {
	out := make([]openaifake.Fault, n)
	for i := range out {
		out[i] = openaifake.Fault{Status: status}
	}
	return out
}

func breakerOf(t *testing.T, r *relay.Relay, id string) relay.BreakerState {
	t.Helper()
	for _, b := range r.Breakers() {
		if b.TargetID == id {
			return b
		}
	}
	t.Fatalf("no breaker for %s", id)
	return relay.BreakerState{}
}

// TestBreaker opens a target's circuit after N consecutive failures, skips
// it while open, lets one probe through after the cooldown, and closes
// (or re-opens) on the probe's outcome. The clock is fake.
func TestBreaker(t *testing.T) {
	u := newUpstreams(t)
	primaryFake := openaifake.New()
	primary := u.targetAt(t, "primary", "openai", serve(t, primaryFake)+"/v1", 0)
	secondary := u.targetAt(t, "secondary", "openai", u.oaiURL+"/v1", 1)
	clock := newFakeClock()
	r := newRelay(clock, func(c *relay.Config) {
		c.BreakerThreshold, c.BreakerCooldown, c.MaxAttempts = 3, 30*time.Second, 2
	})
	g := newGateway(t, r, primary, secondary)
	call := func() *relay.Result {
		status, _, body := g.post(t, "/v1/chat/completions", chatBody("hi", false, ""))
		require.Equal(t, 200, status, body)
		return g.last(t)
	}
	ids := func(res *relay.Result) []string {
		var out []string
		for _, a := range res.Attempts {
			out = append(out, a.TargetID)
		}
		return out
	}

	primaryFake.Script(fails(3, 500)...)
	for i := range 3 {
		assert.Equal(t, []string{"primary", "secondary"}, ids(call()), "call %d", i)
	}
	b := breakerOf(t, r, "primary")
	assert.Equal(t, relay.StateOpen, b.State)
	assert.Equal(t, 3, b.ConsecutiveFailures)
	assert.WithinDuration(t, clock.Now(), b.OpenedAt, 10*time.Millisecond)
	assert.Equal(t, relay.StateClosed, breakerOf(t, r, "secondary").State)

	assert.Equal(t, []string{"secondary"}, ids(call()), "an open target is skipped")
	clock.Advance(29 * time.Second)
	assert.Equal(t, []string{"secondary"}, ids(call()), "still open before the cooldown")

	clock.Advance(time.Second)
	assert.Equal(t, relay.StateHalfOpen, breakerOf(t, r, "primary").State)
	assert.Equal(t, []string{"primary"}, ids(call()), "the half-open probe succeeds")
	b = breakerOf(t, r, "primary")
	assert.Equal(t, relay.StateClosed, b.State)
	assert.Zero(t, b.ConsecutiveFailures)

	// Open it again; a failed probe re-opens it at once.
	primaryFake.Script(fails(3, 502)...)
	for range 3 {
		call()
	}
	require.Equal(t, relay.StateOpen, breakerOf(t, r, "primary").State)
	clock.Advance(31 * time.Second)
	primaryFake.Script(openaifake.Fault{Status: 500})
	assert.Equal(t, []string{"primary", "secondary"}, ids(call()))
	b = breakerOf(t, r, "primary")
	assert.Equal(t, relay.StateOpen, b.State)
	assert.WithinDuration(t, clock.Now(), b.OpenedAt, 10*time.Millisecond)

	// Non-retryable answers prove the target alive: they do not count.
	clock.Advance(31 * time.Second)
	primaryFake.Script(openaifake.Fault{Status: 400})
	status, _, _ := g.post(t, "/v1/chat/completions", chatBody("hi", false, ""))
	g.last(t)
	assert.Equal(t, 400, status)
	assert.Equal(t, relay.StateClosed, breakerOf(t, r, "primary").State)
}

// TestAllBreakersOpen: when every target's circuit is open the answer is
// 503 without any upstream attempt.
func TestAllBreakersOpen(t *testing.T) {
	u := newUpstreams(t)
	f := openaifake.New()
	f.Script(fails(2, 500)...)
	clock := newFakeClock()
	r := newRelay(clock, func(c *relay.Config) { c.BreakerThreshold, c.MaxAttempts = 2, 2 })
	g := newGateway(t, r, u.targetAt(t, "only", "openai", serve(t, f)+"/v1", 0))
	status, _, _ := g.post(t, "/v1/chat/completions", chatBody("hi", false, ""))
	g.last(t)
	require.Equal(t, 502, status)
	require.Equal(t, relay.StateOpen, breakerOf(t, r, "only").State)

	status, _, body := g.post(t, "/v1/chat/completions", chatBody("hi", false, ""))
	res := g.last(t)
	assert.Equal(t, 503, status)
	assert.Equal(t, 503, res.Status)
	assert.Contains(t, gjson.Get(body, "error.message").String(), "all are disabled or their circuits are open")
	assert.Equal(t, "service_unavailable", gjson.Get(body, "error.type").String())
	assert.Empty(t, res.Attempts)
	assert.Len(t, f.Requests(), 2)
}

// TestWeightedChoice: within a priority, targets are picked by weight.
func TestWeightedChoice(t *testing.T) {
	u := newUpstreams(t)
	a := u.targetAt(t, "a", "openai", u.oaiURL+"/v1", 0)
	b := u.targetAt(t, "b", "openai", u.oaiURL+"/v1", 0)
	a.Weight, b.Weight = 1, 3
	for _, tc := range []struct {
		x    float64
		want string
	}{{0, "a"}, {0.24, "a"}, {0.25, "b"}, {0.99, "b"}} {
		clock := newFakeClock()
		r := newRelay(clock, func(c *relay.Config) { c.Rand = func() float64 { return tc.x } })
		g := newGateway(t, r, a, b)
		g.post(t, "/v1/chat/completions", chatBody("hi", false, ""))
		assert.Equal(t, tc.want, g.last(t).Target.ID, "rand %v", tc.x)
	}
}
