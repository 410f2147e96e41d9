package migrations

import (
	"time"

	"gorm.io/gorm"
)

// user0001 is the users table as migration 1 creates it.
type user0001 struct {
	ID           uint64 `gorm:"primaryKey;autoIncrement"`
	Email        string `gorm:"size:254;not null;uniqueIndex"`
	Name         string `gorm:"size:200;not null;default:''"`
	PasswordHash string `gorm:"size:255;not null"`
	Role         string `gorm:"size:16;not null"`
	Disabled     bool   `gorm:"not null;default:false"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (user0001) TableName() string { return "users" }

func up0001(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&user0001{})
}

func down0001(tx *gorm.DB) error {
	return tx.Migrator().DropTable(&user0001{})
}
