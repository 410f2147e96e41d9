// Command sluice is the Sluice AI model gateway: `sluice serve` (the
// default), `sluice demo` (serve with fake upstreams and demo data),
// `sluice migrate up|status`, `sluice admin create|passwd`,
// `sluice version`. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sluicehq/sluice/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
