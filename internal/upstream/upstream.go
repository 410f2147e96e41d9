// Package upstream owns the one HTTP client the gateway uses to talk to every
// provider: a pooled keep-alive transport with dial, TLS and first-byte
// timeouts (and no overall timeout, since streams are long), and per-attempt
// timing traces (DNS, connect, TLS, time to first byte) taken with
// net/http/httptrace.
//
// It imports only the standard library.
package upstream

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// Config tunes the shared transport. Zero fields take the defaults.
type Config struct {
	// DialTimeout bounds opening a TCP connection. Default 10s.
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake. Default 10s.
	TLSHandshakeTimeout time.Duration
	// FirstByteTimeout is how long the upstream may take to send its
	// response headers once the request is written. Default 60s.
	FirstByteTimeout time.Duration
	// IdleConnTimeout is how long an unused keep-alive connection stays in
	// the pool. Default 90s.
	IdleConnTimeout time.Duration
	// MaxIdleConnsPerHost is how many idle connections are kept per
	// upstream host. Default 256.
	MaxIdleConnsPerHost int
	// ReadBufferSize is the read buffer of each connection. Default 1 KiB:
	// bodies are read in the relay's own buffers, past this one, so it
	// serves the response headers (about 1.5 KB from the big providers: one
	// more read), and every open stream keeps one.
	ReadBufferSize int
	// WriteBufferSize is the write buffer of each connection. Default
	// 1 KiB: it holds the request headers and the start of the body; the
	// rest of a larger body goes to the socket in one more write, not in
	// buffer-sized pieces (bufio.Writer.ReadFrom), and every open stream
	// and idle connection keeps one.
	WriteBufferSize int
	// TLS, when set, is the TLS configuration of upstream connections.
	TLS *tls.Config
}

func (c Config) withDefaults() Config {
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.TLSHandshakeTimeout <= 0 {
		c.TLSHandshakeTimeout = 10 * time.Second
	}
	if c.FirstByteTimeout <= 0 {
		c.FirstByteTimeout = 60 * time.Second
	}
	if c.IdleConnTimeout <= 0 {
		c.IdleConnTimeout = 90 * time.Second
	}
	if c.MaxIdleConnsPerHost <= 0 {
		c.MaxIdleConnsPerHost = 256
	}
	if c.ReadBufferSize <= 0 {
		c.ReadBufferSize = 1 << 10
	}
	if c.WriteBufferSize <= 0 {
		c.WriteBufferSize = 1 << 10
	}
	return c
}

// NewTransport returns the pooled transport described by cfg.
func NewTransport(cfg Config) *http.Transport {
	cfg = cfg.withDefaults()
	d := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          0, // no global cap; the per-host cap rules
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:       cfg.IdleConnTimeout,
		TLSHandshakeTimeout:   cfg.TLSHandshakeTimeout,
		ResponseHeaderTimeout: cfg.FirstByteTimeout,
		ExpectContinueTimeout: time.Second,
		ReadBufferSize:        cfg.ReadBufferSize,
		WriteBufferSize:       cfg.WriteBufferSize,
		TLSClientConfig:       cfg.TLS,
	}
}

// NewClient returns the shared client: the transport of cfg, each round
// trip run off the caller's stack (OffStack), and no overall timeout (an
// attempt is bounded by its context and by the relay's idle-stream
// watchdog). Pass it as providers.Config.HTTP.
func NewClient(cfg Config) *http.Client {
	return &http.Client{Transport: OffStack(NewTransport(cfg))}
}

// OffStack returns rt with each round trip run on a goroutine of its own,
// the caller waiting for its answer. The transport's code until the
// response headers (connection pool, request writing, the wait) is deep;
// run on the handler's goroutine it grows that stack past 8 KiB, which Go
// then doubles to 16 KiB and keeps for as long as the call lasts, a stream
// included. On its own goroutine that depth is gone when the headers are
// in. It costs a goroutine start and a switch per request (about a
// microsecond); the memory of every open stream is 8 KiB less.
func OffStack(rt http.RoundTripper) http.RoundTripper { return offStack{rt} }

