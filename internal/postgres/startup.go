package postgres

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

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
// transient: the first deploy creates the database while the service starts.
func Permanent(err error, freshCredentials bool) bool {
	var (
		changed   *migrate.ChangedError
		parse     *pgconn.ParseConfigError
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
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
