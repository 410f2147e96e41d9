package all

import (
	"slices"
	"testing"

	"github.com/sluicehq/sluice/providers"
)

func TestEveryKindRegistered(t *testing.T) {
	kinds := providers.Kinds()
	for _, k := range []string{"openai", "openai-compatible", "azure", "anthropic", "gemini",
		"mistral", "groq", "deepseek", "together", "openrouter", "xai", "ollama", "vllm"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("kind %q not registered (have %v)", k, kinds)
		}
	}
}
