package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
)

const webhookColumns = `id, url, event_types, enabled, disabled_reason, disabled_at, feed_cursor, failures, failing_since,
	next_attempt_at, previous_secret_until, created_at, updated_at, secret, coalesce(previous_secret, '')`

func scanWebhook(row pgx.Row) (catalog.Webhook, error) {
	var w catalog.Webhook
	err := row.Scan(&w.ID, &w.URL, &w.EventTypes, &w.Enabled, &w.DisabledReason, &w.DisabledAt, &w.Cursor, &w.Failures,
		&w.FailingSince, &w.NextAttemptAt, &w.PreviousSecretExpiresAt, &w.CreatedAt, &w.UpdatedAt, &w.Secret, &w.PreviousSecret)
	if errors.Is(err, pgx.ErrNoRows) {
		return w, catalog.ErrWebhookNotFound
	}
	if w.EventTypes == nil {
		w.EventTypes = []string{}
	}
	w.NextAttemptAt, w.CreatedAt, w.UpdatedAt = w.NextAttemptAt.UTC(), w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	for _, t := range []**time.Time{&w.DisabledAt, &w.FailingSince, &w.PreviousSecretExpiresAt} {
		if *t != nil {
			u := (*t).UTC()
			*t = &u
		}
	}
	return w, err
}

// withoutSecrets drops what only the worker may see, and a previous secret whose overlap has ended.
func withoutSecrets(w catalog.Webhook, now time.Time) catalog.Webhook {
	w.Secret, w.PreviousSecret = "", ""
	if w.PreviousSecretExpiresAt != nil && !w.PreviousSecretExpiresAt.After(now) {
		w.PreviousSecretExpiresAt = nil
	}
	return w
}

// CreateWebhook subscribes a URL at the feed's head: the sequencer runs first, so events
// committed before the subscription are numbered and skipped (a few committed meanwhile may
// still be numbered after it and delivered: at least once, never a gap).
func (s *Store) CreateWebhook(ctx context.Context, in catalog.WebhookInput, secret string) (catalog.Webhook, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return catalog.Webhook{}, err
	}
	if err := s.sequence(ctx); err != nil {
		return catalog.Webhook{}, err
	}
	var w catalog.Webhook
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// The advisory lock makes the count and the insert one step across instances.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('catalog.webhooks'))`); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM webhooks`).Scan(&n); err != nil {
			return err
		}
		if n >= catalog.MaxWebhooks {
			return catalog.Errorf(catalog.CodeConflict, "the catalog already has %d webhooks, the most it keeps: delete one first", n)
		}
		now := s.clock.Now()
		var err error
		w, err = scanWebhook(tx.QueryRow(ctx, `INSERT INTO webhooks (id, url, event_types, secret, feed_cursor, next_attempt_at, created_at, updated_at)
			SELECT $1, $2, $3, $4, last_seq, $5, $5, $5 FROM event_state RETURNING `+webhookColumns,
			catalog.NewID(), in.URL, in.EventTypes, secret, now))
		w = withoutSecrets(w, now)
		return err
	})
	return w, err
}

// Webhook returns a subscription (without its secrets).
func (s *Store) Webhook(ctx context.Context, id string) (catalog.Webhook, error) {
	var w catalog.Webhook
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		var err error
		w, err = scanWebhook(c.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
		return err
	})
	return withoutSecrets(w, s.clock.Now()), err
}

// ListWebhooks pages the subscriptions by ID.
func (s *Store) ListWebhooks(ctx context.Context, after string, limit int) (catalog.WebhookPage, error) {
	page := catalog.WebhookPage{Items: []catalog.Webhook{}}
	limit = min(max(limit, 1), catalog.MaxWebhooks)
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id > $1 ORDER BY id LIMIT $2`, after, limit+1)
		if err != nil {
			return err
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.Webhook, error) { return scanWebhook(r) })
		if err != nil {
			return err
		}
		now := s.clock.Now()
		for i, w := range list {
			if i == limit {
				page.Next = list[limit-1].ID
				break
			}
			page.Items = append(page.Items, withoutSecrets(w, now))
		}
		return nil
	})
	return page, err
}

// UpdateWebhook applies a patch. Re-enabling forgets the failures and makes the subscription due
// at once; disabling records the API as the reason.
func (s *Store) UpdateWebhook(ctx context.Context, id string, patch catalog.WebhookPatch) (catalog.Webhook, error) {
	patch.Normalize()
	if err := patch.Validate(); err != nil {
		return catalog.Webhook{}, err
	}
	var w catalog.Webhook
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.clock.Now()
		var types []string
		if patch.EventTypes != nil {
			types = *patch.EventTypes
		}
		var err error
		w, err = scanWebhook(tx.QueryRow(ctx, `UPDATE webhooks SET
				url = coalesce($2, url),
				event_types = CASE WHEN $3 THEN $4::text[] ELSE event_types END,
				feed_cursor = coalesce($5, feed_cursor),
				enabled = coalesce($6, enabled),
				disabled_reason = CASE WHEN $6 IS NULL OR $6 = enabled THEN disabled_reason WHEN $6 THEN '' ELSE $8 END,
				disabled_at = CASE WHEN $6 IS NULL OR $6 = enabled THEN disabled_at WHEN $6 THEN NULL ELSE $7 END,
				failures = CASE WHEN ($6 AND NOT enabled) OR $5::bigint IS NOT NULL THEN 0 ELSE failures END,
				failing_since = CASE WHEN ($6 AND NOT enabled) OR $5::bigint IS NOT NULL THEN NULL ELSE failing_since END,
				next_attempt_at = CASE WHEN ($6 AND NOT enabled) OR $5::bigint IS NOT NULL THEN $7 ELSE next_attempt_at END,
				updated_at = $7
			WHERE id = $1 RETURNING `+webhookColumns,
			id, patch.URL, patch.EventTypes != nil, types, patch.Cursor, patch.Enabled, now, catalog.DisabledByAPI))
		w = withoutSecrets(w, now)
		return err
	})
	return w, err
}

// DeleteWebhook removes a subscription and its log.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return catalog.ErrWebhookNotFound
		}
		_, err = tx.Exec(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = $1`, id)
		return err
	})
}

