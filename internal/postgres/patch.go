package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
)

// PatchProduct merges a patch into the current product. The product row is read FOR UPDATE,
// so a concurrent patch waits for this one and then merges into its result: no patch is lost
// and none is refused for having raced another.
func (s *Store) PatchProduct(ctx context.Context, id string, patch catalog.ProductPatch, ifVersion int64) (catalog.Product, error) {
	if !catalog.ValidID(id) {
		return catalog.Product{}, catalog.ErrProductNotFound
	}
	var p catalog.Product
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := scanProduct(tx.QueryRow(ctx, `SELECT `+productColumns+productFrom+` WHERE p.id = $1 FOR UPDATE OF p`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return catalog.ErrProductNotFound
		} else if err != nil {
			return err
		}
		in, changed, err := catalog.PatchOutcome(cur, patch, ifVersion)
		if err != nil || !changed {
			p = cur
			return err
		}
		now := s.clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE products SET sku = $2, name = $3, name_key = $4, description = $5,
			category = $6, brand = $7, attributes = $8, images = $9, status = $10, price_currency = $11,
			price_amount = $12, version = version + 1, updated_at = $13 WHERE id = $1`,
			id, in.SKU, in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand,
			in.Attributes, in.Images, in.Status, in.Price.Currency, in.Price.Amount, now); err != nil {
			return writeError(err, in)
		}
		if p, err = productOf(ctx, tx, id); err != nil {
			return err
		}
		if p.Price != cur.Price {
			_, err = recordPrice(ctx, tx, id, p.Price, now, &now, catalog.ActorOf(ctx), now)
		}
		return err
	})
	return p, err
}
