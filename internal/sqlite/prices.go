package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// recordPrice appends to a product's price history; applied is nil for a scheduled price.
func recordPrice(ctx context.Context, tx *sql.Tx, productID string, price catalog.Money, validFrom time.Time, applied *time.Time, actor string, now time.Time) (catalog.PriceEntry, error) {
	e := catalog.PriceEntry{Price: price, ValidFrom: validFrom, AppliedAt: applied, Actor: actor, CreatedAt: now}
	var appliedAt any
	if applied != nil {
		appliedAt = applied.UnixMicro()
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO price_history (product_id, currency, amount, valid_from, applied_at, actor, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, productID, price.Currency, price.Amount, validFrom.UnixMicro(), appliedAt, actor, now.UnixMicro()).Scan(&e.ID)
	return e, err
}

// SetPrice changes a product's price now (bumping its version) or schedules it.
func (s *Store) SetPrice(ctx context.Context, productID string, c catalog.PriceChange, actor string, ifVersion int64) (catalog.Product, catalog.PriceEntry, error) {
	var (
		p catalog.Product
		e catalog.PriceEntry
	)
	if !catalog.ValidID(productID) {
		return p, e, catalog.ErrProductNotFound
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now()
		if err := c.Validate(now); err != nil {
			return err
		}
		var version int64
		err := tx.QueryRowContext(ctx, `SELECT version FROM products WHERE id = ?`, productID).Scan(&version)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return catalog.ErrProductNotFound
		case err != nil:
			return err
		case ifVersion != 0 && version != ifVersion:
			return catalog.StaleVersion(version, ifVersion)
		}
		if from, later := c.Scheduled(now); later {
			e, err = recordPrice(ctx, tx, productID, c.Price, from, nil, actor, now)
		} else {
			if _, err := tx.ExecContext(ctx, `UPDATE products SET price_currency = ?, price_amount = ?, version = version + 1, updated_at = ? WHERE id = ?`,
				c.Price.Currency, c.Price.Amount, now.UnixMicro(), productID); err != nil {
				return err
			}
			e, err = recordPrice(ctx, tx, productID, c.Price, now, &now, actor, now)
		}
		if err != nil {
			return err
		}
		p, err = productOf(tx, ctx, productID)
		return err
	})
	return p, e, err
}

// PriceHistory lists a product's prices, latest valid_from first, scheduled ones included.
func (s *Store) PriceHistory(ctx context.Context, productID string) ([]catalog.PriceEntry, error) {
	if !catalog.ValidID(productID) {
		return nil, catalog.ErrProductNotFound
	}
	var out []catalog.PriceEntry
	err := s.read(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM products WHERE id = ?`, productID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrProductNotFound
		} else if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, currency, amount, valid_from, applied_at, actor, created_at FROM price_history
			WHERE product_id = ? ORDER BY valid_from DESC, id DESC LIMIT 1000`, productID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e catalog.PriceEntry
			var from, created int64
			var applied sql.NullInt64
			if err := rows.Scan(&e.ID, &e.Price.Currency, &e.Price.Amount, &from, &applied, &e.Actor, &created); err != nil {
				return err
			}
			e.ValidFrom, e.CreatedAt = micros(from), micros(created)
			if applied.Valid {
				t := micros(applied.Int64)
				e.AppliedAt = &t
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}

// ApplyDuePrices makes due scheduled prices current, oldest first.
func (s *Store) ApplyDuePrices(ctx context.Context, limit int) ([]catalog.AppliedPrice, error) {
	var out []catalog.AppliedPrice
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = nil
		now := s.clock.Now()
		rows, err := tx.QueryContext(ctx, `SELECT id, product_id, currency, amount, valid_from FROM price_history
			WHERE applied_at IS NULL AND valid_from <= ? ORDER BY valid_from, id LIMIT ?`, now.UnixMicro(), limit)
		if err != nil {
			return err
		}
		var dues []catalog.AppliedPrice
		for rows.Next() {
			var d catalog.AppliedPrice
			var from int64
			if err := rows.Scan(&d.ID, &d.ProductID, &d.Price.Currency, &d.Price.Amount, &from); err != nil {
				rows.Close()
				return err
			}
			d.ValidFrom = micros(from)
			dues = append(dues, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range dues {
			if _, err := tx.ExecContext(ctx, `UPDATE products SET price_currency = ?, price_amount = ?, version = version + 1, updated_at = ? WHERE id = ?`,
				d.Price.Currency, d.Price.Amount, now.UnixMicro(), d.ProductID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE price_history SET applied_at = ? WHERE id = ?`, now.UnixMicro(), d.ID); err != nil {
				return err
			}
		}
		out = dues
		return nil
	})
	return out, err
}
