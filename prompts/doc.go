// Package prompts holds saved prompt templates and the prompt APIs built on
// them: versioned templates whose messages carry {{name}} placeholders, a
// JSON Schema for their variables, rendering that substitutes variables as
// data (never re-parsed as template text), the store of prompts and their
// immutable versions, and the framework-free half of POST /v1/prompts/{slug}:
// reading the call, building the chat completions body the relay sends, and
// shaping the relay's answer as a prompt.completion.
//
// It imports the admin domain types (actors, scopes, store errors) and GORM
// for its store; it never imports Gin, the relay or the access snapshot (the
// snapshot imports it).
package prompts
