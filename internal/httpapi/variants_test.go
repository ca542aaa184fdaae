package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/catalog"
)

// tee is a product with two options and three variants.
const tee = `{"name":"Tee","category":"kitchen","status":"active",
	"options":[{"name":"Size","values":["S","M","L"]},{"name":"Colour","values":["Red","Blue"]}],
	"variants":[
		{"sku":"TEE-S-RED","options":{"Size":"S","Colour":"Red"},"prices":[{"currency":"USD","amount":1200}],"initial_stock":5},
		{"sku":"TEE-M-RED","options":{"Size":"M","Colour":"Red"},"prices":[{"currency":"USD","amount":1400}],"initial_stock":2,"purchase_limit":2},
		{"sku":"TEE-L-BLUE","options":{"Size":"L","Colour":"Blue"},"prices":[{"currency":"USD","amount":1500},{"currency":"EUR","amount":1400}]}]}`

// TestVariantsThroughAPI: a product is created with its options and variants in one request;
// one variant is added, changed and removed without touching the others; the product's version
// covers its variants and its ETag is theirs.
func TestVariantsThroughAPI(t *testing.T) {
	e := newEnv(t)
	resp, b := e.do("POST", "/products", tee, auth, 201)
	p := decode[catalog.Product](t, b)
	if p.VariantCount != 3 || len(p.Variants) != 3 || p.Availability.Available != 7 || !p.Availability.InStock {
		t.Fatalf("created: %s", b)
	}
	if len(p.PriceRanges) != 2 || p.PriceRanges[1] != (catalog.PriceRange{Currency: "USD", Min: 1200, Max: 1500}) {
		t.Fatalf("price ranges: %+v", p.PriceRanges)
	}
	tag := plainTag(resp)
	base := "/products/" + p.ID + "/variants"

	// The list, in position order, and one variant, both under the product's ETag.
	resp, b = e.do("GET", base, "", nil, 200)
	l := decode[struct{ Items []catalog.Variant }](t, b)
	if len(l.Items) != 3 || l.Items[0].SKU != "TEE-S-RED" || l.Items[2].Position <= l.Items[0].Position {
		t.Fatalf("variants: %s", b)
	}
	if plainTag(resp) != tag {
		t.Fatalf("list ETag %s, product's %s", resp.Header.Get("ETag"), tag)
	}
	one := base + "/" + l.Items[1].ID
	resp, _ = e.do("GET", one, "", nil, 200)
	if plainTag(resp) != tag {
		t.Fatalf("variant ETag %s, product's %s", resp.Header.Get("ETag"), tag)
	}
	e.do("GET", one, "", map[string]string{"If-None-Match": tag}, 304)
	e.do("GET", one, "", with(auth, "If-None-Match", tag), 304)

	// Add one: the product's version moves, the old ETag is stale.
	resp, b = e.do("POST", base, `{"sku":"TEE-L-RED","options":{"Size":"L","Colour":"Red"},"prices":[{"currency":"USD","amount":1500}]}`,
		with(auth, "If-Match", tag), 201)
	added := decode[catalog.Variant](t, b)
	if resp.Header.Get("Location") != base+"/"+added.ID || resp.Header.Get("ETag") == tag || added.ProductID != p.ID {
		t.Fatalf("added: %v %s", resp.Header, b)
	}
	e.do("POST", base, `{"sku":"TEE-X","options":{"Size":"S","Colour":"Blue"},"prices":[{"currency":"USD","amount":1}]}`, with(auth, "If-Match", tag), 412)
	// The same combination, the same SKU in another case, an unknown option value.
	e.do("POST", base, `{"sku":"TEE-DUP","options":{"Size":"L","Colour":"Red"},"prices":[{"currency":"USD","amount":1}]}`, auth, 409)
	e.do("POST", base, `{"sku":"tee-l-red","options":{"Size":"S","Colour":"Blue"},"prices":[{"currency":"USD","amount":1}]}`, auth, 409)
	_, b = e.do("POST", base, `{"sku":"TEE-XL","options":{"Size":"XL","Colour":"Red"},"prices":[{"currency":"USD","amount":1}]}`, auth, 400)
	if !strings.Contains(string(b), `"field":"options.Size"`) {
		t.Fatalf("unknown option value: %s", b)
	}
	_, b = e.do("POST", base, `{"sku":"TEE-NP","options":{"Size":"S","Colour":"Blue"}}`, auth, 400)
	if !strings.Contains(string(b), `"field":"prices"`) {
		t.Fatalf("variant without prices: %s", b)
	}

	// Patch one: only what it names changes.
	_, b = e.do("PATCH", base+"/"+added.ID, `{"barcode":"4006381333931","weight_grams":180,"purchase_limit":3}`,
		with(auth, "Content-Type", "application/merge-patch+json"), 200)
	pv := decode[catalog.Variant](t, b)
	if pv.Barcode != "4006381333931" || pv.WeightGrams == nil || *pv.WeightGrams != 180 || pv.PurchaseLimit != 3 || pv.SKU != "TEE-L-RED" {
		t.Fatalf("patched: %s", b)
	}
	_, b = e.do("PATCH", base+"/"+added.ID, `{"barcode":null,"weight_grams":null}`, auth, 200)
	if pv := decode[catalog.Variant](t, b); pv.Barcode != "" || pv.WeightGrams != nil || pv.PurchaseLimit != 3 {
		t.Fatalf("null removal: %s", b)
	}
	for body, field := range map[string]string{
		`{"barcode":"4006381333932"}`: "barcode",
		`{"sku":null}`:                "sku",
		`{"options":null}`:            "options",
		`{"prices":null}`:             "prices",
		`{"weight_grams":"heavy"}`:    "weight_grams",
		`{"colour":"red"}`:            "colour",
	} {
		_, b := e.do("PATCH", base+"/"+added.ID, body, auth, 400)
		if !strings.Contains(string(b), `"field":"`+field+`"`) {
			t.Errorf("PATCH variant %s: the error does not name %s: %s", body, field, b)
		}
	}

	// The product's own fields: variants are refused with a 422 naming them.
	_, b = e.do("PATCH", "/products/"+p.ID, `{"variants":[]}`, auth, 422)
	if !strings.Contains(string(b), `"field":"variants"`) {
		t.Fatalf("PATCH product with variants: %s", b)
	}
	// Removing an option value a variant uses is refused naming the variant.
	_, b = e.do("PATCH", "/products/"+p.ID, `{"options":[{"name":"Size","values":["S","M"]},{"name":"Colour","values":["Red","Blue"]}]}`, auth, 400)
	if !strings.Contains(string(b), "TEE-L") {
		t.Fatalf("removing a used value: %s", b)
	}

	// Remove one; it is gone, the others stay; a variant of another product is a 404.
	e.do("DELETE", base+"/"+added.ID, "", auth, 204)
	e.do("GET", base+"/"+added.ID, "", nil, 404)
	e.do("DELETE", base+"/"+l.Items[0].ID, "", auth, 409) // units on hand
	_, b = e.do("POST", "/products", mug, auth, 201)
	other := decode[catalog.Product](t, b)
	e.do("GET", "/products/"+other.ID+"/variants/"+l.Items[1].ID, "", nil, 404)
	e.do("GET", "/products/"+other.ID+"/variants/"+l.Items[1].ID, "", auth, 404)
	e.do("POST", "/products/"+other.ID+"/variants/"+l.Items[1].ID+"/stock/adjustments", `{"delta":1,"reason":"received"}`, auth, 404)
	e.do("PUT", "/products/"+other.ID+"/variants/"+l.Items[1].ID+"/prices/USD", `{"amount":1}`, auth, 404)
	e.do("DELETE", "/products/"+other.ID+"/variants/"+other.Variants[0].ID, "", auth, 409) // its last variant

	// GET /skus: the variant with its product, without the product's other variants.
	resp, b = e.do("GET", "/skus/tee-m-red", "", nil, 200)
	sku := decode[struct {
		catalog.Variant
		Product catalog.Product `json:"product"`
	}](t, b)
	if sku.SKU != "TEE-M-RED" || sku.Product.ID != p.ID || len(sku.Product.Variants) != 0 || sku.Product.VariantCount != 3 {
		t.Fatalf("GET /skus: %s", b)
	}
	presp, _ := e.do("GET", "/products/"+p.ID, "", nil, 200)
	if plainTag(resp) != plainTag(presp) {
		t.Fatalf("GET /skus ETag %s is not the product's %s", resp.Header.Get("ETag"), presp.Header.Get("ETag"))
	}
}

