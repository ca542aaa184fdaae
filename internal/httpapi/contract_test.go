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
	id := decode[catalog.Product](t, b).ID
	const rounds = 15
	bodies := []func(n int) string{
		func(n int) string { return fmt.Sprintf(`{"name":"Mug %d"}`, n) },
		func(n int) string { return fmt.Sprintf(`{"description":"Description %d"}`, n) },
		func(n int) string { return fmt.Sprintf(`{"brand":"Brand %d"}`, n) },
		func(n int) string { return fmt.Sprintf(`{"price":{"amount":%d}}`, 1000+n) },
	}
	for i := range 4 {
		bodies = append(bodies, func(n int) string { return fmt.Sprintf(`{"attributes":{"k%d":"v%d"}}`, i, n) })
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := map[int]int{}
	for _, body := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range rounds {
				req, _ := http.NewRequest("PATCH", e.url+"/products/"+id, strings.NewReader(body(n)))
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
		t.Errorf("of %d patches without If-Match, these were refused (status: count): %v", len(bodies)*rounds, failed)
	}
	_, b = e.do("GET", "/products/"+id, "", nil, 200)
	got := decode[catalog.Product](t, b)
	last := fmt.Sprint(rounds - 1)
	want := map[string]string{"k0": "v" + last, "k1": "v" + last, "k2": "v" + last, "k3": "v" + last}
	if got.Name != "Mug "+last || got.Description != "Description "+last || got.Brand != "Brand "+last ||
		got.Price != (catalog.Money{Currency: "USD", Amount: 1000 + rounds - 1}) || !maps.Equal(got.Attributes, want) {
		t.Fatalf("after concurrent patches: %+v", got)
	}
}

func TestPatchSemantics(t *testing.T) {
	e := newEnv(t)
	body := `{"sku":"MUG-1","name":"Mug","description":"Blue","brand":"Acme","category":"kitchen","status":"active",
		"attributes":{"color":"blue","size":"L"},"images":["https://cdn.example.com/a.jpg"],"price":{"currency":"USD","amount":1299}}`
	resp, b := e.do("POST", "/products", body, auth, 201)
	p := decode[catalog.Product](t, b)
	path := "/products/" + p.ID
	tag := resp.Header.Get("ETag")

	// A no-op patch keeps the version and the ETag, and writes no price history.
	for _, noop := range []string{`{}`, `{"name":"Mug","price":{"amount":1299}}`, `{"attributes":{"color":"blue","absent":null}}`} {
		resp, b = e.do("PATCH", path, noop, with(auth, "If-Match", tag), 200)
		if got := decode[catalog.Product](t, b); resp.Header.Get("ETag") != tag || got.Version != p.Version {
			t.Fatalf("no-op PATCH %s: ETag %s version %d, want %s and %d", noop, resp.Header.Get("ETag"), got.Version, tag, p.Version)
		}
	}
	_, b = e.do("GET", path+"/prices", "", nil, 200)
	if n := strings.Count(string(b), `"amount"`); n != 1 {
		t.Fatalf("no-op patches wrote price history: %s", b)
	}

	// null removes optional fields; attributes merge; arrays replace.
	resp, b = e.do("PATCH", path, `{"description":null,"brand":null,"attributes":{"size":null,"fit":"slim"},"images":null}`,
		with(auth, "Content-Type", "application/merge-patch+json"), 200)
	got := decode[catalog.Product](t, b)
	if got.Description != "" || got.Brand != "" || len(got.Images) != 0 ||
		!maps.Equal(got.Attributes, map[string]string{"color": "blue", "fit": "slim"}) || got.Version != p.Version+1 {
		t.Fatalf("null removal and merge: %+v", got)
	}
	_, b = e.do("PATCH", path, `{"attributes":null}`, auth, 200)
	if got := decode[catalog.Product](t, b); len(got.Attributes) != 0 {
		t.Fatalf("attributes: null left %v", got.Attributes)
	}

	// null on a required field is a 400 naming it; so is a wrong type or an unknown member.
	for body, field := range map[string]string{
		`{"name":null}`:                          "name",
		`{"sku":null}`:                           "sku",
		`{"price":null}`:                         "price",
		`{"price":{"currency":null,"amount":1}}`: "price.currency",
		`{"price":{"currency":"EUR"}}`:           "price.amount",
		`{"price":{"amount":"12"}}`:              "price.amount",
		`{"status":null}`:                        "status",
		`{"category":null}`:                      "category",
		`{"images":"x"}`:                         "images",
		`{"attributes":{"a":1}}`:                 "attributes",
		`{"colour":"red"}`:                       "colour",
		`{"price":{"amount":1,"cents":1}}`:       "price.cents",
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
	{"PUT", "/products/{id}/price", "PriceChange", "valid_from", `{"price":{"currency":"USD","amount":1},"valid_from":%s}`},
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
	id := decode[catalog.Product](t, b).ID
	for _, c := range timeFieldCases {
		for _, bad := range []string{`"2026-12-24"`, `"24.12.2026"`, `"2026-12-24 00:00:00"`, `"2026-12-24T00:00:00"`, `12`, `true`, `{}`} {
			_, b := e.do(c.method, strings.ReplaceAll(c.path, "{id}", id), fmt.Sprintf(c.body, bad), auth, 400)
			var got struct {
				Error struct{ Fields []catalog.FieldError }
			}
			got = decode[struct {
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
