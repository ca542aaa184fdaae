package postgres

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
)

// Every write of a variant's prices holds its product's row lock first (SetPrice, RemovePrice,
// UpdateVariant, AddVariant, DeleteVariant, and the sweeper, which takes product rows with SKIP
// LOCKED): the product's version moves with its current prices, and with the product row
// held, a price row, its history and the product's summary are read and written by one
// transaction at a time.

// currentPrice is a variant's price row in one currency, window state included.
type currentPrice struct {
	amount                int64
	compareAt             *int64
	revertAmount          *int64
	revertCompareAt       *int64
	windowEntry           *int64
	windowEndsAt          *time.Time
	exists, windowRunning bool
}

func priceRow(ctx context.Context, q querier, vid, currency string) (currentPrice, error) {
	var c currentPrice
	err := q.QueryRow(ctx, `SELECT amount, compare_at, revert_amount, revert_compare_at, window_entry_id, window_ends_at
		FROM variant_prices WHERE variant_id = $1 AND currency = $2`, vid, currency).
		Scan(&c.amount, &c.compareAt, &c.revertAmount, &c.revertCompareAt, &c.windowEntry, &c.windowEndsAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, nil
	}
	c.exists = err == nil
	c.windowRunning = c.exists && c.windowEntry != nil
	return c, err
}

// priorPrice computes the prior price of a change to amount at at from the variant's applied
// history in currency (catalog.PriorPrice): priorPriceSQL for one price, the statement an
// import runs for a batch, so what a write reads stays within the window's index range
// however often the price changed in the 30 days (the two lines read before it was shared
// were every line of the window).
func priorPrice(ctx context.Context, q querier, vid, currency string, at time.Time, amount int64) (*int64, error) {
	var (
		n      int
		window *int64
		prior  *int64
	)
	err := q.QueryRow(ctx, priorPriceSQL, []string{vid}, []string{currency}, []int64{amount}, at.Add(-catalog.PriorPriceWindow), at).Scan(&n, &window, &prior)
	return prior, err
}

// makeCurrent makes amount the current price of variant vid in currency at now. entryID is
// the history line that says so (0: write one, kind set); until opens a sale window. A
// running window in that currency ends (its line's ended_at): replaced by this price. A new
// window reverts to the price before the first of the windows that replaced each other.
func makeCurrent(ctx context.Context, tx pgx.Tx, vid, pid, currency string, amount int64, compareAt *int64, until *time.Time, entryID int64, now time.Time, actor string) (catalog.PriceEvent, error) {
	e := catalog.PriceEntry{ID: entryID, VariantID: vid, Kind: catalog.PriceSet, Price: catalog.Money{Currency: currency, Amount: amount},
		CompareAt: compareAt, ValidFrom: now, ValidUntil: until, AppliedAt: &now, Actor: actor, CreatedAt: now}
	cur, err := priceRow(ctx, tx, vid, currency)
	if err != nil {
		return catalog.PriceEvent{}, err
	}
	prior, err := priorPrice(ctx, tx, vid, currency, now, amount)
	if err != nil {
		return catalog.PriceEvent{}, err
	}
	if cur.windowRunning {
		if _, err := tx.Exec(ctx, `UPDATE price_history SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL`, *cur.windowEntry, now); err != nil {
			return catalog.PriceEvent{}, err
		}
	}
	if entryID == 0 {
		err = tx.QueryRow(ctx, `INSERT INTO price_history (variant_id, product_id, kind, currency, amount, compare_at, valid_from, valid_until, applied_at, actor, created_at)
			VALUES ($1, $2, 'set', $3, $4, $5, $6, $7, $6, $8, $6) RETURNING id`, vid, pid, currency, amount, compareAt, now, until, actor).Scan(&e.ID)
	} else {
		err = tx.QueryRow(ctx, `UPDATE price_history SET applied_at = $2 WHERE id = $1
			RETURNING valid_from, valid_until, actor, created_at`, entryID, now).Scan(&e.ValidFrom, &e.ValidUntil, &e.Actor, &e.CreatedAt)
		e.ValidFrom, e.CreatedAt = e.ValidFrom.UTC(), e.CreatedAt.UTC()
		e.ValidUntil = utcPtr(e.ValidUntil)
	}
	if err != nil {
		return catalog.PriceEvent{}, err
	}
	var revertAmount, revertCompareAt, windowEntry *int64
	if until != nil {
		revertAmount, revertCompareAt = &cur.amount, cur.compareAt
		if cur.windowRunning {
			revertAmount, revertCompareAt = cur.revertAmount, cur.revertCompareAt
		}
		windowEntry = &e.ID
	}
	_, err = tx.Exec(ctx, `INSERT INTO variant_prices (variant_id, currency, product_id, amount, compare_at, prior_amount,
			revert_amount, revert_compare_at, window_entry_id, window_ends_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (variant_id, currency) DO UPDATE SET amount = excluded.amount, compare_at = excluded.compare_at,
			prior_amount = excluded.prior_amount, revert_amount = excluded.revert_amount, revert_compare_at = excluded.revert_compare_at,
			window_entry_id = excluded.window_entry_id, window_ends_at = excluded.window_ends_at`,
		vid, currency, pid, amount, compareAt, prior, revertAmount, revertCompareAt, windowEntry, until)
	pe := catalog.PriceApplied(pid, e, prior, until)
	return pe, emitPrice(ctx, tx, err, now, catalog.EventPriceChanged, pe)
}

