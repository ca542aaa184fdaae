// Package config reads the service's settings from environment variables. Every variable is
// documented in the README's configuration table, with the default below.
package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is the service's configuration.
type Config struct {
	Port int
	// DataDir holds the embedded store's file when no PostgreSQL is configured.
	DataDir string

	// DatabaseURL selects PostgreSQL; empty selects the embedded SQLite store.
	DatabaseURL string
	// ReaderURL is the reader endpoint's URL, built from DB_READER_HOST. It is recorded (and
	// checked) but not used yet: every query goes to DatabaseURL, the writer.
	ReaderURL string
	// DBSecretARN names the Secrets Manager secret holding the database password; it is read
	// when connecting so rotated passwords work without a restart.
	DBSecretARN string
	// DBRootCA is "rds" to verify the server against the Amazon RDS CAs embedded in the
	// binary; a file path goes into the connection string as sslrootcert instead.
	DBRootCA   string
	DBMaxConns int32
	// DBConnMaxLifetime is how old a pooled connection may get before it is closed (on its
	// release, never mid-query) and replaced by a new one.
	DBConnMaxLifetime time.Duration
	// DBStartupTimeout is how long serve keeps trying to reach and migrate PostgreSQL at start
	// (the Aurora writer may still be being created); 0 gives up after the first attempt.
	DBStartupTimeout time.Duration

	APIKeys []string

	LogLevel        slog.Level
	RequestTimeout  time.Duration
	ReadyTimeout    time.Duration
	DrainDelay      time.Duration
	ShutdownTimeout time.Duration
	// CacheTTL bounds how stale a cached product may be (0 turns the read cache off);
	// CacheSize bounds how many products it holds.
	CacheTTL  time.Duration
	CacheSize int
	// SweepInterval is how often expired reservations are released and due prices applied.
	SweepInterval time.Duration
	// SeedSample loads the sample catalog when the embedded store starts empty.
	SeedSample bool
	MetricsEMF bool
	Env        string
}

