package storetest

import (
	"reflect"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// testListSummary: a list asked for summaries (catalog.ListQuery.Summary, what GET /products
// sends without fields=) returns the very items of the full list, each field equal, except
// that the description may be empty and media may be cut to its first image. Every sort and
// page of the fixture, and a search, are compared.
func testListSummary(t *testing.T, s catalog.Store) {
	fixture(t, s)
	// Two images and a long description, so a store that cuts them has something to cut.
	p := input("SUMMARY-1", "Summary tent", "tents", 12999)
	p.Description = "A tent whose description a list never shows. " + p.Description
	p.Media = append(p.Media, catalog.Media{URL: "https://cdn.example.com/SUMMARY-1-back.jpg", Alt: "back"})
	must(s.CreateProduct(ctx(t), p))(t)
	queries := []catalog.ListQuery{
		{Sort: catalog.SortName, Limit: 3},
		{Sort: catalog.SortNewest, Limit: 100},
		{Sort: catalog.SortPrice, Limit: 4, Filter: catalog.ProductFilter{Currency: "USD"}},
		{Sort: catalog.SortName, Limit: 100, Filter: catalog.ProductFilter{Query: "tent"}},
		{Sort: catalog.SortName, Limit: 100, Filter: catalog.ProductFilter{Category: "camping", InStock: ptr(true)}},
	}
	for _, q := range queries {
		for {
			full := must(s.ListProducts(ctx(t), q))(t)
			q.Summary = true
			sum := must(s.ListProducts(ctx(t), q))(t)
			q.Summary = false
			if len(sum.Items) != len(full.Items) {
				t.Fatalf("%+v: %d summary items, %d full", q, len(sum.Items), len(full.Items))
			}
			for i := range full.Items {
				f, g := full.Items[i], sum.Items[i]
				if g.Description != "" && g.Description != f.Description {
					t.Fatalf("%s: summary description %q, want empty or %q", f.ID, g.Description, f.Description)
				}
				if len(g.Media) != len(f.Media) && !(len(f.Media) > 0 && len(g.Media) == 1) {
					t.Fatalf("%s: summary media %v, want %v or its first image", f.ID, g.Media, f.Media)
				}
				if len(g.Media) > 0 && g.Media[0] != f.Media[0] {
					t.Fatalf("%s: summary image %v, want %v", f.ID, g.Media[0], f.Media[0])
				}
				g.Description, f.Description = "", ""
				g.Media, f.Media = nil, nil
				if !reflect.DeepEqual(f, g) {
					t.Fatalf("%s: summary item differs from the full one:\nfull    %+v\nsummary %+v", f.ID, f, g)
				}
			}
			if (full.Next == nil) != (sum.Next == nil) || full.Next != nil && full.Next.String() != sum.Next.String() {
				t.Fatalf("%+v: summary next cursor %v, full %v", q, sum.Next, full.Next)
			}
			if full.Next == nil {
				break
			}
			q.After = full.Next
		}
	}
}
