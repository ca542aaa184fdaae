package postgres

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
)

// batchVariant is a batch line's variant, found by SKU.
type batchVariant struct {
	id, productID, sku string
}

// variantsBySKU finds the variants of skus (any case), by lower-cased SKU.
func variantsBySKU(ctx context.Context, q querier, skus []string) (map[string]batchVariant, error) {
	keys := make([]string, len(skus))
	for i, s := range skus {
		keys[i] = strings.ToLower(s)
	}
	rows, err := q.Query(ctx, `SELECT lower(sku), id::text, product_id::text, sku FROM variants WHERE lower(sku) = ANY ($1)`, keys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]batchVariant, len(skus))
	for rows.Next() {
		var k string
		var v batchVariant
		if err := rows.Scan(&k, &v.id, &v.productID, &v.sku); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// AdjustStockBatch applies every line's adjustment in one transaction: the inventory rows are
// locked in variant-ID order (ADR 0006, as reservations lock them), every line is checked
// against the locked stock, and then all movements are written in one statement, which also
// records a stock event per line. One refused line refuses the batch, naming every such line.
func (s *Store) AdjustStockBatch(ctx context.Context, lines []catalog.StockLine, actor string, idem *catalog.Idempotency) ([]catalog.Movement, error) {
	if err := catalog.ValidateStockLines(lines); err != nil {
		return nil, err
	}
	skus := make([]string, len(lines))
	for i, l := range lines {
		skus[i] = l.SKU
	}
	var out []catalog.Movement
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = nil
		if ok, err := s.claim(ctx, tx, idem, &out); ok || err != nil {
			return err
		}
		found, err := variantsBySKU(ctx, tx, skus)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(lines))
		for _, v := range found {
			ids = append(ids, v.id)
		}
		stock, err := lockStock(ctx, tx, ids)
		if err != nil {
			return err
		}
		var problems []catalog.FieldError
		now := s.clock.Now()
		ms := make([]*catalog.Movement, len(lines))
		for i, l := range lines {
			v, ok := found[strings.ToLower(l.SKU)]
			row, locked := stock[v.id]
			switch {
			case !ok || !locked: // unknown, or deleted before its row was locked
				problems = append(problems, catalog.BatchLineProblem(i, "sku", "no variant has SKU %q", l.SKU))
				continue
			}
			if err := catalog.CheckStockLeft(l.Adjustment, row.sku, row.onHand, row.reserved); err != nil {
				ps, ok := catalog.BatchLineErrors(i, err)
				if !ok {
					return err
				}
				problems = append(problems, ps...)
				continue
			}
			ms[i] = &catalog.Movement{VariantID: v.id, ProductID: row.productID, SKU: row.sku, Kind: catalog.MoveAdjustment,
				OnHandDelta: l.Delta, Reason: l.Reason, Note: l.Note, Actor: actor, At: now}
		}
		if len(problems) > 0 {
			return catalog.BatchRefused(problems)
		}
		if err := applyMoves(ctx, tx, ms); err != nil {
			return err
		}
		out = make([]catalog.Movement, len(ms))
		for i, m := range ms {
			out[i] = *m
		}
		return remember(ctx, tx, idem, out)
	})
	return out, err
}

// SetPriceBatch applies or schedules every line's price in one transaction. The lines' products
// are locked in product-ID order (a price write locks its product's row, level 3 of ADR 0006),
// so two batches naming the same products in any order queue instead of deadlocking; then each
// line is written as SetPrice writes one, with its history line and event.
func (s *Store) SetPriceBatch(ctx context.Context, lines []catalog.PriceLine, actor string, idem *catalog.Idempotency) ([]catalog.PriceEvent, error) {
	skus := make([]string, len(lines))
	for i, l := range lines {
		skus[i] = l.SKU
	}
	var out []catalog.PriceEvent
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = nil
		now := s.clock.Now()
		if err := catalog.ValidatePriceLines(lines, now); err != nil {
			return err
		}
		if ok, err := s.claim(ctx, tx, idem, &out); ok || err != nil {
			return err
		}
		found, err := variantsBySKU(ctx, tx, skus)
		if err != nil {
			return err
		}
		var problems []catalog.FieldError
		order := make([]int, 0, len(lines))
		for i, l := range lines {
			if _, ok := found[strings.ToLower(l.SKU)]; !ok {
				problems = append(problems, catalog.BatchLineProblem(i, "sku", "no variant has SKU %q", l.SKU))
				continue
			}
			order = append(order, i)
		}
		if len(problems) > 0 {
			return catalog.BatchRefused(problems)
		}
		variant := func(i int) batchVariant { return found[strings.ToLower(lines[i].SKU)] }
		slices.SortFunc(order, func(a, b int) int {
			va, vb := variant(a), variant(b)
			return cmp.Or(strings.Compare(va.productID, vb.productID), strings.Compare(va.id, vb.id), a-b)
		})
		products := map[string]catalog.Product{}
		for _, i := range order {
			pid := variant(i).productID
			if _, ok := products[pid]; ok {
				continue
			}
			p, err := lockProduct(ctx, tx, pid, 0)
			if err != nil && catalog.ErrorCode(err) != catalog.CodeNotFound {
				return err
			}
			products[pid] = p // the zero product when it was deleted meanwhile
		}
		// With the products held, their variants can no longer go: check each is still there
		// and that a sale window has a price to revert to, before writing anything.
		still, err := variantsBySKU(ctx, tx, skus)
		if err != nil {
			return err
		}
		for _, i := range slices.Sorted(slices.Values(order)) { // problems in line order
			if v, ok := still[strings.ToLower(lines[i].SKU)]; !ok || v.id != variant(i).id || products[v.productID].ID == "" {
				problems = append(problems, catalog.BatchLineProblem(i, "sku", "no variant has SKU %q (it was deleted)", lines[i].SKU))
				continue
			}
			if err := windowHasPrice(ctx, tx, variant(i).id, lines[i].PriceChange); err != nil {
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
		for _, i := range order {
			v := variant(i)
			p := products[v.productID]
			pe, version, err := setPriceOn(ctx, tx, p, v.id, lines[i].PriceChange, actor, now)
			if err != nil {
				return err
			}
			p.Version = version
			products[v.productID] = p
			out[i] = pe
		}
		return remember(ctx, tx, idem, out)
	})
	return out, err
}
