package api

import (
	"fmt"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/admin"
)

// slugRE is what a service slug may look like.
var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

type limitsJSON struct {
	RPM           int   `json:"rpm"`
	TPM           int   `json:"tpm"`
	MonthlyTokens int64 `json:"monthly_tokens"`
}

type serviceRequest struct {
	Slug        *string     `json:"slug"`
	Name        *string     `json:"name"`
	Description *string     `json:"description"`
	TeamID      *uint64     `json:"team_id"`
	Approval    *string     `json:"approval"`
	ModelIDs    *[]uint64   `json:"model_ids"`
	Limits      *limitsJSON `json:"limits"`
	LogBodies   *bool       `json:"log_bodies"`
	// LogRetentionDays is 0 (keep forever) to 3650.
	LogRetentionDays *int `json:"log_retention_days"`
	// RedactFields are at most 32 gjson/sjson paths.
	RedactFields *[]string `json:"redact_fields"`
}

// Bounds of the call-log settings of a service.
const (
	maxRetentionDays = 3650
	maxRedactFields  = 32
	maxRedactPathLen = 200
)

// redactPathRE is the path syntax redact_fields accepts: dot-separated
// gjson/sjson keys, '#' for every element of an array, or an index
// ("messages.#.content", "user", "metadata.email", "input.0").
var redactPathRE = regexp.MustCompile(`^([A-Za-z0-9_\-]+|#)(\.([A-Za-z0-9_\-]+|#))*$`)

// update validates the request and turns it into a store update; create
// requires slug, name and team_id.
func (r *serviceRequest) update(create bool) (admin.ServiceUpdate, error) {
	var u admin.ServiceUpdate
	if r.Slug != nil || create {
		if r.Slug == nil || !slugRE.MatchString(*r.Slug) {
			return u, badField("slug", "slug is required: 1 to 63 lower-case letters, digits and '-', starting with a letter or digit")
		}
		u.Slug = r.Slug
	}
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
			return u, badField("team_id", "team_id is required: the id of the team owning the service")
		}
		u.TeamID = r.TeamID
	}
	if r.Approval != nil {
		if *r.Approval != admin.ApprovalManual && *r.Approval != admin.ApprovalAuto {
			return u, badField("approval", "approval must be manual or auto")
		}
		u.Approval = r.Approval
	} else if create {
		u.Approval = ptr(admin.ApprovalManual)
	}
	if r.Limits != nil {
		l := r.Limits
		switch {
		case l.RPM < 0:
			return u, badField("limits.rpm", "limits.rpm must be 0 (unlimited) or more")
		case l.TPM < 0:
			return u, badField("limits.tpm", "limits.tpm must be 0 (unlimited) or more")
		case l.MonthlyTokens < 0:
			return u, badField("limits.monthly_tokens", "limits.monthly_tokens must be 0 (unlimited) or more")
		}
		u.Limits = &admin.Limits{RPM: l.RPM, TPM: l.TPM, MonthlyTokens: l.MonthlyTokens}
	}
	if r.LogBodies != nil {
		u.LogBodies = r.LogBodies
	}
	if r.LogRetentionDays != nil {
		if d := *r.LogRetentionDays; d < 0 || d > maxRetentionDays {
			return u, badField("log_retention_days", "log_retention_days must be 0 (keep forever) to 3650")
		}
		u.LogRetentionDays = r.LogRetentionDays
	}
	if r.RedactFields != nil {
		fields := *r.RedactFields
		if len(fields) > maxRedactFields {
			return u, badField("redact_fields", fmt.Sprintf("redact_fields holds at most %d paths", maxRedactFields))
		}
		for _, f := range fields {
			if len(f) > maxRedactPathLen || !redactPathRE.MatchString(f) {
				return u, badField("redact_fields", fmt.Sprintf("redact_fields: %q is not a path: dot-separated keys (letters, digits, '_', '-'), '#' for every array element, e.g. \"messages.#.content\"", f))
			}
		}
		u.RedactFields = &fields
	}
	if r.ModelIDs != nil {
		for _, id := range *r.ModelIDs {
			if id == 0 {
				return u, badField("model_ids", "model_ids must hold model ids (positive integers)")
			}
		}
		u.ModelIDs = r.ModelIDs
	}
	return u, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// writeTeam refuses a write into a team the caller is not a member of.
func writeTeam(p *principal, team uint64) error {
	if !p.scope().Has(team) {
		return forbidden(fmt.Sprintf("you are not a member of team %d; only its members and admins can change its resources", team))
	}
	return nil
}

func (a *API) listServices(c *gin.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	team, err := queryID(c, "team_id")
	if err != nil {
		return err
	}
	list, total, err := a.stores.Services.List(c.Request.Context(),
		admin.ServiceFilter{Scope: who(c).scope(), TeamID: team, Q: c.Query("q"), Page: p})
	if err != nil {
		return err
	}
	return listJSON(c, list, p, total)
}

// service loads a service the caller may see; others are 404.
func (a *API) service(c *gin.Context) (*admin.Service, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	s, err := a.stores.Services.Get(c.Request.Context(), id)
	if err != nil {
		return nil, err
	}
	if !who(c).scope().Has(s.TeamID) {
		return nil, notFound("service", id)
	}
	return s, nil
}

// serviceForWrite loads a service the caller may change; another team's
// is 403.
func (a *API) serviceForWrite(c *gin.Context) (*admin.Service, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	s, err := a.stores.Services.Get(c.Request.Context(), id)
	if err != nil {
		return nil, err
	}
	return s, writeTeam(who(c), s.TeamID)
}

func (a *API) getService(c *gin.Context) error {
	s, err := a.service(c)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, s)
	return nil
}

func (a *API) createService(c *gin.Context) error {
	var req serviceRequest
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
	s := &admin.Service{Slug: *u.Slug, Name: *u.Name, Description: deref(u.Description), TeamID: *u.TeamID,
		Approval: *u.Approval, Limits: deref(u.Limits), LogBodies: deref(u.LogBodies),
		LogRetentionDays: deref(u.LogRetentionDays), RedactFields: deref(u.RedactFields)}
	if err := a.stores.Services.Create(c.Request.Context(), who(c).actor(), s, deref(u.ModelIDs)); err != nil {
		return err
	}
	c.JSON(http.StatusCreated, s)
	return nil
}

func (a *API) updateService(c *gin.Context) error {
	s, err := a.serviceForWrite(c)
	if err != nil {
		return err
	}
	var req serviceRequest
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
	s, err = a.stores.Services.Update(c.Request.Context(), who(c).actor(), s.ID, u)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, s)
	return nil
}

func (a *API) deleteService(c *gin.Context) error {
	s, err := a.serviceForWrite(c)
	if err != nil {
		return err
	}
	if err := a.stores.Services.Delete(c.Request.Context(), who(c).actor(), s.ID); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
