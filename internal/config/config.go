// Package config loads Sluice's settings from flags, environment variables
// and an optional YAML file, in that order of precedence (a flag beats the
// environment, the environment beats the file, the file beats the default),
// and validates them once at start. Every setting is declared once, in the
// settings table below, which also documents it.
//
// It imports only the standard library and a YAML decoder.
package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"gopkg.in/yaml.v3"
)

// Config is every setting of a Sluice process. It is loaded once at start
// and passed down; nothing reads the environment after Load.
type Config struct {
	// Addr is the listen address of the data plane, admin API and console.
	Addr string
	// DatabaseURL selects the store: sqlite:PATH, postgres://… or
	// mysql://user:pass@tcp(host:port)/db.
	DatabaseURL string
	// Database is DatabaseURL, parsed.
	Database Database
	// RedisURL, when set, shares rate limits, caches and config-change
	// notices between replicas.
	RedisURL string
	// RedisPrefix starts every Redis key and channel of this deployment,
	// so deployments (or test runs) sharing one Redis stay apart.
	RedisPrefix string
	// SecretKey signs consumer keys and sessions and encrypts provider
	// credentials. Empty means: read or generate DataDir/secret.key.
	SecretKey string
	// KeyID is the id (kid) of the key that signs new consumer keys;
	// PreviousKeyIDs still verify keys signed before a rotation.
	KeyID          string
	PreviousKeyIDs []string
	// DataDir holds the SQLite database (by default), the generated secret
	// key and the call log's spill files.
	DataDir string
	// AdminEmail and AdminPassword create the first admin when none exists;
	// an empty password is generated and printed once.
	AdminEmail    string
	AdminPassword string
	// ConfigFile is the YAML file with server settings and declared
	// providers, models, services and prompts.
	ConfigFile string
	// LogFormat is json or text; LogLevel is debug, info, warn or error.
	LogFormat string
	LogLevel  string
	// TrustedProxies are the addresses or CIDR ranges of load balancers
	// whose X-Forwarded-For names the client; empty trusts none, so the
	// client address is the peer's.
	TrustedProxies []string
	// MaxBodyBytes bounds a request body; larger bodies get 413.
	MaxBodyBytes int64
	// ShutdownTimeout bounds how long in-flight requests and streams may
	// run after SIGINT/SIGTERM before they are cut.
	ShutdownTimeout time.Duration
	// DBMaxOpenConns, DBMaxIdleConns and DBConnMaxLifetime size the
	// database connection pool.
	DBMaxOpenConns    int
	DBMaxIdleConns    int
	DBConnMaxLifetime time.Duration
	// DBConnectTimeout bounds how long start-up retries an unreachable
	// database before giving up.
	DBConnectTimeout time.Duration

	// Resources are the providers, models, services and prompts declared
	// in the YAML file, decoded by the packages that own them.
	Resources Resources
}

// Resources are the declarative sections of the YAML file, kept as YAML
// nodes until the package that owns each kind decodes them.
type Resources struct {
	Providers yaml.Node `yaml:"providers"`
	Models    yaml.Node `yaml:"models"`
	Services  yaml.Node `yaml:"services"`
	Prompts   yaml.Node `yaml:"prompts"`
}

// Database is a parsed SLUICE_DATABASE_URL.
type Database struct {
	// Driver is sqlite, postgres or mysql.
	Driver string
	// DSN is what the driver takes: a file path for SQLite, the URL for
	// PostgreSQL, a go-sql-driver DSN for MySQL.
	DSN string
}

// Database drivers.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
	MySQL    = "mysql"
)

// setting declares one setting: its flag, environment variable, YAML key
// under "server:", default and meaning, and how it is stored.
type setting struct {
	flag, env, yaml, def, help string
	apply                      func(c *Config, v string) error
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func integer(p func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("expected a whole number ≥ 0, got %q", v)
		}
		*p(c) = n
		return nil
	}
}

func duration(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("expected a duration such as 30s or 5m, got %q", v)
		}
		*p(c) = d
		return nil
	}
}

func oneOf(p func(*Config) *string, allowed ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		for _, a := range allowed {
			if v == a {
				*p(c) = v
				return nil
			}
		}
		return fmt.Errorf("expected one of %s, got %q", strings.Join(allowed, ", "), v)
	}
}