// revertWindow ends the sale window running in vid's currency: the price before it becomes
// current again, with a revert line in the history.
func revertWindow(ctx context.Context, tx pgx.Tx, vid, pid, currency string, now time.Time) (catalog.PriceEvent, error) {
	e := catalog.PriceEntry{VariantID: vid, Kind: catalog.PriceRevert, ValidFrom: now, AppliedAt: &now, Actor: catalog.PriceSweepActor, CreatedAt: now}
	cur, err := priceRow(ctx, tx, vid, currency)
	if err != nil || !cur.windowRunning {
		return catalog.PriceEvent{PriceEntry: e}, err
	}
	amount, compareAt := cur.amount, cur.compareAt
	if cur.revertAmount != nil {
		amount, compareAt = *cur.revertAmount, cur.revertCompareAt
	}
	e.Price, e.CompareAt = catalog.Money{Currency: currency, Amount: amount}, compareAt
	prior, err := priorPrice(ctx, tx, vid, currency, now, amount)
	if err != nil {
		return catalog.PriceEvent{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE price_history SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL`, *cur.windowEntry, now); err != nil {
		return catalog.PriceEvent{}, err
	}
	if err := tx.QueryRow(ctx, `INSERT INTO price_history (variant_id, product_id, kind, currency, amount, compare_at, valid_from, applied_at, actor, created_at)
		VALUES ($1, $2, 'revert', $3, $4, $5, $6, $6, $7, $6) RETURNING id`, vid, pid, currency, amount, compareAt, now, catalog.PriceSweepActor).Scan(&e.ID); err != nil {
		return catalog.PriceEvent{}, err
	}
	_, err = tx.Exec(ctx, `UPDATE variant_prices SET amount = $3, compare_at = $4, prior_amount = $5, revert_amount = NULL,
		revert_compare_at = NULL, window_entry_id = NULL, window_ends_at = NULL WHERE variant_id = $1 AND currency = $2`,
		vid, currency, amount, compareAt, prior)
	pe := catalog.PriceApplied(pid, e, prior, nil)
	return pe, emitPrice(ctx, tx, err, now, catalog.EventPriceChanged, pe)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// variantProduct returns the product ID of a variant.
func variantProduct(ctx context.Context, q querier, vid string) (string, error) {
	var pid string
	err := q.QueryRow(ctx, `SELECT product_id::text FROM variants WHERE id = $1`, vid).Scan(&pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", catalog.ErrVariantNotFound
	}
	return pid, err
}

// lockVariantProduct locks the product of variant vid (checking ifVersion) and confirms the
// variant is still there.
func lockVariantProduct(ctx context.Context, tx pgx.Tx, vid string, ifVersion int64) (catalog.Product, error) {
	pid, err := variantProduct(ctx, tx, vid)
	if err != nil {
		return catalog.Product{}, err
	}
	p, err := lockProduct(ctx, tx, pid, ifVersion)
	if errors.Is(err, catalog.ErrProductNotFound) {
		return p, catalog.ErrVariantNotFound
	} else if err != nil {
		return p, err
	}
	if _, err := variantProduct(ctx, tx, vid); err != nil { // deleted while we waited for the lock
		return p, err
	}
	return p, nil
}

// bumpProduct moves a product's version after a write to it or its variants, and its variant
// count by added.
func bumpProduct(ctx context.Context, q querier, pid string, now time.Time, added ...int) (int64, error) {
	d := 0
	for _, a := range added {
		d += a
	}
	var v int64
	err := q.QueryRow(ctx, `UPDATE products SET version = version + 1, updated_at = $2, variant_count = variant_count + $3
		WHERE id = $1 RETURNING version`, pid, now, d).Scan(&v)
	return v, err
}

// variantOf reads one variant with its stock and prices, its ProductVersion set to version.
func variantOf(ctx context.Context, q querier, vid string, version int64) (catalog.Variant, error) {
	v, err := scanVariant(q.QueryRow(ctx, `SELECT `+variantColumns+variantFrom+` WHERE v.id = $1`, vid))
	if errors.Is(err, pgx.ErrNoRows) {
		return v, catalog.ErrVariantNotFound
	}
	v.ProductVersion = version
	return v, err
}

// SetPrice sets a variant's price in one currency now, schedules it, or opens a sale window.
func (s *Store) SetPrice(ctx context.Context, variantID string, c catalog.PriceChange, actor string, ifVersion int64) (catalog.Variant, catalog.PriceEntry, error) {
	var (
		v catalog.Variant
		e catalog.PriceEntry
	)
	if !catalog.ValidID(variantID) {
		return v, e, catalog.ErrVariantNotFound
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.clock.Now()
		if err := c.Validate(now); err != nil {
			return err
		}
		p, err := lockVariantProduct(ctx, tx, variantID, ifVersion)
		if err != nil {
			return err
		}
		if err := windowHasPrice(ctx, tx, variantID, c); err != nil {
			return err
		}
		pe, version, err := setPriceOn(ctx, tx, p, variantID, c, actor, now)
		if err != nil {
			return err
		}
		e = pe.PriceEntry
		v, err = variantOf(ctx, tx, variantID, version)
		return err
	})
	return v, e, err
}

// windowHasPrice refuses a sale window on a variant without a current price in its currency:
// there would be nothing to revert to.
func windowHasPrice(ctx context.Context, q querier, variantID string, c catalog.PriceChange) error {
	if c.ValidUntil == nil {
		return nil
	}
	cur, err := priceRow(ctx, q, variantID, c.Currency)
	if err != nil {
		return err
	}
	return catalog.CheckSaleWindow(c, cur.exists)
}

// setPriceOn applies or schedules c for a variant of p, whose row the transaction holds, and
// returns its event's data (the history line with the product) and the product's version
// after it (SetPrice, SetPriceBatch).
func setPriceOn(ctx context.Context, tx pgx.Tx, p catalog.Product, variantID string, c catalog.PriceChange, actor string, now time.Time) (catalog.PriceEvent, int64, error) {
	version := p.Version
	if from, later := c.Scheduled(now); later {
		e := catalog.PriceEntry{VariantID: variantID, Kind: catalog.PriceSet, Price: catalog.Money{Currency: c.Currency, Amount: c.Amount},
			CompareAt: c.CompareAt, ValidFrom: from, ValidUntil: c.Until(), Actor: actor, CreatedAt: now}
		err := tx.QueryRow(ctx, `INSERT INTO price_history (variant_id, product_id, kind, currency, amount, compare_at, valid_from, valid_until, actor, created_at)
			VALUES ($1, $2, 'set', $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			variantID, p.ID, c.Currency, c.Amount, c.CompareAt, from, c.Until(), actor, now).Scan(&e.ID)
		pe := catalog.PriceScheduled(p.ID, e)
		return pe, version, emitPrice(ctx, tx, err, now, catalog.EventPriceScheduled, pe)
	}
	pe, err := makeCurrent(ctx, tx, variantID, p.ID, c.Currency, c.Amount, c.CompareAt, c.Until(), 0, now, actor)
	if err != nil {
		return pe, version, err
	}
	if err := refreshProductPrices(ctx, tx, p.ID, []string{c.Currency}); err != nil {
		return pe, version, err
	}
	version, err = bumpProduct(ctx, tx, p.ID, now)
	return pe, version, err
}

// removePrices drops a variant's prices in currencies and cancels their scheduled changes
// (ended_at set on lines never applied), and ends a running window's line.
func removePrices(ctx context.Context, tx pgx.Tx, vid string, currencies []string, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE price_history SET ended_at = $3 WHERE variant_id = $1 AND currency = ANY($2) AND ended_at IS NULL
		AND (applied_at IS NULL OR id IN (SELECT window_entry_id FROM variant_prices WHERE variant_id = $1 AND currency = ANY($2)))`, vid, currencies, now); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM variant_prices WHERE variant_id = $1 AND currency = ANY($2)`, vid, currencies)
	return err
}

