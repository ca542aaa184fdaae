package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
)

// Lock order. Every transaction takes its row locks in this order, so no two can wait for each
// other in a cycle (a deadlock):
//
//  0. the request's idempotency key (claim, or the key CTE of reserveOne);
//  1. reservation rows (finish, expiry);
//  2. inventory rows, in variant-ID order (FOR UPDATE, or the guarded UPDATE of reserveOne);
//  3. product rows (DeleteProduct and DeleteVariant, which lock the inventory rows first;
//     product, variant and price writes and the price sweeper, which lock no inventory row);
//  4. what a product write holds its row for: its variants, their prices and price history,
//     and (shared) the attribute definitions it validates against.
//
// The sweeper's purges lock only finished reservations and expired keys, with SKIP LOCKED, so
// they never wait for a request nor make one wait on a row it needs.
//
// No stock path locks a product row: the movement log, reservation lines and price history
// have no foreign key to products (migration 0004), so inserting into them takes no KEY SHARE
// lock on the product, which is what once let a delete (product, then inventory) deadlock a
// one-line reservation (inventory, then the product's KEY SHARE). Multi-SKU reservations
// naming the same SKUs in opposite orders queue, and reservations of unrelated SKUs never wait
// for each other. Read committed isolation is enough: every decision is made on locked rows.
// What can still lose (a serialization failure, a deadlock with a path outside this list, a
// lock_timeout) is retried by Store.retry, which every write goes through.

// claim takes the idempotency key for this transaction. A concurrent request with the same key
// waits on the unique index until this one commits (and then replays its result) or rolls back
// (and then runs itself). It returns true and fills out when the key was already answered.
func (s *Store) claim(ctx context.Context, tx pgx.Tx, idem *catalog.Idempotency, out any) (bool, error) {
	if idem == nil {
		return false, nil
	}
	now := s.clock.Now()
	tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (actor, key, fingerprint, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (actor, key) DO UPDATE SET fingerprint = excluded.fingerprint, result = NULL, created_at = excluded.created_at
		WHERE idempotency_keys.created_at <= $5`,
		idem.Actor, idem.Key, idem.Fingerprint, now, now.Add(-catalog.IdempotencyTTL))
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 1 {
		return false, nil
	}
	var fp string
	var result []byte
	if err := tx.QueryRow(ctx, `SELECT fingerprint, result FROM idempotency_keys WHERE actor = $1 AND key = $2`, idem.Actor, idem.Key).Scan(&fp, &result); err != nil {
		return false, err
	}
	if fp != idem.Fingerprint {
		return false, catalog.ErrIdempotencyMismatch
	}
	return true, json.Unmarshal(result, out)
}

func remember(ctx context.Context, tx pgx.Tx, idem *catalog.Idempotency, result any) error {
	if idem == nil {
		return nil
	}
	b, err := json.Marshal(result)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE idempotency_keys SET result = $3 WHERE actor = $1 AND key = $2`, idem.Actor, idem.Key, b)
	return err
}

type stockRow struct {
	variantID, productID, sku string
	status                    catalog.Status
	onHand, reserved          int64
}

// lockStock locks the inventory rows of variants in ID order and returns them by variant ID.
func lockStock(ctx context.Context, tx pgx.Tx, ids []string) (map[string]stockRow, error) {
	rows, err := tx.Query(ctx, `SELECT i.variant_id::text, i.product_id::text, v.sku, p.status, i.on_hand, i.reserved
		FROM inventory i JOIN variants v ON v.id = i.variant_id JOIN products p ON p.id = i.product_id
		WHERE i.variant_id = ANY($1::uuid[]) ORDER BY i.variant_id FOR UPDATE OF i`, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]stockRow{}
	for rows.Next() {
		var r stockRow
		if err := rows.Scan(&r.variantID, &r.productID, &r.sku, &r.status, &r.onHand, &r.reserved); err != nil {
			return nil, err
		}
		out[r.variantID] = r
	}
	return out, rows.Err()
}

