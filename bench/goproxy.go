package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// goproxyMain (BENCH_ROLE=goproxy) is the bare Go baseline: the standard
// library's httputil.ReverseProxy from BENCH_ADDR to BENCH_UPSTREAM, with
// a keep-alive transport and nothing else (no auth, limits, logging or
// translation). It shows what net/http itself costs a proxy on this
// machine, the floor under any Go gateway built on it.
func goproxyMain() int {
	up, err := url.Parse(os.Getenv("BENCH_UPSTREAM"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "goproxy:", err)
		return 1
	}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(up) },
		Transport: &http.Transport{MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second},
		// Streams are flushed as they come (text/event-stream is anyway).
		FlushInterval: -1,
	}
	ln, err := net.Listen("tcp", os.Getenv("BENCH_ADDR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "goproxy:", err)
		return 1
	}
	if err := http.Serve(ln, rp); err != nil {
		fmt.Fprintln(os.Stderr, "goproxy:", err)
		return 1
	}
	return 0
}

// startGoProxy runs this binary as the bare Go proxy to upstream on the
// gateway's CPU.
func startGoProxy(pin pinning, dir, upstream string) (*proxyProc, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	argv := pin.wrap(self)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "BENCH_ROLE=goproxy", "BENCH_UPSTREAM="+upstream, "BENCH_ADDR=127.0.0.1:"+strconv.Itoa(port))
	out, err := os.Create(filepath.Join(dir, "goproxy.log"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proxyProc{name: "go proxy", cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), exited: make(chan struct{}),
		stopSignal: syscall.SIGTERM, errLog: filepath.Join(dir, "goproxy.log")}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, p.waitReady()
}