// RemovePrice drops a variant's price in a currency and cancels its scheduled changes; the
// variant's last price cannot go.
func (s *Store) RemovePrice(ctx context.Context, variantID, currency, actor string, ifVersion int64) (catalog.Variant, error) {
	var v catalog.Variant
	if !catalog.ValidID(variantID) {
		return v, catalog.ErrVariantNotFound
	}
	if _, ok := catalog.MinorUnits(currency); !ok {
		return v, catalog.InvalidField("currency", "%q is not an ISO 4217 currency code (upper case, e.g. USD)", currency)
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		p, err := lockVariantProduct(ctx, tx, variantID, ifVersion)
		if err != nil {
			return err
		}
		var has bool
		var n int
		if err := tx.QueryRow(ctx, `SELECT bool_or(currency = $2), count(*) FROM variant_prices WHERE variant_id = $1`, variantID, currency).Scan(&has, &n); err != nil {
			return err
		}
		switch {
		case !has:
			return &catalog.Error{Code: catalog.CodeNotFound, Message: "the variant has no price in " + currency,
				Fields: []catalog.FieldError{{Field: "currency", Problem: "no price in " + currency}}}
		case n == 1:
			return &catalog.Error{Code: catalog.CodeConflict, Message: "a variant keeps at least one price: set another currency's price first",
				Fields: []catalog.FieldError{{Field: "currency", Problem: currency + " is the variant's only price"}}}
		}
		now := s.clock.Now()
		if err := removePrices(ctx, tx, variantID, []string{currency}, now); err != nil {
			return err
		}
		if err := refreshProductPrices(ctx, tx, p.ID, []string{currency}); err != nil {
			return err
		}
		version, err := bumpProduct(ctx, tx, p.ID, now)
		if err != nil {
			return err
		}
		v, err = variantOf(ctx, tx, variantID, version)
		return s.emitAfter(ctx, tx, err, catalog.EventVariantUpdated, v)
	})
	return v, err
}

