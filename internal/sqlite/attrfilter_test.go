package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/storetest"
)

// TestAttributeFiltersMatchTheOracle holds the SQL of attr.* filters to
// catalog.AttributeFilter.Matches on random catalogs: values on the product or any variant,
// text that looks like numbers, SQL or LIKE syntax, numbers that sort differently as text, and
// booleans.
func TestAttributeFiltersMatchTheOracle(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewFakeClock()
	s, _, _ := twoHandles(t, clock)
	for _, d := range []catalog.AttributeDefinitionInput{
		{Key: "colour", Name: "Colour", Type: catalog.AttrText, Filterable: true},
		{Key: "inches", Name: "Screen", Type: catalog.AttrNumber, Unit: "in", Filterable: true},
		{Key: "wireless", Name: "Wireless", Type: catalog.AttrBoolean, Filterable: true},
		{Key: "fit", Name: "Fit", Type: catalog.AttrEnum, Values: []string{"slim", "regular", "10"}, Filterable: true},
	} {
		if _, err := s.CreateAttribute(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	texts := []string{"red", "Red", "10", "1e1", "%", "_", "' OR 1=1 --", "red blue", "", "ß"}
	numbers := []float64{9, 10, 10.5, -3, 1e6, 0, 2}
	fits := []string{"slim", "regular", "10"}
	rng := rand.New(rand.NewPCG(7, 11))
	randomAttrs := func() catalog.Attributes {
		a := catalog.Attributes{}
		if rng.IntN(2) == 0 {
			a["colour"] = texts[rng.IntN(len(texts))]
		}
		if rng.IntN(2) == 0 {
			a["inches"] = numbers[rng.IntN(len(numbers))]
		}
		if rng.IntN(3) == 0 {
			a["wireless"] = rng.IntN(2) == 0
		}
		if rng.IntN(3) == 0 {
			a["fit"] = fits[rng.IntN(len(fits))]
		}
		return a
	}
	// own and variant attributes per product ID, for the oracle.
	all := map[string][]catalog.Attributes{}
	for i := range 40 {
		in := catalog.ProductInput{Name: fmt.Sprintf("P%02d", i), Category: "mugs", Status: catalog.StatusActive, Attributes: randomAttrs()}
		n := 1 + rng.IntN(3)
		if n > 1 {
			in.Options = []catalog.Option{{Name: "Size", Values: []string{"S", "M", "L"}}}
		}
		for k := range n {
			v := catalog.VariantInput{SKU: fmt.Sprintf("P%02d-%d", i, k), Attributes: randomAttrs(),
				Prices: []catalog.PriceInput{{Currency: "EUR", Amount: 100}}}
			if n > 1 {
				v.Options = map[string]string{"Size": []string{"S", "M", "L"}[k]}
			}
			in.Variants = append(in.Variants, v)
		}
		p, err := s.CreateProduct(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		attrs := []catalog.Attributes{p.Attributes}
		for _, v := range p.Variants {
			attrs = append(attrs, v.Attributes)
		}
		all[p.ID] = attrs
	}
	randomFilter := func() catalog.AttributeFilter {
		switch rng.IntN(4) {
		case 0:
			f := catalog.AttributeFilter{Key: "colour", Type: catalog.AttrText}
			for range 1 + rng.IntN(2) {
				f.Values = append(f.Values, texts[rng.IntN(len(texts))])
			}
			return f
		case 1:
			f := catalog.AttributeFilter{Key: "inches", Type: catalog.AttrNumber}
			if rng.IntN(3) > 0 {
				lo := numbers[rng.IntN(len(numbers))]
				f.Min = &lo
			}
			if f.Min == nil || rng.IntN(2) == 0 {
				hi := numbers[rng.IntN(len(numbers))] + 1
				f.Max = &hi
			}
			return f
		case 2:
			return catalog.AttributeFilter{Key: "wireless", Type: catalog.AttrBoolean, Values: []string{fmt.Sprint(rng.IntN(2) == 0)}}
		default:
			return catalog.AttributeFilter{Key: "fit", Type: catalog.AttrEnum, Values: []string{fits[rng.IntN(len(fits))]}}
		}
	}
	for round := range 150 {
		var filters []catalog.AttributeFilter
		for range 1 + rng.IntN(2) {
			filters = append(filters, randomFilter())
		}
		var want []string
		for id, attrs := range all {
			ok := true
			for _, f := range filters {
				ok = ok && slices.ContainsFunc(attrs, func(a catalog.Attributes) bool { v, has := a[f.Key]; return has && f.Matches(v) })
			}
			if ok {
				want = append(want, id)
			}
		}
		page, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortOldest, Limit: catalog.MaxLimit,
			Filter: catalog.ProductFilter{Attributes: filters}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range page.Items {
			got = append(got, p.ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: filters %+v matched %d products, the oracle %d:\n got %v\nwant %v", round, filters, len(got), len(want), got, want)
		}
	}
}
