package storetest

import (
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// testFacetAloneWithItsFilter asks for each facet alone on a list that filters on it (the page
// a shopper sees after one click): the answer is the facet's counts without its own filter,
// the same as when another, unfiltered facet is asked beside it. PostgreSQL once sent the
// facet's own filter as unused parameters and failed (SQLSTATE 42P18) on exactly this request.
func testFacetAloneWithItsFilter(t *testing.T, s catalog.Store) {
	facetCatalog(t, s)
	defs := map[string]catalog.AttributeDefinition{}
	for _, d := range must(s.AttributeList(ctx(t)))(t) {
		defs[d.Key] = d
	}
	red := must(catalog.ParseAttributeFilter(defs["colour"], "red"))(t)
	for _, c := range []struct {
		facet, other string
		edit         func(f *catalog.ProductFilter)
		want         string
	}{
		{"category", "brand", func(f *catalog.ProductFilter) { f.Category = "apparel" }, "category: shirts=2 apparel=1 tech=1"},
		{"brand", "category", func(f *catalog.ProductFilter) { f.Brand = "zeta" }, "brand: acme=2 zeta=2"},
		{"in_stock", "brand", func(f *catalog.ProductFilter) { f.InStock = ptr(false) }, "in_stock: true=3 false=1"},
		{"price", "brand", func(f *catalog.ProductFilter) { f.MinPrice = ptr[int64](2500) },
			"price: 1000-2500=1 2500-5000=1 10000-25000=1 100000-=1"},
		{"attr.colour", "brand", func(f *catalog.ProductFilter) { f.Attributes = []catalog.AttributeFilter{red} },
			"attr.colour: blue=2 red=2 green=1"},
	} {
		wantFacets(t, s, c.facet+" alone", c.facet, "USD", c.edit, c.want)
		q, r := facetQuery(t, s, c.facet+","+c.other, "USD", c.edit)
		both := must(s.Facets(ctx(t), q, r))(t)
		if got := facetString(both[:1]); got != c.want {
			t.Errorf("%s beside %s: facets\n got %s\nwant %s", c.facet, c.other, got, c.want)
		}
	}
}
