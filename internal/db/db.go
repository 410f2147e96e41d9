// Package db opens Sluice's relational store through GORM: SQLite (cgo-free,
// WAL, busy timeout) as the embedded default, PostgreSQL and MySQL for
// production. It owns connection set-up, pool sizing, the bounded retry at
// start-up and the readiness probe; schemas live in package migrations and
// queries in the packages that own each table.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/sethvargo/go-retry"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/sluicehq/sluice/internal/config"
)

// Options size the pool and bound the start-up retry.
type Options struct {
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	// ConnectTimeout bounds the retries while the database is unreachable.
	ConnectTimeout time.Duration
	Logger         *slog.Logger
}

// DB is an open store.
type DB struct {
	// Gorm is the handle every store package queries through; each query
	// carries its request's context (Gorm.WithContext(ctx)).
	Gorm *gorm.DB
	// SQL is the underlying pool.
	SQL *sql.DB
	// Driver is sqlite, postgres or mysql.
	Driver string
	// path is the SQLite file, for the readiness probe.
	path string
}

// Open connects to the database, retrying with exponential backoff while it
// is unreachable, for at most opts.ConnectTimeout.
func Open(ctx context.Context, d config.Database, opts Options) (*DB, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if d.Driver == config.SQLite {
		if dir := filepath.Dir(d.DSN); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create database folder: %w", err)
			}
		}
	}
	dialector, err := Dialector(d, nil)
	if err != nil {
		return nil, err
	}
	timeout := opts.ConnectTimeout
	if timeout <= 0 {
		timeout = time.Second
	}
	// gorm.Open itself talks to the server (a ping, MySQL's version query),
	// so the whole open is retried while the database is unreachable.
	backoff := retry.WithMaxDuration(timeout, retry.WithCappedDuration(2*time.Second, retry.NewExponential(100*time.Millisecond)))
	attempt := 0
	var g *gorm.DB
	var sqlDB *sql.DB
	err = retry.Do(ctx, backoff, func(ctx context.Context) error {
		attempt++
		var err error
		if g, err = gorm.Open(dialector, GormConfig()); err == nil {
			sqlDB, err = g.DB()
		}
		if err == nil {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = sqlDB.PingContext(pctx)
			cancel()
			if err != nil {
				_ = sqlDB.Close()
			}
		}
		if err != nil {
			log.Warn("database unreachable, retrying", "driver", d.Driver, "attempt", attempt, "err", err)
			return retry.RetryableError(err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s database unreachable after %s (%d attempts): %w", d.Driver, timeout, attempt, err)
	}
	sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
	sqlDB.SetMaxIdleConns(opts.MaxIdleConns)
	sqlDB.SetConnMaxLifetime(opts.ConnMaxLifetime)
	return &DB{Gorm: g, SQL: sqlDB, Driver: d.Driver, path: sqlitePath(d)}, nil
}

func sqlitePath(d config.Database) string {
	if d.Driver == config.SQLite {
		return d.DSN
	}
	return ""
}

// GormConfig is the GORM configuration every handle uses: no implicit
// transaction around single writes, no query logging (the call log and
// slog cover that), UTC timestamps.
func GormConfig() *gorm.Config {
	return &gorm.Config{
		SkipDefaultTransaction: true,
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         true,
	}
}

// Dialector returns the GORM dialector for d. With conn set, GORM runs on
// that connection or transaction instead of opening a pool (migrations use
// this to run GORM inside goose's transaction).
func Dialector(d config.Database, conn gorm.ConnPool) (gorm.Dialector, error) {
	switch d.Driver {
	case config.SQLite:
		dsn := "file:" + d.DSN + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		return &sqlite.Dialector{DSN: dsn, Conn: conn}, nil
	case config.Postgres:
		return postgres.New(postgres.Config{DSN: d.DSN, Conn: conn}), nil
	case config.MySQL:
		return mysql.New(mysql.Config{DSN: d.DSN, Conn: conn, DefaultStringSize: 191}), nil
	default:
		return nil, fmt.Errorf("unknown database driver %q", d.Driver)
	}
}

// ErrSQLiteFileGone is reported by Ping when the SQLite file was removed
// while the process held it open.
var ErrSQLiteFileGone = errors.New("sqlite database file is missing")

// Ping checks that the database answers. For SQLite it also checks that the
// file is still there: an open handle keeps answering after the file is
// deleted, but the data would be lost at restart.
func (d *DB) Ping(ctx context.Context) error {
	if d.path != "" {
		if _, err := os.Stat(d.path); err != nil {
			return fmt.Errorf("%w: %s", ErrSQLiteFileGone, d.path)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return d.SQL.PingContext(ctx)
}

// Close closes the pool.
func (d *DB) Close() error { return d.SQL.Close() }
