// Package config reads the service's settings from environment variables. Every variable is
// documented in the README's configuration table, with the default below.
package config

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/awsevents"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/egress"
)

// Config is the service's configuration.
type Config struct {
	Port int
	// DataDir holds the embedded store's file when no PostgreSQL is configured.
	DataDir string

	// DatabaseURL selects PostgreSQL; empty selects the embedded SQLite store.
	DatabaseURL string
	// ReaderURL is the reader endpoint's URL: DATABASE_READER_URL, or built from
	// DB_READER_HOST. Public reads go there within DBReaderMaxLag (ADR 0022); empty: every
	// query goes to DatabaseURL, the writer.
	ReaderURL string
	// DBReaderMaxLag is the staleness bound of replica reads: a reader further behind the
	// writer is not read. 0 turns replica reads off.
	DBReaderMaxLag time.Duration
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
	// DBAcquireTimeout bounds the wait for a free pooled connection; past it the store answers
	// unavailable (503) instead of holding the request until its deadline.
	DBAcquireTimeout time.Duration
	// DBLockTimeout bounds each statement's wait for a row lock (PostgreSQL lock_timeout).
	DBLockTimeout time.Duration
	// FacetBudget is how many products PostgreSQL's facet counts read at most (FACET_BUDGET,
	// default 500): a larger selection is counted on a sample, marked exact: false. 0 counts
	// every product.
	FacetBudget int
	// ReservationRetention is how long finished reservations are kept before the sweeper purges
	// them (their stock movements are kept for good).
	ReservationRetention time.Duration
	// EventRetention is how long the change feed keeps events (EVENT_RETENTION, default 7 days);
	// a consumer further behind gets 410 and re-syncs from an export.
	EventRetention time.Duration
	// EventSource is the events' CloudEvents source and EventBridge Source (EVENT_SOURCE,
	// default "catalog").
	EventSource string
	// EventBusName, when set, turns on the relay that publishes every event to that
	// EventBridge bus (EVENT_BUS_NAME: its name or ARN). EventBusStart is where the relay begins
	// the first time it runs (EVENT_BUS_START: head, the default, or oldest).
	EventBusName  string
	EventBusStart catalog.FeedStart
	// EventBusConcurrency is how many PutEvents requests the relay keeps in flight
	// (EVENT_BUS_CONCURRENCY, 1 to 10, default 1: in sequence order).
	EventBusConcurrency int
	// WebhookAllow lists the ranges webhook URLs may point into although they are not public
	// (WEBHOOK_ALLOW, CIDRs or addresses, comma-separated; default none). Plain http URLs
	// are admitted to those ranges, for receivers inside a trusted network or on a developer's
	// machine.
	WebhookAllow []netip.Prefix
	// WebhookLogRetention is how long the webhook delivery log keeps an attempt
	// (WEBHOOK_LOG_RETENTION, default 7 days).
	WebhookLogRetention time.Duration
	// WebhookTimeout bounds one delivery (WEBHOOK_TIMEOUT, default 10s, at most 30s).
	WebhookTimeout time.Duration
	// ImportDir is where POST /imports spools uploads (IMPORT_DIR, default the system's temp
	// directory); ImportMaxBytes caps one upload, decompressed (IMPORT_MAX_BYTES, default 1 GiB).
	ImportDir      string
	ImportMaxBytes int64
	// ImportJobRetention is how long a finished import job's report is kept
	// (IMPORT_JOB_RETENTION, default 7 days, at least 1h).
	ImportJobRetention time.Duration
	// ImportParallel is how many batches of one import job PostgreSQL works on at once, each on
	// its own pool connection (IMPORT_PARALLEL, default 2, 1-8; ADR 0026). SQLite has one
	// writer and always takes 1.
	ImportParallel int
	// DBStartupTimeout is how long serve keeps trying to reach and migrate PostgreSQL at start
	// (the Aurora writer may still be being created); 0 gives up after the first attempt.
	DBStartupTimeout time.Duration
	// MigrateOnStart makes serve apply pending migrations at start. Off, the service runs no
	// DDL: it waits until `catalog migrate` has brought the schema to its version.
	MigrateOnStart bool
	// DBAppRole, when set, is the role `catalog migrate` makes the least-privileged application
	// role: table and sequence reads and writes in the service's schema, nothing else.
	DBAppRole string
	// DBAppRolePassword is the app role's password (local use, without IAM authentication).
	DBAppRolePassword string
	// DBAppRoleIAM grants the app role rds_iam, so it logs in with IAM authentication tokens.
	DBAppRoleIAM bool
	// DBIAMAuth makes every new connection use a fresh RDS IAM authentication token as its
	// password, signed with the default AWS credential chain (the task role).
	DBIAMAuth bool

	// APIKeys is API_KEYS as given: "name:scope,scope:key" entries separated by ';', or the
	// old bare comma-separated keys (parsed by package access).
	APIKeys string
	// APIKeysSecretARN names a Secrets Manager secret holding the keys, re-read every
	// APIKeysRefresh so a rotation needs no deploy.
	APIKeysSecretARN string
	APIKeysRefresh   time.Duration
	// TrustedProxyHops is how many proxies append to X-Forwarded-For in front of the service
	// (1: the ALB); the client address is the entry that many from the right.
	TrustedProxyHops int
	// RateLimitPerIP limits requests without a valid key per client address; RateLimitPerKey
	// requests with one per key name.
	RateLimitPerIP, RateLimitPerKey access.Limit
	// RateLimitTable bounds how many clients' buckets each limiter keeps.
	RateLimitTable int
	// CORSAllowedOrigins are the browser origins allowed to read responses; none by default.
	CORSAllowedOrigins []string
	// MetricsPort serves /metrics apart from the API, where the load balancer never sends
	// anyone; 0 picks a free port.
	MetricsPort int

	LogLevel        slog.Level
	RequestTimeout  time.Duration
	ReadyTimeout    time.Duration
	DrainDelay      time.Duration
	ShutdownTimeout time.Duration
	// CacheTTL is how long a cached product is served before its versions are checked again
	// (0 turns the read cache off); CacheMaxBytes bounds the memory it takes (ADR 0025).
	// CacheMaxBytes is 0 when CACHE_MAX_BYTES is not set: the service then takes an eighth of
	// its ECS task's memory (ECSMetadataURI), or DefaultCacheMaxBytes outside ECS.
	CacheTTL       time.Duration
	CacheMaxBytes  int64
	ECSMetadataURI string
	// GoMemLimitSet and GoGCSet say the operator set GOMEMLIMIT or GOGC, which the Go runtime
	// reads itself: the service then leaves that setting alone (GC, ADR 0027).
	GoMemLimitSet, GoGCSet bool
	// SweepInterval is how often expired reservations are released and due prices applied.
	SweepInterval time.Duration
	// SeedSample loads the sample catalog when the embedded store starts empty.
	SeedSample bool
	MetricsEMF bool
	Env        string
}

