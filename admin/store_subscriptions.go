package admin

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// Subscriptions stores subscriptions and their decision history.
type Subscriptions struct{ *store }

// SubscriptionView is a subscription with the names of its service and
// consumer, the teams owning them, and (from Get) its history.
type SubscriptionView struct {
	Subscription
	ServiceSlug    string              `json:"service_slug"`
	ServiceName    string              `json:"service_name"`
	ServiceTeamID  uint64              `json:"service_team_id"`
	ConsumerName   string              `json:"consumer_name"`
	ConsumerTeamID uint64              `json:"consumer_team_id"`
	Events         []SubscriptionEvent `json:"events,omitempty" gorm:"-"`
}

// SubscriptionFilter selects subscriptions. Scope matches the team of the
// service or of the consumer.
type SubscriptionFilter struct {
	Scope      Scope
	Status     string
	ServiceID  uint64
	ConsumerID uint64
	Page       Page
}

// Decisions an admin can take, with the state each one requires.
const (
	DecisionApprove = "approve"
	DecisionReject  = "reject"
	DecisionRevoke  = "revoke"
)

// transitions maps a decision to the status it requires and the one it sets.
var transitions = map[string]struct{ from, to string }{
	DecisionApprove: {StatusPending, StatusApproved},
	DecisionReject:  {StatusPending, StatusRejected},
	DecisionRevoke:  {StatusApproved, StatusRevoked},
}

func (s *Subscriptions) views(tx *gorm.DB) *gorm.DB {
	return tx.Table("subscriptions").
		Joins("JOIN services ON services.id = subscriptions.service_id").
		Joins("JOIN consumers ON consumers.id = subscriptions.consumer_id")
}

const viewColumns = "subscriptions.*, services.slug AS service_slug, services.name AS service_name, " +
	"services.team_id AS service_team_id, consumers.name AS consumer_name, consumers.team_id AS consumer_team_id"

// List returns one page of subscriptions, newest first.
func (s *Subscriptions) List(ctx context.Context, f SubscriptionFilter) ([]SubscriptionView, int64, error) {
	q := s.views(s.db.WithContext(ctx))
	if !f.Scope.All {
		if len(f.Scope.Teams) == 0 {
			q = q.Where("1 = 0")
		} else {
			q = q.Where("(services.team_id IN ? OR consumers.team_id IN ?)", f.Scope.Teams, f.Scope.Teams)
		}
	}
	if f.Status != "" {
		q = q.Where("subscriptions.status = ?", f.Status)
	}
	if f.ServiceID != 0 {
		q = q.Where("subscriptions.service_id = ?", f.ServiceID)
	}
	if f.ConsumerID != 0 {
		q = q.Where("subscriptions.consumer_id = ?", f.ConsumerID)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	out := []SubscriptionView{}
	if total == 0 {
		return out, 0, nil
	}
	err := f.Page.apply(q.Session(&gorm.Session{})).Select(viewColumns).Order("subscriptions.id DESC").Scan(&out).Error
	return out, total, err
}

// Get returns a subscription with its history, oldest event first.
func (s *Subscriptions) Get(ctx context.Context, id uint64) (*SubscriptionView, error) {
	return s.get(s.db.WithContext(ctx), id)
}

func (s *Subscriptions) get(tx *gorm.DB, id uint64) (*SubscriptionView, error) {
	var out []SubscriptionView
	if err := s.views(tx).Select(viewColumns).Where("subscriptions.id = ?", id).Scan(&out).Error; err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, notFound("subscription", id)
	}
	v := &out[0]
	v.Events = []SubscriptionEvent{}
	err := tx.Where("subscription_id = ?", id).Order("id").Find(&v.Events).Error
	return v, err
}

