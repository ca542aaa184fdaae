package httpapi

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/catalogjson"
)

// stdlibBody is what writeJSON wrote before encode.go: encoding/json with HTML escaping off.
func stdlibBody(t testing.TB, v any) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// checkSame fails when the hand-written encoder and encoding/json disagree on v: in bytes, or
// in whether v can be encoded at all.
func checkSame(t testing.TB, v any) {
	t.Helper()
	want, wantErr := stdlibBody(t, v)
	got, ok, err := appendBody(nil, v)
	if !ok {
		t.Fatalf("appendBody does not take %T", v)
	}
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("error %v, encoding/json's %v", err, wantErr)
	}
	if err == nil && !bytes.Equal(got, want) {
		t.Fatalf("hand-written and encoding/json differ:\n got %s\nwant %s", got, want)
	}
	if p, ok := v.(catalog.Product); ok {
		checkMarshal(t, &p)
	}
}

// checkMarshal fails when catalogjson.MarshalProduct, which writes products into events, and
// json.Marshal (HTML escaping on) disagree on p.
func checkMarshal(t testing.TB, p *catalog.Product) {
	t.Helper()
	want, wantErr := json.Marshal(p)
	got, err := catalogjson.MarshalProduct(p)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("MarshalProduct error %v, json.Marshal's %v", err, wantErr)
	}
	if err == nil && !bytes.Equal(got, want) {
		t.Fatalf("MarshalProduct and json.Marshal differ:\n got %s\nwant %s", got, want)
	}
}

