package catalog

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// FuzzParseCursor: any string either parses to a cursor that re-encodes and parses again to the
// same position, or is refused with an invalid-input error. Never a panic.
func FuzzParseCursor(f *testing.F) {
	q := ListQuery{Sort: SortName, Limit: 10}
	f.Add(q.NextCursor(Product{ID: NewID(), Name: "Mug"}).String())
	f.Add("")
	f.Add("eyJ2IjoxfQ")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("error code %q for %q", ErrorCode(err), s)
			}
			return
		}
		again, err := ParseCursor(c.String())
		if err != nil || again.ID != c.ID || again.Sort != c.Sort || again.NameKey != c.NameKey || again.Price != c.Price || !again.Created.Equal(c.Created) {
			t.Fatalf("cursor %q does not round-trip: %+v vs %+v (%v)", s, c, again, err)
		}
	})
}

// FuzzSearchTerms: whatever a client types, the terms are lower-case letters and digits without
// accents, never a stop word, at most MaxSearchTerms of them, so no store sees query syntax.
func FuzzSearchTerms(f *testing.F) {
	for _, s := range []string{"the", "Blue café", `"); DROP TABLE products; --`, "a:* & !b | (c)", "thé ÉTÉ", "spk-100 0.5", "e\u0301t\u00e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		terms := SearchTerms(q)
		if len(terms) > MaxSearchTerms {
			t.Fatalf("%d terms", len(terms))
		}
		stop := strings.Fields(StopWords)
		for _, term := range terms {
			if term == "" || term != strings.ToLower(term) || slices.Contains(stop, term) {
				t.Fatalf("term %q from %q", term, q)
			}
			for _, r := range term {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
					t.Fatalf("term %q from %q holds %q", term, q, r)
				}
			}
		}
	})
}

// FuzzParseAttributeFilter: whatever a query string holds, the filter parses or is refused with
// an invalid-input error naming attr.<key>, never a panic; a parsed filter survives a JSON
// round trip unchanged and a number range is never inverted.
func FuzzParseAttributeFilter(f *testing.F) {
	for _, s := range []string{"13..15", "13..", "..15", "14", "red,blue", "light blue", "true", "..", "1e400", "NaN", "-0..0", "red,,", "a\x00b"} {
		for typ := range 4 {
			f.Add(uint8(typ), true, s)
		}
	}
	f.Add(uint8(0), false, "wool")
	f.Fuzz(func(t *testing.T, typ uint8, filterable bool, raw string) {
		d := []AttributeDefinition{defMaterial, defScreen, defWaterpr, defColour}[typ%4]
		d.Filterable = filterable
		got, err := ParseAttributeFilter(d, raw)
		if err != nil {
			if ErrorCode(err) != CodeInvalid || fieldsOf(err) != "attr."+d.Key {
				t.Fatalf("ParseAttributeFilter(%s, %q) = %v, want invalid naming attr.%s", d.Key, raw, err, d.Key)
			}
			return
		}
		if !filterable {
			t.Fatalf("a filter on a key that is not filterable: %s", filterString(got))
		}
		if got.Min != nil && got.Max != nil && *got.Min > *got.Max {
			t.Fatalf("inverted range from %q: %s", raw, filterString(got))
		}
		for _, v := range got.Values {
			if v == "" || TextProblem(v, Line) != "" || (d.Type == AttrEnum && !slices.Contains(d.Values, v)) {
				t.Fatalf("value %q from %q", v, raw)
			}
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var back AttributeFilter
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if filterString(back) != filterString(got) {
			t.Fatalf("JSON round trip of %q: %s became %s", raw, filterString(got), filterString(back))
		}
	})
}

// FuzzProductInputValidate: any JSON document that decodes into a ProductInput validates
// without a panic, with at most MaxProblems problems; one that passes survives a JSON round
// trip: encoded and decoded again, it is the same input and still valid.
func FuzzProductInputValidate(f *testing.F) {
	seed := func(in ProductInput) {
		b, err := json.Marshal(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seed(validInput())
	tee := ProductInput{Name: "Tee", Category: "apparel", Status: StatusActive, Options: sizeColour(),
		Attributes: Attributes{"material": "cotton", "gsm": 180.0, "organic": true},
		Media:      []Media{{URL: "https://x.example/a.jpg", Alt: "Front"}},
		Variants: []VariantInput{
			{SKU: "T-S-R", Options: map[string]string{"Size": "S", "Colour": "Red"}, Barcode: "4006381333931", Image: "https://x.example/a.jpg",
				Prices: []PriceInput{{Currency: "EUR", Amount: 1900, CompareAt: ptr[int64](2500)}, {Currency: "JPY", Amount: 2500}}, InitialStock: 3, PurchaseLimit: 2},
			{SKU: "T-M-B", Options: map[string]string{"Size": "M", "Colour": "Blue"}, WeightGrams: ptr[int64](180), Prices: []PriceInput{{Currency: "EUR", Amount: 1900}}},
		}}
	seed(tee)
	f.Add([]byte(`{"name":"x","variants":[{"sku":"a-1","options":{"":""},"prices":[{"currency":"EUR","amount":1e30}]}]}`))
	f.Add([]byte(`{"name":"Mug","category":"kitchen","status":"active","attributes":{"a":{"b":1}},"variants":[{"sku":"M-1","prices":[]}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var in ProductInput
		if json.Unmarshal(doc, &in) != nil {
			return
		}
		in.Normalize()
		err := in.Validate()
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalid || len(e.Fields) == 0 || len(e.Fields) > MaxProblems {
				t.Fatalf("Validate() = %v, want invalid with 1 to %d problems", err, MaxProblems)
			}
			return
		}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("a valid input does not encode: %v", err)
		}
		var back ProductInput
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("a valid input's JSON does not decode: %v\n%s", err, b)
		}
		back.Normalize()
		if err := back.Validate(); err != nil {
			t.Fatalf("a valid input is invalid after a JSON round trip: %v\n%s", err, b)
		}
		again, _ := json.Marshal(back)
		if string(again) != string(b) {
			t.Fatalf("JSON round trip changed the input:\n%s\n%s", b, again)
		}
	})
}
