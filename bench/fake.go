package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/fakes/openaifake"
)

// upstreamKey is the API key the fake requires and the gateway's provider
// sends (direct calls send it too).
const upstreamKey = "sk-bench-upstream"

// fakeStats is what the fake's stats listener answers.
type fakeStats struct {
	Conns     int64 `json:"conns"`      // TCP connections accepted on the two model listeners
	Requests  int64 `json:"requests"`   // requests answered there
	SlowConns int64 `json:"slow_conns"` // of Conns, on the slow listener
}

// fakeMain runs the fake upstream (BENCH_ROLE=fake): the fast listener
// answers with BENCH_REPLY; the slow one answers streams of
// BENCH_SLOW_REPLY with one event per BENCH_SLOW_DELAY; a third listener
// serves /stats. It prints one READY line with the three addresses.
func fakeMain() int {
	var conns, slowConns, requests atomic.Int64
	fast := openaifake.New()
	fast.APIKey, fast.DisableRecording, fast.FixedReply = upstreamKey, true, os.Getenv("BENCH_REPLY")
	slow := openaifake.New()
	slow.APIKey, slow.DisableRecording, slow.FixedReply = upstreamKey, true, os.Getenv("BENCH_SLOW_REPLY")
	delay, _ := time.ParseDuration(os.Getenv("BENCH_SLOW_DELAY"))

	serve := func(h http.Handler, slowOne bool) (string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		srv := &http.Server{Handler: h, ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
				if slowOne {
					slowConns.Add(1)
				}
			}
		}}
		go func() { _ = srv.Serve(ln) }()
		return ln.Addr().String(), nil
	}
	fastAddr, err := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fast.ServeHTTP(w, r)
	}), false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake:", err)
		return 1
	}
	slowAddr, err := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		// Every request takes one queued fault; all are the same.
		slow.Script(openaifake.Fault{DelayBetweenChunks: delay})
		slow.ServeHTTP(w, r)
	}), true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake:", err)
		return 1
	}
	statsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake:", err)
		return 1
	}
	go func() {
		_ = http.Serve(statsLn, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_ = json.NewEncoder(w).Encode(fakeStats{Conns: conns.Load(), Requests: requests.Load(), SlowConns: slowConns.Load()})
		}))
	}()
	fmt.Printf("READY %s %s %s\n", fastAddr, slowAddr, statsLn.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); sig <- syscall.SIGTERM }() // parent gone
	<-sig
	return 0
}

// fakeProc is the running fake upstream child.
type fakeProc struct {
	cmd                  *exec.Cmd
	fast, slow, statsURL string
	stdin                io.WriteCloser
}

// startFake runs this binary as the fake upstream (on the bench's CPU).
func startFake(reply, slowReply string, slowDelay time.Duration) (*fakeProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "BENCH_ROLE=fake", "BENCH_REPLY="+reply, "BENCH_SLOW_REPLY="+slowReply,
		"BENCH_SLOW_DELAY="+slowDelay.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 4 || f[0] != "READY" {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("fake upstream did not start: %q %v", line, err)
	}
	return &fakeProc{cmd: cmd, fast: "http://" + f[1], slow: "http://" + f[2], statsURL: "http://" + f[3], stdin: stdin}, nil
}

func (f *fakeProc) pid() int { return f.cmd.Process.Pid }

func (f *fakeProc) stats() (fakeStats, error) {
	var s fakeStats
	resp, err := http.Get(f.statsURL)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

func (f *fakeProc) stop() {
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	_ = f.stdin.Close()
	done := make(chan struct{})
	go func() { _ = f.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = f.cmd.Process.Kill()
	}
}

// replyWords returns n words of k letters each, separated by spaces, so
// that the fake streams one chunk per word.
func replyWords(n, k int) string {
	base := []string{"lorem", "ipsum", "dolor", "sitam", "conse", "adipi", "elitr", "sedeu", "tempo", "incid"}
	words := make([]string, n)
	for i := range words {
		w := strings.Repeat(base[i%len(base)], k/5+1)
		words[i] = w[:k]
	}
	return strings.Join(words, " ")
}

// sizeReply picks the 20-word reply whose non-streamed JSON answer is
// closest to want bytes, measured on an in-process fake.
func sizeReply(model string, words, want int) (string, int, error) {
	measure := func(text string) (int, error) {
		f := openaifake.New()
		f.FixedReply, f.DisableRecording = text, true
		srv := httptest.NewServer(f)
		defer srv.Close()
		body := `{"model":"` + model + `","messages":[{"role":"user","content":"` + strings.Repeat("x ", 100) + `"}]}`
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return 0, errors.New("probe: " + strconv.Itoa(resp.StatusCode) + " " + string(b))
		}
		return len(b), err
	}
	s1, err := measure(replyWords(words, 1))
	if err != nil {
		return "", 0, err
	}
	k := max(1, 1+(want-s1+words/2)/words)
	text := replyWords(words, k)
	n, err := measure(text)
	return text, n, err
}
