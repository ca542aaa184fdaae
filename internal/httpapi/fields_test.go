package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/sqlite"
)

// leanProduct has a long description and two images, so a summary visibly leaves them out.
const leanProduct = `{"name":"Trail shoe","category":"kitchen","brand":"Northpeak","status":"active",
"description":"A long description that a list page has no room for.",
"media":[{"url":"https://img.example/1.jpg","alt":"side"},{"url":"https://img.example/2.jpg"}],
"variants":[{"sku":"SHOE-1","barcode":"4006381333931","prices":[{"currency":"USD","amount":9900}]}]}`

// keysOf returns the top-level member names of a JSON object, sorted.
func keysOf(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return slices.Sorted(maps.Keys(m))
}

func sorted(names ...string) []string { return slices.Sorted(slices.Values(names)) }

var summaryKeys = sorted("id", "name", "category", "brand", "attributes", "image", "options", "status",
	"variant_count", "price_ranges", "availability", "version", "created_at", "updated_at")

// TestFieldsOnEveryReadRoute: each read route carries exactly the fields asked for (id always),
// lists carry the summary without fields=, single reads the full resource.
func TestFieldsOnEveryReadRoute(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("POST", "/products", leanProduct, auth, 201)
	p := decode[catalog.Product](t, b)
	e.do("POST", "/collections", `{"slug":"picks","name":"Picks"}`, auth, 201)
	e.do("POST", "/collections/picks/products", `{"product_ids":["`+p.ID+`"]}`, auth, 200)
	variant := "/products/" + p.ID + "/variants/" + p.Variants[0].ID
	for _, tc := range []struct {
		name, path string
		list       bool
		want       []string
	}{
		{"list summary", "/products", true, summaryKeys},
		{"list fields", "/products?fields=id,name,price_ranges", true, sorted("id", "name", "price_ranges")},
		{"list fields without id", "/products?fields=name", true, sorted("id", "name")},
		{"list asks for long fields", "/products?fields=description,media", true, sorted("id", "description", "media")},
		{"list duplicates count once", "/products?fields=name,name,id", true, sorted("id", "name")},
		{"collection summary", "/collections/picks/products", true, summaryKeys},
		{"collection fields", "/collections/picks/products?fields=name,image", true, sorted("id", "name", "image")},
		{"product full", "/products/" + p.ID, false, sorted("id", "name", "description", "category", "brand", "attributes",
			"media", "options", "status", "variants", "variant_count", "price_ranges", "availability", "version", "created_at", "updated_at")},
		{"product fields", "/products/" + p.ID + "?fields=name,variants", false, sorted("id", "name", "variants")},
		{"product image", "/products/" + p.ID + "?fields=image", false, sorted("id", "image")},
		{"product nested", "/products/" + p.ID + "?fields=variants.sku,variants.stock", false, sorted("id", "variants")},
		{"variant fields", variant + "?fields=sku,prices,barcode", false, sorted("id", "sku", "prices", "barcode")},
		{"variant omits what is empty", variant + "?fields=image", false, sorted("id")},
		{"sku fields", "/skus/SHOE-1?fields=sku,product", false, sorted("id", "sku", "product")},
		{"variant list fields", "/products/" + p.ID + "/variants?fields=sku,stock", true, sorted("id", "sku", "stock")},
		{"sku fields without product", "/skus/SHOE-1?fields=stock", false, sorted("id", "stock")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, b := e.do("GET", tc.path, "", nil, 200)
			if tc.list {
				var page struct{ Items []json.RawMessage }
				if err := json.Unmarshal(b, &page); err != nil || len(page.Items) != 1 {
					t.Fatalf("want one item, got %s (%v)", b, err)
				}
				b = page.Items[0]
			}
			if got := keysOf(t, b); !slices.Equal(got, tc.want) {
				t.Errorf("fields %v, want %v\nbody: %s", got, tc.want, b)
			}
		})
	}
	// variants.<field> selects those fields of every variant, id always.
	_, b = e.do("GET", "/products/"+p.ID+"?fields=variants.sku,variants.stock", "", nil, 200)
	var nested struct{ Variants []json.RawMessage }
	if json.Unmarshal(b, &nested); len(nested.Variants) != 1 || !slices.Equal(keysOf(t, nested.Variants[0]), sorted("id", "sku", "stock")) {
		t.Errorf("nested: %s", b)
	}
	// The summary's image is the first of media.
	_, b = e.do("GET", "/products?fields=image", "", nil, 200)
	var page struct {
		Items []struct{ Image catalog.Media }
	}
	if json.Unmarshal(b, &page); len(page.Items) != 1 || page.Items[0].Image.URL != "https://img.example/1.jpg" {
		t.Errorf("image: %s", b)
	}
}

