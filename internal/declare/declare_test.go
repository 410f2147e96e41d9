package declare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	"gorm.io/gorm"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/dbtest"
	"github.com/sluicehq/sluice/internal/secret"
	"github.com/sluicehq/sluice/migrations"
	"github.com/sluicehq/sluice/prompts"
)

type counter struct{ n atomic.Int64 }

func (c *counter) Changed(context.Context) error { c.n.Add(1); return nil }

type testEnv struct {
	db    *gorm.DB
	deps  Deps
	notes *counter
	vars  map[string]string
}

func newTestEnv(t *testing.T, kind string) *testEnv {
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
	sec, err := secret.Load("declare test secret, at least 32 characters", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{db: h.Gorm, notes: &counter{}, vars: map[string]string{
		"OPENAI_API_KEY": "sk-openai-from-env-0001", "AZURE_OPENAI_API_KEY": "azure-key-from-env-0002", "ANTHROPIC_API_KEY": "sk-ant-from-env-0003"}}
	e.deps = Deps{Stores: admin.NewStores(h.Gorm, e.notes, nil), Providers: admin.NewProviders(h.Gorm, e.notes, nil),
		Prompts: prompts.NewStore(h.Gorm, e.notes, nil), Sealer: sec.Sealer(), LookupEnv: func(k string) (string, bool) { v, ok := e.vars[k]; return v, ok }}
	return e
}

// example loads example.yaml the way the server does.
func example(t *testing.T) config.Resources {
	t.Helper()
	cfg, _, err := config.Load([]string{"--config", "example.yaml"}, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Resources
}

func resources(t *testing.T, src string) config.Resources {
	t.Helper()
	var r config.Resources
	if err := yaml.Unmarshal([]byte(src), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// state is what a second run must leave alone: the audit log and every
// row's updated_at.
func (e *testEnv) state(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	var n int64
	e.db.Model(&admin.AuditEntry{}).Count(&n)
	fmt.Fprintf(&b, "%d audit entries;", n)
	for _, table := range []string{"providers", "models", "services", "teams", "prompts"} {
		var stamps []time.Time
		if err := e.db.Table(table).Order("id").Pluck("updated_at", &stamps).Error; err != nil {
			t.Fatal(err)
		}
		for _, s := range stamps {
			b.WriteString(" " + s.UTC().Format(time.RFC3339Nano))
		}
	}
	var targets []admin.ModelTarget
	e.db.Order("id").Find(&targets)
	for _, tg := range targets {
		b.WriteString(" " + tg.UpstreamModel)
	}
	var versions []prompts.Version
	e.db.Order("id").Find(&versions)
	for _, v := range versions {
		fmt.Fprintf(&b, " v%d@%d", v.Version, v.PromptID)
	}
	var ps []prompts.Prompt
	e.db.Order("id").Find(&ps)
	for _, p := range ps {
		fmt.Fprintf(&b, " %s=%d/%d", p.Slug, p.LatestVersion, p.PublishedVersion)
	}
	return b.String()
}

func TestApplyExample(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newTestEnv(t, kind)
		ctx := context.Background()
		res := example(t)

		sum, err := Apply(ctx, res, e.deps)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"provider openai", "provider azure-eu", "provider claude", "provider local-llama",
			"model gpt-4o", "model claude-sonnet", "team Platform", "service chat", "prompt sentiment"}
		if !slices.Equal(sum.Created, want) || len(sum.Updated) != 0 {
			t.Fatalf("first run = %+v", sum)
		}

		// What was stored.
		openai, err := e.deps.Providers.ByName(ctx, "openai")
		if err != nil {
			t.Fatal(err)
		}
		if key, err := e.deps.Sealer.Open(openai.APIKeySealed); err != nil || key != e.vars["OPENAI_API_KEY"] || openai.TimeoutMillis != 60000 || !openai.Enabled {
			t.Fatalf("openai = %+v (key %q, %v)", openai, key, err)
		}
		claude, _ := e.deps.Providers.ByName(ctx, "claude")
		if v := claude.View(); v.Settings["default_max_tokens"] != "4096" || !v.HasAPIKey {
			t.Fatalf("claude = %+v", v)
		}
		azure, _ := e.deps.Providers.ByName(ctx, "azure-eu")
		if v := azure.View(); v.Settings["api_version"] != "2024-10-21" || v.BaseURL != "https://my-resource.openai.azure.com" {
			t.Fatalf("azure = %+v", v)
		}
		llama, _ := e.deps.Providers.ByName(ctx, "local-llama")
		if v := llama.View(); v.Enabled || v.HasAPIKey || v.Headers["X-Source"] != "sluice" {
			t.Fatalf("local-llama = %+v", v)
		}
		gpt, err := e.deps.Stores.Models.ByName(ctx, "gpt-4o")
		if err != nil || len(gpt.Targets) != 3 || gpt.InputPrice != 2.5 || gpt.OutputPrice != 10 {
			t.Fatalf("gpt-4o = %+v, %v", gpt, err)
		}
		if last := gpt.Targets[2]; last.ProviderName != "claude" || last.Priority != 1 || last.Weight != 1 {
			t.Fatalf("fallback target = %+v", last)
		}
		if first := gpt.Targets[0]; first.ProviderName != "openai" || first.Weight != 3 {
			t.Fatalf("first target = %+v", first)
		}
		svcs, _, err := e.deps.Stores.Services.List(ctx, admin.ServiceFilter{Scope: admin.AllTeams()})
		if err != nil || len(svcs) != 1 {
			t.Fatalf("services = %+v, %v", svcs, err)
		}
		svc := svcs[0]
		if svc.Slug != "chat" || svc.Approval != admin.ApprovalAuto || len(svc.Models) != 2 ||
			svc.Limits != (admin.Limits{RPM: 60, TPM: 100000, MonthlyTokens: 10000000}) || svc.Description == "" {
			t.Fatalf("service = %+v", svc)
		}
		p := promptNamed(t, e, "sentiment")
		if p.Name != "Sentiment" || p.ServiceID != svc.ID || p.LatestVersion != 1 || p.PublishedVersion != 1 ||
			p.PublishedByEmail != "config file" || p.Description != "Classify the sentiment of a text" {
			t.Fatalf("prompt = %+v", p)
		}
		v, err := e.deps.Prompts.Version(ctx, p.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if v.Model != "gpt-4o" || len(v.Messages) != 2 || v.Messages[1].Content != "{{text}}" || v.Note != "config file" ||
			v.CreatedByEmail != "config file" || !slices.Equal(v.AllowedOverrides, []string{"max_tokens"}) ||
			!sameJSON(v.Parameters, []byte(`{"max_tokens":5,"temperature":0}`)) ||
			!sameJSON(v.VariablesSchema, []byte(`{"type":"object","properties":{"text":{"type":"string","maxLength":4000}},"required":["text"]}`)) {
			t.Fatalf("version = %+v (%s, %s)", v, v.Parameters, v.VariablesSchema)
		}
		var audits []admin.AuditEntry
		e.db.Find(&audits)
		prompted := 0
		for _, a := range audits {
			if a.ActorEmail != "config file" || a.ActorID != nil {
				t.Fatalf("audit actor = %+v", a)
			}
			if a.Resource == "prompt" {
				prompted++
			}
		}
		if prompted != 3 { // create, create_version, publish
			t.Fatalf("%d prompt audit entries, want 3", prompted)
		}

		// Second run: nothing written.
		before, notes := e.state(t), e.notes.n.Load()
		sum, err = Apply(ctx, res, e.deps)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Changed() || len(sum.Unchanged) != 8 {
			t.Fatalf("second run = %+v", sum)
		}
		if after := e.state(t); after != before {
			t.Fatalf("second run changed the database:\n%s\n%s", before, after)
		}
		if e.notes.n.Load() != notes {
			t.Fatal("second run notified the data plane")
		}

		// What the file does not manage is left alone: a provider made in
		// the console, and a field the file leaves out.
		console := &admin.Provider{Name: "console-made", Kind: "openai", Enabled: true}
		if err := e.deps.Providers.Create(ctx, admin.Actor{Email: "root"}, console); err != nil {
			t.Fatal(err)
		}
		timeout := int64(1234)
		if _, err := e.deps.Providers.Update(ctx, admin.Actor{Email: "root"}, llama.ID, admin.ProviderUpdate{TimeoutMillis: &timeout}, nil); err != nil {
			t.Fatal(err)
		}
		// A rotated secret in the environment updates that one provider.
		e.vars["OPENAI_API_KEY"] = "sk-openai-rotated-0004"
		sum, err = Apply(ctx, res, e.deps)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sum.Updated, []string{"provider openai"}) || len(sum.Created) != 0 {
			t.Fatalf("run after rotation = %+v", sum)
		}
		openai, _ = e.deps.Providers.ByName(ctx, "openai")
		if key, _ := e.deps.Sealer.Open(openai.APIKeySealed); key != "sk-openai-rotated-0004" {
			t.Fatalf("rotated key = %q", key)
		}
		if p, err := e.deps.Providers.ByName(ctx, "console-made"); err != nil || p.ID != console.ID {
			t.Fatalf("console-made provider = %+v, %v", p, err)
		}
		if p, _ := e.deps.Providers.ByName(ctx, "local-llama"); p.TimeoutMillis != 1234 {
			t.Fatalf("unmanaged timeout_ms = %d", p.TimeoutMillis)
		}

		// No credential, plain or sealed, reached the audit log.
		var sealed []string
		var rows []admin.Provider
		e.db.Find(&rows)
		for _, r := range rows {
			sealed = append(sealed, r.APIKeySealed)
		}
		e.db.Find(&audits)
		for _, a := range audits {
			for _, s := range append(sealed, "sk-openai-from-env-0001", "sk-openai-rotated-0004", "azure-key-from-env-0002", "sk-ant-from-env-0003") {
				if s != "" && strings.Contains(a.Before+a.After, s) {
					t.Fatalf("audit entry %d holds a credential", a.ID)
				}
			}
		}
	})
}

func TestApplyChanges(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	ctx := context.Background()
	if _, err := Apply(ctx, example(t), e.deps); err != nil {
		t.Fatal(err)
	}
	// A file that changes targets, prices, service fields and moves the
	// service to a new team.
	sum, err := Apply(ctx, resources(t, `
models:
  - name: gpt-4o
    output_price: 12
    targets:
      - {provider: azure-eu, upstream_model: gpt-4o, priority: 1}
      - {provider: openai, upstream_model: gpt-4o}
services:
  - slug: chat
    team: Research
    approval: manual
    models: [gpt-4o]
    limits: {rpm: 10}
`), e.deps)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sum.Created, []string{"team Research"}) || !slices.Equal(sum.Updated, []string{"model gpt-4o", "service chat"}) {
		t.Fatalf("summary = %+v", sum)
	}
	gpt, _ := e.deps.Stores.Models.ByName(ctx, "gpt-4o")
	if gpt.OutputPrice != 12 || gpt.InputPrice != 2.5 || len(gpt.Targets) != 2 || gpt.Targets[0].ProviderName != "openai" {
		t.Fatalf("gpt-4o = %+v", gpt)
	}
	svcs, _, _ := e.deps.Stores.Services.List(ctx, admin.ServiceFilter{Scope: admin.AllTeams()})
	if s := svcs[0]; s.Approval != "manual" || len(s.Models) != 1 || s.Limits != (admin.Limits{RPM: 10}) || s.Name != "Chat" {
		t.Fatalf("service = %+v", s)
	}
	// The same targets in another order are no change.
	sum, err = Apply(ctx, resources(t, `
models:
  - name: gpt-4o
    targets:
      - {provider: openai, upstream_model: gpt-4o, weight: 1}
      - {provider: azure-eu, upstream_model: gpt-4o, priority: 1}
`), e.deps)
	if err != nil || sum.Changed() {
		t.Fatalf("reordered targets = %+v, %v", sum, err)
	}
}

