package api

import (
	"fmt"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/admin"
)

// modelNameRE is what a public model name may look like: gpt-4o,
// meta-llama/Llama-3.1-8B, claude-3.5-sonnet@2024.
var modelNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$`)

// maxTargets bounds a model's targets.
const maxTargets = 50

type modelRequest struct {
	Name        *string          `json:"name"`
	Targets     *[]targetRequest `json:"targets"`
	InputPrice  *float64         `json:"input_price"`
	OutputPrice *float64         `json:"output_price"`
}

// targetRequest is one target of a model: weight defaults to 1, priority
// to 0 (tried first).
type targetRequest struct {
	ProviderID    uint64 `json:"provider_id"`
	UpstreamModel string `json:"upstream_model"`
	Weight        *int   `json:"weight"`
	Priority      *int   `json:"priority"`
}

// targets validates the targets and returns them with their defaults; the
// store checks that the providers exist.
func (r *modelRequest) targets() ([]admin.ModelTarget, error) {
	if r.Targets == nil {
		return nil, nil
	}
	in := *r.Targets
	if len(in) > maxTargets {
		return nil, badField("targets", fmt.Sprintf("a model may have at most %d targets", maxTargets))
	}
	out := make([]admin.ModelTarget, len(in))
	seen := map[admin.ModelTarget]int{}
	for i, t := range in {
		field := func(name string) string { return fmt.Sprintf("targets[%d].%s", i, name) }
		if t.ProviderID == 0 {
			return nil, badField(field("provider_id"), field("provider_id")+" is required: the id of a provider (GET /providers)")
		}
		up, err := text(field("upstream_model"), t.UpstreamModel, true, 200)
		if err != nil {
			return nil, err
		}
		w, p := 1, 0
		if t.Weight != nil {
			if w = *t.Weight; w < 1 || w > 1000000 {
				return nil, badField(field("weight"), field("weight")+" must be from 1 to 1000000 (its share of traffic within its priority)")
			}
		}
		if t.Priority != nil {
			if p = *t.Priority; p < 0 || p > 1000000 {
				return nil, badField(field("priority"), field("priority")+" must be from 0 (tried first) to 1000000")
			}
		}
		key := admin.ModelTarget{ProviderID: t.ProviderID, UpstreamModel: up}
		if j, dup := seen[key]; dup {
			return nil, badField(field("upstream_model"), fmt.Sprintf("targets[%d] repeats targets[%d] (same provider and upstream model)", i, j))
		}
		seen[key] = i
		out[i] = admin.ModelTarget{ProviderID: t.ProviderID, UpstreamModel: up, Weight: w, Priority: p}
	}
	return out, nil
}

// check validates the fields that are set; create requires the name.
func (r *modelRequest) check(create bool) error {
	if r.Name != nil || create {
		if r.Name == nil || !modelNameRE.MatchString(*r.Name) {
			return badField("name", "name is required: 1 to 200 letters, digits and . _ : / @ + -, starting with a letter or digit (e.g. gpt-4o)")
		}
	}
	if _, err := r.targets(); err != nil {
		return err
	}
	if r.InputPrice != nil {
		if err := price("input_price", *r.InputPrice); err != nil {
			return err
		}
	}
	if r.OutputPrice != nil {
		if err := price("output_price", *r.OutputPrice); err != nil {
			return err
		}
	}
	return nil
}

func (a *API) listModels(c *gin.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	models, total, err := a.stores.Models.List(c.Request.Context(), admin.ModelFilter{Q: c.Query("q"), Page: p})
	if err != nil {
		return err
	}
	return listJSON(c, models, p, total)
}

func (a *API) getModel(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	m, err := a.stores.Models.Get(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, m)
	return nil
}

func (a *API) createModel(c *gin.Context) error {
	var req modelRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := req.check(true); err != nil {
		return err
	}
	m := &admin.Model{Name: *req.Name}
	if req.InputPrice != nil {
		m.InputPrice = *req.InputPrice
	}
	if req.OutputPrice != nil {
		m.OutputPrice = *req.OutputPrice
	}
	targets, err := req.targets()
	if err != nil {
		return err
	}
	view, err := a.stores.Models.Create(c.Request.Context(), who(c).actor(), m, targets)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, view)
	return nil
}

func (a *API) updateModel(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req modelRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := req.check(false); err != nil {
		return err
	}
	u := admin.ModelUpdate{Name: req.Name, InputPrice: req.InputPrice, OutputPrice: req.OutputPrice}
	if req.Targets != nil {
		targets, err := req.targets()
		if err != nil {
			return err
		}
		u.Targets = &targets
	}
	m, err := a.stores.Models.Update(c.Request.Context(), who(c).actor(), id, u)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, m)
	return nil
}

func (a *API) deleteModel(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := a.stores.Models.Delete(c.Request.Context(), who(c).actor(), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
