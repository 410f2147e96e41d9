package server

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/dbtest"
	"github.com/sluicehq/sluice/migrations"
)

func readyStatus(t *testing.T, s *Server) int {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	return rec.Code
}

func readyServer(t *testing.T, d config.Database) *Server {
	t.Helper()
	h := dbtest.OpenURL(t, d)
	m, err := migrations.New(h, d)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Deps{Config: testConfig(), DB: h, Schema: m})
	if code := readyStatus(t, s); code != 503 {
		t.Fatalf("readyz before migrating = %d, want 503", code)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := readyStatus(t, s); code != 200 {
		t.Fatalf("readyz after migrating = %d, want 200", code)
	}
	return s
}

func TestReadyzSQLiteFileRemoved(t *testing.T) {
	d, _ := dbtest.NewDatabase(t, config.SQLite)
	s := readyServer(t, d)
	moved := d.DSN + ".away"
	if err := os.Rename(d.DSN, moved); err != nil {
		t.Fatal(err)
	}
	if code := readyStatus(t, s); code != 503 {
		t.Fatalf("readyz with the file gone = %d, want 503", code)
	}
	if err := os.Rename(moved, d.DSN); err != nil {
		t.Fatal(err)
	}
	if code := readyStatus(t, s); code != 200 {
		t.Fatalf("readyz with the file back = %d, want 200", code)
	}
}

func TestReadyzServerDatabaseGoesAway(t *testing.T) {
	for _, kind := range dbtest.Kinds(t) {
		if kind == config.SQLite {
			continue
		}
		t.Run(kind, func(t *testing.T) {
			_, raw := dbtest.NewDatabase(t, kind)
			proxied := viaProxy(t, kind, raw)
			pd, err := config.ParseDatabaseURL(proxied.url)
			if err != nil {
				t.Fatal(err)
			}
			s := readyServer(t, pd)
			proxied.proxy.Stop()
			if code := readyStatus(t, s); code != 503 {
				t.Fatalf("readyz with the database gone = %d, want 503", code)
			}
			proxied.proxy.Start()
			deadline := time.Now().Add(10 * time.Second)
			for readyStatus(t, s) != 200 {
				if time.Now().After(deadline) {
					t.Fatal("readyz did not recover after the database came back")
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

type proxied struct {
	proxy *dbtest.Proxy
	url   string
}

// viaProxy rewrites a database URL to go through a TCP proxy.
func viaProxy(t *testing.T, kind, raw string) proxied {
	t.Helper()
	switch kind {
	case config.Postgres:
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		p := dbtest.NewProxy(t, u.Host)
		u.Host = p.Addr
		return proxied{p, u.String()}
	case config.MySQL:
		d, err := config.ParseDatabaseURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		addr := mysqlAddr(t, d)
		p := dbtest.NewProxy(t, addr)
		return proxied{p, replaceOnce(raw, "tcp("+addr+")", "tcp("+p.Addr+")")}
	}
	t.Fatalf("no proxy for %s", kind)
	return proxied{}
}

func mysqlAddr(t *testing.T, d config.Database) string {
	cfg, err := mysql.ParseDSN(d.DSN)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Addr
}

func replaceOnce(s, old, new string) string { return strings.Replace(s, old, new, 1) }
