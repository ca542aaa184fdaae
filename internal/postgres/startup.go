package postgres

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/migrate"
)

// CheckConfig reports the mistakes in connString and opts that Open would fail on whatever the
// database's state: a malformed connection string, or a CA bundle for a connection without
// TLS. It does not connect.
func CheckConfig(connString string, opts Options) error {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return fmt.Errorf("parse database URL: %w", err)
	}
	if opts.RootCAs != nil {
		return useRootCAs(cfg.ConnConfig, opts.RootCAs)
	}
	return nil
}

// Target names the database connString points at, for messages: host:port/database and the
// user, never the password.
func Target(connString string) string {
	cfg, err := pgconn.ParseConfig(connString)
	if err != nil {
		return "(an unparsable connection string)"
	}
	return fmt.Sprintf("%s/%s (user %s)", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), cfg.Database, cfg.User)
}

// Permanent reports whether an error from Open is one that trying again will not fix, so a
// service waiting for its database at start should give up at once: an applied migration that
// was edited, a server certificate the configured CAs do not vouch for, a database that does
// not exist, a migration the server refuses (syntax, privileges, data), or a password the
// server refused when it is static (freshCredentials false). Credentials read from Secrets
// Manager are fetched again on every attempt, and a rotation in progress settles within
// seconds, so their refusal is retried. Everything else (no route, no DNS name yet, refused
// connections, a server starting up or shutting down, too many connections, timeouts) is
// transient: the first deploy creates the database while the service starts. So is a schema
// behind the binary (*SchemaBehindError) when the service does not migrate: the migrate task
// brings it.
func Permanent(err error, freshCredentials bool) bool {
	var (
		changed   *migrate.ChangedError
		parse     *pgconn.ParseConfigError
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	var behind *SchemaBehindError
	if errors.As(err, &behind) {
		// The migrate task has not run yet (or not granted yet): it will.
		return false
	}
	if errors.As(err, &changed) || errors.As(err, &parse) || errors.As(err, &unknownCA) ||
		errors.As(err, &hostname) || errors.As(err, &invalid) {
		return true
	}
	code := sqlState(err)
	switch {
	case code == invalidPassword, code == invalidAuthorization:
		return !freshCredentials
	case code == "3D000": // invalid_catalog_name: the database named does not exist
		return true
	case strings.HasPrefix(code, "42"), strings.HasPrefix(code, "22"), strings.HasPrefix(code, "23"),
		strings.HasPrefix(code, "0A"):
		// A migration the server rejects: syntax, privileges, data or an unsupported feature.
		return true
	}
	return false
}

// SchemaBehindError says the database lacks migrations this binary needs, or the version
// cannot be read yet: with MIGRATE_ON_START=false the service waits for `catalog migrate`,
// which the deploy runs first, so this is transient until DB_STARTUP_TIMEOUT.
type SchemaBehindError struct {
	// Missing are the migrations the database lacks (all of them when it has none).
	Missing []migrate.Migration
	// Reason, when the version could not be read, says why.
	Reason string
}

func (e *SchemaBehindError) Error() string {
	names := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		names[i] = fmt.Sprintf("%04d_%s", m.Version, m.Name)
	}
	msg := "the database schema lacks migrations " + strings.Join(names, ", ")
	if e.Reason != "" {
		msg = "the schema version cannot be read (" + e.Reason + ")"
	}
	return msg + ": with MIGRATE_ON_START=false the service runs no DDL; run catalog migrate (the deploy's migrate task)"
}

// CheckSchema compares the migrations the database records with those embedded in the binary,
// without changing anything. A database behind answers *SchemaBehindError; an applied
// migration that was edited, *migrate.ChangedError. A database ahead (a newer release's migrate
// task ran while this release's tasks still serve) is fine, because migrations are additive
// within a release pair (ADR 0008): ahead lists the versions this binary does not know.
func (s *Store) CheckSchema(ctx context.Context) (ahead []int, err error) {
	known, err := Migrations()
	if err != nil {
		return nil, err
	}
	var applied []migrate.Applied
	err = s.read(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, `SELECT version, checksum FROM schema_migrations`)
		if err != nil {
			return err
		}
		applied, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (migrate.Applied, error) {
			var a migrate.Applied
			return a, r.Scan(&a.Version, &a.Checksum)
		})
		return err
	})
	switch sqlState(err) {
	case "":
	case undefinedTable:
		return nil, &SchemaBehindError{Missing: known}
	case insufficientPrivilege:
		// The app role's grants arrive with the migrate task, after the tables.
		return nil, &SchemaBehindError{Missing: known, Reason: "permission denied on schema_migrations: catalog migrate with DB_APP_ROLE grants it"}
	}
	if err != nil {
		return nil, err
	}
	pending, ahead, err := migrate.Plan(known, applied)
	if err != nil {
		return nil, err
	}
	if len(pending) > 0 {
		return nil, &SchemaBehindError{Missing: pending}
	}
	return ahead, nil
}
