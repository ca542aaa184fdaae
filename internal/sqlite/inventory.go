package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// SQLite has one writer at a time (every write transaction here is BEGIN IMMEDIATE on the one
// write connection), so the inventory needs no row locks: each transaction sees and changes
// the stock alone.

// replay returns true and fills out when idem names a request already answered.
func (s *Store) replay(ctx context.Context, tx *sql.Tx, idem *catalog.Idempotency, out any) (bool, error) {
	if idem == nil {
		return false, nil
	}
	var fp, result string
	err := tx.QueryRowContext(ctx, `SELECT fingerprint, result FROM idempotency_keys WHERE actor = ? AND key = ? AND created_at > ?`,
		idem.Actor, idem.Key, s.clock.Now().Add(-catalog.IdempotencyTTL).UnixMicro()).Scan(&fp, &result)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	case fp != idem.Fingerprint:
		return false, catalog.ErrIdempotencyMismatch
	}
	return true, json.Unmarshal([]byte(result), out)
}

// remember stores the result of a request made with idem.
func (s *Store) remember(ctx context.Context, tx *sql.Tx, idem *catalog.Idempotency, result any) error {
	if idem == nil {
		return nil
	}
	b, err := json.Marshal(result)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO idempotency_keys (actor, key, fingerprint, result, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (actor, key) DO UPDATE SET fingerprint = excluded.fingerprint, result = excluded.result, created_at = excluded.created_at`,
		idem.Actor, idem.Key, idem.Fingerprint, string(b), s.clock.Now().UnixMicro())
	return err
}

// applyMove changes one variant's stock and logs the movement (PostgreSQL's applyMoves does
// several in one statement); it refuses to break the invariants 0 <= reserved <= on_hand.
func applyMove(ctx context.Context, tx *sql.Tx, m *catalog.Movement) error {
	var onHand, reserved int64
	err := tx.QueryRowContext(ctx, `UPDATE inventory SET on_hand = on_hand + ?, reserved = reserved + ?, version = version + 1, updated_at = ?
		WHERE variant_id = ? RETURNING on_hand, reserved, version`, m.OnHandDelta, m.ReservedDelta, m.At.UnixMicro(), m.VariantID).Scan(&onHand, &reserved, &m.StockVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return catalog.ErrVariantNotFound
	}
	if err != nil {
		return err
	}
	m.OnHand, m.Reserved = onHand, reserved
	err = tx.QueryRowContext(ctx, `INSERT INTO stock_movements (variant_id, product_id, sku, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, note, reservation_id, actor, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		m.VariantID, m.ProductID, m.SKU, m.Kind, m.OnHandDelta, m.ReservedDelta, onHand, reserved, m.Reason, m.Note, nullable(m.ReservationID), m.Actor, m.At.UnixMicro()).Scan(&m.ID)
	if err != nil {
		return err
	}
	return emitStock(ctx, tx, *m)
}

// AdjustStock adds or removes units on hand of a variant, refusing to take available stock
// below zero.
func (s *Store) AdjustStock(ctx context.Context, variantID string, a catalog.Adjustment, actor string, idem *catalog.Idempotency) (catalog.Movement, error) {
	var m catalog.Movement
	if !catalog.ValidID(variantID) {
		return m, catalog.ErrVariantNotFound
	}
	if err := a.Validate(); err != nil {
		return m, err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if ok, err := s.replay(ctx, tx, idem, &m); ok || err != nil {
			return err
		}
		var onHand, reserved int64
		var productID, sku string
		err := tx.QueryRowContext(ctx, `SELECT i.on_hand, i.reserved, v.product_id, v.sku FROM inventory i JOIN variants v ON v.id = i.variant_id
			WHERE i.variant_id = ?`, variantID).Scan(&onHand, &reserved, &productID, &sku)
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrVariantNotFound
		}
		if err != nil {
			return err
		}
		if err := catalog.CheckStockLeft(a, sku, onHand, reserved); err != nil {
			return err
		}
		m = catalog.Movement{VariantID: variantID, ProductID: productID, SKU: sku, Kind: catalog.MoveAdjustment, OnHandDelta: a.Delta, Reason: a.Reason, Note: a.Note, Actor: actor, At: s.clock.Now()}
		if err := applyMove(ctx, tx, &m); err != nil {
			return err
		}
		return s.remember(ctx, tx, idem, m)
	})
	return m, err
}

