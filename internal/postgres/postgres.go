// Package postgres is the production catalog store: PostgreSQL (Aurora PostgreSQL in AWS)
// through a pgx connection pool.
package postgres

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded migrations.
func Migrations() ([]migrate.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return migrate.Load(sub)
}

// Options configure a Store. The zero value works.
type Options struct {
	// Clock is the store's time source; tests move it forward.
	Clock catalog.Clock
	// MaxConns bounds the pool; 0 keeps pgx's default (4, or the pool_max_conns URL parameter).
	MaxConns int32
	// MaxConnLifetime is how old a connection may get before the pool closes it on release
	// (never mid-query) and makes a new one when needed; 0 keeps 30 minutes.
	MaxConnLifetime time.Duration
	// SkipMigrate opens the store without migrating (the schema is managed separately).
	SkipMigrate bool
	// Configure, when set, adjusts the pool configuration before the pool is made.
	Configure func(*pgxpool.Config) error
	// Credentials, when set, supply the user and password for every new connection, so a
	// rotated password is picked up without a restart.
	Credentials Credentials
	// AcquireTimeout bounds the wait for a free pooled connection (0: 2s). Past it the store
	// answers unavailable: with every connection held by requests queued on a locked row, an
	// unrelated read fails fast instead of waiting out its request's deadline.
	AcquireTimeout time.Duration
	// LockTimeout bounds every statement's wait for a lock (PostgreSQL lock_timeout; 0: 3s). A
	// wait past it is retried once, then answered as unavailable.
	LockTimeout time.Duration
	// AuthTokens, when set, supply a fresh token as the password of every new connection (RDS
	// IAM database authentication). A token is checked only when a connection is made, so a
	// connection outlives its token's 15 minutes; MaxConnLifetime still replaces it in time.
	AuthTokens TokenSource
	// RootCAs, when set, verify the server's certificate instead of the connection string's
	// sslrootcert (the Amazon RDS bundle embedded in the binary, for example).
	RootCAs *x509.CertPool
	// EventSource is the CloudEvents source stamped on the feed's events (EVENT_SOURCE); empty
	// means catalog.DefaultEventSource.
	EventSource string
	// FacetBudget is how many products a facet count reads at most (FACET_BUDGET): a larger
	// selection is counted on a sample of that many, its counts scaled and marked inexact.
	// 0 means DefaultFacetBudget; negative counts every product (always exact).
	FacetBudget int
}

// Credentials supply database credentials at connect time.
type Credentials interface {
	// Current returns the user ("" keeps the connection string's) and password to connect with.
	Current(ctx context.Context) (user, password string, err error)
	// Rejected says the server refused password ("" when unknown); the source fetches it
	// again unless it has already moved on from that password.
	Rejected(ctx context.Context, password string) error
}

// TokenSource issues the authentication tokens connections use as passwords.
type TokenSource interface {
	// AuthToken returns a token that lets user connect to endpoint (host:port).
	AuthToken(ctx context.Context, endpoint, user string) (string, error)
}

// Store is a catalog.Store on PostgreSQL.
type Store struct {
	pool           *pgxpool.Pool
	clock          catalog.Clock
	creds          Credentials
	stats          searchStats
	acquireTimeout time.Duration
	// source is the events' CloudEvents source, stamped when the feed is read (not stored).
	source string
	// facetBudget is Options.FacetBudget with its default applied (<= 0: no budget).
	facetBudget int
}

// Defaults of the waits Options bound.
const (
	DefaultAcquireTimeout = 2 * time.Second
	DefaultLockTimeout    = 3 * time.Second
)

var _ catalog.Store = (*Store)(nil)

