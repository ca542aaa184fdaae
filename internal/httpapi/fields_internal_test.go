package httpapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// sampleProduct builds a product with n variants and every field set, as a store returns it.
func sampleProduct(i, n int) catalog.Product {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	w := int64(350)
	p := catalog.Product{ID: fmt.Sprintf("01a2352a-0000-7000-8000-%012d", i), Name: fmt.Sprintf("Trail shoe %d", i),
		Description: prose(i, 90),
		Category:    "shoes", Brand: "Northpeak", Attributes: catalog.Attributes{"waterproof": true, "material": "mesh"},
		Media: []catalog.Media{{URL: "https://img.example/p/1.jpg", Alt: "side"}, {URL: "https://img.example/p/2.jpg"},
			{URL: "https://img.example/p/3.jpg"}, {URL: "https://img.example/p/4.jpg"}},
		Options: []catalog.Option{{Name: "Size", Values: []string{"40", "41", "42", "43"}}},
		Status:  catalog.StatusActive, Version: 3, StockVersion: 2, CreatedAt: at, UpdatedAt: at}
	for j := range n {
		p.Variants = append(p.Variants, catalog.Variant{ID: fmt.Sprintf("v%d-%d", i, j), ProductID: p.ID,
			SKU: fmt.Sprintf("SHOE-%d-%d", i, j), Options: map[string]string{"Size": fmt.Sprint(40 + j)}, Position: j,
			Barcode: "4006381333931", WeightGrams: &w, Attributes: catalog.Attributes{}, Image: "https://img.example/p/1.jpg",
			Prices: []catalog.Price{{Currency: "USD", Amount: 9900}}, CreatedAt: at, UpdatedAt: at})
	}
	p.Summarize()
	return p
}

// prose returns n words of text that differs per product, so gzip figures are not flattered by
// twenty copies of one description.
func prose(seed, n int) string {
	words := strings.Fields("breathable mesh upper grippy outsole made to last cushioned heel trail road " +
		"waterproof membrane recycled laces reflective details wide toe box light stable responsive foam " +
		"rock plate lugs mud wet rock fast packing ultra distance everyday comfort")
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	out := make([]string, n)
	for i := range out {
		out[i] = words[rng.IntN(len(words))]
	}
	return strings.Join(out, " ")
}

func marshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestViewOfEveryFieldIsTheResource: a view of every field (image aside) marshals to the very
// bytes of the resource, so a projection can never drift from the full body's shape; and every
// subset carries exactly its fields. Products and variants with empty optional fields too.
func TestViewOfEveryFieldIsTheResource(t *testing.T) {
	bare := catalog.Product{ID: "x", Attributes: catalog.Attributes{}, Media: []catalog.Media{}, Options: []catalog.Option{}}
	for _, p := range []catalog.Product{sampleProduct(1, 3), sampleProduct(2, 0), bare} {
		if got, want := marshal(t, viewProduct(&p, pfAll&^pfImage)), marshal(t, p); got != want {
			t.Errorf("view of every field:\n%s\nproduct:\n%s", got, want)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for range 500 {
			set := fieldSet(rng.Uint32())&pfAll | pfID
			var m map[string]json.RawMessage
			json.Unmarshal([]byte(marshal(t, viewProduct(&p, set))), &m)
			for i, name := range productNames {
				_, has := m[name]
				omitted := (name == "image" && len(p.Media) == 0) || (name == "variants" && len(p.Variants) == 0)
				if want := set&(1<<i) != 0 && !omitted; has != want {
					t.Fatalf("set %x: %s present %v, want %v", set, name, has, want)
				}
			}
		}
	}
	p := sampleProduct(3, 2)
	for _, v := range []catalog.Variant{p.Variants[0], {ID: "bare", Options: map[string]string{}, Attributes: catalog.Attributes{}}} {
		if got, want := marshal(t, viewVariant(&v, vfAll&^vfProduct)), marshal(t, v); got != want {
			t.Errorf("view of every variant field:\n%s\nvariant:\n%s", got, want)
		}
	}
}

// TestParseFieldsCanonical: the set does not depend on order or repetition.
func TestParseFieldsCanonical(t *testing.T) {
	a, err1 := parseFields(url.Values{"fields": {"price_ranges,name"}}, listFields)
	b, err2 := parseFields(url.Values{"fields": {"name,id,price_ranges,name"}}, listFields)
	if err1 != nil || err2 != nil || a != b || a.set != pfID|pfName|pfPriceRanges {
		t.Errorf("%+v %v / %+v %v", a, err1, b, err2)
	}
	if got := a.qualify(`"3.1"`); got != `"3.1.f1003"` {
		t.Errorf("qualify: %s", got)
	}
	// variants named whole win over variants.<field>, in any order.
	c, err1 := parseFields(url.Values{"fields": {"variants.sku,variants"}}, productFields)
	d, err2 := parseFields(url.Values{"fields": {"variants,variants.sku"}}, productFields)
	if err1 != nil || err2 != nil || c != d || c.variants != vfAll&^vfProduct || c.qualify(`"3.1"`) != `"3.1.f401"` {
		t.Errorf("%+v %v / %+v %v", c, err1, d, err2)
	}
	e, err := parseFields(url.Values{"fields": {"variants.stock,variants.sku"}}, productFields)
	if err != nil || e.variants != vfID|vfSKU|vfStock || e.qualify(`"3.1"`) != `"3.1.f401.v805"` {
		t.Errorf("%+v %v %s", e, err, e.qualify(`"3.1"`))
	}
}

// discardWriter is a ResponseWriter that keeps the body's size only, so the benchmark measures
// the handler's encoding, not a recorder.
type discardWriter struct {
	h http.Header
	n int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }

// oldProductList is the list body before summaries: every product in full.
type oldProductList struct {
	Items      []catalog.Product `json:"items"`
	NextCursor string            `json:"next_cursor,omitempty"`
	Total      *int64            `json:"total,omitempty"`
}

// BenchmarkListPage encodes a page of 20 products (4 variants each, as the variant generator
// makes them; lists carry no variants) as the list used to (full), as a summary, and with
// fields=id,name,price_ranges, and prints bytes and gzip bytes beside allocations. Run:
// go test -run XXX -bench ListPage -benchmem ./internal/httpapi/
func BenchmarkListPage(b *testing.B) {
	page := catalog.ProductPage{}
	for i := range 20 {
		p := sampleProduct(i, 4)
		p.Variants = nil
		page.Items = append(page.Items, p)
	}
	narrow, err := parseFields(url.Values{"fields": {"id,name,price_ranges"}}, listFields)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name  string
		write func(w http.ResponseWriter)
	}{
		{"full(before)", func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, oldProductList{Items: page.Items}) }},
		{"summary", func(w http.ResponseWriter) { writeProductPage(w, page, selection{}, nil) }},
		{"fields=id,name,price_ranges", func(w http.ResponseWriter) { writeProductPage(w, page, narrow, nil) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			body := &bytes.Buffer{}
			rec := &bodyWriter{h: http.Header{}, buf: body}
			c.write(rec)
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(body.Bytes())
			zw.Close()
			b.ReportAllocs()
			w := &discardWriter{h: http.Header{}}
			for b.Loop() {
				clear(w.h)
				c.write(w)
			}
			// After the loop: b.Loop resets what was reported before it.
			b.ReportMetric(float64(body.Len()), "body-bytes")
			b.ReportMetric(float64(gz.Len()), "gzip-bytes")
			fmt.Printf("list page of 20, %-28s %6d bytes, %5d gzip bytes\n", c.name+":", body.Len(), gz.Len())
		})
	}
}

