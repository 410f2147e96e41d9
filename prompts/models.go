package prompts

import (
	"encoding/json"
	"time"

	"gorm.io/gorm"
)

// Prompt is a saved prompt: its identity, its service and which of its
// versions is live.
type Prompt struct {
	ID          uint64 `json:"id" gorm:"primaryKey"`
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// ServiceID is the service whose subscribers may call the prompt.
	ServiceID uint64 `json:"service_id"`
	// LatestVersion is the number of the newest version (0: none yet).
	LatestVersion int `json:"latest_version"`
	// PublishedVersion is the live version (0: unpublished).
	PublishedVersion int        `json:"published_version"`
	PublishedBy      *uint64    `json:"published_by"`
	PublishedByEmail string     `json:"published_by_email"`
	PublishedAt      *time.Time `json:"published_at"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// TableName is prompts.
func (Prompt) TableName() string { return "prompts" }

// Version is one immutable version of a prompt.
type Version struct {
	ID       uint64 `json:"-" gorm:"primaryKey"`
	PromptID uint64 `json:"prompt_id"`
	// Version counts from 1 per prompt.
	Version int `json:"version"`
	// Model is the public model name called.
	Model    string    `json:"model"`
	Messages []Message `json:"messages" gorm:"-"`
	// Parameters are the default chat parameters (a JSON object).
	Parameters json.RawMessage `json:"parameters" gorm:"-"`
	// VariablesSchema is the JSON Schema of the variables.
	VariablesSchema json.RawMessage `json:"variables_schema" gorm:"-"`
	// AllowedOverrides are the parameters callers may set.
	AllowedOverrides []string `json:"allowed_overrides" gorm:"-"`
	// Note says what changed, in the author's words.
	Note           string    `json:"note"`
	CreatedBy      *uint64   `json:"created_by"`
	CreatedByEmail string    `json:"created_by_email"`
	CreatedAt      time.Time `json:"created_at"`

	MessagesText         string `json:"-" gorm:"column:messages"`
	ParametersText       string `json:"-" gorm:"column:parameters"`
	VariablesSchemaText  string `json:"-" gorm:"column:variables_schema"`
	AllowedOverridesText string `json:"-" gorm:"column:allowed_overrides"`
}

// TableName is prompt_versions.
func (Version) TableName() string { return "prompt_versions" }

// BeforeCreate stores the JSON parts as text.
func (v *Version) BeforeCreate(*gorm.DB) error {
	m, err := json.Marshal(v.Messages)
	if err != nil {
		return err
	}
	o, err := json.Marshal(v.AllowedOverrides)
	if err != nil {
		return err
	}
	v.MessagesText, v.AllowedOverridesText = string(m), string(o)
	v.ParametersText, v.VariablesSchemaText = string(v.Parameters), string(v.VariablesSchema)
	return nil
}

// AfterFind decodes the JSON parts.
func (v *Version) AfterFind(*gorm.DB) error {
	v.Messages = nil
	if err := json.Unmarshal([]byte(v.MessagesText), &v.Messages); err != nil {
		return err
	}
	v.AllowedOverrides = nil
	if v.AllowedOverridesText != "" {
		if err := json.Unmarshal([]byte(v.AllowedOverridesText), &v.AllowedOverrides); err != nil {
			return err
		}
	}
	v.Parameters = jsonOr(v.ParametersText, "{}")
	v.VariablesSchema = jsonOr(v.VariablesSchemaText, EmptySchema)
	return nil
}

func jsonOr(s, def string) json.RawMessage {
	if s == "" || s == "null" {
		return json.RawMessage(def)
	}
	return json.RawMessage(s)
}

// Compile compiles the version into a Template.
func (v *Version) Compile() (*Template, error) {
	return Compile(v.Model, v.Messages, v.Parameters, v.VariablesSchema, v.AllowedOverrides)
}

// Live is a published prompt with its live version, as the data plane
// loads it.
type Live struct {
	Prompt  Prompt
	Version Version
}
