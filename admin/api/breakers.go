package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sluicehq/sluice/internal/relay"
)

// listBreakers answers GET /breakers: the state of each routing target's
// circuit breaker on this replica, so an operator sees which upstreams are
// being skipped.
func (a *API) listBreakers(c *gin.Context) error {
	states := []relay.BreakerState{}
	if a.deps.Breakers != nil {
		states = append(states, a.deps.Breakers()...)
	}
	c.JSON(http.StatusOK, gin.H{"data": states})
	return nil
}
