package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/seed"
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
	if err := seed.Load(ctx, fresh, seed.Synthetic(30_000, 3), nil); err != nil {
		t.Fatal(err)
	}
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
		{"price desc active", catalog.ListQuery{Sort: catalog.SortPriceDesc, Limit: 20, Filter: active}, true, false, false},
		{"deep page by name", catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: active, After: catalog.ListQuery{Sort: catalog.SortName, Filter: active}.NextCursor(deep)}, true, false, false},
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
