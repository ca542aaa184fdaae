package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// testAttributeFilterPages: a list filtered by attributes (on the product or on a variant,
// enum, boolean, number, text, two at once) is, in every sort, in relevance order and in a
// collection's order, the unfiltered list with the non-matching products left out, paged
// three at a time through cursors that travel as text. PostgreSQL checks the filters per
// walked row or against a hash of the matches (internal/postgres/attrset.go); the pages must
// not tell.
func testAttributeFilterPages(t *testing.T, s catalog.Store) {
	category(t, s, "tech", "")
	defineAttributes(t, s)
	must(s.CreateCollection(ctx(t), catalog.CollectionInput{Slug: "attr-picks", Name: "Attribute picks"}))(t)
	colours := []string{"red", "blue", "green"}
	materials := []string{"steel", "wood", "glass"}
	type spec struct {
		colours    []string // the product's own, or its variants'
		waterproof *bool
		screen     float64
		material   string
	}
	specs := map[string]spec{} // by product name
	var ids []string
	for i := range 24 {
		sp := spec{screen: float64(10 + i%8), material: materials[(i/2)%3]}
		var in catalog.ProductInput
		if i%2 == 0 {
			sp.colours = []string{colours[i%3]}
			in = shirt(fmt.Sprintf("AP%02d", i), "tech", []string{"S", "M"}, []string{"X"}, int64(1000+(i*37%24)*100))
			in.Attributes = catalog.Attributes{"colour": sp.colours[0]}
		} else {
			sp.colours = []string{colours[(i+1)%3], colours[(i+2)%3]}
			in = shirt(fmt.Sprintf("AP%02d", i), "tech", []string{"S"}, []string{"P", "Q"}, int64(1000+(i*37%24)*100))
			for j := range in.Variants {
				in.Variants[j].Attributes = catalog.Attributes{"colour": sp.colours[j]}
			}
			in.Attributes = catalog.Attributes{}
		}
		in.Attributes["screen_inches"] = sp.screen
		in.Attributes["material"] = sp.material
		if i%3 != 2 {
			w := i%3 == 0
			sp.waterproof = &w
			in.Attributes["waterproof"] = w
		}
		in.Name = fmt.Sprintf("Gadget %c%02d", 'A'+(i*7)%26, i)
		in.Normalize()
		p := must(s.CreateProduct(ctx(t), in))(t)
		specs[p.Name] = sp
		ids = append(ids, p.ID)
	}
	slices.Reverse(ids)
	must(s.AddToCollection(ctx(t), "attr-picks", ids, nil))(t)

	defs := map[string]catalog.AttributeDefinition{}
	for _, d := range must(s.AttributeList(ctx(t)))(t) {
		defs[d.Key] = d
	}
	parse := func(key, value string) catalog.AttributeFilter {
		f, err := catalog.ParseAttributeFilter(defs[key], value)
		if err != nil {
			t.Fatalf("ParseAttributeFilter(%s=%s) = %v", key, value, err)
		}
		return f
	}
	isTrue := func(b *bool) bool { return b != nil && *b }
	isFalse := func(b *bool) bool { return b != nil && !*b }
	filters := []struct {
		name  string
		attrs []catalog.AttributeFilter
		match func(spec) bool
	}{
		{"colour=red", []catalog.AttributeFilter{parse("colour", "red")}, func(sp spec) bool { return slices.Contains(sp.colours, "red") }},
		{"colour=green,blue", []catalog.AttributeFilter{parse("colour", "green,blue")}, func(sp spec) bool {
			return slices.Contains(sp.colours, "green") || slices.Contains(sp.colours, "blue")
		}},
		{"waterproof=true", []catalog.AttributeFilter{parse("waterproof", "true")}, func(sp spec) bool { return isTrue(sp.waterproof) }},
		{"screen 12..15", []catalog.AttributeFilter{parse("screen_inches", "12..15")}, func(sp spec) bool { return sp.screen >= 12 && sp.screen <= 15 }},
		{"material=wood", []catalog.AttributeFilter{parse("material", "wood")}, func(sp spec) bool { return sp.material == "wood" }},
		{"colour=red, waterproof=false", []catalog.AttributeFilter{parse("colour", "red"), parse("waterproof", "false")}, func(sp spec) bool {
			return slices.Contains(sp.colours, "red") && isFalse(sp.waterproof)
		}},
	}
	lists := []struct {
		name string
		q    catalog.ListQuery
	}{
		{"newest", catalog.ListQuery{Sort: catalog.SortNewest}},
		{"oldest", catalog.ListQuery{Sort: catalog.SortOldest}},
		{"name", catalog.ListQuery{Sort: catalog.SortName}},
		{"name desc", catalog.ListQuery{Sort: catalog.SortNameDesc}},
		{"price", catalog.ListQuery{Sort: catalog.SortPrice, Filter: catalog.ProductFilter{Currency: "USD"}}},
		{"price desc", catalog.ListQuery{Sort: catalog.SortPriceDesc, Filter: catalog.ProductFilter{Currency: "USD"}}},
		{"relevance", catalog.ListQuery{Sort: catalog.SortRelevance, Filter: catalog.ProductFilter{Query: "gadget"}}},
		{"search by name", catalog.ListQuery{Sort: catalog.SortName, Filter: catalog.ProductFilter{Query: "gadget"}}},
		{"collection order", catalog.ListQuery{Sort: catalog.SortPosition, Filter: catalog.ProductFilter{Collection: "attr-picks"}}},
		{"collection by price", catalog.ListQuery{Sort: catalog.SortPrice, Filter: catalog.ProductFilter{Collection: "attr-picks", Currency: "USD"}}},
	}
	names := func(q catalog.ListQuery) []string {
		t.Helper()
		var out []string
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("pagination does not end")
			}
			if err := q.Validate(); err != nil {
				t.Fatal(err)
			}
			page := must(s.ListProducts(ctx(t), q))(t)
			for _, p := range page.Items {
				out = append(out, p.Name)
			}
			if page.Next == nil {
				return out
			}
			c, err := catalog.ParseCursor(page.Next.String())
			if err != nil {
				t.Fatal(err)
			}
			q.After = c
		}
	}
	for _, l := range lists {
		all := l.q
		all.Limit = catalog.MaxLimit
		everything := names(all)
		if len(everything) != len(specs) {
			t.Fatalf("%s, unfiltered: %d products, want %d", l.name, len(everything), len(specs))
		}
		for _, f := range filters {
			var want []string
			for _, n := range everything {
				if f.match(specs[n]) {
					want = append(want, n)
				}
			}
			if len(want) == 0 {
				t.Fatalf("%s: no product matches: the fixture is wrong", f.name)
			}
			q := l.q
			q.Limit = 3
			q.Filter.Attributes = f.attrs
			if got := names(q); !slices.Equal(got, want) {
				t.Errorf("%s, %s: pages of 3 = %v, want %v", l.name, f.name, got, want)
			}
		}
	}
}
