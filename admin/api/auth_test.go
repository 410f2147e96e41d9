package api

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/dbtest"
)

func TestAuth(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		u := e.user("root@example.com", admin.RoleAdmin)
		e.user("off@example.com", admin.RoleAdmin).Disabled = true
		e.db.Model(&admin.User{}).Where("email = ?", "off@example.com").Update("disabled", true)

		login := e.do("POST", "/login", "", map[string]any{"email": "ROOT@example.com", "password": testPassword})
		if login.Code != 200 {
			t.Fatalf("login: %d %s", login.Code, login.Body)
		}
		lj := login.json(t)
		tok := lj["token"].(string)
		if strings.Contains(string(login.Body), "password_hash") || strings.Contains(string(login.Body), "$2a$") {
			t.Fatalf("login answer leaks the hash: %s", login.Body)
		}
		exp, _ := time.Parse(time.RFC3339, lj["expires_at"].(string))
		if d := exp.Sub(e.clock.Now()); d < 12*time.Hour-time.Second || d > 12*time.Hour {
			t.Fatalf("expires_at %v is not 12 h away", exp)
		}
		var claims jwt.RegisteredClaims
		parsed, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return e.secret, nil }, jwt.WithTimeFunc(e.clock.Now))
		if err != nil || parsed.Method.Alg() != "HS256" || claims.Subject != strconv.FormatUint(u.ID, 10) || claims.ID == "" {
			t.Fatalf("session token %+v: %v", claims, err)
		}
		var ses admin.Session
		if err := e.db.Where("id = ?", claims.ID).Take(&ses).Error; err != nil || ses.UserID != u.ID {
			t.Fatalf("session row %+v: %v", ses, err)
		}
		e.must(200, "GET", "/me", tok, nil)

		sign := func(method jwt.SigningMethod, key any, c jwt.RegisteredClaims) string {
			s, err := jwt.NewWithClaims(method, c).SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		valid := claims
		valid.ExpiresAt = jwt.NewNumericDate(e.clock.Now().Add(time.Hour))
		noExp := claims
		noExp.ExpiresAt = nil
		wrongSub := claims
		wrongSub.Subject = "999"
		for _, c := range []struct{ name, header string }{
			{"no token", ""},
			{"not bearer", "Basic " + tok},
			{"garbage", "Bearer not.a.jwt"},
			{"alg none", "Bearer " + sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid)},
			{"other secret", "Bearer " + sign(jwt.SigningMethodHS256, []byte("another secret entirely........"), valid)},
			{"HS512", "Bearer " + sign(jwt.SigningMethodHS512, e.secret, valid)},
			{"no exp", "Bearer " + sign(jwt.SigningMethodHS256, e.secret, noExp)},
			{"other user", "Bearer " + sign(jwt.SigningMethodHS256, e.secret, wrongSub)},
			{"unknown session", "Bearer " + sign(jwt.SigningMethodHS256, e.secret, jwt.RegisteredClaims{Issuer: sessionIssuer, Subject: claims.Subject, ID: "ses_nope", ExpiresAt: valid.ExpiresAt})},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.do("GET", "/me", "", nil)
				if c.header != "" {
					r = e.doHeader("GET", "/me", c.header)
				}
				if r.Code != 401 {
					t.Fatalf("%d %s", r.Code, r.Body)
				}
			})
		}

		// Refresh: new token works, old one is revoked.
		ref := e.must(200, "POST", "/refresh", tok, nil)
		tok2 := ref["token"].(string)
		if r := e.do("GET", "/me", tok, nil); r.Code != 401 || !strings.Contains(r.errMessage(t), "session revoked") {
			t.Fatalf("old token after refresh: %d %s", r.Code, r.Body)
		}
		e.must(200, "GET", "/me", tok2, nil)
		// Logout revokes.
		e.must(204, "POST", "/logout", tok2, nil)
		if r := e.do("GET", "/me", tok2, nil); r.Code != 401 || !strings.Contains(r.errMessage(t), "session revoked") {
			t.Fatalf("token after logout: %d %s", r.Code, r.Body)
		}
		// Expiry follows the clock.
		tok3 := e.login("root@example.com")
		e.clock.Advance(12*time.Hour + time.Second)
		if r := e.do("GET", "/me", tok3, nil); r.Code != 401 || !strings.Contains(r.errMessage(t), "expired") {
			t.Fatalf("expired token: %d %s", r.Code, r.Body)
		}
		// A user disabled after login loses the session.
		tok4 := e.login("root@example.com")
		e.db.Model(&admin.User{}).Where("id = ?", u.ID).Update("disabled", true)
		if r := e.do("GET", "/me", tok4, nil); r.Code != 401 {
			t.Fatalf("disabled user's session: %d", r.Code)
		}
		e.db.Model(&admin.User{}).Where("id = ?", u.ID).Update("disabled", false)

		// A password reset signs the user out everywhere.
		e.user("second@example.com", admin.RoleAdmin)
		other := e.login("second@example.com")
		tok5 := e.login("root@example.com")
		e.must(204, "POST", fmt.Sprintf("/users/%d/password", u.ID), other, map[string]any{"password": "brand new password"})
		if r := e.do("GET", "/me", tok5, nil); r.Code != 401 || !strings.Contains(r.errMessage(t), "session revoked") {
			t.Fatalf("session after password reset: %d %s", r.Code, r.Body)
		}
		if r := e.do("POST", "/login", "", map[string]any{"email": "root@example.com", "password": "brand new password"}); r.Code != 200 {
			t.Fatalf("login with the new password: %d %s", r.Code, r.Body)
		}
		e.db.Model(&admin.User{}).Where("id = ?", u.ID).Update("password_hash", cheapHash())

		// Same message for a wrong password, an unknown email, a disabled user.
		for _, c := range []struct{ email, password string }{
			{"root@example.com", "wrong password"},
			{"nobody@example.com", testPassword},
			{"off@example.com", testPassword},
		} {
			r := e.do("POST", "/login", "", map[string]any{"email": c.email, "password": c.password})
			if r.Code != 401 || r.errMessage(t) != "invalid email or password" {
				t.Fatalf("login %s: %d %s", c.email, r.Code, r.Body)
			}
		}
	})
}

