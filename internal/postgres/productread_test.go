package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/seed"
)

// TestProductReadBuffersFlat holds a product read to one index range per table: the buffers it
// touches must not grow by a primary-key probe (two or three buffers) per variant for stock and
// prices, as they did when each variant's stock and prices were probed by variant ID (40
// buffers for four variants at 100k; 16 since). Measured as pages, not time, so the machine's
// load does not matter.
func TestProductReadBuffersFlat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "gear", Name: "Gear"}); err != nil {
		t.Fatal(err)
	}
	buffers := map[int]int64{}
	for _, n := range []int{1, 24} {
		in := sized("FLAT"+string(rune('A'+n%26)), n)
		for i := range in.Variants {
			in.Variants[i].Prices = append(in.Variants[i].Prices, catalog.PriceInput{Currency: "EUR", Amount: 900})
		}
		p, err := s.CreateProduct(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Product(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Variants) != n || len(got.Variants[n-1].Prices) != 2 || got.Variants[n-1].Position != n-1 {
			t.Fatalf("read %d variants, the last with %d prices, want %d with 2", len(got.Variants), len(got.Variants[n-1].Prices), n)
		}
		var nodes []string
		if buffers[n], nodes, err = s.ExplainProductRead(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		// The ID is a parameter: each table's range is found from it directly, without a CTE and
		// an InitPlan per part reading it back (10-20% of the read's PostgreSQL CPU at 100k).
		for _, node := range nodes[1:] {
			if node != "Index Scan" && node != "Index Only Scan" && node != "Bitmap Heap Scan" && node != "Bitmap Index Scan" {
				t.Fatalf("a product read by ID planned %v: want an Append of one index range per table, nothing else", nodes)
			}
		}
		if nodes[0] != "Append" {
			t.Fatalf("a product read by ID planned %v: want an Append of one index range per table", nodes)
		}
	}
	// 23 more variants and 46 more prices fit in a few more heap pages; probed one by one they
	// cost 23 x 2 probes of at least 2 buffers each.
	if grew := buffers[24] - buffers[1]; grew > 12 {
		t.Fatalf("a product read touched %d buffers for 1 variant and %d for 24: it grows per variant", buffers[1], buffers[24])
	}
	t.Logf("buffers: %d for 1 variant, %d for 24 (2 prices each)", buffers[1], buffers[24])
}

// TestListPagesPlannedOnce holds list pages to PostgreSQL's kept generic plan: with the limit
// passed as a parameter, the planner priced a generic plan for a tenth of the table and planned
// every page afresh (pg_stat_statements at 100k: plans = calls, 0.5-0.9 ms of planning a
// page). It takes a catalog large enough for a tenth of it to cost more than a page (at 2,000
// products the generic plan won even with the parameter).
func TestListPagesPlannedOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := syntheticStore(ctx, t, 10000)
	if _, err := s.Pool().Exec(ctx, "VACUUM ANALYZE products, variants, product_prices, inventory"); err != nil {
		t.Fatal(err)
	}
	q := catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Summary: true, Filter: catalog.ProductFilter{Statuses: []catalog.Status{catalog.StatusActive}}}
	const pages = 12
	followPages(ctx, t, s, q, pages)
	custom, generic, err := s.PlansOf(ctx, "page AS MATERIALIZED")
	if err != nil {
		t.Fatal(err)
	}
	// PostgreSQL plans the first five executions before it weighs the generic plan.
	if custom > 6 || custom+generic < pages {
		t.Fatalf("%d list pages: %d planned afresh, %d from the generic plan; want at most 6 planned", pages, custom, generic)
	}
	t.Logf("%d pages: %d custom plans, %d generic", pages, custom, generic)
}

// syntheticStore opens a store of one connection (so the plans a test reads from
// pg_prepared_statements are those of every statement it ran) on a fresh database holding n
// synthetic products.
func syntheticStore(ctx context.Context, t *testing.T, n int) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := seed.LoadSynthetic(ctx, s, 0, n, 1, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// followPages lists n pages of q, each after the cursor of the one before.
func followPages(ctx context.Context, t *testing.T, s *postgres.Store, q catalog.ListQuery, n int) {
	t.Helper()
	for i := range n {
		page, err := s.ListProducts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if page.Next == nil {
			t.Fatalf("ran out of pages after %d of %d", i+1, n)
		}
		q.After = page.Next
	}
}
