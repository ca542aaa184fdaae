package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

const webhookColumns = `id, url, event_types, enabled, disabled_reason, disabled_at, feed_cursor, failures, failing_since,
	next_attempt_at, previous_secret_until, created_at, updated_at, secret, coalesce(previous_secret, '')`

type rowScanner interface{ Scan(...any) error }

func scanWebhook(row rowScanner) (catalog.Webhook, error) {
	var (
		w                                   catalog.Webhook
		types                               string
		disabledAt, failingSince, prevUntil sql.NullInt64
		nextAttempt, createdAt, updatedAt   int64
	)
	err := row.Scan(&w.ID, &w.URL, &types, &w.Enabled, &w.DisabledReason, &disabledAt, &w.Cursor, &w.Failures, &failingSince,
		&nextAttempt, &prevUntil, &createdAt, &updatedAt, &w.Secret, &w.PreviousSecret)
	if errors.Is(err, sql.ErrNoRows) {
		return w, catalog.ErrWebhookNotFound
	}
	if err != nil {
		return w, err
	}
	w.EventTypes = []string{}
	if err := json.Unmarshal([]byte(types), &w.EventTypes); err != nil {
		return w, err
	}
	w.DisabledAt, w.FailingSince, w.PreviousSecretExpiresAt = nullTime(disabledAt), nullTime(failingSince), nullTime(prevUntil)
	w.NextAttemptAt, w.CreatedAt, w.UpdatedAt = micros(nextAttempt), micros(createdAt), micros(updatedAt)
	return w, nil
}

// withoutSecrets drops what only the worker may see, and a previous secret whose overlap has ended.
func withoutSecrets(w catalog.Webhook, now time.Time) catalog.Webhook {
	w.Secret, w.PreviousSecret = "", ""
	if w.PreviousSecretExpiresAt != nil && !w.PreviousSecretExpiresAt.After(now) {
		w.PreviousSecretExpiresAt = nil
	}
	return w
}

func typesJSON(ts []string) string {
	if ts == nil {
		ts = []string{}
	}
	b, _ := json.Marshal(ts) // a []string always marshals
	return string(b)
}

// CreateWebhook subscribes a URL at the feed's head (the highest sequence handed out, purged or
// not: AUTOINCREMENT never reuses one).
func (s *Store) CreateWebhook(ctx context.Context, in catalog.WebhookInput, secret string) (catalog.Webhook, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return catalog.Webhook{}, err
	}
	var w catalog.Webhook
	err := s.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhooks`).Scan(&n); err != nil {
			return err
		}
		if n >= catalog.MaxWebhooks {
			return catalog.Errorf(catalog.CodeConflict, "the catalog already has %d webhooks, the most it keeps: delete one first", n)
		}
		now := s.clock.Now()
		var err error
		w, err = scanWebhook(tx.QueryRowContext(ctx, `INSERT INTO webhooks (id, url, event_types, secret, feed_cursor, next_attempt_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), (SELECT purged_through FROM event_floor)), ?, ?, ?)
			RETURNING `+webhookColumns,
			catalog.NewID(), in.URL, typesJSON(in.EventTypes), secret, now.UnixMicro(), now.UnixMicro(), now.UnixMicro()))
		w = withoutSecrets(w, now)
		return err
	})
	return w, err
}

// Webhook returns a subscription (without its secrets).
func (s *Store) Webhook(ctx context.Context, id string) (catalog.Webhook, error) {
	var w catalog.Webhook
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		w, err = scanWebhook(tx.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
		return err
	})
	return withoutSecrets(w, s.clock.Now()), err
}

// ListWebhooks pages the subscriptions by ID.
func (s *Store) ListWebhooks(ctx context.Context, after string, limit int) (catalog.WebhookPage, error) {
	page := catalog.WebhookPage{Items: []catalog.Webhook{}}
	limit = min(max(limit, 1), catalog.MaxWebhooks)
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id > ? ORDER BY id LIMIT ?`, after, limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		now := s.clock.Now()
		for rows.Next() {
			w, err := scanWebhook(rows)
			if err != nil {
				return err
			}
			if len(page.Items) == limit {
				page.Next = page.Items[limit-1].ID
				break
			}
			page.Items = append(page.Items, withoutSecrets(w, now))
		}
		return rows.Err()
	})
	return page, err
}

