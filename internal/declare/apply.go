package declare

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/admin"
)

// provider creates or updates the provider p declares.
func (a *applier) provider(ctx context.Context, i int, p *providerDecl) error {
	path, what := fmt.Sprintf("providers[%d]", i), "provider "+p.Name
	row, err := a.d.Providers.ByName(ctx, p.Name)
	if errors.Is(err, admin.ErrNotFound) {
		next, key, err := a.merged(ctx, p)
		if err != nil {
			return errorf(path, "%v", err)
		}
		if next.APIKeySealed, err = a.seal(key); err != nil {
			return errorf(path+".api_key", "%v", err)
		}
		if err := a.d.Providers.Create(ctx, a.actor(), next); err != nil {
			return wrap(path, err)
		}
		a.sum.Created = append(a.sum.Created, what)
		return nil
	}
	if err != nil {
		return err
	}
	var u admin.ProviderUpdate
	changed := false
	if p.Kind != row.Kind {
		u.Kind, changed = &p.Kind, true
	}
	if p.BaseURL != nil && *p.BaseURL != row.BaseURL {
		u.BaseURL, changed = p.BaseURL, true
	}
	if p.APIKey != nil {
		stored, err := a.d.Sealer.Open(row.APIKeySealed)
		if err != nil || stored != *p.APIKey {
			sealed, err := a.seal(*p.APIKey)
			if err != nil {
				return errorf(path+".api_key", "%v", err)
			}
			u.APIKeySealed, changed = &sealed, true
		}
	}
	if p.Settings != nil && admin.EncodeStrings(p.Settings) != row.Settings {
		u.Settings, changed = &p.Settings, true
	}
	if p.Headers != nil && admin.EncodeStrings(p.Headers) != row.Headers {
		u.Headers, changed = &p.Headers, true
	}
	if p.TimeoutMillis != nil && *p.TimeoutMillis != row.TimeoutMillis {
		u.TimeoutMillis, changed = p.TimeoutMillis, true
	}
	if p.Enabled != nil && *p.Enabled != row.Enabled {
		u.Enabled, changed = p.Enabled, true
	}
	return a.update(what, changed, func() error {
		_, err := a.d.Providers.Update(ctx, a.actor(), row.ID, u, nil)
		return wrap(path, err)
	})
}

func (a *applier) seal(key string) (string, error) {
	if key == "" {
		return "", nil
	}
	return a.d.Sealer.Seal(key)
}

// update runs write when changed and records the outcome.
func (a *applier) update(what string, changed bool, write func() error) error {
	if !changed {
		a.sum.Unchanged = append(a.sum.Unchanged, what)
		return nil
	}
	if err := write(); err != nil {
		return err
	}
	a.sum.Updated = append(a.sum.Updated, what)
	return nil
}

func wrap(path string, err error) error {
	if err == nil {
		return nil
	}
	var fe *admin.FieldError
	if errors.As(err, &fe) {
		return &Error{Path: path + "." + fe.Field, Problem: fe.Message, Err: err}
	}
	return &Error{Path: path, Problem: err.Error(), Err: err}
}

// targets resolves the declared targets' provider names to ids.
func (a *applier) targets(ctx context.Context, decl []targetDecl) ([]admin.ModelTarget, error) {
	out := make([]admin.ModelTarget, len(decl))
	for j, t := range decl {
		p, err := a.d.Providers.ByName(ctx, t.Provider)
		if err != nil {
			return nil, fmt.Errorf("targets[%d].provider: %w", j, err)
		}
		out[j] = admin.ModelTarget{ProviderID: p.ID, UpstreamModel: t.UpstreamModel, Weight: 1}
		if t.Weight != nil {
			out[j].Weight = *t.Weight
		}
		if t.Priority != nil {
			out[j].Priority = *t.Priority
		}
	}
	return out, nil
}

// model creates or updates the model m declares.
func (a *applier) model(ctx context.Context, i int, m *modelDecl) error {
	path, what := fmt.Sprintf("models[%d]", i), "model "+m.Name
	var targets []admin.ModelTarget
	if m.Targets != nil {
		var err error
		if targets, err = a.targets(ctx, *m.Targets); err != nil {
			return errorf(path, "%v", err)
		}
	}
	cur, err := a.d.Stores.Models.ByName(ctx, m.Name)
	if errors.Is(err, admin.ErrNotFound) {
		row := &admin.Model{Name: m.Name}
		if m.InputPrice != nil {
			row.InputPrice = *m.InputPrice
		}
		if m.OutputPrice != nil {
			row.OutputPrice = *m.OutputPrice
		}
		if _, err := a.d.Stores.Models.Create(ctx, a.actor(), row, targets); err != nil {
			return wrap(path, err)
		}
		a.sum.Created = append(a.sum.Created, what)
		return nil
	}
	if err != nil {
		return err
	}
	var u admin.ModelUpdate
	changed := false
	if m.InputPrice != nil && *m.InputPrice != cur.InputPrice {
		u.InputPrice, changed = m.InputPrice, true
	}
	if m.OutputPrice != nil && *m.OutputPrice != cur.OutputPrice {
		u.OutputPrice, changed = m.OutputPrice, true
	}
	if m.Targets != nil {
		stored := make([]admin.ModelTarget, len(cur.Targets))
		for j, t := range cur.Targets {
			stored[j] = t.ModelTarget
		}
		if !admin.SameTargets(stored, targets) {
			u.Targets, changed = &targets, true
		}
	}
	return a.update(what, changed, func() error {
		_, err := a.d.Stores.Models.Update(ctx, a.actor(), cur.ID, u)
		return wrap(path, err)
	})
}