func TestApplyErrors(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	ctx := context.Background()
	cases := []struct {
		name, src, path, says string
	}{
		{"unknown provider field", `
providers:
  - {name: a, kind: openai}
  - {name: b, kindd: openai}`, "providers[1].kindd", "unknown field"},
		{"unknown kind", `
providers:
  - {name: a, kind: openia}`, "providers[0].kind", "openai-compatible"},
		{"compatible without base_url", `
providers:
  - {name: a, kind: openai-compatible}`, "providers[0].base_url", "base URL"},
		{"bad setting", `
providers:
  - {name: a, kind: anthropic, settings: {default_max_tokens: many}}`, "providers[0].settings.default_max_tokens", "positive integer"},
		{"setting not text", `
providers:
  - {name: a, kind: openai, settings: {x: [1]}}`, "providers[0].settings.x", "single text"},
		{"unset variable", `
providers:
  - {name: a, kind: openai, api_key: "${NOT_SET_ANYWHERE}"}`, "providers[0].api_key", "NOT_SET_ANYWHERE"},
		{"duplicate provider", `
providers:
  - {name: a, kind: openai}
  - {name: a, kind: openai}`, "providers[1].name", "twice"},
		{"providers not a list", `
providers: {name: a}`, "providers", "list"},
		{"timeout not a number", `
providers:
  - {name: a, kind: openai, timeout_ms: soon}`, "providers[0].timeout_ms", "whole number"},
		{"target provider unknown", `
providers:
  - {name: a, kind: openai}
models:
  - name: m
    targets:
      - {provider: a, upstream_model: x}
      - {provider: nope, upstream_model: x}`, "models[0].targets[1].provider", "nope"},
		{"target weight", `
providers:
  - {name: a, kind: openai}
models:
  - {name: m, targets: [{provider: a, upstream_model: x, weight: 0}]}`, "models[0].targets[0].weight", "1 or more"},
		{"target field unknown", `
models:
  - {name: m, targets: [{provider_id: 1}]}`, "models[0].targets[0].provider_id", "unknown field"},
		{"price not a number", `
models:
  - {name: m, input_price: cheap}`, "models[0].input_price", "number"},
		{"model name", `
models:
  - {name: "gpt 4"}`, "models[0].name", "letters"},
		{"service model unknown", `
models:
  - {name: m}
services:
  - {slug: s, team: T, models: [m, ghost]}`, "services[0].models[1]", "ghost"},
		{"service team missing", `
services:
  - {slug: s}`, "services[0].team", "required"},
		{"service limits field", `
services:
  - {slug: s, team: T, limits: {rpd: 1}}`, "services[0].limits.rpd", "unknown field"},
		{"service approval", `
services:
  - {slug: s, team: T, approval: sometimes}`, "services[0].approval", "manual or auto"},
		{"prompt placeholder", `
models:
  - {name: gpt-4o}
services:
  - {slug: chat, team: T}
prompts:
  - slug: p
    service: chat
    model: gpt-4o
    messages:
      - {role: system, content: "Be brief."}
      - {role: user, content: "{{foo}}"}
    variables_schema: {type: object, properties: {text: {type: string}}}`, "prompts[0].messages[1].content", "placeholder {{foo}} is not declared in variables_schema"},
		{"prompt field unknown", `
prompts:
  - {slug: p, service: chat, model: gpt-4o, messages: [{role: user, content: hi}], publsh: true}`, "prompts[0].publsh", "unknown field"},
		{"prompt message field unknown", `
prompts:
  - {slug: p, service: chat, model: gpt-4o, messages: [{role: user, text: hi}]}`, "prompts[0].messages[0].text", "unknown field"},
		{"prompt service unknown", `
prompts:
  - {slug: p, service: ghost, model: gpt-4o, messages: [{role: user, content: hi}]}`, "prompts[0].service", "ghost"},
		{"prompt model unknown", `
services:
  - {slug: s, team: T}
prompts:
  - {slug: p, service: s, model: gpt-5, messages: [{role: user, content: hi}]}`, "prompts[0].model", "gpt-5"},
		{"prompt model missing", `
services:
  - {slug: s, team: T}
prompts:
  - {slug: p, service: s, messages: [{role: user, content: hi}]}`, "prompts[0].model", "required"},
		{"prompt role", `
models:
  - {name: m}
services:
  - {slug: s, team: T}
prompts:
  - {slug: p, service: s, model: m, messages: [{role: robot, content: hi}]}`, "prompts[0].messages[0].role", "system, user"},
		{"prompt parameters not a mapping", `
models:
  - {name: m}
services:
  - {slug: s, team: T}
prompts:
  - {slug: p, service: s, model: m, messages: [{role: user, content: hi}], parameters: [1]}`, "prompts[0].parameters", "mapping"},
		{"prompt reserved parameter", `
models:
  - {name: m}
services:
  - {slug: s, team: T}
prompts:
  - {slug: p, service: s, model: m, messages: [{role: user, content: hi}], parameters: {stream: true}}`, "prompts[0].parameters.stream", "leave it out"},
		{"prompt schema", `
models:
  - {name: m}
services:
  - {slug: s, team: T}
prompts:
  - {slug: p, service: s, model: m, messages: [{role: user, content: hi}], variables_schema: {type: string}}`, "prompts[0].variables_schema", "object"},
		{"prompt unquoted placeholder", `
models:
  - {name: m}
services:
  - {slug: s, team: T}
prompts:
  - slug: p
    service: s
    model: m
    messages:
      - role: user
        content: {{text}}`, "prompts[0].messages[0].content", "single text"},
		{"prompt slug", `
prompts:
  - {slug: "Not A Slug"}`, "prompts[0].slug", "lower-case"},
		{"prompt twice", `
models:
  - {name: m}
services:
  - {slug: s, team: T}
prompts:
  - {slug: p, service: s, model: m, messages: [{role: user, content: hi}]}
  - {slug: p, service: s, model: m, messages: [{role: user, content: hi}]}`, "prompts[1].slug", "twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Apply(ctx, resources(t, c.src), e.deps)
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error = %v, want a declare.Error", err)
			}
			if de.Path != c.path || !strings.Contains(de.Error(), c.says) {
				t.Fatalf("error = %q (path %q), want path %q saying %q", de.Error(), de.Path, c.path, c.says)
			}
		})
	}
	// Nothing was written by any failed file, though some of them held
	// valid providers and models before the entry at fault.
	var n int64
	e.db.Model(&admin.AuditEntry{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d audit entries after failed applies", n)
	}
}

