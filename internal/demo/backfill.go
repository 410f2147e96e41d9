package demo

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/calllog"
)

// defaultBackfillPerHour is the history's mean number of calls per hour
// (about 30,000 over a day, written in a few seconds on SQLite).
const defaultBackfillPerHour = 2000

// backfillOnce writes span's worth of call history, ending a minute ago
// (so it does not mix with the live calls that follow), when the
// call log holds no call of the demo's consumers yet (the demo's first
// start); it returns how many records it wrote. The records go through
// internal/calllog's writer with their past start times, so the per-minute,
// hourly and daily rollups the analytics read are filled as for live calls.
// The writer has its own spill directory and no metrics: the history is
// not traffic this process served.
func backfillOnce(ctx context.Context, d Deps, s *Seeded, span time.Duration, perHour float64) (int, error) {
	ids := []uint64{s.Consumers[WebApp], s.Consumers[BatchJob]}
	var n int64
	if err := d.DB.Gorm.WithContext(ctx).Table("call_logs").Where("consumer_id IN ?", ids).Limit(1).Count(&n).Error; err != nil {
		return 0, err
	}
	if n > 0 {
		return 0, nil
	}
	now := d.Clock.Now()
	recs := history(s, now.Add(-span), now.Add(-time.Minute), perHour, uint64(now.UnixNano()))
	if len(recs) == 0 {
		return 0, nil
	}
	l, err := calllog.New(d.DB, calllog.Options{SpillDir: spillDir(d.DataDir), Logger: d.Logger, Clock: d.Clock,
		QueueSize: len(recs) + 1, FlushInterval: 50 * time.Millisecond})
	if err != nil {
		return 0, err
	}
	for _, r := range recs {
		l.Log(r)
	}
	if err := l.Close(ctx); err != nil {
		return 0, err
	}
	return len(recs), nil
}

// history makes the records of the calls the demo applications would have
// made in [from, to): perHour on average, fewer at night (UTC) and more in
// the afternoon, with two upstream incidents.
func history(s *Seeded, from, to time.Time, perHour float64, seed uint64) []*calllog.Record {
	r := rand.New(rand.NewPCG(seed, seed^0xbacf111))
	span := to.Sub(from)
	// Two incidents: the OpenAI fake fails for a while, its circuits open
	// and demo-gpt falls back to Anthropic.
	incidents := [][2]time.Time{
		{from.Add(span * 29 / 100), from.Add(span*29/100 + 25*time.Minute)},
		{from.Add(span * 3 / 4), from.Add(span*3/4 + 12*time.Minute)},
	}
	var out []*calllog.Record
	for m := from.Truncate(time.Minute); m.Before(to); m = m.Add(time.Minute) {
		h := float64(m.UTC().Hour()) + float64(m.Minute())/60
		daily := 0.3 + 0.7*(0.5-0.5*math.Cos(2*math.Pi*(h-4)/24)) // lowest at 04:00, highest at 16:00
		mean := perHour / 60 * daily * (0.8 + 0.4*r.Float64())
		for k := poisson(r, mean); k > 0; k-- {
			at := m.Add(time.Duration(r.Int64N(int64(time.Minute))))
			if at.Before(from) || !at.Before(to) {
				continue
			}
			incident := false
			for _, in := range incidents {
				incident = incident || (!at.Before(in[0]) && at.Before(in[1]))
			}
			out = append(out, pastCall(s, pickScenario(r), at, incident, r))
		}
	}
	return out
}

