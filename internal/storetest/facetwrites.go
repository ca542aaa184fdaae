package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// facetWriteTests check that facet counts follow every kind of write that changes what they
// count (a store may keep what facets read beside the product, ADR 0023), and that a price
// facet without a currency is the caller's mistake.
func facetWriteTests() []struct {
	name string
	fn   func(*testing.T, catalog.Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, catalog.Store)
	}{
		{"FacetsFollowWrites", testFacetsFollowWrites},
		{"FacetsInStockRace", testFacetsInStockRace},
		{"FacetsPriceCurrency", testFacetsPriceCurrency},
	}
}

// testFacetsFollowWrites walks stock, variant, product and import writes, checking the
// in_stock and attribute facets by hand after each, and against the lists they stand for.
func testFacetsFollowWrites(t *testing.T, s catalog.Store) {
	category(t, s, "kept", "")
	defineAttributes(t, s)
	defs := map[string]catalog.AttributeDefinition{}
	for _, d := range must(s.AttributeList(ctx(t)))(t) {
		defs[d.Key] = d
	}
	stocky := catalog.ProductInput{Name: "Stocky", Brand: "Acme", Category: "kept", Status: catalog.StatusActive,
		Options: []catalog.Option{{Name: "Size", Values: []string{"S", "M", "L"}}},
		Variants: []catalog.VariantInput{
			{SKU: "STK-S", Options: map[string]string{"Size": "S"}, Attributes: catalog.Attributes{"colour": "red"}, InitialStock: 1},
			{SKU: "STK-M", Options: map[string]string{"Size": "M"}, Attributes: catalog.Attributes{"colour": "blue"}, InitialStock: 1},
		}}
	priced(&stocky)
	sp := must(s.CreateProduct(ctx(t), stocky))(t)
	empty := catalog.ProductInput{Name: "Empty", Brand: "Zeta", Category: "kept", Status: catalog.StatusActive,
		Attributes: catalog.Attributes{"material": "wool"}, Variants: []catalog.VariantInput{{SKU: "EMP-1"}}}
	priced(&empty)
	ep := must(s.CreateProduct(ctx(t), empty))(t)
	variant := func(p catalog.Product, sku string) catalog.Variant {
		for _, v := range p.Variants {
			if v.SKU == sku {
				return v
			}
		}
		t.Fatalf("no variant %s in %s", sku, p.Name)
		return catalog.Variant{}
	}
	version := func(id string) int64 { return must(s.Product(ctx(t), id))(t).Version }
	check := func(what, want string) {
		t.Helper()
		wantFacets(t, s, what, "in_stock,attr.colour,attr.material", "", nil, want)
		q, r := facetQuery(t, s, "in_stock,attr.colour,attr.material", "", nil)
		facetsAgreeWithLists(t, s, what, q, r, defs)
	}
	check("created", "in_stock: false=1 true=1; attr.colour: blue=1 red=1; attr.material: wool=1")

	held := must(s.Reserve(ctx(t), reserve("STK-S", 1), "a", nil))(t)
	check("one variant's last unit held", "in_stock: false=1 true=1; attr.colour: blue=1 red=1; attr.material: wool=1")
	other := must(s.Reserve(ctx(t), reserve("STK-M", 1), "a", nil))(t)
	check("every unit held", "in_stock: false=2; attr.colour: blue=1 red=1; attr.material: wool=1")
	must(s.ReleaseReservation(ctx(t), held.ID, "a", nil))(t)
	check("released", "in_stock: false=1 true=1; attr.colour: blue=1 red=1; attr.material: wool=1")
	must(s.CommitReservation(ctx(t), other.ID, "a", nil))(t)
	check("committed (M sold)", "in_stock: false=1 true=1; attr.colour: blue=1 red=1; attr.material: wool=1")

	emp := variant(ep, "EMP-1")
	must(s.AdjustStock(ctx(t), emp.ID, catalog.Adjustment{Delta: 3, Reason: "received"}, "a", nil))(t)
	check("received", "in_stock: true=2; attr.colour: blue=1 red=1; attr.material: wool=1")
	must(s.AdjustStock(ctx(t), emp.ID, catalog.Adjustment{Delta: -3, Reason: "lost"}, "a", nil))(t)
	check("lost", "in_stock: false=1 true=1; attr.colour: blue=1 red=1; attr.material: wool=1")
	must(s.AdjustStockBatch(ctx(t), []catalog.StockLine{{SKU: "STK-S", Adjustment: catalog.Adjustment{Delta: -1, Reason: "damaged"}}}, "a", nil))(t)
	check("batch took the last unit", "in_stock: false=2; attr.colour: blue=1 red=1; attr.material: wool=1")

	must(s.AddVariant(ctx(t), sp.ID, catalog.VariantInput{SKU: "STK-L", Options: map[string]string{"Size": "L"},
		Attributes: catalog.Attributes{"colour": "green"}, InitialStock: 2,
		Prices: []catalog.PriceInput{{Currency: "USD", Amount: 1000}}}, version(sp.ID)))(t)
	check("variant added with stock", "in_stock: false=1 true=1; attr.colour: blue=1 green=1 red=1; attr.material: wool=1")
	must(s.UpdateVariant(ctx(t), sp.ID, variant(sp, "STK-M").ID, catalog.VariantPatch{Attributes: map[string]any{"colour": "green"}}, version(sp.ID)))(t)
	check("variant recoloured", "in_stock: false=1 true=1; attr.colour: green=1 red=1; attr.material: wool=1")
	must(s.PatchProduct(ctx(t), ep.ID, catalog.ProductPatch{Attributes: map[string]any{"material": "linen", "colour": "blue"}}, version(ep.ID)))(t)
	check("product attributes patched", "in_stock: false=1 true=1; attr.colour: blue=1 green=1 red=1; attr.material: linen=1")
	if err := s.DeleteVariant(ctx(t), sp.ID, variant(sp, "STK-S").ID, version(sp.ID)); err != nil {
		t.Fatal(err)
	}
	check("red variant deleted", "in_stock: false=1 true=1; attr.colour: blue=1 green=1; attr.material: linen=1")

	imported := catalog.ProductInput{Name: "Imported", Brand: "Acme", Category: "kept", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "IMP-1", Attributes: catalog.Attributes{"colour": "red"}, InitialStock: 4}}}
	priced(&imported)
	if err := s.Import(ctx(t), []catalog.NewProduct{{ProductInput: imported}}); err != nil {
		t.Fatal(err)
	}
	check("imported", "in_stock: true=2 false=1; attr.colour: blue=1 green=1 red=1; attr.material: linen=1")
	if err := s.DeleteProduct(ctx(t), ep.ID, version(ep.ID)); err != nil {
		t.Fatal(err)
	}
	check("product deleted", "in_stock: true=2; attr.colour: green=1 red=1; attr.material: ")
}

