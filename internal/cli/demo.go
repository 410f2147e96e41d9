package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/demo"
)

// runDemo runs `sluice demo`: serve, with fake upstreams, demo data and live
// demo traffic added (internal/demo).
func runDemo(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer) error {
	var opts demo.Options
	return serve(ctx, args, env, stdout, stderr, &addOn{
		flags: opts.Flags,
		check: func() error {
			if err := opts.Check(); err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			return nil
		},
		start: func(ctx context.Context, s *assembled) (func(), error) {
			d, err := demo.Start(ctx, demo.Deps{DB: s.db, Notifier: s.dataPlane.store, Sealer: s.sec.Sealer(),
				Keyring: s.dataPlane.keyring, DataDir: s.cfg.DataDir, Logger: s.log, Clock: s.dataPlane.Clock}, opts.History)
			if err != nil {
				return nil, err
			}
			rate := opts.Rate
			if opts.NoTraffic {
				rate = 0
			}
			// The traffic's first calls wait in the listener's backlog
			// until the server serves.
			d.StartTraffic(ctx, loopbackURL(s.addr), rate)
			d.PrintBanner(s.stdout, demo.Banner{ConsoleURL: consoleURL(s.cfg.Addr, s.addr), AdminEmail: s.cfg.AdminEmail,
				AdminPassword: s.adminPassword, PasswordFromEnv: s.cfg.AdminPassword != "", Rate: rate})
			return d.Close, nil
		},
	})
}

// loopbackURL is how the demo's traffic reaches the server on this host.
func loopbackURL(a net.Addr) string {
	port := "8080"
	if t, ok := a.(*net.TCPAddr); ok {
		port = strconv.Itoa(t.Port)
		if t.IP != nil && !t.IP.IsUnspecified() {
			return "http://" + net.JoinHostPort(t.IP.String(), port)
		}
	}
	return "http://127.0.0.1:" + port
}

// consoleURL is the URL a browser on this host opens: the configured
// host, or localhost when the server listens on every address.
func consoleURL(configured string, a net.Addr) string {
	host, _, _ := net.SplitHostPort(configured)
	port := "8080"
	if t, ok := a.(*net.TCPAddr); ok {
		port = strconv.Itoa(t.Port)
	}
	switch strings.Trim(host, "[]") {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