// applyMoves changes stock and logs the movements in one statement, filling in the resulting
// quantities and IDs. The rows must be locked already.
func applyMoves(ctx context.Context, tx pgx.Tx, ms []*catalog.Movement) error {
	if len(ms) == 0 {
		return nil
	}
	n := len(ms)
	ids, kinds, dOn, dRes, reasons, resIDs, actors, ats, notes := make([]string, n), make([]string, n), make([]int64, n), make([]int64, n), make([]string, n), make([]*string, n), make([]string, n), make([]time.Time, n), make([]string, n)
	skus := make([]string, n)
	for i, m := range ms {
		ids[i], kinds[i], dOn[i], dRes[i], reasons[i], actors[i], ats[i], notes[i], skus[i] = m.VariantID, string(m.Kind), m.OnHandDelta, m.ReservedDelta, m.Reason, m.Actor, m.At, m.Note, m.SKU
		if m.ReservationID != "" {
			resIDs[i] = &ms[i].ReservationID
		}
	}
	rows, err := tx.Query(ctx, `WITH v AS (
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::uuid[], $7::text[], $8::timestamptz[], $9::text[], $10::text[])
				WITH ORDINALITY AS t(variant_id, kind, d_on, d_res, reason, reservation_id, actor, at, note, sku, n)
		), upd AS (
			UPDATE inventory i SET on_hand = i.on_hand + v.d_on, reserved = i.reserved + v.d_res, version = i.version + 1, updated_at = v.at
			FROM v WHERE i.variant_id = v.variant_id
				AND i.reserved + v.d_res >= 0 AND i.on_hand + v.d_on >= i.reserved + v.d_res
			RETURNING i.variant_id, i.product_id, i.on_hand, i.reserved, i.version
		), ins AS (
			INSERT INTO stock_movements (variant_id, product_id, sku, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, note, reservation_id, actor, at)
			SELECT v.variant_id, upd.product_id, v.sku, v.kind, v.d_on, v.d_res, upd.on_hand, upd.reserved, v.reason, v.note, v.reservation_id, v.actor, v.at
			FROM v JOIN upd ON upd.variant_id = v.variant_id ORDER BY v.n
			RETURNING id, variant_id, product_id, on_hand, reserved
		)
		SELECT ins.id, ins.variant_id::text, ins.product_id::text, ins.on_hand, ins.reserved, upd.version
		FROM ins JOIN upd ON upd.variant_id = ins.variant_id`,
		ids, kinds, dOn, dRes, reasons, resIDs, actors, ats, notes, skus)
	if err != nil {
		return err
	}
	byVariant := map[string]*catalog.Movement{}
	for _, m := range ms {
		byVariant[m.VariantID] = m
	}
	count := 0
	for rows.Next() {
		var id, onHand, reserved, version int64
		var vid, pid string
		if err := rows.Scan(&id, &vid, &pid, &onHand, &reserved, &version); err != nil {
			return err
		}
		if m := byVariant[vid]; m != nil {
			m.ID, m.ProductID, m.OnHand, m.Reserved, m.StockVersion = id, pid, onHand, reserved, version
			count++
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if count != n {
		return errStockChanged
	}
	return emitMoves(ctx, tx, ms)
}

// errStockChanged says a movement would have broken 0 <= reserved <= on_hand (or its variant is
// gone); the transaction rolls back.
var errStockChanged = catalog.Errorf(catalog.CodeConflict, "the stock changed; nothing was moved")

// AdjustStock adds or removes units on hand, refusing to take available stock below zero.
func (s *Store) AdjustStock(ctx context.Context, variantID string, a catalog.Adjustment, actor string, idem *catalog.Idempotency) (catalog.Movement, error) {
	var m catalog.Movement
	if !catalog.ValidID(variantID) {
		return m, catalog.ErrVariantNotFound
	}
	// The HTTP layer validates too; the store refuses what would corrupt the log either way.
	if err := a.Validate(); err != nil {
		return m, err
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if ok, err := s.claim(ctx, tx, idem, &m); ok || err != nil {
			return err
		}
		var err error
		if m, err = s.adjustStockOn(ctx, tx, variantID, a, actor); err != nil {
			return err
		}
		return remember(ctx, tx, idem, m)
	})
	return m, err
}

// adjustStockOn is AdjustStock's movement in tx (the deterministic feed tests hold tx open).
func (s *Store) adjustStockOn(ctx context.Context, tx pgx.Tx, variantID string, a catalog.Adjustment, actor string) (catalog.Movement, error) {
	var m catalog.Movement
	rows, err := lockStock(ctx, tx, []string{variantID})
	if err != nil {
		return m, err
	}
	row, ok := rows[variantID]
	if !ok {
		return m, catalog.ErrVariantNotFound
	}
	if err := catalog.CheckStockLeft(a, row.sku, row.onHand, row.reserved); err != nil {
		return m, err
	}
	m = catalog.Movement{VariantID: variantID, ProductID: row.productID, SKU: row.sku, Kind: catalog.MoveAdjustment, OnHandDelta: a.Delta, Reason: a.Reason, Note: a.Note, Actor: actor, At: s.clock.Now()}
	return m, applyMoves(ctx, tx, []*catalog.Movement{&m})
}

// Movements lists a variant's stock log, newest first.
func (s *Store) Movements(ctx context.Context, variantID string, before int64, limit int) ([]catalog.Movement, error) {
	if !catalog.ValidID(variantID) {
		return nil, catalog.ErrVariantNotFound
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	var out []catalog.Movement
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM variants WHERE id = $1)`, variantID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return catalog.ErrVariantNotFound
		}
		rows, err := tx.Query(ctx, `SELECT id, variant_id::text, product_id::text, sku, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, note,
			coalesce(reservation_id::text, ''), actor, at FROM stock_movements WHERE variant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
			variantID, before, limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (catalog.Movement, error) {
			var m catalog.Movement
			err := row.Scan(&m.ID, &m.VariantID, &m.ProductID, &m.SKU, &m.Kind, &m.OnHandDelta, &m.ReservedDelta, &m.OnHand, &m.Reserved, &m.Reason, &m.Note, &m.ReservationID, &m.Actor, &m.At)
			m.At = m.At.UTC()
			return m, err
		})
		return err
	})
	return out, err
}

