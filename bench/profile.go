package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// profileGateway runs this binary as the gateway (BENCH_ROLE=gateway:
// cli.Main in-process, the same code as `sluice serve`) on the gateway's
// CPU, profiles it under the non-stream and the stream load at 50
// concurrent, copies the profiles to resultsDir and prints the top
// functions of each.
func profileGateway(ctx context.Context, o options, pin pinning, dir string, fake *fakeProc, resultsDir string, out io.Writer) ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	gw, err := startGateway(ctx, pin.wrap(self), dir, fake, o.LogLevel, "BENCH_ROLE=gateway", "BENCH_PROFILE_DIR="+dir)
	if err != nil {
		return nil, err
	}
	defer gw.stop()
	ep := endpoint{URL: gw.base + "/v1/chat/completions", Token: gw.key}
	if err := os.MkdirAll(resultsDir, 0o755); err != nil {
		return nil, err
	}
	var saved []string
	for i, p := range []plan{{false, 50, false}, {true, 50, false}} {
		client := newClient(p.conc)
		body := chatBody(benchModel, p.stream)
		drive(ctx, client, ep, body, p.stream, p.conc, o.Warmup)
		gw.signal(syscall.SIGUSR1)
		r := drive(ctx, client, ep, body, p.stream, p.conc, o.Duration)
		gw.signal(syscall.SIGUSR2)
		client.CloseIdleConnections()
		src := filepath.Join(dir, fmt.Sprintf("gateway-%d.pprof", i+1))
		if !waitFile(src, 10*time.Second) {
			return saved, fmt.Errorf("profile %s was not written", src)
		}
		name := "gateway-nonstream-c50.pprof"
		if p.stream {
			name = "gateway-stream-c50.pprof"
		}
		dst := filepath.Join(resultsDir, name)
		if b, err := os.ReadFile(src); err == nil {
			_ = os.WriteFile(dst, b, 0o644)
		}
		saved = append(saved, dst)
		fmt.Fprintf(out, "\n== profile: %s, 50 concurrent (%.0f req/s while profiled; %s) ==\n", map[bool]string{false: "non-stream", true: "stream"}[p.stream], r.RPS, dst)
		fmt.Fprint(out, "  -- top 15 by own (flat) time --\n", pprofTop(dst, "-top"))
		fmt.Fprint(out, breakdown(dst))
	}
	return saved, nil
}

// chatChain is the chat route's steps in the order of server/routes.go,
// each with the functions whose cumulative time is its own cost: a step
// that only checks returns before the next runs (its cumulative time is
// its own), one that wraps the rest does its work in helpers apart from
// the c.Next() call (observed, logAccess, startRecord, endRecord).
var chatChain = []struct {
	fns   []string
	label string
}{
	{[]string{"github.com/sluicehq/sluice/server.requestID"}, "requestID"},
	{[]string{"github.com/sluicehq/sluice/server.(*Server).logAccess"}, "accessLog (slog line)"},
	{[]string{"github.com/sluicehq/sluice/server.(*Server).observed"}, "observe (Prometheus)"},
	{[]string{"github.com/sluicehq/sluice/server.(*Server).limitBody"}, "limitBody"},
	{[]string{"github.com/sluicehq/sluice/server.(*Server).startRecord", "github.com/sluicehq/sluice/server.(*Server).endRecord"}, "record (call-log record)"},
	{[]string{"github.com/sluicehq/sluice/server.(*Server).authenticate"}, "authenticate (JWT key)"},
	{[]string{"github.com/sluicehq/sluice/server.(*Server).readModel"}, "readModel (parse body)"},
	{[]string{"github.com/sluicehq/sluice/server.(*Server).authorize"}, "authorize (subscription)"},
	{[]string{"github.com/sluicehq/sluice/server.(*Server).limit"}, "limit (rpm/tpm/month)"},
	{[]string{"github.com/sluicehq/sluice/internal/relay.(*Relay).Chat"}, "relay.(*Relay).Chat"},
}