// UpdateWebhook applies a patch (see the PostgreSQL store for the rules; the single writer
// lets this one read, change and write the row in Go).
func (s *Store) UpdateWebhook(ctx context.Context, id string, patch catalog.WebhookPatch) (catalog.Webhook, error) {
	patch.Normalize()
	if err := patch.Validate(); err != nil {
		return catalog.Webhook{}, err
	}
	var w catalog.Webhook
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if w, err = scanWebhook(tx.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id)); err != nil {
			return err
		}
		now := s.clock.Now()
		if patch.URL != nil {
			w.URL = *patch.URL
		}
		if patch.EventTypes != nil {
			w.EventTypes = *patch.EventTypes
		}
		if patch.Cursor != nil {
			// The failures counted were at the event after the old cursor.
			w.Cursor, w.NextAttemptAt, w.Failures, w.FailingSince = *patch.Cursor, now, 0, nil
		}
		if patch.Enabled != nil && *patch.Enabled != w.Enabled {
			w.Enabled = *patch.Enabled
			if w.Enabled {
				w.DisabledReason, w.DisabledAt, w.Failures, w.FailingSince, w.NextAttemptAt = "", nil, 0, nil, now
			} else {
				w.DisabledReason, w.DisabledAt = catalog.DisabledByAPI, &now
			}
		}
		w.UpdatedAt = now
		_, err = tx.ExecContext(ctx, `UPDATE webhooks SET url = ?, event_types = ?, feed_cursor = ?, enabled = ?, disabled_reason = ?,
				disabled_at = ?, failures = ?, failing_since = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?`,
			w.URL, typesJSON(w.EventTypes), w.Cursor, w.Enabled, w.DisabledReason, timeOrNil(w.DisabledAt), w.Failures,
			timeOrNil(w.FailingSince), w.NextAttemptAt.UnixMicro(), now.UnixMicro(), id)
		w = withoutSecrets(w, now)
		return err
	})
	return w, err
}

// DeleteWebhook removes a subscription and its log.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = catalog.ErrWebhookNotFound
			}
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = ?`, id)
		return err
	})
}

// RotateWebhookSecret replaces the secret; the old one signs beside it for the overlap.
func (s *Store) RotateWebhookSecret(ctx context.Context, id, secret string) (catalog.Webhook, error) {
	var w catalog.Webhook
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now()
		var err error
		w, err = scanWebhook(tx.QueryRowContext(ctx, `UPDATE webhooks SET previous_secret = secret, previous_secret_until = ?,
				secret = ?, updated_at = ? WHERE id = ? RETURNING `+webhookColumns,
			now.Add(catalog.WebhookSecretOverlap).UnixMicro(), secret, now.UnixMicro(), id))
		w = withoutSecrets(w, now)
		return err
	})
	return w, err
}

// WebhookDeliveries pages a subscription's log, newest first.
func (s *Store) WebhookDeliveries(ctx context.Context, id string, before int64, limit int) (catalog.DeliveryPage, error) {
	page := catalog.DeliveryPage{Items: []catalog.WebhookDelivery{}}
	limit = min(max(limit, 1), catalog.MaxDeliveryLimit)
	if before <= 0 {
		before = 1<<63 - 1
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM webhooks WHERE id = ?)`, id).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return catalog.ErrWebhookNotFound
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, event_id, event_type, seq, attempt, outcome, status, duration_ms, error, at
			FROM webhook_deliveries WHERE webhook_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, id, before, limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d catalog.WebhookDelivery
			var at int64
			if err := rows.Scan(&d.ID, &d.EventID, &d.EventType, &d.Sequence, &d.Attempt, &d.Outcome, &d.Status, &d.DurationMS, &d.Error, &at); err != nil {
				return err
			}
			if len(page.Items) == limit {
				page.Next = page.Items[limit-1].ID
				break
			}
			d.At = micros(at)
			page.Items = append(page.Items, d)
		}
		return rows.Err()
	})
	return page, err
}

