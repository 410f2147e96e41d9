package calllog

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// DataPlaneMetrics are the Prometheus series of data-plane calls: requests
// and errors by service, model, provider and status; latency and time to
// first token histograms; tokens and cost. The Logger's writer feeds them
// (Options.Observe = m.Observe), once per record, before writing it: the
// request path pays nothing, and they count while the database is down.
//
// Labels: service is the service id ("0" for calls refused before one was
// known, or the name ServiceName returns); model and provider are set only
// for calls routed to a target, so a client cannot create series at will
// by asking for made-up models.
type DataPlaneMetrics struct {
	requests, errors *prometheus.CounterVec
	latency, ttft    *prometheus.HistogramVec
	tokens, cost     *prometheus.CounterVec
	serviceName      func(id uint64) string
}

// DataPlaneOptions configure NewDataPlaneMetrics.
type DataPlaneOptions struct {
	// ServiceName labels a service id (e.g. with its slug from the access
	// snapshot); nil or an empty answer uses the id.
	ServiceName func(id uint64) string
}

// NewDataPlaneMetrics registers the data-plane series on reg.
func NewDataPlaneMetrics(reg prometheus.Registerer, o DataPlaneOptions) (*DataPlaneMetrics, error) {
	labels := []string{"service", "model", "provider"}
	withStatus := append(append([]string(nil), labels...), "status")
	buckets := make([]float64, len(LatencyBounds))
	for i, b := range LatencyBounds {
		buckets[i] = b.Seconds()
	}
	m := &DataPlaneMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_calls_total",
			Help: "Data-plane calls, by service, model, provider and status answered."}, withStatus),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_call_errors_total",
			Help: "Data-plane calls that failed (status outside 2xx, or an error after the status was sent), by service, model, provider and status."}, withStatus),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sluice_call_duration_seconds",
			Help: "Data-plane call latency, receipt to last byte, by service, model and provider.", Buckets: buckets}, labels),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sluice_call_ttft_seconds",
			Help: "Time to the first token sent to the client, streamed calls only, by service, model and provider.", Buckets: buckets}, labels),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_call_tokens_total",
			Help: "Tokens of data-plane calls, by service, model, provider and direction (in: prompt, out: completion)."}, append(append([]string(nil), labels...), "direction")),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_call_cost_total",
			Help: "Cost of data-plane calls from the models' prices (currency units, e.g. USD), by service, model and provider."}, labels),
		serviceName: o.ServiceName,
	}
	for _, c := range []prometheus.Collector{m.requests, m.errors, m.latency, m.ttft, m.tokens, m.cost} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Observe counts one record. It is safe for concurrent use.
func (m *DataPlaneMetrics) Observe(r *Record) {
	service := ""
	if m.serviceName != nil && r.ServiceID != 0 {
		service = m.serviceName(r.ServiceID)
	}
	if service == "" {
		service = strconv.FormatUint(r.ServiceID, 10)
	}
	model, provider := "", ""
	if r.Provider != "" {
		model, provider = clip(r.Model, sizeModel), clip(r.Provider, sizeProvider)
	}
	status := strconv.Itoa(r.Status)
	m.requests.WithLabelValues(service, model, provider, status).Inc()
	if r.IsError() {
		m.errors.WithLabelValues(service, model, provider, status).Inc()
	}
	m.latency.WithLabelValues(service, model, provider).Observe(r.Total.Seconds())
	if r.TTFT > 0 {
		m.ttft.WithLabelValues(service, model, provider).Observe(r.TTFT.Seconds())
	}
	if r.TokensIn > 0 {
		m.tokens.WithLabelValues(service, model, provider, "in").Add(float64(r.TokensIn))
	}
	if r.TokensOut > 0 {
		m.tokens.WithLabelValues(service, model, provider, "out").Add(float64(r.TokensOut))
	}
	if r.Cost > 0 {
		m.cost.WithLabelValues(service, model, provider).Add(r.Cost)
	}
}