// TestFieldsETags: a projection has its own strong ETag, the same for the same set however it
// is spelled, different from the full body's and other sets'; it revalidates to 304 and still
// works as If-Match.
func TestFieldsETags(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("POST", "/products", leanProduct, auth, 201)
	p := decode[catalog.Product](t, b)
	base := "/products/" + p.ID
	full, _ := e.do("GET", base, "", nil, 200)
	nameID, b1 := e.do("GET", base+"?fields=name,id", "", nil, 200)
	idName, b2 := e.do("GET", base+"?fields=id,name,name", "", nil, 200)
	brand, _ := e.do("GET", base+"?fields=brand", "", nil, 200)
	tFull, tName, tName2, tBrand := full.Header.Get("ETag"), nameID.Header.Get("ETag"), idName.Header.Get("ETag"), brand.Header.Get("ETag")
	if tName != tName2 || string(b1) != string(b2) {
		t.Errorf("the same field set gave %s %s / %s %s", tName, b1, tName2, b2)
	}
	if tName == tFull || tName == tBrand || strings.HasPrefix(tName, "W/") {
		t.Errorf("tags must differ per field set and stay strong: full %s, name %s, brand %s", tFull, tName, tBrand)
	}
	for _, who := range []map[string]string{nil, auth} { // the public path and the versions shortcut
		h := map[string]string{"If-None-Match": tName}
		for k, v := range who {
			h[k] = v
		}
		resp, _ := e.do("GET", base+"?fields=id,name", "", h, 304)
		if resp.Header.Get("ETag") != tName {
			t.Errorf("304 carries %s, want %s", resp.Header.Get("ETag"), tName)
		}
		// The full body's tag does not validate a projection, nor the reverse.
		e.do("GET", base+"?fields=name", "", map[string]string{"If-None-Match": tFull, "Authorization": who["Authorization"]}, 200)
		e.do("GET", base, "", map[string]string{"If-None-Match": tName, "Authorization": who["Authorization"]}, 200)
	}
	// Whole variants and some of their fields are different bodies, so different tags.
	whole, _ := e.do("GET", base+"?fields=variants", "", nil, 200)
	some, _ := e.do("GET", base+"?fields=variants.sku", "", nil, 200)
	if whole.Header.Get("ETag") == some.Header.Get("ETag") {
		t.Errorf("variants and variants.sku share %s", whole.Header.Get("ETag"))
	}
	e.do("GET", base+"?fields=variants.sku", "", map[string]string{"If-None-Match": some.Header.Get("ETag")}, 304)
	e.do("GET", base+"?fields=variants", "", map[string]string{"If-None-Match": some.Header.Get("ETag")}, 200)
	// Variant and SKU reads qualify their product's tag the same way.
	vpath := base + "/variants/" + p.Variants[0].ID + "?fields=sku"
	vr, _ := e.do("GET", vpath, "", nil, 200)
	e.do("GET", vpath, "", map[string]string{"If-None-Match": vr.Header.Get("ETag")}, 304)
	sr, _ := e.do("GET", "/skus/SHOE-1?fields=sku", "", nil, 200)
	if sr.Header.Get("ETag") == tFull {
		t.Errorf("a SKU projection has the full tag %s", tFull)
	}
	e.do("GET", "/skus/SHOE-1?fields=sku", "", map[string]string{"If-None-Match": sr.Header.Get("ETag")}, 304)
	// A projection's tag is good for If-Match: it names the product version.
	e.do("PATCH", base, `{"brand":"Other"}`, map[string]string{"Authorization": "Bearer " + key, "If-Match": tName}, 200)
	e.do("PATCH", base, `{"brand":"Again"}`, map[string]string{"Authorization": "Bearer " + key, "If-Match": tName}, 412)
}

