package catalog

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func facetDefs(key string) (AttributeDefinition, error) {
	switch key {
	case "colour":
		return AttributeDefinition{Key: key, Type: AttrEnum, Filterable: true}, nil
	case "care":
		return AttributeDefinition{Key: key, Type: AttrText}, nil
	}
	return AttributeDefinition{}, &Error{Code: CodeNotFound, Message: "no " + key}
}

func TestParseFacets(t *testing.T) {
	r, err := ParseFacets("brand,category,attr.colour,price,in_stock", "USD", facetDefs)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range r.Facets {
		names = append(names, s.Name+"/"+s.Key+"/"+string(s.Type))
	}
	if got := strings.Join(names, " "); got != "brand// category// attr.colour/colour/enum price// in_stock//" {
		t.Fatalf("facets %s", got)
	}
	bad := []struct{ raw, currency, field, problem string }{
		{"price", "", "currency", "is required with facets=price"},
		{"brand,brand", "", "facets", "twice"},
		{"colour", "", "facets", "is not a facet"},
		{"attr.Colour", "", "facets", "is not a facet"},
		{"attr.care", "", "facets", "not filterable"},
		{"attr.size", "", "facets", "not a defined attribute"},
		{"", "", "", ""},
		{strings.Repeat("brand,", MaxFacets) + "brand", "", "facets", "at most 8"},
		{"brand\x00", "", "facets", ""},
	}
	for _, b := range bad {
		_, err := ParseFacets(b.raw, b.currency, facetDefs)
		if b.field == "" {
			if err != nil {
				t.Errorf("ParseFacets(%q) = %v, want no error", b.raw, err)
			}
			continue
		}
		e, ok := err.(*Error)
		if !ok || e.Code != CodeInvalid || len(e.Fields) == 0 || e.Fields[0].Field != b.field || !strings.Contains(e.Fields[0].Problem, b.problem) {
			t.Errorf("ParseFacets(%q) = %v, want %s: %s", b.raw, err, b.field, b.problem)
		}
	}
}

func TestFacetFilterForDropsOnlyItsOwnFilter(t *testing.T) {
	min, max, yes := int64(1), int64(2), true
	f := ProductFilter{Brand: "b", Category: "c", MinPrice: &min, MaxPrice: &max, InStock: &yes, Query: "q", Currency: "USD",
		Attributes: []AttributeFilter{{Key: "colour", Values: []string{"red"}}, {Key: "size", Values: []string{"M"}}}}
	want := map[string]string{
		FacetBrand:    "|c|1|2|true|colour,size",
		FacetCategory: "b||1|2|true|colour,size",
		FacetPrice:    "b|c|nil|nil|true|colour,size",
		FacetInStock:  "b|c|1|2|nil|colour,size",
		"attr.colour": "b|c|1|2|true|size",
	}
	str := func(f ProductFilter) string {
		p := func(v any) string {
			switch x := v.(type) {
			case *int64:
				if x != nil {
					return fmt.Sprint(*x)
				}
			case *bool:
				if x != nil {
					return fmt.Sprint(*x)
				}
			}
			return "nil"
		}
		var keys []string
		for _, a := range f.Attributes {
			keys = append(keys, a.Key)
		}
		return strings.Join([]string{f.Brand, f.Category, p(f.MinPrice), p(f.MaxPrice), p(f.InStock), strings.Join(keys, ",")}, "|")
	}
	for name, w := range want {
		spec := FacetSpec{Name: name, Key: strings.TrimPrefix(name, FacetAttr)}
		if got := str(spec.FilterFor(f)); got != w {
			t.Errorf("%s: filter %s, want %s", name, got, w)
		}
	}
	if len(f.Attributes) != 2 || f.Query != "q" || f.Currency != "USD" {
		t.Fatalf("FilterFor changed its argument: %+v", f)
	}
}

