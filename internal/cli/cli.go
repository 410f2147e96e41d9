// Package cli implements the sluice command line: it parses the command and
// its settings, builds the process from them (logger, database, migrations,
// server) and runs it. main only wires signals and the process exit code to
// Main, so every command can be run in a test.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/admin/api"
	"github.com/sluicehq/sluice/admin/keys"
	"github.com/sluicehq/sluice/internal/access"
	"github.com/sluicehq/sluice/internal/calllog"
	"github.com/sluicehq/sluice/internal/clock"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/db"
	"github.com/sluicehq/sluice/internal/declare"
	"github.com/sluicehq/sluice/internal/limits"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/relay"
	"github.com/sluicehq/sluice/internal/secret"
	"github.com/sluicehq/sluice/internal/tracing"
	"github.com/sluicehq/sluice/internal/upstream"
	"github.com/sluicehq/sluice/internal/version"
	"github.com/sluicehq/sluice/migrations"
	"github.com/sluicehq/sluice/prompts"
	"github.com/sluicehq/sluice/providers"
	_ "github.com/sluicehq/sluice/providers/all" // every provider kind
	"github.com/sluicehq/sluice/server"
	"github.com/sluicehq/sluice/web"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

const usageText = `Usage: sluice [command] [flags]

Commands:
  serve                      run the gateway (default)
  demo [--rate N] [--no-traffic]
                             serve with fake upstreams, demo data and live demo traffic
  migrate up                 apply pending database migrations
  migrate status             list migrations and whether each is applied
  admin create --email E [--password P] [--role admin|member] [--if-no-admin]
                             create an admin user (password generated and printed when omitted)
  admin passwd --email E [--password P]
                             set a user's password (generated and printed when omitted)
  version                    print version, commit and build date

Settings come from flags, environment variables and the YAML file named by
--config / SLUICE_CONFIG, in that order of precedence. Run 'sluice --help'
for the full list.
`

// Main runs the command in args and returns the process exit code.
func Main(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	words, rest := commandWords(args)
	run := func(fn func() error) int {
		if err := fn(); err != nil {
			var ce *config.Error
			if errors.As(err, &ce) || errors.Is(err, errUsage) {
				fmt.Fprintln(stderr, "sluice:", err)
				return exitUsage
			}
			fmt.Fprintln(stderr, "sluice:", err)
			return exitFail
		}
		return exitOK
	}
	switch strings.Join(words, " ") {
	case "", "serve":
		return run(func() error { return serve(ctx, rest, env, stdout, stderr, nil) })
	case "demo":
		return run(func() error { return runDemo(ctx, rest, env, stdout, stderr) })
	case "migrate", "migrate up":
		return run(func() error { return migrateUp(ctx, rest, env, stdout, stderr) })
	case "migrate status":
		return run(func() error { return migrateStatus(ctx, rest, env, stdout, stderr) })
	case "admin create":
		return run(func() error { return adminCreate(ctx, rest, env, stdout, stderr) })
	case "admin passwd":
		return run(func() error { return adminPasswd(ctx, rest, env, stdout, stderr) })
	case "version":
		fmt.Fprintln(stdout, version.String())
		return exitOK
	case "help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	default:
		fmt.Fprintf(stderr, "sluice: unknown command %q\n\n%s", strings.Join(words, " "), usageText)
		return exitUsage
	}
}

var errUsage = errors.New("usage")

// commandWords splits the leading command words ("migrate status") from
// the flags that follow.
func commandWords(args []string) (words, rest []string) {
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			return args[:i], args[i:]
		}
		if len(words) == 2 {
			return args[:i], args[i:]
		}
		words = args[:i+1]
	}
	return words, nil
}

// load reads the settings; flag.ErrHelp prints the usage and the flags.
func load(args []string, env func(string) (string, bool), stdout io.Writer, extra func(*flag.FlagSet)) (*config.Config, error) {
	var flagHelp strings.Builder
	cfg, rest, err := config.LoadWith(args, env, &flagHelp, extra)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageText, "\nFlags:\n", flagHelp.String())
		return nil, errHelp
	}
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	return cfg, nil
}

