package httpapi_test

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/acme/catalog/internal/apitest"

	"github.com/acme/catalog/internal/catalog"
)

// TestPatchConcurrentWithoutIfMatch: clients patching distinct fields at once, with no
// precondition, all get 200 and every field ends as its last writer set it.
func TestPatchConcurrentWithoutIfMatch(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("POST", "/products", mug, auth, 201)
	created := decode[catalog.Product](t, b)
	id := created.ID
	const rounds = 15
	bodies := []func(n int) string{
		func(n int) string { return fmt.Sprintf(`{"name":"Mug %d"}`, n) },
		func(n int) string { return fmt.Sprintf(`{"description":"Description %d"}`, n) },
		func(n int) string { return fmt.Sprintf(`{"brand":"Brand %d"}`, n) },
	}
	for i := range 4 {
		e.do("POST", "/attributes", fmt.Sprintf(`{"key":"k%d","name":"K%d","type":"text"}`, i, i), auth, 201)
		bodies = append(bodies, func(n int) string { return fmt.Sprintf(`{"attributes":{"k%d":"v%d"}}`, i, n) })
	}
	// A variant patched at the same time moves the same product version.
	vpath := "/products/" + id + "/variants/" + created.Variants[0].ID
	patchVariant := func(n int) string { return fmt.Sprintf(`{"prices":[{"currency":"USD","amount":%d}]}`, 1000+n) }
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := map[int]int{}
	type target struct {
		path string
		body func(int) string
	}
	var targets []target
	for _, body := range bodies {
		targets = append(targets, target{"/products/" + id, body})
	}
	targets = append(targets, target{vpath, patchVariant})
	for _, tg := range targets {
		body := tg.body
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range rounds {
				req, _ := http.NewRequest("PATCH", e.url+tg.path, strings.NewReader(body(n)))
				req.Header.Set("Content-Type", "application/merge-patch+json")
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := e.client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					mu.Lock()
					failed[resp.StatusCode]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Errorf("of %d patches without If-Match, these were refused (status: count): %v", len(targets)*rounds, failed)
	}
	_, b = e.do("GET", "/products/"+id, "", nil, 200)
	got := decode[catalog.Product](t, b)
	last := fmt.Sprint(rounds - 1)
	want := catalog.Attributes{"k0": "v" + last, "k1": "v" + last, "k2": "v" + last, "k3": "v" + last}
	price, _ := got.Variants[0].Price("USD")
	if got.Name != "Mug "+last || got.Description != "Description "+last || got.Brand != "Brand "+last ||
		price.Amount != 1000+rounds-1 || !maps.Equal(got.Attributes, want) {
		t.Fatalf("after concurrent patches: %+v", got)
	}
}

func TestPatchSemantics(t *testing.T) {
	e := newEnv(t)
	for _, def := range []string{`{"key":"color","name":"Colour","type":"text"}`, `{"key":"size","name":"Size","type":"text"}`,
		`{"key":"fit","name":"Fit","type":"text"}`, `{"key":"inches","name":"Inches","type":"number"}`} {
		e.do("POST", "/attributes", def, auth, 201)
	}
	body := `{"name":"Mug","description":"Blue","brand":"Acme","category":"kitchen","status":"active",
		"attributes":{"color":"blue","size":"L"},"media":[{"url":"https://cdn.example.com/a.jpg"}],
		"variants":[{"sku":"MUG-1","prices":[{"currency":"USD","amount":1299}]}]}`
	resp, b := e.do("POST", "/products", body, auth, 201)
	p := decode[catalog.Product](t, b)
	path := "/products/" + p.ID
	tag := resp.Header.Get("ETag")

	// A no-op patch keeps the version and the ETag.
	for _, noop := range []string{`{}`, `{"name":"Mug"}`, `{"attributes":{"color":"blue","absent":null}}`} {
		resp, b = e.do("PATCH", path, noop, with(auth, "If-Match", tag), 200)
		if got := decode[catalog.Product](t, b); resp.Header.Get("ETag") != tag || got.Version != p.Version {
			t.Fatalf("no-op PATCH %s: ETag %s version %d, want %s and %d", noop, resp.Header.Get("ETag"), got.Version, tag, p.Version)
		}
	}
	// So does a no-op patch of a variant, and it writes no price history.
	v := variantPath(p)
	resp, _ = e.do("PATCH", v, `{"sku":"MUG-1","prices":[{"currency":"USD","amount":1299}]}`, auth, 200)
	if resp.Header.Get("ETag") != tag {
		t.Fatalf("no-op variant PATCH: ETag %s, want %s", resp.Header.Get("ETag"), tag)
	}
	_, b = e.do("GET", v+"/prices", "", nil, 200)
	if n := strings.Count(string(b), `"amount"`); n != 1 {
		t.Fatalf("no-op patches wrote price history: %s", b)
	}

	// null removes optional fields; attributes merge (typed); arrays replace.
	_, b = e.do("PATCH", path, `{"description":null,"brand":null,"attributes":{"size":null,"fit":"slim","inches":3.5},"media":null}`,
		with(auth, "Content-Type", "application/merge-patch+json"), 200)
	got := decode[catalog.Product](t, b)
	if got.Description != "" || got.Brand != "" || len(got.Media) != 0 ||
		!maps.Equal(got.Attributes, catalog.Attributes{"color": "blue", "fit": "slim", "inches": 3.5}) || got.Version != p.Version+1 {
		t.Fatalf("null removal and merge: %+v", got)
	}
	_, b = e.do("PATCH", path, `{"attributes":null}`, auth, 200)
	if got := decode[catalog.Product](t, b); len(got.Attributes) != 0 {
		t.Fatalf("attributes: null left %v", got.Attributes)
	}

	// null on a required field is a 400 naming it; so is a wrong type, an unknown member, an
	// undefined attribute or one of the wrong type.
	for body, field := range map[string]string{
		`{"name":null}`:                 "name",
		`{"status":null}`:               "status",
		`{"category":null}`:             "category",
		`{"media":"x"}`:                 "media",
		`{"media":[{"href":"x"}]}`:      "media[0].url",
		`{"options":{"name":"Size"}}`:   "options",
		`{"attributes":{"a":{"b":1}}}`:  "attributes.a",
		`{"attributes":{"weight":1}}`:   "attributes.weight",
		`{"attributes":{"inches":"3"}}`: "attributes.inches",
		`{"colour":"red"}`:              "colour",
		`{"sku":"MUG-2"}`:               "sku",
		`{"price":{"amount":1}}`:        "price",
		`{"status":"sold"}`:             "status",
		`{"description":["a"]}`:         "description",
	} {
		_, b := e.do("PATCH", path, body, auth, 400)
		if !strings.Contains(string(b), `"field":"`+field+`"`) {
			t.Errorf("PATCH %s: the error does not name %s: %s", body, field, b)
		}
	}
	e.do("PATCH", path, `[1]`, auth, 400)
	e.do("PATCH", path, `{"name":"x"}`, with(auth, "Content-Type", "text/plain"), 415)

	// A stale If-Match is a 412 and changes nothing.
	e.do("PATCH", path, `{"name":"Stale"}`, with(auth, "If-Match", tag), 412)
	_, b = e.do("GET", path, "", nil, 200)
	if decode[catalog.Product](t, b).Name != "Mug" {
		t.Fatalf("a stale PATCH changed the product: %s", b)
	}
}

// TestListUnknownCategory: an unknown category is a 404 naming it, as an unknown parameter is a
// 400; an empty one is an empty list.
func TestListUnknownCategory(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("GET", "/products?category=nope", "", nil, 404)
	if !strings.Contains(string(b), `"code":"not_found"`) || !strings.Contains(string(b), `"field":"category"`) {
		t.Fatalf("unknown category: %s", b)
	}
	e.do("GET", "/products?category=kitchen&total=true", "", nil, 200)
}

// timeFieldCases send a malformed value in each date-time field of a request body; {id} is a
// product. TestTimeFieldErrors checks the table covers every such field of the document.
var timeFieldCases = []struct {
	method, path, schema, field, body string
}{
	{"PUT", "/products/{id}/variants/{variantID}/prices/{currency}", "PriceChange", "valid_from", `{"amount":1,"valid_from":%s}`},
	{"PUT", "/products/{id}/variants/{variantID}/prices/{currency}", "PriceChange", "valid_until", `{"amount":1,"valid_until":%s}`},
}

// TestTimeFieldErrors: a time field that is not an RFC 3339 date-time is a 400 naming the field
// and the rule in words, never the body and never Go's layout string.
func TestTimeFieldErrors(t *testing.T) {
	doc := apitest.Load(t)
	covered := map[string]bool{}
	for _, c := range timeFieldCases {
		covered[c.schema+"."+c.field] = true
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil {
				continue
			}
			for _, mt := range op.RequestBody.Value.Content {
				name := strings.TrimPrefix(mt.Schema.Ref, "#/components/schemas/")
				for prop, ps := range mt.Schema.Value.Properties {
					if ps.Value.Format == "date-time" && !covered[name+"."+prop] {
						t.Errorf("%s %s: request field %s (%s) is a date-time with no case in timeFieldCases", method, path, prop, name)
					}
				}
			}
		}
	}

	e := newEnv(t)
	_, b := e.do("POST", "/products", mug, auth, 201)
	p := decode[catalog.Product](t, b)
	for _, c := range timeFieldCases {
		for _, bad := range []string{`"2026-12-24"`, `"24.12.2026"`, `"2026-12-24 00:00:00"`, `"2026-12-24T00:00:00"`, `12`, `true`, `{}`} {
			_, b := e.do(c.method, routePath(c.path, p.ID, p.Variants[0].ID), fmt.Sprintf(c.body, bad), auth, 400)
			got := decode[struct {
				Error struct{ Fields []catalog.FieldError }
			}](t, b)
			if len(got.Error.Fields) != 1 || got.Error.Fields[0].Field != c.field ||
				!strings.Contains(got.Error.Fields[0].Problem, "must be an RFC 3339 date-time such as 2026-12-24T00:00:00Z") ||
				strings.Contains(string(b), "2006-01-02") {
				t.Errorf("%s %s with %s = %s: want one problem on %s stating the rule", c.method, c.path, bad, b, c.field)
			}
		}
	}
}

// TestCategoryPatchIsMergePatch: PATCH /categories/{slug} follows RFC 7396 as products do:
// "parent": null removes the parent (a root), "name": null is refused naming the field.
func TestCategoryPatchIsMergePatch(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/categories", `{"slug":"cups","name":"Cups","parent":"kitchen"}`, auth, 201)
	_, b := e.do("PATCH", "/categories/cups", `{"parent":null}`, with(auth, "Content-Type", "application/merge-patch+json"), 200)
	if c := decode[catalog.Category](t, b); c.Parent != "" || c.Name != "Cups" {
		t.Fatalf(`{"parent":null} should make a root: %s`, b)
	}
	_, b = e.do("PATCH", "/categories/cups", `{"name":null}`, auth, 400)
	if !strings.Contains(string(b), `"field":"name"`) {
		t.Fatalf(`{"name":null}: %s`, b)
	}
	e.do("PATCH", "/categories/cups", `{"parent":"kitchen","colour":"red"}`, auth, 400)
	_, b = e.do("PATCH", "/categories/cups", `{"parent":"kitchen"}`, auth, 200)
	if c := decode[catalog.Category](t, b); c.Parent != "kitchen" {
		t.Fatalf("move back: %s", b)
	}
}
