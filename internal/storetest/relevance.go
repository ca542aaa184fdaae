package storetest

import (
	"slices"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// relevanceCatalog creates, in this order (so IDs ascend in it), products whose expected
// relevance order is written out by hand in testRelevance: within a tier the newest ID comes
// first (ADR 0021).
func relevanceCatalog(t *testing.T, s catalog.Store) {
	t.Helper()
	category(t, s, "misc", "")
	for _, it := range []struct{ sku, name, brand, desc, barcode string }{
		{"R-01", "Blue shirt", "Acme", "Cotton, long sleeves.", ""},
		{"R-02", "Linen trousers", "Bluebird", "Relaxed fit.", ""},
		{"R-03", "Rain jacket", "Acme", "A blue shell that packs small.", ""},
		{"R-04", "Blue mug", "Acme", "Stoneware.", ""},
		{"R-05", "Wool socks", "Blue Ridge", "Warm and soft.", ""},
		{"R-06", "Canvas tote", "Acme", "Navy and blue stripes.", ""},
		{"R-07", "Blueberry jam", "Acme", "Fruit spread.", ""},
		{"BLUE-1", "Phone case", "Acme", "Slim and light.", ""},
		{"R-09", "Desk lamp", "Acme", "Warm light.", "4006381333931"},
		{"R-10", "Blue 1 litre bottle", "Acme", "Steel.", ""},
	} {
		in := input(it.sku, it.name, "misc", 100)
		in.Brand, in.Description, in.Variants[0].Barcode = it.brand, it.desc, it.barcode
		must(s.CreateProduct(ctx(t), in))(t)
	}
}

// testRelevance holds both stores to one relevance order: an exact SKU or barcode first, then
// all terms in the name, then in the name or brand, then anywhere, each tier newest ID first.
func testRelevance(t *testing.T, s catalog.Store) {
	relevanceCatalog(t, s)
	relevance := func(q string) catalog.ListQuery {
		return catalog.ListQuery{Filter: catalog.ProductFilter{Query: q}, Sort: catalog.SortRelevance}
	}
	for _, tc := range []struct {
		name string
		q    catalog.ListQuery
		want []string
	}{
		// Name (R-10, R-07 as a prefix, R-04, R-01), brand (R-05, R-02 as a prefix), then
		// a SKU word (BLUE-1) and descriptions.
		{"tiers", relevance("blue"), []string{"R-10", "R-07", "R-04", "R-01", "R-05", "R-02", "BLUE-1", "R-06", "R-03"}},
		{"prefix for type-ahead", relevance("blu"), []string{"R-10", "R-07", "R-04", "R-01", "R-05", "R-02", "BLUE-1", "R-06", "R-03"}},
		// Both words in the name, above both in a description.
		{"a pair", relevance("blue sh"), []string{"R-01", "R-03"}},
		// One word in the name and the other in the brand: the brand tier.
		{"name and brand", relevance("bluebird trousers"), []string{"R-02"}},
		// An exact SKU, any case, above a product whose name has both words.
		{"exact SKU first", relevance("blue-1"), []string{"BLUE-1", "R-10"}},
		// A barcode no word matches: found, and first.
		{"exact barcode", relevance("4006381333931"), []string{"R-09"}},
		{"barcode under another sort", catalog.ListQuery{Filter: catalog.ProductFilter{Query: "4006381333931"}, Sort: catalog.SortName}, []string{"R-09"}},
		{"other sorts still apply", catalog.ListQuery{Filter: catalog.ProductFilter{Query: "blue sh"}, Sort: catalog.SortName}, []string{"R-01", "R-03"}},
		{"filters apply", catalog.ListQuery{Filter: catalog.ProductFilter{Query: "blue", Brand: "acme", Currency: "USD"}, Sort: catalog.SortRelevance},
			[]string{"R-10", "R-07", "R-04", "R-01", "BLUE-1", "R-06", "R-03"}},
		{"in a category", catalog.ListQuery{Filter: catalog.ProductFilter{Query: "blue sh", Category: "misc", InStock: ptr(false)}, Sort: catalog.SortRelevance},
			[]string{"R-01", "R-03"}},
		{"nothing", relevance("zzyzx"), nil},
		{"only stop words", relevance("the"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := list(t, s, tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("ListProducts(q=%q, sort=%s) = %v, want %v", tc.q.Filter.Query, tc.q.Sort, got, tc.want)
			}
		})
	}

	q := relevance("blue")
	q.Limit, q.WithTotal = 3, true
	page := must(s.ListProducts(ctx(t), q))(t)
	if page.Total == nil || *page.Total != 9 {
		t.Errorf("total = %v, want 9", page.Total)
	}
}

// testRelevancePaging pages through a relevance order three products at a time while products
// are added above and below the cursor: each product before the insert is seen exactly once, in
// order, and a new one appears only when it ranks after the cursor.
func testRelevancePaging(t *testing.T, s catalog.Store) {
	relevanceCatalog(t, s)
	q := catalog.ListQuery{Filter: catalog.ProductFilter{Query: "blue"}, Sort: catalog.SortRelevance, Limit: 3}
	var got []string
	next := func() *catalog.Cursor {
		t.Helper()
		if err := q.Validate(); err != nil {
			t.Fatal(err)
		}
		page := must(s.ListProducts(ctx(t), q))(t)
		for _, p := range page.Items {
			got = append(got, skuOf(t, s, p))
		}
		return page.Next
	}
	q.After = next()
	if q.After == nil {
		t.Fatal("first page has no next cursor")
	}
	// Round-trip the cursor as a client would.
	q.After = must(catalog.ParseCursor(q.After.String()))(t)
	// Above the cursor (a name match, newest): not seen. Below it (a brand match, newest of its
	// tier): the first of page 2.
	for _, it := range []struct{ sku, name, brand string }{{"H-1", "Blue hat", "Acme"}, {"H-2", "Gloves", "Blue Ridge"}} {
		in := input(it.sku, it.name, "misc", 100)
		in.Brand = it.brand
		must(s.CreateProduct(ctx(t), in))(t)
	}
	if q.After = next(); q.After == nil {
		t.Fatal("second page has no next cursor")
	}
	if q.After = next(); q.After == nil {
		t.Fatal("third page has no next cursor")
	}
	if q.After = next(); q.After != nil {
		t.Fatal("fourth page has a next cursor")
	}
	want := []string{"R-10", "R-07", "R-04", "R-01", "H-2", "R-05", "R-02", "BLUE-1", "R-06", "R-03"}
	if !slices.Equal(got, want) {
		t.Errorf("pages = %v, want %v", got, want)
	}
}
