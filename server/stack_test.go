//go:build !race

// The race detector makes every stack frame larger, so this runs only
// without it (`make test` runs it separately).

package server

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/fakes/openaifake"
)

// TestOpenStreamStackStaysSmall checks what the goroutine stacks of an
// open stream cost the gateway: its handler's goroutine must stay within
// 8 KiB. Go doubles a goroutine's stack when a call goes past it and keeps
// the larger stack while the goroutine lives, so one deep call during a
// stream (a JSON decode, the response headers' write, the transport's
// round trip) costs 8 KiB more for every open stream. The streams' stacks
// are measured directly against the fake, then through the gateway; the
// difference is the gateway's: its handler (8 KiB), the server's
// background read and the upstream connection's read and write loops
// (2–4 KiB each), about 14 KiB measured, and 23–24 KiB when the handler
// grows to 16 KiB (seen with the first flush of a stream, which writes the
// response headers, made on the handler's own stack).
func TestOpenStreamStackStaysSmall(t *testing.T) {
	g := newGateway(t, admin.Limits{})
	const n = 200
	direct := openStreamStacks(t, g, g.upstream+"/v1/chat/completions", "sk-upstream", n)
	through := openStreamStacks(t, g, g.url+"/v1/chat/completions", g.f.Key, n)
	per := (through - direct) / n
	t.Logf("goroutine stacks per open stream: %.1f KiB through the gateway, %.1f KiB of them the gateway's",
		through/n/1024, per/1024)
	if per > 19<<10 {
		t.Fatalf("the gateway's goroutine stacks per open stream are %.1f KiB, want at most 19 KiB: "+
			"a call made deep in the handler's stack grew it to 16 KiB (see server/routes.go and relay's copyOpenAIStream)", per/1024)
	}
}

// openStreamStacks opens n chat streams at url that stay open (the fake
// waits an hour between events), and returns how much the goroutine
// stacks grew while they were open, after a GC has freed unused stacks.
func openStreamStacks(t *testing.T, g *gateway, url, key string, n int) float64 {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	before := stackBytes()
	ctx, cancel := context.WithCancel(context.Background())
	g.fake.Reset()
	for range n {
		g.fake.Script(openaifake.Fault{DelayBetweenChunks: time.Hour})
	}
	body := `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"one two three"}]}`
	open := make(chan error, n)
	var resps []*http.Response
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resps = append(resps, resp)
		go func() {
			// The stream is open once its first event has come.
			line, err := bufio.NewReader(resp.Body).ReadString('\n')
			if err == nil && !strings.HasPrefix(line, "data: ") {
				err = fmt.Errorf("status %d, first line %q", resp.StatusCode, line)
			}
			open <- err
		}()
	}
	for range n {
		if err := <-open; err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // the gateway's goroutines settle in their reads
	after := stackBytes()
	cancel()
	for _, r := range resps {
		r.Body.Close()
	}
	return float64(after - before)
}

// stackBytes is the memory of goroutine stacks after two GCs (the second
// frees the stacks the first found unused).
func stackBytes() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
