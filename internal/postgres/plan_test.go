package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// TestListPlansUseIndexes loads a catalog large enough for the planner to care, then EXPLAINs
// the list queries the API makes, as the store runs them: a page of fixed size must come from
// an index walk in sort order, or for rare search terms from the full-text index, never a
// sequential scan and sort of the whole table, or deep pages would grow with the catalog.
func TestListPlansUseIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 30,000 products")
	}
	ctx := context.Background()
	url := pgtest.URL(t)
	fresh, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	loadSynthetic(t, fresh, 30_000)
	active := catalog.ProductFilter{Statuses: []catalog.Status{catalog.StatusActive}}
	search := func(q string) catalog.ListQuery {
		return catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Filter: catalog.ProductFilter{Query: q, Statuses: active.Statuses}}
	}
	// Straight after a bulk load there are no statistics: the store counts matches instead.
	if p := explain(t, fresh, search("12345")); !usesSearchIndex(p) {
		t.Errorf("a rare word before ANALYZE: %v", p.Nodes)
	}

	if _, err := fresh.Pool().Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, url, postgres.Options{}) // nothing cached about statistics yet
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: active})
	if err != nil {
		t.Fatal(err)
	}
	deep := first.Items[10]
	for _, tc := range []struct {
		name       string
		q          catalog.ListQuery
		mustUseIdx bool // a sequential scan of products is a failure
		searchIdx  bool // the matches must come from the full-text index
		walk       bool // common terms: the page must come from walking the sort order
	}{
		{"newest active", catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Filter: active}, true, false, false},
		{"name active", catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: active}, true, false, false},
		{"deep page by name", catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: active, After: catalog.ListQuery{Sort: catalog.SortName, Filter: active}.NextCursor(deep)}, true, false, false},
		{"price in one currency", catalog.ListQuery{Sort: catalog.SortPrice, Limit: 20, Filter: catalog.ProductFilter{Currency: "EUR", Statuses: active.Statuses}}, true, false, false},
		{"price desc in one currency, deep", catalog.ListQuery{Sort: catalog.SortPriceDesc, Limit: 20, Filter: catalog.ProductFilter{Currency: "USD", Statuses: active.Statuses},
			After: catalog.ListQuery{Sort: catalog.SortPriceDesc, Filter: catalog.ProductFilter{Currency: "USD", Statuses: active.Statuses}}.NextCursor(deep)}, true, false, false},
		{"price range in one currency", catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Filter: catalog.ProductFilter{Currency: "USD", MinPrice: ptr(int64(1000)), MaxPrice: ptr(int64(5000)), Statuses: active.Statuses}}, true, false, false},
		{"attr filter on variants", catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Filter: catalog.ProductFilter{Statuses: active.Statuses,
			Attributes: []catalog.AttributeFilter{{Key: "colour", Type: catalog.AttrEnum, Values: []string{"red"}}}}}, true, false, false},
		{"attr number range on products", catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: catalog.ProductFilter{Statuses: active.Statuses,
			Attributes: []catalog.AttributeFilter{{Key: "screen_inches", Type: catalog.AttrNumber, Min: ptr(13.0), Max: ptr(15.0)}}}}, true, false, false},
		{"in stock", catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Filter: catalog.ProductFilter{Statuses: active.Statuses, InStock: ptr(true)}}, true, false, false},
		{"all statuses oldest", catalog.ListQuery{Sort: catalog.SortOldest, Limit: 20}, true, false, false},
		{"search, a common word", search("waterproof"), true, false, true},
		// Three lexemes (heavy, duty, heavy-duty) that always go together: their frequencies
		// multiplied would call them rare, and fetch every match.
		{"search, a hyphenated common word", search("heavy-duty"), true, false, true},
		{"search, two common words", search("waterproof lamp"), true, false, false},
		{"search, rare word", search("12345"), true, true, false},
		{"search, common and rare word", search("lamp 12345"), true, true, false},
		{"search, unknown word", search("zzyzx"), true, true, false},
		{"category subtree", catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: catalog.ProductFilter{Category: "outdoor", Statuses: active.Statuses}}, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := explain(t, s, tc.q)
			t.Logf("plan: %s; %d pages", strings.Join(p.Nodes, " > "), p.Buffers)
			if p.SeqScan() && tc.mustUseIdx {
				t.Fatalf("sequential scan of products for a page of 20: %v", p.Nodes)
			}
			if tc.walk && usesSearchIndex(p) {
				t.Fatalf("common terms fetched every match instead of walking the sort order: %v", p.Nodes)
			}
			if tc.searchIdx && !usesSearchIndex(p) {
				t.Fatalf("rare terms walked the sort index instead of using the full-text index: %v", p.Nodes)
			}
		})
	}
}