// settings is the one table of Sluice's settings. README's configuration
// table is checked against it by a test.
var settings = []setting{
	{"addr", "SLUICE_ADDR", "addr", ":8080", "listen address (data plane, admin API, console)",
		str(func(c *Config) *string { return &c.Addr })},
	{"database-url", "SLUICE_DATABASE_URL", "database_url", "sqlite:./data/sluice.db", "sqlite:PATH, postgres://… or mysql://user:pass@tcp(host:port)/db",
		str(func(c *Config) *string { return &c.DatabaseURL })},
	{"redis-url", "SLUICE_REDIS_URL", "redis_url", "", "redis://host:port/db; shares rate limits, caches and config-change notices between replicas",
		str(func(c *Config) *string { return &c.RedisURL })},
	{"redis-prefix", "SLUICE_REDIS_PREFIX", "redis_prefix", "sluice:", "prefix of every Redis key and channel; give each deployment sharing a Redis its own",
		str(func(c *Config) *string { return &c.RedisPrefix })},
	{"secret-key", "SLUICE_SECRET_KEY", "secret_key", "", "signs keys and sessions, encrypts provider credentials; generated into DATA_DIR/secret.key when unset",
		str(func(c *Config) *string { return &c.SecretKey })},
	{"key-id", "SLUICE_KEY_ID", "key_id", "k1", "id of the signing key for new consumer keys; change it to rotate",
		func(c *Config, v string) error {
			if !validKID(v) {
				return fmt.Errorf("expected 1-32 letters, digits, '-' or '_', got %q", v)
			}
			c.KeyID = v
			return nil
		}},
	{"previous-key-ids", "SLUICE_PREVIOUS_KEY_IDS", "previous_key_ids", "", "comma-separated ids of earlier signing keys whose consumer keys still work",
		func(c *Config, v string) error {
			c.PreviousKeyIDs = nil
			for _, id := range strings.Split(v, ",") {
				if id = strings.TrimSpace(id); id == "" {
					continue
				}
				if !validKID(id) {
					return fmt.Errorf("expected ids of 1-32 letters, digits, '-' or '_', got %q", id)
				}
				c.PreviousKeyIDs = append(c.PreviousKeyIDs, id)
			}
			return nil
		}},
	{"data-dir", "SLUICE_DATA_DIR", "data_dir", "./data", "folder for the SQLite database, the generated secret key and call-log spill files",
		str(func(c *Config) *string { return &c.DataDir })},
	{"admin-email", "SLUICE_ADMIN_EMAIL", "admin_email", "admin@localhost", "first admin, created only when no admin exists",
		str(func(c *Config) *string { return &c.AdminEmail })},
	{"admin-password", "SLUICE_ADMIN_PASSWORD", "admin_password", "", "first admin's password; generated and printed once when unset",
		str(func(c *Config) *string { return &c.AdminPassword })},
	{"log-format", "SLUICE_LOG_FORMAT", "log_format", "json", "log format: json or text",
		oneOf(func(c *Config) *string { return &c.LogFormat }, "json", "text")},
	{"log-level", "SLUICE_LOG_LEVEL", "log_level", "info", "log level: debug, info, warn or error",
		oneOf(func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error")},
	{"trusted-proxies", "SLUICE_TRUSTED_PROXIES", "trusted_proxies", "", "comma-separated addresses or CIDR ranges of load balancers whose X-Forwarded-For is believed; empty trusts none",
		func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
					return fmt.Errorf("expected IP addresses or CIDR ranges, got %q", p)
				}
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
			return nil
		}},
	{"max-body-bytes", "SLUICE_MAX_BODY_BYTES", "max_body_bytes", "10485760", "largest accepted request body in bytes (413 above)",
		func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return fmt.Errorf("expected a positive number of bytes, got %q", v)
			}
			c.MaxBodyBytes = n
			return nil
		}},
	{"shutdown-timeout", "SLUICE_SHUTDOWN_TIMEOUT", "shutdown_timeout", "30s", "how long in-flight requests and streams may finish after SIGTERM",
		duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"db-max-open-conns", "SLUICE_DB_MAX_OPEN_CONNS", "db_max_open_conns", "20", "database pool: most open connections (0 = unlimited)",
		integer(func(c *Config) *int { return &c.DBMaxOpenConns })},
	{"db-max-idle-conns", "SLUICE_DB_MAX_IDLE_CONNS", "db_max_idle_conns", "10", "database pool: most idle connections",
		integer(func(c *Config) *int { return &c.DBMaxIdleConns })},
	{"db-conn-max-lifetime", "SLUICE_DB_CONN_MAX_LIFETIME", "db_conn_max_lifetime", "30m", "database pool: a connection's longest life",
		duration(func(c *Config) *time.Duration { return &c.DBConnMaxLifetime })},
	{"db-connect-timeout", "SLUICE_DB_CONNECT_TIMEOUT", "db_connect_timeout", "30s", "how long start-up retries an unreachable database",
		duration(func(c *Config) *time.Duration { return &c.DBConnectTimeout })},
}