// DefaultCacheMaxBytes bounds the read cache when CACHE_MAX_BYTES is not set and the service does
// not run in an ECS task: an eighth of the stacks' default task (2 GiB). In a task the service
// takes CacheShareOfTask of the task's memory instead, so cache, request buffers and an
// import's batches together stay well under the 75% at which memory scaling adds tasks
// whatever the task's size.
const DefaultCacheMaxBytes = 256 << 20

// CacheShareOfTask is the share of an ECS task's memory the read cache takes by default.
const CacheShareOfTask = 8

// parseBytes reads a size in bytes, with an optional binary unit: 1048576, 512KiB, 256MiB, 1GiB.
func parseBytes(s string) (int64, bool) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, false
	}
	return n * mult, true
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
	byteSize := func(name string, def, min, max int64) int64 {
		s := str(name, "")
		if s == "" {
			return def
		}
		n, ok := parseBytes(s)
		if !ok || n < min || n > max {
			bad(name, "must be a size from %d to %d bytes, in bytes or with a unit like 256MiB or 1GiB, not %q", min, max, s)
			return def
		}
		return n
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
		CacheTTL:          duration("CACHE_TTL", 30*time.Second), // a backstop: NOTIFY invalidates (ADR 0025)
		CacheMaxBytes:     byteSize("CACHE_MAX_BYTES", 0, 1<<20, 1<<40),
		ECSMetadataURI:    str("ECS_CONTAINER_METADATA_URI_V4", ""),
		GoMemLimitSet:     getenv("GOMEMLIMIT") != "",
		GoGCSet:           getenv("GOGC") != "",
		SeedSample:        boolean("SEED_SAMPLE", true),
		MigrateOnStart:    boolean("MIGRATE_ON_START", true),
		DBIAMAuth:         boolean("DB_IAM_AUTH", false),
		MetricsEMF:        boolean("METRICS_EMF", false),
		Env:               str("APP_ENV", "local"),
	}
	if err := c.LogLevel.UnmarshalText([]byte(str("LOG_LEVEL", "info"))); err != nil {
		bad("LOG_LEVEL", "must be debug, info, warn or error")
	}
	if c.DrainDelay >= c.ShutdownTimeout {
		bad("DRAIN_DELAY", "(%s) must be shorter than SHUTDOWN_TIMEOUT (%s), or in-flight requests get no time to finish", c.DrainDelay, c.ShutdownTimeout)
	}
	if getenv("CACHE_SIZE") != "" {
		// Refused, not ignored: a deployment that set it would otherwise lose its bound silently.
		bad("CACHE_SIZE", "was replaced by CACHE_MAX_BYTES (the read cache is bounded by memory, not entries; default %dMiB)", DefaultCacheMaxBytes>>20)
	}
	if c.SweepInterval < 10*time.Millisecond {
		bad("SWEEP_INTERVAL", "must be at least 10ms")
	}
	if c.DBConnMaxLifetime < 10*time.Millisecond {
		// Zero would mean "never" to pgx, and a connection that never ends outlives a rotated
		// password's grace and any DNS change behind the host name.
		bad("DB_CONN_MAX_LIFETIME", "must be at least 10ms")
	}
	// The defaults leave a request time to retry a lock wait once and still answer in time: a
	// short REQUEST_TIMEOUT shortens them; set explicitly, they are only checked.
	c.DBAcquireTimeout = duration("DB_ACQUIRE_TIMEOUT", min(2*time.Second, c.RequestTimeout/4))
	c.DBLockTimeout = duration("DB_LOCK_TIMEOUT", min(3*time.Second, c.RequestTimeout/3))
	c.FacetBudget = integer("FACET_BUDGET", 500, 0, 100_000_000)
	c.ReservationRetention = duration("RESERVATION_RETENTION", 30*24*time.Hour)
	c.EventRetention = duration("EVENT_RETENTION", catalog.DefaultEventRetention)
	c.ImportDir, c.ImportMaxBytes = str("IMPORT_DIR", ""), int64(integer("IMPORT_MAX_BYTES", 1<<30, 1<<10, 1<<40))
	c.ImportParallel = integer("IMPORT_PARALLEL", 2, 1, 8)
	if c.ImportJobRetention = duration("IMPORT_JOB_RETENTION", catalog.DefaultImportJobRetention); c.ImportJobRetention < time.Hour {
		bad("IMPORT_JOB_RETENTION", "must be at least 1h")
	}
	if c.DBAcquireTimeout < time.Millisecond || c.DBAcquireTimeout >= c.RequestTimeout {
		bad("DB_ACQUIRE_TIMEOUT", "(%s) must be at least 1ms and shorter than REQUEST_TIMEOUT (%s)", c.DBAcquireTimeout, c.RequestTimeout)
	}
	if c.DBLockTimeout < time.Millisecond || c.DBLockTimeout >= c.RequestTimeout {
		// 0 would mean "wait forever" to PostgreSQL: exactly the starvation this bound prevents.
		bad("DB_LOCK_TIMEOUT", "(%s) must be at least 1ms and shorter than REQUEST_TIMEOUT (%s)", c.DBLockTimeout, c.RequestTimeout)
	}
	if c.ReservationRetention < catalog.IdempotencyTTL {
		// A replayed commit must still find its reservation.
		bad("RESERVATION_RETENTION", "must be at least %s (the idempotency window)", catalog.IdempotencyTTL)
	}
	allow, err := egress.ParseAllowList(getenv("WEBHOOK_ALLOW"))
	if err != nil {
		bad("WEBHOOK_ALLOW", "%v", err)
	}
	c.WebhookAllow = allow
	c.WebhookLogRetention = duration("WEBHOOK_LOG_RETENTION", catalog.DefaultDeliveryRetention)
	if c.WebhookLogRetention < time.Hour {
		bad("WEBHOOK_LOG_RETENTION", "must be at least 1h")
	}
	c.WebhookTimeout = duration("WEBHOOK_TIMEOUT", 10*time.Second)
	if c.WebhookTimeout < 100*time.Millisecond || c.WebhookTimeout > 30*time.Second {
		// Longer, and a slow receiver holds its lease (and its subscription's order) too long.
		bad("WEBHOOK_TIMEOUT", "must be between 100ms and 30s")
	}
	c.EventSource = str("EVENT_SOURCE", catalog.DefaultEventSource)
	if err := awsevents.CheckSource(c.EventSource); err != nil {
		bad("EVENT_SOURCE", "%v", err)
	}
	if c.EventBusName = str("EVENT_BUS_NAME", ""); c.EventBusName != "" {
		if err := awsevents.CheckBusName(c.EventBusName); err != nil {
			bad("EVENT_BUS_NAME", "%v", err)
		}
	}
	c.EventBusConcurrency = integer("EVENT_BUS_CONCURRENCY", 1, 1, 10)
	switch s := str("EVENT_BUS_START", "head"); s {
	case "head":
		c.EventBusStart = catalog.FeedStartHead
	case "oldest":
		c.EventBusStart = catalog.FeedStartOldest
	default:
		bad("EVENT_BUS_START", "must be head or oldest, not %q", s)
	}
	if c.EventRetention < time.Hour {
		// Shorter than a consumer's ordinary outage or deploy, every restart would mean a re-sync.
		bad("EVENT_RETENTION", "must be at least 1h")
	}
	if c.DBStartupTimeout > 24*time.Hour {
		// A typo such as 600m for 600s should not leave a task waiting for ten hours.
		bad("DB_STARTUP_TIMEOUT", "must be at most 24h, not %s", c.DBStartupTimeout)
	}
	c.DataDir = filepath.Clean(c.DataDir)

	c.APIKeys = strings.TrimSpace(getenv("API_KEYS"))
	if _, _, err := access.ParseEnv(c.APIKeys); err != nil {
		bad("API_KEYS", "%v", err)
	}
	c.APIKeysSecretARN = str("API_KEYS_SECRET_ARN", "")
	c.APIKeysRefresh = duration("API_KEYS_REFRESH", time.Minute)
	if c.APIKeysRefresh < time.Second {
		bad("API_KEYS_REFRESH", "must be at least 1s")
	}
	c.TrustedProxyHops = integer("TRUSTED_PROXY_HOPS", 1, 0, 10)
	limit := func(name, def string) access.Limit {
		l, err := access.ParseLimit(str(name, def))
		if err != nil {
			bad(name, "%v", err)
		}
		return l
	}
	// Generous: a shopper behind a carrier's shared address, a back-office import.
	c.RateLimitPerIP = limit("RATE_LIMIT_PER_IP", "50/s:100")
	c.RateLimitPerKey = limit("RATE_LIMIT_PER_KEY", "500/s:1000")
	c.RateLimitTable = integer("RATE_LIMIT_TABLE", 100_000, 100, 10_000_000)
	for _, o := range strings.Split(getenv("CORS_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSAllowedOrigins = append(c.CORSAllowedOrigins, o)
		}
	}
	if _, err := access.NewCORS(c.CORSAllowedOrigins); err != nil {
		bad("CORS_ALLOWED_ORIGINS", "%v", err)
	}
	c.MetricsPort = integer("METRICS_PORT", 9090, 0, 65535)
	if c.MetricsPort != 0 && c.MetricsPort == c.Port {
		bad("METRICS_PORT", "must differ from PORT (%d): the metrics stay off the public port", c.Port)
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
	if u := str("DATABASE_READER_URL", ""); u != "" {
		switch {
		case getenv("DATABASE_URL") == "":
			bad("DATABASE_READER_URL", "needs DATABASE_URL (the writer); with DB_HOST set DB_READER_HOST")
		default:
			c.ReaderURL = u
		}
	}
	c.DBReaderMaxLag = duration("DB_READER_MAX_LAG", time.Second)
	if c.DBReaderMaxLag < 0 || c.DBReaderMaxLag > 30*time.Second {
		// Past a few seconds a replica's answers are older than the HTTP caching allows (5 s).
		bad("DB_READER_MAX_LAG", "must be between 0 (replica reads off) and 30s, not %s", c.DBReaderMaxLag)
	}
	if c.DBReaderMaxLag == 0 {
		c.ReaderURL = ""
	}
	if c.DBSecretARN != "" && c.DatabaseURL == "" {
		bad("DB_SECRET_ARN", "needs DB_HOST (or DATABASE_URL) to say where the database is")
	}
	c.checkIAMAuth(getenv, bad)
	c.loadAppRole(getenv, boolean, bad)
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// checkIAMAuth refuses DB_IAM_AUTH with anything that would make a token pointless or unsafe: a
// password from elsewhere (which one would the connection use?) or a connection that may run
// without TLS, which RDS refuses for IAM authentication and which would expose the token.
func (c *Config) checkIAMAuth(getenv func(string) string, bad func(name, format string, args ...any)) {
	if !c.DBIAMAuth {
		return
	}
	if c.DatabaseURL == "" {
		bad("DB_IAM_AUTH", "needs PostgreSQL: set DB_HOST (or DATABASE_URL)")
		return
	}
	if getenv("DB_PASSWORD") != "" {
		bad("DB_PASSWORD", "must be empty with DB_IAM_AUTH=true: the IAM token is the password")
	}
	if c.DBSecretARN != "" {
		bad("DB_SECRET_ARN", "must be empty with DB_IAM_AUTH=true: the IAM token is the password")
	}
	pc, err := pgconn.ParseConfig(c.DatabaseURL)
	if err != nil {
		return // reported where the store opens, without quoting the string
	}
	source := "DATABASE_URL"
	if strings.TrimSpace(getenv("DATABASE_URL")) == "" {
		source = "DB_SSLMODE"
	}
	if source == "DATABASE_URL" && holdsPassword(c.DatabaseURL) {
		bad("DATABASE_URL", "must not hold a password with DB_IAM_AUTH=true: the IAM token is the password")
	}
	if holdsPassword(c.ReaderURL) {
		bad("DATABASE_READER_URL", "must not hold a password with DB_IAM_AUTH=true: the IAM token is the password")
	}
	if pc.User == "" {
		bad("DB_USER", "is required with DB_IAM_AUTH=true: the token is signed for one database user")
	}
	if !onlyTLS(pc) {
		bad(source, "must ask for sslmode require, verify-ca or verify-full with DB_IAM_AUTH=true: RDS accepts IAM tokens only over TLS")
	}
}

// passwordSettingRE finds a password setting in key=value form.
var passwordSettingRE = regexp.MustCompile(`(^|\s)password\s*=`)

// holdsPassword reports whether the connection string itself gives a password (pgconn's parse
// would also report one from ~/.pgpass, which is not the string's doing).
func holdsPassword(dsn string) bool {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return false
		}
		_, inUser := u.User.Password()
		return inUser || u.Query().Has("password")
	}
	return passwordSettingRE.MatchString(dsn)
}

