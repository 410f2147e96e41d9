package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// measure is one scenario on one path (direct, gateway or nginx).
type measure struct {
	Path   string `json:"path"`
	result `json:"load"`
	// ServerCPU is the CPU time per request of the process serving the
	// client: the fake (direct), the gateway, or nginx.
	ServerCPU time.Duration `json:"server_cpu_per_request_ns"`
	// UpstreamCPU is the fake upstream's CPU time per request.
	UpstreamCPU time.Duration `json:"upstream_cpu_per_request_ns"`
	// ClientCPU is the load generator's (this process's) CPU per request.
	ClientCPU time.Duration `json:"client_cpu_per_request_ns"`
	// Busy0 and Busy1 are how busy CPU 0 (load generator + fake) and the
	// serving proxy's process (gateway or nginx, on CPU 1) were, in
	// fractions of one core.
	Busy0 float64 `json:"cpu0_busy"`
	Busy1 float64 `json:"proxy_busy"`
	// Other0 and Other1 are the CPU time other processes (not the bench,
	// the fake or the proxy) took on CPUs 0 and 1, in fractions of a core:
	// above ~0.1 the machine was not quiet and the numbers are noisy.
	Other0 float64 `json:"other_cpu0"`
	Other1 float64 `json:"other_cpu1"`
	// PeakRSS is the serving process's VmHWM during the scenario.
	PeakRSS int64 `json:"peak_rss_bytes"`
	// NewConnsPer1000 is how many TCP connections the fake accepted per
	// 1000 requests during the measured window (after the warm-up): the
	// client's (direct) or the proxy's upstream connections.
	NewConnsPer1000 float64 `json:"new_upstream_conns_per_1000"`
}

// plan is one scenario: stream or not, the concurrency, and whether
// nginx runs it too.
type plan struct {
	stream bool
	conc   int
	nginx  bool
}

// group is one scenario measured on each path.
type group struct {
	Title   string   `json:"title"`
	Stream  bool     `json:"stream"`
	Conc    int      `json:"concurrency"`
	Direct  *measure `json:"direct"`
	Gateway *measure `json:"gateway"`
	Nginx   *measure `json:"nginx,omitempty"`
	// GoProxy is the bare Go reverse proxy (goproxy.go).
	GoProxy *measure `json:"go_proxy,omitempty"`
}

// slowGroup is the slow-streams scenario, direct and through the gateway.
type slowGroup struct {
	Direct  slowResult `json:"direct"`
	Gateway slowResult `json:"gateway"`
	// GoProxy is the bare Go proxy, when it could be started.
	GoProxy *slowResult `json:"go_proxy,omitempty"`
}

// results is everything one run measured (written as JSON too).
type results struct {
	Time          time.Time     `json:"time"`
	GoVersion     string        `json:"go_version"`
	CPUs          int           `json:"cpus"`
	Pinning       string        `json:"pinning"`
	Duration      time.Duration `json:"duration_per_scenario_ns"`
	LogLevel      string        `json:"gateway_log_level"`
	CallLog       string        `json:"call_log"`
	Nginx         string        `json:"nginx"`
	GoProxy       string        `json:"go_proxy"`
	RequestBytes  int           `json:"request_bytes"`
	ResponseBytes int           `json:"response_bytes_direct"`
	ReplyWords    int           `json:"stream_words"`
	PeaksReset    bool          `json:"peaks_reset_per_scenario"`
	Groups        []*group      `json:"groups"`
	Slow          *slowGroup    `json:"slow_streams,omitempty"`
	Targets       []target      `json:"targets"`
	GatewayDied   bool          `json:"gateway_died"`
	Profile       []string      `json:"profiles,omitempty"`
}

const (
	replyWordCount = 20
	replyBytes     = 650
	slowWords      = 3 // role + 3 words + finish + [DONE]: 5 gaps of slowDelay
	slowDelay      = time.Second
)

