package admin

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluicehq/sluice/internal/dbtest"
	"github.com/sluicehq/sluice/migrations"
)

type countingNotifier struct{ n atomic.Int64 }

func (c *countingNotifier) Changed(context.Context) error { c.n.Add(1); return nil }

func migratedStores(t *testing.T, kind string) (*Stores, *countingNotifier) {
	t.Helper()
	d, _ := dbtest.NewDatabase(t, kind)
	h := dbtest.OpenURL(t, d)
	m, err := migrations.New(h, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := &countingNotifier{}
	return NewStores(h.Gorm, n, nil), n
}

func TestSubscriptionsStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		s, notes := migratedStores(t, kind)
		sys := Actor{Email: "test"}
		teamA, err := s.Teams.Create(ctx, sys, "A")
		if err != nil {
			t.Fatal(err)
		}
		teamB, _ := s.Teams.Create(ctx, sys, "B")
		manual := &Service{Slug: "manual", Name: "Manual", TeamID: teamA.ID, Approval: ApprovalManual}
		auto := &Service{Slug: "auto", Name: "Auto", TeamID: teamA.ID, Approval: ApprovalAuto}
		for _, svc := range []*Service{manual, auto} {
			if err := s.Services.Create(ctx, sys, svc, nil); err != nil {
				t.Fatal(err)
			}
		}
		// The consumer's team need not own the service.
		con := &Consumer{Name: "app", TeamID: teamB.ID}
		if err := s.Consumers.Create(ctx, sys, con); err != nil {
			t.Fatal(err)
		}

		if _, _, err := s.Subscriptions.Request(ctx, con.ID, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown slug: %v", err)
		}
		if _, _, err := s.Subscriptions.Request(ctx, 999, "manual"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown consumer: %v", err)
		}

		before := notes.n.Load()
		p, created, err := s.Subscriptions.Request(ctx, con.ID, "manual")
		if err != nil || !created || p.Status != StatusPending || p.DecidedAt != nil {
			t.Fatalf("manual Request = %+v, %v, %v", p, created, err)
		}
		if notes.n.Load() == before {
			t.Fatal("Request did not notify")
		}
		again, created, err := s.Subscriptions.Request(ctx, con.ID, "manual")
		if err != nil || created || again.ID != p.ID || again.Status != StatusPending {
			t.Fatalf("second Request = %+v, %v, %v", again, created, err)
		}

		// Concurrent requests make one subscription.
		var wg sync.WaitGroup
		ids := make([]uint64, 4)
		createdN := atomic.Int64{}
		for i := range ids {
			wg.Go(func() {
				sub, c, err := s.Subscriptions.Request(ctx, con.ID, "auto")
				if err != nil {
					t.Error(err)
					return
				}
				if c {
					createdN.Add(1)
				}
				ids[i] = sub.ID
			})
		}
		wg.Wait()
		if createdN.Load() != 1 || ids[0] != ids[1] || ids[1] != ids[2] || ids[2] != ids[3] {
			t.Fatalf("concurrent Requests: created %d, ids %v", createdN.Load(), ids)
		}
		a, err := s.Subscriptions.Get(ctx, ids[0])
		if err != nil || a.Status != StatusApproved || a.DecidedAt == nil || len(a.Events) != 2 ||
			a.Events[1].ActorEmail != AutoApprovalActor || a.Events[1].ActorID != nil || a.Events[1].ToStatus != StatusApproved {
			t.Fatalf("auto subscription = %+v, %v", a, err)
		}

		// Transitions.
		uid := uint64(7)
		admin := Actor{ID: &uid, Email: "boss@example.com"}
		for _, c := range []struct {
			decision string
			id       uint64
			ok       bool
			status   string
		}{
			{DecisionRevoke, p.ID, false, StatusPending},
			{DecisionApprove, p.ID, true, StatusApproved},
			{DecisionApprove, p.ID, false, StatusApproved},
			{DecisionReject, p.ID, false, StatusApproved},
			{DecisionRevoke, p.ID, true, StatusRevoked},
			{DecisionRevoke, p.ID, false, StatusRevoked},
			{DecisionApprove, p.ID, false, StatusRevoked},
		} {
			got, err := s.Subscriptions.Decide(ctx, admin, c.id, c.decision, "because")
			if c.ok {
				if err != nil || got.Status != c.status || got.DecidedBy == nil || *got.DecidedBy != uid || got.Reason != "because" {
					t.Fatalf("%s: %+v, %v", c.decision, got, err)
				}
				last := got.Events[len(got.Events)-1]
				if last.ActorEmail != admin.Email || *last.ActorID != uid || last.Reason != "because" || last.ToStatus != c.status {
					t.Fatalf("%s: last event %+v", c.decision, last)
				}
			} else if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), c.status) {
				t.Fatalf("%s of a %s subscription: %v", c.decision, c.status, err)
			}
		}
		if _, err := s.Subscriptions.Decide(ctx, admin, 999, DecisionApprove, ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("decide unknown: %v", err)
		}

		views, err := s.Subscriptions.ListForConsumer(ctx, con.ID)
		if err != nil || len(views) != 2 || views[0].ServiceSlug != "manual" || views[0].Status != StatusRevoked ||
			views[1].ServiceName != "Auto" || views[1].Status != StatusApproved {
			t.Fatalf("ListForConsumer = %+v, %v", views, err)
		}
		list, total, err := s.Subscriptions.List(ctx, SubscriptionFilter{Scope: Scope{Teams: []uint64{teamB.ID}}, Status: StatusApproved})
		if err != nil || total != 1 || list[0].ConsumerName != "app" {
			t.Fatalf("List = %+v, %d, %v", list, total, err)
		}
		if _, total, _ := s.Subscriptions.List(ctx, SubscriptionFilter{Scope: Scope{}}); total != 0 {
			t.Fatalf("empty scope sees %d", total)
		}

		// Deleting a team that owns things is refused.
		if err := s.Teams.Delete(ctx, sys, teamA.ID); !errors.Is(err, ErrConflict) {
			t.Fatalf("delete team with services: %v", err)
		}
	})
}
