// Package version holds the build's version, commit and date, set at link
// time: go build -ldflags "-X github.com/sluicehq/sluice/internal/version.Version=v1.2.3 …".
package version

// Set by -ldflags -X at build time.
var (
	Version = "dev"
	Commit  = "unknown"
	Date    = "unknown"
)

// String is the one-line version report.
func String() string {
	return "sluice " + Version + " (commit " + Commit + ", built " + Date + ")"
}
