package config

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	c, rest, err := Load(nil, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DatabaseURL != "sqlite:./data/sluice.db" || c.Database.Driver != SQLite ||
		c.Database.DSN != "data/sluice.db" || c.MaxBodyBytes != 10<<20 || c.ShutdownTimeout != 30*time.Second ||
		c.AdminEmail != "admin@localhost" || c.LogFormat != "json" || c.RedisURL != "" || len(rest) != 0 {
		t.Fatalf("defaults: %+v rest=%v", c, rest)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "server:\n  addr: \":7000\"\n  log_level: debug\n  shutdown_timeout: 5s\n")
	cases := []struct {
		name     string
		args     []string
		env      map[string]string
		wantAddr string
	}{
		{"file beats default", []string{"--config", file}, nil, ":7000"},
		{"env beats file", []string{"--config", file}, map[string]string{"SLUICE_ADDR": ":7001"}, ":7001"},
		{"flag beats env", []string{"--config", file, "--addr", ":7002"}, map[string]string{"SLUICE_ADDR": ":7001"}, ":7002"},
		{"file named by env", nil, map[string]string{"SLUICE_CONFIG": file}, ":7000"},
		{"flag beats env without file", []string{"-addr=:7003"}, map[string]string{"SLUICE_ADDR": ":7001"}, ":7003"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Load(tc.args, envOf(tc.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.Addr != tc.wantAddr {
				t.Fatalf("Addr = %q, want %q", c.Addr, tc.wantAddr)
			}
		})
	}
	c, _, err := Load([]string{"--config", file}, envOf(nil), io.Discard)
	if err != nil || c.LogLevel != "debug" || c.ShutdownTimeout != 5*time.Second || c.ConfigFile != file {
		t.Fatalf("file values not applied: %+v %v", c, err)
	}
}

func TestKeyRotationSettings(t *testing.T) {
	c, _, err := Load(nil, envOf(map[string]string{"SLUICE_KEY_ID": "k2", "SLUICE_PREVIOUS_KEY_IDS": " k1, k0 ,"}), io.Discard)
	if err != nil || c.KeyID != "k2" || strings.Join(c.PreviousKeyIDs, "|") != "k1|k0" {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestTrustedProxies(t *testing.T) {
	c, _, err := Load(nil, envOf(map[string]string{"SLUICE_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.4"}), io.Discard)
	if err != nil || strings.Join(c.TrustedProxies, "|") != "10.0.0.0/8|192.168.1.4" {
		t.Fatalf("%v %v", c.TrustedProxies, err)
	}
}

func TestRestArgs(t *testing.T) {
	_, rest, err := Load([]string{"--addr", ":9000", "extra", "--x"}, envOf(nil), io.Discard)
	if err != nil || strings.Join(rest, " ") != "extra --x" {
		t.Fatalf("rest = %v, err = %v", rest, err)
	}
}

func TestValidationNamesTheSetting(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		file    string
		setting string
		expect  string
	}{
		{"unknown flag", []string{"--nope"}, nil, "", "flags", "nope"},
		{"bad database scheme", nil, map[string]string{"SLUICE_DATABASE_URL": "oracle://x"}, "", "SLUICE_DATABASE_URL", "expected sqlite:PATH"},
		{"sqlite without path", nil, map[string]string{"SLUICE_DATABASE_URL": "sqlite:"}, "", "SLUICE_DATABASE_URL", "file path"},
		{"postgres without db", nil, map[string]string{"SLUICE_DATABASE_URL": "postgres://u:secretpw@h:5432"}, "", "SLUICE_DATABASE_URL", "expected"},
		{"mysql malformed", nil, map[string]string{"SLUICE_DATABASE_URL": "mysql://u:secretpw@tcp(h:3306"}, "", "SLUICE_DATABASE_URL", "expected"},
		{"redis scheme", nil, map[string]string{"SLUICE_REDIS_URL": "http://x"}, "", "SLUICE_REDIS_URL", "redis://"},
		{"bad duration", nil, map[string]string{"SLUICE_SHUTDOWN_TIMEOUT": "soon"}, "", "SLUICE_SHUTDOWN_TIMEOUT", "duration"},
		{"bad duration flag", []string{"--shutdown-timeout", "x"}, nil, "", "--shutdown-timeout", "duration"},
		{"bad body limit", nil, map[string]string{"SLUICE_MAX_BODY_BYTES": "-1"}, "", "SLUICE_MAX_BODY_BYTES", "positive"},
		{"bad log format", nil, map[string]string{"SLUICE_LOG_FORMAT": "xml"}, "", "SLUICE_LOG_FORMAT", "json, text"},
		{"short secret", nil, map[string]string{"SLUICE_SECRET_KEY": "short"}, "", "SLUICE_SECRET_KEY", "32"},
		{"bad addr", nil, map[string]string{"SLUICE_ADDR": "localhost"}, "", "SLUICE_ADDR", "host:port"},
		{"bad email", nil, map[string]string{"SLUICE_ADMIN_EMAIL": "root"}, "", "SLUICE_ADMIN_EMAIL", "email"},
		{"short password", nil, map[string]string{"SLUICE_ADMIN_PASSWORD": "abc"}, "", "SLUICE_ADMIN_PASSWORD", "8"},
		{"unknown yaml setting", nil, nil, "server:\n  adress: x\n", "server.adress", "unknown"},
		{"unknown yaml section", nil, nil, "servers: {}\n", "SLUICE_CONFIG", "servers"},
		{"malformed yaml", nil, nil, "server: [\n", "SLUICE_CONFIG", "YAML"},
		{"bad value in yaml", nil, nil, "server:\n  shutdown_timeout: later\n", "server.shutdown_timeout", "duration"},
		{"bad key id", nil, map[string]string{"SLUICE_KEY_ID": "k 1"}, "", "SLUICE_KEY_ID", "letters"},
		{"bad previous key id", nil, map[string]string{"SLUICE_PREVIOUS_KEY_IDS": "k1,b@d"}, "", "SLUICE_PREVIOUS_KEY_IDS", "b@d"},
		{"bad trusted proxy", nil, map[string]string{"SLUICE_TRUSTED_PROXIES": "10.0.0.0/8,lb.local"}, "", "SLUICE_TRUSTED_PROXIES", "lb.local"},
		{"missing file", []string{"--config", "/nonexistent/sluice.yaml"}, nil, "", "SLUICE_CONFIG", "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.file != "" {
				args = append(args, "--config", writeFile(t, tc.file))
			}
			_, _, err := Load(args, envOf(tc.env), io.Discard)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *config.Error", err)
			}
			if !strings.HasPrefix(ce.Setting, tc.setting) || !strings.Contains(err.Error(), tc.expect) {
				t.Fatalf("err = %q, want setting %q and %q", err, tc.setting, tc.expect)
			}
			if strings.Contains(err.Error(), "secretpw") {
				t.Fatalf("error leaks the password: %q", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var out strings.Builder
	_, _, err := Load([]string{"--help"}, envOf(nil), &out)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "SLUICE_DATABASE_URL") {
		t.Fatalf("help: %v %q", err, out.String())
	}
}

func TestParseDatabaseURL(t *testing.T) {
	cases := []struct{ in, driver, dsn string }{
		{"sqlite:./data/x.db", SQLite, "data/x.db"},
		{"sqlite:///tmp/x.db", SQLite, "/tmp/x.db"},
		{"postgres://u:p@127.0.0.1:5432/test?sslmode=disable", Postgres, "postgres://u:p@127.0.0.1:5432/test?sslmode=disable"},
		{"postgresql://u@h/db", Postgres, "postgresql://u@h/db"},
		{"mysql://root@tcp(127.0.0.1:3306)/test", MySQL, "root@tcp(127.0.0.1:3306)/test?parseTime=true&charset=utf8mb4"},
	}
	for _, tc := range cases {
		got, err := ParseDatabaseURL(tc.in)
		if err != nil || got.Driver != tc.driver || got.DSN != tc.dsn {
			t.Errorf("%s → %+v, %v; want %s %s", tc.in, got, err, tc.driver, tc.dsn)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@h/db":        "postgres://u:xxxxx@h/db",
		"mysql://u:pw@tcp(h:3306)/db": "mysql://u:xxxxx@tcp(h:3306)/db",
		"redis://:pw@h:6379/0":        "redis://:xxxxx@h:6379/0",
		"sqlite:./x.db":               "sqlite:./x.db",
		"postgres://u@h/db":           "postgres://u@h/db",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResourcesKept(t *testing.T) {
	file := writeFile(t, "providers:\n  - name: openai\n    kind: openai\nmodels: []\n")
	c, _, err := Load([]string{"--config", file}, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Resources.Providers.Content) != 1 {
		t.Fatalf("providers section not kept: %+v", c.Resources.Providers)
	}
}
