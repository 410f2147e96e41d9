// Package prompts holds saved prompt templates and the prompt APIs built on
// them: versioned templates whose messages carry {{name}} placeholders, a
// JSON Schema for their variables, rendering that substitutes variables as
// data (never re-parsed as template text), and the POST /v1/prompts/{slug}
// handler that sends the rendered messages through the same relay as
// /v1/chat/completions. Prompt APIs are built in a later milestone; this
// package fixes their place in the layout.
package prompts
