package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
)

// ClaimFeedConsumer creates the consumer or takes its lease in one statement. ON CONFLICT DO
// UPDATE locks the row and re-checks its WHERE against the newest version, so of two owners
// claiming at once the second sees the first's lease and gets no row back.
func (s *Store) ClaimFeedConsumer(ctx context.Context, name, owner string, ttl time.Duration, start catalog.FeedStart) (catalog.FeedLease, error) {
	if err := catalog.ValidateFeedConsumer(name, owner, ttl); err != nil {
		return catalog.FeedLease{}, err
	}
	// Number what has finished first, so a consumer created now starts after every event
	// committed before it (ADR 0014: the sequencer numbers lazily).
	if err := s.sequence(ctx); err != nil {
		return catalog.FeedLease{}, err
	}
	now := s.clock.Now()
	lease := catalog.FeedLease{Name: name, Owner: owner, Until: now.Add(ttl)}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// A new consumer starts at the last sequence handed out (events still unnumbered get
		// higher numbers, so it hears of them), or at the purge floor (the oldest kept).
		return tx.QueryRow(ctx, `INSERT INTO feed_consumers AS c (name, position, owner, lease_until, created_at, updated_at)
			SELECT $1, CASE WHEN $5 THEN purged_through ELSE last_seq END, $2, $3, $4, $4 FROM event_state
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until, updated_at = excluded.updated_at
				WHERE c.owner = excluded.owner OR c.owner = '' OR c.lease_until <= excluded.updated_at
			RETURNING c.position, c.xmax = 0`,
			name, owner, lease.Until, now, start == catalog.FeedStartOldest).Scan(&lease.Position, &lease.Created)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return catalog.FeedLease{}, catalog.LeaseHeld(name, owner)
	}
	if err != nil {
		return catalog.FeedLease{}, err
	}
	return lease, nil
}

// AdvanceFeedConsumer moves the position while owner's lease runs. The row lock taken by FOR
// UPDATE orders it after a concurrent claim: once another owner has taken the lease, the
// stale owner's advance sees it and is refused.
func (s *Store) AdvanceFeedConsumer(ctx context.Context, name, owner string, position int64) error {
	if err := catalog.ValidateFeedConsumer(name, owner, -1); err != nil {
		return err
	}
	now := s.clock.Now()
	return s.tx(ctx, func(tx pgx.Tx) error {
		var stored int64
		var holder string
		var until time.Time
		err := tx.QueryRow(ctx, `SELECT position, owner, lease_until FROM feed_consumers WHERE name = $1 FOR UPDATE`, name).
			Scan(&stored, &holder, &until)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return catalog.LeaseHeld(name, owner)
		case err != nil:
			return err
		case holder != owner || !until.After(now):
			return catalog.LeaseHeld(name, owner)
		case position < stored:
			return catalog.PositionBehind(name, position, stored)
		}
		_, err = tx.Exec(ctx, `UPDATE feed_consumers SET position = $2, updated_at = $3 WHERE name = $1`, name, position, now)
		return err
	})
}

// ReleaseFeedConsumer ends owner's lease.
func (s *Store) ReleaseFeedConsumer(ctx context.Context, name, owner string) error {
	if err := catalog.ValidateFeedConsumer(name, owner, -1); err != nil {
		return err
	}
	now := s.clock.Now()
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE feed_consumers SET owner = '', lease_until = $3, updated_at = $3 WHERE name = $1 AND owner = $2`,
			name, owner, now)
		return err
	})
}