// configSetting is SLUICE_CONFIG itself: it names the file, so it is read
// from flags and environment only.
var configSetting = setting{flag: "config", env: "SLUICE_CONFIG", help: "YAML file: server settings and declared providers, models, services, prompts"}

// Setting describes one setting for documentation.
type Setting struct{ Flag, Env, YAML, Default, Help string }

// Settings lists every setting, for help text and documentation.
func Settings() []Setting {
	out := make([]Setting, 0, len(settings)+1)
	for _, s := range settings {
		out = append(out, Setting{s.flag, s.env, s.yaml, s.def, s.help})
	}
	return append(out, Setting{configSetting.flag, configSetting.env, "", "", configSetting.help})
}

// Error is a bad setting: it names the setting and what was expected.
type Error struct {
	Setting string
	Problem string
}

func (e *Error) Error() string { return e.Setting + ": " + e.Problem }

// Load reads the settings from args (flags), env (usually os.LookupEnv)
// and the YAML file named by --config or SLUICE_CONFIG, validates them,
// and returns the config and the arguments left after the flags.
// An unknown flag is an error; -h/--help returns flag.ErrHelp.
func Load(args []string, env func(string) (string, bool), usage io.Writer) (*Config, []string, error) {
	return LoadWith(args, env, usage, nil)
}

// LoadWith is Load for a command with flags of its own: extra declares them
// on the same flag set, so they may be mixed with the settings' flags.
func LoadWith(args []string, env func(string) (string, bool), usage io.Writer, extra func(fs *flag.FlagSet)) (*Config, []string, error) {
	fs := flag.NewFlagSet("sluice", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	flagVals := make(map[string]*string, len(settings)+1)
	for _, s := range append(settings, configSetting) {
		flagVals[s.flag] = fs.String(s.flag, s.def, s.help+" (env "+s.env+")")
	}
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(usage)
			fs.PrintDefaults()
			return nil, nil, err
		}
		return nil, nil, &Error{Setting: "flags", Problem: err.Error()}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	c := &Config{}
	file := ""
	if given[configSetting.flag] {
		file = *flagVals[configSetting.flag]
	} else if v, ok := env(configSetting.env); ok {
		file = v
	}
	var fromFile map[string]string
	if file != "" {
		var err error
		fromFile, c.Resources, err = readFile(file)
		if err != nil {
			return nil, nil, err
		}
		c.ConfigFile = file
	}
	for _, s := range settings {
		v, source := s.def, "default of "+s.env
		if fv, ok := fromFile[s.yaml]; ok {
			v, source = fv, "server."+s.yaml+" in "+file
		}
		if ev, ok := env(s.env); ok {
			v, source = ev, s.env
		}
		if given[s.flag] {
			v, source = *flagVals[s.flag], "--"+s.flag
		}
		if err := s.apply(c, v); err != nil {
			return nil, nil, &Error{Setting: source, Problem: err.Error()}
		}
	}
	if err := c.validate(); err != nil {
		return nil, nil, err
	}
	return c, fs.Args(), nil
}