func TestPriceBuckets(t *testing.T) {
	if got := fmt.Sprint(PriceBoundaries("USD")); got != "[1000 2500 5000 10000 25000 50000 100000]" {
		t.Errorf("USD boundaries %s", got)
	}
	if got := fmt.Sprint(PriceBoundaries("JPY")); got != "[10 25 50 100 250 500 1000]" {
		t.Errorf("JPY boundaries %s", got)
	}
	if got := fmt.Sprint(PriceBoundaries("BHD")); got != "[10000 25000 50000 100000 250000 500000 1000000]" {
		t.Errorf("BHD boundaries %s", got)
	}
	b := PriceBoundaries("USD")
	for i, want := range []string{"0-1000", "1000-2500", "100000-"} {
		idx := []int{0, 1, len(b)}[i]
		v := PriceBucket(b, idx, 3)
		if v.Value != want || v.Count != 3 || v.Min == nil || (idx == len(b)) != (v.Max == nil) {
			t.Errorf("bucket %d = %+v, want %s", idx, v, want)
		}
	}
}

func TestSortFacetValuesCaps(t *testing.T) {
	var vs []FacetValue
	for i := 0; i < MaxFacetValues+5; i++ {
		vs = append(vs, FacetValue{Value: fmt.Sprintf("v%03d", i), Count: int64(i % 7)})
	}
	got, exact := SortFacetValues(vs)
	if exact || len(got) != MaxFacetValues {
		t.Fatalf("kept %d values, exact %v", len(got), exact)
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if a.Count < b.Count || (a.Count == b.Count && a.Value > b.Value) {
			t.Fatalf("out of order at %d: %+v before %+v", i, a, b)
		}
	}
	if _, exact := SortFacetValues(vs[:3]); !exact {
		t.Fatal("three values reported inexact")
	}
}

// FuzzParseFacets: any facets= value is a request within bounds or a field-level refusal.
func FuzzParseFacets(f *testing.F) {
	for _, s := range []string{"brand", "attr.colour,price", "a,b,c", ",,,", "attr.", "price,price"} {
		f.Add(s, "USD")
	}
	f.Fuzz(func(t *testing.T, raw, currency string) {
		r, err := ParseFacets(raw, currency, facetDefs)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Code != CodeInvalid || len(e.Fields) == 0 {
				t.Fatalf("ParseFacets(%q) = %v, want a field-level invalid", raw, err)
			}
			return
		}
		if len(r.Facets) > MaxFacets {
			t.Fatalf("%d facets", len(r.Facets))
		}
		for _, s := range r.Facets {
			if s.Name == FacetPrice && currency == "" {
				t.Fatal("price without a currency")
			}
		}
	})
}

// TestFacetOwnIsFilterForsComplement: every field of ProductFilter is either kept by
// FilterFor or carried by Own, never both and never neither (Currency, the price bounds'
// context, may be in both), so a store counting one pass with each facet's Own filter as a
// condition (ADR 0023) selects what FilterFor selects. Fields are walked by reflection: a new
// filter field that only one of the two knows fails here.
func TestFacetOwnIsFilterForsComplement(t *testing.T) {
	min, max, yes := int64(1), int64(2), true
	f := ProductFilter{Brand: "b", Category: "c", Statuses: []Status{StatusActive}, MinPrice: &min, MaxPrice: &max, InStock: &yes,
		Query: "q", Currency: "USD", Collection: "k",
		Attributes: []AttributeFilter{{Key: "colour", Values: []string{"red"}}, {Key: "size", Values: []string{"M"}}}}
	typ := reflect.TypeOf(f)
	for i := range typ.NumField() {
		if reflect.ValueOf(f).Field(i).IsZero() {
			t.Fatalf("the fixture leaves %s zero: set it", typ.Field(i).Name)
		}
	}
	for _, spec := range []FacetSpec{{Name: FacetBrand}, {Name: FacetCategory}, {Name: FacetPrice}, {Name: FacetInStock},
		{Name: "attr.colour", Key: "colour"}, {Name: "attr.none", Key: "none"}} {
		rest, own := reflect.ValueOf(spec.FilterFor(f)), reflect.ValueOf(spec.Own(f))
		for i := range typ.NumField() {
			name := typ.Field(i).Name
			whole := reflect.ValueOf(f).Field(i)
			if name == "Attributes" {
				got := append(append([]AttributeFilter(nil), own.Field(i).Interface().([]AttributeFilter)...), rest.Field(i).Interface().([]AttributeFilter)...)
				if len(got) != len(f.Attributes) {
					t.Errorf("%s: Own and FilterFor hold %d attribute filters together, want %d", spec.Name, len(got), len(f.Attributes))
				}
				continue
			}
			kept, carried := reflect.DeepEqual(rest.Field(i).Interface(), whole.Interface()), reflect.DeepEqual(own.Field(i).Interface(), whole.Interface())
			switch {
			case name == "Currency" && kept:
			case kept == carried:
				t.Errorf("%s: field %s kept by FilterFor %v, carried by Own %v: want exactly one", spec.Name, name, kept, carried)
			case !kept && !rest.Field(i).IsZero(), !carried && !own.Field(i).IsZero():
				t.Errorf("%s: field %s changed rather than moved", spec.Name, name)
			}
		}
	}
	if got := (FacetSpec{Name: FacetBrand}).Own(ProductFilter{Category: "c"}); !reflect.ValueOf(got).IsZero() {
		t.Errorf("Own of an unset brand filter = %+v, want nothing", got)
	}
}

