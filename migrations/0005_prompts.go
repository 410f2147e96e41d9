package migrations

import (
	"time"

	"gorm.io/gorm"
)

// Prompts and their immutable versions, as migration 5 creates them.
//
// A prompt belongs to a service (its team is the service's team) and has
// at most one live version, published_version (0: none). Each save adds a
// prompt_versions row; rows are never updated. messages, parameters and
// variables_schema are JSON text.

type prompt0005 struct {
	ID               uint64 `gorm:"primaryKey;autoIncrement"`
	Slug             string `gorm:"size:64;not null;uniqueIndex"`
	Name             string `gorm:"size:200;not null"`
	Description      string `gorm:"type:text"`
	ServiceID        uint64 `gorm:"not null;index"`
	LatestVersion    int    `gorm:"not null;default:0"`
	PublishedVersion int    `gorm:"not null;default:0"`
	PublishedBy      *uint64
	PublishedByEmail string `gorm:"size:254;not null;default:''"`
	PublishedAt      *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func (prompt0005) TableName() string { return "prompts" }

type promptVersion0005 struct {
	ID               uint64 `gorm:"primaryKey;autoIncrement"`
	PromptID         uint64 `gorm:"not null;uniqueIndex:idx_prompt_versions_prompt_version,priority:1"`
	Version          int    `gorm:"not null;uniqueIndex:idx_prompt_versions_prompt_version,priority:2"`
	Model            string `gorm:"size:200;not null"`
	Messages         string `gorm:"type:text"`
	Parameters       string `gorm:"type:text"`
	VariablesSchema  string `gorm:"type:text"`
	AllowedOverrides string `gorm:"type:text"`
	Note             string `gorm:"type:text"`
	CreatedBy        *uint64
	CreatedByEmail   string `gorm:"size:254;not null;default:''"`
	CreatedAt        time.Time
}

func (promptVersion0005) TableName() string { return "prompt_versions" }

func up0005(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&prompt0005{}, &promptVersion0005{})
}

func down0005(tx *gorm.DB) error {
	return tx.Migrator().DropTable(&promptVersion0005{}, &prompt0005{})
}
