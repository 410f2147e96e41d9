package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/internal/relay"
)

var (
	breakerStateDesc = prometheus.NewDesc("sluice_breaker_state",
		"Circuit-breaker state of each routing target on this replica: 1 for the current state (closed, open, half-open), 0 for the others.",
		[]string{"target", "state"}, nil)
	breakerFailuresDesc = prometheus.NewDesc("sluice_breaker_consecutive_failures",
		"Consecutive failures counted by each routing target's circuit breaker on this replica.",
		[]string{"target"}, nil)
)

// breakerStates are the states a breaker gauge is reported for.
var breakerStates = []string{relay.StateClosed, relay.StateOpen, relay.StateHalfOpen}

// BreakerCollector reports the relay's circuit breakers at each scrape,
// from states (relay.Relay.Breakers). Register it with
// Registry.MustRegister(NewBreakerCollector(r.Breakers)).
type BreakerCollector struct {
	states func() []relay.BreakerState
}

var _ prometheus.Collector = (*BreakerCollector)(nil)

// NewBreakerCollector returns a collector over states.
func NewBreakerCollector(states func() []relay.BreakerState) *BreakerCollector {
	return &BreakerCollector{states: states}
}

// Describe implements prometheus.Collector.
func (c *BreakerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- breakerStateDesc
	ch <- breakerFailuresDesc
}

// Collect implements prometheus.Collector.
func (c *BreakerCollector) Collect(ch chan<- prometheus.Metric) {
	if c.states == nil {
		return
	}
	for _, b := range c.states() {
		for _, s := range breakerStates {
			v := 0.0
			if b.State == s {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(breakerStateDesc, prometheus.GaugeValue, v, b.TargetID, s)
		}
		ch <- prometheus.MustNewConstMetric(breakerFailuresDesc, prometheus.GaugeValue, float64(b.ConsecutiveFailures), b.TargetID)
	}
}