// plainTag is a response's ETag without the content coding a compressed body's carries.
func plainTag(resp *http.Response) string {
	tag := resp.Header.Get("ETag")
	for _, coding := range []string{"-gzip", "-zstd"} {
		tag = strings.Replace(tag, coding+`"`, `"`, 1)
	}
	return tag
}

// TestPurchaseLimitThroughAPI: a line above its variant's purchase limit is a 409 with code
// purchase_limit naming the line, and nothing is held.
func TestPurchaseLimitThroughAPI(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("POST", "/products", tee, auth, 201)
	p := decode[catalog.Product](t, b)
	_, b = e.do("POST", "/reservations", `{"lines":[{"sku":"TEE-S-RED","quantity":1},{"sku":"TEE-M-RED","quantity":3}]}`, auth, 409)
	got := decode[struct {
		Error struct {
			Code   string
			Fields []catalog.FieldError
		}
	}](t, b)
	if got.Error.Code != "purchase_limit" || len(got.Error.Fields) != 1 || got.Error.Fields[0].Field != "lines[1].quantity" ||
		!strings.Contains(got.Error.Fields[0].Problem, "2") {
		t.Fatalf("above the limit: %s", b)
	}
	_, b = e.do("GET", "/products/"+p.ID+"/variants/"+p.Variants[0].ID+"/stock", "", nil, 200)
	if st := decode[catalog.Stock](t, b); st.Reserved != 0 {
		t.Fatalf("a refused reservation held units: %s", b)
	}
	e.do("POST", "/reservations", `{"lines":[{"sku":"TEE-M-RED","quantity":2}]}`, auth, 201)
	if m := e.metrics(); !strings.Contains(string(m), `catalog_reservations_total{outcome="purchase_limit"} 1`) {
		t.Errorf("a refusal by purchase limit is not counted as such:\n%s", grepLines(string(m), "catalog_reservations_total"))
	}
}

