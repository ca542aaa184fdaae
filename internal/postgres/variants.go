package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
)

// A variant write locks its product's row (the version every variant write moves) and touches
// that variant's rows only, each found through an index on the variant or on (product_id,
// position): nothing reads the product's other variants, so changing one of 2,000 costs what
// changing one of 2 does.

// lockProductOf locks productID's row for a write to its variant variantID ("" for a new one):
// not-found errors name the variant when the product is there but the variant is not.
func lockProductOf(ctx context.Context, tx pgx.Tx, productID, variantID string, ifVersion int64) (catalog.Product, error) {
	if !catalog.ValidID(productID) {
		return catalog.Product{}, catalog.ErrProductNotFound
	}
	if variantID != "" && !catalog.ValidID(variantID) {
		return catalog.Product{}, catalog.ErrVariantNotFound
	}
	p, err := productRow(ctx, tx, productID, true)
	if err != nil {
		return p, err
	}
	if variantID != "" {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM variants WHERE id = $1 AND product_id = $2)`, variantID, productID).Scan(&ok); err != nil {
			return p, err
		}
		if !ok {
			return p, catalog.ErrVariantNotFound
		}
	}
	if ifVersion != 0 && p.Version != ifVersion {
		return p, catalog.StaleVersion(p.Version, ifVersion)
	}
	return p, nil
}

// checkVariantAttributes validates a variant's attributes against their definitions.
func checkVariantAttributes(ctx context.Context, tx pgx.Tx, a catalog.Attributes) error {
	defs, err := loadDefinitions(ctx, tx, a)
	if err != nil {
		return err
	}
	return catalog.ValidateAttributes("attributes", a, defs)
}

// AddVariant adds a variant to a product.
func (s *Store) AddVariant(ctx context.Context, productID string, in catalog.VariantInput, ifVersion int64) (catalog.Variant, error) {
	in.Normalize()
	var v catalog.Variant
	err := s.tx(ctx, func(tx pgx.Tx) error {
		p, err := lockProductOf(ctx, tx, productID, "", ifVersion)
		if err != nil {
			return err
		}
		if err := in.ValidateVariant(p.Options, p.Media); err != nil {
			return err
		}
		if err := checkVariantAttributes(ctx, tx, in.Attributes); err != nil {
			return err
		}
		if err := skuTaken(ctx, tx, map[string]string{"sku": in.SKU}, ""); err != nil {
			return err
		}
		var count, next int
		// The count is kept on the product row; the next position is one probe at the end of
		// the (product_id, position) index.
		if err := tx.QueryRow(ctx, `SELECT p.variant_count, coalesce((SELECT position + 1 FROM variants WHERE product_id = $1 ORDER BY position DESC LIMIT 1), 0)
			FROM products p WHERE p.id = $1`, productID).Scan(&count, &next); err != nil {
			return err
		}
		if count >= catalog.MaxVariants {
			return catalog.InvalidField("variants", "a product has at most %d variants", catalog.MaxVariants)
		}
		if len(p.Options) == 0 {
			return &catalog.Error{Code: catalog.CodeConflict, Message: "a product without options has exactly one variant: declare options (e.g. Size) first",
				Fields: []catalog.FieldError{{Field: "options", Problem: "the product has no options"}}}
		}
		now := s.clock.Now()
		id := catalog.NewID()
		if err := insertVariants(ctx, tx, []newVariant{{id: id, pid: productID, in: in, pos: next, at: now}}, catalog.ActorOf(ctx)); err != nil {
			return err
		}
		currencies := map[string]bool{}
		for _, pr := range in.Prices {
			currencies[pr.Currency] = true
		}
		if err := refreshProductPrices(ctx, tx, productID, keys(currencies)); err != nil {
			return err
		}
		version, err := bumpProduct(ctx, tx, productID, now, 1)
		if err != nil {
			return err
		}
		v, err = variantOf(ctx, tx, id, version)
		return s.emitAfter(ctx, tx, err, catalog.EventVariantCreated, v)
	})
	return v, err
}

// UpdateVariant merges a patch into one variant.
func (s *Store) UpdateVariant(ctx context.Context, productID, variantID string, patch catalog.VariantPatch, ifVersion int64) (catalog.Variant, error) {
	var v catalog.Variant
	err := s.tx(ctx, func(tx pgx.Tx) error {
		p, err := lockProductOf(ctx, tx, productID, variantID, 0)
		if err != nil {
			return err
		}
		cur, err := variantOf(ctx, tx, variantID, p.Version)
		if err != nil {
			return err
		}
		in, changed, err := catalog.VariantPatchOutcome(p, cur, patch, ifVersion)
		if err != nil {
			return err
		}
		if !changed {
			v = cur
			return nil
		}
		if err := checkVariantAttributes(ctx, tx, in.Attributes); err != nil {
			return err
		}
		if in.SKU != cur.SKU {
			if err := skuTaken(ctx, tx, map[string]string{"sku": in.SKU}, variantID); err != nil {
				return err
			}
		}
		now := s.clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE variants SET sku = $2, options = $3, barcode = $4, weight_grams = $5, attributes = $6,
			image = $7, purchase_limit = $8, updated_at = $9 WHERE id = $1`,
			variantID, in.SKU, in.Options, in.Barcode, in.WeightGrams, in.Attributes, in.Image, in.PurchaseLimit, now); err != nil {
			return writeError(err, "")
		}
		if err := s.replacePrices(ctx, tx, cur, in.Prices, now); err != nil {
			return err
		}
		version, err := bumpProduct(ctx, tx, productID, now)
		if err != nil {
			return err
		}
		v, err = variantOf(ctx, tx, variantID, version)
		return s.emitAfter(ctx, tx, err, catalog.EventVariantUpdated, v)
	})
	return v, err
}

