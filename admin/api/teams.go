package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/admin"
)

type teamRequest struct {
	Name string `json:"name"`
}

func teamName(v string) (string, error) { return text("name", v, true, 100) }

func (a *API) listTeams(c *gin.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	teams, total, err := a.stores.Teams.List(c.Request.Context(), admin.TeamFilter{Q: c.Query("q"), Page: p})
	if err != nil {
		return err
	}
	return listJSON(c, teams, p, total)
}

func (a *API) createTeam(c *gin.Context) error {
	var req teamRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	name, err := teamName(req.Name)
	if err != nil {
		return err
	}
	t, err := a.stores.Teams.Create(c.Request.Context(), who(c).actor(), name)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, t)
	return nil
}

func (a *API) getTeam(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	t, err := a.stores.Teams.Get(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, t)
	return nil
}

func (a *API) updateTeam(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req teamRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	name, err := teamName(req.Name)
	if err != nil {
		return err
	}
	t, err := a.stores.Teams.Rename(c.Request.Context(), who(c).actor(), id, name)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, t)
	return nil
}

func (a *API) deleteTeam(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := a.stores.Teams.Delete(c.Request.Context(), who(c).actor(), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

type memberRequest struct {
	UserID uint64 `json:"user_id"`
}

func (a *API) addMember(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req memberRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.UserID == 0 {
		return badField("user_id", "user_id is required: the id of the user to add")
	}
	m, err := a.stores.Teams.AddMember(c.Request.Context(), who(c).actor(), id, req.UserID)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, m)
	return nil
}

func (a *API) removeMember(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	uid, err := pathID(c, "user_id")
	if err != nil {
		return err
	}
	if err := a.stores.Teams.RemoveMember(c.Request.Context(), who(c).actor(), id, uid); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
