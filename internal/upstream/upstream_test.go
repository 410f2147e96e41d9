package upstream_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicehq/sluice/internal/upstream"
)

// TestConnectionReuse: under steady sequential load the shared transport
// keeps using the same connection.
func TestConnectionReuse(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := upstream.NewClient(upstream.Config{})
	defer c.CloseIdleConnections()
	reused := 0
	for range 100 {
		ctx, tr := upstream.WithTrace(context.Background(), nil, nil)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
		resp, err := c.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if tr.Timings().Reused {
			reused++
		}
	}
	assert.LessOrEqual(t, conns.Load(), int64(2))
	assert.GreaterOrEqual(t, reused, 98)
}

// TestFirstByteTimeout: an upstream that sends no headers in time fails
// with a timeout error.
func TestFirstByteTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := upstream.NewClient(upstream.Config{FirstByteTimeout: 50 * time.Millisecond})
	defer c.CloseIdleConnections()
	start := time.Now()
	_, err := c.Get(srv.URL)
	require.Error(t, err)
	var ne net.Error
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "%v", err)
	assert.Less(t, time.Since(start), 2*time.Second)
}

// TestTrace: the phases of a first request on a new connection and the
// first byte hook are recorded.
func TestTrace(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond)
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	c := upstream.NewClient(upstream.Config{})
	defer c.CloseIdleConnections()
	var mu sync.Mutex
	hooked := 0
	ctx, tr := upstream.WithTrace(context.Background(), nil, func() { mu.Lock(); hooked++; mu.Unlock() })
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := c.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	tm := tr.Timings()
	assert.GreaterOrEqual(t, tm.TTFB, 30*time.Millisecond)
	assert.Positive(t, tm.Connect)
	assert.False(t, tm.Reused)
	assert.False(t, tm.FirstByte.IsZero())
	mu.Lock()
	assert.Equal(t, 1, hooked)
	mu.Unlock()
}

// goroutineID reads the calling goroutine's number from its stack trace
// (tests only).
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := strings.Fields(string(buf))
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type closer struct {
	roundTripFunc
	closed atomic.Int64
}

func (c *closer) CloseIdleConnections() { c.closed.Add(1) }

// TestOffStack: the round trip runs on another goroutine, its answer and
// error come back as they were, a panic comes back as an error, and idle
// connections are closed through it.
func TestOffStack(t *testing.T) {
	caller := goroutineID()
	var ran string
	want := &http.Response{StatusCode: 299}
	inner := &closer{roundTripFunc: func(r *http.Request) (*http.Response, error) {
		ran = goroutineID()
		switch r.URL.Path {
		case "/panic":
			panic("boom")
		case "/fail":
			return nil, errors.New("refused")
		}
		return want, nil
	}}
	rt := upstream.OffStack(inner)

	req := httptest.NewRequest(http.MethodGet, "http://upstream/ok", nil)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	assert.Same(t, want, resp)
	assert.NotEmpty(t, ran)
	assert.NotEqual(t, caller, ran, "the round trip ran on the caller's goroutine")

	_, err = rt.RoundTrip(httptest.NewRequest(http.MethodGet, "http://upstream/fail", nil))
	assert.EqualError(t, err, "refused")

	_, err = rt.RoundTrip(httptest.NewRequest(http.MethodGet, "http://upstream/panic", nil))
	assert.ErrorContains(t, err, "upstream transport panicked: boom")

	(&http.Client{Transport: rt}).CloseIdleConnections()
	assert.EqualValues(t, 1, inner.closed.Load())
}