// TestApplyConcurrently starts two replicas with the same file at once:
// both succeed and every resource exists once.
func TestApplyConcurrently(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newTestEnv(t, kind)
		res := example(t)
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := Apply(context.Background(), res, e.deps)
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for table, want := range map[string]int64{"providers": 4, "models": 2, "services": 1, "teams": 1, "model_targets": 4, "prompts": 1} {
			var n int64
			e.db.Table(table).Count(&n)
			if n != want {
				t.Errorf("%d rows in %s, want %d", n, table, want)
			}
		}
	})
}

func promptNamed(t *testing.T, e *testEnv, slug string) *prompts.Prompt {
	t.Helper()
	var p prompts.Prompt
	if err := e.db.Where("slug = ?", slug).Take(&p).Error; err != nil {
		t.Fatalf("prompt %s: %v", slug, err)
	}
	return &p
}

// TestApplyPrompts changes a declared prompt: a changed template is a new
// version made live, an unchanged one adds nothing, publish: false leaves
// the live version alone, and a console rollback is undone by the file.
func TestApplyPrompts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newTestEnv(t, kind)
		ctx := context.Background()
		if _, err := Apply(ctx, example(t), e.deps); err != nil {
			t.Fatal(err)
		}
		file := func(system, publish string) config.Resources {
			return resources(t, `
prompts:
  - slug: sentiment
    name: Sentiment analysis
    service: chat
    model: gpt-4o
    messages:
      - {role: system, content: "`+system+`"}
      - {role: user, content: "{{text}}"}
    parameters: {max_tokens: 5, temperature: 0}
    variables_schema:
      required: [text]
      properties: {text: {maxLength: 4000, type: string}}
      type: object
    allowed_overrides: [max_tokens]
`+publish)
		}
		// The same template (keys in another order) with a new name: the
		// prompt is updated, no version is added.
		sum, err := Apply(ctx, file("Answer with one word: positive, negative or neutral.", ""), e.deps)
		if err != nil {
			t.Fatal(err)
		}
		p := promptNamed(t, e, "sentiment")
		if !slices.Equal(sum.Updated, []string{"prompt sentiment"}) || p.Name != "Sentiment analysis" || p.LatestVersion != 1 {
			t.Fatalf("rename = %+v, %+v", sum, p)
		}
		// A new system message: version 2, live.
		sum, err = Apply(ctx, file("One word: positive, negative or neutral.", ""), e.deps)
		if err != nil {
			t.Fatal(err)
		}
		p = promptNamed(t, e, "sentiment")
		if !slices.Equal(sum.Updated, []string{"prompt sentiment"}) || p.LatestVersion != 2 || p.PublishedVersion != 2 {
			t.Fatalf("new template = %+v, %+v", sum, p)
		}
		// Applied again: nothing written.
		before := e.state(t)
		if sum, err = Apply(ctx, file("One word: positive, negative or neutral.", ""), e.deps); err != nil || sum.Changed() {
			t.Fatalf("same file = %+v, %v", sum, err)
		}
		if after := e.state(t); after != before {
			t.Fatalf("same file changed the database:\n%s\n%s", before, after)
		}
		// A console rollback is undone at the next start.
		if _, err := e.deps.Prompts.Publish(ctx, admin.Actor{Email: "root"}, p.ID, 1); err != nil {
			t.Fatal(err)
		}
		if sum, err = Apply(ctx, file("One word: positive, negative or neutral.", ""), e.deps); err != nil || !slices.Equal(sum.Updated, []string{"prompt sentiment"}) {
			t.Fatalf("after rollback = %+v, %v", sum, err)
		}
		if p = promptNamed(t, e, "sentiment"); p.PublishedVersion != 2 || p.LatestVersion != 2 {
			t.Fatalf("after rollback = %+v", p)
		}
		// publish: false saves the version but leaves the live one.
		if _, err = Apply(ctx, file("Reply positive, negative or neutral.", "    publish: false"), e.deps); err != nil {
			t.Fatal(err)
		}
		if p = promptNamed(t, e, "sentiment"); p.PublishedVersion != 2 || p.LatestVersion != 3 {
			t.Fatalf("publish false = %+v", p)
		}
		before = e.state(t)
		if sum, err = Apply(ctx, file("Reply positive, negative or neutral.", "    publish: false"), e.deps); err != nil || sum.Changed() {
			t.Fatalf("publish false again = %+v, %v", sum, err)
		}
		if after := e.state(t); after != before {
			t.Fatalf("publish false again changed the database:\n%s\n%s", before, after)
		}
		// Left out allowed_overrides is the default list: a new version.
		if _, err = Apply(ctx, resources(t, `
prompts:
  - slug: sentiment
    service: chat
    model: gpt-4o
    messages: [{role: user, content: "Sentiment of {{text}}?"}]
    variables_schema: {type: object, properties: {text: {type: string}}}
`), e.deps); err != nil {
			t.Fatal(err)
		}
		p = promptNamed(t, e, "sentiment")
		v, err := e.deps.Prompts.Version(ctx, p.ID, 4)
		if err != nil || p.PublishedVersion != 4 || v.AllowedOverrides != nil || !sameJSON(v.Parameters, []byte("{}")) || p.Name != "Sentiment analysis" {
			t.Fatalf("minimal = %+v, %+v, %v", p, v, err)
		}
		var audits []admin.AuditEntry
		e.db.Where("resource = ? AND actor_email = ?", "prompt", "config file").Find(&audits)
		if len(audits) != 10 { // 3 at first, update, version+publish, publish, version, version+publish
			t.Fatalf("%d prompt audit entries by the file, want 10", len(audits))
		}
	})
}

// TestActorNamesTheChanges: a caller other than the config file (the demo)
// is named in the audit log for what it declares.
func TestActorNamesTheChanges(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	e.deps.Actor = admin.Actor{Email: "sluice demo"}
	if _, err := Apply(context.Background(), example(t), e.deps); err != nil {
		t.Fatal(err)
	}
	var byDemo, byFile int64
	e.db.Model(&admin.AuditEntry{}).Where("actor_email = ?", "sluice demo").Count(&byDemo)
	e.db.Model(&admin.AuditEntry{}).Where("actor_email = ?", "config file").Count(&byFile)
	if byDemo == 0 || byFile != 0 {
		t.Fatalf("audit entries by the demo %d, by the config file %d; want all by the demo", byDemo, byFile)
	}
}
