package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// Models stores public models and their targets (the providers and
// upstream models each one is routed to).
type Models struct{ *store }

// ModelView is a model with its targets, lowest priority number first.
type ModelView struct {
	Model
	Targets []TargetView `json:"targets"`
}

// TargetView is a model target with its provider's name and kind.
type TargetView struct {
	ModelTarget
	ProviderName string `json:"provider_name"`
	ProviderKind string `json:"provider_kind"`
}

// ModelFilter selects models.
type ModelFilter struct {
	// Q matches a substring of the name.
	Q    string
	Page Page
}

// ModelUpdate changes the fields that are set. Targets replaces the whole
// list of targets.
type ModelUpdate struct {
	Name        *string
	InputPrice  *float64
	OutputPrice *float64
	Targets     *[]ModelTarget
}

// List returns one page of models with their targets.
func (s *Models) List(ctx context.Context, f ModelFilter) ([]ModelView, int64, error) {
	db := s.db.WithContext(ctx)
	q := whereQ(db.Model(&Model{}), f.Q, "name")
	models, total, err := list[Model](q, f.Page, "id")
	if err != nil {
		return nil, 0, err
	}
	ids := make([]uint64, len(models))
	for i, m := range models {
		ids[i] = m.ID
	}
	targets, err := targetsOf(db, ids...)
	if err != nil {
		return nil, 0, err
	}
	out := make([]ModelView, len(models))
	for i, m := range models {
		out[i] = ModelView{Model: m, Targets: targetsFor(targets, m.ID)}
	}
	return out, total, nil
}

// Get returns a model with its targets.
func (s *Models) Get(ctx context.Context, id uint64) (*ModelView, error) {
	return s.get(s.db.WithContext(ctx), id)
}

// ByName returns the model called name with its targets.
func (s *Models) ByName(ctx context.Context, name string) (*ModelView, error) {
	var m Model
	err := s.db.WithContext(ctx).Where("name = ?", name).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound("model", fmt.Sprintf("%q", name))
	} else if err != nil {
		return nil, err
	}
	return s.get(s.db.WithContext(ctx), m.ID)
}

func (s *Models) get(tx *gorm.DB, id uint64) (*ModelView, error) {
	var m ModelView
	if err := takeOr(tx, &m.Model, "model", id); err != nil {
		return nil, err
	}
	targets, err := targetsOf(tx, id)
	if err != nil {
		return nil, err
	}
	m.Targets = targetsFor(targets, id)
	return &m, nil
}

// targetsOf reads the targets of the models ids with their providers.
func targetsOf(tx *gorm.DB, ids ...uint64) ([]TargetView, error) {
	out := []TargetView{}
	if len(ids) == 0 {
		return out, nil
	}
	err := tx.Model(&ModelTarget{}).
		Select("model_targets.*, providers.name AS provider_name, providers.kind AS provider_kind").
		Joins("JOIN providers ON providers.id = model_targets.provider_id").
		Where("model_targets.model_id IN ?", ids).
		Order("model_targets.model_id, model_targets.priority, model_targets.id").
		Scan(&out).Error
	return out, err
}

func targetsFor(all []TargetView, modelID uint64) []TargetView {
	out := []TargetView{}
	for _, t := range all {
		if t.ModelID == modelID {
			out = append(out, t)
		}
	}
	return out
}

// setTargets replaces the targets of a model, checking that their
// providers exist. A missing provider is a FieldError naming
// targets[i].provider_id.
func setTargets(tx *gorm.DB, modelID uint64, targets []ModelTarget) error {
	ids := make([]uint64, 0, len(targets))
	for _, t := range targets {
		ids = append(ids, t.ProviderID)
	}
	var found []uint64
	if len(ids) > 0 {
		if err := tx.Model(&Provider{}).Where("id IN ?", ids).Pluck("id", &found).Error; err != nil {
			return err
		}
	}
	for i, t := range targets {
		if !slices.Contains(found, t.ProviderID) {
			return &FieldError{Field: fmt.Sprintf("targets[%d].provider_id", i),
				Message: fmt.Sprintf("no provider has id %d; list the providers with GET /providers", t.ProviderID)}
		}
	}
	if err := tx.Where("model_id = ?", modelID).Delete(&ModelTarget{}).Error; err != nil {
		return err
	}
	if len(targets) == 0 {
		return nil
	}
	rows := make([]ModelTarget, len(targets))
	for i, t := range targets {
		rows[i] = ModelTarget{ModelID: modelID, ProviderID: t.ProviderID, UpstreamModel: t.UpstreamModel,
			Weight: t.Weight, Priority: t.Priority}
	}
	return tx.Create(&rows).Error
}

