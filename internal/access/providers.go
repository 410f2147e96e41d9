package access

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/providers"
)

// Opener decrypts a sealed credential.
type Opener interface {
	Open(sealed string) (string, error)
}

// BuildProvider turns a providers row into a live provider: the credential
// unsealed, settings and headers decoded, every request sent with doer.
func BuildProvider(p admin.Provider, open Opener, doer providers.Doer) (providers.Provider, error) {
	key, err := open.Open(p.APIKeySealed)
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", p.Name, err)
	}
	settings, err := stringMap(p.Settings)
	if err != nil {
		return nil, fmt.Errorf("provider %q settings: %w", p.Name, err)
	}
	headers, err := stringMap(p.Headers)
	if err != nil {
		return nil, fmt.Errorf("provider %q headers: %w", p.Name, err)
	}
	return providers.New(providers.Config{
		Name: p.Name, Kind: p.Kind, BaseURL: p.BaseURL, APIKey: key,
		Settings: settings, Headers: headers,
		Timeout: time.Duration(p.TimeoutMillis) * time.Millisecond,
		HTTP:    doer,
	})
}

func stringMap(raw string) (map[string]string, error) {
	if raw == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("expected a JSON object of strings: %w", err)
	}
	return m, nil
}
