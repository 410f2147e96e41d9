package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/apierr"
	"github.com/sluicehq/sluice/internal/limits"
)

// SessionLifetime is how long an admin session token is valid.
const SessionLifetime = 12 * time.Hour

// Login attempts allowed per minute for one account and one client address.
const (
	LoginPerAccount = 10
	LoginPerAddress = 30
)

// sessionIssuer is the iss claim of admin session tokens; it keeps them
// apart from consumer keys.
const sessionIssuer = "sluice-admin"

// principal is the signed-in user of a request.
type principal struct {
	user    admin.User
	session string
	teams   []uint64
}

func (p *principal) isAdmin() bool { return p.user.Role == admin.RoleAdmin }

func (p *principal) actor() admin.Actor { return admin.UserActor(&p.user) }

// scope is what the user may see: everything for an admin, their teams
// for a member.
func (p *principal) scope() admin.Scope {
	if p.isAdmin() {
		return admin.AllTeams()
	}
	return admin.Scope{Teams: p.teams}
}

const principalKey = "sluice.admin.principal"

func who(c *gin.Context) *principal { return c.MustGet(principalKey).(*principal) }

func unauthorized(msg string) error {
	return &apierr.Error{Status: http.StatusUnauthorized, Code: "invalid_session", Message: msg}
}

// adminOnly refuses members.
func (a *API) adminOnly(c *gin.Context) {
	if !who(c).isAdmin() {
		a.fail(c, forbidden("only admins can do this; ask an admin"))
	}
}

// authenticate checks the session token and loads the user and their teams.
func (a *API) authenticate(c *gin.Context) {
	p, err := a.principalOf(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Set(principalKey, p)
}

func (a *API) principalOf(c *gin.Context) (*principal, error) {
	h := strings.TrimSpace(c.GetHeader("Authorization"))
	const scheme = "bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return nil, unauthorized("missing session: log in at POST /admin/api/v1/login and send 'Authorization: Bearer TOKEN'")
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(strings.TrimSpace(h[len(scheme):]), &claims,
		func(*jwt.Token) (any, error) { return a.deps.SessionKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(a.deps.Clock.Now), jwt.WithExpirationRequired(), jwt.WithIssuer(sessionIssuer))
	if errors.Is(err, jwt.ErrTokenExpired) {
		return nil, unauthorized("session expired: log in again")
	}
	if err != nil {
		return nil, unauthorized("invalid session token: log in again")
	}
	ctx := c.Request.Context()
	ses, err := a.stores.Sessions.Get(ctx, claims.ID)
	if errors.Is(err, admin.ErrNotFound) {
		return nil, unauthorized("invalid session token: log in again")
	} else if err != nil {
		return nil, err
	}
	if uid, _ := strconv.ParseUint(claims.Subject, 10, 64); uid != ses.UserID {
		return nil, unauthorized("invalid session token: log in again")
	}
	if ses.RevokedAt != nil {
		return nil, unauthorized("session revoked: log in again")
	}
	if !a.deps.Clock.Now().Before(ses.ExpiresAt) {
		return nil, unauthorized("session expired: log in again")
	}
	u, err := a.deps.Users.ByID(ctx, ses.UserID)
	if errors.Is(err, admin.ErrNotFound) {
		return nil, unauthorized("the user of this session no longer exists")
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, unauthorized("this user is disabled")
	}
	teams, err := a.stores.Teams.IDsForUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &principal{user: *u, session: ses.ID, teams: teams}, nil
}

// issue starts a session for u and signs its token.
func (a *API) issue(c *gin.Context, u *admin.User) (gin.H, error) {
	now := a.deps.Clock.Now()
	exp := now.Add(SessionLifetime)
	ses, err := a.stores.Sessions.Create(c.Request.Context(), u.ID, exp)
	if err != nil {
		return nil, err
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Issuer: sessionIssuer, Subject: strconv.FormatUint(u.ID, 10), ID: ses.ID,
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
	}).SignedString(a.deps.SessionKey)
	if err != nil {
		return nil, err
	}
	return gin.H{"token": tok, "expires_at": exp.UTC().Truncate(time.Second), "user": u}, nil
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// login checks the password, rate-limited per account and per address.
func (a *API) login(c *gin.Context) error {
	var req loginRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if email == "" {
		return apierr.BadRequest("email", "email is required")
	}
	if req.Password == "" {
		return apierr.BadRequest("password", "password is required")
	}
	ctx := c.Request.Context()
	for _, l := range []struct {
		key string
		rpm int
	}{{"login:account:" + email, LoginPerAccount}, {"login:addr:" + c.ClientIP(), LoginPerAddress}} {
		d, err := a.limiter.Admit(ctx, l.key, limits.Limits{RPM: l.rpm}, 0)
		if err != nil {
			return err
		}
		if !d.Allowed {
			d.Headers(c.Writer.Header())
			return &apierr.Error{Status: http.StatusTooManyRequests, Code: "too_many_logins",
				Message: "too many login attempts; wait for the time in Retry-After and try again"}
		}
	}
	u, err := a.deps.Users.ByEmail(ctx, email)
	if err != nil && !errors.Is(err, admin.ErrNotFound) {
		return err
	}
	ok := u != nil && admin.CheckPassword(u.PasswordHash, req.Password)
	if u == nil {
		// Spend the time a real check takes so timing does not reveal
		// whether the account exists.
		a.deps.Users.CheckNoUser(req.Password)
	}
	if !ok || u.Disabled {
		_ = a.stores.Audit.Record(ctx, admin.Actor{Email: truncate(email, 254)}, "login_failed", "session", "", nil, nil, nil)
		return unauthorized("invalid email or password")
	}
	out, err := a.issue(c, u)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, out)
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (a *API) logout(c *gin.Context) error {
	if err := a.stores.Sessions.Revoke(c.Request.Context(), who(c).session); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

func (a *API) refresh(c *gin.Context) error {
	p := who(c)
	out, err := a.issue(c, &p.user)
	if err != nil {
		return err
	}
	if err := a.stores.Sessions.Revoke(c.Request.Context(), p.session); err != nil {
		return err
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// userView is a user with their teams.
type userView struct {
	admin.User
	Teams []admin.Team `json:"teams"`
}

func (a *API) me(c *gin.Context) error {
	p := who(c)
	teams, err := a.stores.Teams.ForUser(c.Request.Context(), p.user.ID)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, userView{User: p.user, Teams: teams})
	return nil
}
