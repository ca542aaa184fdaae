package catalog

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Faceter counts a list's products per value of some of their fields, beside the page.
type Faceter interface {
	// Facets returns one Facet per requested facet, in request order, each counted over the
	// products q's filter selects with that facet's own filter left out (multi-select facets).
	// Counts are of products, not variants; a facet's values are cut at MaxFacetValues, and a
	// store may count a large selection on a sample (Facet.Sample); Exact is false then.
	Facets(ctx context.Context, q ListQuery, r FacetRequest) ([]Facet, error)
}

// Facet kinds.
const (
	FacetBrand    = "brand"
	FacetCategory = "category"
	FacetPrice    = "price"
	FacetInStock  = "in_stock"
	// FacetAttr prefixes an attribute facet: attr.<key>.
	FacetAttr = "attr."
)

// Facet bounds: a request names at most MaxFacets facets, and a facet lists at most
// MaxFacetValues values (the most frequent first), so a response stays small whatever the data.
const (
	MaxFacets      = 8
	MaxFacetValues = 50
)

// FacetSpec is one requested facet. Attribute facets carry their definition's key and type.
type FacetSpec struct {
	// Name is the facet as asked: brand, category, price, in_stock or attr.<key>.
	Name string
	// Key and Type are set for attribute facets.
	Key  string
	Type AttributeType
}

// FacetRequest lists the facets a list asks for; empty asks for none.
type FacetRequest struct {
	Facets []FacetSpec
	// Currency is the currency price buckets are in (the list's currency filter).
	Currency string
}

// FacetValue is one value of a facet and the number of products that have it. Price buckets
// also carry their bounds in minor units: Min inclusive, Max exclusive (nil: unbounded).
type FacetValue struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
	Min   *int64 `json:"min,omitempty"`
	Max   *int64 `json:"max,omitempty"`
}

// Facet is the counts of one facet. Exact is false when values were left out (more than
// MaxFacetValues) or when the counts are estimates: a store may count a large selection on a
// sample of it, and then Sample is the share of the selection counted (0 < Sample < 1), each
// count that sample's count divided by Sample, and a value too rare to be sampled is missing.
// Sample is 0 when every product was counted.
type Facet struct {
	Name   string       `json:"name"`
	Values []FacetValue `json:"values"`
	Exact  bool         `json:"exact"`
	Sample float64      `json:"sample,omitempty"`
}

// Scale makes f's counts, counted on a sample holding share of the selection, estimates of
// the selection's counts: each divided by share and rounded (at least 1: the value exists).
func (f *Facet) Scale(share float64) {
	if share <= 0 || share >= 1 {
		return
	}
	for i := range f.Values {
		f.Values[i].Count = max(1, int64(math.Round(float64(f.Values[i].Count)/share)))
	}
	f.Exact, f.Sample = false, share
}

// ParseFacets reads the facets= parameter: a comma-separated list of brand, category, price,
// in_stock and attr.<key>, where key is a filterable attribute (attr looks up its definition).
// price needs a currency: amounts in different currencies do not share buckets.
func ParseFacets(raw, currency string, attr func(key string) (AttributeDefinition, error)) (FacetRequest, error) {
	r := FacetRequest{Currency: currency}
	if raw == "" {
		return r, nil
	}
	if err := CheckText("facets", raw, Line); err != nil {
		return r, err
	}
	names := strings.Split(raw, ",")
	if len(names) > MaxFacets {
		return r, InvalidField("facets", "at most %d facets", MaxFacets)
	}
	var p Problems
	for _, name := range names {
		name = strings.TrimSpace(name)
		if slices.ContainsFunc(r.Facets, func(s FacetSpec) bool { return s.Name == name }) {
			p.Add("facets", "names %q twice", name)
			continue
		}
		switch name {
		case FacetBrand, FacetCategory, FacetInStock:
			r.Facets = append(r.Facets, FacetSpec{Name: name})
		case FacetPrice:
			if currency == "" {
				p.Add("currency", "is required with facets=price: price buckets are in one currency")
				continue
			}
			r.Facets = append(r.Facets, FacetSpec{Name: name})
		default:
			key, ok := strings.CutPrefix(name, FacetAttr)
			if !ok || !ValidAttributeKey(key) {
				p.Add("facets", "%q is not a facet (brand, category, price, in_stock or attr.<key>)", name)
				continue
			}
			d, err := attr(key)
			switch ErrorCode(err) {
			case "":
			case CodeNotFound:
				p.Add("facets", "%s is not a defined attribute (GET /attributes lists them)", key)
				continue
			default:
				return r, err
			}
			if !d.Filterable {
				p.Add("facets", "attribute %s is not filterable (its definition says so)", key)
				continue
			}
			r.Facets = append(r.Facets, FacetSpec{Name: name, Key: key, Type: d.Type})
		}
	}
	return r, p.Err()
}