// onlyTLS reports whether every connection attempt pc describes (the first and its fallbacks)
// uses TLS: sslmode require, verify-ca or verify-full, not prefer, allow or disable.
func onlyTLS(pc *pgconn.Config) bool {
	if pc.TLSConfig == nil {
		return false
	}
	for _, fb := range pc.Fallbacks {
		if fb.TLSConfig == nil {
			return false
		}
	}
	return true
}

// roleNameRE is an unquoted PostgreSQL identifier in lower case (what CREATE ROLE name makes),
// at most 63 bytes (NAMEDATALEN-1).
var roleNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ValidRoleName reports why name cannot be the app role, or nil.
func ValidRoleName(name string) error {
	switch {
	case !roleNameRE.MatchString(name):
		return fmt.Errorf("must be a lower-case identifier (a-z, 0-9, _; not starting with a digit; at most 63 characters), not %q", name)
	case strings.HasPrefix(name, "pg_"):
		return fmt.Errorf("must not start with pg_ (PostgreSQL reserves those role names), not %q", name)
	case name == "public" || name == "none":
		return fmt.Errorf("must not be %q (PostgreSQL reserves it)", name)
	}
	return nil
}

func (c *Config) loadAppRole(getenv func(string) string, boolean func(string, bool) bool, bad func(name, format string, args ...any)) {
	c.DBAppRole = strings.TrimSpace(getenv("DB_APP_ROLE"))
	c.DBAppRolePassword = getenv("DB_APP_ROLE_PASSWORD")
	c.DBAppRoleIAM = boolean("DB_APP_ROLE_IAM", false)
	if c.DBAppRole == "" {
		if c.DBAppRolePassword != "" {
			bad("DB_APP_ROLE_PASSWORD", "needs DB_APP_ROLE (the role it is the password of)")
		}
		if c.DBAppRoleIAM {
			bad("DB_APP_ROLE_IAM", "needs DB_APP_ROLE (the role to grant rds_iam)")
		}
		return
	}
	if err := ValidRoleName(c.DBAppRole); err != nil {
		bad("DB_APP_ROLE", "%v", err)
	}
	if c.DatabaseURL == "" {
		bad("DB_APP_ROLE", "needs PostgreSQL: set DB_HOST (or DATABASE_URL); the embedded store has no roles")
	}
	if c.DBAppRoleIAM && c.DBAppRolePassword != "" {
		// On RDS a member of rds_iam logs in only with tokens: the password would never work.
		bad("DB_APP_ROLE_PASSWORD", "must be empty with DB_APP_ROLE_IAM=true: a role granted rds_iam logs in only with IAM tokens")
	}
	if !printableASCII(c.DBAppRolePassword) || len(c.DBAppRolePassword) > 1000 {
		// The password is hashed before it reaches the server, as PostgreSQL would after
		// SASLprep, which leaves printable ASCII unchanged and nothing else necessarily.
		bad("DB_APP_ROLE_PASSWORD", "must be printable ASCII, at most 1000 characters")
	}
}

