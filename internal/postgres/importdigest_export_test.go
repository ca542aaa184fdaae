package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
)

// ImportDigestsOff makes every import update line go the full comparison path (off true) or
// lets digests prove lines unchanged (false), and returns a function that restores the default.
func ImportDigestsOff(off bool) (undo func()) {
	importDigestsOff = off
	return func() { importDigestsOff = false }
}

// ImportProven sets a function told how many lines of each import batch their digests proved
// unchanged (nil: none), and returns a function that removes it.
func ImportProven(f func(n int)) (undo func()) {
	importProven = f
	return func() { importProven = nil }
}

// ImportPriors runs the import's prior-price read (priorPriceSQL) for the prices amounts[i]
// of (vids[i], currencies[i]) made current at at, and returns the prior price of each.
func (s *Store) ImportPriors(ctx context.Context, vids, currencies []string, amounts []int64, at time.Time) ([]*int64, error) {
	rows, err := s.pool.Query(ctx, priorPriceSQL, vids, currencies, amounts, at.Add(-catalog.PriorPriceWindow), at)
	if err != nil {
		return nil, err
	}
	out := make([]*int64, len(vids))
	var (
		k      int
		window *int64
		prior  *int64
	)
	_, err = pgx.ForEachRow(rows, []any{&k, &window, &prior}, func() error {
		out[k-1], prior = prior, nil
		return nil
	})
	return out, err
}

// ExplainImportPriors runs ImportPriors' statement under EXPLAIN (ANALYZE, BUFFERS) and
// returns the buffers it touched.
func (s *Store) ExplainImportPriors(ctx context.Context, vids, currencies []string, amounts []int64, at time.Time) (int64, error) {
	n, err := s.explain(ctx, priorPriceSQL, vids, currencies, amounts, at.Add(-catalog.PriorPriceWindow), at)
	return n.SharedHit + n.SharedRead, err
}
