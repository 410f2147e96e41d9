// Package migrations holds Sluice's versioned schema migrations and applies
// them with goose. Each migration is a Go function that runs GORM's migrator
// on a frozen snapshot of its tables inside goose's transaction, so one
// migration serves SQLite, PostgreSQL and MySQL alike. Versions are recorded
// in the table sluice_schema_migrations; concurrent runs from several
// processes are serialised by a lock (a PostgreSQL advisory lock, a MySQL
// lock row, a file lock beside an SQLite database).
//
// A migration never changes after it is released: a new schema change is a
// new file with the next version number, added to the list in steps.go.
package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/gorm"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/db"
)

// VersionTable is where applied versions are recorded.
const VersionTable = "sluice_schema_migrations"

// step is one migration: a version, a name, and its up and down functions
// given a GORM handle bound to the migration's transaction.
type step struct {
	Version int64
	Name    string
	Up      func(tx *gorm.DB) error
	Down    func(tx *gorm.DB) error
}

// Migrator applies the migrations to one database.
type Migrator struct {
	provider *goose.Provider
	steps    []step
}

// Option changes a Migrator.
type Option func(*options)

type options struct {
	extra       []step
	lockTimeout time.Duration
	logger      *slog.Logger
}

// WithLockTimeout bounds how long Up waits for another process's run.
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// WithLogger logs each applied migration.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// New returns a Migrator for d.
func New(d *db.DB, dbCfg config.Database, opts ...Option) (*Migrator, error) {
	o := options{lockTimeout: 2 * time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	all := append(append([]step(nil), steps...), o.extra...)
	gooseMigrations := make([]*goose.Migration, 0, len(all))
	for _, s := range all {
		gooseMigrations = append(gooseMigrations, goose.NewGoMigration(s.Version,
			&goose.GoFunc{RunTx: inGorm(dbCfg, s.Up)}, &goose.GoFunc{RunTx: inGorm(dbCfg, s.Down)}))
	}
	gopts := []goose.ProviderOption{
		goose.WithGoMigrations(gooseMigrations...),
		goose.WithDisableGlobalRegistry(true),
		goose.WithTableName(VersionTable),
	}
	if o.logger != nil {
		gopts = append(gopts, goose.WithSlog(o.logger))
	}
	var dialect goose.Dialect
	interval := 200 * time.Millisecond
	attempts := uint64(o.lockTimeout/interval) + 1
	switch d.Driver {
	case config.SQLite:
		dialect = goose.DialectSQLite3
		gopts = append(gopts, goose.WithLocker(&fileLocker{path: dbCfg.DSN + ".migrate-lock", timeout: o.lockTimeout}))
	case config.Postgres:
		dialect = goose.DialectPostgres
		l, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, uint64(o.lockTimeout/time.Second)+1))
		if err != nil {
			return nil, err
		}
		gopts = append(gopts, goose.WithSessionLocker(l))
	case config.MySQL:
		dialect = goose.DialectMySQL
		l, err := lock.NewMySQLTableLocker(lock.WithTableName("sluice_migration_lock"),
			lock.WithTableLockTimeout(interval, attempts))
		if err != nil {
			return nil, err
		}
		gopts = append(gopts, goose.WithLocker(l))
	default:
		return nil, fmt.Errorf("migrations: unknown driver %q", d.Driver)
	}
	p, err := goose.NewProvider(dialect, d.SQL, nil, gopts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return &Migrator{provider: p, steps: all}, nil
}

// inGorm adapts a GORM migration function to goose: it runs on goose's
// transaction through a GORM handle bound to it.
func inGorm(d config.Database, fn func(tx *gorm.DB) error) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		dialector, err := db.Dialector(d, tx)
		if err != nil {
			return err
		}
		g, err := gorm.Open(dialector, db.GormConfig())
		if err != nil {
			return err
		}
		return fn(g.WithContext(ctx))
	}
}

// Applied is one migration that Up applied.
type Applied struct {
	Version  int64
	Name     string
	Duration time.Duration
}

// Error reports the migration that failed. The migrations before it stay
// applied; the failed one was rolled back (on MySQL, whose DDL is not
// transactional, a statement that ran before the failure may remain).
type Error struct {
	Version int64
	Name    string
	Err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("migration %d (%s) failed: %v", e.Version, e.Name, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Up applies every pending migration in order and returns those applied.
func (m *Migrator) Up(ctx context.Context) ([]Applied, error) {
	results, err := m.provider.Up(ctx)
	out := make([]Applied, 0, len(results))
	for _, r := range results {
		out = append(out, Applied{Version: r.Source.Version, Name: m.name(r.Source.Version), Duration: r.Duration})
	}
	var pe *goose.PartialError
	if errors.As(err, &pe) {
		for _, r := range pe.Applied {
			out = append(out, Applied{Version: r.Source.Version, Name: m.name(r.Source.Version), Duration: r.Duration})
		}
		return out, &Error{Version: pe.Failed.Source.Version, Name: m.name(pe.Failed.Source.Version), Err: pe.Err}
	}
	if err != nil {
		return out, fmt.Errorf("migrations: %w", err)
	}
	return out, nil
}

// Status is one migration's state.
type Status struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// Status lists every migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]Status, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	out := make([]Status, 0, len(st))
	for _, s := range st {
		out = append(out, Status{Version: s.Source.Version, Name: m.name(s.Source.Version),
			Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt})
	}
	return out, nil
}

// Pending reports whether any migration is not yet applied.
func (m *Migrator) Pending(ctx context.Context) (bool, error) {
	return m.provider.HasPending(ctx)
}

// Latest is the highest version this binary knows.
func (m *Migrator) Latest() int64 {
	return m.steps[len(m.steps)-1].Version
}

func (m *Migrator) name(v int64) string {
	for _, s := range m.steps {
		if s.Version == v {
			return s.Name
		}
	}
	return "unknown"
}