// ClaimWebhook leases one due subscription. The single writer runs one claim at a time, so
// the conditional update is the whole exclusion.
func (s *Store) ClaimWebhook(ctx context.Context, owner string, lease time.Duration) (catalog.Webhook, bool, error) {
	var w catalog.Webhook
	found := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now()
		var err error
		w, err = scanWebhook(tx.QueryRowContext(ctx, `UPDATE webhooks SET lease_owner = ?, lease_until = ?
			WHERE id = (SELECT id FROM webhooks WHERE enabled AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)
				ORDER BY next_attempt_at LIMIT 1)
			RETURNING `+webhookColumns, owner, now.Add(lease).UnixMicro(), now.UnixMicro(), now.UnixMicro()))
		if errors.Is(err, catalog.ErrWebhookNotFound) {
			return nil
		}
		found = err == nil
		if found && w.PreviousSecretExpiresAt != nil && !w.PreviousSecretExpiresAt.After(now) {
			w.PreviousSecret, w.PreviousSecretExpiresAt = "", nil
		}
		return err
	})
	return w, found, err
}

// RecordWebhookAttempt applies the worker's result under its lease.
func (s *Store) RecordWebhookAttempt(ctx context.Context, id, owner string, a catalog.WebhookAttempt, lease time.Duration) (bool, error) {
	enabled := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now()
		var until, disableAt any
		if !a.Release {
			until = now.Add(lease).UnixMicro()
		}
		if a.Disable != "" {
			disableAt = now.UnixMicro()
		}
		leaseOwner := any(owner)
		if a.Release {
			leaseOwner = nil
		}
		err := tx.QueryRowContext(ctx, `UPDATE webhooks SET feed_cursor = max(feed_cursor, ?1), failures = ?2, failing_since = ?3,
				next_attempt_at = ?4, lease_until = ?5, lease_owner = ?6,
				disabled_reason = CASE WHEN enabled AND ?7 IS NOT NULL THEN ?8 ELSE disabled_reason END,
				disabled_at = CASE WHEN enabled AND ?7 IS NOT NULL THEN ?7 ELSE disabled_at END,
				updated_at = coalesce(?7, updated_at),
				enabled = enabled AND ?7 IS NULL
			WHERE id = ?9 AND lease_owner = ?10 RETURNING enabled`,
			a.Cursor, a.Failures, timeOrNil(a.FailingSince), a.NextAttemptAt.UnixMicro(), until, leaseOwner,
			disableAt, a.Disable, id, owner).Scan(&enabled)
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrLeaseLost
		}
		if err != nil || a.Delivery == nil {
			return err
		}
		d := a.Delivery
		_, err = tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, seq, attempt, outcome, status, duration_ms, error, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, d.EventID, d.EventType, d.Sequence, d.Attempt, d.Outcome, d.Status, d.DurationMS, d.Error, now.UnixMicro())
		return err
	})
	return enabled, err
}

// PurgeWebhookDeliveries deletes at most limit log lines older than retention, oldest first.
func (s *Store) PurgeWebhookDeliveries(ctx context.Context, retention time.Duration, limit int) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE id IN (
			SELECT id FROM webhook_deliveries WHERE at <= ? ORDER BY at LIMIT ?)`, s.clock.Now().Add(-retention).UnixMicro(), limit)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		n = int(k)
		return err
	})
	return n, err
}
