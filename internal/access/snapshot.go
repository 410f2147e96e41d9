// Package access decides, on the data plane's hot path, whether a consumer
// key may call a model: it holds an immutable in-memory Snapshot of keys,
// consumers, services, models and subscriptions, loaded from the database
// and swapped atomically when the control plane reports a change (at once on
// the instance that made it, through Redis pub/sub or by polling the
// database's config version on the others). A request never queries the
// database.
//
// It imports the admin domain types and GORM for loading; it never imports
// Gin.
package access

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/apierr"
	"github.com/sluicehq/sluice/internal/limits"
	"github.com/sluicehq/sluice/internal/relay"
	"github.com/sluicehq/sluice/prompts"
)

// Key is what the snapshot knows of one consumer key.
type Key struct {
	ID         string
	ConsumerID uint64
	Revoked    bool
	ExpiresAt  *time.Time
}

// Service is a service as the data plane sees it.
type Service struct {
	ID       uint64
	Slug     string
	Name     string
	TeamID   uint64
	Approval string
	Limits   limits.Limits
	// Models are the public model names the service contains.
	Models []string
	// LogBodies, LogRetentionDays and RedactFields are the service's
	// call-log settings (see admin.Service).
	LogBodies        bool
	LogRetentionDays int
	RedactFields     []string
}

// Model is a public model with its prices per million tokens.
type Model struct {
	ID          uint64
	Name        string
	InputPrice  float64
	OutputPrice float64
	// Targets route the model to providers; empty when none is enabled.
	Targets []relay.Target
}

// Cost is the price of a call's tokens, from the per-million prices.
func (m *Model) Cost(in, out int) float64 {
	return (float64(in)*m.InputPrice + float64(out)*m.OutputPrice) / 1e6
}

// Subscription is a consumer's subscription state for one service.
type Subscription struct {
	ID        uint64
	ServiceID uint64
	Status    string
	// LimitKey names the subscription's counters in the limiter.
	LimitKey string
}

// Snapshot is an immutable view of everything the data plane checks. Build
// one with Build; never modify it after.
type Snapshot struct {
	// Version is the config version it was loaded at.
	Version int64
	// LoadedAt is when it was loaded.
	LoadedAt time.Time

	keys          map[string]Key
	services      map[uint64]*Service
	models        map[string]*Model
	modelServices map[string][]uint64       // model name → services containing it
	subs          map[subKey]Subscription   // (consumer, service) → subscription
	consumerSubs  map[uint64][]Subscription // consumer → its subscriptions
	consumerTeam  map[uint64]uint64         // consumer → its team
	modelNames    []string                  // sorted, for listing
	prompts       map[string]*Prompt        // published prompts by slug
}

type subKey struct{ consumer, service uint64 }

// Data is the raw material of a snapshot, as loaded from the database.
type Data struct {
	Version       int64
	Keys          []admin.ConsumerKey
	Services      []admin.Service // with Models preloaded
	Models        []admin.Model
	Subscriptions []admin.Subscription
	Consumers     []admin.Consumer
	// Targets are the built routes of each model, by model id.
	Targets map[uint64][]relay.Target
	// Prompts are the published prompts with their live versions.
	Prompts []prompts.Live
}

// Build indexes data into a snapshot.
func Build(d Data, now time.Time) *Snapshot {
	s := &Snapshot{
		Version:       d.Version,
		LoadedAt:      now,
		keys:          make(map[string]Key, len(d.Keys)),
		services:      make(map[uint64]*Service, len(d.Services)),
		models:        make(map[string]*Model, len(d.Models)),
		modelServices: map[string][]uint64{},
		subs:          make(map[subKey]Subscription, len(d.Subscriptions)),
		consumerSubs:  map[uint64][]Subscription{},
		consumerTeam:  make(map[uint64]uint64, len(d.Consumers)),
		prompts:       buildPrompts(d.Prompts),
	}
	for _, c := range d.Consumers {
		s.consumerTeam[c.ID] = c.TeamID
	}
	for _, k := range d.Keys {
		s.keys[k.ID] = Key{ID: k.ID, ConsumerID: k.ConsumerID, Revoked: k.RevokedAt != nil, ExpiresAt: k.ExpiresAt}
	}
	for _, m := range d.Models {
		s.models[m.Name] = &Model{ID: m.ID, Name: m.Name, InputPrice: m.InputPrice, OutputPrice: m.OutputPrice, Targets: d.Targets[m.ID]}
		s.modelNames = append(s.modelNames, m.Name)
	}
	sort.Strings(s.modelNames)
	for _, sv := range d.Services {
		svc := &Service{ID: sv.ID, Slug: sv.Slug, Name: sv.Name, TeamID: sv.TeamID, Approval: sv.Approval,
			Limits:    limits.Limits{RPM: sv.Limits.RPM, TPM: sv.Limits.TPM, MonthlyTokens: sv.Limits.MonthlyTokens},
			LogBodies: sv.LogBodies, LogRetentionDays: sv.LogRetentionDays, RedactFields: sv.RedactFields}
		for _, m := range sv.Models {
			svc.Models = append(svc.Models, m.Name)
			s.modelServices[m.Name] = append(s.modelServices[m.Name], sv.ID)
		}
		sort.Strings(svc.Models)
		s.services[sv.ID] = svc
	}
	for _, sub := range d.Subscriptions {
		v := Subscription{ID: sub.ID, ServiceID: sub.ServiceID, Status: sub.Status, LimitKey: "sub:" + strconv.FormatUint(sub.ID, 10)}
		s.subs[subKey{sub.ConsumerID, sub.ServiceID}] = v
		s.consumerSubs[sub.ConsumerID] = append(s.consumerSubs[sub.ConsumerID], v)
	}
	return s
}

