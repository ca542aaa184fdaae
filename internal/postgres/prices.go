package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
)

func recordPrice(ctx context.Context, q querier, productID string, price catalog.Money, validFrom time.Time, applied *time.Time, actor string, now time.Time) (catalog.PriceEntry, error) {
	e := catalog.PriceEntry{Price: price, ValidFrom: validFrom, AppliedAt: applied, Actor: actor, CreatedAt: now}
	err := q.QueryRow(ctx, `INSERT INTO price_history (product_id, currency, amount, valid_from, applied_at, actor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, productID, price.Currency, price.Amount, validFrom, applied, actor, now).Scan(&e.ID)
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.clock.Now()
		if err := c.Validate(now); err != nil {
			return err
		}
		var version int64
		err := tx.QueryRow(ctx, `SELECT version FROM products WHERE id = $1 FOR UPDATE`, productID).Scan(&version)
		switch {
		case err == pgx.ErrNoRows:
			return catalog.ErrProductNotFound
		case err != nil:
			return err
		case ifVersion != 0 && version != ifVersion:
			return catalog.StaleVersion(version, ifVersion)
		}
		if from, later := c.Scheduled(now); later {
			e, err = recordPrice(ctx, tx, productID, c.Price, from, nil, actor, now)
		} else {
			if _, err := tx.Exec(ctx, `UPDATE products SET price_currency = $2, price_amount = $3, version = version + 1, updated_at = $4 WHERE id = $1`,
				productID, c.Price.Currency, c.Price.Amount, now); err != nil {
				return err
			}
			e, err = recordPrice(ctx, tx, productID, c.Price, now, &now, actor, now)
		}
		if err != nil {
			return err
		}
		p, err = productOf(ctx, tx, productID)
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM products WHERE id = $1)`, productID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return catalog.ErrProductNotFound
		}
		rows, err := tx.Query(ctx, `SELECT id, currency, amount, valid_from, applied_at, actor, created_at FROM price_history
			WHERE product_id = $1 ORDER BY valid_from DESC, id DESC LIMIT 1000`, productID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (catalog.PriceEntry, error) {
			var e catalog.PriceEntry
			err := row.Scan(&e.ID, &e.Price.Currency, &e.Price.Amount, &e.ValidFrom, &e.AppliedAt, &e.Actor, &e.CreatedAt)
			e.ValidFrom, e.CreatedAt = e.ValidFrom.UTC(), e.CreatedAt.UTC()
			if e.AppliedAt != nil {
				t := e.AppliedAt.UTC()
				e.AppliedAt = &t
			}
			return e, err
		})
		return err
	})
	return out, err
}

// ApplyDuePrices makes due scheduled prices current, oldest first; instances applying at the
// same time skip each other's rows.
func (s *Store) ApplyDuePrices(ctx context.Context, limit int) ([]catalog.AppliedPrice, error) {
	var out []catalog.AppliedPrice
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.clock.Now()
		rows, err := tx.Query(ctx, `WITH due AS (
				SELECT id, product_id, currency, amount FROM price_history
				WHERE applied_at IS NULL AND valid_from <= $1 ORDER BY valid_from, id LIMIT $2 FOR UPDATE SKIP LOCKED
			), latest AS (
				SELECT DISTINCT ON (product_id) product_id, currency, amount FROM due ORDER BY product_id, id DESC
			), upd AS (
				UPDATE products p SET price_currency = latest.currency, price_amount = latest.amount, version = p.version + 1, updated_at = $1
				FROM latest WHERE p.id = latest.product_id
			)
			UPDATE price_history h SET applied_at = $1 FROM due WHERE h.id = due.id
			RETURNING h.id, h.product_id::text, h.currency, h.amount, h.valid_from`, now, limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (catalog.AppliedPrice, error) {
			var a catalog.AppliedPrice
			err := row.Scan(&a.ID, &a.ProductID, &a.Price.Currency, &a.Price.Amount, &a.ValidFrom)
			a.ValidFrom = a.ValidFrom.UTC()
			return a, err
		})
		return err
	})
	return out, err
}