func TestPriceCurrency(t *testing.T) {
	price := FacetRequest{Facets: []FacetSpec{{Name: FacetBrand}, {Name: FacetPrice}}}
	for _, c := range []struct {
		list, req, want, problem string
	}{
		{"EUR", "", "EUR", ""},
		{"EUR", "USD", "EUR", ""},
		{"", "USD", "USD", ""},
		{"", "", "", "is required with facets=price"},
		{"", "usd", "", "not an ISO 4217"},
	} {
		r := price
		r.Currency = c.req
		got, err := r.PriceCurrency(ProductFilter{Currency: c.list})
		var e *Error
		switch {
		case c.problem == "" && (err != nil || got != c.want):
			t.Errorf("PriceCurrency(list %q, request %q) = %q, %v; want %q", c.list, c.req, got, err, c.want)
		case c.problem != "" && (!errors.As(err, &e) || e.Code != CodeInvalid || e.Fields[0].Field != "currency" || !strings.Contains(e.Fields[0].Problem, c.problem)):
			t.Errorf("PriceCurrency(list %q, request %q) = %v, want currency: %s", c.list, c.req, err, c.problem)
		}
	}
	if got, err := (FacetRequest{Facets: []FacetSpec{{Name: FacetBrand}}}).PriceCurrency(ProductFilter{}); got != "" || err != nil {
		t.Errorf("PriceCurrency without a price facet = %q, %v", got, err)
	}
}

func TestFacetScale(t *testing.T) {
	f := Facet{Name: "brand", Exact: true, Values: []FacetValue{{Value: "a", Count: 10}, {Value: "b", Count: 1}, {Value: "c", Count: 3}}}
	f.Scale(0.25)
	var got []int64
	for _, v := range f.Values {
		got = append(got, v.Count)
	}
	if !slices.Equal(got, []int64{40, 4, 12}) || f.Exact || f.Sample != 0.25 {
		t.Errorf("Scale(0.25) = %v exact %v sample %v, want [40 4 12] exact false sample 0.25", got, f.Exact, f.Sample)
	}
	// Rounding: 1/0.3 is 3.33, 2/0.3 is 6.67.
	f = Facet{Exact: true, Values: []FacetValue{{Value: "a", Count: 1}, {Value: "b", Count: 2}}}
	f.Scale(0.3)
	if f.Values[0].Count != 3 || f.Values[1].Count != 7 {
		t.Errorf("Scale(0.3) of 1, 2 = %d, %d; want 3, 7", f.Values[0].Count, f.Values[1].Count)
	}
	// A share of 1 or more, or none, is no sample: the counts stay exact.
	for _, share := range []float64{0, 1, 1.5} {
		f = Facet{Exact: true, Values: []FacetValue{{Value: "a", Count: 5}}}
		f.Scale(share)
		if !f.Exact || f.Sample != 0 || f.Values[0].Count != 5 {
			t.Errorf("Scale(%v) = %+v, want unchanged", share, f)
		}
	}
}
