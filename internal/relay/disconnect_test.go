package relay_test

import (
	"bufio"
	"context"
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicehq/sluice/internal/fakes/openaifake"
	"github.com/sluicehq/sluice/internal/relay"
)

// noLeak runs scenario (whose servers close in its own cleanups) and then
// checks that the number of goroutines comes back to where it was.
func noLeak(t *testing.T, scenario func(t *testing.T)) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Run("scenario", scenario)
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// watched serves f and reports on exited when a handler returns.
func watched(t *testing.T, f http.Handler, exited chan<- struct{}) string {
	return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { exited <- struct{}{} }()
		f.ServeHTTP(w, r)
	}))
}

// TestClientGoneMidStream: a client that goes away mid-stream cancels the
// upstream at once; the Result says 499 and nothing outlives the call.
func TestClientGoneMidStream(t *testing.T) {
	noLeak(t, func(t *testing.T) {
		u := newUpstreams(t)
		f := openaifake.New()
		f.Script(openaifake.Fault{DelayBetweenChunks: 200 * time.Millisecond})
		exited := make(chan struct{}, 1)
		g := newGateway(t, relay.New(relay.Config{}), u.targetAt(t, "up", "openai", watched(t, f, exited)+"/v1", 0))

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.url+"/v1/chat/completions",
			strings.NewReader(chatBody("one two three four five six", true, "")))
		client := &http.Client{Transport: &http.Transport{}}
		defer client.CloseIdleConnections()
		resp, err := client.Do(req)
		require.NoError(t, err)
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(line, "data: "), line)
		cancel()
		_ = resp.Body.Close()
		start := time.Now()
		res := g.last(t)
		assert.Equal(t, 499, res.Status)
		select {
		case <-exited:
		case <-time.After(2 * time.Second):
			t.Fatal("the upstream request was not cancelled")
		}
		assert.Less(t, time.Since(start), time.Second)
		assert.Len(t, res.Attempts, 1)
	})
}

// TestHangingUpstream: an upstream that never answers is abandoned when
// the client leaves, and nothing outlives the call.
func TestHangingUpstream(t *testing.T) {
	for _, stream := range []bool{false, true} {
		noLeak(t, func(t *testing.T) {
			u := newUpstreams(t)
			f := openaifake.New()
			f.Script(openaifake.Fault{Hang: true})
			exited := make(chan struct{}, 1)
			g := newGateway(t, relay.New(relay.Config{}), u.targetAt(t, "up", "openai", watched(t, f, exited)+"/v1", 0))
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.url+"/v1/chat/completions",
				strings.NewReader(chatBody("hi", stream, "")))
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			_, err := client.Do(req)
			require.Error(t, err)
			res := g.last(t)
			assert.Equal(t, 499, res.Status)
			assert.Len(t, res.Attempts, 1)
			select {
			case <-exited:
			case <-time.After(2 * time.Second):
				t.Fatal("the upstream request was not cancelled")
			}
		})
	}
}

// TestNoFrameworkImports keeps the relay free of Gin and GORM, directly or
// through a dependency.
func TestNoFrameworkImports(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	for _, pkg := range []string{".", "../upstream"} {
		out, err := exec.Command(goTool, "list", "-deps", pkg).Output()
		require.NoError(t, err)
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "github.com/gin-gonic/") || strings.HasPrefix(dep, "gorm.io/") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
