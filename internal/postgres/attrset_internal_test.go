package postgres

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pggrow"
)

// TestAttrSetBound: at the bound, collecting the matches reads what walking the order does
// (one page per match against walkedRowPages per walked row), and the bound grows as √rows.
func TestAttrSetBound(t *testing.T) {
	for _, limit := range []int{1, 20, 100} {
		for _, rows := range []float64{10_000, 100_000, 1_000_000} {
			m := float64(attrSetBound(limit, rows))
			walk := float64(limit+1) * rows / m * walkedRowPages
			if math.Abs(walk-m) > 0.01*m {
				t.Errorf("attrSetBound(%d, %.0f) = %.0f: collecting reads %.0f pages, walking %.0f", limit, rows, m, m, walk)
			}
		}
	}
	if a, b := attrSetBound(20, 10_000), attrSetBound(20, 1_000_000); b < 9*a || b > 11*a {
		t.Errorf("attrSetBound(20, ·): %d at 10k, %d at 1M; want ten times (√100)", a, b)
	}
}

// rare is a value about one product in 256 holds, itself or through a variant (markRare).
var rare = catalog.AttributeFilter{Key: "edition", Type: catalog.AttrEnum, Values: []string{"limited"}}

// markRare gives one product in 256 the attribute edition=limited, and one variant in 512 of
// the others. It picks them by a hash of the SKU, which the generator numbers, not of the ID,
// which holds the clock: drawn by ID, one run's 3,000 products had 16 active matches, too few for
// a page and one, and no two runs had the same. Autovacuum is off for the two tables: an
// autoanalyze running beside the test's VACUUM held back the horizon, left the updated rows' old
// versions in place and the pages not all-visible, and the pages read varied fivefold from run
// to run.
func markRare(t *testing.T, ctx context.Context, s *Store) {
	t.Helper()
	for _, sql := range []string{
		`ALTER TABLE products SET (autovacuum_enabled = off)`,
		`ALTER TABLE variants SET (autovacuum_enabled = off)`,
		`UPDATE products p SET attributes = p.attributes || '{"edition": "limited"}' FROM variants v
			WHERE v.product_id = p.id AND v.position = 0 AND substr(md5(v.sku), 1, 2) = '00'`,
		`UPDATE variants SET attributes = attributes || '{"edition": "limited"}' WHERE substr(md5(sku), 1, 3) IN ('010', '011', '012', '013', '014', '015', '016', '017')`,
		`VACUUM ANALYZE`,
	} {
		if _, err := s.Pool().Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	// The tests read a page of 20 active matches and one past it: say so here if the data cannot.
	var active int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM products p WHERE p.status = 'active'
		AND (p.attributes @> '{"edition": "limited"}' OR EXISTS (SELECT FROM variants v WHERE v.product_id = p.id AND v.attributes @> '{"edition": "limited"}'))`).Scan(&active); err != nil {
		t.Fatal(err)
	}
	if active < 21 {
		t.Fatalf("markRare: %d active products are edition=limited, want a page of 20 and one", active)
	}
	t.Logf("markRare: %d active products are edition=limited", active)
}

// listIDs runs listSQL's page for q with every attribute filter checked as check says, and
// returns the page's IDs and the cursor after it.
func listIDs(t *testing.T, ctx context.Context, s *Store, q catalog.ListQuery, terms []string, check attrCheck) ([]string, *catalog.Cursor) {
	t.Helper()
	checks := make([]attrCheck, len(q.Filter.Attributes))
	for i := range checks {
		checks[i] = check
	}
	ids, next := pageIDs(t, ctx, s, q, terms, false, checks...)
	return ids[:min(len(ids), q.Limit)], next
}

// pageIDs runs listSQL's page for q as the arguments after q say (search terms, the
// category hashed, each attribute filter's check), and returns the page's IDs and the cursor
// after it. The IDs include the row read past the page (its limit is one more), when there is one.
func pageIDs(t *testing.T, ctx context.Context, s *Store, q catalog.ListQuery, terms []string, hashCategory bool, checks ...attrCheck) ([]string, *catalog.Cursor) {
	t.Helper()
	query, args, _, _ := listSQL(q, terms, false, "", hashCategory, checks...)
	rows, err := s.Pool().Query(ctx, query, args...)
	if err != nil {
		t.Fatalf("hashed category %v, checks %v: %v\n%s", hashCategory, checks, err, query)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.Product, error) { return scanListItem(r) })
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range items {
		out = append(out, p.ID)
	}
	if len(items) > q.Limit {
		return out, q.NextCursor(items[q.Limit-1])
	}
	return out, nil
}

// TestAttributeCollectSameAsWalk: a page read through the hash of the filters' matching IDs,
// or of their matching variants' product IDs, is the page the walk reads, page after page,
// for random attribute filters (enum, text, boolean, number, a rare value), sorts, limits,
// other filters and search terms.
func TestAttributeCollectSameAsWalk(t *testing.T) {
	ctx := context.Background()
	s := syntheticStore(t, ctx)
	markRare(t, ctx, s)
	colours := []string{"black", "white", "red", "navy", "olive", "sand", "graphite", "teal"}
	materials := []string{"bamboo", "silicone", "merino wool", "walnut wood"}
	pick := func(rng *rand.Rand) catalog.AttributeFilter {
		switch rng.IntN(5) {
		case 0:
			return catalog.AttributeFilter{Key: "colour", Type: catalog.AttrEnum, Values: []string{colours[rng.IntN(8)], colours[rng.IntN(8)]}[:1+rng.IntN(2)]}
		case 1:
			return catalog.AttributeFilter{Key: "material", Type: catalog.AttrText, Values: []string{materials[rng.IntN(len(materials))]}}
		case 2:
			return catalog.AttributeFilter{Key: "waterproof", Type: catalog.AttrBoolean, Values: []string{[]string{"true", "false"}[rng.IntN(2)]}}
		case 3:
			lo := float64(1 + rng.IntN(3))
			return catalog.AttributeFilter{Key: "warranty_years", Type: catalog.AttrNumber, Min: &lo}
		}
		return rare
	}
	sorts := []catalog.Sort{catalog.SortNewest, catalog.SortOldest, catalog.SortName, catalog.SortNameDesc, catalog.SortPrice, catalog.SortPriceDesc}
	rng := rand.New(rand.NewPCG(16, 3))
	compared := 0
	for i := range 60 {
		q := catalog.ListQuery{Sort: sorts[rng.IntN(len(sorts))], Limit: 1 + rng.IntN(25), Summary: rng.IntN(2) == 0}
		for range 1 + rng.IntN(2) {
			q.Filter.Attributes = append(q.Filter.Attributes, pick(rng))
		}
		if q.Sort == catalog.SortPrice || q.Sort == catalog.SortPriceDesc || rng.IntN(4) == 0 {
			q.Filter.Currency = []string{"USD", "EUR"}[rng.IntN(2)]
		}
		if rng.IntN(2) == 0 {
			q.Filter.Statuses = []catalog.Status{catalog.StatusActive}
		}
		if rng.IntN(4) == 0 {
			inStock := rng.IntN(2) == 0
			q.Filter.InStock = &inStock
		}
		var terms []string
		if rng.IntN(5) == 0 {
			q.Filter.Query = []string{"lamp", "waterproof", "bamboo"}[rng.IntN(3)]
			terms = catalog.SearchTerms(q.Filter.Query)
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		name := fmt.Sprintf("%d: %s limit %d %+v", i, q.Sort, q.Limit, q.Filter)
		for page := 0; page < 3; page++ {
			walked, next := listIDs(t, ctx, s, q, terms, attrWalk)
			for _, check := range []attrCheck{attrHashVariants, attrCollect} {
				if got, _ := listIDs(t, ctx, s, q, terms, check); !slices.Equal(walked, got) {
					t.Fatalf("%s, page %d: check %d read %v, the walk %v", name, page, check, got, walked)
				}
			}
			compared += len(walked)
			if next == nil {
				break
			}
			q.After = next
		}
	}
	if compared < 500 {
		t.Errorf("only %d products compared: the filters select too little", compared)
	}
}

// TestCollectCheaper: for the rare value the store collects the matches, and reads a fraction
// of the pages the walk would (the walk reads about 256 × page rows, each a heap page and a
// probe of its variants, to find a page of matches).
func TestCollectCheaper(t *testing.T) {
	ctx := context.Background()
	s := syntheticStore(t, ctx)
	markRare(t, ctx, s)
	fresh := context.WithValue(ctx, freshPlanKey{}, true)
	for _, sort := range []catalog.Sort{catalog.SortNewest, catalog.SortName, catalog.SortPriceDesc} {
		q := catalog.ListQuery{Sort: sort, Limit: 20, Filter: catalog.ProductFilter{Attributes: []catalog.AttributeFilter{rare},
			Statuses: []catalog.Status{catalog.StatusActive}}}
		if sort == catalog.SortPriceDesc {
			q.Filter.Currency = "USD"
		}
		checks, err := s.attrChecks(fresh, s.pool, q)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(checks, []attrCheck{attrCollect}) {
			t.Errorf("%s: attrChecks = %v for a value in 1 product of 256, want [attrCollect]", sort, checks)
		}
		p, err := s.ExplainList(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		query, args, _, _ := listSQL(q, nil, false, "", false, attrWalk)
		walked, err := s.explainIn(ctx, "", query, args...)
		if err != nil {
			t.Fatal(err)
		}
		w := walked.SharedHit + walked.SharedRead
		t.Logf("%s, edition=limited: %d rows, %d pages collected, %d walked: %s", sort, p.Rows, p.Buffers, w, strings.Join(compactNodes(p.Nodes), " > "))
		if p.Buffers*3 > w {
			t.Errorf("%s: the collect plan reads %d pages, want under a third of the walk's %d", sort, p.Buffers, w)
		}
	}
}

// TestAttributePagesFlat: a page filtered by a common attribute value (enum, boolean, a number
// range) reads about as many pages at 30,000 products as at 3,000: the walk reads
// page / share rows whatever the catalog's size. Left to the planner, colour=red hashed every
// matching variant first and read ten times the pages for ten times the catalog. A rare value
// is collected: its pages grow with its matches, within the search bound 4·√(21·n).
func TestAttributePagesFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("grows a catalog to 30,000 products")
	}
	ctx := context.Background()
	s := syntheticStore(t, ctx)
	markRare(t, ctx, s)
	two, three := 2.0, 3.0
	active := []catalog.Status{catalog.StatusActive}
	queries := []struct {
		name   string
		q      catalog.ListQuery
		common bool
	}{
		{"colour=red, newest", catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Filter: catalog.ProductFilter{
			Attributes: []catalog.AttributeFilter{{Key: "colour", Type: catalog.AttrEnum, Values: []string{"red"}}}, Statuses: active}}, true},
		{"waterproof=true, by name", catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: catalog.ProductFilter{
			Attributes: []catalog.AttributeFilter{{Key: "waterproof", Type: catalog.AttrBoolean, Values: []string{"true"}}}, Statuses: active}}, true},
		{"warranty 2-3 years, by price", catalog.ListQuery{Sort: catalog.SortPrice, Limit: 20, Filter: catalog.ProductFilter{Currency: "USD",
			Attributes: []catalog.AttributeFilter{{Key: "warranty_years", Type: catalog.AttrNumber, Min: &two, Max: &three}}, Statuses: active}}, true},
		{"edition=limited (rare), newest", catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Filter: catalog.ProductFilter{
			Attributes: []catalog.AttributeFilter{rare}, Statuses: active}}, false},
	}
	measure := func() []Plan {
		var out []Plan
		for _, x := range queries {
			p, err := s.ExplainList(ctx, x.q)
			if err != nil {
				t.Fatal(err)
			}
			if p.Rows != 21 {
				t.Fatalf("%s: %d rows, want a full page and one", x.name, p.Rows)
			}
			out = append(out, p)
		}
		return out
	}
	small := measure()
	if err := pggrow.Synthetic(ctx, s.Pool(), 3000, 3000, 27000, 1); err != nil {
		t.Fatal(err)
	}
	markRare(t, ctx, s)
	// The store trusts the statistics it read for statsTTL: forget them, as a minute would.
	s.stats.mu.Lock()
	s.stats.columns, s.stats.choices = nil, nil
	s.stats.mu.Unlock()
	large := measure()
	for i, x := range queries {
		growth := float64(large[i].Buffers) / float64(small[i].Buffers)
		t.Logf("%-32s %6d pages at 3,000, %6d at 30,000 (x%.2f): %s", x.name, small[i].Buffers, large[i].Buffers, growth,
			strings.Join(compactNodes(large[i].Nodes), " > "))
		switch {
		case x.common && growth > 2: // ten times the catalog: linear would be x10, √ x3.2
			t.Errorf("%s: %d pages at 3,000 products, %d at 30,000: grows with the catalog", x.name, small[i].Buffers, large[i].Buffers)
		case !x.common && float64(large[i].Buffers) > 4*math.Sqrt(21*30_000):
			t.Errorf("%s: %d pages at 30,000 products, above the search bound", x.name, large[i].Buffers)
		}
	}
}

// compactNodes keeps the scans of a plan: how its rows are found.
func compactNodes(nodes []string) []string {
	var out []string
	for _, n := range nodes {
		if strings.Contains(n, " Scan on ") && !strings.HasPrefix(n, "CTE Scan") {
			out = append(out, n)
		}
	}
	return out
}