// FilterFor is f without the filter facet s counts over, so a shopper who picked brand=Acme
// still sees how many products the other brands have (multi-select facets).
func (s FacetSpec) FilterFor(f ProductFilter) ProductFilter {
	switch s.Name {
	case FacetBrand:
		f.Brand = ""
	case FacetCategory:
		f.Category = ""
	case FacetPrice:
		f.MinPrice, f.MaxPrice = nil, nil
	case FacetInStock:
		f.InStock = nil
	default:
		f.Attributes = slices.DeleteFunc(slices.Clone(f.Attributes), func(a AttributeFilter) bool { return a.Key == s.Key })
	}
	return f
}

// Own is the part of f that FilterFor leaves out: the filter a facet's own values stand for
// (with the currency its price bounds are in). It selects nothing else; ProductFilter{} when
// f does not filter on s.
func (s FacetSpec) Own(f ProductFilter) ProductFilter {
	var own ProductFilter
	switch s.Name {
	case FacetBrand:
		own.Brand = f.Brand
	case FacetCategory:
		own.Category = f.Category
	case FacetPrice:
		if f.MinPrice != nil || f.MaxPrice != nil {
			own.Currency, own.MinPrice, own.MaxPrice = f.Currency, f.MinPrice, f.MaxPrice
		}
	case FacetInStock:
		own.InStock = f.InStock
	default:
		for _, a := range f.Attributes {
			if a.Key == s.Key {
				own.Attributes = append(own.Attributes, a)
			}
		}
	}
	return own
}

// PriceCurrency is the currency r's price buckets are in for a list filtered by f: the list's
// currency, else the request's. A price facet without either is a client's mistake (the HTTP
// layer refuses it earlier; a store says the same to any other caller).
func (r FacetRequest) PriceCurrency(f ProductFilter) (string, error) {
	if !slices.ContainsFunc(r.Facets, func(s FacetSpec) bool { return s.Name == FacetPrice }) {
		return "", nil
	}
	c := f.Currency
	if c == "" {
		c = r.Currency
	}
	if c == "" {
		return "", InvalidField("currency", "is required with facets=price: price buckets are in one currency")
	}
	if _, ok := MinorUnits(c); !ok {
		return "", InvalidField("currency", "%q is not an ISO 4217 currency code", c)
	}
	return c, nil
}

// priceSteps are the price bucket boundaries in major units. Buckets are fixed per currency
// (these times 10^minor units), not derived from the matches' min and max: the same range has
// the same bucket on every page, so a bucket maps to a stable min_price/max_price filter and a
// cached response stays right.
var priceSteps = []int64{10, 25, 50, 100, 250, 500, 1000}

// PriceBoundaries returns the bucket boundaries of currency in minor units, ascending: bucket
// 0 is below the first, bucket i is [b[i-1], b[i]), the last is b[len-1] and above.
func PriceBoundaries(currency string) []int64 {
	minor, ok := MinorUnits(currency)
	if !ok {
		minor = 2
	}
	scale := int64(math.Pow10(minor))
	out := make([]int64, len(priceSteps))
	for i, s := range priceSteps {
		out[i] = s * scale
	}
	return out
}

// PriceBucket returns bucket i of boundaries b as a facet value: "lo-hi" in minor units, hi
// exclusive, "lo-" for the open top bucket.
func PriceBucket(b []int64, i int, count int64) FacetValue {
	var lo int64
	if i > 0 {
		lo = b[i-1]
	}
	v := FacetValue{Value: strconv.FormatInt(lo, 10) + "-", Count: count, Min: &lo}
	if i < len(b) {
		hi := b[i]
		v.Value += strconv.FormatInt(hi, 10)
		v.Max = &hi
	}
	return v
}

// SortFacetValues orders values by count, most first, then by value, and cuts them at
// MaxFacetValues; it reports whether every value was kept.
func SortFacetValues(v []FacetValue) ([]FacetValue, bool) {
	slices.SortFunc(v, func(a, b FacetValue) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Value, b.Value)
	})
	if len(v) > MaxFacetValues {
		return v[:MaxFacetValues], false
	}
	return v, true
}

// FormatAttrNumber renders a number attribute value the same way on every store.
func FormatAttrNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// EmptyFacets is the answer for a list no product can match (a search without a word).
func (r FacetRequest) EmptyFacets() []Facet {
	out := make([]Facet, len(r.Facets))
	for i, s := range r.Facets {
		out[i] = Facet{Name: s.Name, Values: []FacetValue{}, Exact: true}
	}
	return out
}
