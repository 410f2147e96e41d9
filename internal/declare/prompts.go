package declare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/prompts"
)

// Note is the note of every version the file saves.
const Note = "config file"

type (
	messageDecl struct {
		Role    string `yaml:"role"`
		Content string `yaml:"content"`
	}
	promptDecl struct {
		Slug             string        `yaml:"slug"`
		Name             *string       `yaml:"name"`
		Description      *string       `yaml:"description"`
		Service          string        `yaml:"service"`
		Model            string        `yaml:"model"`
		Messages         []messageDecl `yaml:"messages"`
		Parameters       *yaml.Node    `yaml:"parameters"`
		VariablesSchema  *yaml.Node    `yaml:"variables_schema"`
		AllowedOverrides *[]string     `yaml:"allowed_overrides"`
		Publish          *bool         `yaml:"publish"`

		// Set by check: the template as a version holds it.
		messages   []prompts.Message
		parameters json.RawMessage
		schema     json.RawMessage
		overrides  []string
	}
)

// checkPrompt validates a prompt entry and compiles its template, as the
// prompt store will at save.
func (a *applier) checkPrompt(ctx context.Context, path string, p *promptDecl) error {
	if a.d.Prompts == nil {
		return errorf("prompts", "prompts cannot be declared here (no prompt store)")
	}
	if !slugRE.MatchString(p.Slug) {
		return errorf(path+".slug", "slug is required: 1 to 63 lower-case letters, digits and '-', starting with a letter or digit (it is the URL: /v1/prompts/SLUG)")
	}
	if p.Name != nil {
		if *p.Name = strings.TrimSpace(*p.Name); *p.Name == "" || len([]rune(*p.Name)) > 200 {
			return errorf(path+".name", "name must be 1 to 200 characters (left out: the slug)")
		}
	}
	if p.Description != nil {
		if *p.Description = strings.TrimSpace(*p.Description); len([]rune(*p.Description)) > 10000 {
			return errorf(path+".description", "description must have at most 10000 characters")
		}
	}
	p.Service = strings.TrimSpace(p.Service)
	if p.Service == "" {
		return errorf(path+".service", "service is required: the slug of the service whose subscribers may call the prompt")
	}
	if !a.serviceSlugs[p.Service] {
		if svc, err := a.serviceBySlug(ctx, p.Service); err != nil {
			return err
		} else if svc == nil {
			return errorf(path+".service", "no service has the slug %q (declare it under services or create it in the console)", p.Service)
		}
	}
	p.Model = strings.TrimSpace(p.Model)
	if p.Model != "" && !a.modelNames[p.Model] {
		if _, err := a.d.Stores.Models.ByName(ctx, p.Model); errors.Is(err, admin.ErrNotFound) {
			return errorf(path+".model", "no model is called %q (declare it under models or create it in the console)", p.Model)
		} else if err != nil {
			return err
		}
	}
	p.messages = make([]prompts.Message, len(p.Messages))
	for j, m := range p.Messages {
		p.messages[j] = prompts.Message{Role: m.Role, Content: m.Content}
	}
	var err error
	if p.parameters, err = jsonOf(path+".parameters", p.Parameters, "a mapping of chat completions parameters, e.g. {temperature: 0.2, max_tokens: 200}"); err != nil {
		return err
	}
	if p.schema, err = jsonOf(path+".variables_schema", p.VariablesSchema, "a JSON Schema mapping, e.g. {type: object, properties: {text: {type: string}}}"); err != nil {
		return err
	}
	if p.AllowedOverrides != nil {
		p.overrides = slices.Clone(*p.AllowedOverrides)
		if p.overrides == nil {
			p.overrides = []string{}
		}
	}
	if _, err := prompts.Compile(p.Model, p.messages, p.parameters, p.schema, p.overrides); err != nil {
		return wrap(path, err)
	}
	return nil
}

// jsonOf is the JSON of a mapping node; nil when it is left out.
func jsonOf(path string, n *yaml.Node, want string) (json.RawMessage, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil, errorf(path, "expected %s", want)
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, errorf(path, "%v", err)
	}
	v, err := jsonable(path, v)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, errorf(path, "cannot be written as JSON: %v", err)
	}
	return b, nil
}

// jsonable checks that every mapping has text keys, converting YAML's
// generic mappings to JSON objects.
func jsonable(path string, v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			c, err := jsonable(path+"."+k, e)
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			s, ok := k.(string)
			if !ok {
				return nil, errorf(path, "key %v: keys must be text", k)
			}
			c, err := jsonable(path+"."+s, e)
			if err != nil {
				return nil, err
			}
			out[s] = c
		}
		return out, nil
	case []any:
		for i, e := range x {
			c, err := jsonable(fmt.Sprintf("%s[%d]", path, i), e)
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
	}
	return v, nil
}

