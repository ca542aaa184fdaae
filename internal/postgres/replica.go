package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
)

// WritePosition returns the writer's WAL insert position. Read after a write has committed, it
// is at or past that write's commit record, so a replica that has replayed this far sees it. The
// insert position, not the flushed one: with synchronous_commit off a commit may still sit in
// the WAL buffers, and a smaller token would let a replica answer without the write.
func (s *Store) WritePosition(ctx context.Context) (catalog.ReadPosition, error) {
	var pos int64
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint`).Scan(&pos)
	})
	return catalog.ReadPosition(pos), err
}

// ReplayStatus is what a reader says about how far it has replayed the writer's WAL.
type ReplayStatus struct {
	// InRecovery is false on a primary: a "reader" that is not replaying anything (an endpoint
	// that resolves to the writer when no replica is up) is current by definition.
	InRecovery bool
	// Replayed is the last WAL position replayed; valid when Known.
	Replayed catalog.ReadPosition
	Known    bool
	// SinceLastReplay is the age of the last transaction replayed (now minus its commit time on
	// the writer); negative when none has been replayed since the replica started.
	SinceLastReplay time.Duration
}

// ReplayStatus asks the server how far it has replayed (PostgreSQL's recovery information
// functions). On a server that is not in recovery the positions are NULL and InRecovery false.
func (s *Store) ReplayStatus(ctx context.Context) (ReplayStatus, error) {
	var (
		st     ReplayStatus
		pos    *int64
		ageSec *float64
	)
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0')::bigint,
			extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8`).Scan(&st.InRecovery, &pos, &ageSec)
	})
	if err != nil {
		return st, err
	}
	if pos != nil {
		st.Replayed, st.Known = catalog.ReadPosition(*pos), true
	}
	st.SinceLastReplay = -1
	if ageSec != nil {
		st.SinceLastReplay = time.Duration(*ageSec * float64(time.Second))
	}
	return st, nil
}

// HasAuroraReplicaStatus reports whether the server has Aurora's aurora_replica_status().
func (s *Store) HasAuroraReplicaStatus(ctx context.Context) (bool, error) {
	var has bool
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT to_regprocedure('aurora_replica_status()') IS NOT NULL`).Scan(&has)
	})
	return has, err
}

// AuroraReplicaLag returns the largest lag Aurora reports for any reader, and whether every
// reader reported one: the reader endpoint spreads connections over every reader, so each must
// be within the bound, and a reader whose lag is NULL makes it unknown
// (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora_replica_status.html:
// replica_lag_in_msec, "the time that a reader instance lags behind a writer instance").
func (s *Store) AuroraReplicaLag(ctx context.Context) (time.Duration, bool, error) {
	var (
		unknown int64
		ms      *float64
	)
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT count(*) FILTER (WHERE replica_lag_in_msec IS NULL), max(replica_lag_in_msec)::float8
			FROM aurora_replica_status() WHERE session_id <> 'MASTER_SESSION_ID'`).Scan(&unknown, &ms)
	})
	if err != nil {
		return -1, false, err
	}
	if unknown > 0 || ms == nil || *ms < 0 {
		return -1, false, nil
	}
	return time.Duration(*ms * float64(time.Millisecond)), true, nil
}

// NoWALPositions reports whether err is the server refusing a WAL position function because
// its wal_level does not allow it (SQLSTATE 55000, object_not_in_prerequisite_state): an
// Aurora writer without rds.logical_replication answers so.
func NoWALPositions(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55000"
}
