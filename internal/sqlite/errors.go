package sqlite

import (
	"context"
	"errors"
	"io/fs"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/acme/catalog/internal/catalog"
)

// resultCode returns the SQLite extended result code of err, or 0.
func resultCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isUnique reports a unique index or primary key violation.
func isUnique(err error) bool {
	c := resultCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
func isForeignKey(err error) bool {
	return resultCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// storeError classifies an error no caller translated: *catalog.Error passes through, a busy
// or locked database and an expired deadline are unavailable, anything else is internal.
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
	switch resultCode(err) & 0xff { // primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return catalog.Wrap(catalog.CodeUnavailable, err, "the database is busy")
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY:
		return catalog.Wrap(catalog.CodeUnavailable, err, "the database cannot be written")
	}
	return catalog.Wrap(catalog.CodeInternal, err, "internal error")
}

func sub(fsys fs.FS, dir string) fs.FS {
	f, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // dir is a constant embedded at build time
	}
	return f
}
