package postgres

import (
	"context"

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
		cur, err := productRow(ctx, tx, id, true)
		if err != nil {
			return err
		}
		in, changed, err := catalog.PatchOutcome(cur, patch, ifVersion)
		if err != nil {
			return err
		}
		if changed {
			if err := s.writeProduct(ctx, tx, cur, in); err != nil {
				return err
			}
		}
		p, err = productOf(ctx, tx, id)
		if !changed {
			return err
		}
		return s.emitAfter(ctx, tx, err, catalog.EventProductUpdated, p)
	})
	return p, err
}
