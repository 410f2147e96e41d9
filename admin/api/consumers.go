package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/admin"
)

type consumerRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	TeamID      *uint64 `json:"team_id"`
}

func (r *consumerRequest) update(create bool) (admin.ConsumerUpdate, error) {
	var u admin.ConsumerUpdate
	if r.Name != nil || create {
		name, err := text("name", deref(r.Name), true, 200)
		if err != nil {
			return u, err
		}
		u.Name = &name
	}
	if r.Description != nil {
		d, err := text("description", *r.Description, false, 10000)
		if err != nil {
			return u, err
		}
		u.Description = &d
	}
	if r.TeamID != nil || create {
		if r.TeamID == nil || *r.TeamID == 0 {
			return u, badField("team_id", "team_id is required: the id of the team owning the consumer")
		}
		u.TeamID = r.TeamID
	}
	return u, nil
}

func (a *API) listConsumers(c *gin.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	team, err := queryID(c, "team_id")
	if err != nil {
		return err
	}
	list, total, err := a.stores.Consumers.List(c.Request.Context(),
		admin.ConsumerFilter{Scope: who(c).scope(), TeamID: team, Q: c.Query("q"), Page: p})
	if err != nil {
		return err
	}
	return listJSON(c, list, p, total)
}

// consumer loads the consumer of the path's id: another team's is 404 for
// a read, 403 for a write.
func (a *API) consumer(c *gin.Context, write bool) (*admin.Consumer, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	con, err := a.stores.Consumers.Get(c.Request.Context(), id)
	if err != nil {
		return nil, err
	}
	if write {
		return con, writeTeam(who(c), con.TeamID)
	}
	if !who(c).scope().Has(con.TeamID) {
		return nil, notFound("consumer", id)
	}
	return con, nil
}

func (a *API) getConsumer(c *gin.Context) error {
	con, err := a.consumer(c, false)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, con)
	return nil
}

func (a *API) createConsumer(c *gin.Context) error {
	var req consumerRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := req.update(true)
	if err != nil {
		return err
	}
	if err := writeTeam(who(c), *u.TeamID); err != nil {
		return err
	}
	con := &admin.Consumer{Name: *u.Name, Description: deref(u.Description), TeamID: *u.TeamID}
	if err := a.stores.Consumers.Create(c.Request.Context(), who(c).actor(), con); err != nil {
		return err
	}
	c.JSON(http.StatusCreated, con)
	return nil
}

func (a *API) updateConsumer(c *gin.Context) error {
	con, err := a.consumer(c, true)
	if err != nil {
		return err
	}
	var req consumerRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := req.update(false)
	if err != nil {
		return err
	}
	if u.TeamID != nil {
		if err := writeTeam(who(c), *u.TeamID); err != nil {
			return err
		}
	}
	con, err = a.stores.Consumers.Update(c.Request.Context(), who(c).actor(), con.ID, u)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, con)
	return nil
}

func (a *API) deleteConsumer(c *gin.Context) error {
	con, err := a.consumer(c, true)
	if err != nil {
		return err
	}
	if err := a.stores.Consumers.Delete(c.Request.Context(), who(c).actor(), con.ID); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

type keyRequest struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// createdKey is a new key with the key itself, shown only in this answer.
type createdKey struct {
	admin.ConsumerKey
	Key string `json:"key"`
}

func (a *API) listKeys(c *gin.Context) error {
	con, err := a.consumer(c, false)
	if err != nil {
		return err
	}
	p, err := page(c)
	if err != nil {
		return err
	}
	list, total, err := a.stores.Keys.List(c.Request.Context(), con.ID, p)
	if err != nil {
		return err
	}
	return listJSON(c, list, p, total)
}

func (a *API) createKey(c *gin.Context) error {
	con, err := a.consumer(c, true)
	if err != nil {
		return err
	}
	var req keyRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	name, err := text("name", req.Name, true, 200)
	if err != nil {
		return err
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(a.deps.Clock.Now()) {
		return badField("expires_at", "expires_at must be in the future (RFC 3339), or left out for a key that does not expire")
	}
	k, token, err := a.stores.Keys.Issue(c.Request.Context(), who(c).actor(), a.deps.Keyring, con.ID, name, req.ExpiresAt)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, createdKey{ConsumerKey: *k, Key: token})
	return nil
}

func (a *API) revokeKey(c *gin.Context) error {
	con, err := a.consumer(c, true)
	if err != nil {
		return err
	}
	k, err := a.stores.Keys.Revoke(c.Request.Context(), who(c).actor(), con.ID, c.Param("key_id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, k)
	return nil
}
