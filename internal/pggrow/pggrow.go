// Package pggrow grows a PostgreSQL catalog to benchmark sizes inside the database, in
// minutes where the store's import (the write path a shop uses) would take hours: the scale
// series (internal/bench) copies generated products' structure with fresh draws (Synthetic),
// the facets bench (internal/postgres) clones whole products (Clone). Both copy the five
// tables that hold a product and leave out the logs an import writes beside them (events,
// price history, stock movements), which no measured read touches.
package pggrow

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Tables are the tables that hold a product, in the order a copy fills them.
var Tables = []string{"products", "variants", "inventory", "variant_prices", "product_prices"}

// withoutIndexes runs fill in tx with the secondary indexes and foreign keys of Tables
// dropped, and makes them again afterwards with the same definitions: a bulk build is several
// times faster than keeping four GIN indexes up to date row by row. The caller's transaction
// makes it all or nothing.
func withoutIndexes(ctx context.Context, tx pgx.Tx, fill func() error) error {
	exec := func(what, sql string) error {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("grow: %s: %w", what, err)
		}
		return nil
	}
	// Indexes that back a constraint (primary keys, unique SKUs) stay: the copy must not
	// break them.
	rows, err := tx.Query(ctx, `SELECT 1 AS k, 'DROP INDEX ' || format('%I', i.indexname), i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = format('%I', i.indexname)::regclass)
		UNION ALL
		SELECT 2, format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname),
			format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid))
		FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY (SELECT format('%I', t)::regclass FROM unnest($1::text[]) t)
		ORDER BY 1`, Tables)
	if err != nil {
		return fmt.Errorf("grow: indexes: %w", err)
	}
	type pair struct{ drop, make string }
	pairs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pair, error) {
		var p pair
		var kind int
		return p, r.Scan(&kind, &p.drop, &p.make)
	})
	if err != nil {
		return fmt.Errorf("grow: indexes: %w", err)
	}
	// Foreign keys go before the indexes they may use, and come back after them.
	for i := len(pairs) - 1; i >= 0; i-- {
		if err := exec("drop", pairs[i].drop); err != nil {
			return err
		}
	}
	if err := fill(); err != nil {
		return err
	}
	for _, p := range pairs {
		if err := exec("rebuild", p.make); err != nil {
			return err
		}
	}
	return nil
}
