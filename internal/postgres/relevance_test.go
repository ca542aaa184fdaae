package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/postgres"
)

// TestRelevancePlansAgree pages through random searches under relevance with every search plan
// (tier walks, upper tiers fetched through their indexes, fetch-and-rank for rare terms) on a random catalog: the plans
// must give the same order, page after page, with no product twice, and find exactly what the
// same search finds under another sort. The hand-written order is the conformance suite's.
func TestRelevancePlansAgree(t *testing.T) {
	ctx := context.Background()
	s := open(t, nil).(*postgres.Store)
	words := []string{"red", "blue", "green", "lamp", "desk", "chair", "oak", "steel", "wool", "linen", "bag", "cup"}
	rng := rand.New(rand.NewPCG(16, 21))
	pick := func(n int) string {
		var out []string
		for range n {
			out = append(out, words[rng.IntN(len(words))])
		}
		return strings.Join(out, " ")
	}
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "misc", Name: "Misc"}); err != nil {
		t.Fatal(err)
	}
	var skus []string
	for i := range 150 {
		sku := fmt.Sprintf("P-%03d", i)
		in := catalog.ProductInput{Name: pick(1 + rng.IntN(3)), Brand: pick(1), Description: pick(2 + rng.IntN(4)), Category: "misc",
			Status:   []catalog.Status{catalog.StatusActive, catalog.StatusDraft}[rng.IntN(2)],
			Variants: []catalog.VariantInput{{SKU: sku, Prices: []catalog.PriceInput{{Currency: "USD", Amount: 100}}}}}
		in.Normalize()
		if _, err := s.CreateProduct(ctx, in); err != nil {
			t.Fatal(err)
		}
		skus = append(skus, sku)
	}
	pages := func(ctx context.Context, q catalog.ListQuery) []string {
		t.Helper()
		var ids []string
		for range 200 {
			page, err := s.ListProducts(ctx, q)
			if err != nil {
				t.Fatalf("ListProducts(%+v) = %v", q, err)
			}
			for _, p := range page.Items {
				ids = append(ids, p.ID)
			}
			if page.Next == nil {
				return ids
			}
			q.After = page.Next
		}
		t.Fatalf("more than 200 pages for %q", q.Filter.Query)
		return nil
	}
	for i := range 60 {
		query := pick(1 + rng.IntN(2))
		switch i % 4 {
		case 1: // the last word being typed
			query = query[:len(query)-1-rng.IntN(2)]
		case 2: // an exact SKU, and a word
			query = skus[rng.IntN(len(skus))]
		}
		f := catalog.ProductFilter{Query: query}
		if i%3 == 0 {
			f.Statuses = []catalog.Status{catalog.StatusActive}
		}
		q := catalog.ListQuery{Filter: f, Sort: catalog.SortRelevance, Limit: 1 + rng.IntN(5)}
		walk := pages(postgres.WithSearchPlan(ctx, false, false), q)
		tierFetch := pages(postgres.WithSearchPlan(ctx, false, true), q)
		fetch := pages(postgres.WithSearchPlan(ctx, true, false), q)
		if !slices.Equal(walk, fetch) {
			t.Fatalf("q=%q limit %d: tier walks %v, fetch and rank %v", query, q.Limit, walk, fetch)
		}
		if !slices.Equal(tierFetch, fetch) {
			t.Fatalf("q=%q limit %d: upper tiers fetched %v, fetch and rank %v", query, q.Limit, tierFetch, fetch)
		}
		if chosen := pages(ctx, q); !slices.Equal(chosen, fetch) {
			t.Fatalf("q=%q limit %d: the store's own plan %v, fetch and rank %v", query, q.Limit, chosen, fetch)
		}
		byName := pages(ctx, catalog.ListQuery{Filter: f, Sort: catalog.SortName, Limit: 100})
		got := slices.Clone(walk)
		slices.Sort(got)
		slices.Sort(byName)
		if !slices.Equal(got, byName) {
			t.Fatalf("q=%q: relevance lists %d products (%v), sort=name %d", query, len(got), slices.Compact(slices.Clone(got)), len(byName))
		}
	}
}
