// Package sqlite is the embedded catalog store: one SQLite file in WAL mode through the pure-Go
// modernc driver, so the binary stays static. It is the zero-setup default.
//
// Writes go through a single connection, so they queue in Go instead of failing with
// SQLITE_BUSY; reads use a pool of read-only connections that WAL lets run beside the writer.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/migrate"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Options configure a Store. The zero value works.
type Options struct {
	// Clock is the store's time source; tests move it forward.
	Clock catalog.Clock
	// ReadConns bounds the read pool; 0 means twice the CPUs, at least 4.
	ReadConns int
	// EventSource is the CloudEvents source stamped on the feed's events (EVENT_SOURCE); empty
	// means catalog.DefaultEventSource.
	EventSource string
}

// Store is a catalog.Store on SQLite.
type Store struct {
	w     *sql.DB // exactly one connection: SQLite allows one writer at a time
	r     *sql.DB
	clock catalog.Clock
	path  string
	// source is the events' CloudEvents source. It is stamped when the feed is read, not
	// stored, so changing EVENT_SOURCE renames every event still kept, consistently.
	source string
}

var _ catalog.Store = (*Store)(nil)

// FileName is the database file Open creates inside a data directory.
const FileName = "catalog.db"

// Open opens (creating if needed) the database at path, migrates it and returns the store.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	pragmas := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		pragmas.Add("_pragma", p)
	}
	wq := url.Values{"_txlock": {"immediate"}}
	for k, v := range pragmas {
		wq[k] = v
	}
	w, err := sql.Open("sqlite", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)

	s := &Store{w: w, clock: opts.Clock, path: path, source: cmp.Or(opts.EventSource, catalog.DefaultEventSource)}
	if err := s.Migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}

	rq := url.Values{"_pragma": append(pragmas["_pragma"], "query_only(1)")}
	r, err := sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	n := opts.ReadConns
	if n <= 0 {
		n = max(4, 2*runtime.NumCPU())
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	return s, nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes both pools, checkpointing the WAL.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return storeError(ctx, err)
	}
	return nil
}

// Migrate applies the embedded migrations the database lacks. The write connection's
// BEGIN IMMEDIATE serialises it against other processes on the same file.
//
// Foreign keys are off while migrations run, as SQLite's documented table rebuild requires
// (dropping a parent table with them on would cascade its children away); each migration checks
// them before it commits instead. PRAGMA foreign_keys cannot change inside a transaction, so the
// one connection is held for the whole run.
func (s *Store) Migrate(ctx context.Context) error {
	known, err := migrate.Load(migrationFS())
	if err != nil {
		return err
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return storeError(ctx, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return fmt.Errorf("migrate: foreign keys off: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
	for {
		done, err := migrateOne(ctx, conn, known)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next pending migration in its own transaction.
func migrateOne(ctx context.Context, conn *sql.Conn, known []migrate.Migration) (done bool, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, storeError(ctx, err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT version, checksum FROM schema_migrations`)
	if err != nil {
		return false, err
	}
	var applied []migrate.Applied
	for rows.Next() {
		var a migrate.Applied
		if err := rows.Scan(&a.Version, &a.Checksum); err != nil {
			rows.Close()
			return false, err
		}
		applied = append(applied, a)
	}
	if err := rows.Close(); err != nil {
		return false, err
	}
	pending, _, err := migrate.Plan(known, applied)
	if err != nil {
		return false, err
	}
	if len(pending) == 0 {
		return true, nil
	}
	m := pending[0]
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
	}
	var table string
	var rowid sql.NullInt64
	var parent string
	var fk int
	switch err := tx.QueryRowContext(ctx, `PRAGMA foreign_key_check`).Scan(&table, &rowid, &parent, &fk); {
	case err == nil:
		return false, fmt.Errorf("apply migration %04d_%s: row %d of %s refers to a missing %s row", m.Version, m.Name, rowid.Int64, table, parent)
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("apply migration %04d_%s: foreign key check: %w", m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)`,
		m.Version, m.Name, m.Checksum, time.Now().UnixMicro()); err != nil {
		return false, err
	}
	return false, storeError(ctx, tx.Commit())
}

// write runs fn in a write transaction (BEGIN IMMEDIATE on the single write connection).
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return storeError(ctx, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return storeError(ctx, err)
	}
	if err := tx.Commit(); err != nil {
		return storeError(ctx, err)
	}
	return nil
}

// read runs fn in a read transaction, so several queries see one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return storeError(ctx, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return storeError(ctx, err)
	}
	return nil
}

// migrationFS returns the embedded migrations.
func migrationFS() fs.FS { return sub(migrationFiles, "migrations") }
