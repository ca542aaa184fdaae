package app

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"

	"github.com/acme/catalog/internal/awssecrets"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/rdsca"
)

// jitter is the random draw for Backoff; a variable so tests could pin it.
var jitter = rand.Float64

// OpenStore opens the store cfg names in one attempt, without waiting for the database: for the
// migrate and seed commands, which an operator runs and watches.
func OpenStore(ctx context.Context, cfg config.Config, log *slog.Logger) (catalog.Store, error) {
	if cfg.DatabaseURL == "" {
		return openSQLite(ctx, config.Config{DataDir: cfg.DataDir}, log)
	}
	opts, err := postgresOptions(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s, err := postgres.Open(ctx, cfg.DatabaseURL, opts)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", postgres.Target(cfg.DatabaseURL), err)
	}
	return s, nil
}

// postgresOptions turns the configuration into store options, checking what no retry fixes: the
// connection string's syntax, the embedded RDS CA bundle, a CA bundle without TLS, the AWS
// configuration for Secrets Manager.
func postgresOptions(ctx context.Context, cfg config.Config) (postgres.Options, error) {
	opts := postgres.Options{MaxConns: cfg.DBMaxConns, MaxConnLifetime: cfg.DBConnMaxLifetime,
		AcquireTimeout: cfg.DBAcquireTimeout, LockTimeout: cfg.DBLockTimeout}
	if cfg.DBRootCA == "rds" {
		pool, err := rdsca.Pool()
		if err != nil {
			return opts, fmt.Errorf("the embedded RDS CA bundle: %w", err)
		}
		opts.RootCAs = pool
	}
	if cfg.DBSecretARN != "" {
		creds, err := awssecrets.NewFromEnvironment(ctx, cfg.DBSecretARN)
		if err != nil {
			return opts, fmt.Errorf("DB_SECRET_ARN: %w", err)
		}
		opts.Credentials = creds
	}
	if err := postgres.CheckConfig(cfg.DatabaseURL, opts); err != nil {
		return opts, fmt.Errorf("database %s: %w", config.Redacted(cfg.DatabaseURL), err)
	}
	return opts, nil
}
