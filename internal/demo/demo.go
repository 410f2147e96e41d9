// Package demo is `sluice demo`: the normal server plus what a new user
// needs to see it working without a provider account. It serves the
// built-in fake OpenAI, Anthropic and Gemini upstreams on loopback ports,
// with realistic latencies and occasional 429s and 5xxs (and a short
// outage of the OpenAI fake every fifteen minutes, so retries, fallbacks and
// circuit breakers show in the call log); seeds, idempotently, providers
// pointing at the fakes, models with prices and a fallback, two services,
// a team, two consumers with keys and subscriptions (one left pending),
// and a published prompt; writes about 24 hours of call-log history the
// first time, so the dashboard's charts are full at once; and sends a
// gentle stream of calls to the gateway's own data plane.
//
// Every demo resource is named demo-… (or Demo), except the prompt
// "summarize". The package writes through the same code as the console
// and the YAML file (internal/declare, the admin and prompt stores,
// internal/calllog's writer) and calls the gateway over HTTP like any
// application; internal/cli wires it into the serve path.
package demo

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"time"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/admin/keys"
	"github.com/sluicehq/sluice/internal/db"
	"github.com/sluicehq/sluice/internal/declare"
)

// Options are the demo's own flags.
type Options struct {
	// Rate is the mean number of live calls per second.
	Rate float64
	// NoTraffic seeds the data but sends no live calls.
	NoTraffic bool
	// History is how much call-log history the first start writes.
	History time.Duration
}

// Flags adds the demo's flags to fs.
func (o *Options) Flags(fs *flag.FlagSet) {
	fs.Float64Var(&o.Rate, "rate", 2, "demo: live calls per second sent to the gateway")
	fs.BoolVar(&o.NoTraffic, "no-traffic", false, "demo: seed the demo data but send no live calls")
	fs.DurationVar(&o.History, "history", 24*time.Hour, "demo: call-log history written at the first start (0 for none)")
}

// Check validates the options.
func (o *Options) Check() error {
	if o.Rate < 0 || o.Rate > 100 || o.Rate != o.Rate {
		return fmt.Errorf("--rate must be from 0 to 100 calls per second, got %v", o.Rate)
	}
	if o.History < 0 || o.History > 90*24*time.Hour {
		return fmt.Errorf("--history must be from 0 to 2160h (90 days), got %s", o.History)
	}
	return nil
}

// Deps are what the demo takes from the server it runs in.
type Deps struct {
	DB *db.DB
	// Notifier is the data plane's snapshot store, told after each write.
	Notifier admin.ChangeNotifier
	// Sealer seals the demo providers' credentials.
	Sealer declare.Sealer
	// Keyring signs the demo consumers' keys.
	Keyring *keys.Keyring
	// DataDir holds the backfill's call-log spill directory.
	DataDir string
	Logger  *slog.Logger
	Clock   interface{ Now() time.Time }
}

// Demo is a started demo: its fakes serve and its data is seeded.
type Demo struct {
	fakes  *fakes
	seeded *Seeded
	// Backfilled is how many history records this start wrote (0 when the
	// demo had been seeded before).
	Backfilled int

	mu      sync.Mutex
	traffic *Traffic
	cancel  context.CancelFunc
	done    chan struct{}
}

// Start serves the fakes, seeds the demo data and, the first time, writes
// history's worth of call log. It returns before any live call is sent.
func Start(ctx context.Context, d Deps, history time.Duration) (*Demo, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Clock == nil {
		d.Clock = realClock{}
	}
	f, err := startFakes(uint64(d.Clock.Now().UnixNano()))
	if err != nil {
		return nil, fmt.Errorf("demo upstreams: %w", err)
	}
	demo := &Demo{fakes: f}
	if demo.seeded, err = seed(ctx, d, f); err != nil {
		demo.Close()
		return nil, err
	}
	n, err := backfillOnce(ctx, d, demo.seeded, history, defaultBackfillPerHour)
	if err != nil {
		demo.Close()
		return nil, fmt.Errorf("demo history: %w", err)
	}
	demo.Backfilled = n
	d.Logger.Info("demo ready", "openai_fake", f.openAI, "anthropic_fake", f.anthropic, "gemini_fake", f.gemini, "history_records", n)
	return demo, nil
}

