package api

import (
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/admin"
)

// modelNameRE is what a public model name may look like: gpt-4o,
// meta-llama/Llama-3.1-8B, claude-3.5-sonnet@2024.
var modelNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$`)

type modelRequest struct {
	Name        *string  `json:"name"`
	InputPrice  *float64 `json:"input_price"`
	OutputPrice *float64 `json:"output_price"`
}

// check validates the fields that are set; create requires the name.
func (r *modelRequest) check(create bool) error {
	if r.Name != nil || create {
		if r.Name == nil || !modelNameRE.MatchString(*r.Name) {
			return badField("name", "name is required: 1 to 200 letters, digits and . _ : / @ + -, starting with a letter or digit (e.g. gpt-4o)")
		}
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
	if err := a.stores.Models.Create(c.Request.Context(), who(c).actor(), m); err != nil {
		return err
	}
	c.JSON(http.StatusCreated, m)
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
	m, err := a.stores.Models.Update(c.Request.Context(), who(c).actor(), id,
		admin.ModelUpdate{Name: req.Name, InputPrice: req.InputPrice, OutputPrice: req.OutputPrice})
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
