package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/admin/keys"
	"github.com/sluicehq/sluice/internal/dbtest"
	"github.com/sluicehq/sluice/internal/secret"
	"github.com/sluicehq/sluice/migrations"
)

const testPassword = "correct horse battery"

// cheapHash is testPassword hashed at bcrypt's minimum cost, so test users
// are made without the production cost.
var cheapHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// countingNotifier counts Changed calls.
type countingNotifier struct{ n atomic.Int64 }

func (n *countingNotifier) Changed(context.Context) error { n.n.Add(1); return nil }

type env struct {
	t      *testing.T
	db     *gorm.DB
	engine *gin.Engine
	ring   *keys.Keyring
	clock  *fakeClock
	notes  *countingNotifier
	users  *admin.Users
	stores *admin.Stores
	secret []byte
	sealer *secret.Sealer
}

// testSealer seals credentials under a fixed test secret.
func testSealer(t *testing.T) *secret.Sealer {
	t.Helper()
	sec, err := secret.Load("test secret key, at least 32 characters long", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return sec.Sealer()
}

func migrated(t *testing.T, kind string) *gorm.DB {
	t.Helper()
	d, _ := dbtest.NewDatabase(t, kind)
	h := dbtest.OpenURL(t, d)
	m, err := migrations.New(h, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h.Gorm
}

func newEnv(t *testing.T, kind string) *env {
	t.Helper()
	gin.SetMode(gin.TestMode)
	db := migrated(t, kind)
	ring, err := keys.NewKeyring([]byte("0123456789abcdef0123456789abcdef"), "k1")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, ring: ring, clock: &fakeClock{t: time.Now().UTC().Truncate(time.Second)},
		notes: &countingNotifier{}, users: admin.NewUsersWithCost(db, bcrypt.MinCost), secret: []byte("session secret for tests, 32 bytes"),
		sealer: testSealer(t)}
	a := New(Deps{DB: db, Users: e.users, Keyring: ring, SessionKey: e.secret, Notifier: e.notes, Clock: e.clock, Sealer: e.sealer})
	e.stores = a.stores
	e.engine = gin.New()
	a.Register(e.engine.Group("/admin/api/v1"))
	return e
}

// user inserts a user with testPassword hashed cheaply.
func (e *env) user(email, role string, teams ...uint64) *admin.User {
	e.t.Helper()
	u := &admin.User{Email: email, Name: strings.Split(email, "@")[0], PasswordHash: cheapHash(), Role: role}
	if err := e.db.Create(u).Error; err != nil {
		e.t.Fatal(err)
	}
	for _, team := range teams {
		if err := e.db.Create(&admin.TeamMember{TeamID: team, UserID: u.ID}).Error; err != nil {
			e.t.Fatal(err)
		}
	}
	return u
}

type resp struct {
	Code   int
	Header http.Header
	Body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", r.Code, err, r.Body)
	}
	return m
}

// errParam is the error envelope's param.
func (r resp) errParam(t *testing.T) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	p, _ := e["param"].(string)
	return p
}

func (r resp) errMessage(t *testing.T) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

// do sends a request; body is JSON-encoded unless it is a string.
func (e *env) do(method, path, token string, body any) resp {
	e.t.Helper()
	h := map[string]string{}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	return e.doWith(method, path, body, h)
}

func (e *env) doWith(method, path string, body any, headers map[string]string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(method, "/admin/api/v1"+path, rd)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.engine.ServeHTTP(rec, req)
	return resp{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// must sends a request and fails unless the status is want.
func (e *env) must(want int, method, path, token string, body any) map[string]any {
	e.t.Helper()
	r := e.do(method, path, token, body)
	if r.Code != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Code, want, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.json(e.t)
}

func (e *env) login(email string) string {
	e.t.Helper()
	m := e.must(200, "POST", "/login", "", map[string]any{"email": email, "password": testPassword})
	return m["token"].(string)
}

// id reads a numeric id from an answer.
func id(m map[string]any) uint64 { return uint64(m["id"].(float64)) }

func idPath(prefix string, m map[string]any) string {
	return prefix + "/" + jsonNumber(m["id"])
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
