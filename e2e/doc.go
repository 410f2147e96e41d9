// Package e2e holds end-to-end tests that run Sluice as a user would: the
// quick-start script on a copy of the repository, the built binary against
// real databases and fake upstreams. It has no code of its own.
package e2e