var errHelp = errors.New("help shown")

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openDB opens and migrates the database.
func openDB(ctx context.Context, cfg *config.Config, log *slog.Logger) (*db.DB, *migrations.Migrator, error) {
	h, err := db.Open(ctx, cfg.Database, db.Options{
		MaxOpenConns: cfg.DBMaxOpenConns, MaxIdleConns: cfg.DBMaxIdleConns,
		ConnMaxLifetime: cfg.DBConnMaxLifetime, ConnectTimeout: cfg.DBConnectTimeout, Logger: log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("SLUICE_DATABASE_URL %s: %w", config.Redact(cfg.DatabaseURL), err)
	}
	m, err := migrations.New(h, cfg.Database, migrations.WithLogger(log))
	if err != nil {
		h.Close()
		return nil, nil, err
	}
	return h, m, nil
}

func migrate(ctx context.Context, m *migrations.Migrator, log *slog.Logger) error {
	applied, err := m.Up(ctx)
	for _, a := range applied {
		log.Info("migration applied", "version", a.Version, "name", a.Name, "duration", a.Duration.String())
	}
	return err
}

// addOn is what a command built on serve (sluice demo) adds to it: its
// flags, and work that starts once the server is assembled, before it
// serves.
type addOn struct {
	flags func(*flag.FlagSet)
	// check validates the add-on's flags once they are parsed.
	check func() error
	// start runs after the data plane's first snapshot and before the
	// server accepts requests; stop runs once the server has stopped,
	// before the call log drains.
	start func(ctx context.Context, s *assembled) (stop func(), err error)
}

// assembled is the running server as an add-on sees it.
type assembled struct {
	cfg *config.Config
	db  *db.DB
	sec *secret.Secret
	log *slog.Logger
	// dataPlane is the snapshot store, keyring and relay.
	dataPlane *dataPlane
	// addr is the address the server listens on.
	addr net.Addr
	// adminPassword is the first admin's password when this start
	// generated it.
	adminPassword string
	stdout        io.Writer
}

// serve runs the gateway until ctx ends; with an add-on (sluice demo),
// the add-on's work runs alongside.
func serve(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer, add *addOn) error {
	var extra func(*flag.FlagSet)
	if add != nil {
		extra = add.flags
	}
	cfg, err := load(args, env, stdout, extra)
	if err != nil {
		return helpIsOK(err)
	}
	if add != nil && add.check != nil {
		if err := add.check(); err != nil {
			return err
		}
	}
	logOut := newLogBuffer(stderr)
	defer logOut.Close()
	log := newLogger(cfg, logOut)
	log = slog.New(flushOnWarn{log.Handler(), logOut})
	log.Info("starting", "version", version.Version, "commit", version.Commit, "database", cfg.Database.Driver)

	sec, err := secret.Load(cfg.SecretKey, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("SLUICE_SECRET_KEY: %w", err)
	}
	log.Info("server secret loaded", "source", sec.Source)

	// Listen before the slow steps so a taken port fails at once.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("SLUICE_ADDR %s: address already in use (is another sluice running? try ./quick-start.sh status)", cfg.Addr)
		}
		return fmt.Errorf("SLUICE_ADDR %s: %w", cfg.Addr, err)
	}
	defer ln.Close()

	h, m, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := migrate(ctx, m, log); err != nil {
		return err
	}
	users := admin.NewUsers(h.Gorm)
	created, generated, err := admin.Bootstrap(ctx, users, cfg.AdminEmail, cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("create first admin: %w", err)
	}
	if created {
		log.Info("first admin created", "email", cfg.AdminEmail)
		if generated != "" {
			fmt.Fprintf(stdout, "First admin created: %s / %s (shown only once; change it in the console)\n", cfg.AdminEmail, generated)
		}
	}

	if cfg.ConfigFile != "" {
		// Declared resources go in before the first snapshot is loaded.
		n := admin.VersionNotifier{DB: h.Gorm}
		sum, err := declare.Apply(ctx, cfg.Resources, declare.Deps{Stores: admin.NewStores(h.Gorm, n, nil), Prompts: prompts.NewStore(h.Gorm, n, nil),
			Providers: admin.NewProviders(h.Gorm, n, nil), Sealer: sec.Sealer(), LookupEnv: env})
		if err != nil {
			return fmt.Errorf("SLUICE_CONFIG %s: %w", cfg.ConfigFile, err)
		}
		log.Info("config file applied", "file", cfg.ConfigFile, "summary", sum.String())
	}

	mets := metrics.New()
	tr, err := tracing.Setup(ctx, env, version.Version)
	if err != nil {
		return err
	}
	if tr != nil {
		log.Info("OpenTelemetry tracing on")
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tr.Shutdown(sctx); err != nil {
				log.Warn("spans not flushed", "err", err)
			}
		}()
	}
	dataPlane, stopBackground, err := buildAccess(ctx, cfg, h, sec, mets, tr, log)
	if err != nil {
		return err
	}
	adminAPI := api.New(api.Deps{DB: h.Gorm, Users: users, Keyring: dataPlane.keyring, SessionKey: sec.Derive("admin sessions"),
		Notifier: dataPlane.store, Clock: dataPlane.Clock, Logger: log, Sealer: sec.Sealer(), HTTP: dataPlane.upstream,
		Breakers: dataPlane.relay.Breakers})
	callMetrics, err := calllog.NewDataPlaneMetrics(mets.Registry, calllog.DataPlaneOptions{
		ServiceName: func(id uint64) string {
			if svc, ok := dataPlane.store.Current().Service(id); ok {
				return svc.Slug
			}
			return ""
		}})
	if err != nil {
		return err
	}
	mets.Registry.MustRegister(metrics.NewBreakerCollector(dataPlane.relay.Breakers))
	calls, err := calllog.New(h, calllog.Options{SpillDir: filepath.Join(cfg.DataDir, "calllog-spill"),
		Registerer: mets.Registry, Logger: log, Clock: dataPlane.Clock, Observe: callMetrics.Observe})
	if err != nil {
		return fmt.Errorf("call log: %w", err)
	}
	srv := server.New(server.Deps{Config: cfg, Logger: log, Metrics: mets, DB: h, Schema: m, Console: web.Dist(),
		Access: &dataPlane.Access, Relay: dataPlane.relay, CallLog: calls, Tracing: tr, AdminAPI: adminAPI})
	stopAddOn := func() {}
	if add != nil {
		stopAddOn, err = add.start(ctx, &assembled{cfg: cfg, db: h, sec: sec, log: log, dataPlane: dataPlane,
			addr: ln.Addr(), adminPassword: generated, stdout: stdout})
		if err != nil {
			_ = calls.Close(context.Background())
			stopBackground()
			return err
		}
	}
	runErr := srv.Run(ctx, ln)
	stopAddOn()
	// Every request has finished: drain the call log (to the database, or to
	// its spill files when the database does not answer in time).
	cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
	if err := calls.Close(cctx); err != nil {
		log.Error("call log not fully drained", "err", err)
	}
	ccancel()
	stopBackground()
	if runErr != nil {
		return runErr
	}
	log.Info("stopped")
	return nil
}

