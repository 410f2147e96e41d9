package migrations

import (
	"time"

	"gorm.io/gorm"
)

// Providers (upstreams with their sealed credentials) and the targets that
// route each public model to them, as migration 3 creates them.

type provider0003 struct {
	ID            uint64 `gorm:"primaryKey;autoIncrement"`
	Name          string `gorm:"size:100;not null;uniqueIndex"`
	Kind          string `gorm:"size:40;not null"`
	BaseURL       string `gorm:"size:500;not null;default:''"`
	APIKeySealed  string `gorm:"type:text"`
	Settings      string `gorm:"type:text"`
	Headers       string `gorm:"type:text"`
	TimeoutMillis int64  `gorm:"not null;default:0"`
	Enabled       bool   `gorm:"not null;default:true"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (provider0003) TableName() string { return "providers" }

type modelTarget0003 struct {
	ID            uint64 `gorm:"primaryKey;autoIncrement"`
	ModelID       uint64 `gorm:"not null;index"`
	ProviderID    uint64 `gorm:"not null;index"`
	UpstreamModel string `gorm:"size:200;not null"`
	Weight        int    `gorm:"not null;default:1"`
	Priority      int    `gorm:"not null;default:0"`
}

func (modelTarget0003) TableName() string { return "model_targets" }

func up0003(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&provider0003{}, &modelTarget0003{})
}

func down0003(tx *gorm.DB) error {
	return tx.Migrator().DropTable(&modelTarget0003{}, &provider0003{})
}
