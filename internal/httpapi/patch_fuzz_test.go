package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// mergePatch is RFC 7396 section 2, literally: the reference the typed patch is held to.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	out := map[string]any{}
	for k, v := range t {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = mergePatch(out[k], v)
		}
	}
	return out
}

func decodeAny(t *testing.T, b []byte) any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // amounts beyond 2^53 stay exact
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// FuzzProductPatchIsMergePatch: whenever decodeProductPatch accepts a document, applying it
// gives what RFC 7396 applied to the product's JSON gives (a removed optional field reading as
// its empty value). A patch rule that drifts from the RFC fails here.
func FuzzProductPatchIsMergePatch(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"name":"New"}`, `{"description":null,"brand":null}`, `{"attributes":{"color":null,"fit":"slim"}}`,
		`{"attributes":null}`, `{"media":[{"url":"https://x.example/a.jpg"}]}`, `{"media":null}`, `{"status":"draft"}`,
		`{"attributes":{}}`, `{"name":null}`, `{"attributes":{"a":"1","a":null}}`, `{"media":[null]}`,
		`{"attributes":{"inches":13.3,"waterproof":true}}`, `{"attributes":{"n":9007199254740993}}`,
		`{"options":[{"name":"Size","values":["S","M"]}]}`, `{"options":null}`, `{"options":[]}`, `{"variants":[]}`,
		`{"media":[{"url":"https://x.example/b.jpg","alt":"B","extra":1}]}`, `{"attributes":{"o":{"x":1}}}`,
	} {
		f.Add(s)
	}
	cur := catalog.ProductInput{Name: "Mug", Description: "Blue", Category: "kitchen", Brand: "Acme",
		Attributes: catalog.Attributes{"color": "blue", "size": "L", "inches": 11.5},
		Media:      []catalog.Media{{URL: "https://cdn.example.com/a.jpg", Alt: "A"}},
		Options:    []catalog.Option{{Name: "Size", Values: []string{"S", "M", "L"}}},
		Status:     catalog.StatusActive}
	cur.Normalize()
	curJSON, err := json.Marshal(cur)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		r := httptest.NewRequest("PATCH", "/products/x", strings.NewReader(doc))
		r.Header.Set("Content-Type", "application/merge-patch+json")
		pp, err := (&Server{bodyReadTimeout: BodyReadTimeout}).decodeProductPatch(httptest.NewRecorder(), r)
		if errors.Is(err, errVariantsInPatch) {
			return // a 422: variants have routes of their own
		}
		if err != nil {
			if code := catalog.ErrorCode(err); code != catalog.CodeInvalid && !strings.Contains(err.Error(), "too large") {
				t.Fatalf("patch %q: error %v with code %q, want invalid", doc, err, code)
			}
			return
		}
		got := pp.Apply(cur)
		merged, err := json.Marshal(mergePatch(decodeAny(t, curJSON), decodeAny(t, []byte(doc))))
		if err != nil {
			t.Fatal(err)
		}
		var want catalog.ProductInput
		if err := json.Unmarshal(merged, &want); err != nil {
			t.Fatalf("patch %q was accepted, but its RFC 7396 result %s is no product: %v", doc, merged, err)
		}
		want.Normalize()
		if !got.Same(want) {
			t.Fatalf("patch %q:\n applied %+v\n RFC 7396 %+v", doc, got, want)
		}
	})
}

// FuzzVariantPatchIsMergePatch: whenever decodeVariantPatch accepts a document, applying it to a
// variant gives what RFC 7396 applied to the variant's JSON gives: options and attributes merge
// key by key, prices replace the list, null removes barcode, weight, image and the purchase
// limit. Refusals are invalid-input errors, never anything else.
func FuzzVariantPatchIsMergePatch(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"sku":"TEE-M"}`, `{"options":{"Size":"M"}}`, `{"barcode":null,"weight_grams":null}`,
		`{"weight_grams":250}`, `{"purchase_limit":null}`, `{"purchase_limit":3}`, `{"image":null}`,
		`{"attributes":{"fit":null,"inches":2}}`, `{"attributes":null}`, `{"prices":[{"currency":"EUR","amount":5}]}`,
		`{"prices":[]}`, `{"prices":null}`, `{"options":null}`, `{"sku":null}`, `{"options":{"Size":null}}`,
		`{"prices":[{"currency":"USD","amount":1,"compare_at":2}]}`, `{"weight_grams":1.5}`, `{"colour":"red"}`,
	} {
		f.Add(s)
	}
	weight := int64(180)
	cur := catalog.VariantInput{SKU: "TEE-S", Options: map[string]string{"Size": "S", "Colour": "Red"},
		Barcode: "4006381333931", WeightGrams: &weight, Attributes: catalog.Attributes{"fit": "slim", "inches": 1.5},
		Image: "https://cdn.example.com/a.jpg", PurchaseLimit: 2,
		Prices: []catalog.PriceInput{{Currency: "USD", Amount: 1200}}}
	cur.Normalize()
	curJSON, err := json.Marshal(cur)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		r := httptest.NewRequest("PATCH", "/products/x/variants/y", strings.NewReader(doc))
		r.Header.Set("Content-Type", "application/merge-patch+json")
		vp, err := (&Server{bodyReadTimeout: BodyReadTimeout}).decodeVariantPatch(httptest.NewRecorder(), r)
		if err != nil {
			if code := catalog.ErrorCode(err); code != catalog.CodeInvalid && !strings.Contains(err.Error(), "too large") {
				t.Fatalf("patch %q: error %v with code %q, want invalid", doc, err, code)
			}
			return
		}
		got := vp.Apply(cur)
		merged, err := json.Marshal(mergePatch(decodeAny(t, curJSON), decodeAny(t, []byte(doc))))
		if err != nil {
			t.Fatal(err)
		}
		var want catalog.VariantInput
		if err := json.Unmarshal(merged, &want); err != nil {
			t.Fatalf("patch %q was accepted, but its RFC 7396 result %s is no variant: %v", doc, merged, err)
		}
		want.Normalize()
		if !got.Same(want) {
			t.Fatalf("patch %q:\n applied %+v\n RFC 7396 %+v", doc, got, want)
		}
	})
}
