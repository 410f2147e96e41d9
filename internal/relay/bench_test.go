package relay_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/fakes/openaifake"
	"github.com/sluicehq/sluice/internal/relay"
)

// fixedReply has 18 words: a stream of 20 chunks (role, 18 words, finish)
// plus the usage chunk and [DONE].
var fixedReply = strings.TrimSpace(strings.Repeat("lorem ipsum dolor ", 6))

func benchSetup(b *testing.B) (*relay.Relay, []relay.Target, *http.Client, string) {
	u := newUpstreams(b)
	f := openaifake.New()
	f.FixedReply = fixedReply
	f.DisableRecording = true
	url := serve(b, f)
	t := u.targetAt(b, "bench", "openai", url+"/v1", 0)
	r := relay.New(relay.Config{Logger: slog.New(slog.DiscardHandler)})
	return r, []relay.Target{t}, u.client, url
}

func benchRelay(b *testing.B, stream bool) {
	r, targets, _, _ := benchSetup(b)
	body := []byte(chatBody("hello bench", stream, ""))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		res := r.Chat(ctx, w, &relay.Request{Body: body, Model: publicModel, Stream: stream, Targets: targets})
		if res.Status != 200 {
			b.Fatalf("status %d: %s", res.Status, w.Body.String())
		}
	}
}

// BenchmarkPassthroughChat is a non-streamed chat completion through the
// relay to an OpenAI fake over loopback HTTP.
func BenchmarkPassthroughChat(b *testing.B) { benchRelay(b, false) }

// BenchmarkPassthroughStream is a streamed one (20 chunks).
func BenchmarkPassthroughStream(b *testing.B) { benchRelay(b, true) }

// benchDirect is the same call made straight to the fake with the same
// client: the baseline the relay's overhead is measured against.
func benchDirect(b *testing.B, stream bool) {
	_, _, client, url := benchSetup(b)
	body := []byte(strings.Replace(chatBody("hello bench", stream, ""), publicModel, "up-model", 1))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Post(url+"/v1/chat/completions", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}

func BenchmarkDirectChat(b *testing.B)   { benchDirect(b, false) }
func BenchmarkDirectStream(b *testing.B) { benchDirect(b, true) }
