// Package declare applies the providers, models, services and prompts
// declared in the YAML file named by SLUICE_CONFIG, idempotently, at every
// start: what is missing is created, what differs is updated, what the
// file does not declare is left alone (nothing is ever deleted), and a
// second run with the same file writes nothing. Every write goes through
// the admin and prompt stores, so it is validated, audited (actor "config
// file") and announced to the data plane like a write in the console.
//
// The format, with every field (example.yaml holds the same, and the tests
// apply it):
//
//	providers:
//	  - name: openai                 # unique; models refer to providers by name
//	    kind: openai                 # a registered kind: openai, openai-compatible, azure, anthropic, gemini, …
//	    base_url: ""                 # left out: the kind's default
//	    api_key: ${OPENAI_API_KEY}   # from the environment; sealed at rest; "" removes it
//	    settings: {}                 # kind-specific, text values (azure: deployment, api_version)
//	    headers: {}                  # extra headers sent upstream
//	    timeout_ms: 60000            # one upstream attempt; 0 = no bound of its own
//	    enabled: true
//	models:
//	  - name: gpt-4o                 # public name
//	    input_price: 2.5             # USD per million tokens
//	    output_price: 10
//	    targets:                     # replaces the model's targets when given
//	      - provider: openai         # by name: declared above or already stored
//	        upstream_model: gpt-4o
//	        weight: 1                # default 1
//	        priority: 0              # default 0; lower is tried first
//	services:
//	  - slug: chat
//	    name: Chat                   # default: the slug
//	    description: ""
//	    team: Platform               # by name; created when missing
//	    approval: manual             # manual (default) or auto
//	    models: [gpt-4o]             # by name; replaces the service's models when given
//	    limits: {rpm: 60, tpm: 0, monthly_tokens: 0}   # 0 = unlimited
//	prompts:
//	  - slug: sentiment              # unique; the URL: /v1/prompts/sentiment
//	    name: Sentiment              # default: the slug
//	    description: Classify the sentiment of a text
//	    service: chat                # by slug: declared above or already stored
//	    model: gpt-4o                # public name: declared above or already stored
//	    messages:                    # {{name}} placeholders must be in variables_schema
//	      - {role: system, content: "Answer with one word: positive, negative or neutral."}
//	      - {role: user, content: "{{text}}"}
//	    parameters: {temperature: 0, max_tokens: 5}    # default chat parameters
//	    variables_schema:            # JSON Schema (as YAML) of the variables
//	      type: object
//	      properties: {text: {type: string, maxLength: 4000}}
//	      required: [text]
//	    allowed_overrides: [max_tokens]  # left out: the default list
//	    publish: true                # default true: the declared version is the live one
//
// A field left out of an entry is not managed by the file: it keeps what
// the console set (or its default on creation). ${NAME} in api_key,
// base_url, settings and headers values is replaced by the environment
// variable NAME, so no secret has to sit in the file; an unset variable is
// an error. Unknown fields are errors naming their path
// (providers[1].kindd).
//
// A prompt's template is model, messages, parameters, variables_schema and
// allowed_overrides. Versions are immutable: when the template differs
// from the prompt's latest version, it is saved as a new version (note
// "config file"); otherwise no version is added. With publish true (the
// default) that version is made live when it is not already, so a rollback
// made in the console lasts until the next start; with publish false the
// file leaves the live version alone. Quote a content that starts with
// {{, or YAML reads it as a mapping.
//
// The whole file is checked before anything is written. It imports the
// admin stores, the prompt store, internal/access (to build each provider
// once, as the data plane will) and the provider registry.
package declare

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/access"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/prompts"
	"github.com/sluicehq/sluice/providers"
	_ "github.com/sluicehq/sluice/providers/all" // every provider kind
)

// Actor is who the audit log says made the file's changes.
var Actor = admin.Actor{Email: "config file"}

// Sealer seals credentials before they are stored and opens stored ones
// to compare them (a *secret.Sealer).
type Sealer interface {
	Seal(plaintext string) (string, error)
	Open(sealed string) (string, error)
}