// Load reads the configuration through getenv, reporting every bad variable at once.
func Load(getenv func(string) string) (Config, error) {
	var errs []string
	bad := func(name, format string, args ...any) {
		errs = append(errs, name+": "+fmt.Sprintf(format, args...))
	}
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	integer := func(name string, def, min, max int) int {
		s := str(name, "")
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < min || n > max {
			bad(name, "must be an integer from %d to %d, not %q", min, max, s)
			return def
		}
		return n
	}
	duration := func(name string, def time.Duration) time.Duration {
		s := str(name, "")
		if s == "" {
			return def
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			bad(name, "must be a duration like 10s or 500ms, not %q", s)
			return def
		}
		return d
	}
	boolean := func(name string, def bool) bool {
		s := str(name, "")
		if s == "" {
			return def
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			bad(name, "must be true or false, not %q", s)
			return def
		}
		return b
	}

	c := Config{
		Port:              integer("PORT", 8080, 0, 65535),
		DataDir:           str("DATA_DIR", "data"),
		DBSecretARN:       str("DB_SECRET_ARN", ""),
		DBMaxConns:        int32(integer("DB_MAX_CONNS", 20, 1, 1000)),
		DBConnMaxLifetime: duration("DB_CONN_MAX_LIFETIME", 30*time.Minute),
		DBStartupTimeout:  duration("DB_STARTUP_TIMEOUT", 10*time.Minute),
		RequestTimeout:    duration("REQUEST_TIMEOUT", 10*time.Second),
		ReadyTimeout:      duration("READY_TIMEOUT", time.Second),
		DrainDelay:        duration("DRAIN_DELAY", 0),
		ShutdownTimeout:   duration("SHUTDOWN_TIMEOUT", 25*time.Second),
		SweepInterval:     duration("SWEEP_INTERVAL", time.Second),
		CacheTTL:          duration("CACHE_TTL", 2*time.Second),
		CacheSize:         integer("CACHE_SIZE", 10_000, 1, 10_000_000),
		SeedSample:        boolean("SEED_SAMPLE", true),
		MetricsEMF:        boolean("METRICS_EMF", false),
		Env:               str("APP_ENV", "local"),
	}
	if err := c.LogLevel.UnmarshalText([]byte(str("LOG_LEVEL", "info"))); err != nil {
		bad("LOG_LEVEL", "must be debug, info, warn or error")
	}
	if c.DrainDelay >= c.ShutdownTimeout {
		bad("DRAIN_DELAY", "(%s) must be shorter than SHUTDOWN_TIMEOUT (%s), or in-flight requests get no time to finish", c.DrainDelay, c.ShutdownTimeout)
	}
	if c.SweepInterval < 10*time.Millisecond {
		bad("SWEEP_INTERVAL", "must be at least 10ms")
	}
	if c.DBConnMaxLifetime < 10*time.Millisecond {
		// Zero would mean "never" to pgx, and a connection that never ends outlives a rotated
		// password's grace and any DNS change behind the host name.
		bad("DB_CONN_MAX_LIFETIME", "must be at least 10ms")
	}
	if c.DBStartupTimeout > 24*time.Hour {
		// A typo such as 600m for 600s should not leave a task waiting for ten hours.
		bad("DB_STARTUP_TIMEOUT", "must be at most 24h, not %s", c.DBStartupTimeout)
	}
	c.DataDir = filepath.Clean(c.DataDir)

	for _, k := range strings.Split(getenv("API_KEYS"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.APIKeys = append(c.APIKeys, k)
		}
	}

	c.DatabaseURL = str("DATABASE_URL", "")
	if c.DatabaseURL != "" && str("DB_SSLROOTCERT", "") == "rds" {
		c.DBRootCA = "rds"
	}
	host := str("DB_HOST", "")
	switch {
	case c.DatabaseURL != "" && host != "":
		bad("DB_HOST", "set either DATABASE_URL or DB_HOST and friends, not both")
	case host != "":
		port := integer("DB_PORT", 5432, 1, 65535)
		user := str("DB_USER", "")
		if user == "" && c.DBSecretARN == "" {
			bad("DB_USER", "is required with DB_HOST (unless DB_SECRET_ARN supplies it)")
		}
		q := url.Values{}
		q.Set("sslmode", str("DB_SSLMODE", "prefer"))
		if root := str("DB_SSLROOTCERT", ""); root == "rds" {
			c.DBRootCA = root
		} else if root != "" {
			q.Set("sslrootcert", root)
		}
		u := url.URL{Scheme: "postgres", Host: host + ":" + strconv.Itoa(port), Path: "/" + str("DB_NAME", "catalog"), RawQuery: q.Encode()}
		switch pw := getenv("DB_PASSWORD"); {
		case pw != "":
			u.User = url.UserPassword(user, pw)
		case user != "":
			u.User = url.User(user)
		}
		c.DatabaseURL = u.String()
		if rh := str("DB_READER_HOST", ""); rh != "" && rh != host {
			r := u
			r.Host = rh + ":" + strconv.Itoa(port)
			c.ReaderURL = r.String()
		}
	}
	if c.DBSecretARN != "" && c.DatabaseURL == "" {
		bad("DB_SECRET_ARN", "needs DB_HOST (or DATABASE_URL) to say where the database is")
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// Redacted returns a database URL with its password replaced, for logs and messages. A URL
// that does not parse (a port that is not a number, say) still has its password removed: the
// error that reports it must not leak it.
func Redacted(dsn string) string {
	return passwordParam.ReplaceAllString(redactUserInfo(dsn), "${1}xxxxx")
}

// passwordParam finds a password given as a parameter (libpq and pgx take ?password=), wherever
// it ends up in the text: the query, or a part of an unparsable URL.
var passwordParam = regexp.MustCompile(`(?i)(password=)[^&\s#]*`)

func redactUserInfo(dsn string) string {
	u, err := url.Parse(dsn)
	i, j := strings.Index(dsn, "://"), strings.LastIndex(dsn, "@")
	switch {
	case err == nil && u.User != nil:
		// The authority ends at the first '/', '?' or '#', and user info at its last '@', so
		// all of the password is in u.User.
		return u.Redacted()
	case err == nil && u.Scheme != "" && !(i >= 0 && j > i):
		return dsn
	}
	// Unparsable, or an '@' outside the user info: a raw '#', '/' or '?' in a password moves
	// its tail into the host, path or fragment. Everything up to the last '@' is user info.
	if i >= 0 && j > i {
		user, _, _ := strings.Cut(dsn[i+3:j], ":")
		return dsn[:i+3] + user + ":xxxxx" + dsn[j:]
	}
	if strings.Contains(dsn, "=") {
		return "(a key=value connection string)"
	}
	if strings.Contains(dsn, "://") {
		return "(an unparsable URL)"
	}
	return dsn
}