// sameJSON reports whether two JSON texts hold the same value (key order
// and spacing aside).
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func orDefault(raw json.RawMessage, def string) json.RawMessage {
	if raw == nil {
		return json.RawMessage(def)
	}
	return raw
}

// sameTemplate reports whether stored version v holds the template p
// declares.
func sameTemplate(v *prompts.Version, p *promptDecl) bool {
	return strings.TrimSpace(v.Model) == p.Model &&
		slices.Equal(v.Messages, p.messages) &&
		sameJSON(orDefault(v.Parameters, "{}"), orDefault(p.parameters, "{}")) &&
		sameJSON(orDefault(v.VariablesSchema, prompts.EmptySchema), orDefault(p.schema, prompts.EmptySchema)) &&
		(v.AllowedOverrides == nil) == (p.overrides == nil) && slices.Equal(v.AllowedOverrides, p.overrides)
}

// promptBySlug finds the prompt with slug; nil when there is none.
func (a *applier) promptBySlug(ctx context.Context, slug string) (*prompts.View, error) {
	for page := 1; ; page++ {
		list, total, err := a.d.Prompts.List(ctx, prompts.Filter{Scope: admin.AllTeams(), Q: slug,
			Page: admin.Page{Page: page, PerPage: admin.MaxPerPage}})
		if err != nil {
			return nil, err
		}
		for i := range list {
			if list[i].Slug == slug {
				return &list[i], nil
			}
		}
		if int64(page*admin.MaxPerPage) >= total {
			return nil, nil
		}
	}
}

// prompt creates or updates the prompt p declares, saves its template as
// a new version when it differs from the latest, and publishes it.
func (a *applier) prompt(ctx context.Context, i int, p *promptDecl) error {
	path, what := fmt.Sprintf("prompts[%d]", i), "prompt "+p.Slug
	svc, err := a.serviceBySlug(ctx, p.Service)
	if err != nil {
		return err
	}
	if svc == nil {
		return errorf(path+".service", "no service has the slug %q", p.Service)
	}
	cur, err := a.promptBySlug(ctx, p.Slug)
	if err != nil {
		return err
	}
	created, changed := false, false
	if cur == nil {
		row := &prompts.Prompt{Slug: p.Slug, Name: p.Slug, ServiceID: svc.ID}
		if p.Name != nil {
			row.Name = *p.Name
		}
		if p.Description != nil {
			row.Description = *p.Description
		}
		if cur, err = a.d.Prompts.Create(ctx, a.actor(), row); err != nil {
			return wrap(path, err)
		}
		created = true
	} else {
		var u prompts.Update
		if p.Name != nil && *p.Name != cur.Name {
			u.Name, changed = p.Name, true
		}
		if p.Description != nil && *p.Description != cur.Description {
			u.Description, changed = p.Description, true
		}
		if svc.ID != cur.ServiceID {
			u.ServiceID, changed = &svc.ID, true
		}
		if changed {
			if cur, err = a.d.Prompts.Update(ctx, a.actor(), cur.ID, u); err != nil {
				return wrap(path, err)
			}
		}
	}
	n := cur.LatestVersion
	same := false
	if n > 0 {
		latest, err := a.d.Prompts.Version(ctx, cur.ID, n)
		if err != nil {
			return err
		}
		same = sameTemplate(latest, p)
	}
	if !same {
		v := &prompts.Version{Model: p.Model, Messages: p.messages, Parameters: p.parameters,
			VariablesSchema: p.schema, AllowedOverrides: p.overrides, Note: Note}
		if err := a.d.Prompts.AddVersion(ctx, a.actor(), cur.ID, v); err != nil {
			return wrap(path, err)
		}
		n, changed = v.Version, true
	}
	if (p.Publish == nil || *p.Publish) && cur.PublishedVersion != n {
		if _, err := a.d.Prompts.Publish(ctx, a.actor(), cur.ID, n); err != nil {
			return wrap(path, err)
		}
		changed = true
	}
	switch {
	case created:
		a.sum.Created = append(a.sum.Created, what)
	case changed:
		a.sum.Updated = append(a.sum.Updated, what)
	default:
		a.sum.Unchanged = append(a.sum.Unchanged, what)
	}
	return nil
}