// Reserve holds every line or none.
func (s *Store) Reserve(ctx context.Context, in catalog.ReservationInput, actor string, idem *catalog.Idempotency) (catalog.Reservation, error) {
	if err := in.Validate(); err != nil {
		return catalog.Reservation{}, err
	}
	if len(in.Lines) == 1 {
		r, done, err := s.reserveOne(ctx, in, actor, idem)
		if done || err != nil {
			return r, err
		}
	}
	var r catalog.Reservation
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if ok, err := s.claim(ctx, tx, idem, &r); ok || err != nil {
			r.Replayed = ok
			return err
		}
		lines, err := resolveLines(ctx, tx, in.Lines)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		r = newReservation(in, lines, now)
		lineNos, vids, pids, lineSKUs, qtys := make([]int32, len(lines)), make([]string, len(lines)), make([]string, len(lines)), make([]string, len(lines)), make([]int64, len(lines))
		ms := make([]*catalog.Movement, len(lines))
		for i, l := range lines {
			lineNos[i], vids[i], pids[i], lineSKUs[i], qtys[i] = int32(i), l.VariantID, l.ProductID, l.SKU, l.Quantity
			ms[i] = &catalog.Movement{VariantID: l.VariantID, ProductID: l.ProductID, SKU: l.SKU, Kind: catalog.MoveReserve, ReservedDelta: l.Quantity, ReservationID: r.ID, Actor: actor, At: now}
		}
		// Write the reservation (and its idempotent answer) before taking any lock: the
		// inventory rows stay locked only for the stock update and the commit.
		if _, err := tx.Exec(ctx, `WITH res AS (
				INSERT INTO reservations (id, status, actor, expires_at, created_at, updated_at) VALUES ($1, 'held', $2, $3, $4, $4)
			)
			INSERT INTO reservation_lines (reservation_id, line, variant_id, product_id, sku, quantity)
			SELECT $1, * FROM unnest($5::int[], $6::uuid[], $7::uuid[], $8::text[], $9::bigint[])`,
			r.ID, actor, r.ExpiresAt, now, lineNos, vids, pids, lineSKUs, qtys); err != nil {
			return err
		}
		if err := remember(ctx, tx, idem, r); err != nil {
			return err
		}

		if len(lines) > 1 {
			// Several rows: lock them in variant-ID order first, so reservations naming the same
			// SKUs in other orders queue instead of deadlocking.
			stock, err := lockStock(ctx, tx, vids)
			if err != nil {
				return err
			}
			if err := vanished(lines, stock); err != nil {
				return err
			}
			if short := shortages(lines, stock); len(short) > 0 {
				return catalog.ShortageError(short)
			}
		}
		// One row needs no lock order: the guarded update locks it, and refuses if short.
		err = applyMoves(ctx, tx, ms)
		if errors.Is(err, errStockChanged) {
			stock, lerr := lockStock(ctx, tx, vids)
			if lerr != nil {
				return lerr
			}
			if err := vanished(lines, stock); err != nil {
				return err
			}
			if short := shortages(lines, stock); len(short) > 0 {
				return catalog.ShortageError(short)
			}
		}
		return s.emitAfter(ctx, tx, err, catalog.EventReservationCreated, r)
	})
	return r, err
}

