package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// facetTests check facet counts (issue 16) against counts worked out by hand on a small
// catalog, and against the lists their values stand for.
func facetTests() []struct {
	name string
	fn   func(*testing.T, catalog.Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, catalog.Store)
	}{
		{"FacetCounts", testFacetCounts},
		{"FacetsMultiSelect", testFacetsMultiSelect},
		{"FacetsWithSearchAndCollection", testFacetsSearchCollection},
		{"FacetsAgreeWithLists", testFacetsAgreeWithLists},
		{"FacetAloneWithItsFilter", testFacetAloneWithItsFilter},
	}
}

// facetVariant is one variant of a facet catalog product.
type facetVariant struct {
	attrs    catalog.Attributes
	usd, eur int64 // 0: no price in that currency
	stock    int64
}

// facetCatalog builds the catalog the facet tests count by hand:
//
//	Alpha tee     Acme  shirts   variants red (13.5 in), blue   USD 15.00  EUR 9.00    in stock
//	Beta tee      acme  shirts   product red                    USD 30.00  -           sold out
//	Gamma jacket  Zeta  apparel  variant green, waterproof      USD 120.00 EUR 40.00   in stock
//	Delta laptop  Zeta  tech     variants blue, blue; 15 in     USD 1500   EUR 1400    in stock
//	Draft thing   Acme  tech     draft                          USD 5.00   -           in stock
//
// shirts is a child of apparel. It returns the products' IDs by name.
func facetCatalog(t *testing.T, s catalog.Store) map[string]string {
	t.Helper()
	category(t, s, "apparel", "")
	category(t, s, "shirts", "apparel")
	category(t, s, "tech", "")
	defineAttributes(t, s)
	mk := func(name, brand, cat string, status catalog.Status, attrs catalog.Attributes, vs ...facetVariant) catalog.ProductInput {
		in := catalog.ProductInput{Name: name, Brand: brand, Category: cat, Status: status, Attributes: attrs,
			Description: "The " + strings.ToLower(name)}
		if len(vs) > 1 {
			in.Options = []catalog.Option{{Name: "Size", Values: []string{"S", "M", "L"}[:len(vs)]}}
		}
		for i, v := range vs {
			vi := catalog.VariantInput{SKU: fmt.Sprintf("%s-%d", strings.ReplaceAll(name, " ", ""), i),
				Attributes: v.attrs, InitialStock: v.stock}
			if len(vs) > 1 {
				vi.Options = map[string]string{"Size": []string{"S", "M", "L"}[i]}
			}
			if v.usd > 0 {
				vi.Prices = append(vi.Prices, catalog.PriceInput{Currency: "USD", Amount: v.usd})
			}
			if v.eur > 0 {
				vi.Prices = append(vi.Prices, catalog.PriceInput{Currency: "EUR", Amount: v.eur})
			}
			in.Variants = append(in.Variants, vi)
		}
		in.Normalize()
		return in
	}
	active := catalog.StatusActive
	ids := map[string]string{}
	for _, in := range []catalog.ProductInput{
		mk("Alpha tee", "Acme", "shirts", active, nil,
			facetVariant{attrs: catalog.Attributes{"colour": "red", "screen_inches": 13.5}, usd: 1500, eur: 900, stock: 5},
			facetVariant{attrs: catalog.Attributes{"colour": "blue"}, usd: 1700, eur: 1100}),
		mk("Beta tee", "acme", "shirts", active, catalog.Attributes{"colour": "red"}, facetVariant{usd: 3000}),
		mk("Gamma jacket", "Zeta", "apparel", active, catalog.Attributes{"material": "wool"},
			facetVariant{attrs: catalog.Attributes{"colour": "green", "waterproof": true}, usd: 12000, eur: 4000, stock: 1}),
		mk("Delta laptop", "Zeta", "tech", active, catalog.Attributes{"material": "aluminium", "screen_inches": 15.0},
			facetVariant{attrs: catalog.Attributes{"colour": "blue"}, usd: 150000, eur: 140000, stock: 2},
			facetVariant{attrs: catalog.Attributes{"colour": "blue"}, usd: 160000, eur: 150000}),
		mk("Draft thing", "Acme", "tech", catalog.StatusDraft, catalog.Attributes{"colour": "red"}, facetVariant{usd: 500, stock: 9}),
	} {
		ids[in.Name] = must(s.CreateProduct(ctx(t), in))(t).ID
	}
	return ids
}