// Open connects to the database at connString (a URL or key=value DSN), migrates it unless told
// not to, and returns the store. Migrating needs the database, so Open fails when it is down;
// internal/app retries it at start (see Permanent). With SkipMigrate the pool connects lazily.
func Open(ctx context.Context, connString string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		// The driver's message quotes the string, its redaction best effort: where a parse gave
		// up says nothing about where the password ended. Show none of it.
		return nil, errors.New("the database connection string does not parse: in a URL, percent-encode " +
			"any / @ : ? # % or space in the user name or password (postgres://user:p%40ss@host/db); " +
			"in key=value form, single-quote values with spaces")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.MaxConnLifetime = 30 * time.Minute
	if opts.MaxConnLifetime > 0 {
		cfg.MaxConnLifetime = opts.MaxConnLifetime
	}
	// Jitter keeps connections made together from all expiring together.
	cfg.MaxConnLifetimeJitter = cfg.MaxConnLifetime / 6
	cfg.HealthCheckPeriod = 15 * time.Second
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	lockTimeout := cmp.Or(opts.LockTimeout, DefaultLockTimeout)
	cfg.ConnConfig.RuntimeParams["lock_timeout"] = strconv.FormatInt(max(lockTimeout.Milliseconds(), 1), 10)
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "catalog"
	}
	if opts.Credentials != nil && opts.AuthTokens != nil {
		return nil, errors.New("database credentials come either from a secret or from IAM authentication tokens, not both")
	}
	if opts.AuthTokens != nil {
		// BeforeConnect runs for every new connection of the pool (pgx's hook for per-connection
		// passwords), so each one signs in with a token made for it.
		tokens := opts.AuthTokens
		cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
			tok, err := tokens.AuthToken(ctx, net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))), cc.User)
			if err != nil {
				return fmt.Errorf("database authentication token: %w", err)
			}
			cc.Password = tok
			return nil
		}
	}
	if opts.Credentials != nil {
		creds := opts.Credentials
		cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
			user, password, err := creds.Current(ctx)
			if err != nil {
				return fmt.Errorf("database credentials: %w", err)
			}
			if user != "" {
				cc.User = user
			}
			cc.Password = password
			return nil
		}
	}
	if opts.RootCAs != nil {
		if err := useRootCAs(cfg.ConnConfig, opts.RootCAs); err != nil {
			return nil, err
		}
	}
	if opts.Configure != nil {
		if err := opts.Configure(cfg); err != nil {
			return nil, err
		}
	}
	// Each new connection's codecs: faster JSON decoding, []string IDs sent as binary uuid[].
	configureTypes := func(ctx context.Context, c *pgx.Conn) error {
		if err := decodeJSONFaster(ctx, c); err != nil {
			return err
		}
		return sendUUIDStringsBinary(ctx, c)
	}
	if then := cfg.AfterConnect; then != nil {
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			if err := configureTypes(ctx, c); err != nil {
				return err
			}
			return then(ctx, c)
		}
	} else {
		cfg.AfterConnect = configureTypes
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create database pool: %w", err)
	}
	s := &Store{pool: pool, clock: opts.Clock, creds: opts.Credentials, acquireTimeout: cmp.Or(opts.AcquireTimeout, DefaultAcquireTimeout),
		source: cmp.Or(opts.EventSource, catalog.DefaultEventSource), facetBudget: cmp.Or(opts.FacetBudget, DefaultFacetBudget)}
	if !opts.SkipMigrate {
		if err := s.Migrate(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return s, nil
}

// Pool exposes the pool for metrics.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that a connection can be had and answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.read(ctx, func(c *pgxpool.Conn) error { return c.Ping(ctx) })
}

// migrationLock is the advisory lock key that serialises migrations across instances.
const migrationLock int64 = 0x636174616c6f67 // "catalog"

// Migrate applies the embedded migrations the database lacks, each in its own transaction,
// holding a session advisory lock so instances starting together migrate once: the first
// applies, the others wait and then find nothing to do.
func (s *Store) Migrate(ctx context.Context) error {
	err := s.migrate(ctx)
	if sqlState(err) == insufficientPrivilege {
		// Most likely the service connected as the app role and still migrates at start.
		return fmt.Errorf("the database role may not change the schema (an app role? run catalog migrate as the owner and serve as this role with MIGRATE_ON_START=false): %w", err)
	}
	return err
}