// testFacetsInStockRace empties and refills the variants of one product from as many
// goroutines at once, several times: however the writes interleave, the in_stock facet (and
// its list) must say whether any unit is left.
func testFacetsInStockRace(t *testing.T, s catalog.Store) {
	category(t, s, "race", "")
	const n = 4
	in := catalog.ProductInput{Name: "Raced", Category: "race", Status: catalog.StatusActive,
		Options: []catalog.Option{{Name: "Size", Values: []string{"S", "M", "L", "XL"}}}}
	for i, size := range in.Options[0].Values {
		in.Variants = append(in.Variants, catalog.VariantInput{SKU: fmt.Sprintf("RACE-%d", i), Options: map[string]string{"Size": size}, InitialStock: 1})
	}
	priced(&in)
	p := must(s.CreateProduct(ctx(t), in))(t)
	all := func(fn func(i int) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = fn(i)
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(round int, what string, inStock bool) {
		t.Helper()
		want := map[bool]string{true: "in_stock: true=1", false: "in_stock: false=1"}[inStock]
		wantFacets(t, s, fmt.Sprintf("round %d, %s", round, what), "in_stock", "", func(f *catalog.ProductFilter) { f.Category = "race" }, want)
	}
	for round := range 5 {
		ids := make([]string, n)
		all(func(i int) error {
			r, err := s.Reserve(ctx(t), reserve(fmt.Sprintf("RACE-%d", i), 1), "a", nil)
			ids[i] = r.ID
			return err
		})
		check(round, "every variant's last unit held at once", false)
		all(func(i int) error {
			_, err := s.ReleaseReservation(ctx(t), ids[i], "a", nil)
			return err
		})
		check(round, "every hold released at once", true)
		all(func(i int) error {
			_, err := s.AdjustStock(ctx(t), p.Variants[i].ID, catalog.Adjustment{Delta: -1, Reason: "lost"}, "a", nil)
			return err
		})
		check(round, "every unit lost at once", false)
		all(func(i int) error {
			_, err := s.AdjustStock(ctx(t), p.Variants[i].ID, catalog.Adjustment{Delta: 1, Reason: "received"}, "a", nil)
			return err
		})
		check(round, "every variant restocked at once", true)
	}
}

// testFacetsPriceCurrency: price buckets need a currency, the list's or the request's; a
// store asked without either refuses as the HTTP layer does, naming the field.
func testFacetsPriceCurrency(t *testing.T, s catalog.Store) {
	facetCatalog(t, s)
	q := catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Filter: catalog.ProductFilter{Statuses: []catalog.Status{catalog.StatusActive}}}
	price := catalog.FacetSpec{Name: catalog.FacetPrice}
	for _, r := range []catalog.FacetRequest{
		{Facets: []catalog.FacetSpec{price}},
		{Facets: []catalog.FacetSpec{{Name: catalog.FacetBrand}, price}},
		{Facets: []catalog.FacetSpec{price}, Currency: "usd"},
	} {
		_, err := s.Facets(ctx(t), q, r)
		wantCode(t, err, catalog.CodeInvalid)
		var ce *catalog.Error
		if !errors.As(err, &ce) || len(ce.Fields) != 1 || ce.Fields[0].Field != "currency" {
			t.Errorf("Facets(%+v) = %v, want a problem naming currency", r, err)
		}
	}
	// The request's currency buckets the prices when the list names none: the price facet
	// counts the products priced in it, the others every product the list selects.
	got := must(s.Facets(ctx(t), q, catalog.FacetRequest{Facets: []catalog.FacetSpec{price, {Name: catalog.FacetBrand}}, Currency: "EUR"}))(t)
	if g, want := facetString(got), "price: 0-1000=1 2500-5000=1 100000-=1; brand: acme=2 zeta=2"; g != want {
		t.Errorf("price in the request's currency:\n got %s\nwant %s", g, want)
	}
}

// priced gives every variant of in without a price one (10.00 USD) and normalizes it.
func priced(in *catalog.ProductInput) {
	for i := range in.Variants {
		if len(in.Variants[i].Prices) == 0 {
			in.Variants[i].Prices = []catalog.PriceInput{{Currency: "USD", Amount: 1000}}
		}
	}
	in.Normalize()
}