// poisson draws a Poisson-distributed count with the given mean (Knuth's
// method; the means here are small).
func poisson(r *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// profiles are the fakes' profiles by provider name.
var profiles = map[string]profile{"demo-openai": openAIProfile, "demo-anthropic": anthropicProfile, "demo-gemini": geminiProfile}

// pastCall is the record of one call of sc at at, as the gateway would
// have written it.
func pastCall(s *Seeded, sc scenario, at time.Time, incident bool, r *rand.Rand) *calllog.Record {
	rec := &calllog.Record{
		RequestID: "req_" + randomHex(r, 12), StartedAt: at.UTC(), ConsumerID: s.Consumers[sc.consumer],
		KeyID: s.Keys[sc.consumer].ID, TeamID: s.TeamID, Endpoint: sc.endpoint, Model: sc.model, Stream: sc.stream,
		ClientAddr: "127.0.0.1", Auth: micros(r, 8, 40),
	}
	if r.IntN(50) == 0 {
		rec.Auth = micros(r, 100, 300) // a key not in the verifier's cache yet
	}
	body, in, out := callShape(sc, r)
	rec.BytesIn = int64(len(body))
	service := ChatService
	if sc.endpoint == "embeddings" {
		service = EmbedService
	}
	if sc.consumer == WebApp && service == EmbedService {
		// The pending subscription: refused before any upstream call.
		rec.Status = http.StatusForbidden
		rec.Error = fmt.Sprintf("subscription to service %q is pending approval; ask the service's team to approve it", EmbedService)
		rec.Total = rec.Auth + micros(r, 10, 60)
		rec.BytesOut = 180
		return rec
	}
	rec.ServiceID = s.Services[service]
	if sc.endpoint == "prompt" {
		rec.PromptSlug, rec.PromptVersion = PromptSlug, s.PromptVersion
	}
	rec.Routing = micros(r, 10, 60)
	if sc.endpoint == "prompt" {
		rec.Routing += micros(r, 40, 120) // rendering the template
	}
	m := s.Models[sc.model]
	targets := slices.Clone(m.Targets)
	slices.SortStableFunc(targets, func(a, b admin.TargetView) int { return a.Priority - b.Priority })
	start := rec.Auth + rec.Routing + micros(r, 20, 80)
	var last admin.TargetView
	ok := false
	for i := 0; i < 3 && len(targets) > 0 && !ok; i++ {
		t := targets[0]
		down := incident && t.ProviderName == "demo-openai"
		if down && r.Float64() < 0.6 {
			// Its circuit is open: skipped without a try.
			targets = targets[1:]
			continue
		}
		last = t
		b := profiles[t.ProviderName].pick(r, sc.endpoint, down)
		// As the relay names it: the target, provider/upstream model.
		a := calllog.Attempt{Provider: t.ProviderName + "/" + t.UpstreamModel, Start: start, TTFB: b.firstByte}
		if i == 0 && r.IntN(20) == 0 {
			a.Connect = micros(r, 150, 600) // a new connection to the upstream
		}
		if b.status != 0 {
			a.Status, a.Error, a.Transfer, a.Retried = b.status, upstreamError(b.status), micros(r, 50, 150), true
			rec.Attempts = append(rec.Attempts, a)
			start += a.TTFB + a.Transfer + time.Duration(50+r.IntN(100))*time.Millisecond // backoff
			if len(targets) > 1 {
				targets = targets[1:] // the fallback target
			}
			continue
		}
		a.Status, ok = http.StatusOK, true
		if sc.stream {
			a.Transfer = time.Duration(out+3) * b.betweenChunks
		} else {
			a.Transfer = micros(r, 40, 200)
		}
		rec.Attempts = append(rec.Attempts, a)
	}
	switch {
	case ok:
		rec.Status = http.StatusOK
		rec.Provider, rec.UpstreamModel = last.ProviderName, last.UpstreamModel
		rec.TokensIn, rec.TokensOut = int64(in), int64(out)
		rec.Cost = (float64(in)*m.InputPrice + float64(out)*m.OutputPrice) / 1e6
		a := rec.Attempts[len(rec.Attempts)-1]
		rec.Total = a.Start + a.TTFB + a.Transfer + micros(r, 30, 90)
		if sc.stream {
			rec.TTFT = a.Start + a.TTFB + micros(r, 100, 400) + 2*a.Transfer/time.Duration(out+3)
			rec.BytesOut = int64(180 * (out + 4))
		} else {
			rec.TTFT = rec.Total - micros(r, 20, 60)
			rec.BytesOut = int64(320 + 6*out)
			if sc.endpoint == "embeddings" {
				rec.BytesOut = int64(250 + 180*strings.Count(string(body), `",`) + 180)
			}
		}
	case len(rec.Attempts) == 0:
		rec.Status = http.StatusServiceUnavailable
		rec.Error = fmt.Sprintf("no target could be tried for model %q: all are disabled or their circuits are open; retry later", sc.model)
		rec.Total = start
		rec.BytesOut = 185
	default:
		a := rec.Attempts[len(rec.Attempts)-1]
		rec.Attempts[len(rec.Attempts)-1].Retried = false
		rec.Provider, rec.UpstreamModel = last.ProviderName, last.UpstreamModel
		rec.Status, rec.Error = http.StatusBadGateway, a.Error
		if a.Status == http.StatusTooManyRequests {
			rec.Status = http.StatusTooManyRequests
		}
		rec.Total = a.Start + a.TTFB + a.Transfer + micros(r, 30, 90)
		rec.BytesOut = 220
	}
	return rec
}

// callShape is the request body of a call of sc and the tokens the fakes
// would count for it: they count words, and answer with an echo of the
// last user message.
func callShape(sc scenario, r *rand.Rand) (body []byte, in, out int) {
	_, req := request(sc, r)
	body, _ = json.Marshal(req)
	m := req.(map[string]any)
	switch sc.endpoint {
	case "embeddings":
		for _, s := range m["input"].([]string) {
			in += words(s)
		}
		return body, in, 0
	case "prompt":
		v := m["variables"].(map[string]any)
		user := "Summarize in at most three sentences:\n" + v["text"].(string)
		in = words("You write short, plain summaries for "+v["audience"].(string)+".") + words(user)
		return body, in, words(user) + 1
	}
	var last string
	for _, msg := range m["messages"].([]map[string]string) {
		in += words(msg["content"])
		last = msg["content"]
	}
	return body, in, words(last) + 1
}

func words(s string) int { return len(strings.Fields(s)) }

// upstreamError is the relay's message for an upstream's error status.
func upstreamError(status int) string {
	msg := map[int]string{
		http.StatusTooManyRequests:     "Rate limit reached for requests. Please try again later.",
		http.StatusInternalServerError: "The server had an error while processing your request. Sorry about that!",
		http.StatusServiceUnavailable:  "The model is overloaded. Please try again later.",
		529:                            "Overloaded",
	}[status]
	return fmt.Sprintf("upstream status %d: %s", status, msg)
}

// micros is a random duration from lo to hi microseconds.
func micros(r *rand.Rand, lo, hi int) time.Duration {
	return time.Duration(lo+r.IntN(hi-lo+1)) * time.Microsecond
}

func randomHex(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return hex.EncodeToString(b)
}
