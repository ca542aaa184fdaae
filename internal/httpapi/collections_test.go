package httpapi_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// newProducts creates n active products through the API and returns their IDs.
func (e *env) newProducts(n int, status string) []string {
	e.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		body := fmt.Sprintf(`{"name":"Item %d","category":"kitchen","status":%q,"variants":[{"sku":"C-%s-%d","prices":[{"currency":"USD","amount":%d}]}]}`,
			i, status, status, i, 100+i)
		_, b := e.do("POST", "/products", body, auth, 201)
		ids[i] = decode[catalog.Product](e.t, b).ID
	}
	return ids
}

func idsJSON(ids ...string) string {
	return `{"product_ids":["` + strings.Join(ids, `","`) + `"]}`
}

// listed returns the IDs of every page of path, following next_cursor.
func (e *env) listed(path string, headers map[string]string) []string {
	e.t.Helper()
	var ids []string
	for next := path; ; {
		_, b := e.do("GET", next, "", headers, 200)
		page := decode[struct {
			Items      []catalog.Product `json:"items"`
			NextCursor string            `json:"next_cursor"`
		}](e.t, b)
		for _, p := range page.Items {
			ids = append(ids, p.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		next = path + sep + "cursor=" + url.QueryEscape(page.NextCursor)
	}
}

func TestCollectionsThroughAPI(t *testing.T) {
	e := newEnv(t)
	ids := e.newProducts(4, "active")
	draft := e.newProducts(1, "draft")[0]

	resp, b := e.do("POST", "/collections", `{"slug":"flash-sale","name":"Flash sale","description":"Today only"}`, auth, 201)
	if resp.Header.Get("Location") != "/collections/flash-sale" || resp.Header.Get("ETag") != `"1"` {
		t.Fatalf("create: Location %q ETag %q", resp.Header.Get("Location"), resp.Header.Get("ETag"))
	}
	if c := decode[catalog.Collection](t, b); c.Slug != "flash-sale" || c.Name != "Flash sale" || c.Version != 1 || c.ProductCount != 0 {
		t.Fatalf("create answered %+v", c)
	}
	e.do("POST", "/collections", `{"slug":"flash-sale","name":"Again"}`, auth, 409)
	e.do("POST", "/collections", `{"slug":"Flash Sale","name":"x"}`, auth, 400)
	e.do("POST", "/collections", `{"slug":"flash-sale"}`, nil, 401)

	// Replace the list; the response is the collection with its new ETag.
	resp, b = e.do("PUT", "/collections/flash-sale/products", idsJSON(ids[2], draft, ids[0]), map[string]string{"Authorization": auth["Authorization"], "If-Match": `"1"`}, 200)
	if c := decode[catalog.Collection](t, b); c.Version != 2 || c.ProductCount != 3 || resp.Header.Get("ETag") != `"2"` {
		t.Fatalf("after PUT: %+v, ETag %s", c, resp.Header.Get("ETag"))
	}
	e.do("PUT", "/collections/flash-sale/products", idsJSON(ids[1]), map[string]string{"Authorization": auth["Authorization"], "If-Match": `"1"`}, 412)

	// Shoppers see the active members in order; a reader key sees the draft too.
	if got, want := e.listed("/collections/flash-sale/products", nil), []string{ids[2], ids[0]}; !slices.Equal(got, want) {
		t.Fatalf("public list = %v, want %v", got, want)
	}
	if got, want := e.listed("/collections/flash-sale/products?status=all", auth), []string{ids[2], draft, ids[0]}; !slices.Equal(got, want) {
		t.Fatalf("status=all = %v, want %v", got, want)
	}
	e.do("GET", "/collections/flash-sale/products?status=all", "", nil, 403)
	// The same list through GET /products.
	if got, want := e.listed("/products?collection=flash-sale&limit=1", nil), []string{ids[2], ids[0]}; !slices.Equal(got, want) {
		t.Fatalf("GET /products?collection = %v, want %v", got, want)
	}

	// Insert at the front, move to the end, remove.
	e.do("POST", "/collections/flash-sale/products", `{"product_ids":["`+ids[3]+`","`+ids[1]+`"],"position":0}`, auth, 200)
	e.do("POST", "/collections/flash-sale/products", idsJSON(ids[2]), auth, 200)
	if got, want := e.listed("/collections/flash-sale/products?limit=1", nil), []string{ids[3], ids[1], ids[0], ids[2]}; !slices.Equal(got, want) {
		t.Fatalf("after moves = %v, want %v", got, want)
	}
	_, b = e.do("DELETE", "/collections/flash-sale/products/"+ids[1], "", auth, 200)
	if c := decode[catalog.Collection](t, b); c.ProductCount != 4 { // the draft is still a member
		t.Fatalf("after removing one: %+v", c)
	}
	e.do("DELETE", "/collections/flash-sale/products/"+ids[1], "", auth, 404)
	if got, want := e.listed("/collections/flash-sale/products?sort=name", nil), []string{ids[0], ids[2], ids[3]}; !slices.Equal(got, want) {
		t.Fatalf("by name = %v, want %v", got, want)
	}

	// Conditional reads and the merge patch.
	resp, _ = e.do("GET", "/collections/flash-sale", "", nil, 200)
	tag := resp.Header.Get("ETag")
	e.do("GET", "/collections/flash-sale", "", map[string]string{"If-None-Match": tag}, 304)
	patchHeaders := map[string]string{"Authorization": auth["Authorization"], "If-Match": tag}
	_, b = e.do("PATCH", "/collections/flash-sale", `{"name":"Flash sale!","description":null}`, patchHeaders, 200)
	if c := decode[catalog.Collection](t, b); c.Name != "Flash sale!" || c.Description != "" {
		t.Fatalf("after patch: %+v", c)
	}
	e.do("PATCH", "/collections/flash-sale", `{"name":"Stale"}`, patchHeaders, 412)
	e.do("PATCH", "/collections/flash-sale", `{"name":null}`, auth, 400)
	for _, tag := range []string{`"3.1"`, `W/"3"`, `3`, `"0"`, `"3", "4"`} {
		_, b := e.do("PATCH", "/collections/flash-sale", `{"name":"x"}`, map[string]string{"Authorization": auth["Authorization"], "If-Match": tag}, 400)
		if !strings.Contains(string(b), `"field":"If-Match"`) {
			t.Errorf("If-Match %s: %s does not name If-Match", tag, b)
		}
	}
	e.do("PATCH", "/collections/flash-sale", `{"slug":"other"}`, auth, 400)

	_, b = e.do("GET", "/collections", "", nil, 200)
	if l := decode[struct{ Items []catalog.Collection }](t, b); len(l.Items) != 1 || l.Items[0].Slug != "flash-sale" {
		t.Fatalf("GET /collections = %s", b)
	}

	// Deleting the collection keeps its products.
	e.do("DELETE", "/collections/flash-sale", "", map[string]string{"Authorization": auth["Authorization"], "If-Match": `"1"`}, 412)
	e.do("DELETE", "/collections/flash-sale", "", auth, 204)
	e.do("GET", "/collections/flash-sale", "", nil, 404)
	e.do("GET", "/products/"+ids[0], "", nil, 200)
}

func TestCollectionRefusalsThroughAPI(t *testing.T) {
	e := newEnv(t)
	ids := e.newProducts(2, "active")
	e.do("POST", "/collections", `{"slug":"picks","name":"Picks"}`, auth, 201)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"unknown product", "PUT", "/collections/picks/products", idsJSON(ids[0], catalog.NewID()), 422, "product_ids[1]"},
		{"repeated product", "PUT", "/collections/picks/products", idsJSON(ids[0], ids[1], ids[0]), 422, "product_ids[2]"},
		{"unknown product added", "POST", "/collections/picks/products", idsJSON(catalog.NewID()), 422, "product_ids[0]"},
		{"not an ID", "POST", "/collections/picks/products", idsJSON("MUG-1"), 400, "product_ids[0]"},
		{"no IDs to add", "POST", "/collections/picks/products", `{"product_ids":[]}`, 400, "product_ids"},
		{"missing product_ids", "PUT", "/collections/picks/products", `{}`, 400, "product_ids"},
		{"null product_ids", "PUT", "/collections/picks/products", `{"product_ids":null}`, 400, "product_ids"},
		{"position on PUT", "PUT", "/collections/picks/products", `{"product_ids":[],"position":1}`, 400, "position"},
		{"negative position", "POST", "/collections/picks/products", `{"product_ids":["` + ids[0] + `"],"position":-1}`, 400, "position"},
		{"fractional position", "POST", "/collections/picks/products", `{"product_ids":["` + ids[0] + `"],"position":1.5}`, 400, "position"},
		{"too many IDs", "PUT", "/collections/picks/products", `{"product_ids":[` + strings.TrimSuffix(strings.Repeat(`"x",`, catalog.MaxMembershipWrite+1), ",") + `]}`, 400, "product_ids"},
		{"unknown collection", "PUT", "/collections/nope/products", idsJSON(ids[0]), 404, ""},
		{"unknown collection listed", "GET", "/collections/nope/products", "", 404, "collection"},
		{"collection twice", "GET", "/collections/picks/products?collection=other", "", 400, "collection"},
		{"position without a collection", "GET", "/products?sort=position", "", 400, "sort"},
		{"bad collection slug", "GET", "/products?collection=Not%20A%20Slug", "", 400, "collection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, b := e.do(tc.method, tc.path, tc.body, auth, tc.status)
			if tc.field != "" && !strings.Contains(string(b), `"field":"`+tc.field+`"`) {
				t.Fatalf("%s %s: %s does not name %s", tc.method, tc.path, b, tc.field)
			}
		})
	}
	// 1,000 IDs, the most one request may carry, pass the decoder (and fail as unknown).
	many := make([]string, catalog.MaxMembershipWrite)
	for i := range many {
		many[i] = catalog.NewID()
	}
	e.do("PUT", "/collections/picks/products", idsJSON(many...), auth, 422)
	_, b := e.do("GET", "/collections/picks", "", nil, 200)
	if c := decode[catalog.Collection](t, b); c.Version != 1 || c.ProductCount != 0 {
		t.Fatalf("refused writes changed the collection: %+v", c)
	}
}