// Key returns the key with id.
func (s *Snapshot) Key(id string) (Key, bool) {
	k, ok := s.keys[id]
	return k, ok
}

// ConsumerTeam is the team owning a consumer (0 when unknown).
func (s *Snapshot) ConsumerTeam(consumer uint64) uint64 { return s.consumerTeam[consumer] }

// Model returns the public model called name.
func (s *Snapshot) Model(name string) (*Model, bool) {
	m, ok := s.models[name]
	return m, ok
}

// Service returns the service with id.
func (s *Snapshot) Service(id uint64) (*Service, bool) {
	sv, ok := s.services[id]
	return sv, ok
}

// Grant is a consumer's right to call one model: the approved subscription
// and the service it comes through, whose limits apply.
type Grant struct {
	Subscription Subscription
	Service      *Service
	Model        *Model
}

// Authorize decides whether consumer may call model. It answers the error
// the client sees: 404 for an unknown model, 403 naming the service and the
// state of the subscription otherwise.
func (s *Snapshot) Authorize(consumer uint64, model string) (Grant, error) {
	m, ok := s.models[model]
	if !ok {
		return Grant{}, &apierr.Error{Status: http.StatusNotFound, Code: "model_not_found", Param: "model",
			Message: fmt.Sprintf("model %q does not exist; GET /v1/models lists the models this key may call", model)}
	}
	// Prefer an approved subscription; otherwise report the most telling
	// state among the services that contain the model.
	var blocked *Subscription
	var blockedSvc *Service
	for _, id := range s.modelServices[model] {
		sub, ok := s.subs[subKey{consumer, id}]
		if !ok {
			continue
		}
		if sub.Status == admin.StatusApproved {
			return Grant{Subscription: sub, Service: s.services[id], Model: m}, nil
		}
		if blocked == nil || rank(sub.Status) < rank(blocked.Status) {
			sub := sub
			blocked, blockedSvc = &sub, s.services[id]
		}
	}
	if blocked != nil {
		msg := ""
		switch blocked.Status {
		case admin.StatusPending:
			msg = fmt.Sprintf("subscription to service %q is pending approval; ask the service's team to approve it", blockedSvc.Slug)
		case admin.StatusRejected:
			msg = fmt.Sprintf("subscription to service %q was rejected", blockedSvc.Slug)
		case admin.StatusRevoked:
			msg = fmt.Sprintf("subscription to service %q was revoked", blockedSvc.Slug)
		}
		return Grant{}, &apierr.Error{Status: http.StatusForbidden, Code: "subscription_" + blocked.Status, Param: "model", Message: msg}
	}
	msg := fmt.Sprintf("no subscription covers model %q", model)
	if svcs := s.modelServices[model]; len(svcs) > 0 {
		msg += fmt.Sprintf("; subscribe with POST /v1/subscriptions {\"service\":%q}", s.services[svcs[0]].Slug)
	} else {
		msg += "; no service offers it yet"
	}
	return Grant{}, &apierr.Error{Status: http.StatusForbidden, Code: "subscription_none", Param: "model", Message: msg}
}

// rank orders blocked states by how close they are to working.
func rank(status string) int {
	switch status {
	case admin.StatusPending:
		return 0
	case admin.StatusRevoked:
		return 1
	default:
		return 2
	}
}

// CallableModels lists, sorted, the models consumer holds an approved
// subscription for.
func (s *Snapshot) CallableModels(consumer uint64) []*Model {
	seen := map[string]bool{}
	for _, sub := range s.consumerSubs[consumer] {
		if sub.Status != admin.StatusApproved {
			continue
		}
		if svc, ok := s.services[sub.ServiceID]; ok {
			for _, m := range svc.Models {
				seen[m] = true
			}
		}
	}
	out := make([]*Model, 0, len(seen))
	for _, name := range s.modelNames {
		if seen[name] {
			out = append(out, s.models[name])
		}
	}
	return out
}

// Retention maps each service that purges its call log to its retention
// in days; services keeping their log forever are left out.
func (s *Snapshot) Retention() map[uint64]int {
	m := make(map[uint64]int)
	for id, sv := range s.services {
		if sv.LogRetentionDays > 0 {
			m[id] = sv.LogRetentionDays
		}
	}
	return m
}
