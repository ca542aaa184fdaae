// Package postgres is the production catalog store: PostgreSQL (Aurora PostgreSQL in AWS)
// through a pgx connection pool.
package postgres

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"embed"
	"errors"
	"fmt"
	"io/fs"
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
	// RootCAs, when set, verify the server's certificate instead of the connection string's
	// sslrootcert (the Amazon RDS bundle embedded in the binary, for example).
	RootCAs *x509.CertPool
}

// Credentials supply database credentials at connect time.
type Credentials interface {
	// Current returns the user ("" keeps the connection string's) and password to connect with.
	Current(ctx context.Context) (user, password string, err error)
	// Rejected says the server refused the current password; the source fetches it again.
	Rejected(ctx context.Context) error
}

// Store is a catalog.Store on PostgreSQL.
type Store struct {
	pool  *pgxpool.Pool
	clock catalog.Clock
	creds Credentials
	stats searchStats
}

var _ catalog.Store = (*Store)(nil)

// Open connects to the database at connString (a URL or key=value DSN), migrates it unless told
// not to, and returns the store. Migrating needs the database, so Open fails when it is down;
// internal/app retries it at start (see Permanent). With SkipMigrate the pool connects lazily.
func Open(ctx context.Context, connString string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
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
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "catalog"
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
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create database pool: %w", err)
	}
	s := &Store{pool: pool, clock: opts.Clock, creds: opts.Credentials}
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
	return storeError(ctx, s.withAuthRetry(ctx, func() error { return s.pool.Ping(ctx) }))
}

// migrationLock is the advisory lock key that serialises migrations across instances.
const migrationLock int64 = 0x636174616c6f67 // "catalog"

// Migrate applies the embedded migrations the database lacks, each in its own transaction,
// holding a session advisory lock so instances starting together migrate once: the first
// applies, the others wait and then find nothing to do.
func (s *Store) Migrate(ctx context.Context) error {
	known, err := Migrations()
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", storeError(ctx, err))
	}
	defer conn.Release()
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

// maxAttempts bounds retries of a transaction that lost a serialization race or a deadlock.
const maxAttempts = 8

// tx runs fn in a transaction and commits it. A serialization failure or deadlock is retried
// with a short jittered backoff, so callers never see one.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, fn)
		if err == nil {
			return nil
		}
		if s.creds != nil && authFailure(err) && attempt < maxAttempts {
			// The password changed under us (a rotation): fetch it again and reconnect.
			if rerr := s.creds.Rejected(ctx); rerr != nil {
				return storeError(ctx, errors.Join(err, rerr))
			}
			continue
		}
		if !retryable(err) || attempt == maxAttempts {
			return storeError(ctx, err)
		}
		backoff := time.Duration(attempt*attempt) * time.Millisecond * time.Duration(1+time.Now().UnixNano()%3)
		select {
		case <-ctx.Done():
			return storeError(ctx, errors.Join(ctx.Err(), err))
		case <-time.After(backoff):
		}
	}
}

// withAuthRetry runs fn once more, with freshly fetched credentials, when the server rejected
// the password: after a rotation the first new connection fails, its retry succeeds, and the
// request never sees the difference.
func (s *Store) withAuthRetry(ctx context.Context, fn func() error) error {
	err := fn()
	if s.creds != nil && authFailure(err) {
		if rerr := s.creds.Rejected(ctx); rerr != nil {
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