// buildAccess assembles the data plane's checks: the consumer-key verifier,
// the in-memory snapshot kept current in the background, and the limiter
// (shared through Redis when configured). stop ends the background work and
// flushes what it holds.
func buildAccess(ctx context.Context, cfg *config.Config, h *db.DB, sec *secret.Secret, mets *metrics.Metrics, tr *tracing.Tracing, log *slog.Logger) (*dataPlane, func(), error) {
	ring, err := keys.NewKeyring(sec.Master(), cfg.KeyID, cfg.PreviousKeyIDs...)
	if err != nil {
		return nil, nil, fmt.Errorf("SLUICE_KEY_ID: %w", err)
	}
	clk := clock.Real{}
	var rdb *redis.Client
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, nil, &config.Error{Setting: "SLUICE_REDIS_URL", Problem: err.Error()}
		}
		opts.ContextTimeoutEnabled = true
		rdb = redis.NewClient(opts)
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		if err := rdb.Ping(pctx).Err(); err != nil {
			log.Warn("Redis unreachable at start; limits count per instance and replicas poll for changes until it answers", "err", err)
		}
		cancel()
	}
	var store *access.Store
	if rdb != nil {
		store = access.NewStore(h.Gorm, rdb, clk, log)
		store.Channel = cfg.RedisPrefix + "config-changed"
	} else {
		store = access.NewStore(h.Gorm, nil, clk, log)
	}
	// Every provider sends through one shared client: connection reuse,
	// timeouts and timing traces live there.
	upstreamClient := upstream.NewClient(upstream.Config{})
	if tr != nil {
		upstreamClient.Transport = tr.Transport(upstreamClient.Transport)
	}
	sealer := sec.Sealer()
	store.BuildProvider = func(p admin.Provider) (providers.Provider, error) {
		return access.BuildProvider(p, sealer, upstreamClient)
	}
	if err := store.Load(ctx); err != nil {
		return nil, nil, err
	}
	mem := limits.NewMemory(clk)
	var limiter limits.Limiter = mem
	if rdb != nil {
		fallbacks := prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_ratelimit_redis_fallbacks_total",
			Help: "Limit checks answered by the per-instance counter because Redis was unreachable.",
		})
		mets.Registry.MustRegister(fallbacks)
		r := limits.NewRedis(rdb, clk, mem, log)
		r.KeyPrefix = cfg.RedisPrefix + "limits:"
		r.OnFallback = fallbacks.Inc
		limiter = r
	}

	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done, purged := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(purged)
		purgeCallLog(bg, h, store, clk, log)
	}()
	go func() {
		defer close(done)
		go store.Watch(bg, time.Second)
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
				if err := store.FlushUsage(bg); err != nil {
					log.Warn("could not record keys' last use", "err", err)
				}
			}
		}
	}()
	stop := func() {
		cancel()
		<-done
		<-purged
		fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer fcancel()
		if err := store.FlushUsage(fctx); err != nil {
			log.Warn("could not record keys' last use", "err", err)
		}
		if rdb != nil {
			_ = rdb.Close()
		}
	}
	return &dataPlane{
		Access: server.Access{Verifier: ring.Verifier(100_000), Snapshots: store, Limiter: limiter, Clock: clk,
			Subscriptions: admin.NewSubscriptions(h.Gorm, store, clk)},
		keyring:  ring,
		store:    store,
		relay:    relay.New(relay.Config{Logger: log}),
		upstream: upstreamClient,
	}, stop, nil
}

