package demo_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/calllog"
	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/db"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestTrafficThroughTheGateway runs `sluice demo` in this process at a
// brisk rate: the traffic generator's calls pass the real gateway (keys,
// subscriptions, limits, relay, fakes) and land in the call log, every
// kind of call answered 200, the pending subscription's refused.
func TestTrafficThroughTheGateway(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"SLUICE_DATA_DIR": dir, "SLUICE_DATABASE_URL": "sqlite:" + filepath.Join(dir, "sluice.db"),
		"SLUICE_ADDR": addr, "SLUICE_ADMIN_PASSWORD": "demo test password", "SLUICE_LOG_LEVEL": "warn"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	started := time.Now().UTC()
	go func() {
		done <- cli.Main(ctx, []string{"demo", "--rate", "20", "--history", "0"}, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &stdout, &stderr)
	}()
	base := "http://" + addr
	waitReady(t, base, &stderr)
	t.Logf("ready after %s", time.Since(started))
	out := stdout.String()
	key := regexp.MustCompile(`Demo key:\s+(\S+)`).FindStringSubmatch(out)
	if key == nil || !strings.Contains(out, "Console:   http://"+addr+"/") || !strings.Contains(out, "SLUICE_ADMIN_PASSWORD") {
		t.Fatalf("banner lacks the console URL, the admin hint or the key:\n%s", out)
	}

	// The printed key works.
	st, body := post(t, base+"/v1/chat/completions", key[1], `{"model":"demo-gpt","messages":[{"role":"user","content":"hello demo"}]}`)
	if st != 200 || !strings.Contains(body, "hello demo") {
		t.Fatalf("chat with the printed key: %d %s", st, body)
	}

	// The call log, read as the admin API reads it.
	d, err := config.ParseDatabaseURL(env["SLUICE_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	h, err := db.Open(context.Background(), d, db.Options{MaxOpenConns: 2, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	reader := calllog.NewReader(h.Gorm)
	want := map[string]bool{"chat": false, "chat stream": false, "embeddings": false, "prompt": false, "messages stream": false, "refused": false}
	var live []calllog.LogSummary
	deadline := time.Now().Add(12 * time.Second)
	for {
		page, err := reader.List(context.Background(), calllog.LogFilter{Scope: calllog.Scope{All: true}, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		live = page.Data
		for _, l := range live {
			k := l.Endpoint
			if l.Stream {
				k += " stream"
			}
			if l.Status == 200 {
				want[k] = true
			}
			if l.Status == 403 && strings.Contains(l.Error, "pending") {
				want["refused"] = true
			}
		}
		all := true
		for _, ok := range want {
			all = all && ok
		}
		if all && len(live) >= 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 12 s, %d live calls logged; seen %v\n%s", len(live), want, stderr.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
	var ok, failed int
	for _, l := range live {
		switch {
		case l.Status == 200:
			ok++
		case l.Status != 403:
			failed++
		}
	}
	// The fakes fail a few percent of attempts; retries and the fallback
	// save almost all of them.
	if failed*10 > ok {
		t.Errorf("%d of %d live calls failed", failed, len(live))
	}
	for _, l := range live[:10] {
		detail, err := reader.Get(context.Background(), calllog.Scope{All: true}, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if l.Status == 200 && (len(detail.Attempts) == 0 || len(detail.Waterfall.Phases) < 3) {
			t.Errorf("live call without a waterfall: %+v", detail)
		}
	}

	t.Logf("%d live calls checked after %s", len(live), time.Since(started))
	cancel()
	select {
	case code := <-done:
		t.Logf("stopped after %s", time.Since(started))
		if code != 0 {
			t.Fatalf("demo exited %d:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not stop after cancel")
	}
}

func waitReady(t *testing.T, base string, stderr *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func post(t *testing.T, url, bearer, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