// facetQuery is a list of active products with the filter edit applies, and a request for
// facets (which needs currency for price).
func facetQuery(t *testing.T, s catalog.Store, facets, currency string, edit func(f *catalog.ProductFilter)) (catalog.ListQuery, catalog.FacetRequest) {
	t.Helper()
	q := catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20,
		Filter: catalog.ProductFilter{Statuses: []catalog.Status{catalog.StatusActive}, Currency: currency}}
	if edit != nil {
		edit(&q.Filter)
	}
	r, err := catalog.ParseFacets(facets, q.Filter.Currency, func(key string) (catalog.AttributeDefinition, error) {
		return s.Attribute(ctx(t), key)
	})
	if err != nil {
		t.Fatalf("ParseFacets(%q) = %v", facets, err)
	}
	return q, r
}

// facetString renders facets as "name: value=count value=count; ..." (brands in lower case,
// since either spelling of a brand may name the group).
func facetString(fs []catalog.Facet) string {
	var parts []string
	for _, f := range fs {
		var vs []string
		for _, v := range f.Values {
			val := v.Value
			if f.Name == catalog.FacetBrand {
				val = strings.ToLower(val)
			}
			vs = append(vs, fmt.Sprintf("%s=%d", val, v.Count))
		}
		exact := ""
		if !f.Exact {
			exact = " (inexact)"
		}
		parts = append(parts, f.Name+":"+exact+" "+strings.Join(vs, " "))
	}
	return strings.Join(parts, "; ")
}

func wantFacets(t *testing.T, s catalog.Store, what, facets, currency string, edit func(f *catalog.ProductFilter), want string) {
	t.Helper()
	q, r := facetQuery(t, s, facets, currency, edit)
	got := must(s.Facets(ctx(t), q, r))(t)
	if g := facetString(got); g != want {
		t.Errorf("%s: facets\n got %s\nwant %s", what, g, want)
	}
}

func testFacetCounts(t *testing.T, s catalog.Store) {
	facetCatalog(t, s)
	wantFacets(t, s, "whole catalog", "brand,category,in_stock,attr.colour,price", "USD", nil,
		"brand: acme=2 zeta=2; category: shirts=2 apparel=1 tech=1; in_stock: true=3 false=1; "+
			"attr.colour: blue=2 red=2 green=1; price: 1000-2500=1 2500-5000=1 10000-25000=1 100000-=1")
	// In EUR, Beta tee (no EUR price) drops out of every facet, as it drops out of the list.
	wantFacets(t, s, "in EUR", "price,brand", "EUR", nil, "price: 0-1000=1 2500-5000=1 100000-=1; brand: zeta=2 acme=1")
	wantFacets(t, s, "number, boolean and text attributes", "attr.screen_inches,attr.waterproof,attr.material", "", nil,
		"attr.screen_inches: 13.5=1 15=1; attr.waterproof: true=1; attr.material: aluminium=1 wool=1")
	wantFacets(t, s, "every status", "brand,in_stock", "", func(f *catalog.ProductFilter) { f.Statuses = nil },
		"brand: acme=3 zeta=2; in_stock: true=4 false=1")
	wantFacets(t, s, "nothing matches", "brand,price", "JPY", nil, "brand: ; price: ")
	q, r := facetQuery(t, s, "brand", "", func(f *catalog.ProductFilter) { f.Category = "nope" })
	_, err := s.Facets(ctx(t), q, r)
	wantCode(t, err, catalog.CodeNotFound)
}

func testFacetsMultiSelect(t *testing.T, s catalog.Store) {
	facetCatalog(t, s)
	const all = "brand,category,in_stock,attr.colour,price"
	// Each facet is counted without its own filter, with every other one.
	wantFacets(t, s, "brand=acme", all, "USD", func(f *catalog.ProductFilter) { f.Brand = "ACME" },
		"brand: acme=2 zeta=2; category: shirts=2; in_stock: false=1 true=1; attr.colour: red=2 blue=1; price: 1000-2500=1 2500-5000=1")
	wantFacets(t, s, "in_stock=true", all, "USD", func(f *catalog.ProductFilter) { f.InStock = ptr(true) },
		"brand: zeta=2 acme=1; category: apparel=1 shirts=1 tech=1; in_stock: true=3 false=1; attr.colour: blue=2 green=1 red=1; price: 1000-2500=1 10000-25000=1 100000-=1")
	wantFacets(t, s, "min_price", "brand,price", "USD", func(f *catalog.ProductFilter) { f.MinPrice = ptr[int64](2500) },
		"brand: zeta=2 acme=1; price: 1000-2500=1 2500-5000=1 10000-25000=1 100000-=1")
	// The category filter takes the subtree (apparel and shirts); the category facet drops it.
	wantFacets(t, s, "category=apparel", "category,brand", "", func(f *catalog.ProductFilter) { f.Category = "apparel" },
		"category: shirts=2 apparel=1 tech=1; brand: acme=2 zeta=1")
	defs := map[string]catalog.AttributeDefinition{}
	for _, d := range must(s.AttributeList(ctx(t)))(t) {
		defs[d.Key] = d
	}
	red := must(catalog.ParseAttributeFilter(defs["colour"], "red"))(t)
	wool := must(catalog.ParseAttributeFilter(defs["material"], "wool,aluminium"))(t)
	wantFacets(t, s, "attr.colour=red", "attr.colour,brand,attr.material", "", func(f *catalog.ProductFilter) {
		f.Attributes = []catalog.AttributeFilter{red, wool}
	}, "attr.colour: blue=1 green=1; brand: ; attr.material: ")
	wantFacets(t, s, "attr.colour=red only", "attr.colour,brand", "", func(f *catalog.ProductFilter) {
		f.Attributes = []catalog.AttributeFilter{red}
	}, "attr.colour: blue=2 red=2 green=1; brand: acme=2")
}

