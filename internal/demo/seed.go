package demo

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/admin/keys"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/declare"
	"github.com/sluicehq/sluice/prompts"
)

// Actor is who the audit log says made the demo's own writes (consumers,
// keys, decisions); providers, models, services and the prompt go through
// internal/declare, which records them as "config file".
var Actor = admin.Actor{Email: "sluice demo"}

// Names of the demo's resources.
const (
	TeamName         = "Demo"
	ChatService      = "demo-chat"
	EmbedService     = "demo-embeddings"
	WebApp           = "demo-web-app"
	BatchJob         = "demo-batch-job"
	PromptSlug       = "summarize"
	keyName          = "demo traffic"
	resourcesPattern = `
providers:
  - name: demo-openai
    kind: openai
    base_url: %q
    api_key: %q
    timeout_ms: 30000
    enabled: true
  - name: demo-anthropic
    kind: anthropic
    base_url: %q
    api_key: %q
    timeout_ms: 30000
    enabled: true
  - name: demo-gemini
    kind: gemini
    base_url: %q
    api_key: %q
    timeout_ms: 30000
    enabled: true
models:
  - name: demo-gpt
    input_price: 2.5
    output_price: 10
    targets:
      - {provider: demo-openai, upstream_model: gpt-4o-mini, priority: 0}
      - {provider: demo-anthropic, upstream_model: claude-3-5-haiku-latest, priority: 1}
  - name: demo-claude
    input_price: 3
    output_price: 15
    targets:
      - {provider: demo-anthropic, upstream_model: claude-sonnet-4-5}
  - name: demo-gemini
    input_price: 0.3
    output_price: 2.5
    targets:
      - {provider: demo-gemini, upstream_model: gemini-2.5-flash}
  - name: demo-embed
    input_price: 0.02
    output_price: 0
    targets:
      - {provider: demo-openai, upstream_model: text-embedding-3-small}
services:
  - slug: demo-chat
    name: Demo Chat
    description: Chat models for the demo applications; subscriptions are approved automatically.
    team: Demo
    approval: auto
    models: [demo-gpt, demo-claude, demo-gemini]
    limits: {rpm: 1200, tpm: 0, monthly_tokens: 0}
  - slug: demo-embeddings
    name: Demo Embeddings
    description: Embeddings for search indexing; an operator approves each subscription.
    team: Demo
    approval: manual
    models: [demo-embed]
    limits: {rpm: 600, tpm: 0, monthly_tokens: 50000000}
prompts:
  - slug: summarize
    name: Summarize
    description: Summarizes a text for an audience (demo).
    service: demo-chat
    model: demo-gpt
    messages:
      - {role: system, content: "You write short, plain summaries for {{audience}}."}
      - {role: user, content: "Summarize in at most three sentences:\n{{text}}"}
    parameters: {temperature: 0.2, max_tokens: 200}
    variables_schema:
      type: object
      additionalProperties: false
      required: [text]
      properties:
        text: {type: string, maxLength: 20000}
        audience: {type: string, enum: [engineers, executives, customers], default: engineers}
    publish: true
`
)

// Seeded is what the seeding found or made: the ids the traffic and the
// backfill need, and the consumers' keys.
type Seeded struct {
	// First is true when this run created the demo's consumers (a fresh
	// database, or one whose demo data was deleted).
	First  bool
	TeamID uint64
	// Services, Consumers and Models are ids by slug or name.
	Services  map[string]uint64
	Consumers map[string]uint64
	Models    map[string]admin.ModelView
	// Keys are the consumers' demo keys by consumer name.
	Keys map[string]Key
	// PromptVersion is the summarize prompt's live version.
	PromptVersion int
	// Pending is the id of the subscription left waiting for approval
	// (demo-web-app to Demo Embeddings), 0 when it was decided since.
	Pending uint64
}

