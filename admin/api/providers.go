package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/access"
	"github.com/sluicehq/sluice/internal/apierr"
	"github.com/sluicehq/sluice/providers"
	_ "github.com/sluicehq/sluice/providers/all" // every provider kind, for validation and tests
)

// Limits of a provider's fields.
const (
	maxAPIKey      = 32 << 10
	maxEntries     = 50
	maxTimeoutMS   = int64(time.Hour / time.Millisecond)
	testTimeout    = 10 * time.Second
	maxSettingText = 4096
)

// settingKeyRE is what a settings key may look like: deployment,
// api_version, default_max_tokens.
var settingKeyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// headerNameRE is an HTTP header name (RFC 9110 token).
var headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")

// providerRequest is the body of POST and PATCH /providers. APIKey is
// write-only: nil keeps the stored credential, "" removes it.
type providerRequest struct {
	Name          *string            `json:"name"`
	Kind          *string            `json:"kind"`
	BaseURL       *string            `json:"base_url"`
	APIKey        *string            `json:"api_key"`
	Settings      *map[string]string `json:"settings"`
	Headers       *map[string]string `json:"headers"`
	TimeoutMillis *int64             `json:"timeout_ms"`
	Enabled       *bool              `json:"enabled"`
}

// update validates the request and turns it into a store update with the
// plaintext key still unsealed; create requires name and kind.
func (r *providerRequest) update(create bool) (admin.ProviderUpdate, error) {
	var u admin.ProviderUpdate
	if r.Name != nil || create {
		name, err := text("name", deref(r.Name), true, 100)
		if err != nil {
			return u, err
		}
		u.Name = &name
	}
	if r.Kind != nil || create {
		kind := strings.TrimSpace(deref(r.Kind))
		if !slices.Contains(providers.Kinds(), kind) {
			return u, badField("kind", "kind must be one of "+strings.Join(providers.Kinds(), ", "))
		}
		u.Kind = &kind
	}
	if r.BaseURL != nil {
		base, err := baseURL(*r.BaseURL)
		if err != nil {
			return u, err
		}
		u.BaseURL = &base
	}
	if r.APIKey != nil {
		key := strings.TrimSpace(*r.APIKey)
		if len(key) > maxAPIKey {
			return u, badField("api_key", fmt.Sprintf("api_key must have at most %d bytes", maxAPIKey))
		}
		u.APIKeySealed = &key // sealed by the caller
	}
	if r.Settings != nil {
		if err := checkSettings(*r.Settings); err != nil {
			return u, err
		}
		u.Settings = r.Settings
	}
	if r.Headers != nil {
		if err := checkHeaders(*r.Headers); err != nil {
			return u, err
		}
		u.Headers = r.Headers
	}
	if r.TimeoutMillis != nil {
		if *r.TimeoutMillis < 0 || *r.TimeoutMillis > maxTimeoutMS {
			return u, badField("timeout_ms", fmt.Sprintf("timeout_ms must be from 0 (no bound of its own) to %d (one hour)", maxTimeoutMS))
		}
		u.TimeoutMillis = r.TimeoutMillis
	}
	u.Enabled = r.Enabled
	if create && u.Enabled == nil {
		u.Enabled = ptr(true)
	}
	return u, nil
}

// baseURL checks a base URL: empty (the kind's default) or an absolute
// http(s) URL.
func baseURL(v string) (string, error) {
	v, err := text("base_url", v, false, 500)
	if err != nil || v == "" {
		return v, err
	}
	u, perr := url.Parse(v)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", badField("base_url", "base_url must be an http:// or https:// URL such as https://api.openai.com/v1, or empty for the kind's default")
	}
	return v, nil
}

func checkSettings(m map[string]string) error {
	if len(m) > maxEntries {
		return badField("settings", fmt.Sprintf("settings may hold at most %d entries", maxEntries))
	}
	for _, k := range sortedKeys(m) {
		if !settingKeyRE.MatchString(k) {
			return badField("settings", fmt.Sprintf("settings key %q must be 1 to 100 letters, digits and . _ -", k))
		}
		if len(m[k]) > maxSettingText {
			return badField("settings."+k, fmt.Sprintf("settings.%s must have at most %d bytes", k, maxSettingText))
		}
	}
	return nil
}

