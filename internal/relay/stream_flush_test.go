package relay_test

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/internal/relay"
)

func chunk(model, word string) string {
	return fmt.Sprintf(`{"id":"c1","object":"chat.completion.chunk","created":1,"model":%q,"choices":[{"index":0,"delta":{"content":%q}}]}`, model, word)
}

// TestStreamEventsGoOutBeforeTheNextUpstreamRead: the relay batches its
// flushes, but an event the upstream sent reaches the client while the
// upstream holds back the next one (a flush waiting for the next event
// would deadlock here). Events the upstream sent in one write all arrive,
// each with the public model name.
func TestStreamEventsGoOutBeforeTheNextUpstreamRead(t *testing.T) {
	u := newUpstreams(t)
	next, quit := make(chan struct{}), make(chan struct{})
	up := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for i := range 3 {
			fmt.Fprintf(w, "data: %s\n\n", chunk("up-model", fmt.Sprint("w", i)))
			fl.Flush()
			select {
			case <-next:
			case <-quit:
				return
			}
		}
		// Several events (and an escaped model name) in one write.
		var b strings.Builder
		for i := 3; i < 6; i++ {
			fmt.Fprintf(&b, "data: %s\n\n", chunk(`up "quoted" model`, fmt.Sprint("w", i)))
		}
		b.WriteString("data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":6,\"total_tokens\":9}}\n\n")
		b.WriteString("data: [DONE]\n\n")
		fmt.Fprint(w, b.String())
	}))
	g := newGateway(t, relay.New(relay.Config{}), u.targetAt(t, "up", "openai", up+"/v1", 0))
	t.Cleanup(func() { close(quit) }) // before the servers close, even on failure

	resp, err := http.Post(g.url+"/v1/chat/completions", "application/json", strings.NewReader(chatBody("hi", true, "")))
	require.NoError(t, err)
	defer resp.Body.Close()
	lines := make(chan string)
	go func() {
		defer close(lines)
		br := bufio.NewReader(resp.Body)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if d, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
				lines <- d
			}
		}
	}()
	read := func() string {
		select {
		case d := <-lines:
			return d
		case <-time.After(5 * time.Second):
			t.Fatal("an event the upstream sent did not reach the client")
			return ""
		}
	}
	var got []string
	for i := range 3 {
		d := read()
		assert.Equal(t, fmt.Sprint("w", i), gjson.Get(d, "choices.0.delta.content").String(), d)
		got = append(got, d)
		next <- struct{}{}
	}
	for d := range lines {
		got = append(got, d)
	}
	require.Len(t, got, 7, "six chunks and [DONE]; the usage chunk the client did not ask for is hidden")
	for i, d := range got[:6] {
		assert.Equal(t, publicModel, gjson.Get(d, "model").String(), d)
		assert.Equal(t, chunk(publicModel, fmt.Sprint("w", i)), d, "only the model changes")
	}
	assert.Equal(t, "[DONE]", got[6])
	res := g.last(t)
	assert.Equal(t, 200, res.Status)
	assert.Equal(t, 9, res.Usage.TotalTokens)
}
