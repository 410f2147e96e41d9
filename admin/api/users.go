package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/apierr"
)

func badField(field, msg string) error { return apierr.BadRequest(field, msg) }

type createUserRequest struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

type updateUserRequest struct {
	Name     *string `json:"name"`
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
}

type passwordRequest struct {
	Password string `json:"password"`
}

func checkPassword(pw string) error {
	if len(pw) < 8 || len(pw) > 72 {
		return badField("password", "password must have 8 to 72 bytes")
	}
	return nil
}

func checkRole(role string) error {
	if role != admin.RoleAdmin && role != admin.RoleMember {
		return badField("role", "role must be admin or member")
	}
	return nil
}

func (a *API) listUsers(c *gin.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	team, err := queryID(c, "team_id")
	if err != nil {
		return err
	}
	role := c.Query("role")
	if role != "" {
		if err := checkRole(role); err != nil {
			return err
		}
	}
	users, total, err := a.deps.Users.List(c.Request.Context(), admin.UserFilter{Q: c.Query("q"), Role: role, TeamID: team, Page: p})
	if err != nil {
		return err
	}
	return listJSON(c, users, p, total)
}

func (a *API) createUser(c *gin.Context) error {
	var req createUserRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if i := strings.IndexByte(email, '@'); i < 1 || i == len(email)-1 || len(email) > 254 || strings.ContainsAny(email, " \t\r\n") {
		return badField("email", "email must be an email address such as ops@example.com")
	}
	name, err := text("name", req.Name, false, 200)
	if err != nil {
		return err
	}
	if err := checkPassword(req.Password); err != nil {
		return err
	}
	if req.Role == "" {
		req.Role = admin.RoleMember
	}
	if err := checkRole(req.Role); err != nil {
		return err
	}
	u, err := a.deps.Users.CreateBy(c.Request.Context(), who(c).actor(), email, name, req.Password, req.Role)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, userView{User: *u, Teams: []admin.Team{}})
	return nil
}

func (a *API) getUser(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	u, err := a.deps.Users.ByID(c.Request.Context(), id)
	if err != nil {
		return err
	}
	teams, err := a.stores.Teams.ForUser(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, userView{User: *u, Teams: teams})
	return nil
}

func (a *API) updateUser(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req updateUserRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	up := admin.UserUpdate{Role: req.Role, Disabled: req.Disabled}
	if req.Name != nil {
		name, err := text("name", *req.Name, false, 200)
		if err != nil {
			return err
		}
		up.Name = &name
	}
	if req.Role != nil {
		if err := checkRole(*req.Role); err != nil {
			return err
		}
	}
	u, err := a.deps.Users.Update(c.Request.Context(), who(c).actor(), id, up)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, u)
	return nil
}

func (a *API) resetPassword(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req passwordRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := checkPassword(req.Password); err != nil {
		return err
	}
	if err := a.deps.Users.ResetPassword(c.Request.Context(), who(c).actor(), id, req.Password); err != nil {
		return err
	}
	// Whoever knew the old password is signed out.
	if err := a.stores.Sessions.RevokeUser(c.Request.Context(), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
