package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// refreshProductPrice recomputes a product's price range in one currency, the summary lists
// sort and filter by. min and max each read one end of the variant_prices index, so the cost
// does not grow with the variant count.
func refreshProductPrice(ctx context.Context, tx *sql.Tx, productID, currency string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM product_prices WHERE product_id = ? AND currency = ?`, productID, currency); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, refreshPriceSQL, productID, currency, productID, currency, productID, currency)
	return err
}

const refreshPriceSQL = `INSERT INTO product_prices (product_id, currency, min_amount, max_amount)
	SELECT ?, ?, lo, hi FROM (SELECT
		(SELECT min(amount) FROM variant_prices WHERE product_id = ? AND currency = ?) AS lo,
		(SELECT max(amount) FROM variant_prices WHERE product_id = ? AND currency = ?) AS hi)
	WHERE lo IS NOT NULL`

// priceWrite is a price becoming current.
type priceWrite struct {
	variantID, productID, currency string
	amount                         int64
	compareAt                      *int64
	// until opens a sale window ending then.
	until *time.Time
	// entryID is the scheduled history line being applied; 0 writes a new line.
	entryID int64
	kind    catalog.PriceKind
	actor   string
}

// errNotDue says a scheduled line was applied or cancelled by another transaction first.
var errNotDue = errors.New("price change no longer due")

// applyPrice makes a price current now: it ends a sale window running in that currency (a new
// window keeps the window's revert target, so nested sales revert to the regular price),
// computes the prior price from the history, writes or marks the history line, and keeps the
// product's price summary.
func applyPrice(ctx context.Context, tx *sql.Tx, w priceWrite, now time.Time) (catalog.PriceEvent, error) {
	at := now.UnixMicro()
	var (
		winEntry, revAmount, revCompare, curCompare sql.NullInt64
		curAmount                                   int64
	)
	err := tx.QueryRowContext(ctx, `SELECT window_entry_id, revert_amount, revert_compare_at, amount, compare_at
		FROM variant_prices WHERE variant_id = ? AND currency = ?`, w.variantID, w.currency).Scan(&winEntry, &revAmount, &revCompare, &curAmount, &curCompare)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return catalog.PriceEvent{}, err
	}
	if w.until != nil && !exists {
		// A scheduled window whose currency has no price any more (a removal cancels scheduled
		// lines, so only rows from before that rule get here) opens no window, as on
		// PostgreSQL: there is nothing to revert to.
		w.until = nil
	}
	var target, targetCompare any // the price a new window reverts to; NULL: none
	if w.until != nil {
		switch {
		case winEntry.Valid:
			target, targetCompare = nullIntArg(revAmount), nullIntArg(revCompare)
		case exists:
			target, targetCompare = curAmount, nullIntArg(curCompare)
		}
	}
	if winEntry.Valid {
		if _, err := tx.ExecContext(ctx, `UPDATE price_history SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, at, winEntry.Int64); err != nil {
			return catalog.PriceEvent{}, err
		}
	}
	prior, err := priorPrice(ctx, tx, w.variantID, w.currency, now, w.amount)
	if err != nil {
		return catalog.PriceEvent{}, err
	}
	e := catalog.PriceEntry{VariantID: w.variantID, Kind: w.kind, Price: catalog.Money{Currency: w.currency, Amount: w.amount},
		CompareAt: w.compareAt, ValidFrom: now, ValidUntil: w.until, AppliedAt: &now, Actor: w.actor, CreatedAt: now}
	if w.entryID == 0 {
		err = tx.QueryRowContext(ctx, `INSERT INTO price_history (variant_id, product_id, kind, currency, amount, compare_at, valid_from, valid_until, applied_at, actor, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			w.variantID, w.productID, w.kind, w.currency, w.amount, intOrNil(w.compareAt), at, timeOrNil(w.until), at, w.actor, at).Scan(&e.ID)
		if err != nil {
			return catalog.PriceEvent{}, err
		}
	} else {
		// Conditional, so a line is applied once however many sweepers find it due.
		res, err := tx.ExecContext(ctx, `UPDATE price_history SET applied_at = ? WHERE id = ? AND applied_at IS NULL AND ended_at IS NULL`, at, w.entryID)
		if err != nil {
			return catalog.PriceEvent{}, err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return catalog.PriceEvent{}, errors.Join(errNotDue, err)
		}
		e.ID = w.entryID
	}
	var winID, winEnds any
	if w.until != nil {
		winID, winEnds = e.ID, w.until.UnixMicro()
	} else {
		target, targetCompare = nil, nil
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO variant_prices (variant_id, product_id, currency, amount, compare_at, prior_amount,
			revert_amount, revert_compare_at, window_entry_id, window_ends_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (variant_id, currency) DO UPDATE SET amount = excluded.amount, compare_at = excluded.compare_at,
			prior_amount = excluded.prior_amount, revert_amount = excluded.revert_amount, revert_compare_at = excluded.revert_compare_at,
			window_entry_id = excluded.window_entry_id, window_ends_at = excluded.window_ends_at`,
		w.variantID, w.productID, w.currency, w.amount, intOrNil(w.compareAt), intOrNil(prior), target, targetCompare, winID, winEnds)
	if err != nil {
		return catalog.PriceEvent{}, err
	}
	if err := refreshProductPrice(ctx, tx, w.productID, w.currency); err != nil {
		return catalog.PriceEvent{}, err
	}
	pe := catalog.PriceApplied(w.productID, e, prior, w.until)
	return pe, emitPrice(ctx, tx, now, catalog.EventPriceChanged, pe)
}

