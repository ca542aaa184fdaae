package postgres

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/acme/catalog/internal/migrate"
)

func TestPermanent(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("apply migration 0001_x: %w", &pgconn.PgError{Code: code}) }
	_, parseErr := pgconn.ParseConfig("postgres://h:notaport/db")
	for _, tc := range []struct {
		name  string
		err   error
		fresh bool
		want  bool
	}{
		{"refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, false, false},
		{"no DNS name yet", &net.DNSError{Err: "no such host", Name: "writer", IsNotFound: true}, false, false},
		{"starting up", pg("57P03"), false, false},
		{"too many connections", pg("53300"), false, false},
		{"connection exception", pg("08006"), false, false},
		{"read-only writer", pg("25006"), false, false},
		{"deadline", context.DeadlineExceeded, false, false},
		{"bad static password", pg("28P01"), false, true},
		{"bad secret password, re-read each attempt", pg("28P01"), true, false},
		{"no such role, static", pg("28000"), false, true},
		{"no such database", pg("3D000"), true, true},
		{"migration syntax", pg("42601"), false, true},
		{"no privilege", pg("42501"), true, true},
		{"migration data", pg("23505"), false, true},
		{"edited migration", fmt.Errorf("migrate: %w", &migrate.ChangedError{Version: 1}), false, true},
		{"unparsable URL", parseErr, false, true},
		{"unknown CA", fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), false, true},
		{"wrong host name", fmt.Errorf("tls: %w", x509.HostnameError{Host: "x"}), false, true},
	} {
		if got := Permanent(tc.err, tc.fresh); got != tc.want {
			t.Errorf("Permanent(%s: %v, fresh=%v) = %v, want %v", tc.name, tc.err, tc.fresh, got, tc.want)
		}
	}
}

func TestCheckConfigAndTarget(t *testing.T) {
	if err := CheckConfig("postgres://app:pw@h:notaport/db", Options{}); err == nil {
		t.Error("CheckConfig accepted a port that is not a number")
	}
	if err := CheckConfig("postgres://app@h/db?sslmode=disable", Options{RootCAs: x509.NewCertPool()}); err == nil {
		t.Error("CheckConfig accepted a CA bundle for a connection without TLS")
	}
	if err := CheckConfig("postgres://app@h/db?sslmode=verify-full", Options{RootCAs: x509.NewCertPool()}); err != nil {
		t.Errorf("CheckConfig(verify-full with CAs) = %v", err)
	}
	got := Target("postgres://app:s3cret@writer.example:6543/shop")
	if got != "writer.example:6543/shop (user app)" || strings.Contains(got, "s3cret") {
		t.Errorf("Target = %q", got)
	}
}