// dataPlane is the data plane's checks and what the control plane shares
// with them: the keyring that issues keys and the store it notifies.
type dataPlane struct {
	server.Access
	keyring  *keys.Keyring
	store    *access.Store
	relay    *relay.Relay
	upstream *http.Client
}

func helpIsOK(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func migrateUp(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer) error {
	cfg, err := load(args, env, stdout, nil)
	if err != nil {
		return helpIsOK(err)
	}
	log := newLogger(cfg, stderr)
	h, m, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer h.Close()
	applied, err := m.Up(ctx)
	for _, a := range applied {
		fmt.Fprintf(stdout, "applied %04d %s (%s)\n", a.Version, a.Name, a.Duration.Round(1e5))
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "schema is current (version %d)\n", m.Latest())
	}
	return nil
}

func migrateStatus(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer) error {
	cfg, err := load(args, env, stdout, nil)
	if err != nil {
		return helpIsOK(err)
	}
	h, m, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer h.Close()
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	for _, s := range st {
		state := "pending"
		if s.Applied {
			state = "applied " + s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(stdout, "%04d  %-30s %s\n", s.Version, s.Name, state)
	}
	return nil
}

func adminCreate(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer) error {
	var email, password, role, name string
	var ifNone bool
	cfg, err := load(args, env, stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the user's email (required)")
		fs.StringVar(&password, "password", "", "the password; generated and printed when omitted")
		fs.StringVar(&role, "role", admin.RoleAdmin, "admin or member")
		fs.StringVar(&name, "name", "", "display name")
		fs.BoolVar(&ifNone, "if-no-admin", false, "do nothing when an admin already exists")
	})
	if err != nil {
		return helpIsOK(err)
	}
	if email == "" {
		return fmt.Errorf("%w: admin create needs --email", errUsage)
	}
	log := newLogger(cfg, stderr)
	h, m, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := migrate(ctx, m, log); err != nil {
		return err
	}
	users := admin.NewUsers(h.Gorm)
	if ifNone {
		has, err := users.HasAdmin(ctx)
		if err != nil {
			return err
		}
		if has {
			fmt.Fprintln(stdout, "an admin already exists; nothing created")
			return nil
		}
	}
	generated := password == ""
	if generated {
		password = admin.GeneratePassword()
	}
	u, err := users.Create(ctx, email, name, password, role)
	if err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(stdout, "created %s %s with password %s (shown only once)\n", u.Role, u.Email, password)
	} else {
		fmt.Fprintf(stdout, "created %s %s\n", u.Role, u.Email)
	}
	return nil
}

func adminPasswd(ctx context.Context, args []string, env func(string) (string, bool), stdout, stderr io.Writer) error {
	var email, password string
	cfg, err := load(args, env, stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the user's email (required)")
		fs.StringVar(&password, "password", "", "the new password; generated and printed when omitted")
	})
	if err != nil {
		return helpIsOK(err)
	}
	if email == "" {
		return fmt.Errorf("%w: admin passwd needs --email", errUsage)
	}
	log := newLogger(cfg, stderr)
	h, m, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := migrate(ctx, m, log); err != nil {
		return err
	}
	generated := password == ""
	if generated {
		password = admin.GeneratePassword()
	}
	if err := admin.NewUsers(h.Gorm).SetPassword(ctx, email, password); err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(stdout, "password of %s set to %s (shown only once)\n", email, password)
	} else {
		fmt.Fprintf(stdout, "password of %s changed\n", email)
	}
	return nil
}

// purgeCallLog enforces the services' call-log retention: once at start,
// then hourly, it deletes the call_logs rows past each service's
// log_retention_days (rollups are kept), in bounded batches.
func purgeCallLog(ctx context.Context, h *db.DB, store *access.Store, clk clock.Real, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if snap := store.Current(); snap != nil {
			if n, err := calllog.Purge(ctx, h.Gorm, clk.Now(), snap.Retention()); err != nil && ctx.Err() == nil {
				log.Warn("call-log purge failed", "err", err, "purged", n)
			} else if n > 0 {
				log.Info("call-log purge", "purged", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