// reserveOne is the hot path: a reservation of one line. The stock update, its movement, the
// reservation and its idempotent answer are one autocommitted statement, so the inventory row
// is locked only while the server runs it and flushes the commit, with no round trip to this
// process in between: reservations of one hot SKU queue inside PostgreSQL, each released by the
// commit before it. It reports done=false, having changed nothing, whenever the transactional
// path must answer instead: too little stock (that path says exactly what is short), or an
// idempotency key that was already used (that path replays or refuses it).
func (s *Store) reserveOne(ctx context.Context, in catalog.ReservationInput, actor string, idem *catalog.Idempotency) (r catalog.Reservation, done bool, err error) {
	err = s.retry(ctx, func() error {
		return s.conn(ctx, func(c *pgxpool.Conn) error {
			done = false
			return s.reserveOneOn(ctx, c, in, actor, idem, &r, &done)
		})
	})
	return r, done, err
}

// reserveOneOn runs reserveOne's statement on c.
func (s *Store) reserveOneOn(ctx context.Context, c *pgxpool.Conn, in catalog.ReservationInput, actor string, idem *catalog.Idempotency, out *catalog.Reservation, done *bool) error {
	lines, err := resolveLines(ctx, c, in.Lines)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	r := newReservation(in, lines, now)
	*out = r
	l := lines[0]
	args := []any{r.ID, actor, l.VariantID, l.Quantity, now, r.ExpiresAt, l.SKU}
	// Without a key, the guarded update refuses quietly when stock is short.
	key, guard := "", "on_hand - reserved >= $4"
	if idem != nil {
		answer, err := json.Marshal(r)
		if err != nil {
			return err
		}
		args = append(args, idem.Actor, idem.Key, idem.Fingerprint, answer, now.Add(-catalog.IdempotencyTTL))
		// The key is taken (or an expired one reused) only if the stock looks sufficient;
		// a request holding the same key makes this wait, as claim does. The update then
		// runs only if the key was taken, and the inventory CHECK constraint refuses an
		// oversell that happened since the look, aborting the whole statement, key included.
		key = `key AS (
			INSERT INTO idempotency_keys (actor, key, fingerprint, result, created_at)
			SELECT $8, $9, $10, $11, $5 WHERE EXISTS (SELECT 1 FROM inventory WHERE variant_id = $3 AND on_hand - reserved >= $4)
			ON CONFLICT (actor, key) DO UPDATE SET fingerprint = excluded.fingerprint, result = excluded.result, created_at = excluded.created_at
			WHERE idempotency_keys.created_at <= $12
			RETURNING 1
		), `
		guard = "EXISTS (SELECT 1 FROM key)"
	}
	events, eargs, err := reserveOneEvents(ctx, r, len(args)+1)
	if err != nil {
		return err
	}
	args = append(args, eargs...)
	tag, err := c.Exec(ctx, `WITH `+key+`upd AS (
			UPDATE inventory SET reserved = reserved + $4, version = version + 1, updated_at = $5
			WHERE variant_id = $3 AND `+guard+`
			RETURNING variant_id, product_id, on_hand, reserved, version
		), `+events+`mv AS (
			INSERT INTO stock_movements (variant_id, product_id, sku, kind, on_hand_delta, reserved_delta, on_hand, reserved, reservation_id, actor, at)
			SELECT variant_id, product_id, $7, 'reserve', 0, $4, on_hand, reserved, $1, $2, $5 FROM upd
		), res AS (
			INSERT INTO reservations (id, status, actor, expires_at, created_at, updated_at)
			SELECT $1, 'held', $2, $6, $5, $5 FROM upd
		)
		INSERT INTO reservation_lines (reservation_id, line, variant_id, product_id, sku, quantity)
		SELECT $1, 0, variant_id, product_id, $7, $4 FROM upd`, args...)
	if sqlState(err) == checkViolation {
		return nil
	}
	*done = err == nil && tag.RowsAffected() == 1
	return err
}