func (s *Store) migrate(ctx context.Context) error {
	known, err := Migrations()
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", storeError(ctx, err))
	}
	defer conn.Release()
	// Migrations wait for their locks as long as they must (other tasks migrating, DDL behind
	// long reads); the session's lock_timeout is for requests.
	if _, err := conn.Exec(ctx, `SET lock_timeout = 0`); err != nil {
		return fmt.Errorf("migrate: %w", storeError(ctx, err))
	}
	defer conn.Exec(context.WithoutCancel(ctx), `RESET lock_timeout`)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migrate: take lock: %w", storeError(ctx, err))
	}
	defer func() {
		// A lock left behind would block the next deploy's migration, so unlock with a fresh
		// context even if ctx is done; if that fails, drop the connection, which releases it.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, migrationLock); err != nil {
			_ = conn.Conn().Close(uctx)
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT version, checksum FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (migrate.Applied, error) {
		var a migrate.Applied
		return a, r.Scan(&a.Version, &a.Checksum)
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	pending, _, err := migrate.Plan(known, applied)
	if err != nil {
		return err
	}
	for _, m := range pending {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`,
				m.Version, m.Name, m.Checksum)
			return err
		})
		if err != nil {
			return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// AppliedMigrations returns how many migrations the database records, for tests and the
// migrate subcommand's report.
func (s *Store) AppliedMigrations(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n)
	return n, storeError(ctx, err)
}

// maxAttempts bounds retries of a transaction that lost a serialization race or a deadlock;
// maxLockWaits bounds how many lock timeouts one call sits through before it answers
// unavailable, so a request waits at most about twice the lock timeout for a busy row.
const (
	maxAttempts  = 8
	maxLockWaits = 2
)

// acquire takes a pooled connection. When every connection is in use it waits at most the
// acquire timeout for one to be released, then answers unavailable (503 with Retry-After).
// When the pool still has room, the wait is for a new connection to be made, which the
// connect timeout bounds: a slow handshake (a busy server, a password rotation) is not
// starvation and is not cut short.
func (s *Store) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	if st := s.pool.Stat(); st.TotalConns() < st.MaxConns() {
		return s.pool.Acquire(ctx)
	}
	actx, cancel := context.WithTimeout(ctx, s.acquireTimeout)
	defer cancel()
	conn, err := s.pool.Acquire(actx)
	if err != nil && ctx.Err() == nil && actx.Err() != nil {
		return nil, catalog.Wrap(catalog.CodeUnavailable, fmt.Errorf("no free database connection within %s: %w", s.acquireTimeout, err),
			"no database connection became free in time; retry shortly")
	}
	return conn, err
}

// conn runs fn on a pooled connection taken with acquire's bound.
func (s *Store) conn(ctx context.Context, fn func(c *pgxpool.Conn) error) error {
	c, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return fn(c)
}

// retry runs fn, the whole of one write, until it succeeds or fails for a reason that running
// it again cannot fix. Every write path goes through it (tx does), so none answers a deadlock,
// a serialization failure or a lock timeout it could have survived. Between attempts it backs
// off briefly, with jitter, so the transactions that collided do not collide again.
func (s *Store) retry(ctx context.Context, fn func() error) error {
	lockWaits := 0
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if s.creds != nil && authFailure(err) && attempt < maxAttempts {
			// The password changed under us (a rotation): fetch it again and reconnect.
			if rerr := s.creds.Rejected(ctx, refusedPassword(err)); rerr != nil {
				return storeError(ctx, errors.Join(err, rerr))
			}
			continue
		}
		if sqlState(err) == lockNotAvailable {
			lockWaits++
			if lockWaits >= maxLockWaits {
				return storeError(ctx, err)
			}
		}
		if !retryable(err) || attempt == maxAttempts {
			return storeError(ctx, err)
		}
		backoff := time.Duration(attempt*attempt)*time.Millisecond + time.Duration(rand.Int64N(int64(2*time.Millisecond*time.Duration(attempt))))
		select {
		case <-ctx.Done():
			return storeError(ctx, errors.Join(ctx.Err(), err))
		case <-time.After(backoff):
		}
	}
}

// tx runs fn in a transaction and commits it, through retry.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.retry(ctx, func() error {
		return s.conn(ctx, func(c *pgxpool.Conn) error { return pgx.BeginFunc(ctx, c, fn) })
	})
}

// read runs a read on a connection taken with acquire's bound, retried once with fresh
// credentials if the password was rotated, and classifies its error.
func (s *Store) read(ctx context.Context, fn func(c *pgxpool.Conn) error) error {
	return storeError(ctx, s.withAuthRetry(ctx, func() error { return s.conn(ctx, fn) }))
}

// withAuthRetry runs fn once more, with freshly fetched credentials, when the server rejected
// the password: after a rotation the first new connection fails, its retry succeeds, and the
// request never sees the difference.
func (s *Store) withAuthRetry(ctx context.Context, fn func() error) error {
	err := fn()
	if s.creds != nil && authFailure(err) {
		if rerr := s.creds.Rejected(ctx, refusedPassword(err)); rerr != nil {
			return errors.Join(err, rerr)
		}
		err = fn()
	}
	return err
}

// useRootCAs makes every TLS connection (the primary and its fallbacks) verify the server
// against pool. verify-full also checks the host name; verify-ca only the chain.
func useRootCAs(cc *pgx.ConnConfig, pool *x509.CertPool) error {
	configs := []*tls.Config{cc.TLSConfig}
	for _, fb := range cc.Fallbacks {
		configs = append(configs, fb.TLSConfig)
	}
	n := 0
	for _, t := range configs {
		if t == nil {
			continue
		}
		t.RootCAs = pool
		n++
	}
	if n == 0 {
		return fmt.Errorf("a CA bundle was given but the connection does not use TLS: set sslmode=verify-full")
	}
	return nil
}