// replacePrices makes next the variant's current prices: currencies no longer listed are
// removed (their scheduled changes cancelled), changed ones become current with a history
// line each.
func (s *Store) replacePrices(ctx context.Context, tx pgx.Tx, cur catalog.Variant, next []catalog.PriceInput, now time.Time) error {
	actor := catalog.ActorOf(ctx)
	want := map[string]catalog.PriceInput{}
	for _, pr := range next {
		want[pr.Currency] = pr
	}
	touched := map[string]bool{}
	var gone []string
	for _, pr := range cur.Prices {
		if _, ok := want[pr.Currency]; !ok {
			gone = append(gone, pr.Currency)
			touched[pr.Currency] = true
		}
	}
	if len(gone) > 0 {
		if err := removePrices(ctx, tx, cur.ID, gone, now); err != nil {
			return err
		}
	}
	for _, pr := range next {
		old, ok := cur.Price(pr.Currency)
		same := ok && old.Amount == pr.Amount && (old.CompareAt == nil) == (pr.CompareAt == nil) &&
			(old.CompareAt == nil || *old.CompareAt == *pr.CompareAt)
		if same {
			continue
		}
		if _, err := makeCurrent(ctx, tx, cur.ID, cur.ProductID, pr.Currency, pr.Amount, pr.CompareAt, nil, 0, now, actor); err != nil {
			return err
		}
		touched[pr.Currency] = true
	}
	return refreshProductPrices(ctx, tx, cur.ProductID, keys(touched))
}

// DeleteVariant removes a variant with no stock, keeping its movements and price history. It
// locks the variant's inventory row before the product row (the order of inventory.go).
func (s *Store) DeleteVariant(ctx context.Context, productID, variantID string, ifVersion int64) error {
	if !catalog.ValidID(productID) {
		return catalog.ErrProductNotFound
	}
	if !catalog.ValidID(variantID) {
		return catalog.ErrVariantNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		var onHand, reserved int64
		err := tx.QueryRow(ctx, `SELECT on_hand, reserved FROM inventory WHERE variant_id = $1 AND product_id = $2 FOR UPDATE`,
			variantID, productID).Scan(&onHand, &reserved)
		if errors.Is(err, pgx.ErrNoRows) {
			if _, err := productRow(ctx, tx, productID, false); err != nil {
				return err
			}
			return catalog.ErrVariantNotFound
		} else if err != nil {
			return err
		}
		p, err := lockProductOf(ctx, tx, productID, variantID, ifVersion)
		if err != nil {
			return err
		}
		var count int
		if err := tx.QueryRow(ctx, `SELECT variant_count FROM products WHERE id = $1`, p.ID).Scan(&count); err != nil {
			return err
		}
		if count <= 1 {
			return &catalog.Error{Code: catalog.CodeConflict, Message: "a product keeps at least one variant: delete the product instead",
				Fields: []catalog.FieldError{{Field: "variant", Problem: "is the product's only variant"}}}
		}
		if err := catalog.CanDelete(onHand, reserved); err != nil {
			return err
		}
		now := s.clock.Now()
		rows, err := tx.Query(ctx, `SELECT currency FROM variant_prices WHERE variant_id = $1`, variantID)
		if err != nil {
			return err
		}
		currencies, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if err := cancelScheduled(ctx, tx, `variant_id = $1`, variantID, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `WITH gone AS (DELETE FROM variants WHERE id = $1 RETURNING id, product_id, sku)
			INSERT INTO deleted_variants (id, product_id, sku, actor, deleted_at) SELECT id, product_id, sku, $2, $3 FROM gone
			ON CONFLICT (id) DO NOTHING`, variantID, catalog.ActorOf(ctx), now); err != nil {
			return err
		}
		if err := refreshProductPrices(ctx, tx, productID, currencies); err != nil {
			return err
		}
		version, err := bumpProduct(ctx, tx, productID, now, -1)
		return s.emitAfter(ctx, tx, err, catalog.EventVariantDeleted,
			catalog.Deleted{Subject: "products/" + productID + "/variants/" + variantID, Version: version})
	})
}

// cancelScheduled ends the price lines that never applied (and a running window's) of the
// variants matching cond ($1), so the sweeper does not keep finding them.
func cancelScheduled(ctx context.Context, tx pgx.Tx, cond string, arg any, now time.Time) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE price_history SET ended_at = $2 WHERE %s AND ended_at IS NULL
		AND (applied_at IS NULL OR valid_until IS NOT NULL)`, cond), arg, now)
	return err
}