func explain(t *testing.T, s *postgres.Store, q catalog.ListQuery) postgres.Plan {
	t.Helper()
	p, err := s.ExplainList(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func usesSearchIndex(p postgres.Plan) bool {
	for _, n := range p.Nodes {
		if strings.Contains(n, "(products_search)") {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }

// loadSynthetic fills s with n products in a small category tree: names from a few common
// words ("waterproof" in a fifth, "heavy-duty" in a tenth, "lamp" in a tenth) and a model
// number unique to each (10000+i), a third of them with three sizes and two colours (six
// variants), prices in USD and, for half, EUR; a filterable colour on variants and a screen
// size on products.
func loadSynthetic(t *testing.T, s *postgres.Store, n int) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []catalog.CategoryInput{{Slug: "outdoor", Name: "Outdoor"}, {Slug: "camping", Name: "Camping", Parent: "outdoor"},
		{Slug: "home", Name: "Home"}, {Slug: "kitchen", Name: "Kitchen", Parent: "home"}} {
		if _, err := s.CreateCategory(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []catalog.AttributeDefinitionInput{
		{Key: "colour", Name: "Colour", Type: catalog.AttrEnum, Values: []string{"red", "blue"}, Filterable: true},
		{Key: "screen_inches", Name: "Screen", Type: catalog.AttrNumber, Unit: "in", Filterable: true},
	} {
		if _, err := s.CreateAttribute(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	adjectives := []string{"Compact", "Classic", "Deluxe", "Portable", "Smart", "Waterproof", "Heavy-duty", "Slim", "Rugged", "Waterproof"}
	nouns := []string{"Lamp", "Kettle", "Tent", "Chair", "Speaker", "Backpack", "Jacket", "Bottle", "Stove", "Table"}
	cats := []string{"outdoor", "camping", "home", "kitchen"}
	statuses := []catalog.Status{catalog.StatusActive, catalog.StatusActive, catalog.StatusActive, catalog.StatusDraft}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var ps []catalog.NewProduct
	for i := range n {
		amount := int64(500 + (i*7919)%100_000)
		prices := []catalog.PriceInput{{Currency: "USD", Amount: amount}}
		if i%2 == 0 {
			prices = append(prices, catalog.PriceInput{Currency: "EUR", Amount: amount * 9 / 10})
		}
		in := catalog.ProductInput{
			Name:        fmt.Sprintf("%s %s %d", adjectives[i%len(adjectives)], nouns[(i/10)%len(nouns)], 10000+i),
			Description: "A " + strings.ToLower(adjectives[(i/3)%len(adjectives)]) + " thing for every day.",
			Category:    cats[i%len(cats)], Brand: fmt.Sprintf("Brand %d", i%50), Status: statuses[i%len(statuses)],
			Attributes: catalog.Attributes{"screen_inches": float64(10 + i%8)},
		}
		sku := fmt.Sprintf("SYN-%06d", i)
		if i%3 == 0 {
			in.Options = []catalog.Option{{Name: "Size", Values: []string{"S", "M", "L"}}, {Name: "Colour", Values: []string{"Red", "Blue"}}}
			for _, size := range in.Options[0].Values {
				for _, colour := range in.Options[1].Values {
					in.Variants = append(in.Variants, catalog.VariantInput{SKU: sku + "-" + size + "-" + colour,
						Options:    map[string]string{"Size": size, "Colour": colour},
						Attributes: catalog.Attributes{"colour": strings.ToLower(colour)}, Prices: prices, InitialStock: int64(i % 4)})
				}
			}
		} else {
			in.Variants = []catalog.VariantInput{{SKU: sku, Prices: prices, InitialStock: int64(i % 3)}}
		}
		ps = append(ps, catalog.NewProduct{ProductInput: in, CreatedAt: start.Add(time.Duration(i) * time.Minute)})
	}
	if err := s.Import(ctx, ps); err != nil {
		t.Fatal(err)
	}
}
