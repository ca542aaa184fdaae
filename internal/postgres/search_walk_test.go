package postgres_test

import (
	"context"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// TestSearchPlanFollowsTheWalkedOrder: the store chooses between walking a sort order and
// fetching every match by what each reads in pages, and a walk reads a page per row unless the
// heap follows the walked order. The ID order (relevance) does; a price order (product_prices,
// then each product by ID) does not. A pair of words in 2% of 20,000 products is worth walking
// in ID order and fetching under a price sort: the store once priced every walk as an ID walk,
// and walked the price order for it, reading twice the pages of a fetch (at 1M products the
// same happened to creation order). Each sort's choice must read about the fewer pages of the
// two plans, both forced.
func TestSearchPlanFollowsTheWalkedOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 20,000 products")
	}
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	loadSynthetic(t, s, 20_000)
	if _, err := s.Pool().Exec(ctx, "VACUUM ANALYZE"); err != nil {
		t.Fatal(err)
	}
	active := []catalog.Status{catalog.StatusActive}
	for _, sort := range []catalog.Sort{catalog.SortPrice, catalog.SortPriceDesc, catalog.SortRelevance} {
		q := catalog.ListQuery{Sort: sort, Limit: 20, Filter: catalog.ProductFilter{Query: "waterproof lamp", Statuses: active}}
		if sort != catalog.SortRelevance {
			q.Filter.Currency = "USD"
		}
		pages := func(ctx context.Context) int64 {
			p, err := s.ExplainList(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			return p.Buffers
		}
		chosen, walk, fetch := pages(ctx), pages(postgres.WithSearchPlan(ctx, false, false)), pages(postgres.WithSearchPlan(ctx, true, false))
		t.Logf("sort %s: chosen %d pages, walk %d, fetch %d", sort, chosen, walk, fetch)
		if best := min(walk, fetch); chosen > best*13/10+50 {
			t.Errorf("sort %s: the store's plan reads %d pages, the cheaper plan %d (walk %d, fetch %d)", sort, chosen, best, walk, fetch)
		}
	}
}
