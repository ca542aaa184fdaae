package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// BenchmarkImportUpdates: go test -run '^$' -bench ImportUpdates -benchtime 4x -timeout 0 ./internal/postgres/
//
// One import batch of 1,000 existing products (the import bench's generator: about 4
// variants and 7.5 prices each) per iteration, through UpsertProducts as the apply pass calls
// it, in three cases: every line unchanged (the same file again), every price changed with
// only the creating history line before it, and every price changed after 90 days of daily
// price lines (what a daily re-import leaves: the prior-price rule looks at the last 30). It
// reports the CPU of PostgreSQL's backends and of this process per batch, as
// BenchmarkImportCreates does, beside the budget of the target. Each case's catalog
// (two batches of products, created by import as a first load is) is made once, outside the
// measurement; iterations take the batches in turn, a repriced one adding one more to every
// price each time.
func BenchmarkImportUpdates(b *testing.B) {
	for _, c := range []struct {
		name    string
		reprice bool
		history int // days of daily price lines before the import
	}{
		{"unchanged", false, 0},
		{"repriced", true, 0},
		{"repriced-90d-history", true, 90},
	} {
		benchImportUpdates(b, c.name, c.reprice, c.history)
	}
}

func benchImportUpdates(b *testing.B, name string, reprice bool, history int) {
	ctx := context.Background()
	s := importBenchStore(ctx, b)
	const (
		batch   = 1000
		batches = 2
	)
	lines := func(k int, bump int64) []catalog.ImportItem {
		items := createItems(k*batch, batch)
		for _, it := range items {
			for _, v := range it.Product.Variants {
				for i := range v.Prices {
					v.Prices[i].Amount += bump
				}
			}
		}
		return items
	}
	for k := range batches {
		if res, err := s.UpsertProducts(ctx, lines(k, 0), false); err != nil || res.Created != batch {
			b.Fatalf("create batch %d: %+v, %v", k, res, err)
		}
	}
	if history > 0 {
		// Daily lines before now, one day's lines together (as daily imports append them), the
		// amounts moving up and down around the current one; vacuumed, as autovacuum would
		// have done over the days.
		if _, err := s.Pool().Exec(ctx, `INSERT INTO price_history (variant_id, product_id, kind, currency, amount, valid_from, applied_at, actor, created_at)
			SELECT vp.variant_id, vp.product_id, 'set', vp.currency, greatest(vp.amount + (d % 7) * 10 - 30, 0), t, t, 'bench', t
			FROM generate_series($1::int, 1, -1) AS d, variant_prices vp,
				LATERAL (SELECT now() - d * interval '1 day' AS t) x
			ORDER BY d DESC, vp.variant_id, vp.currency`, history); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Pool().Exec(ctx, `VACUUM (ANALYZE) price_history`); err != nil {
			b.Fatal(err)
		}
	}
	var bumps [batches]int64 // what the last import of each batch added to its prices
	b.Run(name, func(b *testing.B) {
		todo := make([][]catalog.ImportItem, b.N)
		for i := range todo {
			k := i % batches
			if reprice {
				bumps[k]++
			}
			todo[i] = lines(k, bumps[k])
		}
		pg0, go0 := backendCPU(ctx, b, s), processCPU(b)
		b.ResetTimer()
		for i := range b.N {
			res, err := s.UpsertProducts(ctx, todo[i], false)
			if err != nil {
				b.Fatal(err)
			}
			if got := map[bool]int{true: res.Updated, false: res.Unchanged}[reprice]; got != batch || len(res.Problems) != 0 {
				b.Fatalf("batch %d: %+v, want all %d lines %s", i, res, batch, map[bool]string{true: "updated", false: "unchanged"}[reprice])
			}
		}
		b.StopTimer()
		pg, gc := backendCPU(ctx, b, s)-pg0, processCPU(b)-go0
		per := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
		b.ReportMetric(per(pg), "pg-cpu-ms/batch")
		b.ReportMetric(per(gc), "go-cpu-ms/batch")
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "products/s")
		b.Logf("an update batch of %d products (%s, %d days of history): PostgreSQL %.0f ms CPU + Go %.0f ms CPU (apply pass only); budget for 5,000 products/s on 2 cores: 400 ms for the whole job",
			batch, name, history, per(pg), per(gc))
	})
}