// Movements lists a variant's stock log, newest first.
func (s *Store) Movements(ctx context.Context, variantID string, before int64, limit int) ([]catalog.Movement, error) {
	if !catalog.ValidID(variantID) {
		return nil, catalog.ErrVariantNotFound
	}
	out := []catalog.Movement{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM variants WHERE id = ?`, variantID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrVariantNotFound
		} else if err != nil {
			return err
		}
		if before <= 0 {
			before = 1<<63 - 1
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, variant_id, product_id, sku, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, note,
			coalesce(reservation_id, ''), actor, at FROM stock_movements WHERE variant_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
			variantID, before, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m catalog.Movement
			var at int64
			if err := rows.Scan(&m.ID, &m.VariantID, &m.ProductID, &m.SKU, &m.Kind, &m.OnHandDelta, &m.ReservedDelta, &m.OnHand, &m.Reserved, &m.Reason, &m.Note, &m.ReservationID, &m.Actor, &at); err != nil {
				return err
			}
			m.At = micros(at)
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, err
}

const reserveLookupSQL = `SELECT v.id, v.product_id, v.sku, v.purchase_limit, p.status, i.on_hand, i.reserved
	FROM variants v JOIN products p ON p.id = v.product_id JOIN inventory i ON i.variant_id = v.id
	WHERE v.sku = ? COLLATE NOCASE`

// reservationLines resolves a reservation's SKUs to variants and checks them in the order the
// contract gives: unknown or unsellable SKUs, then purchase limits (before any stock is looked
// at), then stock, all lines at once so the answer names every short SKU.
func reservationLines(ctx context.Context, tx *sql.Tx, in catalog.ReservationInput) ([]catalog.ReservationLine, error) {
	type found struct {
		line             catalog.ReservationLine
		limit            int64
		onHand, reserved int64
	}
	var problems catalog.Problems
	all := make([]found, len(in.Lines))
	for i, l := range in.Lines {
		var f found
		var status catalog.Status
		err := tx.QueryRowContext(ctx, reserveLookupSQL, l.SKU).Scan(&f.line.VariantID, &f.line.ProductID, &f.line.SKU, &f.limit, &status, &f.onHand, &f.reserved)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			problems.Add(fmt.Sprintf("lines[%d].sku", i), "no variant has SKU %q", l.SKU)
			continue
		case err != nil:
			return nil, err
		case status != catalog.StatusActive:
			problems.Add(fmt.Sprintf("lines[%d].sku", i), "%s is %s, not for sale", f.line.SKU, status)
			continue
		}
		f.line.Quantity = l.Quantity
		all[i] = f
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	for i, f := range all {
		if f.limit > 0 && f.line.Quantity > f.limit {
			return nil, catalog.PurchaseLimitExceeded(i, f.line.SKU, f.limit, f.line.Quantity)
		}
	}
	var shortages []catalog.Shortage
	lines := make([]catalog.ReservationLine, len(all))
	for i, f := range all {
		if avail := f.onHand - f.reserved; avail < f.line.Quantity {
			shortages = append(shortages, catalog.Shortage{SKU: f.line.SKU, Requested: f.line.Quantity, Available: avail})
		}
		lines[i] = f.line
	}
	if len(shortages) > 0 {
		return nil, catalog.ShortageError(shortages)
	}
	return lines, nil
}

// Reserve holds every line or none.
func (s *Store) Reserve(ctx context.Context, in catalog.ReservationInput, actor string, idem *catalog.Idempotency) (catalog.Reservation, error) {
	var r catalog.Reservation
	if err := in.Validate(); err != nil {
		return r, err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if ok, err := s.replay(ctx, tx, idem, &r); ok || err != nil {
			r.Replayed = ok
			return err
		}
		now := s.clock.Now()
		lines, err := reservationLines(ctx, tx, in)
		if err != nil {
			return err
		}
		r = catalog.Reservation{ID: catalog.NewID(), Status: catalog.ReservationHeld, Lines: lines,
			ExpiresAt: now.Add(in.TTL()), CreatedAt: now, UpdatedAt: now}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reservations (id, status, actor, expires_at, created_at, updated_at) VALUES (?, 'held', ?, ?, ?, ?)`,
			r.ID, actor, r.ExpiresAt.UnixMicro(), now.UnixMicro(), now.UnixMicro()); err != nil {
			return err
		}
		for i, l := range lines {
			if _, err := tx.ExecContext(ctx, `INSERT INTO reservation_lines (reservation_id, line, variant_id, product_id, sku, quantity) VALUES (?, ?, ?, ?, ?, ?)`,
				r.ID, i, l.VariantID, l.ProductID, l.SKU, l.Quantity); err != nil {
				return err
			}
			m := catalog.Movement{VariantID: l.VariantID, ProductID: l.ProductID, SKU: l.SKU, Kind: catalog.MoveReserve, ReservedDelta: l.Quantity, ReservationID: r.ID, Actor: actor, At: now}
			if err := applyMove(ctx, tx, &m); err != nil {
				return err
			}
		}
		if err := s.emit(ctx, tx, catalog.EventReservationCreated, r); err != nil {
			return err
		}
		return s.remember(ctx, tx, idem, r)
	})
	return r, err
}

