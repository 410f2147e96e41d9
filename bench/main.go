// Command bench is Sluice's load benchmark (`make bench`). It starts a fake
// OpenAI upstream and a real `sluice serve` on loopback with the full data
// path on (JWT consumer key, approved subscription, limits, call log when
// wired), drives the same load directly at the fake and through the
// gateway in one run, and prints throughput, latency, the gateway's added
// latency, CPU per request and peak RSS next to the direct baseline, then
// checks the targets. See bench/README.md for how to read it.
//
// Placement: the bench process (load generator) and the fake upstream run
// on CPU 0 and the gateway on CPU 1 (`taskset`), so the gateway's CPU per
// request is read from its own /proc/<pid>/stat. The fake runs as a child
// process (this binary with BENCH_ROLE=fake) so that its CPU is separate
// too; with --profile the gateway also runs once as this binary
// (BENCH_ROLE=gateway, the same cli.Main as `sluice serve`) under
// runtime/pprof.
//
// It imports internal/cli (for the profiled gateway) and the OpenAI fake.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the command-line settings.
type options struct {
	Duration    time.Duration
	Warmup      time.Duration
	Sluice      string
	Nginx       string
	SlowStreams int
	NoPin       bool
	Profile     bool
	Out         string
	LogLevel    string
	KeepTemp    bool
	// Only, when set, names the scenarios to run (see scenarioNames).
	Only map[string]bool
}

// scenarioNames are the values --only takes.
var scenarioNames = []string{"nonstream-1", "nonstream-50", "nonstream-200", "stream-1", "stream-50", "stream-200", "slow"}

// runs reports whether the scenario called name is to run.
func (o options) runs(name string) bool { return len(o.Only) == 0 || o.Only[name] }

// parseOnly reads --only's comma-separated scenario names.
func parseOnly(v string) (map[string]bool, error) {
	if v == "" {
		return nil, nil
	}
	set := map[string]bool{}
	for _, n := range strings.Split(v, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(scenarioNames, n) {
			return nil, fmt.Errorf("--only: unknown scenario %q (one of %s)", n, strings.Join(scenarioNames, ", "))
		}
		set[n] = true
	}
	return set, nil
}

func main() {
	switch os.Getenv("BENCH_ROLE") {
	case "fake":
		os.Exit(fakeMain())
	case "gateway":
		os.Exit(gatewayMain())
	case "goproxy":
		os.Exit(goproxyMain())
	}
	var o options
	flag.DurationVar(&o.Duration, "duration", 5*time.Second, "measured time of each scenario")
	flag.DurationVar(&o.Warmup, "warmup", 500*time.Millisecond, "unmeasured load before each scenario")
	flag.StringVar(&o.Sluice, "sluice", "", "sluice binary to run (default: go build ./cmd/sluice into a temp dir)")
	flag.StringVar(&o.Nginx, "nginx", "/usr/sbin/nginx", "nginx binary for the proxy_pass baseline; skipped when missing or empty")
	flag.IntVar(&o.SlowStreams, "slow-streams", 2000, "concurrent slow streams held in the memory scenario")
	flag.BoolVar(&o.NoPin, "no-pin", false, "do not pin the processes to CPUs with taskset")
	flag.BoolVar(&o.Profile, "profile", false, "also run the gateway once under runtime/pprof and print where its CPU goes")
	flag.StringVar(&o.Out, "out", "", "results JSON (default bench/results/latest.json in the repository)")
	flag.StringVar(&o.LogLevel, "log-level", "info", "the gateway's SLUICE_LOG_LEVEL (info is the product default; its access log goes to a file)")
	flag.BoolVar(&o.KeepTemp, "keep", false, "keep the temp dir (gateway log, database, profiles)")
	only := flag.String("only", "", "run only these scenarios, comma-separated: "+strings.Join(scenarioNames, ", "))
	flag.Parse()
	var err error
	if o.Only, err = parseOnly(*only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}

	if reexecPinned(o) {
		return // not reached: the process was replaced
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// pinEnv marks a bench process already re-executed under taskset.
const pinEnv = "BENCH_PINNED"

// reexecPinned replaces the process with itself under `taskset -c 0`
// unless it already runs so, pinning is off, or the machine has one CPU.
// The Go runtime sizes GOMAXPROCS from the affinity at start, hence the
// re-exec rather than a sched_setaffinity call.
func reexecPinned(o options) bool {
	if o.NoPin || os.Getenv(pinEnv) != "" || runtime.NumCPU() < 2 {
		return false
	}
	ts, err := exec.LookPath("taskset")
	if err != nil {
		return false
	}
	self, err := os.Executable()
	if err != nil {
		return false
	}
	args := append([]string{"taskset", "-c", "0", self}, os.Args[1:]...)
	env := append(os.Environ(), pinEnv+"=1")
	if err := syscall.Exec(ts, args, env); err != nil {
		fmt.Fprintln(os.Stderr, "bench: could not re-exec under taskset:", err)
	}
	return false
}

// pinning reports how the processes are placed.
type pinning struct {
	On      bool   // the bench runs on CPU 0, the gateway on CPU 1
	Taskset string // path of taskset when On
	Note    string
}

func currentPinning(o options) pinning {
	if o.NoPin {
		return pinning{Note: "off (--no-pin): processes share all CPUs"}
	}
	if os.Getenv(pinEnv) == "" {
		return pinning{Note: "off: taskset or a second CPU is missing"}
	}
	ts, _ := exec.LookPath("taskset")
	return pinning{On: true, Taskset: ts, Note: "load generator + fake upstream on CPU 0, gateway (and nginx) on CPU 1"}
}

// wrap returns argv run on CPU 1 when pinning is on.
func (p pinning) wrap(argv ...string) []string {
	if !p.On {
		return argv
	}
	return append([]string{p.Taskset, "-c", "1"}, argv...)
}

// repoRoot finds the module root from the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/sluicehq/sluice") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the sluice repository (go.mod of github.com/sluicehq/sluice not found)")
		}
		dir = parent
	}
}

// buildSluice builds cmd/sluice into dir (with symbols, so perf and pprof
// can name functions).
func buildSluice(root, dir string) (string, error) {
	progress("building ./cmd/sluice...")
	bin := filepath.Join(dir, "sluice")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/sluice")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/sluice: %v\n%s", err, out)
	}
	return bin, nil
}