func nullIntArg(n sql.NullInt64) any {
	if !n.Valid {
		return nil
	}
	return n.Int64
}

func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// priorLine is one history line of a variant and currency that became current.
const priorLine = `SELECT id, amount, applied_at FROM price_history WHERE variant_id = ? AND currency = ? AND applied_at IS NOT NULL AND `

// priorPriceSQL reads the lines priorPrice needs (see there).
const priorPriceSQL = `
	SELECT * FROM (` + priorLine + `applied_at < ? ORDER BY applied_at DESC, id DESC LIMIT 1)
	UNION SELECT * FROM (` + priorLine + `applied_at = ? AND applied_at < ?)
	UNION SELECT * FROM (` + priorLine + `applied_at >= ? AND applied_at < ? ORDER BY applied_at, id LIMIT 1)
	UNION SELECT * FROM (` + priorLine + `applied_at > ? AND applied_at < ? ORDER BY amount, id LIMIT 1)
	UNION SELECT * FROM (` + priorLine + `applied_at < ? ORDER BY applied_at DESC, id DESC LIMIT 1)`

// priorPrice computes the Omnibus prior price of a change to amount at at with
// catalog.PriorPrice, from the variant's applied history in that currency. It reads the few
// lines that give the same answer as the whole history: the price in effect when the 30 days
// began, the first line within them (which ends it), the lowest line after their first moment,
// the price in effect just before at, and every line applied exactly at their first moment (a
// line there replaced at the same instant was never in effect within them, and only its
// neighbours say so). So a variant repriced thousands of times a month costs an
// index range read, not a quadratic walk of its history.
func priorPrice(ctx context.Context, tx *sql.Tx, variantID, currency string, at time.Time, amount int64) (*int64, error) {
	from, until := at.Add(-catalog.PriorPriceWindow).UnixMicro(), at.UnixMicro()
	rows, err := tx.QueryContext(ctx, priorPriceSQL,
		variantID, currency, from,
		variantID, currency, from, until,
		variantID, currency, from, until,
		variantID, currency, from, until,
		variantID, currency, until)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var applied []catalog.PriceEntry
	for rows.Next() {
		var e catalog.PriceEntry
		var ap int64
		if err := rows.Scan(&e.ID, &e.Price.Amount, &ap); err != nil {
			return nil, err
		}
		t := micros(ap)
		e.AppliedAt = &t
		applied = append(applied, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return catalog.PriorPrice(applied, at, amount), nil
}

// dropPrice removes a variant's price in a currency, ending its window and cancelling its
// scheduled changes.
func dropPrice(ctx context.Context, tx *sql.Tx, variantID, productID, currency string, now time.Time) error {
	at := now.UnixMicro()
	if _, err := tx.ExecContext(ctx, `UPDATE price_history SET ended_at = ? WHERE ended_at IS NULL AND (
		id = (SELECT window_entry_id FROM variant_prices WHERE variant_id = ? AND currency = ?)
		OR (variant_id = ? AND currency = ? AND applied_at IS NULL))`, at, variantID, currency, variantID, currency); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM variant_prices WHERE variant_id = ? AND currency = ?`, variantID, currency); err != nil {
		return err
	}
	return refreshProductPrice(ctx, tx, productID, currency)
}

// variantProduct returns the product of a variant.
func variantProduct(ctx context.Context, tx *sql.Tx, variantID string) (string, error) {
	if !catalog.ValidID(variantID) {
		return "", catalog.ErrVariantNotFound
	}
	var productID string
	err := tx.QueryRowContext(ctx, `SELECT product_id FROM variants WHERE id = ?`, variantID).Scan(&productID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", catalog.ErrVariantNotFound
	}
	return productID, err
}

// SetPrice sets a variant's price in one currency now (moving the product's version),
// schedules it, or opens a sale window.
func (s *Store) SetPrice(ctx context.Context, variantID string, c catalog.PriceChange, actor string, ifVersion int64) (catalog.Variant, catalog.PriceEntry, error) {
	var (
		v catalog.Variant
		e catalog.PriceEntry
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now()
		if err := c.Validate(now); err != nil {
			return err
		}
		productID, err := variantProduct(ctx, tx, variantID)
		if err != nil {
			return err
		}
		p, err := productRow(ctx, tx, productID, ifVersion)
		if err != nil {
			return err
		}
		if c.ValidUntil != nil {
			var has bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM variant_prices WHERE variant_id = ? AND currency = ?)`,
				variantID, c.Currency).Scan(&has); err != nil {
				return err
			}
			if err := catalog.CheckSaleWindow(c, has); err != nil {
				return err
			}
		}
		version := p.Version
		pe, applied, err := s.setPriceOn(ctx, tx, productID, variantID, c, actor, now)
		if err != nil {
			return err
		}
		e = pe.PriceEntry
		if applied {
			version++
		}
		if v, err = variantOf(ctx, tx, productID, variantID); err != nil {
			return err
		}
		v.ProductVersion = version
		return nil
	})
	return v, e, err
}

