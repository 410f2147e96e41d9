package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// target is one of the targets with what this run measured.
type target struct {
	Name   string `json:"name"`
	Got    string `json:"measured"`
	Status string `json:"status"` // PASS, FAIL, SKIP or INFO (a baseline beside a target)
}

func (r *results) find(stream bool, conc int) *group {
	for _, g := range r.Groups {
		if g.Stream == stream && g.Conc == conc {
			return g
		}
	}
	return nil
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// evaluate checks the targets against the run.
func evaluate(r *results) []target {
	var ts []target
	add := func(name, got string, ok bool) { ts = append(ts, target{Name: name, Got: got, Status: passFail(ok)}) }
	skip := func(name, why string) { ts = append(ts, target{Name: name, Got: why, Status: "SKIP"}) }
	// info lines put a target's figure next to the baselines of the same
	// run; they pass or fail nothing.
	info := func(name, got string) { ts = append(ts, target{Name: name, Got: got, Status: "INFO"}) }

	if g := r.find(false, 50); g != nil {
		add("non-stream, 50 concurrent: gateway CPU per request ≤ 60 µs", us(g.Gateway.ServerCPU), g.Gateway.ServerCPU <= 60*time.Microsecond)
		if g.Nginx != nil && g.Nginx.ServerCPU > 0 {
			info("  the same as a multiple of nginx's CPU in this run (the issue measured nginx at 17 µs: 60/17 = 3.5×)",
				fmt.Sprintf("%.2f× (nginx %s)", float64(g.Gateway.ServerCPU)/float64(g.Nginx.ServerCPU), us(g.Nginx.ServerCPU)))
		}
		if g.GoProxy != nil {
			info("  the bare Go proxy (net/http's ReverseProxy, nothing else) in this run", us(g.GoProxy.ServerCPU))
		}
		ratio := g.Gateway.RPS / g.Direct.RPS
		add("non-stream, 50 concurrent: throughput ≥ 40% of direct", fmt.Sprintf("%.0f%% (%s vs %s req/s)", 100*ratio, num(g.Gateway.RPS), num(g.Direct.RPS)), ratio >= 0.40)
	}
	if g := r.find(false, 1); g != nil {
		name := "unloaded (1 concurrent): p50 ≤ nginx p50 + 60 µs"
		if g.Nginx == nil {
			skip(name, fmt.Sprintf("no nginx (%s); gateway p50 is %s above direct", r.Nginx, usDiff(g.Gateway.P50-g.Direct.P50)))
		} else {
			d := g.Gateway.P50 - g.Nginx.P50
			add(name, fmt.Sprintf("%s above nginx (gateway %s, nginx %s)", usDiff(d), us(g.Gateway.P50), us(g.Nginx.P50)), d <= 60*time.Microsecond)
			if g.GoProxy != nil {
				info("  the bare Go proxy in this run", fmt.Sprintf("%s above nginx (%s)", usDiff(g.GoProxy.P50-g.Nginx.P50), us(g.GoProxy.P50)))
			}
		}
	}
	if g := r.find(true, 50); g != nil {
		add("stream (20 chunks), 50 concurrent: gateway CPU per stream ≤ 250 µs", us(g.Gateway.ServerCPU), g.Gateway.ServerCPU <= 250*time.Microsecond)
		if g.GoProxy != nil {
			info("  the bare Go proxy in this run", us(g.GoProxy.ServerCPU))
		}
		d := g.Gateway.TTFB50 - g.Direct.TTFB50
		add("stream, 50 concurrent: added time to first byte p50 ≤ 1 ms", fmt.Sprintf("%s (gateway %s, direct %s)", usDiff(d), us(g.Gateway.TTFB50), us(g.Direct.TTFB50)), d <= time.Millisecond)
		if g.GoProxy != nil {
			info("  the bare Go proxy in this run", usDiff(g.GoProxy.TTFB50-g.Direct.TTFB50))
		}
	}
	if s := r.Slow; s != nil {
		gs := s.Gateway
		add("memory per open stream ≤ 64 KiB", fmt.Sprintf("%.1f KiB ((%s − %s idle) / %d)", float64(gs.PerStream)/1024, mib(gs.PeakRSS), mib(gs.IdleRSS), gs.Streams),
			gs.PerStream > 0 && gs.PerStream <= 64<<10)
		if s.GoProxy != nil {
			info("  the bare Go proxy in this run", fmt.Sprintf("%.1f KiB", float64(s.GoProxy.PerStream)/1024))
		}
		add(fmt.Sprintf("%d concurrent slow streams held without error", gs.Streams),
			fmt.Sprintf("%d completed, %d errors, %d open at once", gs.Completed, gs.Errors, gs.MaxOpen),
			gs.Errors == 0 && gs.Completed == int64(gs.Streams))
	}
	worst, where := -1.0, ""
	for _, g := range r.Groups {
		if g.Gateway != nil && g.Gateway.NewConnsPer1000 > worst {
			worst, where = g.Gateway.NewConnsPer1000, g.Title
		}
	}
	if worst >= 0 {
		add("upstream keep-alive: no new upstream connection per request (≤ 1 per 1000)", fmt.Sprintf("%.2f per 1000 requests at worst (%s)", worst, where), worst <= 1)
	}
	return ts
}

// report prints the tables and the targets.
func report(out io.Writer, r *results) {
	fmt.Fprintf(out, "call log: %s\n", r.CallLog)
	if !r.PeaksReset {
		fmt.Fprintln(out, "note: could not reset VmHWM per scenario; peak RSS is since each process started")
	}
	fmt.Fprintln(out, "µs per request; srv = the process the client calls (direct: the fake); +p50 = minus direct; busy = CPU 0 (load+fake) / srv, other = other processes on CPU 0 / 1, % of a core")
	for _, g := range r.Groups {
		printGroup(out, g)
	}
	if s := r.Slow; s != nil {
		fmt.Fprintf(out, "\n%-16s %9s %6s %9s %16s %11s %7s\n", fmt.Sprintf("%d slow streams", s.Gateway.Streams), "completed", "errors", "open max", "RSS idle→peak MiB", "KiB/stream", "took s")
		rows := []struct {
			name string
			r    slowResult
		}{{"  direct", s.Direct}, {"  gateway", s.Gateway}}
		if s.GoProxy != nil {
			rows = append(rows, struct {
				name string
				r    slowResult
			}{"  go proxy", *s.GoProxy})
		}
		for _, x := range rows {
			fmt.Fprintf(out, "%-16s %9d %6d %9d %16s %11s %7.1f\n", x.name, x.r.Completed, x.r.Errors, x.r.MaxOpen,
				mib(x.r.IdleRSS)+"→"+mib(x.r.PeakRSS), kib(x.r.PerStream), x.r.Took.Seconds())
		}
		if s.Gateway.FirstErr != "" {
			fmt.Fprintf(out, "  first gateway error: %s\n", s.Gateway.FirstErr)
		}
	}
	noisy := 0.0
	for _, g := range r.Groups {
		for _, m := range []*measure{g.Direct, g.Gateway, g.Nginx, g.GoProxy} {
			if m != nil {
				noisy = max(noisy, m.Other0, m.Other1)
			}
		}
	}
	if noisy > 0.10 {
		fmt.Fprintf(out, "\nWARNING: other processes took up to %.0f%% of a benchmark CPU during a scenario (column other%%); numbers are noisy\n", 100*noisy)
	}
	fmt.Fprintln(out, "\ntargets (gateway pinned to CPU 1):")
	for _, t := range r.Targets {
		fmt.Fprintf(out, "  %s  %s: %s\n", t.Status, t.Name, t.Got)
	}
}

// printGroup prints one scenario: a row per path and the gateway/direct
// ratios.
func printGroup(out io.Writer, g *group) {
	title := fmt.Sprintf("%s c=%d", map[bool]string{false: "non-stream", true: "stream"}[g.Stream], g.Conc)
	ttfbHead := ""
	if g.Stream {
		ttfbHead = fmt.Sprintf(" %7s %7s", "TTFB50", "+TTFB")
	}
	fmt.Fprintf(out, "\n%-16s %7s %7s %7s %7s%s %7s %7s %7s %7s %7s %7s %7s %4s\n", title, "req/s", "p50", "p99", "+p50", ttfbHead,
		"srvCPU", "fakeCPU", "genCPU", "busy%", "other%", "RSS MiB", "conn/1k", "err")
	for _, m := range []*measure{g.Direct, g.Gateway, g.Nginx, g.GoProxy} {
		if m == nil {
			continue
		}
		added := "-"
		if m != g.Direct {
			added = usDiffN(m.P50 - g.Direct.P50)
		}
		ttfb := ""
		if g.Stream {
			at := "-"
			if m != g.Direct {
				at = usDiffN(m.TTFB50 - g.Direct.TTFB50)
			}
			ttfb = fmt.Sprintf(" %7s %7s", usN(m.TTFB50), at)
		}
		fmt.Fprintf(out, "  %-14s %7s %7s %7s %7s%s %7.1f %7.1f %7.1f %7s %7s %7s %7.2f %4d\n", m.Path, num(m.RPS), usN(m.P50), usN(m.P99), added, ttfb,
			float64(m.ServerCPU)/1e3, float64(m.UpstreamCPU)/1e3, float64(m.ClientCPU)/1e3,
			fmt.Sprintf("%.0f/%.0f", 100*m.Busy0, 100*m.Busy1), fmt.Sprintf("%.0f/%.0f", 100*m.Other0, 100*m.Other1),
			mib(m.PeakRSS), m.NewConnsPer1000, m.Errors)
	}
	d, w := g.Direct, g.Gateway
	ttfb := ""
	if g.Stream {
		ttfb = fmt.Sprintf(" %7s %7s", ratio(float64(w.TTFB50), float64(d.TTFB50)), "")
	}
	fmt.Fprintf(out, "  %-14s %7s %7s %7s %7s%s %7s %7s %7s %7s %7s %7s\n", "gateway/direct", ratio(w.RPS, d.RPS), ratio(float64(w.P50), float64(d.P50)),
		ratio(float64(w.P99), float64(d.P99)), "", ttfb, ratio(float64(w.ServerCPU), float64(d.ServerCPU)), "", "", "", "", ratio(float64(w.PeakRSS), float64(d.PeakRSS)))
	for _, m := range []*measure{d, w, g.Nginx, g.GoProxy} {
		if m != nil && m.FirstError != "" {
			fmt.Fprintf(out, "  first %s error: %s\n", m.Path, m.FirstError)
		}
	}
}

func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/1e3) }
func usN(d time.Duration) string {
	return fmt.Sprintf("%.0f", float64(d)/1e3)
}
func usDiff(d time.Duration) string  { return fmt.Sprintf("%+.0f µs", float64(d)/1e3) }
func usDiffN(d time.Duration) string { return fmt.Sprintf("%+.0f", float64(d)/1e3) }
func mib(b int64) string             { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }
func kib(b int64) string             { return fmt.Sprintf("%.1f", float64(b)/1024) }

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// num formats n with thousands separators.
func num(n float64) string {
	s := fmt.Sprintf("%.0f", n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
