// Package web holds the admin console: its TypeScript sources (built with
// Vite) and the built assets in web/dist, which are committed so that a
// plain `go build` on a clean clone yields a binary whose console works.
// The binary serves them at / from this embedded file system.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built console: index.html and its assets.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return sub
}
