package postgres_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/seed"
)

// TestListPlansUseIndexes loads a catalog large enough for the planner to care, then EXPLAINs
// the list queries the API makes: a page of fixed size must come from an index walk in sort
// order, never a sequential scan and sort of the whole table, or deep pages would grow with the
// catalog.
func TestListPlansUseIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 30,000 products")
	}
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := seed.Load(ctx, s, seed.Synthetic(30_000, 3), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	first, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: catalog.ProductFilter{Statuses: []catalog.Status{catalog.StatusActive}}})
	if err != nil {
		t.Fatal(err)
	}
	active := catalog.ProductFilter{Statuses: []catalog.Status{catalog.StatusActive}}
	deep := first.Items[10]
	for _, tc := range []struct {
		name       string
		q          catalog.ListQuery
		mustUseIdx bool // a sequential scan of products is a failure
		rare       bool // the plan for search terms with few matches
	}{
		{"newest active", catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Filter: active}, true, false},
		{"name active", catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: active}, true, false},
		{"price desc active", catalog.ListQuery{Sort: catalog.SortPriceDesc, Limit: 20, Filter: active}, true, false},
		{"deep page by name", catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: active, After: catalog.ListQuery{Sort: catalog.SortName, Filter: active}.NextCursor(deep)}, true, false},
		{"all statuses oldest", catalog.ListQuery{Sort: catalog.SortOldest, Limit: 20}, true, false},
		{"search, common words", catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Filter: catalog.ProductFilter{Query: "waterproof lamp", Statuses: active.Statuses}}, true, false},
		{"search, rare word", catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Filter: catalog.ProductFilter{Query: "12345", Statuses: active.Statuses}}, true, true},
		{"category subtree", catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: catalog.ProductFilter{Category: "outdoor", Statuses: active.Statuses}}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			query, args := postgres.ListSQL(tc.q, tc.rare)
			var plan []map[string]any
			var raw []byte
			if err := s.Pool().QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			json.Unmarshal(raw, &plan)
			nodes := planNodes(plan[0]["Plan"].(map[string]any), nil)
			t.Logf("plan: %s", strings.Join(nodes, " > "))
			for _, n := range nodes {
				if n == "Seq Scan on products" && tc.mustUseIdx {
					t.Fatalf("sequential scan of products for a page of 20: %v", nodes)
				}
			}
		})
	}
}

func planNodes(n map[string]any, out []string) []string {
	name, _ := n["Node Type"].(string)
	if rel, ok := n["Relation Name"].(string); ok {
		name += " on " + rel
	}
	if idx, ok := n["Index Name"].(string); ok {
		name += " (" + idx + ")"
	}
	out = append(out, name)
	if kids, ok := n["Plans"].([]any); ok {
		for _, k := range kids {
			out = planNodes(k.(map[string]any), out)
		}
	}
	return out
}
