package prompts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/sluicehq/sluice/admin"
)

// Store keeps prompts and their versions. Every write runs in one
// transaction with its audit entry and tells the data plane after commit.
type Store struct {
	db     *gorm.DB
	notify admin.ChangeNotifier
	clock  interface{ Now() time.Time }
}

// NewStore returns the store over db. notifier may be nil; clock nil means
// the system clock.
func NewStore(db *gorm.DB, notifier admin.ChangeNotifier, clock interface{ Now() time.Time }) *Store {
	if notifier == nil {
		notifier = admin.NopNotifier{}
	}
	if clock == nil {
		clock = systemClock{}
	}
	return &Store{db: db, notify: notifier, clock: clock}
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// View is a prompt with its service's slug and team.
type View struct {
	Prompt
	ServiceSlug string `json:"service_slug"`
	TeamID      uint64 `json:"team_id"`
}

// Filter selects prompts.
type Filter struct {
	Scope     admin.Scope
	ServiceID uint64
	// Q matches a substring of the slug or name.
	Q    string
	Page admin.Page
}

// Update changes the fields that are set.
type Update struct {
	Name        *string
	Description *string
	ServiceID   *uint64
}

func (s *Store) now() time.Time { return s.clock.Now().UTC() }

func (s *Store) changed(ctx context.Context) error {
	if err := s.notify.Changed(ctx); err != nil {
		return fmt.Errorf("saved, but telling the data plane failed: %w", err)
	}
	return nil
}

func scoped(q *gorm.DB, sc admin.Scope) *gorm.DB {
	if sc.All {
		return q
	}
	if len(sc.Teams) == 0 {
		return q.Where("1 = 0")
	}
	return q.Where("service_id IN (?)", q.Session(&gorm.Session{NewDB: true}).Model(&admin.Service{}).Select("id").Where("team_id IN ?", sc.Teams))
}

// List returns one page of prompts, by id.
func (s *Store) List(ctx context.Context, f Filter) ([]View, int64, error) {
	db := s.db.WithContext(ctx)
	q := scoped(db.Model(&Prompt{}), f.Scope)
	if f.ServiceID != 0 {
		q = q.Where("service_id = ?", f.ServiceID)
	}
	if f.Q != "" {
		r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
		like := "%" + r.Replace(strings.ToLower(f.Q)) + "%"
		q = q.Where("(LOWER(slug) LIKE ? ESCAPE '!' OR LOWER(name) LIKE ? ESCAPE '!')", like, like)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	p := f.Page
	if p.Page < 1 {
		p.Page = 1
	}
	if p.PerPage < 1 {
		p.PerPage = admin.DefaultPerPage
	}
	p.PerPage = min(p.PerPage, admin.MaxPerPage)
	var rows []Prompt
	if total > 0 {
		if err := q.Session(&gorm.Session{}).Order("id").Offset((p.Page - 1) * p.PerPage).Limit(p.PerPage).Find(&rows).Error; err != nil {
			return nil, 0, err
		}
	}
	out, err := views(db, rows)
	return out, total, err
}

// views adds each prompt's service slug and team.
func views(tx *gorm.DB, rows []Prompt) ([]View, error) {
	out := make([]View, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]uint64, len(rows))
	for i, p := range rows {
		ids[i] = p.ServiceID
	}
	var svcs []admin.Service
	if err := tx.Select("id", "slug", "team_id").Where("id IN ?", ids).Find(&svcs).Error; err != nil {
		return nil, err
	}
	by := map[uint64]admin.Service{}
	for _, sv := range svcs {
		by[sv.ID] = sv
	}
	for i, p := range rows {
		out[i] = View{Prompt: p, ServiceSlug: by[p.ServiceID].Slug, TeamID: by[p.ServiceID].TeamID}
	}
	return out, nil
}

// Get returns a prompt.
func (s *Store) Get(ctx context.Context, id uint64) (*View, error) {
	return s.get(s.db.WithContext(ctx), id)
}

func (s *Store) get(tx *gorm.DB, id uint64) (*View, error) {
	var p Prompt
	err := tx.Where("id = ?", id).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("prompt %d: %w", id, admin.ErrNotFound)
	} else if err != nil {
		return nil, err
	}
	v, err := views(tx, []Prompt{p})
	if err != nil {
		return nil, err
	}
	return &v[0], nil
}

// serviceTeam is the team of a service; a FieldError when it does not exist.
func serviceTeam(tx *gorm.DB, id uint64) (uint64, error) {
	var sv admin.Service
	err := tx.Select("id", "team_id").Where("id = ?", id).Take(&sv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, &admin.FieldError{Field: "service_id", Message: fmt.Sprintf("no service has id %d; list the services with GET /services", id)}
	}
	return sv.TeamID, err
}

