package migrations

import (
	"time"

	"gorm.io/gorm"
)

// The access model as migration 2 creates it: teams and their members,
// public models (their provider targets come with migration 3), services
// grouping models, consumers and their keys, subscriptions with their
// decision history, admin sessions, the audit log, and the change counter
// replicas poll to refresh their in-memory snapshot.

type team0002 struct {
	ID        uint64 `gorm:"primaryKey;autoIncrement"`
	Name      string `gorm:"size:100;not null;uniqueIndex"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (team0002) TableName() string { return "teams" }

type teamMember0002 struct {
	TeamID    uint64 `gorm:"primaryKey;autoIncrement:false"`
	UserID    uint64 `gorm:"primaryKey;autoIncrement:false;index"`
	CreatedAt time.Time
}

func (teamMember0002) TableName() string { return "team_members" }

type model0002 struct {
	ID          uint64  `gorm:"primaryKey;autoIncrement"`
	Name        string  `gorm:"size:200;not null;uniqueIndex"`
	InputPrice  float64 `gorm:"not null;default:0"`
	OutputPrice float64 `gorm:"not null;default:0"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (model0002) TableName() string { return "models" }

type service0002 struct {
	ID            uint64 `gorm:"primaryKey;autoIncrement"`
	Slug          string `gorm:"size:64;not null;uniqueIndex"`
	Name          string `gorm:"size:200;not null"`
	Description   string `gorm:"type:text"`
	TeamID        uint64 `gorm:"not null;index"`
	Approval      string `gorm:"size:8;not null"`
	RPM           int    `gorm:"column:rpm;not null;default:0"`
	TPM           int    `gorm:"column:tpm;not null;default:0"`
	MonthlyTokens int64  `gorm:"not null;default:0"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (service0002) TableName() string { return "services" }

type serviceModel0002 struct {
	ServiceID uint64 `gorm:"primaryKey;autoIncrement:false"`
	ModelID   uint64 `gorm:"primaryKey;autoIncrement:false;index"`
}

func (serviceModel0002) TableName() string { return "service_models" }

type consumer0002 struct {
	ID          uint64 `gorm:"primaryKey;autoIncrement"`
	Name        string `gorm:"size:200;not null;uniqueIndex:idx_consumers_team_name,priority:2"`
	Description string `gorm:"type:text"`
	TeamID      uint64 `gorm:"not null;uniqueIndex:idx_consumers_team_name,priority:1"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (consumer0002) TableName() string { return "consumers" }

type consumerKey0002 struct {
	ID         string `gorm:"primaryKey;size:40"`
	ConsumerID uint64 `gorm:"not null;index"`
	Name       string `gorm:"size:200;not null"`
	Prefix     string `gorm:"size:40;not null"`
	Hash       string `gorm:"size:64;not null;uniqueIndex"`
	KID        string `gorm:"column:kid;size:40;not null"`
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	RevokedBy  *uint64
	CreatedBy  *uint64
	CreatedAt  time.Time
}

func (consumerKey0002) TableName() string { return "consumer_keys" }

type subscription0002 struct {
	ID         uint64 `gorm:"primaryKey;autoIncrement"`
	ConsumerID uint64 `gorm:"not null;uniqueIndex:idx_subscriptions_pair,priority:1"`
	ServiceID  uint64 `gorm:"not null;uniqueIndex:idx_subscriptions_pair,priority:2;index"`
	Status     string `gorm:"size:10;not null;index"`
	Reason     string `gorm:"type:text"`
	DecidedBy  *uint64
	DecidedAt  *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (subscription0002) TableName() string { return "subscriptions" }

type subscriptionEvent0002 struct {
	ID             uint64 `gorm:"primaryKey;autoIncrement"`
	SubscriptionID uint64 `gorm:"not null;index"`
	FromStatus     string `gorm:"size:10;not null"`
	ToStatus       string `gorm:"size:10;not null"`
	ActorID        *uint64
	ActorEmail     string `gorm:"size:254;not null;default:''"`
	Reason         string `gorm:"type:text"`
	CreatedAt      time.Time
}

func (subscriptionEvent0002) TableName() string { return "subscription_events" }

type session0002 struct {
	ID        string `gorm:"primaryKey;size:40"`
	UserID    uint64 `gorm:"not null;index"`
	ExpiresAt time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
}

func (session0002) TableName() string { return "admin_sessions" }

type auditEntry0002 struct {
	ID         uint64 `gorm:"primaryKey;autoIncrement"`
	ActorID    *uint64
	ActorEmail string    `gorm:"size:254;not null;default:''"`
	Action     string    `gorm:"size:40;not null"`
	Resource   string    `gorm:"size:40;not null;index:idx_audit_resource,priority:1"`
	ResourceID string    `gorm:"size:64;not null;default:'';index:idx_audit_resource,priority:2"`
	TeamID     *uint64   `gorm:"index"`
	Before     string    `gorm:"type:text"`
	After      string    `gorm:"type:text"`
	CreatedAt  time.Time `gorm:"index"`
}

func (auditEntry0002) TableName() string { return "audit_log" }

type configChange0002 struct {
	ID        uint64 `gorm:"primaryKey;autoIncrement:false"`
	Version   int64  `gorm:"not null;default:0"`
	UpdatedAt time.Time
}

func (configChange0002) TableName() string { return "config_version" }

func access0002() []any {
	return []any{&team0002{}, &teamMember0002{}, &model0002{}, &service0002{}, &serviceModel0002{},
		&consumer0002{}, &consumerKey0002{}, &subscription0002{}, &subscriptionEvent0002{},
		&session0002{}, &auditEntry0002{}, &configChange0002{}}
}

func up0002(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(access0002()...); err != nil {
		return err
	}
	return tx.Create(&configChange0002{ID: 1, Version: 1, UpdatedAt: time.Now().UTC()}).Error
}

func down0002(tx *gorm.DB) error {
	t := access0002()
	for i, j := 0, len(t)-1; i < j; i, j = i+1, j-1 {
		t[i], t[j] = t[j], t[i]
	}
	return tx.Migrator().DropTable(t...)
}