type offStack struct{ rt http.RoundTripper }

type roundTrip struct {
	resp *http.Response
	err  error
}

func (o offStack) RoundTrip(req *http.Request) (*http.Response, error) {
	done := make(chan roundTrip, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- roundTrip{err: fmt.Errorf("upstream transport panicked: %v", v)}
			}
		}()
		resp, err := o.rt.RoundTrip(req)
		done <- roundTrip{resp, err}
	}()
	r := <-done
	return r.resp, r.err
}

// CloseIdleConnections closes the wrapped transport's idle connections.
func (o offStack) CloseIdleConnections() {
	if c, ok := o.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// Timings are the phases of one upstream attempt. Zero durations are phases
// that did not happen (a reused connection has no DNS, connect or TLS).
type Timings struct {
	DNS, Connect, TLS time.Duration
	// TTFB is from the start of the attempt to the first response byte.
	TTFB time.Duration
	// FirstByte is when the first response byte came; zero if none came.
	FirstByte time.Time
	// Reused reports that a pooled connection was used.
	Reused bool
}

// Trace records the timings of one attempt. Its hooks may run on transport
// goroutines, so it is safe for concurrent use.
type Trace struct {
	now   func() time.Time
	start time.Time

	mu                  sync.Mutex
	dnsStart, connStart time.Time
	tlsStart            time.Time
	t                   Timings
}

// WithTrace returns ctx carrying a client trace that records into the
// returned Trace; the attempt starts now. now defaults to time.Now.
// onFirstByte, when set, is called once when the first response byte
// arrives (the relay switches its watchdog from the first-byte to the idle
// timeout there).
func WithTrace(ctx context.Context, now func() time.Time, onFirstByte func()) (context.Context, *Trace) {
	if now == nil {
		now = time.Now
	}
	tr := &Trace{now: now, start: now()}
	ct := &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { tr.mark(&tr.dnsStart) },
		DNSDone: func(httptrace.DNSDoneInfo) {
			tr.mu.Lock()
			if !tr.dnsStart.IsZero() {
				tr.t.DNS += tr.now().Sub(tr.dnsStart)
			}
			tr.mu.Unlock()
		},
		ConnectStart: func(string, string) { tr.mark(&tr.connStart) },
		ConnectDone: func(_, _ string, err error) {
			tr.mu.Lock()
			if err == nil && !tr.connStart.IsZero() {
				tr.t.Connect = tr.now().Sub(tr.connStart)
			}
			tr.mu.Unlock()
		},
		TLSHandshakeStart: func() { tr.mark(&tr.tlsStart) },
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			tr.mu.Lock()
			if !tr.tlsStart.IsZero() {
				tr.t.TLS = tr.now().Sub(tr.tlsStart)
			}
			tr.mu.Unlock()
		},
		GotConn: func(info httptrace.GotConnInfo) {
			tr.mu.Lock()
			tr.t.Reused = info.Reused
			tr.mu.Unlock()
		},
		GotFirstResponseByte: func() {
			tr.mu.Lock()
			first := tr.t.FirstByte.IsZero()
			if first {
				tr.t.FirstByte = tr.now()
				tr.t.TTFB = tr.t.FirstByte.Sub(tr.start)
			}
			tr.mu.Unlock()
			if first && onFirstByte != nil {
				onFirstByte()
			}
		},
	}
	return httptrace.WithClientTrace(ctx, ct), tr
}

func (tr *Trace) mark(at *time.Time) {
	tr.mu.Lock()
	*at = tr.now()
	tr.mu.Unlock()
}

// Start is when the attempt started.
func (tr *Trace) Start() time.Time { return tr.start }

// Timings returns what was recorded so far.
func (tr *Trace) Timings() Timings {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.t
}