// TestDraftVariantsAreHidden: a draft product's variants, their stock and prices are a 404
// without the read scope, exactly like the product; with it they are served.
func TestDraftVariantsAreHidden(t *testing.T) {
	e := scopedEnv(t, nil)
	_, b := e.do("POST", "/products", strings.Replace(tee, `"active"`, `"draft"`, 1), auth, 201)
	p := decode[catalog.Product](t, b)
	v := "/products/" + p.ID + "/variants/" + p.Variants[0].ID
	for _, path := range []string{"/products/" + p.ID, "/products/" + p.ID + "/variants", v, v + "/stock", v + "/prices", "/skus/TEE-S-RED"} {
		_, public := e.do("GET", path, "", nil, 404)
		_, missing := e.do("GET", strings.Replace(path, p.ID, catalog.NewID(), 1), "", nil, 404)
		if strings.Contains(path, p.ID) && decode[errorOnly](t, public).Error.Message != decode[errorOnly](t, missing).Error.Message {
			t.Errorf("GET %s: a draft's 404 differs from a missing one's: %s vs %s", path, public, missing)
		}
		e.do("GET", path, "", bearer(scopedKeys[access.Read]), 200)
	}
}

type errorOnly struct {
	Error struct{ Code, Message string }
}

// TestAttributesThroughAPI: definitions are public to read and need the catalog scope to write;
// values are checked against them, and lists filter by filterable ones.
func TestAttributesThroughAPI(t *testing.T) {
	e := newEnv(t)
	resp, b := e.do("POST", "/attributes", `{"key":"colour","name":"Colour","type":"enum","values":["red","blue"],"filterable":true}`, auth, 201)
	if resp.Header.Get("Location") != "/attributes/colour" || resp.Header.Get("ETag") != `"1"` {
		t.Fatalf("created: %v %s", resp.Header, b)
	}
	e.do("POST", "/attributes", `{"key":"screen_inches","name":"Screen","type":"number","unit":"in","filterable":true}`, auth, 201)
	e.do("POST", "/attributes", `{"key":"material","name":"Material","type":"text"}`, auth, 201)
	e.do("POST", "/attributes", `{"key":"colour","name":"Colour","type":"text"}`, auth, 409)
	for body, field := range map[string]string{
		`{"key":"Colour","name":"C","type":"text"}`:              "key",
		`{"key":"size","name":"Size","type":"enum"}`:             "values",
		`{"key":"size","name":"Size","type":"colour"}`:           "type",
		`{"key":"size","name":"Size","type":"text","unit":"cm"}`: "unit",
		`{"key":"size","type":"text"}`:                           "name",
	} {
		_, b := e.do("POST", "/attributes", body, auth, 400)
		if !strings.Contains(string(b), `"field":"`+field+`"`) {
			t.Errorf("POST /attributes %s: the error does not name %s: %s", body, field, b)
		}
	}
	_, b = e.do("GET", "/attributes", "", nil, 200)
	if l := decode[struct{ Items []catalog.AttributeDefinition }](t, b); len(l.Items) != 3 || l.Items[0].Key != "colour" {
		t.Fatalf("list: %s", b)
	}
	resp, _ = e.do("GET", "/attributes/colour", "", nil, 200)
	e.do("GET", "/attributes/colour", "", map[string]string{"If-None-Match": resp.Header.Get("ETag")}, 304)
	e.do("GET", "/attributes/nope", "", nil, 404)

	// Values are typed by their definitions.
	laptop := func(sku, colour string, inches string) string {
		return `{"name":"Laptop ` + sku + `","category":"kitchen","status":"active","attributes":{"screen_inches":` + inches + `},
			"variants":[{"sku":"` + sku + `","attributes":{"colour":"` + colour + `"},"prices":[{"currency":"USD","amount":100000}]}]}`
	}
	e.do("POST", "/products", laptop("LAP-13", "red", "13.3"), auth, 201)
	e.do("POST", "/products", laptop("LAP-16", "blue", "16"), auth, 201)
	_, b = e.do("POST", "/products", laptop("LAP-X", "green", "14"), auth, 400)
	if !strings.Contains(string(b), `"field":"variants[0].attributes.colour"`) {
		t.Fatalf("an enum value not allowed: %s", b)
	}
	_, b = e.do("POST", "/products", laptop("LAP-Y", "red", `"big"`), auth, 400)
	if !strings.Contains(string(b), `"field":"attributes.screen_inches"`) {
		t.Fatalf("text for a number: %s", b)
	}

	// Filters.
	list := func(query string) []string {
		_, b := e.do("GET", "/products?"+query, "", nil, 200)
		var names []string
		for _, p := range decode[struct{ Items []catalog.Product }](t, b).Items {
			names = append(names, p.Name)
		}
		return names
	}
	if got := list("attr.colour=red"); len(got) != 1 || got[0] != "Laptop LAP-13" {
		t.Errorf("attr.colour=red: %v", got)
	}
	if got := list("attr.colour=red,blue"); len(got) != 2 {
		t.Errorf("attr.colour=red,blue: %v", got)
	}
	if got := list("attr.screen_inches=14..20"); len(got) != 1 || got[0] != "Laptop LAP-16" {
		t.Errorf("attr.screen_inches=14..20: %v", got)
	}
	if got := list("attr.screen_inches=..14&attr.colour=blue"); len(got) != 0 {
		t.Errorf("two filters: %v", got)
	}
	for query, field := range map[string]string{
		"attr.material=steel":     "attr.material", // not filterable
		"attr.weight=1":           "attr.weight",   // not defined
		"attr.colour=green":       "attr.colour",   // not a value
		"attr.screen_inches=big":  "attr.screen_inches",
		"attr.screen_inches=9..1": "attr.screen_inches",
	} {
		_, b := e.do("GET", "/products?"+query, "", nil, 400)
		if !strings.Contains(string(b), `"field":"`+field+`"`) {
			t.Errorf("GET /products?%s: the error does not name %s: %s", query, field, b)
		}
	}

	// Redefining and deleting.
	e.do("PUT", "/attributes/colour", `{"name":"Colour","type":"enum","values":["red","blue","green"],"filterable":true}`, with(auth, "If-Match", `"1"`), 200)
	e.do("PUT", "/attributes/colour", `{"name":"Colour","type":"enum","values":["red"],"filterable":true}`, with(auth, "If-Match", `"1"`), 412)
	e.do("PUT", "/attributes/colour", `{"name":"Colour","type":"enum","values":["red"],"filterable":true}`, auth, 409)
	e.do("PUT", "/attributes/colour", `{"key":"color","name":"Colour","type":"text"}`, auth, 400)
	e.do("DELETE", "/attributes/colour", "", auth, 409) // in use
	e.do("DELETE", "/attributes/material", "", auth, 204)
	e.do("GET", "/attributes/material", "", nil, 404)
}
