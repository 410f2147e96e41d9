// Package api is the admin API under /admin/api/v1: Gin handlers over the
// admin stores, admin sessions (login, logout, refresh), role and team
// checks, and the OpenAPI document describing every route. It imports the
// admin stores, the key package and internal/apierr; the data plane never
// imports it.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/admin/keys"
	"github.com/sluicehq/sluice/internal/apierr"
	"github.com/sluicehq/sluice/internal/limits"
	"github.com/sluicehq/sluice/internal/relay"
	"github.com/sluicehq/sluice/providers"
)

// Deps are what the admin API is built from.
type Deps struct {
	// DB is the database of the access model.
	DB *gorm.DB
	// Users is the admin user store.
	Users *admin.Users
	// Keyring signs consumer keys.
	Keyring *keys.Keyring
	// SessionKey is the HS256 key of admin session tokens.
	SessionKey []byte
	// Notifier is told after every write the data plane depends on.
	Notifier admin.ChangeNotifier
	// Clock tells the time; nil means the system clock.
	Clock interface{ Now() time.Time }
	// Logger logs the causes of 5xx answers; nil discards them.
	Logger *slog.Logger
	// Sealer seals provider credentials before they are stored, and opens
	// them to build a provider for validation and connection tests (a
	// *secret.Sealer). Nil refuses every credential.
	Sealer interface {
		Seal(plaintext string) (string, error)
		Open(sealed string) (string, error)
	}
	// Breakers reports the relay's circuit breakers; nil lists none.
	Breakers func() []relay.BreakerState
	// HTTP sends the requests of provider connection tests; nil means
	// http.DefaultClient. Each test is bounded to 10 seconds.
	HTTP providers.Doer
}

// API is the admin API.
type API struct {
	deps      Deps
	stores    *admin.Stores
	providers *admin.Providers
	sealer    sealer
	doer      providers.Doer
	limiter   limits.Limiter
	log       *slog.Logger
}

// sealer is Deps.Sealer.
type sealer interface {
	Seal(plaintext string) (string, error)
	Open(sealed string) (string, error)
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// New returns the admin API.
func New(deps Deps) *API {
	if deps.Clock == nil {
		deps.Clock = systemClock{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Notifier == nil {
		deps.Notifier = admin.NopNotifier{}
	}
	a := &API{
		deps:      deps,
		stores:    admin.NewStores(deps.DB, deps.Notifier, deps.Clock),
		providers: admin.NewProviders(deps.DB, deps.Notifier, deps.Clock),
		sealer:    deps.Sealer,
		doer:      deps.HTTP,
		limiter:   limits.NewMemory(deps.Clock),
		log:       deps.Logger,
	}
	if a.sealer == nil {
		a.sealer = noSealer{}
	}
	if a.doer == nil {
		a.doer = http.DefaultClient
	}
	return a
}

// handler is a route's handler: it writes its answer or returns an error
// for fail to write.
type handler func(c *gin.Context) error

// h adapts a handler to Gin; the one place where errors become answers.
func (a *API) h(fn handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			a.fail(c, err)
		}
	}
}

// fail writes err in the error envelope; a 5xx's cause is logged.
func (a *API) fail(c *gin.Context, err error) {
	e := toAPIError(err)
	if e.Status >= 500 {
		a.log.ErrorContext(c.Request.Context(), "admin api", "method", c.Request.Method, "path", c.FullPath(),
			"request_id", c.Writer.Header().Get("x-request-id"), "err", err)
	}
	c.Abort()
	apierr.Write(c.Writer, e)
}

// toAPIError maps store errors to answers; their messages are written for
// the caller. Anything else is a 500 whose cause is hidden.
func toAPIError(err error) *apierr.Error {
	var e *apierr.Error
	if errors.As(err, &e) {
		return e
	}
	var fe *admin.FieldError
	switch {
	case errors.As(err, &fe):
		return apierr.BadRequest(fe.Field, fe.Message)
	case errors.Is(err, admin.ErrNotFound):
		return &apierr.Error{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()}
	case errors.Is(err, admin.ErrDuplicate):
		return &apierr.Error{Status: http.StatusConflict, Code: "duplicate", Message: err.Error()}
	case errors.Is(err, admin.ErrConflict):
		return &apierr.Error{Status: http.StatusConflict, Code: "conflict", Message: err.Error()}
	}
	return apierr.From(err)
}

func forbidden(msg string) error {
	return &apierr.Error{Status: http.StatusForbidden, Code: "forbidden", Message: msg}
}

func notFound(what string, id any) error {
	return &apierr.Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("%s %v: not found", what, id)}
}