func checkHeaders(m map[string]string) error {
	if len(m) > maxEntries {
		return badField("headers", fmt.Sprintf("headers may hold at most %d entries", maxEntries))
	}
	for _, k := range sortedKeys(m) {
		if !headerNameRE.MatchString(k) {
			return badField("headers", fmt.Sprintf("header name %q is not a valid HTTP header name", k))
		}
		if v := m[k]; len(v) > maxSettingText || strings.ContainsAny(v, "\r\n\x00") {
			return badField("headers."+k, fmt.Sprintf("headers.%s must be one line of at most %d bytes", k, maxSettingText))
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// noSealer stands in when the API has no sealer: nothing can be stored or
// opened.
type noSealer struct{}

var errNoSealer = errors.New("provider credentials cannot be sealed: the admin API was built without a sealer")

func (noSealer) Seal(string) (string, error) { return "", errNoSealer }
func (noSealer) Open(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	return "", errNoSealer
}

// seal seals a plaintext credential; "" stays "".
func (a *API) seal(key string) (string, error) {
	if key == "" {
		return "", nil
	}
	return a.sealer.Seal(key)
}

// settingRE finds the setting a provider's build error names.
var settingRE = regexp.MustCompile(`setting ([A-Za-z0-9._-]+)`)

// build builds p once, as the data plane will, and answers a 400 naming
// the field at fault when it cannot be built.
func (a *API) build(p *admin.Provider) (providers.Provider, error) {
	prov, err := access.BuildProvider(*p, a.sealer, a.doer)
	if err == nil {
		return prov, nil
	}
	msg := err.Error()
	switch {
	case errors.Is(err, errNoSealer):
		return nil, err
	case strings.Contains(msg, "decrypt"):
		return nil, badField("api_key", "the stored api_key cannot be decrypted (it was sealed with another SLUICE_SECRET_KEY); send api_key again")
	case strings.Contains(msg, "base URL"):
		return nil, badField("base_url", "base_url: "+msg)
	case settingRE.MatchString(msg):
		return nil, badField("settings."+settingRE.FindStringSubmatch(msg)[1], msg)
	case strings.Contains(msg, "setting"):
		return nil, badField("settings", msg)
	}
	return nil, badField("", "the provider cannot be built: "+msg)
}

func (a *API) listProviders(c *gin.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	list, total, err := a.providers.List(c.Request.Context(), admin.ProviderFilter{Q: c.Query("q"), Kind: c.Query("kind"), Page: p})
	if err != nil {
		return err
	}
	views := make([]admin.ProviderView, len(list))
	for i := range list {
		views[i] = list[i].View()
	}
	return listJSON(c, views, p, total)
}

func (a *API) provider(c *gin.Context) (*admin.Provider, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	return a.providers.Get(c.Request.Context(), id)
}

func (a *API) getProvider(c *gin.Context) error {
	p, err := a.provider(c)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, p.View())
	return nil
}

func (a *API) createProvider(c *gin.Context) error {
	var req providerRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := req.update(true)
	if err != nil {
		return err
	}
	p := &admin.Provider{Name: *u.Name, Kind: *u.Kind, BaseURL: deref(u.BaseURL), Settings: admin.EncodeStrings(deref(u.Settings)),
		Headers: admin.EncodeStrings(deref(u.Headers)), TimeoutMillis: deref(u.TimeoutMillis), Enabled: *u.Enabled}
	if p.APIKeySealed, err = a.seal(deref(u.APIKeySealed)); err != nil {
		return err
	}
	if _, err := a.build(p); err != nil {
		return err
	}
	if err := a.providers.Create(c.Request.Context(), who(c).actor(), p); err != nil {
		return err
	}
	c.JSON(http.StatusCreated, p.View())
	return nil
}

func (a *API) updateProvider(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req providerRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := req.update(false)
	if err != nil {
		return err
	}
	if u.APIKeySealed != nil {
		sealed, err := a.seal(*u.APIKeySealed)
		if err != nil {
			return err
		}
		u.APIKeySealed = &sealed
	}
	p, err := a.providers.Update(c.Request.Context(), who(c).actor(), id, u, func(next *admin.Provider) error {
		_, err := a.build(next)
		return err
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, p.View())
	return nil
}

func (a *API) deleteProvider(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := a.providers.Delete(c.Request.Context(), who(c).actor(), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// testRequest is the optional body of POST /providers/{id}/test.
type testRequest struct {
	// Model is the upstream model a 1-token chat completion is sent to
	// when the provider cannot list its models.
	Model string `json:"model"`
}

// testResult is the answer of a connection test. A failed test is still a
// 200: the test ran, and its outcome is ok false with the upstream's error.
type testResult struct {
	OK            bool     `json:"ok"`
	LatencyMillis int64    `json:"latency_ms"`
	Check         string   `json:"check"` // list_models or chat
	Models        []string `json:"models,omitempty"`
	Model         string   `json:"model,omitempty"`
	Status        int      `json:"status,omitempty"`
	Error         string   `json:"error,omitempty"`
}

// testProvider checks that the provider answers with its credential: it
// lists the models when the kind can, else sends a 1-token chat completion
// to the model in the body.
func (a *API) testProvider(c *gin.Context) error {
	p, err := a.provider(c)
	if err != nil {
		return err
	}
	var req testRequest
	if err := decodeOptional(c, &req); err != nil {
		return err
	}
	req.Model = strings.TrimSpace(req.Model)
	key, err := a.sealer.Open(p.APIKeySealed)
	if err != nil {
		c.JSON(http.StatusOK, testResult{Error: "the stored api_key cannot be decrypted (sealed with another SLUICE_SECRET_KEY); set api_key again"})
		return nil
	}
	secrets := []string{key, p.APIKeySealed}
	prov, err := access.BuildProvider(*p, a.sealer, a.doer)
	if err != nil {
		c.JSON(http.StatusOK, testResult{Error: scrub("the provider cannot be built: "+err.Error(), secrets)})
		return nil
	}
	lister, canList := prov.(providers.ModelLister)
	if !canList && req.Model == "" {
		return badField("model", fmt.Sprintf("a %s provider cannot list its models: give an upstream model to send a 1-token chat completion to, e.g. {\"model\":\"NAME\"}", p.Kind))
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), testTimeout)
	defer cancel()
	start := time.Now()
	res := testResult{}
	if canList {
		res.Check = "list_models"
		res.Models, err = lister.ListModels(ctx)
		// An upstream without a models endpoint can still be tested with
		// a chat completion when a model was given.
		var pe *providers.Error
		if err != nil && req.Model != "" && errors.As(err, &pe) && (pe.Status == http.StatusNotFound || pe.Status == http.StatusMethodNotAllowed) {
			canList = false
		}
	}
	if !canList {
		res.Check, res.Model, res.Models = "chat", req.Model, nil
		one := 1
		_, err = prov.Chat(ctx, &providers.ChatRequest{Model: req.Model, MaxTokens: &one,
			Messages: []providers.Message{{Role: "user", Content: providers.TextContent("Say OK.")}}})
	}
	res.LatencyMillis = time.Since(start).Milliseconds()
	if err != nil {
		res.Models = nil
		res.Error = scrub(testError(ctx, err), secrets)
		var pe *providers.Error
		if errors.As(err, &pe) {
			res.Status = pe.Status
		}
	} else {
		res.OK = true
		if res.Models == nil && res.Check == "list_models" {
			res.Models = []string{}
		}
	}
	c.JSON(http.StatusOK, res)
	return nil
}

// testError says why a test failed.
func testError(ctx context.Context, err error) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s: check base_url and that the upstream is reachable from the gateway", testTimeout)
	}
	return err.Error()
}

// scrub removes every secret (and its URL-escaped form) from msg.
func scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, s, "[redacted]")
		if e := url.QueryEscape(s); e != s {
			msg = strings.ReplaceAll(msg, e, "[redacted]")
		}
	}
	return msg
}

// decodeOptional is decode for a body that may be left out.
func decodeOptional(c *gin.Context, dst any) error {
	if c.Request.Body == nil {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxBody+1))
	if err != nil {
		return apierr.BadRequest("", "could not read the request body: "+err.Error())
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	return decode(c, dst)
}
