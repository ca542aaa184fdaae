package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/postgres"
)

// MigrateReport says what Migrate did.
type MigrateReport struct {
	// Store is "sqlite" or "postgres"; Target names the PostgreSQL database (no password).
	Store, Target string
	// Applied is how many migrations the database records (PostgreSQL), all of them now.
	Applied int
	// AppRole is set when DB_APP_ROLE was.
	AppRole *postgres.AppRoleReport
}

// Migrate is `catalog migrate`: one attempt to apply the pending migrations as the owner
// (whatever DATABASE_URL, DB_HOST and friends or DB_SECRET_ARN say), then, with DB_APP_ROLE,
// to make that role the service's least-privileged application role. It runs whatever
// MIGRATE_ON_START says, since migrating is its whole purpose. log may be nil.
func Migrate(ctx context.Context, cfg config.Config, log *slog.Logger) (MigrateReport, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.DatabaseURL == "" {
		s, err := openSQLite(ctx, config.Config{DataDir: cfg.DataDir}, log)
		if err != nil {
			return MigrateReport{Store: "sqlite"}, err
		}
		return MigrateReport{Store: "sqlite"}, s.Close()
	}
	rep := MigrateReport{Store: "postgres", Target: postgres.Target(cfg.DatabaseURL)}
	opts, err := postgresOptions(ctx, cfg, nil)
	if err != nil {
		return rep, err
	}
	opts.SkipMigrate = false
	opts.MaxConns = 1 // one session: the migrations, then the grants
	s, err := postgres.Open(ctx, cfg.DatabaseURL, opts)
	if err != nil {
		return rep, fmt.Errorf("database %s: %w", rep.Target, err)
	}
	defer s.Close()
	if rep.Applied, err = s.AppliedMigrations(ctx); err != nil {
		return rep, fmt.Errorf("database %s: %w", rep.Target, err)
	}
	if cfg.DBAppRole == "" {
		return rep, nil
	}
	role, err := s.EnsureAppRole(ctx, postgres.AppRole{Name: cfg.DBAppRole, Password: cfg.DBAppRolePassword, IAM: cfg.DBAppRoleIAM})
	if err != nil {
		return rep, fmt.Errorf("database %s: %w", rep.Target, err)
	}
	rep.AppRole = &role
	return rep, nil
}
