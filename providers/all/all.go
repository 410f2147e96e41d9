// Package all registers every provider kind Sluice ships: import it for
// its side effect wherever providers are built from configuration.
package all

import (
	_ "github.com/sluicehq/sluice/providers/anthropic" // anthropic
	_ "github.com/sluicehq/sluice/providers/gemini"    // gemini
	_ "github.com/sluicehq/sluice/providers/openai"    // openai, openai-compatible, azure and presets
)
