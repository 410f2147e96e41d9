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

// Clock tells the time; tests pass a fake one.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// ErrConflict is matched (errors.Is) by a write that the current state
// forbids: an illegal subscription transition, deleting a team that still
// owns services. The error's message says what the state is.
var ErrConflict = errors.New("conflict")

// ConflictError is an ErrConflict with a message for the caller.
type ConflictError struct{ Message string }

func (e *ConflictError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// FieldError is a write refused because one of its fields is wrong (a
// model id that does not exist, a team that does not exist).
type FieldError struct {
	// Field is the request field at fault.
	Field string
	// Message says what is wrong and what is expected.
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Actor is who makes a change: an admin user, or the system on its own
// behalf (ID nil, Email naming the mechanism, e.g. "auto-approval").
type Actor struct {
	ID    *uint64
	Email string
}

// UserActor is the actor for an admin user.
func UserActor(u *User) Actor {
	id := u.ID
	return Actor{ID: &id, Email: u.Email}
}

// Scope limits what a caller sees: every team (admins), or a set of teams.
type Scope struct {
	// All is true for admins.
	All bool
	// Teams are the teams visible when All is false.
	Teams []uint64
}

// AllTeams is the scope of an admin.
func AllTeams() Scope { return Scope{All: true} }

// Has reports whether team is within the scope.
func (s Scope) Has(team uint64) bool {
	if s.All {
		return true
	}
	for _, t := range s.Teams {
		if t == team {
			return true
		}
	}
	return false
}

// where restricts q to rows whose column is within the scope.
func (s Scope) where(q *gorm.DB, column string) *gorm.DB {
	if s.All {
		return q
	}
	if len(s.Teams) == 0 {
		return q.Where("1 = 0")
	}
	return q.Where(column+" IN ?", s.Teams)
}

// Page selects one page of a list; pages count from 1.
type Page struct {
	Page    int
	PerPage int
}

// MaxPerPage is the largest page size a list returns.
const MaxPerPage = 200

// DefaultPerPage is the page size when none is asked for.
const DefaultPerPage = 50

func (p Page) apply(q *gorm.DB) *gorm.DB {
	if p.Page < 1 {
		p.Page = 1
	}
	if p.PerPage < 1 {
		p.PerPage = DefaultPerPage
	}
	p.PerPage = min(p.PerPage, MaxPerPage)
	return q.Offset((p.Page - 1) * p.PerPage).Limit(p.PerPage)
}

// list counts the rows of q and reads one page of them ordered by order.
func list[T any](q *gorm.DB, page Page, order string) ([]T, int64, error) {
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	out := []T{}
	if total == 0 {
		return out, 0, nil
	}
	err := page.apply(q.Session(&gorm.Session{})).Order(order).Find(&out).Error
	return out, total, err
}

// likeSubstring is a LIKE pattern (escape character '!') matching s
// anywhere, lower-cased for a case-insensitive match on LOWER(column).
func likeSubstring(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// whereQ restricts q to rows where one of columns contains s (any case).
func whereQ(q *gorm.DB, s string, columns ...string) *gorm.DB {
	if s == "" {
		return q
	}
	conds := make([]string, len(columns))
	args := make([]any, len(columns))
	for i, c := range columns {
		conds[i] = "LOWER(" + c + ") LIKE ? ESCAPE '!'"
		args[i] = likeSubstring(s)
	}
	return q.Where("("+strings.Join(conds, " OR ")+")", args...)
}

// compact is v as compact JSON for the audit log; "" for nil. Only types
// whose secrets are tagged json:"-" are passed here.
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

// audit appends one entry to the audit log on tx.
func audit(tx *gorm.DB, a Actor, action, resource string, resourceID any, team *uint64, before, after any) error {
	e := AuditEntry{ActorID: a.ID, ActorEmail: a.Email, Action: action, Resource: resource,
		ResourceID: fmt.Sprint(resourceID), TeamID: team, Before: compact(before), After: compact(after)}
	return tx.Create(&e).Error
}

func ptr[T any](v T) *T { return &v }

// notFound wraps ErrNotFound with what was not found.
func notFound(what string, id any) error { return fmt.Errorf("%s %v: %w", what, id, ErrNotFound) }

// takeOr reads the row with id into dst, mapping a missing row to ErrNotFound.
func takeOr(tx *gorm.DB, dst any, what string, id any) error {
	err := tx.Where("id = ?", id).Take(dst).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return notFound(what, id)
	}
	return err
}

// dup maps a unique-index violation to ErrDuplicate with msg.
func dup(err error, msg string) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("%s: %w", msg, ErrDuplicate)
	}
	return err
}

// store is what every store shares.
type store struct {
	db     *gorm.DB
	notify ChangeNotifier
	clock  Clock
}

// changed tells the data plane after a committed write.
func (s *store) changed(ctx context.Context) error {
	if s.notify == nil {
		return nil
	}
	if err := s.notify.Changed(ctx); err != nil {
		return fmt.Errorf("saved, but telling the data plane failed: %w", err)
	}
	return nil
}

func (s *store) now() time.Time { return s.clock.Now().UTC() }

// Stores are the access-model stores sharing one database, notifier and clock.
type Stores struct {
	Teams         *Teams
	Models        *Models
	Services      *Services
	Consumers     *Consumers
	Keys          *Keys
	Subscriptions *Subscriptions
	Sessions      *Sessions
	Audit         *Audit
}

// NewStores returns the stores over db. notifier may be nil (no data plane
// to tell); clock nil means the system clock.
func NewStores(db *gorm.DB, notifier ChangeNotifier, clock Clock) *Stores {
	if clock == nil {
		clock = systemClock{}
	}
	s := &store{db: db, notify: notifier, clock: clock}
	return &Stores{Teams: &Teams{s}, Models: &Models{s}, Services: &Services{s}, Consumers: &Consumers{s},
		Keys: &Keys{s}, Subscriptions: &Subscriptions{s}, Sessions: &Sessions{s}, Audit: &Audit{s}}
}

// NewSubscriptions returns the subscription store alone (the data plane's
// self-service handler needs only it).
func NewSubscriptions(db *gorm.DB, notifier ChangeNotifier, clock Clock) *Subscriptions {
	return NewStores(db, notifier, clock).Subscriptions
}