// Deps are what Apply writes with.
type Deps struct {
	// Stores are the admin stores (teams, models, services).
	Stores *admin.Stores
	// Providers is the provider store.
	Providers *admin.Providers
	// Sealer seals and opens provider credentials.
	Sealer Sealer
	// Prompts is the prompt store (needed only when prompts are declared).
	Prompts *prompts.Store
	// LookupEnv reads an environment variable for ${NAME} (os.LookupEnv
	// in production).
	LookupEnv func(name string) (string, bool)
	// Actor is who the audit log names for the changes; empty means Actor
	// (the package variable, "config file").
	Actor admin.Actor
}

// Summary lists what Apply did, one "kind name" entry per resource.
type Summary struct {
	Created   []string
	Updated   []string
	Unchanged []string
}

// Changed reports whether Apply wrote anything.
func (s Summary) Changed() bool { return len(s.Created)+len(s.Updated) > 0 }

func (s Summary) String() string {
	return fmt.Sprintf("created %d (%s), updated %d (%s), unchanged %d",
		len(s.Created), strings.Join(s.Created, ", "), len(s.Updated), strings.Join(s.Updated, ", "), len(s.Unchanged))
}

// The declared entries. Pointer and map fields are nil when left out.
type (
	providerDecl struct {
		Name          string            `yaml:"name"`
		Kind          string            `yaml:"kind"`
		BaseURL       *string           `yaml:"base_url"`
		APIKey        *string           `yaml:"api_key"`
		Settings      map[string]string `yaml:"settings"`
		Headers       map[string]string `yaml:"headers"`
		TimeoutMillis *int64            `yaml:"timeout_ms"`
		Enabled       *bool             `yaml:"enabled"`
	}
	targetDecl struct {
		Provider      string `yaml:"provider"`
		UpstreamModel string `yaml:"upstream_model"`
		Weight        *int   `yaml:"weight"`
		Priority      *int   `yaml:"priority"`
	}
	modelDecl struct {
		Name        string        `yaml:"name"`
		InputPrice  *float64      `yaml:"input_price"`
		OutputPrice *float64      `yaml:"output_price"`
		Targets     *[]targetDecl `yaml:"targets"`
	}
	limitsDecl struct {
		RPM           int   `yaml:"rpm"`
		TPM           int   `yaml:"tpm"`
		MonthlyTokens int64 `yaml:"monthly_tokens"`
	}
	serviceDecl struct {
		Slug        string      `yaml:"slug"`
		Name        *string     `yaml:"name"`
		Description *string     `yaml:"description"`
		Team        string      `yaml:"team"`
		Approval    *string     `yaml:"approval"`
		Models      *[]string   `yaml:"models"`
		Limits      *limitsDecl `yaml:"limits"`
	}
)

// file is the decoded, checked file.
type file struct {
	providers []providerDecl
	models    []modelDecl
	services  []serviceDecl
	prompts   []promptDecl
}