// readFile reads the YAML file: a "server:" map of settings (keys as in the
// settings table) and the resource sections. Unknown keys are errors.
func readFile(path string) (map[string]string, Resources, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, Resources{}, &Error{Setting: "SLUICE_CONFIG", Problem: err.Error()}
	}
	var doc struct {
		Server    map[string]yaml.Node `yaml:"server"`
		Resources `yaml:",inline"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, Resources{}, &Error{Setting: "SLUICE_CONFIG " + path, Problem: "expected YAML with sections server, providers, models, services, prompts: " + yamlProblem(err)}
	}
	known := map[string]bool{}
	for _, s := range settings {
		known[s.yaml] = true
	}
	out := make(map[string]string, len(doc.Server))
	for k, n := range doc.Server {
		if !known[k] {
			return nil, Resources{}, &Error{Setting: "server." + k + " in " + path, Problem: "unknown setting"}
		}
		if n.Kind != yaml.ScalarNode {
			return nil, Resources{}, &Error{Setting: "server." + k + " in " + path, Problem: "expected a single value"}
		}
		out[k] = n.Value
	}
	return out, doc.Resources, nil
}

func validKID(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// yamlProblem turns a YAML decode error into one readable line.
func yamlProblem(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.ReplaceAll(err.Error(), "\n", " ")
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, m := range te.Errors {
		if i := strings.Index(m, " not found in type "); i >= 0 {
			m = strings.Replace(m[:i], "field ", "unknown section ", 1)
		}
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "; ")
}

func (c *Config) validate() error {
	if c.Addr == "" {
		return &Error{Setting: "SLUICE_ADDR", Problem: "expected a listen address such as :8080"}
	}
	if _, port, err := splitHostPort(c.Addr); err != nil || port == "" {
		return &Error{Setting: "SLUICE_ADDR", Problem: fmt.Sprintf("expected host:port or :port, got %q", c.Addr)}
	}
	db, err := ParseDatabaseURL(c.DatabaseURL)
	if err != nil {
		return &Error{Setting: "SLUICE_DATABASE_URL", Problem: err.Error()}
	}
	c.Database = db
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			return &Error{Setting: "SLUICE_REDIS_URL", Problem: "expected redis://host:port/db or rediss://…, got " + Redact(c.RedisURL)}
		}
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		return &Error{Setting: "SLUICE_SECRET_KEY", Problem: "expected at least 32 characters of secret (use `openssl rand -hex 32`)"}
	}
	if c.DataDir == "" {
		return &Error{Setting: "SLUICE_DATA_DIR", Problem: "expected a folder path"}
	}
	if !strings.Contains(c.AdminEmail, "@") {
		return &Error{Setting: "SLUICE_ADMIN_EMAIL", Problem: fmt.Sprintf("expected an email address, got %q", c.AdminEmail)}
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 8 {
		return &Error{Setting: "SLUICE_ADMIN_PASSWORD", Problem: "expected at least 8 characters"}
	}
	return nil
}

func splitHostPort(addr string) (string, string, error) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", "", errors.New("no port")
	}
	port := addr[i+1:]
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", "", errors.New("bad port")
	}
	return addr[:i], port, nil
}

// ParseDatabaseURL parses sqlite:PATH, postgres://… (or postgresql://) and
// mysql://user:pass@tcp(host:port)/db. Errors never contain the password.
func ParseDatabaseURL(raw string) (Database, error) {
	const expected = "expected sqlite:PATH, postgres://user:pass@host:port/db or mysql://user:pass@tcp(host:port)/db"
	switch {
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
		if path == "" || strings.ContainsAny(path, "?#") {
			return Database{}, fmt.Errorf("%s, got %q (a file path is needed, with no query)", expected, raw)
		}
		return Database{Driver: SQLite, DSN: filepath.Clean(path)}, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return Database{}, fmt.Errorf("%s, got %q", expected, Redact(raw))
		}
		return Database{Driver: Postgres, DSN: raw}, nil
	case strings.HasPrefix(raw, "mysql://"):
		dsn := strings.TrimPrefix(raw, "mysql://")
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil || cfg.DBName == "" {
			return Database{}, fmt.Errorf("%s, got %q", expected, Redact(raw))
		}
		cfg.ParseTime = true
		cfg.Loc = time.UTC
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		if _, ok := cfg.Params["charset"]; !ok {
			cfg.Params["charset"] = "utf8mb4"
		}
		return Database{Driver: MySQL, DSN: cfg.FormatDSN()}, nil
	default:
		return Database{}, fmt.Errorf("%s, got %q", expected, Redact(raw))
	}
}

// Redact hides the password of a URL or DSN for messages and logs.
func Redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
		return s
	}
	// user:pass@tcp(…) style: hide between the first ':' after the scheme and '@'.
	rest, scheme := s, ""
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, rest = s[:i+3], s[i+3:]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return s
	}
	if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
		return scheme + rest[:colon+1] + "xxxxx" + rest[at:]
	}
	return s
}
