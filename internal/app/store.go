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
	"github.com/acme/catalog/internal/rdsiam"
)

// jitter is the random draw for Backoff; a variable so tests could pin it.
var jitter = rand.Float64

// OpenStore opens the store cfg names in one attempt, without waiting for the database: for the
// seed command, which an operator runs and watches. With MIGRATE_ON_START=false it runs no DDL
// (it may be connected as the app role) and fails unless the schema is current.
func OpenStore(ctx context.Context, cfg config.Config, log *slog.Logger) (catalog.Store, error) {
	if cfg.DatabaseURL == "" {
		return openSQLite(ctx, config.Config{DataDir: cfg.DataDir, EventSource: cfg.EventSource}, log)
	}
	opts, err := postgresOptions(ctx, cfg, nil)
	if err != nil {
		return nil, err
	}
	s, err := postgres.Open(ctx, cfg.DatabaseURL, opts)
	if err == nil && opts.SkipMigrate {
		if _, err = s.CheckSchema(ctx); err != nil {
			s.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", postgres.Target(cfg.DatabaseURL), err)
	}
	return s, nil
}

// postgresOptions turns the configuration into store options, checking what no retry fixes: the
// connection string's syntax, the embedded RDS CA bundle, a CA bundle without TLS, the AWS
// configuration for Secrets Manager and IAM tokens. tokens, when set, replaces the IAM token
// signer DB_IAM_AUTH=true makes (tests).
func postgresOptions(ctx context.Context, cfg config.Config, tokens postgres.TokenSource) (postgres.Options, error) {
	opts := postgres.Options{MaxConns: cfg.DBMaxConns, MaxConnLifetime: cfg.DBConnMaxLifetime,
		AcquireTimeout: cfg.DBAcquireTimeout, LockTimeout: cfg.DBLockTimeout, SkipMigrate: !cfg.MigrateOnStart,
		EventSource: cfg.EventSource, FacetBudget: cfg.FacetBudget}
	if cfg.FacetBudget == 0 {
		opts.FacetBudget = -1 // FACET_BUDGET=0: always exact
	}
	if cfg.DBIAMAuth {
		if tokens == nil {
			t, err := rdsiam.NewFromEnvironment(ctx)
			if err != nil {
				return opts, fmt.Errorf("DB_IAM_AUTH: %w", err)
			}
			tokens = t
		}
		opts.AuthTokens = tokens
	}
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