// Key is a consumer key: its id (the JWT's jti) and the key itself.
type Key struct {
	ID    string
	Token string
}

// seeder writes the demo data.
type seeder struct {
	deps    Deps
	stores  *admin.Stores
	prompts *prompts.Store
}

// seed applies the demo's providers (at the fakes' current URLs), models,
// services and prompt through internal/declare, then makes sure the team's
// consumers, their keys and subscriptions exist. It is idempotent: a
// second run changes only the providers' base URLs when the fakes moved,
// and leaves every decision an operator took alone.
func seed(ctx context.Context, d Deps, f *fakes) (*Seeded, error) {
	s := &seeder{deps: d, stores: admin.NewStores(d.DB.Gorm, d.Notifier, d.Clock), prompts: prompts.NewStore(d.DB.Gorm, d.Notifier, d.Clock)}
	var res config.Resources
	src := fmt.Sprintf(resourcesPattern, f.openAI, openAIKey, f.anthropic, anthropicKey, f.gemini, geminiKey)
	if err := yaml.Unmarshal([]byte(src), &res); err != nil {
		return nil, fmt.Errorf("demo resources: %w", err)
	}
	sum, err := declare.Apply(ctx, res, declare.Deps{Stores: s.stores, Providers: admin.NewProviders(d.DB.Gorm, d.Notifier, d.Clock),
		Prompts: s.prompts, Sealer: d.Sealer, Actor: Actor})
	if err != nil {
		return nil, fmt.Errorf("demo resources: %w", err)
	}
	d.Logger.Info("demo resources applied", "summary", sum.String())
	// Settings the YAML file does not manage, set once when the services
	// are created (an operator may change them; later starts leave them):
	// the live traffic adds thousands of calls an hour, so the demo's call
	// log keeps three days; the chat service keeps bodies, as an example.
	for _, slug := range []string{ChatService, EmbedService} {
		if slices.Contains(sum.Created, "service "+slug) {
			if err := s.configure(ctx, slug, slug == ChatService, 3); err != nil {
				return nil, err
			}
		}
	}
	return s.accessData(ctx)
}

// configure sets a service's body capture and call-log retention.
func (s *seeder) configure(ctx context.Context, slug string, bodies bool, retentionDays int) error {
	var svc admin.Service
	if err := s.deps.DB.Gorm.WithContext(ctx).Where("slug = ?", slug).Take(&svc).Error; err != nil {
		return err
	}
	_, err := s.stores.Services.Update(ctx, Actor, svc.ID, admin.ServiceUpdate{LogBodies: &bodies, LogRetentionDays: &retentionDays})
	return err
}