// Apply checks the declared resources and then writes what differs. An
// error names the entry at fault; nothing is written when the file does
// not check.
//
// Replicas starting together with the same file may race to create the
// same resource; the loser of such a race applies that entry once more,
// which then finds the winner's row.
func Apply(ctx context.Context, res config.Resources, d Deps) (Summary, error) {
	var sum Summary
	if d.LookupEnv == nil {
		d.LookupEnv = func(string) (string, bool) { return "", false }
	}
	f, err := decodeFile(res)
	if err != nil {
		return sum, err
	}
	a := &applier{d: d, sum: &sum}
	if err := a.check(ctx, f); err != nil {
		return sum, err
	}
	for i := range f.providers {
		if err := retryRace(func() error { return a.provider(ctx, i, &f.providers[i]) }); err != nil {
			return sum, err
		}
	}
	for i := range f.models {
		if err := retryRace(func() error { return a.model(ctx, i, &f.models[i]) }); err != nil {
			return sum, err
		}
	}
	for i := range f.services {
		if err := retryRace(func() error { return a.service(ctx, i, &f.services[i]) }); err != nil {
			return sum, err
		}
	}
	for i := range f.prompts {
		if err := retryRace(func() error { return a.prompt(ctx, i, &f.prompts[i]) }); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// retryRace runs apply again when another replica created the same
// resource first: an entry creates at most two rows (a service and its
// team), so it can lose at most two races.
func retryRace(apply func() error) error {
	err := apply()
	for try := 0; try < 2 && errors.Is(err, admin.ErrDuplicate); try++ {
		err = apply()
	}
	return err
}

func decodeFile(res config.Resources) (*file, error) {
	f := &file{}
	if err := decodeSection(&res.Providers, "providers", &f.providers); err != nil {
		return nil, err
	}
	if err := decodeSection(&res.Models, "models", &f.models); err != nil {
		return nil, err
	}
	if err := decodeSection(&res.Services, "services", &f.services); err != nil {
		return nil, err
	}
	if err := decodeSection(&res.Prompts, "prompts", &f.prompts); err != nil {
		return nil, err
	}
	return f, nil
}

// Rules shared with the admin API.
var (
	modelNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$`)
	slugRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	envRE       = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// expand replaces ${NAME} in s by the environment variable NAME.
func (a *applier) expand(path, s string) (string, error) {
	var missing string
	out := envRE.ReplaceAllStringFunc(s, func(m string) string {
		name := envRE.FindStringSubmatch(m)[1]
		v, ok := a.d.LookupEnv(name)
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", errorf(path, "environment variable %s is not set", missing)
	}
	return out, nil
}

func (a *applier) expandMap(path string, m map[string]string) error {
	for k, v := range m {
		x, err := a.expand(path+"."+k, v)
		if err != nil {
			return err
		}
		m[k] = x
	}
	return nil
}

// applier applies one file.
// actor is who the audit log names for a change.
func (a *applier) actor() admin.Actor {
	if a.d.Actor == (admin.Actor{}) {
		return Actor
	}
	return a.d.Actor
}

type applier struct {
	d   Deps
	sum *Summary
	// known are the provider and model names declared or stored.
	providerNames map[string]bool
	modelNames    map[string]bool
	// serviceSlugs are the service slugs declared.
	serviceSlugs map[string]bool
}

// check validates every entry, expands the environment, and checks that
// every reference resolves, before anything is written.
func (a *applier) check(ctx context.Context, f *file) error {
	a.providerNames, a.modelNames = map[string]bool{}, map[string]bool{}
	for i := range f.providers {
		p := &f.providers[i]
		path := fmt.Sprintf("providers[%d]", i)
		if err := a.checkProvider(ctx, path, p); err != nil {
			return err
		}
		if a.providerNames[p.Name] {
			return errorf(path+".name", "provider %q is declared twice", p.Name)
		}
		a.providerNames[p.Name] = true
	}
	for i := range f.models {
		m := &f.models[i]
		path := fmt.Sprintf("models[%d]", i)
		if err := a.checkModel(ctx, path, m); err != nil {
			return err
		}
		if a.modelNames[m.Name] {
			return errorf(path+".name", "model %q is declared twice", m.Name)
		}
		a.modelNames[m.Name] = true
	}
	a.serviceSlugs = map[string]bool{}
	for i := range f.services {
		s := &f.services[i]
		path := fmt.Sprintf("services[%d]", i)
		if err := a.checkService(ctx, path, s); err != nil {
			return err
		}
		if a.serviceSlugs[s.Slug] {
			return errorf(path+".slug", "service %q is declared twice", s.Slug)
		}
		a.serviceSlugs[s.Slug] = true
	}
	promptSlugs := map[string]bool{}
	for i := range f.prompts {
		p := &f.prompts[i]
		path := fmt.Sprintf("prompts[%d]", i)
		if err := a.checkPrompt(ctx, path, p); err != nil {
			return err
		}
		if promptSlugs[p.Slug] {
			return errorf(path+".slug", "prompt %q is declared twice", p.Slug)
		}
		promptSlugs[p.Slug] = true
	}
	return nil
}

func (a *applier) checkProvider(ctx context.Context, path string, p *providerDecl) error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" || len([]rune(p.Name)) > 100 {
		return errorf(path+".name", "name is required: 1 to 100 characters")
	}
	if !slices.Contains(providers.Kinds(), p.Kind) {
		return errorf(path+".kind", "kind must be one of %s", strings.Join(providers.Kinds(), ", "))
	}
	if p.BaseURL != nil {
		v, err := a.expand(path+".base_url", strings.TrimSpace(*p.BaseURL))
		if err != nil {
			return err
		}
		if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			return errorf(path+".base_url", "base_url must be an http:// or https:// URL, or empty for the kind's default")
		}
		p.BaseURL = &v
	}
	if p.APIKey != nil {
		v, err := a.expand(path+".api_key", *p.APIKey)
		if err != nil {
			return err
		}
		v = strings.TrimSpace(v)
		p.APIKey = &v
	}
	if err := a.expandMap(path+".settings", p.Settings); err != nil {
		return err
	}
	if err := a.expandMap(path+".headers", p.Headers); err != nil {
		return err
	}
	if p.TimeoutMillis != nil && *p.TimeoutMillis < 0 {
		return errorf(path+".timeout_ms", "timeout_ms must be 0 (no bound of its own) or more")
	}
	// Build it once, as the data plane will, with what it will be.
	row, key, err := a.merged(ctx, p)
	if err != nil {
		return errorf(path, "%v", err)
	}
	row.APIKeySealed = key
	if _, err := access.BuildProvider(*row, plain{}, nil); err != nil {
		return errorf(path+buildField(err.Error()), "the provider cannot be built: %v", err)
	}
	return nil
}

// settingRE finds the setting a provider's build error names.
var settingRE = regexp.MustCompile(`setting ([A-Za-z0-9._-]+)`)

// buildField is the path suffix of the field a build error is about.
func buildField(msg string) string {
	switch {
	case strings.Contains(msg, "base URL"):
		return ".base_url"
	case settingRE.MatchString(msg):
		return ".settings." + settingRE.FindStringSubmatch(msg)[1]
	case strings.Contains(msg, "setting"):
		return ".settings"
	}
	return ""
}

// plain opens a credential that is not sealed (for the check build).
type plain struct{}

func (plain) Open(s string) (string, error) { return s, nil }

// merged is the stored provider p names (zero when new) with the declared
// fields applied, and its plaintext credential.
func (a *applier) merged(ctx context.Context, p *providerDecl) (*admin.Provider, string, error) {
	row, err := a.d.Providers.ByName(ctx, p.Name)
	switch {
	case errors.Is(err, admin.ErrNotFound):
		row = &admin.Provider{Name: p.Name, Enabled: true}
	case err != nil:
		return nil, "", err
	}
	key, err := a.d.Sealer.Open(row.APIKeySealed)
	if err != nil {
		if p.APIKey == nil {
			return nil, "", fmt.Errorf("the stored api_key cannot be decrypted (sealed with another SLUICE_SECRET_KEY); declare api_key")
		}
		key = "" // replaced below
	}
	next := *row
	next.Kind = p.Kind
	if p.BaseURL != nil {
		next.BaseURL = *p.BaseURL
	}
	if p.APIKey != nil {
		key = *p.APIKey
	}
	if p.Settings != nil {
		next.Settings = admin.EncodeStrings(p.Settings)
	}
	if p.Headers != nil {
		next.Headers = admin.EncodeStrings(p.Headers)
	}
	if p.TimeoutMillis != nil {
		next.TimeoutMillis = *p.TimeoutMillis
	}
	if p.Enabled != nil {
		next.Enabled = *p.Enabled
	}
	return &next, key, nil
}

func (a *applier) checkModel(ctx context.Context, path string, m *modelDecl) error {
	if !modelNameRE.MatchString(m.Name) {
		return errorf(path+".name", "name is required: 1 to 200 letters, digits and . _ : / @ + -, starting with a letter or digit")
	}
	for _, p := range []struct {
		field string
		v     *float64
	}{{"input_price", m.InputPrice}, {"output_price", m.OutputPrice}} {
		if p.v != nil && (*p.v < 0 || *p.v > 1e9 || *p.v != *p.v) {
			return errorf(path+"."+p.field, "%s must be a number from 0 (USD per million tokens)", p.field)
		}
	}
	if m.Targets == nil {
		return nil
	}
	seen := map[[2]string]int{}
	for j := range *m.Targets {
		t := &(*m.Targets)[j]
		tp := fmt.Sprintf("%s.targets[%d]", path, j)
		t.Provider, t.UpstreamModel = strings.TrimSpace(t.Provider), strings.TrimSpace(t.UpstreamModel)
		if t.Provider == "" {
			return errorf(tp+".provider", "provider is required: the name of a provider")
		}
		if !a.providerNames[t.Provider] {
			if _, err := a.d.Providers.ByName(ctx, t.Provider); errors.Is(err, admin.ErrNotFound) {
				return errorf(tp+".provider", "no provider is called %q (declare it under providers or create it in the console)", t.Provider)
			} else if err != nil {
				return err
			}
		}
		if t.UpstreamModel == "" || len(t.UpstreamModel) > 200 {
			return errorf(tp+".upstream_model", "upstream_model is required: the model name the provider knows")
		}
		if t.Weight != nil && *t.Weight < 1 {
			return errorf(tp+".weight", "weight must be 1 or more")
		}
		if t.Priority != nil && *t.Priority < 0 {
			return errorf(tp+".priority", "priority must be 0 (tried first) or more")
		}
		key := [2]string{t.Provider, t.UpstreamModel}
		if k, dup := seen[key]; dup {
			return errorf(tp, "repeats targets[%d] (same provider and upstream model)", k)
		}
		seen[key] = j
	}
	return nil
}

func (a *applier) checkService(ctx context.Context, path string, s *serviceDecl) error {
	if !slugRE.MatchString(s.Slug) {
		return errorf(path+".slug", "slug is required: 1 to 63 lower-case letters, digits and '-', starting with a letter or digit")
	}
	if s.Name != nil {
		if n := strings.TrimSpace(*s.Name); n == "" || len([]rune(n)) > 200 {
			return errorf(path+".name", "name must be 1 to 200 characters (left out: the slug)")
		}
	}
	if s.Description != nil {
		if *s.Description = strings.TrimSpace(*s.Description); len([]rune(*s.Description)) > 10000 {
			return errorf(path+".description", "description must have at most 10000 characters")
		}
	}
	s.Team = strings.TrimSpace(s.Team)
	if s.Team == "" || len([]rune(s.Team)) > 100 {
		return errorf(path+".team", "team is required: the name of the team owning the service (created when missing)")
	}
	if s.Approval != nil && *s.Approval != admin.ApprovalManual && *s.Approval != admin.ApprovalAuto {
		return errorf(path+".approval", "approval must be manual or auto")
	}
	if l := s.Limits; l != nil {
		switch {
		case l.RPM < 0:
			return errorf(path+".limits.rpm", "rpm must be 0 (unlimited) or more")
		case l.TPM < 0:
			return errorf(path+".limits.tpm", "tpm must be 0 (unlimited) or more")
		case l.MonthlyTokens < 0:
			return errorf(path+".limits.monthly_tokens", "monthly_tokens must be 0 (unlimited) or more")
		}
	}
	if s.Models != nil {
		for j, name := range *s.Models {
			if a.modelNames[name] {
				continue
			}
			if _, err := a.d.Stores.Models.ByName(ctx, name); errors.Is(err, admin.ErrNotFound) {
				return errorf(fmt.Sprintf("%s.models[%d]", path, j), "no model is called %q (declare it under models or create it in the console)", name)
			} else if err != nil {
				return err
			}
		}
	}
	return nil
}
