package postgres_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/storetest"
)

// TestFacetBudgetSamples holds the facet budget to its contract over random filters and facet
// sets on a generated catalog of 1,500 products, against a store without a budget on the same
// database (the exact counts):
//   - a selection of at most the budget is counted exactly: the answer equals the exact one;
//   - a larger one is sampled, and then every facet says so (exact false, sample in (0, 1));
//   - each sampled count is within 5 standard deviations of the exact count (the sample's
//     hypergeometric spread plus the spread of the share estimated from the hash cut), and no
//     value appears that the exact answer lacks.
func TestFacetBudgetSamples(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	const budget = 200
	openWith := func(budget int) *postgres.Store {
		s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 4, FacetBudget: budget})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	exact, sampled := openWith(-1), openWith(budget)
	storetest.FacetBenchCatalog(t, exact, 1500)
	// A category tree: cat-00 holds cat-01 and cat-02, so its page merges three ranges.
	if _, err := exact.Pool().Exec(ctx, `UPDATE categories SET parent = 'cat-00' WHERE slug IN ('cat-01', 'cat-02')`); err != nil {
		t.Fatal(err)
	}
	analyze(t, exact)
	colour, err := exact.Attribute(ctx, "colour")
	if err != nil {
		t.Fatal(err)
	}
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 16))
	pick := func(vs ...string) string { return vs[rng.IntN(len(vs))] }
	var exactRuns, sampledRuns int
	for c := range 60 {
		f := catalog.ProductFilter{Statuses: []catalog.Status{catalog.StatusActive},
			Category: pick("", "", "cat-00", "cat-05"), Brand: pick("", "", "", "Brand 03"),
			Currency: pick("", "USD"), Query: pick("", "", "", "facet")}
		if f.Currency != "" && rng.IntN(3) == 0 {
			lo := int64(rng.IntN(100_000))
			f.MinPrice = &lo
		}
		if rng.IntN(3) == 0 {
			in := rng.IntN(2) == 0
			f.InStock = &in
		}
		if rng.IntN(3) == 0 {
			a, err := catalog.ParseAttributeFilter(colour, pick("red", "red,blue", "sand"))
			if err != nil {
				t.Fatal(err)
			}
			f.Attributes = []catalog.AttributeFilter{a}
		}
		var names []string
		for _, n := range []string{"brand", "category", "price", "in_stock", "attr.colour"} {
			if rng.IntN(2) == 0 {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			names = []string{"in_stock"}
		}
		r, err := catalog.ParseFacets(strings.Join(names, ","), "USD", func(key string) (catalog.AttributeDefinition, error) {
			return exact.Attribute(ctx, key)
		})
		if err != nil {
			t.Fatal(err)
		}
		q := catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Filter: f}
		what := fmt.Sprintf("seed %d case %d: %+v facets=%s", seed, c, f, strings.Join(names, ","))
		want, err := exact.Facets(ctx, q, r)
		if err != nil {
			t.Fatalf("%s: exact: %v", what, err)
		}
		got, err := sampled.Facets(ctx, q, r)
		if err != nil {
			t.Fatalf("%s: sampled: %v", what, err)
		}
		// The selection the statement reads: every requested facet's own filter left out.
		base := f
		for _, spec := range r.Facets {
			base = spec.FilterFor(base)
		}
		page, err := exact.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortNewest, Limit: 1, WithTotal: true, Filter: base})
		if err != nil {
			t.Fatal(err)
		}
		n := int(*page.Total)
		if n <= budget {
			exactRuns++
			if !reflect.DeepEqual(want, got) {
				t.Errorf("%s: %d products (budget %d) counted differently from the exact counts:\n got %+v\nwant %+v", what, n, budget, got, want)
			}
			continue
		}
		sampledRuns++
		for i, g := range got {
			if g.Exact || g.Sample <= 0 || g.Sample >= 1 {
				t.Errorf("%s: %d products > budget %d, but facet %s says exact %v, sample %v", what, n, budget, g.Name, g.Exact, g.Sample)
				continue
			}
			// The share sampled is about budget / n (k-minimum-values: relative spread 1/sqrt(budget)).
			if wantShare := float64(budget) / float64(n); math.Abs(g.Sample-wantShare) > 5*wantShare/math.Sqrt(budget) {
				t.Errorf("%s: facet %s sample %.4f, want about %.4f", what, g.Name, g.Sample, wantShare)
			}
			checkSampledCounts(t, what, want[i], g, n, budget)
		}
	}
	t.Logf("seed %d: %d exact answers, %d sampled", seed, exactRuns, sampledRuns)
	if exactRuns == 0 || sampledRuns == 0 {
		t.Fatalf("seed %d: %d exact answers, %d sampled: the cases must exercise both", seed, exactRuns, sampledRuns)
	}
}

// checkSampledCounts compares one sampled facet with its exact counts over a selection of n
// products sampled down to budget.
func checkSampledCounts(t *testing.T, what string, want, got catalog.Facet, n, budget int) {
	t.Helper()
	est := map[string]int64{}
	for _, v := range got.Values {
		est[v.Value] = v.Count
	}
	fpc := float64(n-budget) / float64(n-1)
	for _, v := range want.Values {
		q := float64(v.Count) / float64(n)
		// Relative variance of the scaled count: the sample's count (hypergeometric) and the
		// estimated share, as independent; one unit of rounding per 1/share on top.
		rel := math.Sqrt((1-q)/(float64(budget)*q)*fpc + 1/float64(budget))
		bound := 5*rel*float64(v.Count) + 1/got.Sample
		if e := est[v.Value]; math.Abs(float64(e-v.Count)) > bound {
			t.Errorf("%s: %s=%s estimated %d, exact %d (bound +-%.0f)", what, got.Name, v.Value, e, v.Count, bound)
		}
		delete(est, v.Value)
	}
	for v := range est {
		t.Errorf("%s: %s=%s counted in the sample but not in the exact answer", what, got.Name, v)
	}
}
