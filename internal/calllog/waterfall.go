package calllog

import "time"

// Waterfall is a call's timeline as bars: each phase starts at an offset
// from the start of the call and lasts a duration, both in microseconds,
// so the console draws one bar per phase without arithmetic of its own.
type Waterfall struct {
	// TotalUS is the whole call, the width of the chart.
	TotalUS int64 `json:"total_us"`
	// Phases are in the order to draw them: total, auth, routing, then
	// each attempt followed by its own phases, then ttft.
	Phases []Phase `json:"phases"`
}

// Phase is one bar of a Waterfall.
type Phase struct {
	// Name is total, auth, routing, attempt, dns, connect, tls, ttfb
	// (waiting for the first byte once connected), transfer, or ttft (to
	// the first token sent to the client).
	Name string `json:"name"`
	// Attempt numbers the upstream attempt (from 1) of attempt, dns,
	// connect, tls, ttfb and transfer; 0 for the call's own phases.
	Attempt int `json:"attempt,omitempty"`
	// Provider and Status are the attempt's, on its attempt phase.
	Provider string `json:"provider,omitempty"`
	Status   int    `json:"status,omitempty"`
	Error    string `json:"error,omitempty"`
	StartUS  int64  `json:"start_us"`
	// DurationUS is never negative.
	DurationUS int64 `json:"duration_us"`
}

// BuildWaterfall lays out a call's phases. An attempt's DNS, connect and
// TLS run back to back from its start; its TTFB counts from its start too
// (net/http/httptrace), so the ttft bar is what remains of it once
// connected, and transfer follows the first byte. Zero phases (a reused
// connection has no DNS, connect or TLS) are left out.
func BuildWaterfall(auth, routing, total, ttft time.Duration, attempts []Attempt) Waterfall {
	w := Waterfall{TotalUS: total.Microseconds(), Phases: []Phase{{Name: "total", DurationUS: max(0, total.Microseconds())}}}
	add := func(p Phase) {
		if p.DurationUS > 0 || p.Name == "attempt" {
			p.DurationUS = max(0, p.DurationUS)
			w.Phases = append(w.Phases, p)
		}
	}
	add(Phase{Name: "auth", DurationUS: auth.Microseconds()})
	add(Phase{Name: "routing", StartUS: auth.Microseconds(), DurationUS: routing.Microseconds()})
	for i, a := range attempts {
		n := i + 1
		start := a.Start
		add(Phase{Name: "attempt", Attempt: n, Provider: a.Provider, Status: a.Status, Error: a.Error,
			StartUS: start.Microseconds(), DurationUS: (a.TTFB + a.Transfer).Microseconds()})
		at := start
		for _, p := range []struct {
			name string
			d    time.Duration
		}{{"dns", a.DNS}, {"connect", a.Connect}, {"tls", a.TLS}} {
			add(Phase{Name: p.name, Attempt: n, StartUS: at.Microseconds(), DurationUS: p.d.Microseconds()})
			at += p.d
		}
		if a.TTFB > 0 {
			add(Phase{Name: "ttfb", Attempt: n, StartUS: at.Microseconds(), DurationUS: (start + a.TTFB - at).Microseconds()})
		}
		add(Phase{Name: "transfer", Attempt: n, StartUS: (start + a.TTFB).Microseconds(), DurationUS: a.Transfer.Microseconds()})
	}
	add(Phase{Name: "ttft", DurationUS: ttft.Microseconds()})
	return w
}