// trickyRunes are what a string encoder gets wrong: quotes and backslashes, every kind of
// control character, HTML's specials (not escaped here), DEL, the JavaScript line ends, bytes
// that are not UTF-8, a cut multi-byte sequence, and characters of 2, 3 and 4 bytes.
var trickyRunes = []string{"a", "Z", " ", `"`, `\`, "/", "\x00", "\x01", "\b", "\f", "\n", "\r", "\t", "\x1f",
	"<", ">", "&", "\x7f", "\u2028", "\u2029", "\xff", "\xc3", "\xe2\x80", "é", "€", "😀", "\ufffd", "\u00a0"}

func randomString(r *rand.Rand) string {
	var sb strings.Builder
	for range r.IntN(12) {
		sb.WriteString(trickyRunes[r.IntN(len(trickyRunes))])
	}
	return sb.String()
}

var floats = []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1.5, 3, 1e-6, 9.99e-7, 1e-7, 1.2345e-9, 1e20, 1e21, 1.5e21,
	-2e25, 123456789012, 1.0 / 3, math.MaxFloat64, math.SmallestNonzeroFloat64, 42}

func randomValue(r *rand.Rand, depth int) any {
	switch r.IntN(9) {
	case 0:
		return nil
	case 1, 2:
		return randomString(r)
	case 3:
		return r.IntN(2) == 0
	case 4, 5:
		if r.IntN(3) == 0 {
			return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(50)-25))
		}
		return floats[r.IntN(len(floats))]
	case 6:
		if depth > 0 {
			return []any{randomValue(r, depth-1), randomValue(r, depth-1)}
		}
		return []any{}
	case 7:
		if depth > 0 {
			return map[string]any{randomString(r): randomValue(r, depth-1)}
		}
		return json.Number("12.50")
	}
	return int64(r.IntN(1000) - 500)
}

func randomAttributes(r *rand.Rand) catalog.Attributes {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return catalog.Attributes{}
	}
	a := catalog.Attributes{}
	for range 1 + r.IntN(5) {
		a[randomString(r)] = randomValue(r, 2)
	}
	return a
}

func randomTime(r *rand.Rand) time.Time {
	zones := []*time.Location{time.UTC, time.FixedZone("x", 5*3600+1800), time.FixedZone("y", -7*3600)}
	t := time.Date(1+r.IntN(9998), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, zones[r.IntN(len(zones))])
	switch r.IntN(4) {
	case 0:
		return t.Add(time.Duration(r.IntN(1e9)))
	case 1:
		return t.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
	}
	return t
}

func ptr[T any](r *rand.Rand, v T) *T {
	if r.IntN(2) == 0 {
		return nil
	}
	return &v
}

func randomProduct(r *rand.Rand) catalog.Product {
	p := catalog.Product{ID: randomString(r), Name: randomString(r), Description: randomString(r), Category: randomString(r),
		Brand: randomString(r), Attributes: randomAttributes(r), Status: catalog.Status(randomString(r)),
		VariantCount: r.IntN(5), Version: r.Int64() - r.Int64(), CreatedAt: randomTime(r), UpdatedAt: randomTime(r),
		Availability: catalog.Availability{InStock: r.IntN(2) == 0, Available: r.Int64N(100) - 10}}
	if r.IntN(4) > 0 {
		p.Media = []catalog.Media{}
		for range r.IntN(3) {
			p.Media = append(p.Media, catalog.Media{URL: randomString(r), Alt: randomString(r)})
		}
	}
	if r.IntN(4) > 0 {
		p.Options = []catalog.Option{}
		for range r.IntN(3) {
			o := catalog.Option{Name: randomString(r)}
			if r.IntN(3) > 0 {
				o.Values = []string{randomString(r), randomString(r)}
			}
			p.Options = append(p.Options, o)
		}
	}
	if r.IntN(4) > 0 {
		p.PriceRanges = []catalog.PriceRange{{Currency: randomString(r), Min: r.Int64N(1000), Max: -r.Int64N(1000)}}
	}
	switch r.IntN(4) {
	case 0:
	case 1:
		p.Variants = []catalog.Variant{}
	default:
		for range 1 + r.IntN(4) {
			v := catalog.Variant{ID: randomString(r), ProductID: randomString(r), SKU: randomString(r), Position: r.IntN(9) - 2,
				Barcode: randomString(r), WeightGrams: ptr(r, r.Int64N(5000)), Attributes: randomAttributes(r),
				Image: randomString(r), PurchaseLimit: r.Int64N(3), CreatedAt: randomTime(r), UpdatedAt: randomTime(r),
				Stock: catalog.NewStock(r.Int64N(100), r.Int64N(10), 1)}
			if r.IntN(4) > 0 {
				v.Options = map[string]string{}
				for range r.IntN(3) {
					v.Options[randomString(r)] = randomString(r)
				}
			}
			if r.IntN(4) > 0 {
				v.Prices = []catalog.Price{}
				for range r.IntN(3) {
					pr := catalog.Price{Currency: randomString(r), Amount: r.Int64N(1e6), CompareAt: ptr(r, r.Int64N(1e6)),
						PriorPrice: ptr(r, r.Int64N(1e6))}
					if r.IntN(2) == 0 {
						at := randomTime(r)
						pr.SaleEndsAt = &at
					}
					v.Prices = append(v.Prices, pr)
				}
			}
			p.Variants = append(p.Variants, v)
		}
	}
	return p
}

// TestEncodeMatchesStdlib holds the hand-written encoder to encoding/json's bytes for random
// products, every selection of their fields, and list pages, over strings made of the
// characters encoders get wrong and attribute values of every JSON kind.
func TestEncodeMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(16, uint64(time.Now().UnixNano())))
	sets := []fieldSet{summaryFields, ^fieldSet(0), 0, pfName | pfImage | pfVariants, pfMedia | pfPriceRanges | pfCreatedAt}
	for i := range 2000 {
		p := randomProduct(r)
		checkSame(t, p)
		checkSame(t, &p)
		set := sets[i%len(sets)]
		if i%7 == 0 {
			set = fieldSet(r.Uint64())
		}
		checkSame(t, viewProduct(&p, set))
		page := summaryList{Items: []productView{viewProduct(&p, set), viewProduct(&p, summaryFields)}}
		if r.IntN(2) == 0 {
			page.NextCursor = randomString(r)
			n := r.Int64()
			page.Total = &n
		}
		if r.IntN(3) == 0 {
			page.Facets = []catalog.Facet{{}}
		}
		checkSame(t, page)
	}
	checkSame(t, summaryList{})
	checkSame(t, summaryList{Items: []productView{}})
}

// TestEncodeRefusesWhatStdlibRefuses: values encoding/json will not encode make the hand-written
// encoder fail too, so writeJSON answers them the way it always did.
func TestEncodeRefusesWhatStdlibRefuses(t *testing.T) {
	for _, p := range []catalog.Product{
		{Attributes: catalog.Attributes{"x": math.NaN()}},
		{Attributes: catalog.Attributes{"x": math.Inf(-1)}},
		{CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Variants: []catalog.Variant{{UpdatedAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}}},
	} {
		checkSame(t, p)
	}
}

// FuzzEncodeProduct looks for a string, number or time on which the two encoders differ.
func FuzzEncodeProduct(f *testing.F) {
	f.Add("name", "sku", "value", 1.5, int64(0), int64(0))
	f.Add("\u2028<\"\\\x00\xff", "\xe2\x80", "é😀", 1e-7, int64(1700000000), int64(999999999))
	f.Add("", "", "", 1e21, int64(-62135596800), int64(1))
	f.Fuzz(func(t *testing.T, name, sku, value string, number float64, sec, nsec int64) {
		at := time.Unix(sec, nsec%1e9)
		p := catalog.Product{ID: value, Name: name, Attributes: catalog.Attributes{name: value, value: number, sku: []any{number, name}},
			Media: []catalog.Media{{URL: value, Alt: name}}, CreatedAt: at, UpdatedAt: at.UTC(),
			Variants: []catalog.Variant{{SKU: sku, Options: map[string]string{name: sku}, Barcode: value,
				Prices: []catalog.Price{{Currency: sku, SaleEndsAt: &at}}, CreatedAt: at}}}
		checkSame(t, p)
		checkSame(t, viewProduct(&p, summaryFields))
	})
}

// filled returns a value of type t with every exported field set, recursively: strings "x",
// numbers 1, pointers, slices and maps of one filled element, times at a fixed instant. A
// field added to catalog.Product or any type it holds is then set, encoding/json writes it,
// and TestEncodeKnowsEveryField fails until encode.go writes it too.
func filled(t reflect.Type, depth int) reflect.Value {
	v := reflect.New(t).Elem()
	if t == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2026, 12, 2, 15, 4, 5, 600, time.UTC)))
		return v
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		if depth > 0 {
			v.Set(filled(t.Elem(), depth-1).Addr())
		}
	case reflect.Slice:
		if depth > 0 {
			v.Set(reflect.Append(reflect.MakeSlice(t, 0, 1), filled(t.Elem(), depth-1)))
		}
	case reflect.Map:
		if depth > 0 {
			v.Set(reflect.MakeMap(t))
			v.SetMapIndex(filled(t.Key(), depth-1), filled(t.Elem(), depth-1))
		}
	case reflect.Interface:
		v.Set(reflect.ValueOf("v"))
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				v.Field(i).Set(filled(t.Field(i).Type, depth-1))
			}
		}
	}
	return v
}

// TestEncodeKnowsEveryField: products, selections and pages with every field set encode as
// encoding/json encodes them.
func TestEncodeKnowsEveryField(t *testing.T) {
	p := filled(reflect.TypeFor[catalog.Product](), 6).Interface().(catalog.Product)
	if len(p.Variants) == 0 || len(p.Variants[0].Prices) == 0 || p.Variants[0].Prices[0].SaleEndsAt == nil {
		t.Fatalf("filled too shallow: %+v", p)
	}
	checkSame(t, p)
	view := viewProduct(&p, ^fieldSet(0))
	checkSame(t, view)
	page := filled(reflect.TypeFor[summaryList](), 6).Interface().(summaryList)
	page.Items = append(page.Items, view)
	checkSame(t, page)
}