// Create adds a model with its targets.
func (s *Models) Create(ctx context.Context, a Actor, m *Model, targets []ModelTarget) (*ModelView, error) {
	var view *ModelView
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(m).Error; err != nil {
			return dup(err, fmt.Sprintf("model %q", m.Name))
		}
		if err := setTargets(tx, m.ID, targets); err != nil {
			return err
		}
		var err error
		if view, err = s.get(tx, m.ID); err != nil {
			return err
		}
		return audit(tx, a, "create", "model", m.ID, nil, nil, view)
	})
	if err != nil {
		return nil, err
	}
	return view, s.changed(ctx)
}

// Update changes a model.
func (s *Models) Update(ctx context.Context, a Actor, id uint64, u ModelUpdate) (*ModelView, error) {
	var after *ModelView
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, err := s.get(tx, id)
		if err != nil {
			return err
		}
		set := map[string]any{"updated_at": s.now()}
		if u.Name != nil {
			set["name"] = *u.Name
		}
		if u.InputPrice != nil {
			set["input_price"] = *u.InputPrice
		}
		if u.OutputPrice != nil {
			set["output_price"] = *u.OutputPrice
		}
		if err := tx.Model(&Model{}).Where("id = ?", id).Updates(set).Error; err != nil {
			name := before.Name
			if u.Name != nil {
				name = *u.Name
			}
			return dup(err, fmt.Sprintf("model %q", name))
		}
		if u.Targets != nil {
			if err := setTargets(tx, id, *u.Targets); err != nil {
				return err
			}
		}
		if after, err = s.get(tx, id); err != nil {
			return err
		}
		return audit(tx, a, "update", "model", id, nil, before, after)
	})
	if err != nil {
		return nil, err
	}
	return after, s.changed(ctx)
}

// Delete removes a model that no service uses, with its targets.
func (s *Models) Delete(ctx context.Context, a Actor, id uint64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		m, err := s.get(tx, id)
		if err != nil {
			return err
		}
		var slugs []string
		if err := tx.Model(&Service{}).Joins("JOIN service_models ON service_models.service_id = services.id").
			Where("service_models.model_id = ?", id).Order("services.slug").Pluck("services.slug", &slugs).Error; err != nil {
			return err
		}
		if len(slugs) > 0 {
			return &ConflictError{Message: fmt.Sprintf("model %q is used by services %s; remove it from them first", m.Name, strings.Join(slugs, ", "))}
		}
		if err := tx.Where("model_id = ?", id).Delete(&ModelTarget{}).Error; err != nil {
			return err
		}
		if err := tx.Delete(&Model{}, id).Error; err != nil {
			return err
		}
		return audit(tx, a, "delete", "model", id, nil, m, nil)
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

// SameTargets reports whether two target lists route alike: the same
// providers, upstream models, weights and priorities, in any order (ids and
// model ids are ignored).
func SameTargets(a []ModelTarget, b []ModelTarget) bool {
	if len(a) != len(b) {
		return false
	}
	norm := func(ts []ModelTarget) []ModelTarget {
		out := make([]ModelTarget, len(ts))
		for i, t := range ts {
			out[i] = ModelTarget{ProviderID: t.ProviderID, UpstreamModel: t.UpstreamModel, Weight: t.Weight, Priority: t.Priority}
		}
		slices.SortFunc(out, func(x, y ModelTarget) int {
			return cmp.Or(cmp.Compare(x.Priority, y.Priority), cmp.Compare(x.ProviderID, y.ProviderID),
				strings.Compare(x.UpstreamModel, y.UpstreamModel), cmp.Compare(x.Weight, y.Weight))
		})
		return out
	}
	return slices.Equal(norm(a), norm(b))
}