// resolveLines finds each line's variant by SKU, in any case, and refuses unknown SKUs and
// products that are not for sale, naming the line, then lines above their variant's purchase
// limit: all before any stock is looked at.
func resolveLines(ctx context.Context, q querier, in []catalog.ReservationLine) ([]catalog.ReservationLine, error) {
	skus := make([]string, len(in))
	for i, l := range in {
		skus[i] = strings.ToLower(l.SKU)
	}
	rows, err := q.Query(ctx, `SELECT lower(v.sku), v.id::text, v.product_id::text, v.sku, p.status, v.purchase_limit
		FROM variants v JOIN products p ON p.id = v.product_id WHERE lower(v.sku) = ANY($1)`, skus)
	if err != nil {
		return nil, err
	}
	type found struct {
		id, pid, sku string
		status       catalog.Status
		limit        int64
	}
	bySKU := map[string]found{}
	for rows.Next() {
		var key string
		var f found
		if err := rows.Scan(&key, &f.id, &f.pid, &f.sku, &f.status, &f.limit); err != nil {
			return nil, err
		}
		bySKU[key] = f
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var problems catalog.Problems
	lines := make([]catalog.ReservationLine, len(in))
	for i, l := range in {
		f, ok := bySKU[skus[i]]
		switch {
		case !ok:
			problems.Add(fmt.Sprintf("lines[%d].sku", i), "no variant has SKU %q", l.SKU)
		case f.status != catalog.StatusActive:
			problems.Add(fmt.Sprintf("lines[%d].sku", i), "%s is %s, not for sale", f.sku, f.status)
		}
		lines[i] = catalog.ReservationLine{SKU: f.sku, Quantity: l.Quantity, VariantID: f.id, ProductID: f.pid}
	}
	if err := problems.Err(); err != nil {
		return lines, err
	}
	for i, l := range in {
		if f := bySKU[skus[i]]; f.limit > 0 && l.Quantity > f.limit {
			return lines, catalog.PurchaseLimitExceeded(i, f.sku, f.limit, l.Quantity)
		}
	}
	return lines, nil
}

func newReservation(in catalog.ReservationInput, lines []catalog.ReservationLine, now time.Time) catalog.Reservation {
	return catalog.Reservation{ID: catalog.NewID(), Status: catalog.ReservationHeld, Lines: lines, ExpiresAt: now.Add(in.TTL()), CreatedAt: now, UpdatedAt: now}
}

// vanished names the lines whose variant was deleted between resolving the SKU and locking
// its stock, as resolveLines would have had it been called a moment later.
func vanished(lines []catalog.ReservationLine, stock map[string]stockRow) error {
	var problems catalog.Problems
	for i, l := range lines {
		if _, ok := stock[l.VariantID]; !ok {
			problems.Add(fmt.Sprintf("lines[%d].sku", i), "no variant has SKU %q", l.SKU)
		}
	}
	return problems.Err()
}

// shortages lists the lines that locked stock cannot cover.
func shortages(lines []catalog.ReservationLine, stock map[string]stockRow) []catalog.Shortage {
	var out []catalog.Shortage
	for _, l := range lines {
		row := stock[l.VariantID]
		if row.onHand-row.reserved < l.Quantity {
			out = append(out, catalog.Shortage{SKU: l.SKU, Requested: l.Quantity, Available: row.onHand - row.reserved})
		}
	}
	return out
}

func reservationOf(ctx context.Context, q querier, id string, lock bool) (catalog.Reservation, error) {
	r := catalog.Reservation{ID: id}
	query := `SELECT status, expires_at, created_at, updated_at FROM reservations WHERE id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	err := q.QueryRow(ctx, query, id).Scan(&r.Status, &r.ExpiresAt, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, catalog.ErrReservationNotFound
	}
	if err != nil {
		return r, err
	}
	r.ExpiresAt, r.CreatedAt, r.UpdatedAt = r.ExpiresAt.UTC(), r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	rows, err := q.Query(ctx, `SELECT sku, quantity, coalesce(variant_id::text, ''), coalesce(product_id::text, '') FROM reservation_lines WHERE reservation_id = $1 ORDER BY line`, id)
	if err != nil {
		return r, err
	}
	r.Lines, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (catalog.ReservationLine, error) {
		var l catalog.ReservationLine
		err := row.Scan(&l.SKU, &l.Quantity, &l.VariantID, &l.ProductID)
		return l, err
	})
	return r, err
}

// Reservation returns a reservation.
func (s *Store) Reservation(ctx context.Context, id string) (catalog.Reservation, error) {
	if !catalog.ValidID(id) {
		return catalog.Reservation{}, catalog.ErrReservationNotFound
	}
	var r catalog.Reservation
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		r, err = reservationOf(ctx, tx, id, false)
		return err
	})
	return r, err
}

// finishAll ends held reservations (already locked) with status to, locking all their
// variants' stock in ID order first.
func finishAll(ctx context.Context, tx pgx.Tx, rs []*catalog.Reservation, to catalog.ReservationStatus, actor string, now time.Time) error {
	var ids []string
	var ms []*catalog.Movement
	for _, r := range rs {
		for _, l := range r.Lines {
			m := catalog.FinishMovement(*r, l, to, actor, now)
			ms = append(ms, &m)
			ids = append(ids, l.VariantID)
		}
	}
	if _, err := lockStock(ctx, tx, ids); err != nil {
		return err
	}
	// applyMoves takes one movement per variant per statement.
	for len(ms) > 0 {
		seen := map[string]bool{}
		var batch, later []*catalog.Movement
		for _, m := range ms {
			if seen[m.VariantID] {
				later = append(later, m)
			} else {
				seen[m.VariantID] = true
				batch = append(batch, m)
			}
		}
		if err := applyMoves(ctx, tx, batch); err != nil {
			return err
		}
		ms = later
	}
	resIDs := make([]string, len(rs))
	for i, r := range rs {
		resIDs[i] = r.ID
		r.Status, r.UpdatedAt = to, now
	}
	_, err := tx.Exec(ctx, `UPDATE reservations SET status = $2, updated_at = $3 WHERE id = ANY($1::uuid[])`, resIDs, to, now)
	return emitFinished(ctx, tx, err, rs, to, now)
}

func (s *Store) finish(ctx context.Context, id, actor string, idem *catalog.Idempotency, to catalog.ReservationStatus) (catalog.Reservation, error) {
	var r catalog.Reservation
	if !catalog.ValidID(id) {
		return r, catalog.ErrReservationNotFound
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if ok, err := s.claim(ctx, tx, idem, &r); ok || err != nil {
			r.Replayed = ok
			return err
		}
		var err error
		if r, err = reservationOf(ctx, tx, id, true); err != nil {
			return err
		}
		now := s.clock.Now()
		if err := catalog.CanFinish(r, to, now); err != nil {
			return err
		}
		if err := finishAll(ctx, tx, []*catalog.Reservation{&r}, to, actor, now); err != nil {
			return err
		}
		return remember(ctx, tx, idem, r)
	})
	return r, err
}

// CommitReservation takes the reserved units out of stock: the sale happened.
func (s *Store) CommitReservation(ctx context.Context, id, actor string, idem *catalog.Idempotency) (catalog.Reservation, error) {
	return s.finish(ctx, id, actor, idem, catalog.ReservationCommitted)
}

// ReleaseReservation gives the reserved units back.
func (s *Store) ReleaseReservation(ctx context.Context, id, actor string, idem *catalog.Idempotency) (catalog.Reservation, error) {
	return s.finish(ctx, id, actor, idem, catalog.ReservationReleased)
}

// ExpireReservations releases held reservations past their expiry. Instances sweeping at the
// same time skip each other's rows.
func (s *Store) ExpireReservations(ctx context.Context, limit int) ([]catalog.Reservation, error) {
	var out []catalog.Reservation
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = nil
		now := s.clock.Now()
		rows, err := tx.Query(ctx, `SELECT id::text FROM reservations WHERE status = 'held' AND expires_at <= $1
			ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`, now, limit)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		var rs []*catalog.Reservation
		for _, id := range ids {
			r, err := reservationOf(ctx, tx, id, false)
			if err != nil {
				return err
			}
			rs = append(rs, &r)
		}
		if len(rs) == 0 {
			return nil
		}
		if err := finishAll(ctx, tx, rs, catalog.ReservationExpired, catalog.ExpiryActor, now); err != nil {
			return err
		}
		for _, r := range rs {
			out = append(out, *r)
		}
		return nil
	})
	return out, err
}

// PurgeIdempotencyKeys deletes keys past their window, a batch at a time. SKIP LOCKED leaves a
// key that a request is reusing right now to that request.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, limit int) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
			SELECT ctid FROM idempotency_keys WHERE created_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
			s.clock.Now().Add(-catalog.IdempotencyTTL), limit)
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}

// PurgeReservations deletes finished reservations past retention (their lines go with them by
// the foreign key's cascade), a batch at a time. Only finished rows are touched, and locked ones
// skipped, so the checkout path never waits on a purge.
func (s *Store) PurgeReservations(ctx context.Context, retention time.Duration, limit int) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM reservations WHERE id IN (
			SELECT id FROM reservations WHERE status <> 'held' AND updated_at <= $1
			ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)`, s.clock.Now().Add(-retention), limit)
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}
