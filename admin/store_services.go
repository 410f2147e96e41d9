package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Services stores services and the models they group.
type Services struct{ *store }

// ServiceFilter selects services.
type ServiceFilter struct {
	Scope  Scope
	TeamID uint64
	// Q matches a substring of the name or slug.
	Q    string
	Page Page
}

// ServiceUpdate changes the fields that are set.
type ServiceUpdate struct {
	Slug        *string
	Name        *string
	Description *string
	TeamID      *uint64
	Approval    *string
	Limits      *Limits
	ModelIDs    *[]uint64
	// LogBodies, LogRetentionDays and RedactFields: see Service.
	LogBodies        *bool
	LogRetentionDays *int
	RedactFields     *[]string
}

func preloadModels(q *gorm.DB) *gorm.DB {
	return q.Preload("Models", func(db *gorm.DB) *gorm.DB { return db.Order("models.id") })
}

// List returns one page of services with their models.
func (s *Services) List(ctx context.Context, f ServiceFilter) ([]Service, int64, error) {
	q := f.Scope.where(s.db.WithContext(ctx).Model(&Service{}), "team_id")
	if f.TeamID != 0 {
		q = q.Where("team_id = ?", f.TeamID)
	}
	q = whereQ(q, f.Q, "name", "slug")
	return list[Service](preloadModels(q), f.Page, "id")
}

// Get returns a service with its models.
func (s *Services) Get(ctx context.Context, id uint64) (*Service, error) {
	return s.get(s.db.WithContext(ctx), id)
}

func (s *Services) get(tx *gorm.DB, id uint64) (*Service, error) {
	var svc Service
	if err := takeOr(preloadModels(tx), &svc, "service", id); err != nil {
		return nil, err
	}
	if svc.Models == nil {
		svc.Models = []Model{}
	}
	if svc.RedactFields == nil {
		svc.RedactFields = []string{}
	}
	return &svc, nil
}

// checkTeam answers a FieldError when the team does not exist.
func checkTeam(tx *gorm.DB, id uint64) error {
	err := tx.Where("id = ?", id).Take(&Team{}).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &FieldError{Field: "team_id", Message: fmt.Sprintf("no team has id %d", id)}
	}
	return err
}

// setModels replaces the models of a service, checking that they exist.
func setModels(tx *gorm.DB, serviceID uint64, ids []uint64) error {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > 0 {
		var found []uint64
		if err := tx.Model(&Model{}).Where("id IN ?", ids).Pluck("id", &found).Error; err != nil {
			return err
		}
		for _, id := range ids {
			if !slices.Contains(found, id) {
				return &FieldError{Field: "model_ids", Message: fmt.Sprintf("no model has id %d; list the models with GET /models", id)}
			}
		}
	}
	if err := tx.Where("service_id = ?", serviceID).Delete(&ServiceModel{}).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	links := make([]ServiceModel, len(ids))
	for i, id := range ids {
		links[i] = ServiceModel{ServiceID: serviceID, ModelID: id}
	}
	return tx.Create(&links).Error
}

// Create adds a service with the given models.
func (s *Services) Create(ctx context.Context, a Actor, svc *Service, modelIDs []uint64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := checkTeam(tx, svc.TeamID); err != nil {
			return err
		}
		svc.Models = nil
		if err := tx.Omit(clause.Associations).Create(svc).Error; err != nil {
			return dup(err, fmt.Sprintf("service slug %q", svc.Slug))
		}
		if err := setModels(tx, svc.ID, modelIDs); err != nil {
			return err
		}
		got, err := s.get(tx, svc.ID)
		if err != nil {
			return err
		}
		*svc = *got
		return audit(tx, a, "create", "service", svc.ID, &svc.TeamID, nil, svc)
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

// Update changes a service. The caller checks that the actor may write to
// both the old and the new team.
func (s *Services) Update(ctx context.Context, a Actor, id uint64, u ServiceUpdate) (*Service, error) {
	var after *Service
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, err := s.get(tx, id)
		if err != nil {
			return err
		}
		set := map[string]any{"updated_at": s.now()}
		if u.Slug != nil {
			set["slug"] = *u.Slug
		}
		if u.Name != nil {
			set["name"] = *u.Name
		}
		if u.Description != nil {
			set["description"] = *u.Description
		}
		if u.TeamID != nil {
			if err := checkTeam(tx, *u.TeamID); err != nil {
				return err
			}
			set["team_id"] = *u.TeamID
		}
		if u.Approval != nil {
			set["approval"] = *u.Approval
		}
		if u.Limits != nil {
			set["rpm"], set["tpm"], set["monthly_tokens"] = u.Limits.RPM, u.Limits.TPM, u.Limits.MonthlyTokens
		}
		if u.LogBodies != nil {
			set["log_bodies"] = *u.LogBodies
		}
		if u.LogRetentionDays != nil {
			set["log_retention_days"] = *u.LogRetentionDays
		}
		if u.RedactFields != nil {
			b, err := json.Marshal(*u.RedactFields)
			if err != nil {
				return err
			}
			set["redact_fields"] = string(b)
		}
		if err := tx.Model(&Service{}).Where("id = ?", id).Updates(set).Error; err != nil {
			slug := before.Slug
			if u.Slug != nil {
				slug = *u.Slug
			}
			return dup(err, fmt.Sprintf("service slug %q", slug))
		}
		if u.ModelIDs != nil {
			if err := setModels(tx, id, *u.ModelIDs); err != nil {
				return err
			}
		}
		if after, err = s.get(tx, id); err != nil {
			return err
		}
		return audit(tx, a, "update", "service", id, &after.TeamID, before, after)
	})
	if err != nil {
		return nil, err
	}
	return after, s.changed(ctx)
}

// Delete removes a service with its model links and its subscriptions
// (and their history; the audit log keeps the service as it was).
func (s *Services) Delete(ctx context.Context, a Actor, id uint64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, err := s.get(tx, id)
		if err != nil {
			return err
		}
		subs := tx.Model(&Subscription{}).Select("id").Where("service_id = ?", id)
		if err := tx.Where("subscription_id IN (?)", subs).Delete(&SubscriptionEvent{}).Error; err != nil {
			return err
		}
		if err := tx.Where("service_id = ?", id).Delete(&Subscription{}).Error; err != nil {
			return err
		}
		if err := tx.Where("service_id = ?", id).Delete(&ServiceModel{}).Error; err != nil {
			return err
		}
		if err := tx.Delete(&Service{}, id).Error; err != nil {
			return err
		}
		return audit(tx, a, "delete", "service", id, &before.TeamID, before, nil)
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}
