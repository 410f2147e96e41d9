package admin

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Models stores public models.
type Models struct{ *store }

// ModelFilter selects models.
type ModelFilter struct {
	// Q matches a substring of the name.
	Q    string
	Page Page
}

// ModelUpdate changes the fields that are set.
type ModelUpdate struct {
	Name        *string
	InputPrice  *float64
	OutputPrice *float64
}

// List returns one page of models.
func (s *Models) List(ctx context.Context, f ModelFilter) ([]Model, int64, error) {
	q := whereQ(s.db.WithContext(ctx).Model(&Model{}), f.Q, "name")
	return list[Model](q, f.Page, "id")
}

// Get returns a model.
func (s *Models) Get(ctx context.Context, id uint64) (*Model, error) {
	var m Model
	if err := takeOr(s.db.WithContext(ctx), &m, "model", id); err != nil {
		return nil, err
	}
	return &m, nil
}

// Create adds a model.
func (s *Models) Create(ctx context.Context, a Actor, m *Model) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(m).Error; err != nil {
			return dup(err, fmt.Sprintf("model %q", m.Name))
		}
		return audit(tx, a, "create", "model", m.ID, nil, nil, m)
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

// Update changes a model.
func (s *Models) Update(ctx context.Context, a Actor, id uint64, u ModelUpdate) (*Model, error) {
	var m Model
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := takeOr(tx, &m, "model", id); err != nil {
			return err
		}
		before := m
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
			return dup(err, fmt.Sprintf("model %q", m.Name))
		}
		if err := takeOr(tx, &m, "model", id); err != nil {
			return err
		}
		return audit(tx, a, "update", "model", id, nil, before, m)
	})
	if err != nil {
		return nil, err
	}
	return &m, s.changed(ctx)
}

// Delete removes a model that no service uses.
func (s *Models) Delete(ctx context.Context, a Actor, id uint64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var m Model
		if err := takeOr(tx, &m, "model", id); err != nil {
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
