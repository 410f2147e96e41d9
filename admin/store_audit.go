package admin

import (
	"context"
	"time"
)

// Audit reads the audit log; the other stores append to it in the
// transaction of each write.
type Audit struct{ *store }

// AuditFilter selects audit entries.
type AuditFilter struct {
	Scope    Scope
	Resource string
	// ResourceID, when set, selects one resource's history.
	ResourceID string
	ActorID    uint64
	Since      time.Time
	Page       Page
}

// List returns one page of entries, newest first.
func (s *Audit) List(ctx context.Context, f AuditFilter) ([]AuditEntry, int64, error) {
	q := f.Scope.where(s.db.WithContext(ctx).Model(&AuditEntry{}), "team_id")
	if f.Resource != "" {
		q = q.Where("resource = ?", f.Resource)
	}
	if f.ResourceID != "" {
		q = q.Where("resource_id = ?", f.ResourceID)
	}
	if f.ActorID != 0 {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	return list[AuditEntry](q, f.Page, "id DESC")
}

// Record appends one entry outside any other write (a failed login).
func (s *Audit) Record(ctx context.Context, a Actor, action, resource, resourceID string, team *uint64, before, after any) error {
	return audit(s.db.WithContext(ctx), a, action, resource, resourceID, team, before, after)
}
