package sqlite

import (
	"context"
	"database/sql"

	"github.com/acme/catalog/internal/catalog"
)

// PatchProduct merges a patch into the current product. Every write runs on the one write
// connection inside BEGIN IMMEDIATE, so the read below cannot go stale before the update.
func (s *Store) PatchProduct(ctx context.Context, id string, patch catalog.ProductPatch, ifVersion int64) (catalog.Product, error) {
	var p catalog.Product
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := productOf(tx, ctx, id)
		if err != nil {
			return err
		}
		in, changed, err := catalog.PatchOutcome(cur, patch, ifVersion)
		if err != nil || !changed {
			p = cur
			return err
		}
		now := s.clock.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE products SET sku = ?, name = ?, name_key = ?, description = ?,
			category = ?, brand = ?, attributes = ?, images = ?, status = ?, price_currency = ?, price_amount = ?,
			version = version + 1, updated_at = ? WHERE id = ?`,
			in.SKU, in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand,
			encodeJSON(in.Attributes), encodeJSON(in.Images), in.Status, in.Price.Currency, in.Price.Amount,
			now.UnixMicro(), id); err != nil {
			return writeError(err, in)
		}
		if p, err = productOf(tx, ctx, id); err != nil {
			return err
		}
		if p.Price != cur.Price {
			_, err = recordPrice(ctx, tx, id, p.Price, now, &now, catalog.ActorOf(ctx), now)
		}
		return err
	})
	return p, err
}
