package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
)

// WithoutOutbox returns a context in which the store records no events (the outbox benchmark's
// baseline).
func WithoutOutbox(ctx context.Context) context.Context {
	return context.WithValue(ctx, noOutbox{}, true)
}

// AdjustStockIn makes AdjustStock's movement inside tx, which the caller commits: the
// deterministic feed tests hold a write open around another.
func (s *Store) AdjustStockIn(ctx context.Context, tx pgx.Tx, variantID string, a catalog.Adjustment, actor string) (catalog.Movement, error) {
	return s.adjustStockOn(ctx, tx, variantID, a, actor)
}

// BeforeImportWrite sets a function run between a set-based import batch's lookups and its
// writes (nil: none), and returns a function that removes it.
func BeforeImportWrite(f func()) (undo func()) {
	beforeImportWrite = f
	return func() { beforeImportWrite = nil }
}

// ExplainProductRead runs readProduct's statement for the product id under EXPLAIN (ANALYZE,
// BUFFERS) and returns the buffers it touched and its plan's node types, depth first.
func (s *Store) ExplainProductRead(ctx context.Context, id string) (int64, []string, error) {
	n, err := s.explain(ctx, productByID, id)
	var nodes []string
	var walk func(planNode)
	walk = func(n planNode) {
		nodes = append(nodes, n.Type)
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(n)
	return n.SharedHit + n.SharedRead, nodes, err
}

// PlansOf reports, for the statements this store's connections have prepared whose text
// contains marker, how many executions PostgreSQL planned afresh (custom plans) and how many
// used the kept generic plan: pg_prepared_statements of every pooled connection, summed.
func (s *Store) PlansOf(ctx context.Context, marker string) (custom, generic int64, err error) {
	conns := s.pool.AcquireAllIdle(ctx)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for _, c := range conns {
		var cu, ge int64
		if err := c.QueryRow(ctx, `SELECT coalesce(sum(custom_plans), 0), coalesce(sum(generic_plans), 0)
			FROM pg_prepared_statements WHERE strpos(statement, $1) > 0`, marker).Scan(&cu, &ge); err != nil {
			return 0, 0, err
		}
		custom, generic = custom+cu, generic+ge
	}
	return custom, generic, nil
}