// bodyWriter keeps the body, for the size figures.
type bodyWriter struct {
	h   http.Header
	buf *bytes.Buffer
}

func (d *bodyWriter) Header() http.Header         { return d.h }
func (d *bodyWriter) WriteHeader(int)             {}
func (d *bodyWriter) Write(b []byte) (int, error) { return d.buf.Write(b) }

// BenchmarkProductFields encodes one product with 4 variants in full (before fields=), as a
// view of fields=name,price_ranges,availability (one marshal of the subset), and the way a
// projection is often done, marshal in full, decode to a map, delete, marshal again, to show
// what the view saves per request.
func BenchmarkProductFields(b *testing.B) {
	p := sampleProduct(1, 4)
	sel, err := parseFields(url.Values{"fields": {"name,price_ranges,availability"}}, productFields)
	if err != nil {
		b.Fatal(err)
	}
	keep := map[string]bool{"id": true, "name": true, "price_ranges": true, "availability": true}
	cases := []struct {
		name  string
		write func(w http.ResponseWriter)
	}{
		{"full(before)", func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, p) }},
		{"view", func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, viewSelection(&p, sel)) }},
		{"marshal-twice", func(w http.ResponseWriter) {
			raw, _ := json.Marshal(p)
			var m map[string]json.RawMessage
			json.Unmarshal(raw, &m)
			for k := range m {
				if !keep[k] {
					delete(m, k)
				}
			}
			writeJSON(w, http.StatusOK, m)
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			body := &bytes.Buffer{}
			c.write(&bodyWriter{h: http.Header{}, buf: body})
			b.ReportAllocs()
			w := &discardWriter{h: http.Header{}}
			for b.Loop() {
				clear(w.h)
				c.write(w)
			}
			b.ReportMetric(float64(body.Len()), "body-bytes")
		})
	}
}

// FuzzParseFields: any fields= value on any table is a 400 naming fields or a selection of
// allowed fields with id, whose ETag still quotes and still names the product version.
func FuzzParseFields(f *testing.F) {
	for _, s := range []string{"id", "name,variants.sku", "variants,variants.stock", ",", "variants.", "a,b,c", "product"} {
		f.Add(s)
	}
	tables := []fieldTable{productFields, listFields, variantFields, skuFields}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, tb := range tables {
			sel, err := parseFields(url.Values{"fields": {raw}}, tb)
			if err != nil {
				var e *catalog.Error
				if !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "fields" {
					t.Fatalf("%q: %v", raw, err)
				}
				continue
			}
			if sel.set&1 == 0 || sel.set&^tb.allowed != 0 || (sel.variants != 0 && !tb.nested) {
				t.Fatalf("%q: %+v outside %x", raw, sel, tb.allowed)
			}
			r, _ := http.NewRequest("PUT", "/", nil)
			r.Header.Set("If-Match", sel.qualify(`"7.2"`))
			if v, err := ifMatchVersion(r); err != nil || v != 7 {
				t.Fatalf("%q: tag %s as If-Match: %d %v", raw, sel.qualify(`"7.2"`), v, err)
			}
		}
	})
}