// Seeded returns what the seeding found or made.
func (d *Demo) Seeded() *Seeded { return d.seeded }

// StartTraffic sends live calls to the gateway at url in the background,
// rate per second, until ctx ends or Close.
func (d *Demo) StartTraffic(ctx context.Context, url string, rate float64) *Traffic {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.traffic != nil || rate <= 0 {
		return d.traffic
	}
	t := &Traffic{URL: url, Keys: d.seeded.Keys, Rate: rate}
	ctx, cancel := context.WithCancel(ctx)
	d.traffic, d.cancel, d.done = t, cancel, make(chan struct{})
	go func() {
		defer close(d.done)
		t.Run(ctx, rand.Uint64())
	}()
	return t
}

// StopTraffic stops the live calls and waits for those in flight.
func (d *Demo) StopTraffic() {
	d.mu.Lock()
	cancel, done := d.cancel, d.done
	d.cancel = nil
	d.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Close stops the traffic and then the fakes (their answers in progress
// finish first, for up to five seconds).
func (d *Demo) Close() {
	d.StopTraffic()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d.fakes.close(ctx)
}

// Banner is what `sluice demo` prints once it serves.
type Banner struct {
	// ConsoleURL is where a browser reaches the server, e.g.
	// http://localhost:8080.
	ConsoleURL string
	AdminEmail string
	// AdminPassword is the first admin's password when this start
	// generated it (shown once); empty otherwise.
	AdminPassword string
	// PasswordFromEnv is set when SLUICE_ADMIN_PASSWORD (or its flag)
	// gives the password.
	PasswordFromEnv bool
	// Rate is the live traffic's rate; 0 when there is none.
	Rate float64
}

// PrintBanner writes the console URL, how to sign in, a demo key and an
// example call.
func (d *Demo) PrintBanner(w io.Writer, b Banner) {
	key := d.seeded.Keys[WebApp].Token
	fmt.Fprintf(w, "\nSluice demo is running, with fake upstreams and demo data.\n")
	fmt.Fprintf(w, "  Console:   %s/\n", b.ConsoleURL)
	switch {
	case b.AdminPassword != "":
		fmt.Fprintf(w, "  Admin:     %s / %s (generated now, shown only once)\n", b.AdminEmail, b.AdminPassword)
	case b.PasswordFromEnv:
		fmt.Fprintf(w, "  Admin:     %s with the password in SLUICE_ADMIN_PASSWORD\n", b.AdminEmail)
	default:
		fmt.Fprintf(w, "  Admin:     %s with the password printed when it was created\n", b.AdminEmail)
		fmt.Fprintf(w, "             (forgot it? sluice admin passwd --email %s)\n", b.AdminEmail)
	}
	fmt.Fprintf(w, "  Demo key:  %s\n", key)
	fmt.Fprintf(w, "             (consumer %s; models demo-gpt, demo-claude, demo-gemini; prompt %s)\n", WebApp, PromptSlug)
	fmt.Fprintf(w, "  Try:       curl -s %s/v1/chat/completions -H 'Authorization: Bearer DEMO_KEY' \\\n", b.ConsoleURL)
	fmt.Fprintf(w, "               -H 'Content-Type: application/json' -d '{\"model\":\"demo-gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n")
	if b.Rate > 0 {
		fmt.Fprintf(w, "  Traffic:   about %g calls per second from %s and %s (--rate, --no-traffic)\n", b.Rate, WebApp, BatchJob)
	} else {
		fmt.Fprintf(w, "  Traffic:   none (--no-traffic)\n")
	}
	if d.Backfilled > 0 {
		fmt.Fprintf(w, "  History:   %d earlier calls written to the call log, so the dashboard has charts at once\n", d.Backfilled)
	}
	fmt.Fprintln(w)
}

// spillDir is the backfill's own call-log spill directory.
func spillDir(dataDir string) string { return filepath.Join(dataDir, "calllog-spill-demo") }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
