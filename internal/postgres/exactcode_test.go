package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/seed"
)

// exactCodePages is "a handful of pages": one product's page (its row, stock and prices, about
// 10 pages), the SKU and barcode index probes, and the full-text index entries of the code's
// words. It does not depend on the catalog's size.
const exactCodePages = 120

// TestSearchExactCodePages searches for exact SKUs and barcodes (product SKUs, a variant's
// suffixed SKU, any case) in the bench's synthetic catalog at 20,000 and 60,000 products, under
// relevance and under newest, and EXPLAINs (ANALYZE, BUFFERS) each page as the store runs it:
// the product must come first and the page must read a handful of pages at both sizes. Before
// the fix, one product's SKU read 54 pages at 20,000 and 8,045 (the whole table, walked through
// its primary key to probe a hash of the matched IDs) at 60,000, because the planner guessed
// that the code's words matched 5% of the variants.
func TestSearchExactCodePages(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 20,000 and 60,000 products")
	}
	ctx := context.Background()
	for _, n := range []int{20_000, 60_000} {
		s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := seed.LoadSynthetic(ctx, s, 0, n, 1, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pool().Exec(ctx, "VACUUM ANALYZE products, variants, product_prices, inventory"); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(n), 24))
		// Codes of products across the catalog: random ones, so the next shape of SKU that
		// misleads the planner has a chance to be drawn.
		var codes []string
		for range 6 {
			codes = append(codes, seed.SyntheticSKU(rng.IntN(n), 0))
		}
		codes = append(codes, strings.ToLower(seed.SyntheticSKU(n/2, 0)))
		var variantSKU, barcode string
		if err := s.Pool().QueryRow(ctx, `SELECT (SELECT sku FROM variants WHERE sku LIKE '%-1' ORDER BY sku OFFSET $1 LIMIT 1),
			(SELECT barcode FROM variants WHERE barcode <> '' ORDER BY barcode OFFSET $1 LIMIT 1)`, n/100).Scan(&variantSKU, &barcode); err != nil {
			t.Fatal(err)
		}
		codes = append(codes, variantSKU, barcode)
		for _, code := range codes {
			for _, sort := range []catalog.Sort{catalog.SortRelevance, catalog.SortNewest} {
				t.Run(fmt.Sprintf("%d/%s/%s", n, code, sort), func(t *testing.T) {
					q := catalog.ListQuery{Filter: catalog.ProductFilter{Query: code}, Sort: sort, Limit: 20}
					want, _, err := s.VariantBySKU(ctx, code)
					if err != nil {
						// A barcode: find its product by the variants table.
						var id string
						if err := s.Pool().QueryRow(ctx, `SELECT product_id::text FROM variants WHERE barcode = $1`, code).Scan(&id); err != nil {
							t.Fatalf("no variant with SKU or barcode %q: %v", code, err)
						}
						want.ID = id
					}
					page, err := s.ListProducts(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					found := false
					for i, p := range page.Items {
						if p.ID == want.ID {
							found = true
							if sort == catalog.SortRelevance && i != 0 {
								t.Errorf("q=%q: the product is at %d, want first", code, i)
							}
						}
					}
					if !found {
						t.Fatalf("q=%q sort=%s: product %s not on the first page", code, sort, want.ID)
					}
					p := explain(t, s, q)
					t.Logf("%d pages, %d rows; %v", p.Buffers, p.Rows, p.Nodes)
					if p.SeqScan() {
						t.Errorf("q=%q: a sequential scan of products", code)
					}
					if p.Buffers > exactCodePages {
						t.Errorf("q=%q sort=%s at %d products: %d pages, want at most %d", code, sort, n, p.Buffers, exactCodePages)
					}
				})
			}
		}
	}
}