func testFacetsSearchCollection(t *testing.T, s catalog.Store) {
	ids := facetCatalog(t, s)
	wantFacets(t, s, "q=tee", "brand,category,attr.colour", "", func(f *catalog.ProductFilter) { f.Query = "tee" },
		"brand: acme=2; category: shirts=2; attr.colour: red=2 blue=1")
	wantFacets(t, s, "q=jack (a prefix)", "brand", "", func(f *catalog.ProductFilter) { f.Query = "jack" }, "brand: zeta=1")
	wantFacets(t, s, "q=!!! (no word)", "brand", "", func(f *catalog.ProductFilter) { f.Query = "!!!" }, "brand: ")
	must(s.CreateCollection(ctx(t), catalog.CollectionInput{Slug: "picks", Name: "Picks"}))(t)
	must(s.SetCollectionProducts(ctx(t), "picks", []string{ids["Gamma jacket"], ids["Alpha tee"]}, 0))(t)
	wantFacets(t, s, "collection", "brand,price", "USD", func(f *catalog.ProductFilter) { f.Collection = "picks" },
		"brand: acme=1 zeta=1; price: 1000-2500=1 10000-25000=1")
}

// testFacetsAgreeWithLists checks every count against the total of the list its value
// selects (the filter a shopper's click adds), under several other filters: a facet and its
// list can never disagree.
func testFacetsAgreeWithLists(t *testing.T, s catalog.Store) {
	facetCatalog(t, s)
	defs := map[string]catalog.AttributeDefinition{}
	for _, d := range must(s.AttributeList(ctx(t)))(t) {
		defs[d.Key] = d
	}
	edits := []func(f *catalog.ProductFilter){
		nil,
		func(f *catalog.ProductFilter) { f.Statuses = nil },
		func(f *catalog.ProductFilter) { f.InStock = ptr(true) },
		func(f *catalog.ProductFilter) { f.Brand = "zeta" },
		func(f *catalog.ProductFilter) { f.Query = "tee" },
		func(f *catalog.ProductFilter) { f.Category = "apparel" },
	}
	for i, edit := range edits {
		for _, currency := range []string{"USD", "EUR"} {
			q, r := facetQuery(t, s, "brand,in_stock,attr.colour,attr.screen_inches,attr.material,price", currency, edit)
			facetsAgreeWithLists(t, s, fmt.Sprintf("filter %d %s", i, currency), q, r, defs)
		}
	}
}

// facetsAgreeWithLists checks that every count of q's facets equals the total of the list
// its value selects.
func facetsAgreeWithLists(t *testing.T, s catalog.Store, what string, q catalog.ListQuery, r catalog.FacetRequest, defs map[string]catalog.AttributeDefinition) {
	t.Helper()
	for j, f := range must(s.Facets(ctx(t), q, r))(t) {
		spec := r.Facets[j]
		for _, v := range f.Values {
			lq := q
			lq.WithTotal = true
			lf := spec.FilterFor(q.Filter)
			switch spec.Name {
			case catalog.FacetBrand:
				lf.Brand = v.Value
			case catalog.FacetInStock:
				lf.InStock = ptr(v.Value == "true")
			case catalog.FacetPrice:
				lf.MinPrice = v.Min
				if v.Max != nil {
					lf.MaxPrice = ptr(*v.Max - 1)
				}
			default:
				lf.Attributes = append(lf.Attributes, must(catalog.ParseAttributeFilter(defs[spec.Key], v.Value))(t))
			}
			lq.Filter = lf
			page := must(s.ListProducts(ctx(t), lq))(t)
			if *page.Total != v.Count {
				t.Errorf("%s: facet %s=%s counts %d, its list holds %d", what, f.Name, v.Value, v.Count, *page.Total)
			}
		}
	}
}
