package postgres_test

import (
	"context"
	"fmt"
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

// TestSearchWordsNeverTogether: two words in half the catalog each, never in one product,
// look common together to statistics that multiply frequencies (a quarter of the catalog), so
// the store walked the sort order for their page, and a walk for no match reads the whole
// table: at 1M products the bench's pairs of adjectives took 10 s each. The walk is now
// confirmed by a bounded count first; a pair that is common together is still walked.
func TestSearchWordsNeverTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 10,000 products")
	}
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "home", Name: "Home"}); err != nil {
		t.Fatal(err)
	}
	const n = 10_000
	var ps []catalog.NewProduct
	for i := range n {
		ps = append(ps, catalog.NewProduct{ProductInput: catalog.ProductInput{
			Name:     fmt.Sprintf("%s %s %d", []string{"Alpha", "Beta"}[i%2], []string{"Lamp", "Kettle"}[(i/2)%2], i),
			Category: "home", Status: catalog.StatusActive,
			Variants: []catalog.VariantInput{{SKU: fmt.Sprintf("NT-%05d", i), Prices: []catalog.PriceInput{{Currency: "USD", Amount: int64(100 + i)}}}},
		}})
	}
	if err := s.Import(ctx, ps); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, "VACUUM ANALYZE"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q       string
		matches int
	}{{"alpha beta", 0}, {"alpha lamp", n / 4}} {
		for _, sort := range []catalog.Sort{catalog.SortRelevance, catalog.SortNewest} {
			q := catalog.ListQuery{Sort: sort, Limit: 20, Filter: catalog.ProductFilter{Query: tc.q}}
			p, err := s.ExplainList(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			page, err := s.ListProducts(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("q=%q sort %s: %d pages, %d items; %v", tc.q, sort, p.Buffers, len(page.Items), p.Nodes)
			if want := min(tc.matches, 20); len(page.Items) != want {
				t.Errorf("q=%q sort %s: %d items, want %d", tc.q, sort, len(page.Items), want)
			}
			// Either way a page reads at most the bounded count and a page's worth of rows.
			if p.Buffers > 400 {
				t.Errorf("q=%q sort %s: %d pages for a page of 20 in %d products", tc.q, sort, p.Buffers, n)
			}
		}
	}
}