// Decide applies an approve, reject or revoke decision with its reason,
// recording who took it on the subscription and in its history. A decision
// the current status does not allow is an ErrConflict naming that status.
// The caller checks that the actor may decide for the service's team.
func (s *Subscriptions) Decide(ctx context.Context, a Actor, id uint64, decision, reason string) (*SubscriptionView, error) {
	tr, ok := transitions[decision]
	if !ok {
		return nil, fmt.Errorf("unknown decision %q", decision)
	}
	var after *SubscriptionView
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, err := s.get(tx, id)
		if err != nil {
			return err
		}
		if before.Status != tr.from {
			return &ConflictError{Message: fmt.Sprintf("subscription %d is %s; only a %s subscription can be %s", id, before.Status, tr.from, tr.to)}
		}
		now := s.now()
		// The status condition makes two concurrent decisions safe: one wins.
		res := tx.Model(&Subscription{}).Where("id = ? AND status = ?", id, tr.from).Updates(map[string]any{
			"status": tr.to, "reason": reason, "decided_by": a.ID, "decided_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return &ConflictError{Message: fmt.Sprintf("subscription %d was decided by someone else a moment ago; reload it", id)}
		}
		ev := SubscriptionEvent{SubscriptionID: id, FromStatus: tr.from, ToStatus: tr.to, ActorID: a.ID, ActorEmail: a.Email, Reason: reason, CreatedAt: now}
		if err := tx.Create(&ev).Error; err != nil {
			return err
		}
		if after, err = s.get(tx, id); err != nil {
			return err
		}
		before.Events, after.Events = nil, nil
		if err := audit(tx, a, decision, "subscription", id, &after.ServiceTeamID, before, after); err != nil {
			return err
		}
		after.Events, err = s.events(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return after, s.changed(ctx)
}

func (s *Subscriptions) events(tx *gorm.DB, id uint64) ([]SubscriptionEvent, error) {
	ev := []SubscriptionEvent{}
	err := tx.Where("subscription_id = ?", id).Order("id").Find(&ev).Error
	return ev, err
}

// AutoApprovalActor is the actor recorded when an auto-approval service
// approves a subscription on its own.
const AutoApprovalActor = "auto-approval"

// Request is a consumer asking to subscribe to the service with slug: an
// existing subscription is returned as it is (created=false; a rejected or
// revoked one stays so); a new one is approved at once for an auto-approval
// service, else pending. The consumer's team need not own the service. An
// unknown slug or consumer is ErrNotFound.
func (s *Subscriptions) Request(ctx context.Context, consumerID uint64, serviceSlug string) (*Subscription, bool, error) {
	db := s.db.WithContext(ctx)
	var svc Service
	if err := db.Where("slug = ?", serviceSlug).Take(&svc).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, notFound("service", serviceSlug)
	} else if err != nil {
		return nil, false, err
	}
	if err := takeOr(db, &Consumer{}, "consumer", consumerID); err != nil {
		return nil, false, err
	}
	existing := func() (*Subscription, bool, error) {
		var sub Subscription
		err := db.Where("consumer_id = ? AND service_id = ?", consumerID, svc.ID).Take(&sub).Error
		if err != nil {
			return nil, false, err
		}
		return &sub, true, nil
	}
	if sub, ok, err := existing(); ok {
		return sub, false, nil
	} else if !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, err
	}
	now := s.now()
	sub := &Subscription{ConsumerID: consumerID, ServiceID: svc.ID, Status: StatusPending, CreatedAt: now, UpdatedAt: now}
	requester := Actor{Email: fmt.Sprintf("consumer:%d", consumerID)}
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(sub).Error; err != nil {
			return err
		}
		if err := tx.Create(&SubscriptionEvent{SubscriptionID: sub.ID, FromStatus: "", ToStatus: StatusPending,
			ActorEmail: requester.Email, CreatedAt: now}).Error; err != nil {
			return err
		}
		if err := audit(tx, requester, "request", "subscription", sub.ID, &svc.TeamID, nil, sub); err != nil {
			return err
		}
		if svc.Approval != ApprovalAuto {
			return nil
		}
		before := *sub
		auto := Actor{Email: AutoApprovalActor}
		sub.Status, sub.Reason, sub.DecidedAt = StatusApproved, "the service approves subscriptions automatically", &now
		if err := tx.Model(&Subscription{}).Where("id = ?", sub.ID).Updates(map[string]any{
			"status": sub.Status, "reason": sub.Reason, "decided_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Create(&SubscriptionEvent{SubscriptionID: sub.ID, FromStatus: StatusPending, ToStatus: StatusApproved,
			ActorEmail: auto.Email, Reason: sub.Reason, CreatedAt: now}).Error; err != nil {
			return err
		}
		return audit(tx, auto, DecisionApprove, "subscription", sub.ID, &svc.TeamID, before, sub)
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// Another request created it at the same moment.
		if sub, ok, err := existing(); ok {
			return sub, false, nil
		} else {
			return nil, false, err
		}
	}
	if err != nil {
		return nil, false, err
	}
	return sub, true, s.changed(ctx)
}

// ListForConsumer returns every subscription of a consumer with its
// service's slug and name.
func (s *Subscriptions) ListForConsumer(ctx context.Context, consumerID uint64) ([]SubscriptionView, error) {
	out := []SubscriptionView{}
	err := s.views(s.db.WithContext(ctx)).Select(viewColumns).Where("subscriptions.consumer_id = ?", consumerID).
		Order("subscriptions.id").Scan(&out).Error
	return out, err
}
