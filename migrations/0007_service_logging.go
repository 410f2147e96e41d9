package migrations

import "gorm.io/gorm"

// Per-service body logging and call-log retention, as migration 7 adds
// them to services:
//
//   - log_bodies: store the (redacted, capped) request and response bodies
//     of the service's calls in call_logs; false by default.
//   - log_retention_days: call_logs rows of the service older than this
//     many days are purged; 0 keeps them forever.
//   - redact_fields: a JSON array of gjson/sjson paths (e.g.
//     ["messages.#.content","user"]) whose values are replaced by
//     "[redacted]" in stored bodies; NULL or empty for none.

type service0007 struct {
	LogBodies        bool    `gorm:"not null;default:false"`
	LogRetentionDays int     `gorm:"not null;default:0"`
	RedactFields     *string `gorm:"type:text"`
}

func (service0007) TableName() string { return "services" }

func up0007(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, f := range []string{"LogBodies", "LogRetentionDays", "RedactFields"} {
		if err := m.AddColumn(&service0007{}, f); err != nil {
			return err
		}
	}
	return nil
}

func down0007(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, f := range []string{"RedactFields", "LogRetentionDays", "LogBodies"} {
		if err := m.DropColumn(&service0007{}, f); err != nil {
			return err
		}
	}
	return nil
}
