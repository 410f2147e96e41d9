package access

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/apierr"
)

func testData() Data {
	gpt := admin.Model{ID: 1, Name: "gpt-4o"}
	claude := admin.Model{ID: 2, Name: "claude"}
	gem := admin.Model{ID: 3, Name: "gemini"}
	orphan := admin.Model{ID: 4, Name: "orphan"}
	return Data{
		Version: 7,
		Models:  []admin.Model{gpt, claude, gem, orphan},
		Services: []admin.Service{
			{ID: 10, Slug: "chat", Models: []admin.Model{gpt, claude}},
			{ID: 11, Slug: "premium", Models: []admin.Model{claude, gem}},
			{ID: 12, Slug: "vision", Models: []admin.Model{gem}},
		},
		Subscriptions: []admin.Subscription{
			{ID: 100, ConsumerID: 1, ServiceID: 10, Status: admin.StatusApproved},
			{ID: 101, ConsumerID: 1, ServiceID: 11, Status: admin.StatusPending},
			{ID: 102, ConsumerID: 2, ServiceID: 10, Status: admin.StatusRejected},
			{ID: 103, ConsumerID: 2, ServiceID: 12, Status: admin.StatusRevoked},
			{ID: 104, ConsumerID: 3, ServiceID: 11, Status: admin.StatusRevoked},
			{ID: 105, ConsumerID: 3, ServiceID: 12, Status: admin.StatusPending},
		},
		Keys: []admin.ConsumerKey{{ID: "key_a", ConsumerID: 1}, {ID: "key_b", ConsumerID: 2, RevokedAt: &time.Time{}}},
	}
}

func TestAuthorize(t *testing.T) {
	s := Build(testData(), time.Now())
	cases := []struct {
		name     string
		consumer uint64
		model    string
		status   int
		code     string
		msg      string
		service  string
	}{
		{"approved", 1, "gpt-4o", 0, "", "", "chat"},
		{"approved through one of two services", 1, "claude", 0, "", "", "chat"},
		{"pending", 1, "gemini", 403, "subscription_pending", `service "premium" is pending approval`, ""},
		{"rejected", 2, "gpt-4o", 403, "subscription_rejected", `service "chat" was rejected`, ""},
		{"revoked", 2, "gemini", 403, "subscription_revoked", `service "vision" was revoked`, ""},
		{"pending beats revoked", 3, "gemini", 403, "subscription_pending", `"vision" is pending`, ""},
		{"none", 4, "gpt-4o", 403, "subscription_none", `no subscription covers model "gpt-4o"; subscribe with POST /v1/subscriptions {"service":"chat"}`, ""},
		{"model in no service", 1, "orphan", 403, "subscription_none", "no service offers it yet", ""},
		{"unknown model", 1, "gpt-5", 404, "model_not_found", `model "gpt-5" does not exist`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := s.Authorize(tc.consumer, tc.model)
			if tc.status == 0 {
				if err != nil || g.Service.Slug != tc.service || g.Model.Name != tc.model || g.Subscription.LimitKey == "" {
					t.Fatalf("grant %+v, err %v", g, err)
				}
				return
			}
			var e *apierr.Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("err = %#v, want %d %s %q", err, tc.status, tc.code, tc.msg)
			}
		})
	}
}

func TestCallableModels(t *testing.T) {
	s := Build(testData(), time.Now())
	names := func(c uint64) string {
		var out []string
		for _, m := range s.CallableModels(c) {
			out = append(out, m.Name)
		}
		return strings.Join(out, ",")
	}
	if got := names(1); got != "claude,gpt-4o" {
		t.Fatalf("consumer 1 may call %q", got)
	}
	if got := names(2); got != "" {
		t.Fatalf("consumer 2 may call %q", got)
	}
	if k, ok := s.Key("key_b"); !ok || !k.Revoked {
		t.Fatal("revoked key not marked")
	}
}

func BenchmarkAuthorize(b *testing.B) {
	s := Build(testData(), time.Now())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Authorize(1, "claude"); err != nil {
			b.Fatal(err)
		}
	}
}