func printableASCII(s string) bool {
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// Redacted returns a connection string fit for logs: the password replaced and only settings
// known to be harmless shown. It fails closed: a string it cannot parse exactly (an unescaped
// "/" or "@" in the password, a bad "%" escape, a non-numeric port) is not shown at all, because
// where a parser gives up says nothing about where the password ends.
func Redacted(dsn string) string {
	dsn = strings.TrimSpace(dsn)
	switch {
	case dsn == "":
		return ""
	case strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://"):
		if out, ok := redactURL(dsn); ok {
			return out
		}
		return "(a database URL that does not parse; not shown)"
	case strings.Contains(dsn, "="):
		if out, ok := redactKeyValue(dsn); ok {
			return out
		}
		return "(a key=value connection string that does not parse; not shown)"
	}
	return "(an unrecognised connection string; not shown)"
}

// shownSettings are the connection settings a log may show; any other is counted, not shown.
var shownSettings = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "sslmode": true,
	"sslrootcert": true, "application_name": true, "connect_timeout": true, "target_session_attrs": true,
	"pool_max_conns": true, "pool_min_conns": true, "search_path": true,
}

// secretSettings are shown as xxxxx.
var secretSettings = map[string]bool{"password": true, "sslpassword": true}

const redactedValue = "xxxxx"