// ServiceTeam is the team owning service id (a FieldError when there is
// no such service), for the caller's permission check.
func (s *Store) ServiceTeam(ctx context.Context, id uint64) (uint64, error) {
	return serviceTeam(s.db.WithContext(ctx), id)
}

func audit(tx *gorm.DB, a admin.Actor, action string, id uint64, team uint64, before, after any) error {
	e := admin.AuditEntry{ActorID: a.ID, ActorEmail: a.Email, Action: action, Resource: "prompt",
		ResourceID: fmt.Sprint(id), TeamID: &team, Before: compact(before), After: compact(after)}
	return tx.Create(&e).Error
}

func compact(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func dup(err error, slug string) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("prompt slug %q is taken: %w", slug, admin.ErrDuplicate)
	}
	return err
}

// Create adds a prompt (no version yet).
func (s *Store) Create(ctx context.Context, a admin.Actor, p *Prompt) (*View, error) {
	var out *View
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		team, err := serviceTeam(tx, p.ServiceID)
		if err != nil {
			return err
		}
		p.ID, p.LatestVersion, p.PublishedVersion, p.PublishedAt, p.PublishedBy = 0, 0, 0, nil, nil
		if err := tx.Create(p).Error; err != nil {
			return dup(err, p.Slug)
		}
		if out, err = s.get(tx, p.ID); err != nil {
			return err
		}
		return audit(tx, a, "create", p.ID, team, nil, out)
	})
	if err != nil {
		return nil, err
	}
	return out, s.changed(ctx)
}

// Update changes a prompt's name, description or service.
func (s *Store) Update(ctx context.Context, a admin.Actor, id uint64, u Update) (*View, error) {
	var after *View
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, err := s.get(tx, id)
		if err != nil {
			return err
		}
		set := map[string]any{"updated_at": s.now()}
		if u.Name != nil {
			set["name"] = *u.Name
		}
		if u.Description != nil {
			set["description"] = *u.Description
		}
		if u.ServiceID != nil {
			if _, err := serviceTeam(tx, *u.ServiceID); err != nil {
				return err
			}
			set["service_id"] = *u.ServiceID
		}
		if err := tx.Model(&Prompt{}).Where("id = ?", id).Updates(set).Error; err != nil {
			return err
		}
		if after, err = s.get(tx, id); err != nil {
			return err
		}
		return audit(tx, a, "update", id, after.TeamID, before, after)
	})
	if err != nil {
		return nil, err
	}
	return after, s.changed(ctx)
}

// Delete removes a prompt and its versions (the audit log keeps them).
func (s *Store) Delete(ctx context.Context, a admin.Actor, id uint64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, err := s.get(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Where("prompt_id = ?", id).Delete(&Version{}).Error; err != nil {
			return err
		}
		if err := tx.Delete(&Prompt{}, id).Error; err != nil {
			return err
		}
		return audit(tx, a, "delete", id, before.TeamID, before, nil)
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

// modelExists reports whether a public model is called name.
func modelExists(tx *gorm.DB, name string) (bool, error) {
	var n int64
	err := tx.Model(&admin.Model{}).Where("name = ?", name).Count(&n).Error
	return n > 0, err
}

// AddVersion saves v as the prompt's next version after checking it
// compiles and its model exists. v.Version is set.
func (s *Store) AddVersion(ctx context.Context, a admin.Actor, id uint64, v *Version) error {
	if _, err := v.Compile(); err != nil {
		return err
	}
	if v.Parameters == nil {
		v.Parameters = json.RawMessage("{}")
	}
	if v.VariablesSchema == nil {
		v.VariablesSchema = json.RawMessage(EmptySchema)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.get(tx, id)
		if err != nil {
			return err
		}
		if ok, err := modelExists(tx, v.Model); err != nil {
			return err
		} else if !ok {
			return &admin.FieldError{Field: "model", Message: fmt.Sprintf("no model is called %q; list the models with GET /models", v.Model)}
		}
		// The increment serialises concurrent saves of one prompt.
		if err := tx.Model(&Prompt{}).Where("id = ?", id).
			Updates(map[string]any{"latest_version": gorm.Expr("latest_version + 1"), "updated_at": s.now()}).Error; err != nil {
			return err
		}
		var n int
		if err := tx.Model(&Prompt{}).Where("id = ?", id).Pluck("latest_version", &n).Error; err != nil {
			return err
		}
		v.ID, v.PromptID, v.Version, v.CreatedBy, v.CreatedByEmail, v.CreatedAt = 0, id, n, a.ID, a.Email, s.now()
		if err := tx.Create(v).Error; err != nil {
			return err
		}
		return audit(tx, a, "create_version", id, p.TeamID, nil, v)
	})
	if err != nil {
		return err
	}
	// A draft changes nothing the data plane serves.
	return nil
}

// Versions lists a prompt's versions, newest first.
func (s *Store) Versions(ctx context.Context, id uint64, page admin.Page) ([]Version, int64, error) {
	db := s.db.WithContext(ctx)
	q := db.Model(&Version{}).Where("prompt_id = ?", id)
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	if page.Page < 1 {
		page.Page = 1
	}
	if page.PerPage < 1 {
		page.PerPage = admin.DefaultPerPage
	}
	out := []Version{}
	err := q.Session(&gorm.Session{}).Order("version DESC").Offset((page.Page - 1) * page.PerPage).Limit(min(page.PerPage, admin.MaxPerPage)).Find(&out).Error
	return out, total, err
}

// Version returns version n of a prompt.
func (s *Store) Version(ctx context.Context, id uint64, n int) (*Version, error) {
	return version(s.db.WithContext(ctx), id, n)
}

func version(tx *gorm.DB, id uint64, n int) (*Version, error) {
	var v Version
	err := tx.Where("prompt_id = ? AND version = ?", id, n).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("prompt %d has no version %d: %w", id, n, admin.ErrNotFound)
	}
	return &v, err
}

