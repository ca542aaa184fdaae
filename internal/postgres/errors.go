package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/acme/catalog/internal/catalog"
)

// SQLSTATE codes the store reacts to.
const (
	uniqueViolation       = "23505"
	foreignKeyViolation   = "23503"
	checkViolation        = "23514"
	serializationFailure  = "40001"
	deadlockDetected      = "40P01"
	lockNotAvailable      = "55P03" // lock_timeout expired, or NOWAIT
	readOnlyTransaction   = "25006" // a writer demoted by an Aurora failover
	tooManyConnections    = "53300"
	adminShutdown         = "57P01"
	crashShutdown         = "57P02"
	cannotConnectNow      = "57P03"
	queryCanceled         = "57014"
	invalidPassword       = "28P01"
	invalidAuthorization  = "28000"
	connectionExceptionCl = "08" // class 08: connection exceptions
	undefinedTable        = "42P01"
	insufficientPrivilege = "42501"
)

func sqlState(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	return ""
}

// retryable reports whether a transaction failed only because of concurrency and can run again.
func retryable(err error) bool {
	switch sqlState(err) {
	case serializationFailure, deadlockDetected, lockNotAvailable:
		return true
	}
	return false
}

// storeError classifies an error no caller translated. Connection trouble of any kind, an
// Aurora writer that is now a reader, and an expired deadline are "unavailable" (503 and
// Retry-After), so clients back off instead of seeing a 500.
func storeError(ctx context.Context, err error) error {
	var ce *catalog.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return err
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return catalog.Wrap(catalog.CodeUnavailable, err, "the database did not answer in time")
	}
	code := sqlState(err)
	switch {
	case code == lockNotAvailable:
		return catalog.Wrap(catalog.CodeUnavailable, err, "the data this request changes is busy; retry shortly")
	case code == deadlockDetected, code == serializationFailure:
		// Only after maxAttempts: a conflict the client may retry, never an internal error.
		return catalog.Wrap(catalog.CodeConflict, err, "the request kept colliding with concurrent changes; retry it")
	case code == readOnlyTransaction, code == tooManyConnections, code == adminShutdown,
		code == crashShutdown, code == cannotConnectNow, code == queryCanceled,
		code == invalidPassword, code == invalidAuthorization,
		len(code) == 5 && code[:2] == connectionExceptionCl:
		return catalog.Wrap(catalog.CodeUnavailable, err, "the database is unavailable")
	case code == "" && connectionTrouble(err):
		return catalog.Wrap(catalog.CodeUnavailable, err, "the database is unavailable")
	}
	return catalog.Wrap(catalog.CodeInternal, err, "internal error")
}

// connectionTrouble reports errors from dialing, from a connection that broke mid-query (EOF,
// reset), or from pgx refusing to use a closed connection.
func connectionTrouble(err error) bool {
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// refusedPassword is the password a failed connection attempt used, so the credentials source
// can tell a refusal of the password it holds from a late one of a password it already replaced.
func refusedPassword(err error) string {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && ce.Config != nil {
		return ce.Config.Password
	}
	return ""
}

// authFailure reports a password the server refused (28P01) or an authorization failure
// (28000), typically while connecting.
func authFailure(err error) bool {
	c := sqlState(err)
	return c == invalidPassword || c == invalidAuthorization
}
