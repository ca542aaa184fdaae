package postgres_test

import (
	"context"
	"math"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// TestRelevancePagesFlat measures, with EXPLAIN (ANALYZE, BUFFERS), the pages one relevance
// page reads (the counts that chose the plan included) at two catalog sizes: for common words
// and prefixes the figure must not grow with the catalog, though the matches triple; pairs and
// words in no name must stay within ADR 0011's bound of 4·√(21·n) pages (before the tier
// columns, a word in no name walked the whole table: 1,370 -> 3,665 pages).
func TestRelevancePagesFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 10,000 and 30,000 products")
	}
	ctx := context.Background()
	sizes := []int{10_000, 30_000}
	stores := make([]*postgres.Store, len(sizes))
	for i, n := range sizes {
		s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		loadSynthetic(t, s, n)
		if _, err := s.Pool().Exec(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	active := []catalog.Status{catalog.StatusActive}
	for _, tc := range []struct {
		name, q string
		deep    int  // pages to turn before measuring
		rare    bool // held to the bound of ADR 0011, not to flatness
	}{
		{"a common word in names (a fifth)", "waterproof", 0, false},
		{"a common word, page 20", "waterproof", 20, false},
		{"a common prefix", "waterpr", 0, false},
		{"a hyphenated word", "heavy-duty", 0, false},
		// The rest are held to ADR 0011's bound only: near the balance point (2% and 1% of the
		// catalog) every match of a tier or of the query may be fetched, and the upper tiers of
		// a word in no name are found empty through their indexes. Across runs their figures
		// at 30,000 varied (342 to 2,831 pages for "thing"), so flatness is not claimed.
		{"a common pair", "waterproof lamp", 0, true},
		{"a word in every description, no name", "thing", 0, true},
		{"a word in every brand, no name", "brand", 0, true},
		{"a common word and a prefix of another", "compact ke", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pages []int64
			for i, s := range stores {
				q := catalog.ListQuery{Filter: catalog.ProductFilter{Query: tc.q, Statuses: active}, Sort: catalog.SortRelevance, Limit: 20}
				for range tc.deep {
					page, err := s.ListProducts(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					q.After = page.Next
				}
				p := explain(t, s, q)
				t.Logf("%d products: %d pages, %d rows; %v", sizes[i], p.Buffers, p.Rows, p.Nodes)
				if p.SeqScan() {
					t.Errorf("%d products: a sequential scan of products for a page of 20", sizes[i])
				}
				pages = append(pages, p.Buffers)
			}
			if tc.rare {
				// The bench's scale run holds search to the same bound (internal/bench).
				for i, n := range sizes {
					if bound := int64(4 * math.Sqrt(21*float64(n))); pages[i] > bound {
						t.Errorf("q=%q: %d pages at %d products, above 4·√(21·n) = %d", tc.q, pages[i], n, bound)
					}
				}
				return
			}
			// Tripling the catalog triples the matches; a page may read a little more (a
			// deeper index), not in proportion.
			if pages[1] > pages[0]*3/2+50 {
				t.Errorf("q=%q: %d pages at %d products, %d at %d: grows with the matches", tc.q, pages[0], sizes[0], pages[1], sizes[1])
			}
		})
	}
}
