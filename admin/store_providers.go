package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Providers stores upstream providers. Credentials reach it already sealed
// (APIKeySealed); it never sees a plaintext key, and what it writes to the
// audit log is the ProviderView, which holds no credential at all.
type Providers struct{ *store }

// NewProviders returns the provider store over db, sharing the notifier and
// clock conventions of NewStores.
func NewProviders(db *gorm.DB, notifier ChangeNotifier, clock Clock) *Providers {
	return &Providers{NewStores(db, notifier, clock).Models.store}
}

// ProviderView is a provider as the admin API shows it: settings and
// headers decoded, and whether a credential is set instead of the
// credential.
type ProviderView struct {
	ID            uint64            `json:"id"`
	Name          string            `json:"name"`
	Kind          string            `json:"kind"`
	BaseURL       string            `json:"base_url"`
	HasAPIKey     bool              `json:"has_api_key"`
	Settings      map[string]string `json:"settings"`
	Headers       map[string]string `json:"headers"`
	TimeoutMillis int64             `json:"timeout_ms"`
	Enabled       bool              `json:"enabled"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

// View is p without its credential.
func (p *Provider) View() ProviderView {
	return ProviderView{ID: p.ID, Name: p.Name, Kind: p.Kind, BaseURL: p.BaseURL, HasAPIKey: p.APIKeySealed != "",
		Settings: DecodeStrings(p.Settings), Headers: DecodeStrings(p.Headers), TimeoutMillis: p.TimeoutMillis,
		Enabled: p.Enabled, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// EncodeStrings is the stored form of a provider's settings or headers:
// "" for none, else a JSON object with sorted keys, so equal maps store
// equal text.
func EncodeStrings(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "" // a map of strings always marshals
	}
	return string(b)
}

// DecodeStrings reads what EncodeStrings stored; never nil.
func DecodeStrings(s string) map[string]string {
	m := map[string]string{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &m)
	}
	return m
}

// ProviderFilter selects providers.
type ProviderFilter struct {
	// Q matches a substring of the name or base URL.
	Q string
	// Kind selects one kind.
	Kind string
	Page Page
}

// ProviderUpdate changes the fields that are set. APIKeySealed set to ""
// removes the credential.
type ProviderUpdate struct {
	Name          *string
	Kind          *string
	BaseURL       *string
	APIKeySealed  *string
	Settings      *map[string]string
	Headers       *map[string]string
	TimeoutMillis *int64
	Enabled       *bool
}

// apply sets the fields of u on p.
func (u ProviderUpdate) apply(p *Provider) {
	if u.Name != nil {
		p.Name = *u.Name
	}
	if u.Kind != nil {
		p.Kind = *u.Kind
	}
	if u.BaseURL != nil {
		p.BaseURL = *u.BaseURL
	}
	if u.APIKeySealed != nil {
		p.APIKeySealed = *u.APIKeySealed
	}
	if u.Settings != nil {
		p.Settings = EncodeStrings(*u.Settings)
	}
	if u.Headers != nil {
		p.Headers = EncodeStrings(*u.Headers)
	}
	if u.TimeoutMillis != nil {
		p.TimeoutMillis = *u.TimeoutMillis
	}
	if u.Enabled != nil {
		p.Enabled = *u.Enabled
	}
}

// List returns one page of providers.
func (s *Providers) List(ctx context.Context, f ProviderFilter) ([]Provider, int64, error) {
	q := whereQ(s.db.WithContext(ctx).Model(&Provider{}), f.Q, "name", "base_url")
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	return list[Provider](q, f.Page, "id")
}

// Get returns a provider row, sealed credential included (to build it).
func (s *Providers) Get(ctx context.Context, id uint64) (*Provider, error) {
	var p Provider
	if err := takeOr(s.db.WithContext(ctx), &p, "provider", id); err != nil {
		return nil, err
	}
	return &p, nil
}

// ByName returns the provider called name.
func (s *Providers) ByName(ctx context.Context, name string) (*Provider, error) {
	var p Provider
	err := s.db.WithContext(ctx).Where("name = ?", name).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound("provider", fmt.Sprintf("%q", name))
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// Create adds a provider.
func (s *Providers) Create(ctx context.Context, a Actor, p *Provider) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(p).Error; err != nil {
			return dup(err, fmt.Sprintf("provider %q", p.Name))
		}
		return audit(tx, a, "create", "provider", p.ID, nil, nil, p.View())
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

// Update changes a provider. check, when not nil, sees the provider as it
// will be and may refuse it (the caller builds it once to validate); it
// runs inside the transaction.
func (s *Providers) Update(ctx context.Context, a Actor, id uint64, u ProviderUpdate, check func(*Provider) error) (*Provider, error) {
	var p Provider
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := takeOr(tx, &p, "provider", id); err != nil {
			return err
		}
		before := p.View()
		next := p
		u.apply(&next)
		if check != nil {
			if err := check(&next); err != nil {
				return err
			}
		}
		set := map[string]any{"name": next.Name, "kind": next.Kind, "base_url": next.BaseURL,
			"api_key_sealed": next.APIKeySealed, "settings": next.Settings, "headers": next.Headers,
			"timeout_millis": next.TimeoutMillis, "enabled": next.Enabled, "updated_at": s.now()}
		if err := tx.Model(&Provider{}).Where("id = ?", id).Updates(set).Error; err != nil {
			return dup(err, fmt.Sprintf("provider %q", next.Name))
		}
		if err := takeOr(tx, &p, "provider", id); err != nil {
			return err
		}
		return audit(tx, a, "update", "provider", id, nil, before, p.View())
	})
	if err != nil {
		return nil, err
	}
	return &p, s.changed(ctx)
}

// Delete removes a provider that no model routes to.
func (s *Providers) Delete(ctx context.Context, a Actor, id uint64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var p Provider
		if err := takeOr(tx, &p, "provider", id); err != nil {
			return err
		}
		var names []string
		if err := tx.Model(&Model{}).Distinct("models.name").
			Joins("JOIN model_targets ON model_targets.model_id = models.id").
			Where("model_targets.provider_id = ?", id).Order("models.name").Pluck("models.name", &names).Error; err != nil {
			return err
		}
		if len(names) > 0 {
			return &ConflictError{Message: fmt.Sprintf("provider %q is a target of models %s; remove it from their targets first", p.Name, strings.Join(names, ", "))}
		}
		if err := tx.Delete(&Provider{}, id).Error; err != nil {
			return err
		}
		return audit(tx, a, "delete", "provider", id, nil, p.View(), nil)
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}
