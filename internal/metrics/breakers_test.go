package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/internal/relay"
)

func TestBreakerCollector(t *testing.T) {
	states := []relay.BreakerState{
		{TargetID: "openai/gpt-4o", State: relay.StateOpen, ConsecutiveFailures: 5},
		{TargetID: "anthropic/claude", State: relay.StateClosed},
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewBreakerCollector(func() []relay.BreakerState { return states }))
	got := gather(t, reg)
	want := map[string]float64{
		"sluice_breaker_consecutive_failures target=anthropic/claude":  0,
		"sluice_breaker_consecutive_failures target=openai/gpt-4o":     5,
		"sluice_breaker_state state=closed target=anthropic/claude":    1,
		"sluice_breaker_state state=closed target=openai/gpt-4o":       0,
		"sluice_breaker_state state=half-open target=anthropic/claude": 0,
		"sluice_breaker_state state=half-open target=openai/gpt-4o":    0,
		"sluice_breaker_state state=open target=anthropic/claude":      0,
		"sluice_breaker_state state=open target=openai/gpt-4o":         1,
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	states = nil // a replica that routed nothing yet reports nothing
	if got := gather(t, reg); len(got) != 0 {
		t.Fatalf("got %v, want nothing", got)
	}
}

// gather is every series of reg as "name label=value…" → value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			k := f.GetName()
			for _, l := range m.GetLabel() {
				k += " " + l.GetName() + "=" + l.GetValue()
			}
			out[k] = m.GetGauge().GetValue()
		}
	}
	return out
}