// run performs the whole benchmark and prints the report to out. It
// returns the exit code: 1 when the run itself broke.
func run(ctx context.Context, o options, out io.Writer) (int, error) {
	root, err := repoRoot()
	if err != nil {
		return 1, err
	}
	tmp, err := os.MkdirTemp("", "sluice-bench-")
	if err != nil {
		return 1, err
	}
	if o.KeepTemp {
		fmt.Fprintf(out, "temp dir kept: %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	raiseFileLimit()
	pin := currentPinning(o)

	bin := o.Sluice
	if bin == "" {
		if bin, err = buildSluice(root, tmp); err != nil {
			return 1, err
		}
	}
	reply, respBytes, err := sizeReply(benchModel, replyWordCount, replyBytes)
	if err != nil {
		return 1, fmt.Errorf("size the fake's reply: %w", err)
	}
	fake, err := startFake(reply, replyWords(slowWords, 5), slowDelay)
	if err != nil {
		return 1, err
	}
	defer fake.stop()

	gw, err := startGateway(ctx, pin.wrap(bin, "serve"), filepath.Join(tmp, "gateway"), fake, o.LogLevel)
	if err != nil {
		return 1, err
	}
	defer gw.stop()

	res := &results{Time: time.Now().UTC(), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), Pinning: pin.Note,
		Duration: o.Duration, LogLevel: o.LogLevel, RequestBytes: requestSize, ResponseBytes: respBytes,
		ReplyWords: replyWordCount, PeaksReset: resetPeak(gw.pid())}

	var ng *proxyProc
	if o.Nginx == "" {
		res.Nginx = "skipped: --nginx is empty"
	} else if _, err := os.Stat(o.Nginx); err != nil {
		res.Nginx = "skipped: " + o.Nginx + " not found (apt-get install -y nginx-light to add the baseline)"
	} else if ng, err = startNginx(o.Nginx, pin, filepath.Join(tmp, "nginx"), fake.fast); err != nil {
		res.Nginx = "skipped: " + err.Error()
		ng = nil
	} else {
		defer ng.stop()
		res.Nginx = "proxy_pass baseline, 1 worker, upstream keepalive, " + nginxVersion(o.Nginx)
	}

	gp, err := startGoProxy(pin, filepath.Join(tmp, "goproxy"), fake.fast)
	if err != nil {
		res.GoProxy = "skipped: " + err.Error()
		gp = nil
	} else {
		defer gp.stop()
		res.GoProxy = "net/http + httputil.ReverseProxy, keep-alive, nothing else (" + runtime.Version() + ")"
	}

	fmt.Fprintf(out, "sluice bench: %s per scenario (+%s warm-up), %d-byte requests, ~%d-byte answers, streams of %d words\n",
		o.Duration, o.Warmup, requestSize, respBytes, replyWordCount)
	fmt.Fprintf(out, "  pinning: %s\n  gateway: %s (pid %d, SLUICE_LOG_LEVEL=%s, access log to a file)\n  nginx:   %s\n  go proxy: %s\n",
		pin.Note, bin, gw.pid(), o.LogLevel, res.Nginx, res.GoProxy)

	directEP := func(base string) endpoint {
		return endpoint{URL: base + "/v1/chat/completions", Token: upstreamKey}
	}
	gatewayEP := endpoint{URL: gw.base + "/v1/chat/completions", Token: gw.key}

	plans := []plan{{false, 1, true}, {false, 50, true}, {false, 200, false}, {true, 1, false}, {true, 50, false}, {true, 200, false}}
	for _, p := range plans {
		if ctx.Err() != nil || !gw.alive() {
			break
		}
		kind := "non-stream"
		if p.stream {
			kind = "stream"
		}
		if !o.runs(fmt.Sprintf("%s-%d", strings.ReplaceAll(kind, "-", ""), p.conc)) {
			continue
		}
		g := &group{Title: fmt.Sprintf("%s, %d concurrent", kind, p.conc), Stream: p.stream, Conc: p.conc}
		progress("running: %s...", g.Title)
		body := chatBody(benchModel, p.stream)
		g.Direct = runScenario(ctx, o, "direct", directEP(fake.fast), body, p, fake.pid(), fake)
		g.Gateway = runScenario(ctx, o, "gateway", gatewayEP, body, p, gw.pid(), fake)
		if p.nginx && ng != nil {
			g.Nginx = runScenario(ctx, o, "nginx", endpoint{URL: ng.base + "/v1/chat/completions", Token: upstreamKey}, body, p, ng.pid(), fake)
		}
		if (p.nginx || p.stream && p.conc == 50) && gp != nil {
			g.GoProxy = runScenario(ctx, o, "go proxy", endpoint{URL: gp.base + "/v1/chat/completions", Token: upstreamKey}, body, p, gp.pid(), fake)
		}
		res.Groups = append(res.Groups, g)
	}
	res.GatewayDied = !gw.alive()
	if n, ok := gw.callLogRecords(); ok {
		res.CallLog = fmt.Sprintf("on (sluice_calllog_records_total = %.0f)", n)
	} else if res.GatewayDied {
		res.CallLog = "unknown: the gateway died"
	} else {
		res.CallLog = "not wired yet (no sluice_calllog_records_total series on /metrics)"
	}

	gatewayLog := ""
	if res.GatewayDied {
		gatewayLog = gw.logTail()
	}
	gw.stop()
	if ng != nil {
		ng.stop()
	}
	if gp != nil {
		gp.stop()
	}

	var memOut strings.Builder // the slow streams' memory snapshot (--profile)

	// Slow streams last, on a fresh fake and a fresh gateway, so that the
	// idle RSS is a just-started process's and the difference is the
	// streams' own, not reused garbage of the load scenarios.
	if !res.GatewayDied && ctx.Err() == nil && o.runs("slow") {
		progress("running: %d slow streams (one event per %s), direct then through a fresh gateway...", o.SlowStreams, slowDelay)
		fake.stop()
		fake, err = startFake(reply, replyWords(slowWords, 5), slowDelay)
		if err != nil {
			return 1, err
		}
		defer fake.stop()
		// With --profile the gateway runs in this binary (the same
		// cli.Main), which on SIGWINCH writes a memory snapshot: one
		// before the streams open and one while all are open.
		argv, memDir := pin.wrap(bin, "serve"), ""
		var extra []string
		if o.Profile {
			self, err := os.Executable()
			if err != nil {
				return 1, err
			}
			memDir = filepath.Join(tmp, "gateway-slow", "mem")
			if err := os.MkdirAll(memDir, 0o755); err != nil {
				return 1, err
			}
			argv, extra = pin.wrap(self), []string{"BENCH_ROLE=gateway", "BENCH_PROFILE_DIR=" + memDir}
		}
		gw, err = startGateway(ctx, argv, filepath.Join(tmp, "gateway-slow"), fake, o.LogLevel, extra...)
		if err != nil {
			return 1, err
		}
		defer gw.stop()
		time.Sleep(500 * time.Millisecond) // let start-up garbage settle
		slowBody := chatBody(slowModel, true)
		sg := &slowGroup{}
		sg.Direct = holdStreams(ctx, directEP(fake.slow), slowBody, o.SlowStreams, fake.pid(), nil)
		if sp, err := startGoProxy(pin, filepath.Join(tmp, "goproxy-slow"), fake.slow); err == nil {
			time.Sleep(500 * time.Millisecond)
			r := holdStreams(ctx, endpoint{URL: sp.base + "/v1/chat/completions", Token: upstreamKey}, slowBody, o.SlowStreams, sp.pid(), nil)
			sg.GoProxy = &r
			sp.stop()
		}
		var snap func()
		if memDir != "" {
			gw.signal(syscall.SIGWINCH) // the idle snapshot
			snap = func() { gw.signal(syscall.SIGWINCH) }
		}
		sg.Gateway = holdStreams(ctx, endpoint{URL: gw.base + "/v1/chat/completions", Token: gw.key}, slowBody, o.SlowStreams, gw.pid(), snap)
		res.Slow = sg
		if memDir != "" {
			memReport(&memOut, memDir, o.SlowStreams)
		}
		if !gw.alive() {
			res.GatewayDied, gatewayLog = true, gw.logTail()
		}
		gw.stop()
	}

	var prof strings.Builder // printed after the targets
	prof.WriteString(memOut.String())
	if o.Profile && !res.GatewayDied && ctx.Err() == nil {
		progress("running: CPU profile of an in-process gateway (runtime/pprof)...")
		profiles, err := profileGateway(ctx, o, pin, filepath.Join(tmp, "profile"), fake, filepath.Join(root, "bench", "results"), &prof)
		if err != nil {
			fmt.Fprintln(&prof, "profile:", err)
		}
		res.Profile = profiles
	}

	res.Targets = evaluate(res)
	report(out, res)
	fmt.Fprint(out, prof.String())
	broken := res.broken()
	outPath := o.Out
	if outPath == "" {
		outPath = filepath.Join(root, "bench", "results", "latest.json")
	}
	if err := writeJSON(outPath, res); err != nil {
		fmt.Fprintln(out, "could not write results:", err)
	} else {
		fmt.Fprintf(out, "results written to %s\n", outPath)
	}
	if broken != "" {
		fmt.Fprintf(out, "RUN BROKEN: %s\n", broken)
		if gatewayLog != "" {
			fmt.Fprintf(out, "gateway log tail:\n%s\n", gatewayLog)
		}
		return 1, nil
	}
	return 0, ctx.Err()
}

// runScenario warms up, then measures one scenario on one path: client
// latency, the serving process's and the fake's CPU per request, the
// serving process's peak RSS and the fake's new connections.
func runScenario(ctx context.Context, o options, path string, ep endpoint, body []byte, p plan, pid int, fake *fakeProc) *measure {
	client := newClient(p.conc)
	defer client.CloseIdleConnections()
	if o.Warmup > 0 {
		drive(ctx, client, ep, body, p.stream, p.conc, o.Warmup)
	}
	resetPeak(pid)
	cpu0, _ := cpuTime(pid)
	fcpu0, _ := cpuTime(fake.pid())
	bcpu0, _ := cpuTime(os.Getpid())
	sys0 := cpuBusy()
	st0, _ := fake.stats()
	r := drive(ctx, client, ep, body, p.stream, p.conc, o.Duration)
	cpu1, _ := cpuTime(pid)
	fcpu1, _ := cpuTime(fake.pid())
	bcpu1, _ := cpuTime(os.Getpid())
	sys1 := cpuBusy()
	st1, _ := fake.stats()
	mem, _ := readMemory(pid)
	m := &measure{Path: path, result: r, PeakRSS: mem.HWM,
		Busy0: (bcpu1 - bcpu0 + fcpu1 - fcpu0).Seconds() / r.Elapsed.Seconds()}
	if pid != fake.pid() {
		m.Busy1 = (cpu1 - cpu0).Seconds() / r.Elapsed.Seconds()
	}
	m.Other0 = max(0, (sys1[0]-sys0[0])/r.Elapsed.Seconds()-m.Busy0)
	m.Other1 = max(0, (sys1[1]-sys0[1])/r.Elapsed.Seconds()-m.Busy1)
	if r.Requests > 0 {
		n := time.Duration(r.Requests)
		m.ServerCPU = (cpu1 - cpu0) / n
		m.UpstreamCPU = (fcpu1 - fcpu0) / n
		m.ClientCPU = (bcpu1 - bcpu0) / n
		m.NewConnsPer1000 = float64(st1.Conns-st0.Conns) * 1000 / float64(r.Requests)
	}
	return m
}

// progress tells a person at a terminal what runs now, on stderr; it
// stays out of captured output.
func progress(format string, args ...any) {
	if st, err := os.Stderr.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

// broken says why the run itself failed, or "".
func (r *results) broken() string {
	if r.GatewayDied {
		return "the gateway died"
	}
	var bad []string
	check := func(name string, reqs, errs int64, first string) {
		if total := reqs + errs; total > 0 && float64(errs)/float64(total) > 0.001 {
			bad = append(bad, fmt.Sprintf("%s: %d errors of %d (first: %s)", name, errs, total, first))
		}
	}
	for _, g := range r.Groups {
		for _, m := range []*measure{g.Direct, g.Gateway, g.Nginx} {
			if m != nil {
				check(g.Title+" "+m.Path, m.Requests, m.Errors, m.FirstError)
			}
		}
	}
	if s := r.Slow; s != nil {
		check("slow streams direct", s.Direct.Completed, s.Direct.Errors, s.Direct.FirstErr)
		check("slow streams gateway", s.Gateway.Completed, s.Gateway.Errors, s.Gateway.FirstErr)
	}
	return strings.Join(bad, "; ")
}

func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// raiseFileLimit lifts the soft open-files limit to the hard one: 2,000
// streams need 4,000+ descriptors here and in the gateway, which inherits
// the limit.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// nginxVersion is the first line of `nginx -v`.
func nginxVersion(bin string) string {
	out, _ := exec.Command(bin, "-v").CombinedOutput()
	s := strings.TrimSpace(string(out))
	s = strings.TrimPrefix(s, "nginx version: ")
	return s
}
