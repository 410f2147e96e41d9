// Package server wires Sluice's HTTP surface: the Gin engine, the middleware
// every request passes (request id, panic recovery, body limit, metrics,
// access log), the health and metrics endpoints, the console, and the
// data-plane routes in routes.go, where each line shows the order a request
// takes: auth → subscription → limits → relay. It owns graceful shutdown.
//
// server may import every other Sluice package; providers/... must not
// import it.
package server