// accessData makes sure of the consumers, keys and subscriptions, and
// reads back the ids the rest of the demo uses.
func (s *seeder) accessData(ctx context.Context) (*Seeded, error) {
	db := s.deps.DB.Gorm.WithContext(ctx)
	out := &Seeded{Services: map[string]uint64{}, Consumers: map[string]uint64{}, Models: map[string]admin.ModelView{}, Keys: map[string]Key{}}
	var team admin.Team
	if err := db.Where("name = ?", TeamName).Order("id").Take(&team).Error; err != nil {
		return nil, fmt.Errorf("demo team: %w", err)
	}
	out.TeamID = team.ID
	for _, slug := range []string{ChatService, EmbedService} {
		var svc admin.Service
		if err := db.Where("slug = ?", slug).Take(&svc).Error; err != nil {
			return nil, fmt.Errorf("demo service %s: %w", slug, err)
		}
		out.Services[slug] = svc.ID
	}
	for _, name := range []string{"demo-gpt", "demo-claude", "demo-gemini", "demo-embed"} {
		m, err := s.stores.Models.ByName(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("demo model %s: %w", name, err)
		}
		out.Models[name] = *m
	}
	var p prompts.Prompt
	if err := db.Where("slug = ?", PromptSlug).Take(&p).Error; err != nil {
		return nil, fmt.Errorf("demo prompt: %w", err)
	}
	out.PromptVersion = p.PublishedVersion

	descriptions := map[string]string{
		WebApp:   "The demo's customer-facing web application: chat, streaming and the summarize prompt.",
		BatchJob: "The demo's nightly indexing job: embeddings and batch chat.",
	}
	for _, name := range []string{WebApp, BatchJob} {
		id, created, err := s.consumer(ctx, team.ID, name, descriptions[name])
		if err != nil {
			return nil, err
		}
		out.First = out.First || created
		out.Consumers[name] = id
		k, err := s.key(ctx, id)
		if err != nil {
			return nil, err
		}
		out.Keys[name] = k
	}
	// Both consumers use the chat service (approved at once: it is an
	// auto-approval service); the batch job's embeddings subscription is
	// approved by the demo, the web app's is left pending for the queue.
	for _, sub := range []struct {
		consumer, service string
		approve           bool
	}{{WebApp, ChatService, false}, {BatchJob, ChatService, false}, {BatchJob, EmbedService, true}, {WebApp, EmbedService, false}} {
		got, created, err := s.stores.Subscriptions.Request(ctx, out.Consumers[sub.consumer], sub.service)
		if err != nil {
			return nil, fmt.Errorf("demo subscription of %s to %s: %w", sub.consumer, sub.service, err)
		}
		if created && sub.approve && got.Status == admin.StatusPending {
			if _, err := s.stores.Subscriptions.Decide(ctx, Actor, got.ID, admin.DecisionApprove, "approved by the demo seed"); err != nil {
				return nil, err
			}
		}
		if sub.consumer == WebApp && sub.service == EmbedService && got.Status == admin.StatusPending {
			out.Pending = got.ID
		}
	}
	return out, nil
}

// consumer finds the team's consumer called name or creates it.
func (s *seeder) consumer(ctx context.Context, teamID uint64, name, description string) (uint64, bool, error) {
	var c admin.Consumer
	err := s.deps.DB.Gorm.WithContext(ctx).Where("team_id = ? AND name = ?", teamID, name).Take(&c).Error
	if err == nil {
		return c.ID, false, nil
	}
	c = admin.Consumer{Name: name, Description: description, TeamID: teamID}
	if err := s.stores.Consumers.Create(ctx, Actor, &c); err != nil {
		return 0, false, fmt.Errorf("demo consumer %s: %w", name, err)
	}
	return c.ID, true, nil
}

// key returns the consumer's demo key. Keys are shown only once, so the
// demo signs the stored key's claims again: with the same signing key the
// token is identical, which its stored hash confirms. When it is not (the
// signing key was rotated, or the key was revoked), a new key is issued.
func (s *seeder) key(ctx context.Context, consumerID uint64) (Key, error) {
	var rows []admin.ConsumerKey
	err := s.deps.DB.Gorm.WithContext(ctx).Where("consumer_id = ? AND name = ? AND revoked_at IS NULL", consumerID, keyName).
		Order("created_at DESC").Find(&rows).Error
	if err != nil {
		return Key{}, err
	}
	for _, k := range rows {
		if k.KID != s.deps.Keyring.Current() || (k.ExpiresAt != nil && !k.ExpiresAt.After(s.deps.Clock.Now())) {
			continue
		}
		token, err := s.deps.Keyring.Issue(keys.Claims{ConsumerID: strconv.FormatUint(consumerID, 10), KeyID: k.ID,
			IssuedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt})
		if err == nil && keys.Hash(token) == k.Hash {
			return Key{ID: k.ID, Token: token}, nil
		}
	}
	k, token, err := s.stores.Keys.Issue(ctx, Actor, s.deps.Keyring, consumerID, keyName, nil)
	if err != nil {
		return Key{}, fmt.Errorf("demo key: %w", err)
	}
	return Key{ID: k.ID, Token: token}, nil
}