func reservationOf(ctx context.Context, q queryer, id string) (catalog.Reservation, error) {
	r := catalog.Reservation{ID: id}
	var exp, created, updated int64
	err := q.QueryRowContext(ctx, `SELECT status, expires_at, created_at, updated_at FROM reservations WHERE id = ?`, id).Scan(&r.Status, &exp, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return r, catalog.ErrReservationNotFound
	}
	if err != nil {
		return r, err
	}
	r.ExpiresAt, r.CreatedAt, r.UpdatedAt = micros(exp), micros(created), micros(updated)
	rows, err := q.QueryContext(ctx, `SELECT sku, quantity, coalesce(variant_id, ''), coalesce(product_id, '') FROM reservation_lines WHERE reservation_id = ? ORDER BY line`, id)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for rows.Next() {
		var l catalog.ReservationLine
		if err := rows.Scan(&l.SKU, &l.Quantity, &l.VariantID, &l.ProductID); err != nil {
			return r, err
		}
		r.Lines = append(r.Lines, l)
	}
	return r, rows.Err()
}

// Reservation returns a reservation.
func (s *Store) Reservation(ctx context.Context, id string) (catalog.Reservation, error) {
	if !catalog.ValidID(id) {
		return catalog.Reservation{}, catalog.ErrReservationNotFound
	}
	var r catalog.Reservation
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = reservationOf(ctx, tx, id)
		return err
	})
	return r, err
}

// finish moves a held reservation to its final status, moving its units accordingly.
func (s *Store) finish(ctx context.Context, id, actor string, idem *catalog.Idempotency, to catalog.ReservationStatus) (catalog.Reservation, error) {
	var r catalog.Reservation
	if !catalog.ValidID(id) {
		return r, catalog.ErrReservationNotFound
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if ok, err := s.replay(ctx, tx, idem, &r); ok || err != nil {
			r.Replayed = ok
			return err
		}
		var err error
		if r, err = reservationOf(ctx, tx, id); err != nil {
			return err
		}
		now := s.clock.Now()
		if err := catalog.CanFinish(r, to, now); err != nil {
			return err
		}
		if err := finishLines(ctx, tx, &r, to, actor, now); err != nil {
			return err
		}
		return s.remember(ctx, tx, idem, r)
	})
	return r, err
}

func finishLines(ctx context.Context, tx *sql.Tx, r *catalog.Reservation, to catalog.ReservationStatus, actor string, now time.Time) error {
	for _, l := range r.Lines {
		m := catalog.FinishMovement(*r, l, to, actor, now)
		if err := applyMove(ctx, tx, &m); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE reservations SET status = ?, updated_at = ? WHERE id = ?`, to, now.UnixMicro(), r.ID); err != nil {
		return err
	}
	r.Status, r.UpdatedAt = to, now
	return emitAt(ctx, tx, now, catalog.ReservationEvent(to), *r)
}

// CommitReservation takes the reserved units out of stock: the sale happened.
func (s *Store) CommitReservation(ctx context.Context, id, actor string, idem *catalog.Idempotency) (catalog.Reservation, error) {
	return s.finish(ctx, id, actor, idem, catalog.ReservationCommitted)
}

// ReleaseReservation gives the reserved units back.
func (s *Store) ReleaseReservation(ctx context.Context, id, actor string, idem *catalog.Idempotency) (catalog.Reservation, error) {
	return s.finish(ctx, id, actor, idem, catalog.ReservationReleased)
}

// ExpireReservations releases held reservations past their expiry.
func (s *Store) ExpireReservations(ctx context.Context, limit int) ([]catalog.Reservation, error) {
	var out []catalog.Reservation
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = nil
		now := s.clock.Now()
		rows, err := tx.QueryContext(ctx, `SELECT id FROM reservations WHERE status = 'held' AND expires_at <= ? ORDER BY expires_at LIMIT ?`, now.UnixMicro(), limit)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			r, err := reservationOf(ctx, tx, id)
			if err != nil {
				return err
			}
			if err := finishLines(ctx, tx, &r, catalog.ReservationExpired, catalog.ExpiryActor, now); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// PurgeIdempotencyKeys deletes keys past their window, a batch at a time.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, limit int) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE rowid IN (
			SELECT rowid FROM idempotency_keys WHERE created_at <= ? LIMIT ?)`,
			s.clock.Now().Add(-catalog.IdempotencyTTL).UnixMicro(), limit)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		n = int(k)
		return err
	})
	return n, err
}

// PurgeReservations deletes finished reservations past retention, with their lines (the
// foreign key cascades), a batch at a time, so the one writer is never held long.
func (s *Store) PurgeReservations(ctx context.Context, retention time.Duration, limit int) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM reservations WHERE id IN (
			SELECT id FROM reservations WHERE status <> 'held' AND updated_at <= ? ORDER BY updated_at LIMIT ?)`,
			s.clock.Now().Add(-retention).UnixMicro(), limit)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		n = int(k)
		return err
	})
	return n, err
}