// setPriceOn applies or schedules c for a variant of productID, and returns its event's data
// and whether it applied now (which moved the product's version) (SetPrice, SetPriceBatch).
func (s *Store) setPriceOn(ctx context.Context, tx *sql.Tx, productID, variantID string, c catalog.PriceChange, actor string, now time.Time) (catalog.PriceEvent, bool, error) {
	if from, later := c.Scheduled(now); later {
		e := catalog.PriceEntry{VariantID: variantID, Kind: catalog.PriceSet, Price: catalog.Money{Currency: c.Currency, Amount: c.Amount},
			CompareAt: c.CompareAt, ValidFrom: from, ValidUntil: c.Until(), Actor: actor, CreatedAt: now}
		if err := tx.QueryRowContext(ctx, `INSERT INTO price_history (variant_id, product_id, kind, currency, amount, compare_at, valid_from, valid_until, actor, created_at)
			VALUES (?, ?, 'set', ?, ?, ?, ?, ?, ?, ?) RETURNING id`, variantID, productID, c.Currency, c.Amount, intOrNil(c.CompareAt),
			from.UnixMicro(), timeOrNil(e.ValidUntil), actor, now.UnixMicro()).Scan(&e.ID); err != nil {
			return catalog.PriceEvent{}, false, err
		}
		pe := catalog.PriceScheduled(productID, e)
		return pe, false, emitPrice(ctx, tx, now, catalog.EventPriceScheduled, pe)
	}
	pe, err := applyPrice(ctx, tx, priceWrite{variantID: variantID, productID: productID, currency: c.Currency, amount: c.Amount,
		compareAt: c.CompareAt, until: c.Until(), kind: catalog.PriceSet, actor: actor}, now)
	if err != nil {
		return pe, false, err
	}
	return pe, true, bumpProduct(ctx, tx, productID, now)
}