// maxPriceHistory bounds what one PriceHistory call returns: the newest lines.
const maxPriceHistory = 5000

// PriceHistory lists a variant's prices, oldest first, scheduled ones included (at most the
// newest maxPriceHistory).
func (s *Store) PriceHistory(ctx context.Context, variantID, currency string) ([]catalog.PriceEntry, error) {
	if !catalog.ValidID(variantID) {
		return nil, catalog.ErrVariantNotFound
	}
	var out []catalog.PriceEntry
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := variantProduct(ctx, tx, variantID); err != nil {
			return err
		}
		// The newest lines when there are more than the bound, oldest first.
		rows, err := tx.Query(ctx, `SELECT * FROM (SELECT id, variant_id::text, kind, currency, amount, compare_at, valid_from, valid_until,
			applied_at, ended_at, actor, created_at FROM price_history
			WHERE variant_id = $1 AND ($2 = '' OR currency = $2) ORDER BY id DESC LIMIT $3) h ORDER BY id`, variantID, currency, maxPriceHistory)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (catalog.PriceEntry, error) {
			var e catalog.PriceEntry
			err := row.Scan(&e.ID, &e.VariantID, &e.Kind, &e.Price.Currency, &e.Price.Amount, &e.CompareAt, &e.ValidFrom, &e.ValidUntil,
				&e.AppliedAt, &e.EndedAt, &e.Actor, &e.CreatedAt)
			e.ValidFrom, e.CreatedAt = e.ValidFrom.UTC(), e.CreatedAt.UTC()
			e.ValidUntil, e.AppliedAt, e.EndedAt = utcPtr(e.ValidUntil), utcPtr(e.AppliedAt), utcPtr(e.EndedAt)
			return e, err
		})
		return err
	})
	if out == nil && err == nil {
		out = []catalog.PriceEntry{}
	}
	return out, err
}

// priceEvent is one change the sweeper makes: a scheduled line that applies, or a window that
// ends.
type priceEvent struct {
	at                 time.Time
	entryID            int64 // the scheduled line; 0 for a window's end
	vid, pid, currency string
	amount             int64
	compareAt          *int64
	until              *time.Time
}