// breakdown prints where the profiled CPU went: the call-log writer, the
// handler chain step by step, and the plumbing around it (cumulative
// shares; rows are not additive across groups).
func breakdown(path string) string {
	b, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=100000", path).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("  go tool pprof: %v\n", err)
	}
	cum, flat := map[string]float64{}, map[string]float64{}
	var total float64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "Duration:" {
			for i, w := range f {
				if w == "samples" && i+2 < len(f) {
					total = seconds(f[i+2])
				}
			}
		}
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") {
			continue
		}
		name := strings.TrimSuffix(strings.Join(f[5:], " "), " (inline)")
		cum[name] += seconds(f[3])
		flat[name] += seconds(f[0])
	}
	if total == 0 {
		return "  (empty profile)\n"
	}
	var sb strings.Builder
	pct := func(v float64) string { return fmt.Sprintf("%5.1f%%", 100*v/total) }
	fmt.Fprintf(&sb, "  -- where it goes (share of %.2fs profiled CPU) --\n", total)
	fmt.Fprintf(&sb, "  %s  call-log writer goroutine: calllog.(*Logger).run\n", pct(cum["github.com/sluicehq/sluice/internal/calllog.(*Logger).run"]))
	fmt.Fprintf(&sb, "  %s  handler chain (gin.(*Engine).ServeHTTP): own cost of each step =", pct(cum["github.com/gin-gonic/gin.(*Engine).ServeHTTP"]))
	for i, st := range chatChain {
		c := 0.0
		for _, fn := range st.fns {
			c += cum[fn]
		}
		switch {
		case i == len(chatChain)-1:
			fmt.Fprintf(&sb, "\n           %s %s (all of it)", pct(c), st.label)
		case i%4 == 0:
			fmt.Fprintf(&sb, "\n           %s %s", pct(c), st.label)
		default:
			fmt.Fprintf(&sb, ", %s %s", strings.TrimSpace(pct(c)), st.label)
		}
	}
	sb.WriteString("\n")
	for _, r := range []struct {
		label string
		fns   []string
	}{
		{"  of which upstream round trip: openai.(*Provider).Forward + the round trip's goroutine (upstream.OffStack)", []string{"github.com/sluicehq/sluice/providers/openai.(*Provider).Forward", "github.com/sluicehq/sluice/internal/upstream.offStack.RoundTrip.func1"}},
		{"upstream transport goroutines: persistConn readLoop + writeLoop", []string{"net/http.(*persistConn).readLoop", "net/http.(*persistConn).writeLoop"}},
		{"client side: net/http.(*conn).readRequest + (*response).finishRequest", []string{"net/http.(*conn).readRequest", "net/http.(*response).finishRequest"}},
		{"GC: runtime.gcBgMarkWorker + bgsweep", []string{"runtime.gcBgMarkWorker", "runtime.bgsweep"}},
		{"allocation anywhere: runtime.mallocgc", []string{"runtime.mallocgc"}},
	} {
		v := 0.0
		for _, fn := range r.fns {
			v += cum[fn]
		}
		fmt.Fprintf(&sb, "  %s  %s\n", pct(v), r.label)
	}
	fmt.Fprintf(&sb, "  %s  syscalls anywhere (own time of Syscall6)\n", pct(flat["internal/runtime/syscall/linux.Syscall6"]))
	return sb.String()
}

// seconds parses pprof's "1.23s" or "450ms".
func seconds(s string) float64 {
	var v float64
	switch {
	case strings.HasSuffix(s, "ms"):
		_, _ = fmt.Sscanf(strings.TrimSuffix(s, "ms"), "%g", &v)
		return v / 1000
	case strings.HasSuffix(s, "us"), strings.HasSuffix(s, "µs"):
		_, _ = fmt.Sscanf(strings.TrimSuffix(strings.TrimSuffix(s, "us"), "µs"), "%g", &v)
		return v / 1e6
	case strings.HasSuffix(s, "s"):
		_, _ = fmt.Sscanf(strings.TrimSuffix(s, "s"), "%g", &v)
		return v
	}
	return 0
}

func waitFile(path string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// pprofTop is `go tool pprof -top -nodecount=15` of a profile, indented.
func pprofTop(path string, args ...string) string {
	args = append([]string{"tool", "pprof", "-nodecount=15"}, append(args, path)...)
	b, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("  go tool pprof: %v\n", err)
	}
	var sb strings.Builder
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		skip := false
		for _, p := range []string{"File:", "Build ID:", "Type:", "Time:", "Dropped", "Showing", "Active filters", "   show="} {
			skip = skip || strings.HasPrefix(line, p)
		}
		if skip {
			continue
		}
		sb.WriteString("  " + line + "\n")
	}
	return sb.String()
}