func redactURL(dsn string) (string, bool) {
	scheme, rest, _ := strings.Cut(dsn, "://")
	// The authority ends at the first "/", "?" or "#"; an "@" after it means the password held
	// one of those characters unescaped, and the parse below would split it somewhere inside.
	if end := strings.IndexAny(rest, "/?#"); end >= 0 && strings.Contains(rest[end:], "@") {
		return "", false
	}
	if strings.ContainsAny(dsn, " \t\n'\"") {
		return "", false
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Opaque != "" || u.Fragment != "" {
		return "", false
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	b.WriteString(scheme + "://")
	if u.User != nil {
		b.WriteString(url.PathEscape(u.User.Username()))
		if _, ok := u.User.Password(); ok {
			b.WriteString(":" + redactedValue)
		}
		b.WriteString("@")
	}
	b.WriteString(u.Host)
	b.WriteString(u.EscapedPath())
	var shown []string
	hidden := 0
	for _, k := range sortedKeys(q) {
		switch {
		case secretSettings[k]:
			shown = append(shown, k+"="+redactedValue)
		case shownSettings[k]:
			shown = append(shown, k+"="+url.QueryEscape(q.Get(k)))
		default:
			hidden++
		}
	}
	if len(shown) > 0 {
		b.WriteString("?" + strings.Join(shown, "&"))
	}
	if hidden > 0 {
		fmt.Fprintf(&b, " (+%d other settings)", hidden)
	}
	return b.String(), true
}

// redactKeyValue parses libpq's key=value form (values bare or in single quotes with backslash
// escapes) and shows it with the password replaced.
func redactKeyValue(dsn string) (string, bool) {
	var shown []string
	hidden := 0
	s := dsn
	for {
		s = strings.TrimLeft(s, " \t\n\r")
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return "", false
		}
		key := strings.TrimRight(s[:eq], " \t\n\r")
		if key == "" || strings.ContainsAny(key, " \t\n\r'\\") {
			return "", false
		}
		s = strings.TrimLeft(s[eq+1:], " \t\n\r")
		var val strings.Builder
		if strings.HasPrefix(s, "'") {
			closed := false
			i := 1
			for ; i < len(s); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					val.WriteByte(s[i])
					continue
				}
				if s[i] == '\'' {
					closed = true
					break
				}
				val.WriteByte(s[i])
			}
			if !closed {
				return "", false
			}
			s = s[i+1:]
			if s != "" && !strings.ContainsAny(s[:1], " \t\n\r") {
				return "", false
			}
		} else {
			end := strings.IndexAny(s, " \t\n\r")
			if end < 0 {
				end = len(s)
			}
			raw := s[:end]
			if strings.ContainsAny(raw, "'\\") {
				return "", false
			}
			val.WriteString(raw)
			s = s[end:]
		}
		switch {
		case secretSettings[key]:
			shown = append(shown, key+"="+redactedValue)
		// A value holding "=" may be a setting swallowed whole ("user= password=x" is read as
		// user "password=x", by libpq too): hide it rather than show what may be a password.
		case shownSettings[key] && !strings.ContainsAny(val.String(), " '\\="):
			shown = append(shown, key+"="+val.String())
		default:
			hidden++
		}
	}
	out := strings.Join(shown, " ")
	if hidden > 0 {
		out += fmt.Sprintf(" (+%d other settings)", hidden)
	}
	return strings.TrimSpace(out), true
}

func sortedKeys(q url.Values) []string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// CacheBytes is the read cache's bound: CACHE_MAX_BYTES when set, else CacheShareOfTask of the
// task's memory when the service knows it (taskMemoryMiB > 0, from the ECS task metadata), else
// DefaultCacheMaxBytes. A 512 MiB task gets 64 MiB, not the 2 GiB task's 256 MiB.
func (c Config) CacheBytes(taskMemoryMiB int64) int64 {
	switch {
	case c.CacheMaxBytes > 0:
		return c.CacheMaxBytes
	case taskMemoryMiB > 0:
		return max(taskMemoryMiB<<20/CacheShareOfTask, 1<<20)
	default:
		return DefaultCacheMaxBytes
	}
}
