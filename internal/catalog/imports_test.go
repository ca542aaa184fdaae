package catalog_test

import (
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

func TestImportChanges(t *testing.T) {
	w := int64(300)
	in := catalog.ProductInput{Name: "Tee", Category: "tops", Status: catalog.StatusActive,
		Options: []catalog.Option{{Name: "Size", Values: []string{"S", "M"}}},
		Variants: []catalog.VariantInput{
			{SKU: "T-S", Options: map[string]string{"Size": "S"}, WeightGrams: &w, Prices: []catalog.PriceInput{{Currency: "USD", Amount: 100}}, InitialStock: 4},
			{SKU: "T-M", Options: map[string]string{"Size": "M"}, Prices: []catalog.PriceInput{{Currency: "EUR", Amount: 90}, {Currency: "USD", Amount: 100}}},
		}}
	in.Normalize()
	cur := catalog.CreatedProduct("p1", in, []string{"v1", "v2"}, time.Now())
	// A third variant in the catalog that the line does not name changes nothing either.
	cur.Variants = append(cur.Variants, catalog.Variant{ID: "v3", SKU: "T-L", Options: map[string]string{"Size": "L"}})
	if catalog.ImportChanges(cur, in) {
		t.Fatal("the line it was created from changes the product")
	}
	for name, change := range map[string]func(p *catalog.ProductInput){
		"name":           func(p *catalog.ProductInput) { p.Name = "Tee 2" },
		"option values":  func(p *catalog.ProductInput) { p.Options[0].Values = []string{"M", "S"} },
		"new SKU":        func(p *catalog.ProductInput) { p.Variants[1].SKU = "T-XL" },
		"SKU case":       func(p *catalog.ProductInput) { p.Variants[0].SKU = "t-s" },
		"price":          func(p *catalog.ProductInput) { p.Variants[0].Prices[0].Amount = 101 },
		"price removed":  func(p *catalog.ProductInput) { p.Variants[1].Prices = p.Variants[1].Prices[1:] },
		"compare-at":     func(p *catalog.ProductInput) { c := int64(200); p.Variants[0].Prices[0].CompareAt = &c },
		"weight removed": func(p *catalog.ProductInput) { p.Variants[0].WeightGrams = nil },
		"barcode":        func(p *catalog.ProductInput) { p.Variants[1].Barcode = "4006381333931" },
		"attribute":      func(p *catalog.ProductInput) { p.Variants[1].Attributes = catalog.Attributes{"fit": "slim"} },
	} {
		next := in
		next.Options = []catalog.Option{{Name: "Size", Values: []string{"S", "M"}}}
		next.Variants = append([]catalog.VariantInput(nil), in.Variants...)
		for i := range next.Variants {
			next.Variants[i].Prices = append([]catalog.PriceInput(nil), in.Variants[i].Prices...)
		}
		change(&next)
		if !catalog.ImportChanges(cur, next) {
			t.Errorf("%s: ImportChanges = false, want true", name)
		}
	}
	// Initial stock is not an import's to change on an existing variant.
	next := in
	next.Variants = append([]catalog.VariantInput(nil), in.Variants...)
	next.Variants[0].InitialStock = 99
	if catalog.ImportChanges(cur, next) {
		t.Error("initial_stock of an existing variant counts as a change")
	}
}