// RemovePrice drops a variant's price in a currency; the last one stays.
func (s *Store) RemovePrice(ctx context.Context, variantID, currency, actor string, ifVersion int64) (catalog.Variant, error) {
	var v catalog.Variant
	err := s.write(ctx, func(tx *sql.Tx) error {
		productID, err := variantProduct(ctx, tx, variantID)
		if err != nil {
			return err
		}
		p, err := productRow(ctx, tx, productID, ifVersion)
		if err != nil {
			return err
		}
		var has, total int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE currency = ?), count(*) FROM variant_prices WHERE variant_id = ?`,
			currency, variantID).Scan(&has, &total); err != nil {
			return err
		}
		switch {
		case has == 0:
			return &catalog.Error{Code: catalog.CodeNotFound, Message: fmt.Sprintf("the variant has no price in %s", currency),
				Fields: []catalog.FieldError{{Field: "currency", Problem: fmt.Sprintf("no price in %q", currency)}}}
		case total == 1:
			return &catalog.Error{Code: catalog.CodeConflict, Message: "a variant keeps at least one price: set another currency first",
				Fields: []catalog.FieldError{{Field: "currency", Problem: fmt.Sprintf("%s is the variant's only price", currency)}}}
		}
		now := s.clock.Now()
		if err := dropPrice(ctx, tx, variantID, productID, currency, now); err != nil {
			return err
		}
		if err := bumpProduct(ctx, tx, productID, now); err != nil {
			return err
		}
		if v, err = variantOf(ctx, tx, productID, variantID); err != nil {
			return err
		}
		v.ProductVersion = p.Version + 1
		return s.emit(ctx, tx, catalog.EventVariantUpdated, v)
	})
	return v, err
}

// maxHistory bounds one history read: the newest lines, returned oldest first.
const maxHistory = 1000

// PriceHistory lists a variant's price history, oldest first, scheduled lines included.
func (s *Store) PriceHistory(ctx context.Context, variantID, currency string) ([]catalog.PriceEntry, error) {
	out := []catalog.PriceEntry{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		if !catalog.ValidID(variantID) {
			return catalog.ErrVariantNotFound
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM variants WHERE id = ?`, variantID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrVariantNotFound
		} else if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT * FROM (SELECT id, kind, currency, amount, compare_at, valid_from, valid_until, applied_at, ended_at, actor, created_at
			FROM price_history WHERE variant_id = ? AND (? = '' OR currency = ?) ORDER BY valid_from DESC, id DESC LIMIT ?)
			ORDER BY valid_from, id`, variantID, currency, currency, maxHistory)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e := catalog.PriceEntry{VariantID: variantID}
			var from, created int64
			var compareAt, until, applied, ended sql.NullInt64
			if err := rows.Scan(&e.ID, &e.Kind, &e.Price.Currency, &e.Price.Amount, &compareAt, &from, &until, &applied, &ended, &e.Actor, &created); err != nil {
				return err
			}
			e.CompareAt = nullInt(compareAt)
			e.ValidFrom, e.CreatedAt = micros(from), micros(created)
			e.ValidUntil, e.AppliedAt, e.EndedAt = nullTime(until), nullTime(applied), nullTime(ended)
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}

func nullTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := micros(n.Int64)
	return &t
}

// ApplyDuePrices makes due scheduled prices current and reverts ended sale windows, oldest
// first, at most limit in all. SQLite has one writer at a time: two Store handles on one file
// (or two processes) run this transaction one after the other, and the second finds the first's
// work done; the conditional updates make each change happen once even so.
func (s *Store) ApplyDuePrices(ctx context.Context, limit int) ([]catalog.AppliedPrice, error) {
	var out []catalog.AppliedPrice
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = nil
		now := s.clock.Now()
		at := now.UnixMicro()
		type due struct {
			id                             int64
			variantID, productID, currency string
			amount                         int64
			compareAt, until               sql.NullInt64
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, variant_id, product_id, currency, amount, compare_at, valid_until FROM price_history
			WHERE applied_at IS NULL AND ended_at IS NULL AND valid_from <= ? ORDER BY valid_from, id LIMIT ?`, at, limit)
		if err != nil {
			return err
		}
		var dues []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.variantID, &d.productID, &d.currency, &d.amount, &d.compareAt, &d.until); err != nil {
				rows.Close()
				return err
			}
			dues = append(dues, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range dues {
			var one int
			switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM variants WHERE id = ?`, d.variantID).Scan(&one); {
			case errors.Is(err, sql.ErrNoRows):
				// The variant went away: the change can never apply.
				if _, err := tx.ExecContext(ctx, `UPDATE price_history SET ended_at = ? WHERE id = ?`, at, d.id); err != nil {
					return err
				}
				continue
			case err != nil:
				return err
			}
			e, err := applyPrice(ctx, tx, priceWrite{variantID: d.variantID, productID: d.productID, currency: d.currency,
				amount: d.amount, compareAt: nullInt(d.compareAt), until: nullTime(d.until), entryID: d.id,
				kind: catalog.PriceSet, actor: catalog.PriceSweepActor}, now)
			if errors.Is(err, errNotDue) {
				continue
			}
			if err != nil {
				return err
			}
			if err := bumpProduct(ctx, tx, d.productID, now); err != nil {
				return err
			}
			out = append(out, catalog.AppliedPrice{EntryID: e.ID, VariantID: d.variantID, ProductID: d.productID,
				Kind: catalog.PriceSet, Price: e.Price, At: now})
		}

		if left := limit - len(dues); left > 0 {
			reverts, err := s.revertWindows(ctx, tx, now, left)
			if err != nil {
				return err
			}
			out = append(out, reverts...)
		}
		return nil
	})
	return out, err
}

// revertWindows ends the sale windows whose time is up, restoring the price before each.
func (s *Store) revertWindows(ctx context.Context, tx *sql.Tx, now time.Time, limit int) ([]catalog.AppliedPrice, error) {
	at := now.UnixMicro()
	type ended struct {
		variantID, productID, currency string
		entry                          int64
		amount, compareAt              sql.NullInt64
	}
	rows, err := tx.QueryContext(ctx, `SELECT variant_id, product_id, currency, window_entry_id, revert_amount, revert_compare_at
		FROM variant_prices WHERE window_ends_at IS NOT NULL AND window_ends_at <= ? ORDER BY window_ends_at LIMIT ?`, at, limit)
	if err != nil {
		return nil, err
	}
	var ends []ended
	for rows.Next() {
		var e ended
		if err := rows.Scan(&e.variantID, &e.productID, &e.currency, &e.entry, &e.amount, &e.compareAt); err != nil {
			rows.Close()
			return nil, err
		}
		ends = append(ends, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []catalog.AppliedPrice
	for _, w := range ends {
		res, err := tx.ExecContext(ctx, `UPDATE variant_prices SET window_entry_id = NULL, window_ends_at = NULL, revert_amount = NULL, revert_compare_at = NULL
			WHERE variant_id = ? AND currency = ? AND window_entry_id = ?`, w.variantID, w.currency, w.entry)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE price_history SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, at, w.entry); err != nil {
			return nil, err
		}
		ap := catalog.AppliedPrice{EntryID: w.entry, VariantID: w.variantID, ProductID: w.productID, Kind: catalog.PriceRevert, At: now}
		if w.amount.Valid {
			e, err := applyPrice(ctx, tx, priceWrite{variantID: w.variantID, productID: w.productID, currency: w.currency,
				amount: w.amount.Int64, compareAt: nullInt(w.compareAt), kind: catalog.PriceRevert, actor: catalog.PriceSweepActor}, now)
			if err != nil {
				return nil, err
			}
			ap.EntryID, ap.Price = e.ID, e.Price
		} else {
			// The window opened a currency the variant had no price in (rows written before
			// catalog.CheckSaleWindow refused that): it closes again, unless it became the
			// variant's only price meanwhile (a variant keeps one).
			ap.Price = catalog.Money{Currency: w.currency}
			if _, err := tx.ExecContext(ctx, `DELETE FROM variant_prices WHERE variant_id = ? AND currency = ?
				AND EXISTS (SELECT 1 FROM variant_prices o WHERE o.variant_id = ? AND o.currency <> ?)`, w.variantID, w.currency, w.variantID, w.currency); err != nil {
				return nil, err
			}
			if err := refreshProductPrice(ctx, tx, w.productID, w.currency); err != nil {
				return nil, err
			}
		}
		if err := bumpProduct(ctx, tx, w.productID, now); err != nil {
			return nil, err
		}
		if !w.amount.Valid {
			// No price became current, so no price event: the variant's event says what it
			// has now, as a removal's does.
			if err := s.emitVariant(ctx, tx, w.productID, w.variantID); err != nil {
				return nil, err
			}
		}
		out = append(out, ap)
	}
	return out, nil
}

// emitVariant records catalog.variant.updated with the variant as it is now.
func (s *Store) emitVariant(ctx context.Context, tx *sql.Tx, productID, variantID string) error {
	v, err := variantOf(ctx, tx, productID, variantID)
	if err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `SELECT version FROM products WHERE id = ?`, productID).Scan(&v.ProductVersion); err != nil {
		return err
	}
	return s.emit(ctx, tx, catalog.EventVariantUpdated, v)
}