// Publish makes version n live (an older n is a rollback). A version whose
// model no longer exists cannot be published (ErrConflict).
func (s *Store) Publish(ctx context.Context, a admin.Actor, id uint64, n int) (*View, error) {
	var after *View
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, err := s.get(tx, id)
		if err != nil {
			return err
		}
		v, err := version(tx, id, n)
		if errors.Is(err, admin.ErrNotFound) {
			return &admin.FieldError{Field: "version", Message: fmt.Sprintf("prompt %d has no version %d; its latest is %d", id, n, before.LatestVersion)}
		} else if err != nil {
			return err
		}
		if ok, err := modelExists(tx, v.Model); err != nil {
			return err
		} else if !ok {
			return &admin.ConflictError{Message: fmt.Sprintf("version %d calls model %q, which no longer exists; save a new version with an existing model, then publish it", n, v.Model)}
		}
		now := s.now()
		if err := tx.Model(&Prompt{}).Where("id = ?", id).Updates(map[string]any{"published_version": n,
			"published_by": a.ID, "published_by_email": a.Email, "published_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if after, err = s.get(tx, id); err != nil {
			return err
		}
		return audit(tx, a, "publish", id, after.TeamID,
			map[string]any{"published_version": before.PublishedVersion}, map[string]any{"published_version": n})
	})
	if err != nil {
		return nil, err
	}
	return after, s.changed(ctx)
}

// Unpublish takes a prompt off the data plane (callers get 404).
func (s *Store) Unpublish(ctx context.Context, a admin.Actor, id uint64) (*View, error) {
	var after *View
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, err := s.get(tx, id)
		if err != nil {
			return err
		}
		now := s.now()
		if err := tx.Model(&Prompt{}).Where("id = ?", id).Updates(map[string]any{"published_version": 0,
			"published_by": a.ID, "published_by_email": a.Email, "published_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if after, err = s.get(tx, id); err != nil {
			return err
		}
		return audit(tx, a, "unpublish", id, after.TeamID,
			map[string]any{"published_version": before.PublishedVersion}, map[string]any{"published_version": 0})
	})
	if err != nil {
		return nil, err
	}
	return after, s.changed(ctx)
}

// LoadLive reads every published prompt with its live version, for the
// data plane's snapshot.
func LoadLive(ctx context.Context, db *gorm.DB) ([]Live, error) {
	var ps []Prompt
	if err := db.WithContext(ctx).Where("published_version > 0").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("load prompts: %w", err)
	}
	if len(ps) == 0 {
		return nil, nil
	}
	var vs []Version
	q := db.WithContext(ctx).Model(&Version{}).
		Joins("JOIN prompts ON prompts.id = prompt_versions.prompt_id AND prompts.published_version = prompt_versions.version")
	if err := q.Find(&vs).Error; err != nil {
		return nil, fmt.Errorf("load prompt versions: %w", err)
	}
	by := map[uint64]Version{}
	for _, v := range vs {
		by[v.PromptID] = v
	}
	out := make([]Live, 0, len(ps))
	for _, p := range ps {
		if v, ok := by[p.ID]; ok {
			out = append(out, Live{Prompt: p, Version: v})
		}
	}
	return out, nil
}