// TestFieldsRefused: every bad fields= is a 400 naming fields, never a 500, and an unknown
// name is named with the valid ones listed.
func TestFieldsRefused(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("POST", "/products", leanProduct, auth, 201)
	p := decode[catalog.Product](t, b)
	routes := []string{"/products", "/collections/none/products", "/products/" + p.ID,
		"/products/" + p.ID + "/variants/" + p.Variants[0].ID, "/skus/SHOE-1", "/products/" + p.ID + "/variants"}
	many := strings.Repeat("name,", 33)
	for _, tc := range []struct{ name, query, mention string }{
		{"unknown", "fields=id,colour", `"colour" is not a field here (valid: id, `},
		{"empty", "fields=", "at least one field"},
		{"empty name", "fields=id,,name", "empty field name"},
		{"spaces are not trimmed", "fields=id,%20name", `" name"`},
		{"twice", "fields=id&fields=name", "given once"},
		{"too many", "fields=" + many[:len(many)-1], "at most 32 fields"},
		{"too long", "fields=" + strings.Repeat("a", 513), "at most 512 bytes"},
		{"nested unknown", "fields=variants.colour", `"variants.colour"`},
		{"case", "fields=Name", `"Name"`},
	} {
		for _, route := range routes {
			t.Run(tc.name+" "+route, func(t *testing.T) {
				_, b := e.do("GET", route+"?"+tc.query, "", nil, 400)
				var body struct {
					Error struct{ Fields []catalog.FieldError }
				}
				if err := json.Unmarshal(b, &body); err != nil || len(body.Error.Fields) == 0 {
					t.Fatalf("body %s (%v)", b, err)
				}
				f := body.Error.Fields[0]
				if f.Field != "fields" || !strings.Contains(f.Problem, tc.mention) {
					t.Errorf("got %+v, want field fields mentioning %q", f, tc.mention)
				}
			})
		}
	}
	// Route by route, only its own fields are valid.
	for _, tc := range []struct{ path, field string }{
		{"/products?fields=variants", "variants"},
		{"/products/" + p.ID + "?fields=product", "product"},
		{"/products/" + p.ID + "/variants/" + p.Variants[0].ID + "?fields=product", "product"},
		{"/skus/SHOE-1?fields=description", "description"},
	} {
		_, b := e.do("GET", tc.path, "", nil, 400)
		if !strings.Contains(string(b), `\"`+tc.field+`\" is not a field here`) {
			t.Errorf("%s: %s", tc.path, b)
		}
	}
}

// FuzzFieldsQuery sends arbitrary fields= values (raw, as a client could put them in the URL)
// to a list and the single reads: the answer is a 200 whose bodies carry only names the value
// listed (and id), or a 400 naming fields; never a 5xx.
func FuzzFieldsQuery(f *testing.F) {
	store, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	ctx := context.Background()
	store.CreateCategory(ctx, catalog.CategoryInput{Slug: "kitchen", Name: "Kitchen"})
	var in catalog.ProductInput
	if err := json.Unmarshal([]byte(leanProduct), &in); err != nil {
		f.Fatal(err)
	}
	in.Normalize()
	p, err := store.CreateProduct(ctx, in)
	if err != nil {
		f.Fatal(err)
	}
	srv := httpapi.New(httpapi.Options{Store: store, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	for _, s := range []string{"id", "name,price_ranges", "", ",", "variants.sku", "name,,", "%00", "%C3%A9,%FF", "a%2Cb",
		strings.Repeat("id,", 40), "product,sku", "image,media,description"} {
		f.Add(s)
	}
	paths := []string{"/products", "/products/" + p.ID, "/products/" + p.ID + "/variants/" + p.Variants[0].ID, "/skus/SHOE-1",
		"/products/" + p.ID + "/variants"}
	f.Fuzz(func(t *testing.T, raw string) {
		if strings.ContainsAny(raw, "#& \t\r\n") || strings.ContainsFunc(raw, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			return // not a query value a client can send unescaped
		}
		for _, path := range paths {
			req := httptest.NewRequest("GET", path+"?fields="+raw, nil)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			switch rec.Code {
			case 200:
				asked, _ := url.QueryUnescape(raw)
				names := strings.Split(asked, ",")
				b := rec.Body.Bytes()
				if path == "/products" || strings.HasSuffix(path, "/variants") {
					var page struct{ Items []json.RawMessage }
					json.Unmarshal(b, &page)
					if len(page.Items) != 1 {
						t.Fatalf("%s?fields=%s: %s", path, raw, b)
					}
					b = page.Items[0]
				}
				for _, k := range keysOf(t, b) {
					if k != "id" && !slices.Contains(names, k) && !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, k+".") }) {
						t.Fatalf("%s?fields=%s carries %s: %s", path, raw, k, b)
					}
				}
			case 400:
				if !strings.Contains(rec.Body.String(), `"field":"fields"`) && !strings.Contains(rec.Body.String(), `"field":"query"`) {
					t.Fatalf("%s?fields=%s: 400 without naming fields: %s", path, raw, rec.Body)
				}
			default:
				t.Fatalf("%s?fields=%s: %d %s", path, raw, rec.Code, rec.Body)
			}
		}
	})
}
