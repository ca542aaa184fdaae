package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/acme/catalog/internal/catalog"
)

// batchVariant is a batch line's variant, found by SKU.
type batchVariant struct {
	id, productID, sku string
	onHand, reserved   int64
	prices             map[string]bool // currencies with a current price
}

// batchVariants finds each SKU's variant (any case) with its stock; a missing one is absent.
// Writes are serial on SQLite, so what is read here holds until the transaction ends.
func batchVariants(ctx context.Context, tx *sql.Tx, skus []string) ([]*batchVariant, error) {
	out := make([]*batchVariant, len(skus))
	for i, sku := range skus {
		v := &batchVariant{prices: map[string]bool{}}
		err := tx.QueryRowContext(ctx, `SELECT v.id, v.product_id, v.sku, i.on_hand, i.reserved FROM variants v JOIN inventory i ON i.variant_id = v.id
			WHERE v.sku = ? COLLATE NOCASE`, sku).Scan(&v.id, &v.productID, &v.sku, &v.onHand, &v.reserved)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		rows, err := tx.QueryContext(ctx, `SELECT currency FROM variant_prices WHERE variant_id = ?`, v.id)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return nil, err
			}
			v.prices[c] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// AdjustStockBatch applies every line's adjustment in one write transaction, all or nothing:
// every line is checked first, and one refused line refuses the batch, naming every such line.
func (s *Store) AdjustStockBatch(ctx context.Context, lines []catalog.StockLine, actor string, idem *catalog.Idempotency) ([]catalog.Movement, error) {
	if err := catalog.ValidateStockLines(lines); err != nil {
		return nil, err
	}
	skus := make([]string, len(lines))
	for i, l := range lines {
		skus[i] = l.SKU
	}
	var out []catalog.Movement
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = nil
		if ok, err := s.replay(ctx, tx, idem, &out); ok || err != nil {
			return err
		}
		vs, err := batchVariants(ctx, tx, skus)
		if err != nil {
			return err
		}
		var problems []catalog.FieldError
		for i, l := range lines {
			v := vs[i]
			if v == nil {
				problems = append(problems, catalog.BatchLineProblem(i, "sku", "no variant has SKU %q", l.SKU))
				continue
			}
			if err := catalog.CheckStockLeft(l.Adjustment, v.sku, v.onHand, v.reserved); err != nil {
				ps, ok := catalog.BatchLineErrors(i, err)
				if !ok {
					return err
				}
				problems = append(problems, ps...)
			}
		}
		if len(problems) > 0 {
			return catalog.BatchRefused(problems)
		}
		now := s.clock.Now()
		out = make([]catalog.Movement, len(lines))
		for i, l := range lines {
			v := vs[i]
			out[i] = catalog.Movement{VariantID: v.id, ProductID: v.productID, SKU: v.sku, Kind: catalog.MoveAdjustment,
				OnHandDelta: l.Delta, Reason: l.Reason, Note: l.Note, Actor: actor, At: now}
			if err := applyMove(ctx, tx, &out[i]); err != nil {
				return err
			}
		}
		return s.remember(ctx, tx, idem, out)
	})
	return out, err
}

// SetPriceBatch applies or schedules every line's price in one write transaction, all or
// nothing, each as SetPrice does one.
func (s *Store) SetPriceBatch(ctx context.Context, lines []catalog.PriceLine, actor string, idem *catalog.Idempotency) ([]catalog.PriceEvent, error) {
	skus := make([]string, len(lines))
	for i, l := range lines {
		skus[i] = l.SKU
	}
	var out []catalog.PriceEvent
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = nil
		now := s.clock.Now()
		if err := catalog.ValidatePriceLines(lines, now); err != nil {
			return err
		}
		if ok, err := s.replay(ctx, tx, idem, &out); ok || err != nil {
			return err
		}
		vs, err := batchVariants(ctx, tx, skus)
		if err != nil {
			return err
		}
		var problems []catalog.FieldError
		for i, l := range lines {
			v := vs[i]
			if v == nil {
				problems = append(problems, catalog.BatchLineProblem(i, "sku", "no variant has SKU %q", l.SKU))
				continue
			}
			if err := catalog.CheckSaleWindow(l.PriceChange, v.prices[l.Currency]); err != nil {
				ps, ok := catalog.BatchLineErrors(i, err)
				if !ok {
					return err
				}
				problems = append(problems, ps...)
			}
		}
		if len(problems) > 0 {
			return catalog.BatchRefused(problems)
		}
		out = make([]catalog.PriceEvent, len(lines))
		for i, l := range lines {
			pe, _, err := s.setPriceOn(ctx, tx, vs[i].productID, vs[i].id, l.PriceChange, actor, now)
			if err != nil {
				return err
			}
			out[i] = pe
		}
		return s.remember(ctx, tx, idem, out)
	})
	return out, err
}