// doHeader sends a request with a raw Authorization header.
func (e *env) doHeader(method, path, auth string) resp {
	e.t.Helper()
	return e.doWith(method, path, nil, map[string]string{"Authorization": auth})
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.user("root@example.com", admin.RoleAdmin)
	e.user("other@example.com", admin.RoleAdmin)
	bad := map[string]any{"email": "root@example.com", "password": "wrong password"}
	for i := range LoginPerAccount {
		if r := e.do("POST", "/login", "", bad); r.Code != 401 {
			t.Fatalf("attempt %d: %d", i+1, r.Code)
		}
	}
	r := e.do("POST", "/login", "", map[string]any{"email": "root@example.com", "password": testPassword})
	if r.Code != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("attempt %d: %d, Retry-After %q", LoginPerAccount+1, r.Code, r.Header.Get("Retry-After"))
	}
	if ra, _ := strconv.Atoi(r.Header.Get("Retry-After")); ra < 1 || ra > 60 {
		t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
	// Another account from the same address still may, up to the address limit.
	e.login("other@example.com")
	// After the window the account may log in again.
	e.clock.Advance(61 * time.Second)
	e.login("root@example.com")

	// Per address: 30 a minute whatever the account.
	e.clock.Advance(61 * time.Second)
	for i := range LoginPerAddress {
		r := e.do("POST", "/login", "", map[string]any{"email": fmt.Sprintf("u%d@example.com", i), "password": "wrong password"})
		if r.Code != 401 {
			t.Fatalf("address attempt %d: %d", i+1, r.Code)
		}
	}
	if r := e.do("POST", "/login", "", map[string]any{"email": "other@example.com", "password": testPassword}); r.Code != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("address limit: %d", r.Code)
	}
}
