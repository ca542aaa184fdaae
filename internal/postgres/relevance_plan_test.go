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
// page reads (the counts that chose the plan included, as a first search pays them) at two
// catalog sizes: tripling the catalog triples every shape's matches, and no shape may read
// more pages for it. A page of terms matching a share s of the catalog can be read by walking
// the ID order (about page/s rows, in heap order, whatever the size) or by fetching every match
// (s·n rows, a page each); the store takes the cheaper in pages (columnStats.balance), so pairs
// in 2% of the catalog are walked at both sizes. Before: pairs read 416 -> 1,964 pages (every
// match fetched), a word in no name 215 -> 755 (the GIN pending lists, migration 0015) and, in
// earlier runs, 2,831 (a count that found nothing scanned the table).
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
		deep    int // pages to turn before measuring
	}{
		{"a common word in names (a fifth)", "waterproof", 0},
		{"a common word, page 20", "waterproof", 20},
		{"a common prefix", "waterpr", 0},
		{"a hyphenated word", "heavy-duty", 0},
		{"a word in every description, no name", "thing", 0},
		{"a word in every brand, no name", "brand", 0},
		{"a common pair (2%)", "waterproof lamp", 0},
		{"a common word and a prefix of another (1%)", "compact ke", 0},
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
				if bound := int64(4 * math.Sqrt(21*float64(sizes[i]))); p.Buffers > bound {
					t.Errorf("q=%q: %d pages at %d products, above ADR 0011's 4·√(21·n) = %d", tc.q, p.Buffers, sizes[i], bound)
				}
				pages = append(pages, p.Buffers)
			}
			// A flat page may read a little more (a deeper index), not in proportion.
			if pages[1] > pages[0]*3/2+50 {
				t.Errorf("q=%q: %d pages at %d products, %d at %d: grows with the matches", tc.q, pages[0], sizes[0], pages[1], sizes[1])
			}
		})
	}
}