// teamID finds the team called name, creating it when missing.
func (a *applier) teamID(ctx context.Context, name string) (uint64, error) {
	for page := 1; ; page++ {
		teams, total, err := a.d.Stores.Teams.List(ctx, admin.TeamFilter{Q: name, Page: admin.Page{Page: page, PerPage: admin.MaxPerPage}})
		if err != nil {
			return 0, err
		}
		for _, t := range teams {
			if t.Name == name {
				return t.ID, nil
			}
		}
		if int64(page*admin.MaxPerPage) >= total {
			break
		}
	}
	t, err := a.d.Stores.Teams.Create(ctx, a.actor(), name)
	if err != nil {
		return 0, err
	}
	a.sum.Created = append(a.sum.Created, "team "+name)
	return t.ID, nil
}

// serviceBySlug finds the service with slug; nil when there is none.
func (a *applier) serviceBySlug(ctx context.Context, slug string) (*admin.Service, error) {
	for page := 1; ; page++ {
		list, total, err := a.d.Stores.Services.List(ctx, admin.ServiceFilter{Scope: admin.AllTeams(), Q: slug,
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

// service creates or updates the service s declares.
func (a *applier) service(ctx context.Context, i int, s *serviceDecl) error {
	path, what := fmt.Sprintf("services[%d]", i), "service "+s.Slug
	team, err := a.teamID(ctx, s.Team)
	if err != nil {
		return wrap(path+".team", err)
	}
	var modelIDs []uint64
	if s.Models != nil {
		modelIDs = make([]uint64, 0, len(*s.Models))
		for j, name := range *s.Models {
			m, err := a.d.Stores.Models.ByName(ctx, name)
			if err != nil {
				return errorf(fmt.Sprintf("%s.models[%d]", path, j), "%v", err)
			}
			modelIDs = append(modelIDs, m.ID)
		}
		slices.Sort(modelIDs)
		modelIDs = slices.Compact(modelIDs)
	}
	var limits *admin.Limits
	if s.Limits != nil {
		limits = &admin.Limits{RPM: s.Limits.RPM, TPM: s.Limits.TPM, MonthlyTokens: s.Limits.MonthlyTokens}
	}
	var name *string
	if s.Name != nil {
		name = ptr(strings.TrimSpace(*s.Name))
	}
	cur, err := a.serviceBySlug(ctx, s.Slug)
	if err != nil {
		return err
	}
	if cur == nil {
		svc := &admin.Service{Slug: s.Slug, Name: s.Slug, TeamID: team, Approval: admin.ApprovalManual}
		if name != nil {
			svc.Name = *name
		}
		if s.Description != nil {
			svc.Description = *s.Description
		}
		if s.Approval != nil {
			svc.Approval = *s.Approval
		}
		if limits != nil {
			svc.Limits = *limits
		}
		if err := a.d.Stores.Services.Create(ctx, a.actor(), svc, modelIDs); err != nil {
			return wrap(path, err)
		}
		a.sum.Created = append(a.sum.Created, what)
		return nil
	}
	var u admin.ServiceUpdate
	changed := false
	if name != nil && *name != cur.Name {
		u.Name, changed = name, true
	}
	if s.Description != nil && *s.Description != cur.Description {
		u.Description, changed = s.Description, true
	}
	if team != cur.TeamID {
		u.TeamID, changed = &team, true
	}
	if s.Approval != nil && *s.Approval != cur.Approval {
		u.Approval, changed = s.Approval, true
	}
	if limits != nil && *limits != cur.Limits {
		u.Limits, changed = limits, true
	}
	if s.Models != nil {
		have := make([]uint64, len(cur.Models))
		for j, m := range cur.Models {
			have[j] = m.ID
		}
		slices.Sort(have)
		if !slices.Equal(have, modelIDs) {
			u.ModelIDs, changed = &modelIDs, true
		}
	}
	return a.update(what, changed, func() error {
		_, err := a.d.Stores.Services.Update(ctx, a.actor(), cur.ID, u)
		return wrap(path, err)
	})
}

func ptr[T any](v T) *T { return &v }
