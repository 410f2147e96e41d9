package access

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/apierr"
	"github.com/sluicehq/sluice/prompts"
)

func live(slug string, service uint64, model string, version int) prompts.Live {
	return prompts.Live{
		Prompt: prompts.Prompt{ID: uint64(version), Slug: slug, ServiceID: service, PublishedVersion: version},
		Version: prompts.Version{Version: version, Model: model, Messages: []prompts.Message{{Role: "user", Content: "{{q}}"}},
			VariablesSchema: json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"}}}`)},
	}
}

func TestPrompts(t *testing.T) {
	d := testData()
	broken := live("broken", 10, "gpt-4o", 1)
	broken.Version.VariablesSchema = json.RawMessage(`{"type":"array"}`)
	d.Prompts = []prompts.Live{live("ask", 10, "gpt-4o", 3), live("premium-ask", 11, "claude", 1),
		live("orphaned", 99, "gpt-4o", 1), live("gone", 10, "deleted-model", 2), broken}
	s := Build(d, time.Now())

	cases := []struct {
		slug     string
		consumer uint64
		status   int
		msg      string
	}{
		{"ask", 1, 200, ""},
		{"nope", 1, 404, `prompt "nope" does not exist or is not published`},
		{"orphaned", 1, 404, "not published"},
		{"broken", 1, 404, "not published"},
		{"premium-ask", 1, 403, `service "premium" is pending approval`},
		{"ask", 2, 403, `service "chat" was rejected`},
		{"ask", 3, 403, `no subscription covers prompt "ask"; subscribe with POST /v1/subscriptions {"service":"chat"}`},
		{"gone", 1, 503, `model "deleted-model"`},
	}
	for _, c := range cases {
		t.Run(c.slug, func(t *testing.T) {
			p, err := s.Prompt(c.slug)
			var g Grant
			if err == nil {
				g, err = s.AuthorizePrompt(c.consumer, p)
			}
			if c.status == 200 {
				if err != nil || g.Service.Slug != "chat" || g.Model.Name != "gpt-4o" || p.Version != 3 || g.Subscription.ID != 100 {
					t.Fatalf("grant %+v, %v", g, err)
				}
				return
			}
			e := apierr.From(err)
			if e.Status != c.status || !strings.Contains(e.Message, c.msg) {
				t.Fatalf("%d %q, want %d %q", e.Status, e.Message, c.status, c.msg)
			}
		})
	}
}
