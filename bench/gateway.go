package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/cli"
)

const (
	adminPassword = "bench-admin-password"
	benchModel    = "bench"
	slowModel     = "bench-slow"
)

// configYAML declares the two fake providers, their models and an
// auto-approval service whose limits are evaluated on every call but are
// far too large to refuse one.
func configYAML(fastURL, slowURL string) string {
	return fmt.Sprintf(`providers:
  - name: fake
    kind: openai-compatible
    base_url: %s/v1
    api_key: ${BENCH_UPSTREAM_KEY}
  - name: fake-slow
    kind: openai-compatible
    base_url: %s/v1
    api_key: ${BENCH_UPSTREAM_KEY}
models:
  - name: %s
    input_price: 1
    output_price: 2
    targets:
      - provider: fake
        upstream_model: %s
  - name: %s
    targets:
      - provider: fake-slow
        upstream_model: %s
services:
  - slug: bench
    name: Bench
    team: Bench
    approval: auto
    models: [%s, %s]
    limits:
      rpm: 1000000000
      tpm: 1000000000000
      monthly_tokens: 1000000000000000
`, fastURL, slowURL, benchModel, benchModel, slowModel, slowModel, benchModel, slowModel)
}

// gateway is a running gateway process.
type gateway struct {
	cmd     *exec.Cmd
	base    string
	key     string
	logPath string
	exited  chan struct{}
}

func (g *gateway) pid() int { return g.cmd.Process.Pid }

// alive reports whether the process still runs.
func (g *gateway) alive() bool {
	select {
	case <-g.exited:
		return false
	default:
		return true
	}
}

// startGateway runs argv (a `sluice serve`, or this binary as a profiled
// gateway) with a fresh SQLite data dir under dir, waits for /readyz, and
// sets up a consumer key with an approved subscription.
func startGateway(ctx context.Context, argv []string, dir string, fake *fakeProc, logLevel string, extraEnv ...string) (*gateway, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(cfgPath, []byte(configYAML(fake.fast, fake.slow)), 0o600); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "gateway.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(),
		"SLUICE_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"SLUICE_DATA_DIR="+dir,
		"SLUICE_DATABASE_URL=sqlite:"+filepath.Join(dir, "sluice.db"),
		"SLUICE_ADMIN_PASSWORD="+adminPassword,
		"SLUICE_CONFIG="+cfgPath,
		"SLUICE_LOG_LEVEL="+logLevel,
		"BENCH_UPSTREAM_KEY="+upstreamKey,
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g := &gateway{cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), logPath: logPath, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(g.exited) }()
	if err := g.waitReady(ctx); err != nil {
		g.stop()
		return nil, err
	}
	if err := g.setup(ctx); err != nil {
		g.stop()
		return nil, err
	}
	return g, nil
}