// maxBody bounds admin request bodies.
const maxBody = 1 << 20

// decode reads the JSON body into dst, refusing unknown fields, trailing
// data, wrong types and malformed JSON with a 400 naming the field.
func decode(c *gin.Context, dst any) error {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxBody+1))
	if err != nil {
		return apierr.BadRequest("", "could not read the request body: "+err.Error())
	}
	if len(body) > maxBody {
		return &apierr.Error{Status: http.StatusRequestEntityTooLarge, Message: "request body over 1 MiB"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return apierr.BadRequest("", "empty body: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return apierr.BadRequest("", fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn))
		case errors.As(err, &typ):
			field := typ.Field
			if field == "" {
				return apierr.BadRequest("", "the body must be a JSON object")
			}
			ty := typ.Type
			for ty.Kind() == reflect.Pointer {
				ty = ty.Elem()
			}
			if ty == reflect.TypeFor[time.Time]() {
				return apierr.BadRequest(field, field+" must be an RFC 3339 time such as 2030-01-31T00:00:00Z")
			}
			return apierr.BadRequest(field, fmt.Sprintf("%s must be a JSON %s, not a JSON %s", field, jsonType(ty.Kind()), typ.Value))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return apierr.BadRequest(field, fmt.Sprintf("unknown field %q; see /admin/api/v1/openapi.json for the fields this call takes", field))
		case errors.Is(err, io.ErrUnexpectedEOF):
			return apierr.BadRequest("", "malformed JSON: the body ends too early")
		}
		var te *time.ParseError
		if errors.As(err, &te) {
			return apierr.BadRequest("expires_at", "expires_at must be an RFC 3339 time such as 2030-01-31T00:00:00Z")
		}
		return apierr.BadRequest("", "malformed JSON: "+err.Error())
	}
	if dec.More() {
		return apierr.BadRequest("", "malformed JSON: data after the JSON object")
	}
	return nil
}

func jsonType(kind reflect.Kind) string {
	switch kind {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return "number"
}

// pathID reads a numeric path parameter.
func pathID(c *gin.Context, name string) (uint64, error) {
	v, err := strconv.ParseUint(c.Param(name), 10, 64)
	if err != nil || v == 0 {
		return 0, apierr.BadRequest(name, fmt.Sprintf("%s must be a positive integer, got %q", name, c.Param(name)))
	}
	return v, nil
}

// queryID reads an optional numeric query parameter; 0 when absent.
func queryID(c *gin.Context, name string) (uint64, error) {
	s := c.Query(name)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == 0 {
		return 0, apierr.BadRequest(name, fmt.Sprintf("%s must be a positive integer, got %q", name, s))
	}
	return v, nil
}

// page reads ?page and ?per_page.
func page(c *gin.Context) (admin.Page, error) {
	p := admin.Page{Page: 1, PerPage: admin.DefaultPerPage}
	if s := c.Query("page"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return p, apierr.BadRequest("page", fmt.Sprintf("page must be an integer from 1, got %q", s))
		}
		p.Page = v
	}
	if s := c.Query("per_page"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > admin.MaxPerPage {
			return p, apierr.BadRequest("per_page", fmt.Sprintf("per_page must be an integer from 1 to %d, got %q", admin.MaxPerPage, s))
		}
		p.PerPage = v
	}
	return p, nil
}

// listJSON writes one page of a list.
func listJSON[T any](c *gin.Context, data []T, p admin.Page, total int64) error {
	c.JSON(http.StatusOK, gin.H{"data": data, "page": p.Page, "per_page": p.PerPage, "total": total})
	return nil
}

// text checks a string field: trimmed, required or not, at most max
// characters.
func text(field, v string, required bool, max int) (string, error) {
	v = strings.TrimSpace(v)
	if required && v == "" {
		return "", apierr.BadRequest(field, field+" is required")
	}
	if len([]rune(v)) > max {
		return "", apierr.BadRequest(field, fmt.Sprintf("%s must have at most %d characters", field, max))
	}
	return v, nil
}

func price(field string, v float64) error {
	if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) || v > 1e9 {
		return apierr.BadRequest(field, field+" must be a number from 0 (price in USD per million tokens)")
	}
	return nil
}
