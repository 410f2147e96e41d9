// Package dbtest gives tests a fresh, migrated database of each kind that
// can run here: SQLite always, PostgreSQL when SLUICE_TEST_POSTGRES is set,
// MySQL when SLUICE_TEST_MYSQL is set. Each call creates its own database
// (a temporary file, or a uniquely named database dropped at cleanup), so
// tests and packages may run in parallel. It is imported by tests only.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for creating test databases

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/db"
)

// Env names the variables that enable the server-database suites.
const (
	EnvPostgres = "SLUICE_TEST_POSTGRES"
	EnvMySQL    = "SLUICE_TEST_MYSQL"
	EnvRedis    = "SLUICE_TEST_REDIS"
)

// Kinds returns the database kinds to run a conformance suite on. Kinds
// that are not configured are logged as skipped, with the reason.
func Kinds(t testing.TB) []string {
	kinds := []string{config.SQLite}
	for _, k := range []struct{ kind, env string }{{config.Postgres, EnvPostgres}, {config.MySQL, EnvMySQL}} {
		if os.Getenv(k.env) != "" {
			kinds = append(kinds, k.kind)
		} else {
			t.Logf("%s suite skipped: %s not set", k.kind, k.env)
		}
	}
	return kinds
}

// Each runs fn as a subtest once per available database kind.
func Each(t *testing.T, fn func(t *testing.T, kind string)) {
	for _, kind := range Kinds(t) {
		t.Run(kind, func(t *testing.T) { fn(t, kind) })
	}
}

// NewDatabase creates an empty database of kind and returns its parsed URL
// and the URL string as SLUICE_DATABASE_URL would hold it. It is dropped
// when the test ends.
func NewDatabase(t testing.TB, kind string) (config.Database, string) {
	t.Helper()
	switch kind {
	case config.SQLite:
		url := "sqlite:" + filepath.Join(t.TempDir(), "sluice.db")
		d, err := config.ParseDatabaseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		return d, url
	case config.Postgres:
		base := os.Getenv(EnvPostgres)
		if base == "" {
			t.Skipf("postgres: %s not set", EnvPostgres)
		}
		name := uniqueName()
		admin := openAdmin(t, "pgx", base)
		mustExec(t, admin, "CREATE DATABASE "+name)
		t.Cleanup(func() {
			_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			admin.Close()
		})
		url := replaceDBName(base, name)
		d, err := config.ParseDatabaseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		return d, url
	case config.MySQL:
		base := os.Getenv(EnvMySQL)
		if base == "" {
			t.Skipf("mysql: %s not set", EnvMySQL)
		}
		d, err := config.ParseDatabaseURL(base)
		if err != nil {
			t.Fatalf("%s: %v", EnvMySQL, err)
		}
		name := uniqueName()
		admin := openAdmin(t, "mysql", d.DSN)
		mustExec(t, admin, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4")
		t.Cleanup(func() {
			_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name)
			admin.Close()
		})
		cfg, _ := mysql.ParseDSN(strings.TrimPrefix(base, "mysql://"))
		cfg.DBName = name
		url := "mysql://" + cfg.FormatDSN()
		d, err = config.ParseDatabaseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		return d, url
	}
	t.Fatalf("unknown database kind %q", kind)
	return config.Database{}, ""
}

// Open creates a database of kind and opens it (not migrated).
func Open(t testing.TB, kind string) *db.DB {
	t.Helper()
	d, _ := NewDatabase(t, kind)
	return OpenURL(t, d)
}

// OpenURL opens d with test pool settings and closes it at cleanup.
func OpenURL(t testing.TB, d config.Database) *db.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := db.Open(ctx, d, db.Options{MaxOpenConns: 10, MaxIdleConns: 5, ConnMaxLifetime: time.Minute, ConnectTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func uniqueName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "sluice_test_" + hex.EncodeToString(b)
}

func openAdmin(t testing.TB, driver, dsn string) *sql.DB {
	t.Helper()
	conn, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Ping(); err != nil {
		t.Fatalf("%s test database unreachable: %v", driver, err)
	}
	return conn
}

func mustExec(t testing.TB, conn *sql.DB, q string) {
	t.Helper()
	if _, err := conn.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// replaceDBName swaps the database name (the URL path) of a postgres URL.
func replaceDBName(url, name string) string {
	q := ""
	if i := strings.IndexByte(url, '?'); i >= 0 {
		url, q = url[:i], url[i:]
	}
	i := strings.LastIndexByte(url, '/')
	if i < len("postgres://") {
		panic(fmt.Sprintf("dbtest: no database name in %q", url))
	}
	return url[:i+1] + name + q
}
