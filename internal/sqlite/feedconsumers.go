package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// ClaimFeedConsumer takes or renews the lease in one write transaction; SQLite's single writer
// serialises claims, so two owners never both see the lease free.
func (s *Store) ClaimFeedConsumer(ctx context.Context, name, owner string, ttl time.Duration, start catalog.FeedStart) (catalog.FeedLease, error) {
	if err := catalog.ValidateFeedConsumer(name, owner, ttl); err != nil {
		return catalog.FeedLease{}, err
	}
	now := s.clock.Now()
	lease := catalog.FeedLease{Name: name, Owner: owner, Until: now.Add(ttl)}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var holder string
		var until int64
		err := tx.QueryRowContext(ctx, `SELECT position, owner, lease_until FROM feed_consumers WHERE name = ?`, name).
			Scan(&lease.Position, &holder, &until)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// The head is the highest sequence ever handed out (sqlite_sequence keeps it after a
			// purge empties the table); the oldest kept begins after the purge floor.
			q := `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)`
			if start == catalog.FeedStartOldest {
				q = `SELECT purged_through FROM event_floor`
			}
			if err := tx.QueryRowContext(ctx, q).Scan(&lease.Position); err != nil {
				return err
			}
			lease.Created = true
			_, err = tx.ExecContext(ctx, `INSERT INTO feed_consumers (name, position, owner, lease_until, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)`, name, lease.Position, owner, lease.Until.UnixMicro(), now.UnixMicro(), now.UnixMicro())
			return err
		case err != nil:
			return err
		case holder != "" && holder != owner && until > now.UnixMicro():
			return catalog.LeaseHeld(name, owner)
		}
		_, err = tx.ExecContext(ctx, `UPDATE feed_consumers SET owner = ?, lease_until = ?, updated_at = ? WHERE name = ?`,
			owner, lease.Until.UnixMicro(), now.UnixMicro(), name)
		return err
	})
	if err != nil {
		return catalog.FeedLease{}, err
	}
	return lease, nil
}

// AdvanceFeedConsumer moves the position while owner's lease runs.
func (s *Store) AdvanceFeedConsumer(ctx context.Context, name, owner string, position int64) error {
	if err := catalog.ValidateFeedConsumer(name, owner, -1); err != nil {
		return err
	}
	now := s.clock.Now().UnixMicro()
	return s.write(ctx, func(tx *sql.Tx) error {
		var stored, until int64
		var holder string
		err := tx.QueryRowContext(ctx, `SELECT position, owner, lease_until FROM feed_consumers WHERE name = ?`, name).
			Scan(&stored, &holder, &until)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return catalog.LeaseHeld(name, owner)
		case err != nil:
			return err
		case holder != owner || until <= now:
			return catalog.LeaseHeld(name, owner)
		case position < stored:
			return catalog.PositionBehind(name, position, stored)
		}
		_, err = tx.ExecContext(ctx, `UPDATE feed_consumers SET position = ?, updated_at = ? WHERE name = ?`, position, now, name)
		return err
	})
}

// ReleaseFeedConsumer ends owner's lease.
func (s *Store) ReleaseFeedConsumer(ctx context.Context, name, owner string) error {
	if err := catalog.ValidateFeedConsumer(name, owner, -1); err != nil {
		return err
	}
	now := s.clock.Now().UnixMicro()
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE feed_consumers SET owner = '', lease_until = ?, updated_at = ? WHERE name = ? AND owner = ?`,
			now, now, name, owner)
		return err
	})
}
