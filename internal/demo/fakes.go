package demo

import (
	"context"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/fakes/anthropicfake"
	"github.com/sluicehq/sluice/internal/fakes/geminifake"
	"github.com/sluicehq/sluice/internal/fakes/openaifake"
)

// Upstream credentials the fakes require, so the demo providers show a
// sealed credential like real ones.
const (
	openAIKey    = "sk-demo-openai-upstream"
	anthropicKey = "sk-ant-demo-upstream"
	geminiKey    = "demo-gemini-upstream-key"
)

// behaviour is how a fake answers one request: its delays and, sometimes,
// an error status.
type behaviour struct {
	firstByte, betweenChunks time.Duration
	status                   int
	retryAfter               string
}

// profile is a fake upstream's character: its latencies and how often it
// fails.
type profile struct {
	// firstByte is the median wait for the first byte of a chat answer;
	// embeddings answer in a quarter of it.
	firstByte time.Duration
	// chunk is the median pause between stream events.
	chunk time.Duration
	// rateLimited and failed are the shares of requests answered 429 and
	// failStatus.
	rateLimited, failed float64
	failStatus          int
	// incident, when set, is an outage that comes back every incident
	// period for a twentieth of it, starting a third of a period after the
	// fake started, failing most requests, so circuit breakers open and
	// fallbacks show up in the call log.
	incident time.Duration
}

// down reports whether the upstream is in its incident, up for up.
func (p profile) down(up time.Duration) bool {
	if p.incident <= 0 {
		return false
	}
	phase := (up - p.incident/3) % p.incident
	return up >= p.incident/3 && phase < p.incident/20
}

// pick draws one request's behaviour; down makes it an incident's.
func (p profile) pick(r *rand.Rand, path string, down bool) behaviour {
	median := p.firstByte
	if strings.Contains(path, "embed") {
		median /= 4
	}
	b := behaviour{firstByte: logNormal(r, median, 0.5), betweenChunks: logNormal(r, p.chunk, 0.3)}
	failed := p.failed
	if down {
		failed = 0.7
	}
	switch x := r.Float64(); {
	case x < p.rateLimited:
		b.status, b.retryAfter = http.StatusTooManyRequests, "1"
		b.firstByte /= 4
	case x < p.rateLimited+failed:
		b.status = p.failStatus
	}
	return b
}

// logNormal draws a duration around median with the spread sigma, capped
// at ten times the median.
func logNormal(r *rand.Rand, median time.Duration, sigma float64) time.Duration {
	f := math.Exp(r.NormFloat64() * sigma)
	return time.Duration(float64(median) * min(f, 10))
}

// fakes are the demo's upstreams, served on loopback ports chosen by the
// system.
type fakes struct {
	openAI, anthropic, gemini string // base URLs as the providers take them
	servers                   []*http.Server
	wg                        sync.WaitGroup
}

// The profiles of the three fakes. OpenAI has a 45-second outage every
// fifteen minutes, the first five minutes after the start; demo-gpt then
// falls back to Anthropic.
var (
	openAIProfile = profile{firstByte: 180 * time.Millisecond, chunk: 25 * time.Millisecond,
		rateLimited: 0.03, failed: 0.015, failStatus: http.StatusInternalServerError, incident: 15 * time.Minute}
	anthropicProfile = profile{firstByte: 320 * time.Millisecond, chunk: 35 * time.Millisecond,
		rateLimited: 0.01, failed: 0.015, failStatus: 529}
	geminiProfile = profile{firstByte: 140 * time.Millisecond, chunk: 20 * time.Millisecond,
		rateLimited: 0.02, failed: 0.01, failStatus: http.StatusServiceUnavailable}
)

// startFakes serves the OpenAI, Anthropic and Gemini fakes on 127.0.0.1.
func startFakes(seed uint64) (*fakes, error) {
	f := &fakes{}
	o := openaifake.New()
	o.APIKey = openAIKey
	o.DisableRecording = true
	a := anthropicfake.New()
	a.APIKey = anthropicKey
	a.DisableRecording = true
	g := geminifake.New()
	g.APIKey = geminiKey
	g.DisableRecording = true

	// Every request scripts exactly one fault before the fake takes one,
	// so the fakes' queues stay short; under concurrency two requests may
	// swap theirs, which changes nothing since both are random draws.
	type served struct {
		h    http.Handler
		url  *string
		path string
	}
	for _, s := range []served{
		{chaos(o, openAIProfile, seed+1, func(b behaviour) {
			o.Script(openaifake.Fault{Status: b.status, RetryAfter: b.retryAfter, DelayFirstByte: b.firstByte, DelayBetweenChunks: b.betweenChunks})
		}), &f.openAI, "/v1"},
		{chaos(a, anthropicProfile, seed+2, func(b behaviour) {
			a.Script(anthropicfake.Fault{Status: b.status, RetryAfter: b.retryAfter, DelayFirstByte: b.firstByte, DelayBetweenChunks: b.betweenChunks})
		}), &f.anthropic, ""},
		{chaos(g, geminiProfile, seed+3, func(b behaviour) {
			g.Script(geminifake.Fault{Status: b.status, RetryAfter: b.retryAfter, DelayFirstByte: b.firstByte, DelayBetweenChunks: b.betweenChunks})
		}), &f.gemini, ""},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			f.close(context.Background())
			return nil, err
		}
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
		f.servers = append(f.servers, srv)
		*s.url = "http://" + ln.Addr().String() + s.path
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			_ = srv.Serve(ln) // ErrServerClosed once close is called
		}()
	}
	return f, nil
}

// chaos scripts one random behaviour per request, then lets the fake
// answer.
func chaos(h http.Handler, p profile, seed uint64, script func(behaviour)) http.Handler {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	start := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		b := p.pick(r, req.URL.Path, p.down(time.Since(start)))
		mu.Unlock()
		script(b)
		h.ServeHTTP(w, req)
	})
}

// close stops the fakes, letting answers in progress finish until ctx ends.
func (f *fakes) close(ctx context.Context) {
	for _, s := range f.servers {
		if err := s.Shutdown(ctx); err != nil {
			_ = s.Close()
		}
	}
	f.wg.Wait()
}
