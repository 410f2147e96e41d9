package api

import "github.com/gin-gonic/gin"

// Register adds the admin API's routes to g (the server mounts it at
// /admin/api/v1). Read a line left to right for the checks a request passes.
func (a *API) Register(g *gin.RouterGroup) {
	g.GET("/openapi.json", a.openAPI)
	g.POST("/login", a.h(a.login))

	auth := g.Group("", a.authenticate)
	auth.POST("/logout", a.h(a.logout))
	auth.POST("/refresh", a.h(a.refresh))
	auth.GET("/me", a.h(a.me))

	admins := auth.Group("", a.adminOnly)
	admins.GET("/teams", a.h(a.listTeams))
	admins.POST("/teams", a.h(a.createTeam))
	admins.GET("/teams/:id", a.h(a.getTeam))
	admins.PATCH("/teams/:id", a.h(a.updateTeam))
	admins.DELETE("/teams/:id", a.h(a.deleteTeam))
	admins.POST("/teams/:id/members", a.h(a.addMember))
	admins.DELETE("/teams/:id/members/:user_id", a.h(a.removeMember))

	admins.GET("/users", a.h(a.listUsers))
	admins.POST("/users", a.h(a.createUser))
	admins.GET("/users/:id", a.h(a.getUser))
	admins.PATCH("/users/:id", a.h(a.updateUser))
	admins.POST("/users/:id/password", a.h(a.resetPassword))

	auth.GET("/providers", a.h(a.listProviders))
	auth.GET("/providers/:id", a.h(a.getProvider))
	admins.POST("/providers", a.h(a.createProvider))
	admins.PATCH("/providers/:id", a.h(a.updateProvider))
	admins.DELETE("/providers/:id", a.h(a.deleteProvider))
	admins.POST("/providers/:id/test", a.h(a.testProvider))

	auth.GET("/models", a.h(a.listModels))
	auth.GET("/models/:id", a.h(a.getModel))
	admins.POST("/models", a.h(a.createModel))
	admins.PATCH("/models/:id", a.h(a.updateModel))
	admins.DELETE("/models/:id", a.h(a.deleteModel))

	auth.GET("/services", a.h(a.listServices))
	auth.POST("/services", a.h(a.createService))
	auth.GET("/services/:id", a.h(a.getService))
	auth.PATCH("/services/:id", a.h(a.updateService))
	auth.DELETE("/services/:id", a.h(a.deleteService))

	auth.GET("/consumers", a.h(a.listConsumers))
	auth.POST("/consumers", a.h(a.createConsumer))
	auth.GET("/consumers/:id", a.h(a.getConsumer))
	auth.PATCH("/consumers/:id", a.h(a.updateConsumer))
	auth.DELETE("/consumers/:id", a.h(a.deleteConsumer))
	auth.GET("/consumers/:id/keys", a.h(a.listKeys))
	auth.POST("/consumers/:id/keys", a.h(a.createKey))
	auth.DELETE("/consumers/:id/keys/:key_id", a.h(a.revokeKey))

	auth.GET("/breakers", a.h(a.listBreakers))

	auth.GET("/subscriptions", a.h(a.listSubscriptions))
	auth.GET("/subscriptions/:id", a.h(a.getSubscription))
	auth.POST("/subscriptions/:id/approve", a.h(a.decide("approve")))
	auth.POST("/subscriptions/:id/reject", a.h(a.decide("reject")))
	auth.POST("/subscriptions/:id/revoke", a.h(a.decide("revoke")))

	auth.GET("/audit", a.h(a.listAudit))
	a.registerPrompts(auth)
	a.registerCallLog(auth)
}