// RotateWebhookSecret replaces the secret; the old one signs beside it for the overlap.
func (s *Store) RotateWebhookSecret(ctx context.Context, id, secret string) (catalog.Webhook, error) {
	var w catalog.Webhook
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.clock.Now()
		var err error
		w, err = scanWebhook(tx.QueryRow(ctx, `UPDATE webhooks SET previous_secret = secret, previous_secret_until = $3,
				secret = $2, updated_at = $4 WHERE id = $1 RETURNING `+webhookColumns,
			id, secret, now.Add(catalog.WebhookSecretOverlap), now))
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
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		var exists bool
		if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhooks WHERE id = $1)`, id).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return catalog.ErrWebhookNotFound
		}
		rows, err := c.Query(ctx, `SELECT id, event_id, event_type, seq, attempt, outcome, status, duration_ms, error, at
			FROM webhook_deliveries WHERE webhook_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, id, before, limit+1)
		if err != nil {
			return err
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.WebhookDelivery, error) {
			var d catalog.WebhookDelivery
			err := r.Scan(&d.ID, &d.EventID, &d.EventType, &d.Sequence, &d.Attempt, &d.Outcome, &d.Status, &d.DurationMS, &d.Error, &d.At)
			d.At = d.At.UTC()
			return d, err
		})
		if err != nil {
			return err
		}
		if len(list) > limit {
			list = list[:limit]
			page.Next = list[limit-1].ID
		}
		page.Items = append(page.Items, list...)
		return nil
	})
	return page, err
}

// ClaimWebhook leases one due subscription. SKIP LOCKED lets concurrent claims pass over a row
// another claim is taking; the lease condition, checked again after the row lock, keeps a live
// lease from being taken.
func (s *Store) ClaimWebhook(ctx context.Context, owner string, lease time.Duration) (catalog.Webhook, bool, error) {
	var w catalog.Webhook
	found := false
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.clock.Now()
		var err error
		w, err = scanWebhook(tx.QueryRow(ctx, `UPDATE webhooks SET lease_owner = $1, lease_until = $3
			WHERE id = (SELECT id FROM webhooks WHERE enabled AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until < $2)
				ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
			RETURNING `+webhookColumns, owner, now, now.Add(lease)))
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.clock.Now()
		until := now.Add(lease)
		var disableAt *time.Time
		if a.Disable != "" {
			disableAt = &now
		}
		err := tx.QueryRow(ctx, `UPDATE webhooks SET feed_cursor = greatest(feed_cursor, $3), failures = $4, failing_since = $5,
				next_attempt_at = $6, lease_until = CASE WHEN $8 THEN NULL ELSE $7::timestamptz END,
				lease_owner = CASE WHEN $8 THEN NULL ELSE lease_owner END,
				enabled = enabled AND $9::timestamptz IS NULL,
				disabled_reason = CASE WHEN enabled AND $9::timestamptz IS NOT NULL THEN $10 ELSE disabled_reason END,
				disabled_at = CASE WHEN enabled AND $9::timestamptz IS NOT NULL THEN $9 ELSE disabled_at END,
				updated_at = CASE WHEN $9::timestamptz IS NOT NULL THEN $9 ELSE updated_at END
			WHERE id = $1 AND lease_owner = $2 RETURNING enabled`,
			id, owner, a.Cursor, a.Failures, a.FailingSince, a.NextAttemptAt, until, a.Release, disableAt, a.Disable).Scan(&enabled)
		if errors.Is(err, pgx.ErrNoRows) {
			return catalog.ErrLeaseLost
		}
		if err != nil || a.Delivery == nil {
			return err
		}
		d := a.Delivery
		_, err = tx.Exec(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, seq, attempt, outcome, status, duration_ms, error, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			id, d.EventID, d.EventType, d.Sequence, d.Attempt, d.Outcome, d.Status, d.DurationMS, d.Error, now)
		return err
	})
	return enabled, err
}

// PurgeWebhookDeliveries deletes at most limit log lines older than retention, oldest first.
func (s *Store) PurgeWebhookDeliveries(ctx context.Context, retention time.Duration, limit int) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhook_deliveries WHERE id IN (
			SELECT id FROM webhook_deliveries WHERE at <= $1 ORDER BY at LIMIT $2)`, s.clock.Now().Add(-retention), limit)
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}
