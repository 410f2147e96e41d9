package admin

import (
	"time"
)

// Approval modes of a service.
const (
	ApprovalManual = "manual"
	ApprovalAuto   = "auto"
)

// Subscription states. pending → approved | rejected; approved → revoked.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
	StatusRevoked  = "revoked"
)

// Team owns services and consumers; its members manage them.
type Team struct {
	ID        uint64    `json:"id" gorm:"primaryKey"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TeamMember makes a user a member of a team.
type TeamMember struct {
	TeamID    uint64    `json:"team_id" gorm:"primaryKey;autoIncrement:false"`
	UserID    uint64    `json:"user_id" gorm:"primaryKey;autoIncrement:false"`
	CreatedAt time.Time `json:"created_at"`
}

// Model is a public model name that consumers call. Its provider targets
// are configured with the providers (a later milestone); prices are per
// million tokens.
type Model struct {
	ID          uint64    `json:"id" gorm:"primaryKey"`
	Name        string    `json:"name"`
	InputPrice  float64   `json:"input_price"`
	OutputPrice float64   `json:"output_price"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Limits are a service's per-subscription limits; zero means unlimited.
type Limits struct {
	RPM           int   `json:"rpm" gorm:"column:rpm"`
	TPM           int   `json:"tpm" gorm:"column:tpm"`
	MonthlyTokens int64 `json:"monthly_tokens" gorm:"column:monthly_tokens"`
}

// Service groups models (and prompts) that consumers subscribe to.
type Service struct {
	ID          uint64 `json:"id" gorm:"primaryKey"`
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description"`
	TeamID      uint64 `json:"team_id"`
	Approval    string `json:"approval"`
	Limits      Limits `json:"limits" gorm:"embedded"`
	// LogBodies stores the redacted, capped request and response bodies
	// of the service's calls in the call log.
	LogBodies bool `json:"log_bodies"`
	// LogRetentionDays purges the service's call-log rows older than this
	// many days; 0 keeps them forever.
	LogRetentionDays int `json:"log_retention_days"`
	// RedactFields are gjson/sjson paths (e.g. "user",
	// "messages.#.content") whose values are stored as "[redacted]".
	RedactFields []string  `json:"redact_fields" gorm:"serializer:json;type:text"`
	Models       []Model   `json:"models" gorm:"many2many:service_models"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ServiceModel links a service to a model.
type ServiceModel struct {
	ServiceID uint64 `gorm:"primaryKey;autoIncrement:false"`
	ModelID   uint64 `gorm:"primaryKey;autoIncrement:false"`
}

// Consumer is an application that calls the data plane with its keys.
type Consumer struct {
	ID          uint64    `json:"id" gorm:"primaryKey"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	TeamID      uint64    `json:"team_id"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ConsumerKey is one key of a consumer. The key itself (a signed JWT) is
// shown once at creation; only its id (the JWT's jti), a display prefix and
// a SHA-256 hash are stored.
type ConsumerKey struct {
	ID         string     `json:"id" gorm:"primaryKey"`
	ConsumerID uint64     `json:"consumer_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Hash       string     `json:"-"`
	KID        string     `json:"-" gorm:"column:kid"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	RevokedBy  *uint64    `json:"revoked_by,omitempty"`
	CreatedBy  *uint64    `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Revoked reports whether the key was revoked.
func (k *ConsumerKey) Revoked() bool { return k.RevokedAt != nil }

// Subscription joins a consumer to a service.
type Subscription struct {
	ID         uint64     `json:"id" gorm:"primaryKey"`
	ConsumerID uint64     `json:"consumer_id"`
	ServiceID  uint64     `json:"service_id"`
	Status     string     `json:"status"`
	Reason     string     `json:"reason"`
	DecidedBy  *uint64    `json:"decided_by"`
	DecidedAt  *time.Time `json:"decided_at"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// SubscriptionEvent records one change of a subscription's state: who,
// when, why.
type SubscriptionEvent struct {
	ID             uint64    `json:"id" gorm:"primaryKey"`
	SubscriptionID uint64    `json:"subscription_id"`
	FromStatus     string    `json:"from"`
	ToStatus       string    `json:"to"`
	ActorID        *uint64   `json:"actor_id"`
	ActorEmail     string    `json:"actor_email"`
	Reason         string    `json:"reason"`
	CreatedAt      time.Time `json:"created_at"`
}

// Session is a signed-in admin session; logout revokes it.
type Session struct {
	ID        string     `gorm:"primaryKey"`
	UserID    uint64     `gorm:"column:user_id"`
	ExpiresAt time.Time  `gorm:"column:expires_at"`
	RevokedAt *time.Time `gorm:"column:revoked_at"`
	CreatedAt time.Time
}

// TableName is admin_sessions.
func (Session) TableName() string { return "admin_sessions" }

// AuditEntry records one admin write.
type AuditEntry struct {
	ID         uint64    `json:"id" gorm:"primaryKey"`
	ActorID    *uint64   `json:"actor_id"`
	ActorEmail string    `json:"actor_email"`
	Action     string    `json:"action"`
	Resource   string    `json:"resource"`
	ResourceID string    `json:"resource_id"`
	TeamID     *uint64   `json:"team_id"`
	Before     string    `json:"before,omitempty"`
	After      string    `json:"after,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// TableName is audit_log.
func (AuditEntry) TableName() string { return "audit_log" }

// ConfigVersion is the one-row change counter. Every admin write that the
// data plane's snapshot depends on bumps it; replicas without Redis poll it.
type ConfigVersion struct {
	ID        uint64 `gorm:"primaryKey;autoIncrement:false"`
	Version   int64
	UpdatedAt time.Time
}

// TableName is config_version.
func (ConfigVersion) TableName() string { return "config_version" }

// Provider is one upstream: a provider kind at a base URL with its
// credential. The credential is stored sealed (AES-GCM) and never returned
// by any API.
type Provider struct {
	ID            uint64    `json:"id" gorm:"primaryKey"`
	Name          string    `json:"name"`
	Kind          string    `json:"kind"`
	BaseURL       string    `json:"base_url"`
	APIKeySealed  string    `json:"-"`
	Settings      string    `json:"-"` // JSON object of strings
	Headers       string    `json:"-"` // JSON object of strings
	TimeoutMillis int64     `json:"timeout_ms"`
	Enabled       bool      `json:"enabled"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// ModelTarget routes a public model to an upstream model of a provider.
// Lower priority numbers are tried first; weight splits traffic within a
// priority.
type ModelTarget struct {
	ID            uint64 `json:"id" gorm:"primaryKey"`
	ModelID       uint64 `json:"model_id"`
	ProviderID    uint64 `json:"provider_id"`
	UpstreamModel string `json:"upstream_model"`
	Weight        int    `json:"weight"`
	Priority      int    `json:"priority"`
}
