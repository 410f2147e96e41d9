package admin

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// ChangeNotifier tells the data plane that what it serves from its in-memory
// snapshot (keys, subscriptions, services and their models, consumers, teams,
// models) changed. The stores call it after each committed write and before
// they return, so a key revoked by a DELETE is refused once the DELETE has
// answered.
type ChangeNotifier interface {
	// Changed signals that the snapshot must be reloaded.
	Changed(ctx context.Context) error
}

// NopNotifier is a ChangeNotifier that does nothing (tests, tools).
type NopNotifier struct{}

// Changed implements ChangeNotifier.
func (NopNotifier) Changed(context.Context) error { return nil }

var _ ChangeNotifier = NopNotifier{}

// VersionNotifier bumps the config_version counter that replicas without
// Redis poll; chain it before an in-process reload or a Redis publish.
type VersionNotifier struct {
	// DB is the database holding config_version.
	DB *gorm.DB
}

var _ ChangeNotifier = VersionNotifier{}

// Changed implements ChangeNotifier.
func (n VersionNotifier) Changed(ctx context.Context) error {
	return n.DB.WithContext(ctx).Model(&ConfigVersion{}).Where("id = ?", 1).
		Updates(map[string]any{"version": gorm.Expr("version + 1"), "updated_at": time.Now().UTC()}).Error
}
