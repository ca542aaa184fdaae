package config

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.DatabaseURL != "" || c.DataDir != "data" || c.ShutdownTimeout != 25*time.Second || !c.SeedSample || c.APIKeys != "" ||
		c.DBConnMaxLifetime != 30*time.Minute {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestDatabaseFromParts(t *testing.T) {
	c, err := Load(env(map[string]string{
		"DB_HOST": "writer.example", "DB_READER_HOST": "reader.example", "DB_USER": "app",
		"DB_PASSWORD": "p@ss/w:rd?", "DB_NAME": "shop", "DB_SSLMODE": "verify-full", "DB_SSLROOTCERT": "rds",
		"API_KEYS": " key-one-0123456789 ,, key-two-0123456789 ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := "postgres://app:p%40ss%2Fw%3Ard%3F@writer.example:5432/shop?sslmode=verify-full"
	if c.DatabaseURL != want {
		t.Fatalf("url = %s\nwant %s", c.DatabaseURL, want)
	}
	if !strings.Contains(c.ReaderURL, "@reader.example:5432/shop") {
		t.Fatalf("reader url = %s", c.ReaderURL)
	}
	if c.DBRootCA != "rds" {
		t.Fatalf("DBRootCA = %q", c.DBRootCA)
	}
	if c.APIKeys != "key-one-0123456789 ,, key-two-0123456789" {
		t.Fatalf("keys = %q", c.APIKeys)
	}
	if r := Redacted(c.DatabaseURL); strings.Contains(r, "p%40ss") || strings.Contains(r, "p@ss") {
		t.Fatalf("redacted url shows the password: %s", r)
	}
}

func TestBadValuesAreAllReported(t *testing.T) {
	_, err := Load(env(map[string]string{
		"PORT": "eighty", "REQUEST_TIMEOUT": "soon", "LOG_LEVEL": "loud", "SEED_SAMPLE": "maybe",
		"DB_HOST": "h", "DATABASE_URL": "postgres://x", "DRAIN_DELAY": "30s", "DB_CONN_MAX_LIFETIME": "0s",
	}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, name := range []string{"PORT", "REQUEST_TIMEOUT", "LOG_LEVEL", "SEED_SAMPLE", "DB_HOST", "DRAIN_DELAY", "DB_CONN_MAX_LIFETIME"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

// TestDatabaseBounds: the pool's acquire wait, the lock wait and the reservation retention have
// safe defaults, and values that would disable them are refused.
func TestDatabaseBounds(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DBAcquireTimeout != 2*time.Second || c.DBLockTimeout != 3*time.Second || c.ReservationRetention != 30*24*time.Hour {
		t.Fatalf("defaults: acquire %s, lock %s, retention %s", c.DBAcquireTimeout, c.DBLockTimeout, c.ReservationRetention)
	}
	c, err = Load(env(map[string]string{"DB_ACQUIRE_TIMEOUT": "250ms", "DB_LOCK_TIMEOUT": "1s", "RESERVATION_RETENTION": "72h"}))
	if err != nil || c.DBAcquireTimeout != 250*time.Millisecond || c.DBLockTimeout != time.Second || c.ReservationRetention != 72*time.Hour {
		t.Fatalf("Load = %+v, %v", c, err)
	}
	if c.EventRetention != 7*24*time.Hour {
		t.Fatalf("EVENT_RETENTION default = %s", c.EventRetention)
	}
	for name, value := range map[string]string{"DB_ACQUIRE_TIMEOUT": "0s", "DB_LOCK_TIMEOUT": "0s", "RESERVATION_RETENTION": "1h", "EVENT_RETENTION": "30m"} {
		if _, err := Load(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: err = %v, want one naming %s", name, value, err, name)
		}
	}
	if _, err := Load(env(map[string]string{"DB_LOCK_TIMEOUT": "20s"})); err == nil {
		t.Error("a lock timeout longer than the request timeout was accepted")
	}
}

// TestDatabaseBoundsFollowAShortRequestTimeout: with REQUEST_TIMEOUT shorter than the default
// bounds, the defaults shrink to fit instead of refusing to start.
func TestDatabaseBoundsFollowAShortRequestTimeout(t *testing.T) {
	c, err := Load(env(map[string]string{"REQUEST_TIMEOUT": "2s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DBAcquireTimeout != 500*time.Millisecond || c.DBLockTimeout != 2*time.Second/3 {
		t.Fatalf("acquire %s, lock %s with a 2s request timeout", c.DBAcquireTimeout, c.DBLockTimeout)
	}
	if _, err := Load(env(map[string]string{"REQUEST_TIMEOUT": "2s", "DB_LOCK_TIMEOUT": "3s"})); err == nil || !strings.Contains(err.Error(), "DB_LOCK_TIMEOUT") {
		t.Fatalf("an explicit lock timeout longer than the request timeout: %v", err)
	}
}

func TestDBStartupTimeout(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Duration
		bad   bool
	}{
		{"", 10 * time.Minute, false},
		{"2s", 2 * time.Second, false},
		{"0s", 0, false}, // one attempt, no waiting
		{"24h", 24 * time.Hour, false},
		{"25h", 0, true},
		{"-1s", 0, true},
		{"soon", 0, true},
	} {
		c, err := Load(env(map[string]string{"DB_STARTUP_TIMEOUT": tc.value}))
		switch {
		case tc.bad && (err == nil || !strings.Contains(err.Error(), "DB_STARTUP_TIMEOUT")):
			t.Errorf("DB_STARTUP_TIMEOUT=%q: err = %v, want one naming the variable", tc.value, err)
		case !tc.bad && err != nil:
			t.Errorf("DB_STARTUP_TIMEOUT=%q: %v", tc.value, err)
		case !tc.bad && c.DBStartupTimeout != tc.want:
			t.Errorf("DB_STARTUP_TIMEOUT=%q: %s, want %s", tc.value, c.DBStartupTimeout, tc.want)
		}
	}
}

func TestRedactedUnparsableURL(t *testing.T) {
	for _, dsn := range []string{
		"postgres://app:Sw0rdfish@host:notaport/db",
		"postgres://app:Sw0rd@fish@host/db",
		"postgres://app:Sw0rdfish@[::1/db",
		"host=h password=Sw0rdfish dbname=x",
		"postgres://app:Sw0rdfish@host:5432/db",
		"postgres://host/db?password=Sw0rdfish&sslmode=require",
		"postgres://app@host/db?password=Sw0rdfish",
		"postgres://app:Sw0rdfish@host:x/db?password=Sw0rdfish",
		"postgres://app:Sw0rd#fish@host/db", // a raw '#', '/' or '?' ends the authority early
		"postgres://app:Sw0rd/fish@host/db",
		"postgres://app:Sw0rd?fish@host/db",
	} {
		if got := Redacted(dsn); strings.Contains(got, "Sw0rd") {
			t.Errorf("Redacted(%q) = %q: the password shows", dsn, got)
		}
	}
}

// FuzzRedactedAnyShape: whatever surrounds it, a password in a connection string never survives
// redaction.
func FuzzRedactedAnyShape(f *testing.F) {
	f.Add("app", "h:5432/db", "Sw0rdfish")
	f.Add("app", "h:x/db", "p@ss:w/rd")
	f.Add("", "[::1/db?sslmode=disable", "secret-pw")
	f.Fuzz(func(t *testing.T, user, rest, password string) {
		// A user name is one URL user-info part; the password and the rest are anything. The
		// marker makes the password text distinct from everything around it.
		password = "Pw!" + password
		if strings.ContainsAny(user, ":@/?#") || strings.Contains(user+rest, "Pw!") {
			return
		}
		for _, dsn := range []string{
			"postgres://" + user + "@" + rest + "?password=" + url.QueryEscape(password),
			"postgres://" + user + ":" + password + "@" + rest,
			"postgresql://" + user + ":" + url.QueryEscape(password) + "@" + rest,
			"host=h user=" + user + " password=" + password + " " + rest,
		} {
			if got := Redacted(dsn); strings.Contains(got, password) {
				t.Fatalf("Redacted(%q) = %q: the password shows", dsn, got)
			}
		}
	})
}

func TestAccessSettings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsPort != 9090 || c.TrustedProxyHops != 1 || c.APIKeysRefresh != time.Minute || c.RateLimitPerIP.Off() || c.RateLimitPerKey.Off() || len(c.CORSAllowedOrigins) != 0 {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = Load(env(map[string]string{"RATE_LIMIT_PER_IP": "off", "CORS_ALLOWED_ORIGINS": " https://a.example.com , https://b.example.com", "METRICS_PORT": "0"}))
	if err != nil || !c.RateLimitPerIP.Off() || len(c.CORSAllowedOrigins) != 2 || c.MetricsPort != 0 {
		t.Fatalf("%+v %v", c, err)
	}
	_, err = Load(env(map[string]string{
		"API_KEYS": "admin:everything:0123456789abcdef0", "API_KEYS_REFRESH": "10ms", "RATE_LIMIT_PER_IP": "lots",
		"RATE_LIMIT_PER_KEY": "5/s", "CORS_ALLOWED_ORIGINS": "*,https://a.example.com", "METRICS_PORT": "8080",
		"TRUSTED_PROXY_HOPS": "-1",
	}))
	for _, name := range []string{"API_KEYS:", "API_KEYS_REFRESH", "RATE_LIMIT_PER_IP", "RATE_LIMIT_PER_KEY", "CORS_ALLOWED_ORIGINS", "METRICS_PORT", "TRUSTED_PROXY_HOPS"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "0123456789abcdef0") {
		t.Errorf("the error shows a key: %v", err)
	}
}

func TestMigrateOnStartAndAppRole(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.MigrateOnStart || c.DBAppRole != "" || c.DBIAMAuth {
		t.Fatalf("defaults: MigrateOnStart %v, DBAppRole %q, DBIAMAuth %v; want true, empty, false", c.MigrateOnStart, c.DBAppRole, c.DBIAMAuth)
	}
	c, err = Load(env(map[string]string{"DATABASE_URL": "postgres://owner@h/db", "MIGRATE_ON_START": "false",
		"DB_APP_ROLE": "catalog_app", "DB_APP_ROLE_PASSWORD": "s3cret pw"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MigrateOnStart || c.DBAppRole != "catalog_app" || c.DBAppRolePassword != "s3cret pw" || c.DBAppRoleIAM {
		t.Fatalf("got MigrateOnStart %v, role %q, password %q, IAM %v", c.MigrateOnStart, c.DBAppRole, c.DBAppRolePassword, c.DBAppRoleIAM)
	}
	if _, err := Load(env(map[string]string{"DATABASE_URL": "postgres://owner@h/db", "DB_APP_ROLE": "app", "DB_APP_ROLE_IAM": "true"})); err != nil {
		t.Fatalf("DB_APP_ROLE_IAM=true: %v", err)
	}
}

func TestAppRoleRefusals(t *testing.T) {
	pg := "postgres://owner@h/db"
	for _, tc := range []struct {
		env  map[string]string
		name string // the variable the error must name
		rule string // and a word of its rule
	}{
		{map[string]string{"DATABASE_URL": pg, "DB_APP_ROLE": "Catalog"}, "DB_APP_ROLE", "lower-case"},
		{map[string]string{"DATABASE_URL": pg, "DB_APP_ROLE": "app; DROP TABLE products"}, "DB_APP_ROLE", "identifier"},
		{map[string]string{"DATABASE_URL": pg, "DB_APP_ROLE": `app"x`}, "DB_APP_ROLE", "identifier"},
		{map[string]string{"DATABASE_URL": pg, "DB_APP_ROLE": "1app"}, "DB_APP_ROLE", "digit"},
		{map[string]string{"DATABASE_URL": pg, "DB_APP_ROLE": strings.Repeat("a", 64)}, "DB_APP_ROLE", "63"},
		{map[string]string{"DATABASE_URL": pg, "DB_APP_ROLE": "pg_app"}, "DB_APP_ROLE", "pg_"},
		{map[string]string{"DATABASE_URL": pg, "DB_APP_ROLE": "public"}, "DB_APP_ROLE", "reserves"},
		{map[string]string{"DB_APP_ROLE": "app"}, "DB_APP_ROLE", "PostgreSQL"},
		{map[string]string{"DATABASE_URL": pg, "DB_APP_ROLE_PASSWORD": "x"}, "DB_APP_ROLE_PASSWORD", "needs DB_APP_ROLE"},
		{map[string]string{"DATABASE_URL": pg, "DB_APP_ROLE_IAM": "true"}, "DB_APP_ROLE_IAM", "needs DB_APP_ROLE"},
		{map[string]string{"DATABASE_URL": pg, "DB_APP_ROLE": "app", "DB_APP_ROLE_IAM": "yes please"}, "DB_APP_ROLE_IAM", "true or false"},
		{map[string]string{"DATABASE_URL": pg, "DB_APP_ROLE": "app", "DB_APP_ROLE_IAM": "true", "DB_APP_ROLE_PASSWORD": "x"}, "DB_APP_ROLE_PASSWORD", "rds_iam"},
		{map[string]string{"DATABASE_URL": pg, "DB_APP_ROLE": "app", "DB_APP_ROLE_PASSWORD": "pässword"}, "DB_APP_ROLE_PASSWORD", "printable ASCII"},
		{map[string]string{"DATABASE_URL": pg, "DB_APP_ROLE": "app", "DB_APP_ROLE_PASSWORD": "pw\x00"}, "DB_APP_ROLE_PASSWORD", "printable ASCII"},
		{map[string]string{"DATABASE_URL": pg, "MIGRATE_ON_START": "sometimes"}, "MIGRATE_ON_START", "true or false"},
	} {
		_, err := Load(env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.name+":") || !strings.Contains(err.Error(), tc.rule) {
			t.Errorf("Load(%v) = %v, want an error naming %s and %q", tc.env, err, tc.name, tc.rule)
		}
	}
}

func TestIAMAuth(t *testing.T) {
	c, err := Load(env(map[string]string{"DB_HOST": "writer.example", "DB_USER": "catalog_app", "DB_IAM_AUTH": "true",
		"DB_SSLMODE": "verify-full", "DB_SSLROOTCERT": "rds"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.DBIAMAuth || strings.Contains(c.DatabaseURL, ":@") {
		t.Fatalf("DBIAMAuth %v, url %s", c.DBIAMAuth, c.DatabaseURL)
	}
	for _, mode := range []string{"require", "verify-ca", "verify-full"} {
		if _, err := Load(env(map[string]string{"DATABASE_URL": "postgres://app@h/db?sslmode=" + mode, "DB_IAM_AUTH": "true"})); err != nil {
			t.Errorf("DATABASE_URL with sslmode=%s: %v", mode, err)
		}
	}
	for _, tc := range []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"DB_HOST": "h", "DB_USER": "app", "DB_IAM_AUTH": "true"}, "DB_SSLMODE"}, // prefer may fall back to plain text
		{map[string]string{"DB_HOST": "h", "DB_USER": "app", "DB_IAM_AUTH": "true", "DB_SSLMODE": "allow"}, "DB_SSLMODE"},
		{map[string]string{"DB_HOST": "h", "DB_USER": "app", "DB_IAM_AUTH": "true", "DB_SSLMODE": "disable"}, "DB_SSLMODE"},
		{map[string]string{"DB_HOST": "h", "DB_USER": "app", "DB_IAM_AUTH": "true", "DB_SSLMODE": "require", "DB_PASSWORD": "pw"}, "DB_PASSWORD"},
		{map[string]string{"DB_HOST": "h", "DB_USER": "app", "DB_IAM_AUTH": "true", "DB_SSLMODE": "require", "DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"}, "DB_SECRET_ARN"},
		{map[string]string{"DB_HOST": "h", "DB_IAM_AUTH": "true", "DB_SSLMODE": "require"}, "DB_USER"},
		{map[string]string{"DATABASE_URL": "postgres://app@h/db?sslmode=prefer", "DB_IAM_AUTH": "true"}, "DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "host=h user=app sslmode=disable", "DB_IAM_AUTH": "true"}, "DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "postgres://app:pw@h/db?sslmode=require", "DB_IAM_AUTH": "true"}, "DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "postgres://app@h/db?sslmode=require&password=pw", "DB_IAM_AUTH": "true"}, "DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "host=h user=app password=pw sslmode=require", "DB_IAM_AUTH": "true"}, "DATABASE_URL"},
		{map[string]string{"DB_IAM_AUTH": "true"}, "DB_IAM_AUTH"},
	} {
		_, err := Load(env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.name+":") {
			t.Errorf("Load(%v) = %v, want an error naming %s", tc.env, err, tc.name)
		}
	}
}

// FuzzAppRoleName: whatever DB_APP_ROLE holds, Load either refuses it naming the variable or
// accepts a name that SQL needs no escaping for and PostgreSQL keeps as it is (lower case, at
// most 63 bytes, not reserved), so the role created is the role named.
func FuzzAppRoleName(f *testing.F) {
	for _, s := range []string{"catalog_app", "app", "_x", "Catalog", "pg_x", "public", `a"b`, "a;b", "é", strings.Repeat("a", 63), strings.Repeat("a", 64), "a b", "1a", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://owner@h/db", "DB_APP_ROLE": name}))
		if err != nil {
			if !strings.Contains(err.Error(), "DB_APP_ROLE:") {
				t.Fatalf("Load(DB_APP_ROLE=%q) = %v, which does not name DB_APP_ROLE", name, err)
			}
			return
		}
		got := c.DBAppRole
		if got == "" {
			return // blank: no app role
		}
		if len(got) > 63 || strings.HasPrefix(got, "pg_") || got == "public" || got == "none" {
			t.Fatalf("accepted %q", got)
		}
		for i, r := range got {
			if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && r >= '0' && r <= '9') {
				t.Fatalf("accepted %q, whose %q needs quoting or folds", got, r)
			}
		}
	})
}

// TestWebhookSettings: the allow-list parses CIDRs and single addresses, the defaults hold, and
// each bad value is refused naming its variable.
func TestWebhookSettings(t *testing.T) {
	c, err := Load(env(map[string]string{"WEBHOOK_ALLOW": "127.0.0.1/32, 10.1.0.0/16,::1"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.WebhookAllow); got != "[127.0.0.1/32 10.1.0.0/16 ::1/128]" {
		t.Errorf("WEBHOOK_ALLOW = %s", got)
	}
	if c.WebhookLogRetention != 7*24*time.Hour || c.WebhookTimeout != 10*time.Second {
		t.Errorf("defaults: log retention %s, timeout %s", c.WebhookLogRetention, c.WebhookTimeout)
	}
	for name, value := range map[string]string{"WEBHOOK_ALLOW": "10.0.0.0/33", "WEBHOOK_LOG_RETENTION": "5m", "WEBHOOK_TIMEOUT": "2m"} {
		if _, err := Load(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: err = %v, want one naming %s", name, value, err, name)
		}
	}
}

// TestImportJobRetention: finished import jobs are kept 7 days unless IMPORT_JOB_RETENTION
// says otherwise; under an hour is refused, naming the variable.
func TestImportJobRetention(t *testing.T) {
	c, err := Load(env(map[string]string{}))
	if err != nil || c.ImportJobRetention != 7*24*time.Hour {
		t.Fatalf("default = %s, %v; want 168h", c.ImportJobRetention, err)
	}
	if c, err := Load(env(map[string]string{"IMPORT_JOB_RETENTION": "720h"})); err != nil || c.ImportJobRetention != 720*time.Hour {
		t.Errorf("IMPORT_JOB_RETENTION=720h: %s, %v", c.ImportJobRetention, err)
	}
	for _, v := range []string{"10m", "-1h", "soon"} {
		if _, err := Load(env(map[string]string{"IMPORT_JOB_RETENTION": v})); err == nil || !strings.Contains(err.Error(), "IMPORT_JOB_RETENTION") {
			t.Errorf("IMPORT_JOB_RETENTION=%s: err = %v, want one naming the variable", v, err)
		}
	}
}

// TestEventBus: the relay is off without EVENT_BUS_NAME; EVENT_SOURCE defaults to catalog;
// names PutEvents would refuse stop the service at start, naming the variable.
func TestEventBus(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.EventBusName != "" || c.EventSource != "catalog" || c.EventBusStart != catalog.FeedStartHead || c.EventBusConcurrency != 1 {
		t.Fatalf("defaults: bus %q, source %q, start %v", c.EventBusName, c.EventSource, c.EventBusStart)
	}
	c, err = Load(env(map[string]string{"EVENT_BUS_NAME": "arn:aws:events:eu-west-1:123456789012:event-bus/catalog-prod",
		"EVENT_SOURCE": "com.acme.catalog", "EVENT_BUS_START": "oldest"}))
	if err != nil || c.EventBusName != "arn:aws:events:eu-west-1:123456789012:event-bus/catalog-prod" ||
		c.EventSource != "com.acme.catalog" || c.EventBusStart != catalog.FeedStartOldest {
		t.Fatalf("Load = %+v, %v", c, err)
	}
	for name, value := range map[string]string{"EVENT_BUS_NAME": "my bus", "EVENT_SOURCE": "aws.catalog", "EVENT_BUS_START": "beginning", "EVENT_BUS_CONCURRENCY": "11"} {
		if _, err := Load(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: err = %v, want one naming %s", name, value, err, name)
		}
	}
}

// TestImportParallel: two batches at once unless IMPORT_PARALLEL says otherwise, within 1-8.
func TestImportParallel(t *testing.T) {
	if c, err := Load(env(nil)); err != nil || c.ImportParallel != 2 {
		t.Fatalf("default = %d, %v; want 2", c.ImportParallel, err)
	}
	if c, err := Load(env(map[string]string{"IMPORT_PARALLEL": "4"})); err != nil || c.ImportParallel != 4 {
		t.Errorf("IMPORT_PARALLEL=4: %d, %v", c.ImportParallel, err)
	}
	for _, v := range []string{"0", "9", "-1", "two"} {
		if _, err := Load(env(map[string]string{"IMPORT_PARALLEL": v})); err == nil || !strings.Contains(err.Error(), "IMPORT_PARALLEL") {
			t.Errorf("IMPORT_PARALLEL=%s: err = %v, want one naming the variable", v, err)
		}
	}
}