// ApplyDuePrices applies due scheduled prices and reverts ended sale windows, in time order.
// It locks the products concerned with SKIP LOCKED: a product another sweeper (or a price
// write) holds is left to it, and with its product held every change is read and made by one
// transaction only, so each happens exactly once across instances.
func (s *Store) ApplyDuePrices(ctx context.Context, limit int) ([]catalog.AppliedPrice, error) {
	var out []catalog.AppliedPrice
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = nil
		now := s.clock.Now()
		rows, err := tx.Query(ctx, `SELECT id::text FROM products WHERE id IN (
				(SELECT product_id FROM price_history h WHERE applied_at IS NULL AND ended_at IS NULL AND valid_from <= $1
					AND EXISTS (SELECT 1 FROM variants v WHERE v.id = h.variant_id) ORDER BY valid_from LIMIT $2)
				UNION
				(SELECT product_id FROM variant_prices WHERE window_ends_at <= $1 ORDER BY window_ends_at LIMIT $2))
			ORDER BY id FOR UPDATE SKIP LOCKED`, now, limit)
		if err != nil {
			return err
		}
		pids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(pids) == 0 {
			return err
		}
		changed := map[string]map[string]bool{}
		for len(out) < limit {
			events, err := dueEvents(ctx, tx, pids, now)
			if err != nil {
				return err
			}
			if len(events) == 0 {
				break
			}
			for _, ev := range events[:min(len(events), limit-len(out))] {
				var e catalog.PriceEvent
				if ev.entryID != 0 {
					if e, err = s.applyScheduled(ctx, tx, ev, now); err != nil {
						return err
					}
				} else if e, err = revertWindow(ctx, tx, ev.vid, ev.pid, ev.currency, now); err != nil {
					return err
				}
				if changed[ev.pid] == nil {
					changed[ev.pid] = map[string]bool{}
				}
				changed[ev.pid][ev.currency] = true
				out = append(out, catalog.AppliedPrice{EntryID: e.ID, VariantID: ev.vid, ProductID: ev.pid, Kind: e.Kind, Price: e.Price, At: now})
			}
		}
		for pid, curs := range changed {
			if err := refreshProductPrices(ctx, tx, pid, keys(curs)); err != nil {
				return err
			}
			if _, err := bumpProduct(ctx, tx, pid, now); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// applyScheduled makes a due scheduled line current. A line whose variant has no price in its
// currency any more (removed after scheduling cancels it, so only a window needs one) opens no
// window.
func (s *Store) applyScheduled(ctx context.Context, tx pgx.Tx, ev priceEvent, now time.Time) (catalog.PriceEvent, error) {
	until := ev.until
	if until != nil {
		cur, err := priceRow(ctx, tx, ev.vid, ev.currency)
		if err != nil {
			return catalog.PriceEvent{}, err
		}
		if !cur.exists {
			until = nil
		}
	}
	var actor string
	if err := tx.QueryRow(ctx, `SELECT actor FROM price_history WHERE id = $1`, ev.entryID).Scan(&actor); err != nil {
		return catalog.PriceEvent{}, err
	}
	return makeCurrent(ctx, tx, ev.vid, ev.pid, ev.currency, ev.amount, ev.compareAt, until, ev.entryID, now, actor)
}

// dueEvents lists the due changes of the locked products, oldest first.
func dueEvents(ctx context.Context, tx pgx.Tx, pids []string, now time.Time) ([]priceEvent, error) {
	rows, err := tx.Query(ctx, `SELECT valid_from, id, variant_id::text, product_id::text, currency, amount, compare_at, valid_until
		FROM price_history h WHERE product_id = ANY($1::uuid[]) AND applied_at IS NULL AND ended_at IS NULL AND valid_from <= $2
			AND EXISTS (SELECT 1 FROM variants v WHERE v.id = h.variant_id)
		UNION ALL
		SELECT window_ends_at, 0, variant_id::text, product_id::text, currency, 0, NULL, NULL
		FROM variant_prices WHERE product_id = ANY($1::uuid[]) AND window_ends_at <= $2`, pids, now)
	if err != nil {
		return nil, err
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (priceEvent, error) {
		var ev priceEvent
		err := r.Scan(&ev.at, &ev.entryID, &ev.vid, &ev.pid, &ev.currency, &ev.amount, &ev.compareAt, &ev.until)
		return ev, err
	})
	if err != nil {
		return nil, err
	}
	// Time order; at the same instant a window ends before a price scheduled then applies,
	// so the scheduled price is not reverted with the window.
	sort.SliceStable(events, func(i, j int) bool {
		if !events[i].at.Equal(events[j].at) {
			return events[i].at.Before(events[j].at)
		}
		if (events[i].entryID == 0) != (events[j].entryID == 0) {
			return events[i].entryID == 0
		}
		return events[i].entryID < events[j].entryID
	})
	// One pass applies at most one change per variant and currency: the next may depend on it
	// (a window that opened and is already over); the caller loops.
	seen := map[[2]string]bool{}
	var out []priceEvent
	for _, ev := range events {
		k := [2]string{ev.vid, ev.currency}
		if !seen[k] {
			seen[k] = true
			out = append(out, ev)
		}
	}
	return out, nil
}
