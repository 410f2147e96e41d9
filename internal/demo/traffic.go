package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// scenario is one kind of call the demo applications make. The live
// traffic and the backfill draw from the same list, so the history looks
// like what follows it.
type scenario struct {
	weight   float64
	consumer string
	// endpoint is the call log's name of the API: chat, embeddings,
	// messages or prompt.
	endpoint string
	model    string
	stream   bool
}

var scenarios = []scenario{
	{22, WebApp, "chat", "demo-gpt", false},
	{16, WebApp, "chat", "demo-gpt", true},
	{7, WebApp, "chat", "demo-gemini", true},
	{6, WebApp, "messages", "demo-claude", true},
	{10, BatchJob, "chat", "demo-claude", false},
	{18, BatchJob, "embeddings", "demo-embed", false},
	{8, WebApp, "prompt", "demo-gpt", false},
	{5, WebApp, "prompt", "demo-gpt", true},
	// The web app's embeddings subscription is pending: refused with 403
	// until an operator approves it in the console.
	{3, WebApp, "embeddings", "demo-embed", false},
}

// pickScenario draws a scenario by weight.
func pickScenario(r *rand.Rand) scenario {
	var total float64
	for _, s := range scenarios {
		total += s.weight
	}
	x := r.Float64() * total
	for _, s := range scenarios {
		if x < s.weight {
			return s
		}
		x -= s.weight
	}
	return scenarios[0]
}

// Questions, documents and texts to embed the demo applications send.
var (
	questions = []string{
		"What is the difference between a process and a thread?",
		"Write a haiku about rate limits.",
		"Explain circuit breakers in distributed systems in two sentences.",
		"How do I rotate an API key without downtime?",
		"Suggest three names for a coffee shop run by robots.",
		"Translate 'the gateway is healthy' into French and German.",
		"What are good practices for retrying HTTP requests?",
		"Summarize the plot of Hamlet in one paragraph.",
		"Give me a SQL query that counts orders per customer per month.",
		"Why is my streaming response slow to start?",
		"List four ways to reduce the cost of LLM calls.",
		"Draft a polite reply declining a meeting invitation.",
	}
	documents = []string{
		"Quarterly report: revenue grew 12% year over year, driven by the enterprise plan. Churn fell to 2.1%. Support tickets rose after the March release, mostly about SSO; a fix shipped in April. Hiring is on plan; two senior engineers joined the platform team.",
		"Incident 2291: between 14:02 and 14:19 UTC the EU gateway answered 5% of requests with 502. A provider's regional endpoint was degraded; circuit breakers opened after five failures and traffic fell back to the secondary provider. No data was lost.",
		"Release notes 3.4: prompt APIs now validate variables against a JSON Schema before any upstream call, the log explorer draws each call's waterfall, and consumer keys can be rotated without downtime.",
		"Customer feedback: the onboarding is clear and the SDK examples work as shown. Several users asked for per-team budgets and for exporting the call log to their data warehouse.",
	}
	passages = []string{
		"How to reset a password", "Pricing for the enterprise plan", "Data retention policy",
		"Setting up single sign-on", "Rate limits and quotas", "Exporting invoices", "Troubleshooting webhooks",
	}
	audiences = []string{"engineers", "executives", "customers"}
)

// Traffic sends the demo applications' calls to a gateway.
type Traffic struct {
	// URL is the gateway's base URL, e.g. http://127.0.0.1:8080.
	URL string
	// Keys are the consumers' keys by consumer name.
	Keys map[string]Key
	// Rate is the mean number of calls per second.
	Rate float64
	// Client sends the calls; nil uses a client with a 60 s timeout.
	Client *http.Client

	sent, ok atomic.Int64
}

// Counts returns how many calls were sent and how many were answered with
// a 2xx status (and, for streams, read to the end).
func (t *Traffic) Counts() (sent, ok int64) { return t.sent.Load(), t.ok.Load() }

// Run sends calls at random intervals averaging 1/Rate seconds, each in
// its own goroutine (at most 32 at once), until ctx ends; it returns once
// the calls in flight have returned.
func (t *Traffic) Run(ctx context.Context, seed uint64) {
	if t.Rate <= 0 {
		return
	}
	if t.Client == nil {
		t.Client = &http.Client{Timeout: 60 * time.Second}
	}
	r := rand.New(rand.NewPCG(seed, seed^0x7aff1c))
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		wait := time.Duration(r.ExpFloat64() / t.Rate * float64(time.Second))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		select {
		case sem <- struct{}{}:
		default:
			continue // the gateway is slow: skip rather than pile up
		}
		sc, callSeed := pickScenario(r), r.Uint64()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.Call(ctx, sc, rand.New(rand.NewPCG(callSeed, 1)))
		}()
	}
}

// Call makes one call of scenario sc and reports whether it succeeded.
func (t *Traffic) Call(ctx context.Context, sc scenario, r *rand.Rand) bool {
	t.sent.Add(1)
	path, body := request(sc, r)
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(t.URL, "/")+path, bytes.NewReader(b))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	key := t.Keys[sc.consumer].Token
	if sc.endpoint == "messages" {
		// As Anthropic's SDKs send it.
		req.Header.Set("x-api-key", key)
		req.Header.Set("anthropic-version", "2023-06-01")
	} else {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("User-Agent", "sluice-demo/"+sc.consumer)
	resp, err := t.Client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	good := resp.StatusCode/100 == 2
	if sc.stream && good {
		// Read the stream event by event, as an SDK would; an error event
		// after the 200 is a failure.
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "event: error") || strings.HasPrefix(line, `data: {"error"`) {
				good = false
			}
		}
		good = good && sc.Err() == nil
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	if good {
		t.ok.Add(1)
	}
	return good
}

// request is the path and JSON body of one call of sc.
func request(sc scenario, r *rand.Rand) (string, any) {
	q := questions[r.IntN(len(questions))]
	msgs := []map[string]string{{"role": "user", "content": q}}
	switch sc.endpoint {
	case "embeddings":
		n := 1 + r.IntN(4)
		in := make([]string, n)
		for i := range in {
			in[i] = passages[r.IntN(len(passages))]
		}
		return "/v1/embeddings", map[string]any{"model": sc.model, "input": in}
	case "messages":
		return "/v1/messages", map[string]any{"model": sc.model, "max_tokens": 300, "stream": sc.stream, "messages": msgs}
	case "prompt":
		return "/v1/prompts/" + PromptSlug, map[string]any{"stream": sc.stream, "variables": map[string]any{
			"text": documents[r.IntN(len(documents))], "audience": audiences[r.IntN(len(audiences))]}}
	}
	body := map[string]any{"model": sc.model, "stream": sc.stream,
		"messages": append([]map[string]string{{"role": "system", "content": "You are a concise assistant."}}, msgs...)}
	if sc.stream {
		body["stream_options"] = map[string]any{"include_usage": true}
	}
	return "/v1/chat/completions", body
}