func (g *gateway) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(g.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if !g.alive() {
			return fmt.Errorf("gateway exited during start; log:\n%s", g.logTail())
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("gateway never became ready; log:\n%s", g.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logTail is the end of the gateway's log.
func (g *gateway) logTail() string {
	b, _ := os.ReadFile(g.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// setup logs in to the admin API, creates a consumer in the declared team
// and a key for it, subscribes the key to the auto-approval service on the
// data plane, and waits until a chat call through the gateway succeeds.
func (g *gateway) setup(ctx context.Context) error {
	adm := g.base + "/admin/api/v1"
	var login struct {
		Token string `json:"token"`
	}
	if err := callJSON(ctx, "POST", adm+"/login", "", map[string]string{"email": "admin@localhost", "password": adminPassword}, 200, &login); err != nil {
		return fmt.Errorf("admin login: %w", err)
	}
	var teams struct {
		Data []struct {
			ID   json.Number `json:"id"`
			Name string      `json:"name"`
		} `json:"data"`
	}
	if err := callJSON(ctx, "GET", adm+"/teams", login.Token, nil, 200, &teams); err != nil {
		return fmt.Errorf("list teams: %w", err)
	}
	var teamID json.Number
	for _, t := range teams.Data {
		if t.Name == "Bench" {
			teamID = t.ID
		}
	}
	if teamID == "" {
		return errors.New("the declared team Bench is missing")
	}
	var consumer struct {
		ID json.Number `json:"id"`
	}
	if err := callJSON(ctx, "POST", adm+"/consumers", login.Token, map[string]any{"name": "bench-app", "team_id": teamID}, 201, &consumer); err != nil {
		return fmt.Errorf("create consumer: %w", err)
	}
	var key struct {
		Key string `json:"key"`
	}
	if err := callJSON(ctx, "POST", adm+"/consumers/"+consumer.ID.String()+"/keys", login.Token, map[string]any{"name": "bench"}, 201, &key); err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	g.key = key.Key
	var sub struct {
		Status string `json:"status"`
	}
	if err := callJSON(ctx, "POST", g.base+"/v1/subscriptions", g.key, map[string]string{"service": "bench"}, 201, &sub); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if sub.Status != "approved" {
		return fmt.Errorf("subscription is %q, want approved", sub.Status)
	}
	probe := map[string]any{"model": benchModel, "messages": []any{map[string]string{"role": "user", "content": "hello"}}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := callJSON(ctx, "POST", g.base+"/v1/chat/completions", g.key, probe, 200, nil)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("first chat call through the gateway: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var callLogSeries = regexp.MustCompile(`(?m)^sluice_calllog_records_total(\{[^}]*\})? ([0-9.e+]+)`)

// callLogRecords reads sluice_calllog_records_total from /metrics; ok is
// false when the series is absent (the call log is not wired).
func (g *gateway) callLogRecords() (n float64, ok bool) {
	resp, err := http.Get(g.base + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, m := range callLogSeries.FindAllStringSubmatch(string(b), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		n, ok = n+v, true
	}
	return n, ok
}

func (g *gateway) signal(s os.Signal) { _ = g.cmd.Process.Signal(s) }

func (g *gateway) stop() {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(20 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
}

// callJSON sends in as JSON and decodes the answer into out; a status
// other than want is an error carrying the body.
func callJSON(ctx context.Context, method, url, token string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		return dec.Decode(out)
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// gatewayMain runs `sluice serve` in this process (BENCH_ROLE=gateway),
// the same cli.Main as cmd/sluice, for profiling: SIGUSR1 starts a CPU
// profile into the next BENCH_PROFILE_DIR/gateway-N.pprof, SIGUSR2 stops
// it, SIGWINCH writes a memory snapshot (memSnapshot).
func gatewayMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := os.Getenv("BENCH_PROFILE_DIR")
	if os.Getenv("BENCH_MEM_DETAIL") != "" {
		runtime.MemProfileRate = 1 // every allocation in the heap profile (slow)
	}
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH)
	go func() {
		n, snaps := 0, 0
		var f *os.File
		var final string
		for s := range sig {
			switch {
			case s == syscall.SIGWINCH:
				snaps++
				if err := memSnapshot(dir, snaps); err != nil {
					fmt.Fprintln(os.Stderr, "bench gateway: memory snapshot:", err)
				}
			case s == syscall.SIGUSR1 && f == nil:
				n++
				final = filepath.Join(dir, fmt.Sprintf("gateway-%d.pprof", n))
				var err error
				if f, err = os.Create(final + ".part"); err == nil {
					if err := pprof.StartCPUProfile(f); err != nil {
						fmt.Fprintln(os.Stderr, "bench gateway: profile:", err)
					}
				}
			case s == syscall.SIGUSR2 && f != nil:
				pprof.StopCPUProfile()
				_ = f.Close()
				_ = os.Rename(f.Name(), final) // the bench waits for the final name
				f = nil
			}
		}
	}()
	return cli.Main(ctx, []string{"serve"}, os.LookupEnv, os.Stdout, os.Stderr)
}
