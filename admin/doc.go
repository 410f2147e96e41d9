// Package admin is the control plane: admin users and their sessions, teams,
// consumers and their keys, services and subscriptions, and the admin API
// under /admin/api/v1 that manages them. Its stores query the database
// through GORM; the data plane never calls them per request, it reads the
// in-memory snapshot the control plane keeps current.
package admin
