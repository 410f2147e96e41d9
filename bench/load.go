package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// requestSize is the size of every request body, as in the issue.
const requestSize = 336

// chatBody is a chat request of exactly requestSize bytes: the user
// message is padded.
func chatBody(model string, stream bool) []byte {
	head := `{"model":"` + model + `","messages":[{"role":"user","content":"`
	tail := `"}],"stream":false}`
	if stream {
		tail = `"}],"stream":true}`
	}
	pad := requestSize - len(head) - len(tail)
	words := strings.Repeat("please summarise the quarterly report ", pad/38+1)
	return []byte(head + words[:pad-1] + "." + tail)
}

// endpoint is where load goes: the fake directly, the gateway or nginx.
type endpoint struct {
	URL   string // full URL of chat/completions
	Token string // bearer token
}

// newClient is a keep-alive client with room for conc idle connections.
func newClient(conc int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: conc + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		// Keep the default buffers: the load generator should cost what a
		// plain Go client costs.
	}}
}

// result is what one scenario's load measured on the client side.
type result struct {
	Requests   int64         `json:"requests"`
	Errors     int64         `json:"errors"`
	FirstError string        `json:"first_error,omitempty"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	RPS        float64       `json:"rps"`
	P50        time.Duration `json:"p50_ns"`
	P99        time.Duration `json:"p99_ns"`
	Mean       time.Duration `json:"mean_ns"`
	TTFB50     time.Duration `json:"ttfb_p50_ns,omitempty"`
	TTFB99     time.Duration `json:"ttfb_p99_ns,omitempty"`
	RespBytes  int           `json:"response_bytes"` // body size of the last good answer
	Events     int           `json:"events,omitempty"`
}

// worker state, one per goroutine; merged at the end.
type workerStats struct {
	lat, ttfb  []time.Duration
	n, errs    int64
	firstErr   string
	respBytes  int
	events     int
	readBuf    []byte
	tailBuf    []byte
	bodyReader *bytes.Reader
}

// drive runs conc workers against ep for d, each sending body in a loop
// on client; a stream's answer is read to its end and must finish with
// data: [DONE]. The latency of a call is from sending to the last byte;
// TTFB (streams) to the first body byte.
func drive(ctx context.Context, client *http.Client, ep endpoint, body []byte, stream bool, conc int, d time.Duration) result {
	deadline := time.Now().Add(d)
	ws := make([]*workerStats, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range ws {
		w := &workerStats{readBuf: make([]byte, 16<<10), lat: make([]time.Duration, 0, 4096)}
		ws[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				w.one(ctx, client, ep, body, stream)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	var r result
	var lat, ttfb []time.Duration
	for _, w := range ws {
		r.Requests += w.n
		r.Errors += w.errs
		if r.FirstError == "" {
			r.FirstError = w.firstErr
		}
		if w.respBytes > 0 {
			r.RespBytes, r.Events = w.respBytes, w.events
		}
		lat = append(lat, w.lat...)
		ttfb = append(ttfb, w.ttfb...)
	}
	r.Elapsed = elapsed
	r.RPS = float64(r.Requests) / elapsed.Seconds()
	r.P50, r.P99, r.Mean = percentiles(lat)
	if stream {
		r.TTFB50, r.TTFB99, _ = percentiles(ttfb)
	}
	return r
}

// percentiles sorts xs and returns its p50, p99 and mean.
func percentiles(xs []time.Duration) (p50, p99, mean time.Duration) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	slices.Sort(xs)
	var sum time.Duration
	for _, x := range xs {
		sum += x
	}
	at := func(q float64) time.Duration { return xs[min(len(xs)-1, int(q*float64(len(xs))))] }
	return at(0.50), at(0.99), sum / time.Duration(len(xs))
}

var done = []byte("data: [DONE]")

// one sends one request and records it.
func (w *workerStats) one(ctx context.Context, client *http.Client, ep endpoint, body []byte, stream bool) {
	if w.bodyReader == nil {
		w.bodyReader = bytes.NewReader(body)
	}
	w.bodyReader.Reset(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, w.bodyReader)
	if err != nil {
		w.fail(err)
		return
	}
	req.ContentLength = int64(len(body))
	req.Header["Content-Type"] = []string{"application/json"}
	req.Header["Authorization"] = []string{"Bearer " + ep.Token}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			w.fail(err)
		}
		return
	}
	var first time.Duration
	size, events := 0, 0
	w.tailBuf = w.tailBuf[:0]
	for {
		n, err := resp.Body.Read(w.readBuf)
		if n > 0 {
			if size == 0 {
				first = time.Since(start)
			}
			size += n
			if stream {
				events += bytes.Count(w.readBuf[:n], []byte("data: "))
				w.tailBuf = append(w.tailBuf, w.readBuf[:n]...)
				if len(w.tailBuf) > 64 {
					w.tailBuf = append(w.tailBuf[:0], w.tailBuf[len(w.tailBuf)-64:]...)
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			resp.Body.Close()
			w.fail(err)
			return
		}
	}
	resp.Body.Close()
	total := time.Since(start)
	switch {
	case resp.StatusCode != http.StatusOK:
		w.fail(fmt.Errorf("status %d", resp.StatusCode))
		return
	case stream && !bytes.Contains(w.tailBuf, done):
		w.fail(errors.New("stream ended without data: [DONE]: ..." + string(w.tailBuf)))
		return
	case size == 0:
		w.fail(errors.New("empty answer"))
		return
	}
	w.n++
	w.lat = append(w.lat, total)
	if stream {
		w.ttfb = append(w.ttfb, first)
	}
	w.respBytes, w.events = size, events
}

func (w *workerStats) fail(err error) {
	w.errs++
	if w.firstErr == "" {
		w.firstErr = err.Error()
	}
}

// slowResult is what the slow-streams scenario measured.
type slowResult struct {
	Streams   int           `json:"streams"`
	Completed int64         `json:"completed"`
	Errors    int64         `json:"errors"`
	FirstErr  string        `json:"first_error,omitempty"`
	MaxOpen   int64         `json:"max_open"`
	IdleRSS   int64         `json:"idle_rss_bytes"`
	PeakRSS   int64         `json:"peak_rss_bytes"` // highest VmRSS sampled while streams were open
	PerStream int64         `json:"bytes_per_stream"`
	Took      time.Duration `json:"took_ns"`
}

// holdStreams opens n streams at once against ep and reads each to its
// end, sampling pid's VmRSS every 50 ms meanwhile; the memory per open
// stream is (peak − idle) / n.
func holdStreams(ctx context.Context, ep endpoint, body []byte, n int, pid int, atPeak func()) slowResult {
	var peakOnce sync.Once
	client := newClient(n)
	defer client.CloseIdleConnections()
	r := slowResult{Streams: n}
	if m, err := readMemory(pid); err == nil {
		r.IdleRSS = m.RSS
	}
	var open, maxOpen, completed, errs atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	sampled := make(chan int64)
	go func() {
		var peak int64
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				sampled <- peak
				return
			case <-t.C:
				if m, err := readMemory(pid); err == nil && m.RSS > peak {
					peak = m.RSS
				}
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the dials over ~200 ms so the accept queue never fills.
			time.Sleep(time.Duration(i) * 200 * time.Millisecond / time.Duration(n))
			err := func() error {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
				if err != nil {
					return err
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+ep.Token)
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				if resp.StatusCode != 200 {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				if v := open.Add(1); v > maxOpen.Load() {
					maxOpen.Store(v) // racy max; fine for a report
				}
				if open.Load() == int64(n) && atPeak != nil {
					peakOnce.Do(atPeak)
				}
				defer open.Add(-1)
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					return err
				}
				if !bytes.Contains(b, done) {
					return errors.New("stream ended without data: [DONE]")
				}
				return nil
			}()
			if err != nil {
				errs.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			completed.Add(1)
		}()
	}
	wg.Wait()
	close(stop)
	r.PeakRSS = <-sampled
	r.Took = time.Since(start)
	r.Completed, r.Errors, r.MaxOpen = completed.Load(), errs.Load(), maxOpen.Load()
	if s, ok := firstErr.Load().(string); ok {
		r.FirstErr = s
	}
	if n > 0 && r.PeakRSS > r.IdleRSS {
		r.PerStream = (r.PeakRSS - r.IdleRSS) / int64(n)
	}
	return r
}
