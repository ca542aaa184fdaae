package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/apitest"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
)

// One key per scope, and the all-scopes legacy key newEnv creates categories with.
var scopedKeys = map[access.Scope]string{
	access.Read:      "reader-key-0123456789",
	access.Catalog:   "catalog-key-0123456789",
	access.Inventory: "inventory-key-0123456789",
	access.Checkout:  "checkout-key-0123456789",
}

func scopedEnv(t *testing.T, change func(*httpapi.Options)) *env {
	t.Helper()
	var d access.SecretDocument
	d.Keys = append(d.Keys, access.SecretKey{Name: "admin", Scopes: access.AllScopes.Names(), Key: key})
	for s, k := range scopedKeys {
		d.Keys = append(d.Keys, access.SecretKey{Name: s.String() + "-app", Scopes: []string{s.String()}, Key: k})
	}
	doc, _ := json.Marshal(d)
	set, err := access.ParseSecret(doc)
	if err != nil {
		t.Fatal(err)
	}
	return newEnvWith(t, func(o *httpapi.Options) {
		o.Keys = access.NewKeyring(set)
		if change != nil {
			change(o)
		}
	})
}

func bearer(k string) map[string]string { return map[string]string{"Authorization": "Bearer " + k} }

// send is do without a status check.
func (e *env) send(method, path, body string, headers map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	var b []byte
	b, _ = readAll(resp)
	return resp, b
}

// TestEveryRouteByKey is the access table: every route the server has (so a new one cannot be
// forgotten) with no key, a wrong key, a key without the scope the route needs and one with it.
func TestEveryRouteByKey(t *testing.T) {
	e := scopedEnv(t, nil)
	_, b := e.do("POST", "/products", mug, auth, 201)
	created := decode[catalog.Product](t, b)
	id, vid := created.ID, created.Variants[0].ID
	routes := e.srv.Routes()
	if len(routes) < 20 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		path = routePath(path, id, vid)
		rule := e.srv.RouteRule(route)
		body := ""
		if method == "POST" || method == "PUT" || method == "PATCH" {
			body = "{}"
		}
		var without, with string
		for s, k := range scopedKeys {
			if rule.Any&s == 0 && without == "" {
				without = k
			}
			if (rule.IsPublic() && s == access.Read) || rule.Any&s != 0 {
				with = k
			}
		}
		cases := []struct {
			name    string
			headers map[string]string
			want    int // 0: anything but 401 and 403
		}{
			{"no key", nil, 401},
			{"wrong key", bearer("wrong-key-0123456789abcdef"), 401},
			{"key without the scope", bearer(without), 403},
			{"key with the scope", bearer(with), 0},
		}
		if rule.IsPublic() {
			cases[0].want, cases[2].want = 0, 0
		}
		for _, c := range cases {
			target := path
			if method == "DELETE" && c.want == 0 {
				// A delete that gets through would take the fixtures from later rows: it names
				// nothing, and must get past the key check to answer 404.
				target = strings.NewReplacer(id, catalog.NewID(), vid, catalog.NewID(), "kitchen", "no-such-slug", "colour", "no_such_key").Replace(path)
			}
			resp, b := e.send(method, target, body, c.headers)
			switch {
			case c.want == 0 && (resp.StatusCode == 401 || resp.StatusCode == 403):
				t.Errorf("%s, %s: %d\n%s", route, c.name, resp.StatusCode, b)
			case c.want != 0 && resp.StatusCode != c.want:
				t.Errorf("%s, %s: %d, want %d\n%s", route, c.name, resp.StatusCode, c.want, b)
			case c.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer"):
				t.Errorf("%s, %s: 401 without WWW-Authenticate: Bearer", route, c.name)
			case c.want == 403:
				var eb struct {
					Error struct {
						MissingScopes []string `json:"missing_scopes"`
					}
				}
				json.Unmarshal(b, &eb)
				if !slices.Equal(eb.Error.MissingScopes, rule.Any.Names()) {
					t.Errorf("%s: 403 names scopes %v, want %v", route, eb.Error.MissingScopes, rule.Any.Names())
				}
			}
		}
	}
}

// TestRouteScopesAreDocumented: the OpenAPI document's security requirement of every operation
// names exactly the scopes the route table asks for (one alternative per scope); public routes
// have none.
func TestRouteScopesAreDocumented(t *testing.T) {
	doc := apitest.Load(t)
	e := newEnv(t)
	for _, route := range e.srv.Routes() {
		method, path, _ := strings.Cut(route, " ")
		op := doc.Paths.Find(path).GetOperation(method)
		if op == nil {
			t.Errorf("%s is not documented", route)
			continue
		}
		var documented []string
		if op.Security != nil {
			for _, req := range *op.Security {
				for scheme, scopes := range req {
					if scheme != "apiKey" || len(scopes) != 1 {
						t.Errorf("%s: requirement %v must name the apiKey scheme with one scope", route, req)
					}
					documented = append(documented, scopes...)
				}
			}
		}
		want := e.srv.RouteRule(route).Any.Names()
		slices.Sort(documented)
		slices.Sort(want)
		if !slices.Equal(documented, want) {
			t.Errorf("%s: the document asks for scopes %v, the server for %v", route, documented, want)
		}
	}
}

// A draft or archived product answers a caller without the read scope exactly as a missing
// one does, on every path that names it; status filters other than active need the scope.
func TestBackOfficeDataIsPrivate(t *testing.T) {
	e := scopedEnv(t, nil)
	reader := bearer(scopedKeys[access.Read])
	_, b := e.do("POST", "/products", strings.Replace(mug, `"active"`, `"draft"`, 1), auth, 201)
	draft := decode[catalog.Product](t, b)
	_, b = e.do("POST", "/products", strings.Replace(product("MUG-2", 1299), `"active"`, `"archived"`, 1), auth, 201)
	archived := decode[catalog.Product](t, b)
	missing := catalog.NewID()

	for _, p := range []catalog.Product{draft, archived} {
		v, sku := variantPath(p), p.Variants[0].SKU
		for _, path := range []string{"/products/" + p.ID, "/skus/" + sku, "/products/" + p.ID + "/variants", v, v + "/stock", v + "/prices"} {
			miss := strings.NewReplacer(p.ID, missing, sku, "NOPE-1").Replace(path)
			got, gb := e.do("GET", path, "", nil, 404)
			want, wb := e.do("GET", miss, "", nil, 404)
			if stripID(gb) != stripID(wb) {
				t.Errorf("GET %s (%s): %s; a missing one: %s", path, p.Status, gb, wb)
			}
			if g, w := headerNames(got.Header), headerNames(want.Header); !slices.Equal(g, w) {
				t.Errorf("GET %s: headers %v; a missing one: %v", path, g, w)
			}
			// With If-None-Match too (the version shortcut must not tell a draft from nothing).
			e.do("GET", path, "", map[string]string{"If-None-Match": `"1.1"`}, 404)
			e.do("GET", path, "", reader, 200)
		}
	}
	for _, q := range []string{"status=draft", "status=all", "status=active,archived", "status=archived"} {
		_, b := e.do("GET", "/products?"+q, "", nil, 403)
		if !strings.Contains(string(b), `"missing_scopes":["read"]`) {
			t.Errorf("status filter %s: %s", q, b)
		}
		e.do("GET", "/products?"+q, "", reader, 200)
	}
	_, b = e.do("GET", "/products?status=active", "", nil, 200)
	if strings.Contains(string(b), draft.ID) {
		t.Fatal("a draft is listed publicly")
	}
}

func TestPriceHistoryPublicView(t *testing.T) {
	e := scopedEnv(t, nil)
	_, b := e.do("POST", "/products", mug, auth, 201)
	p := decode[catalog.Product](t, b)
	next := time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339)
	v := variantPath(p)
	e.do("PUT", v+"/prices/USD", `{"amount":999,"valid_from":"`+next+`"}`, bearer(scopedKeys[access.Catalog]), 202)

	_, b = e.do("GET", v+"/prices", "", nil, 200)
	if strings.Contains(string(b), `"actor"`) || strings.Contains(string(b), "999") || !strings.Contains(string(b), "1299") {
		t.Fatalf("public price history shows a scheduled price or an actor, or not the current price: %s", b)
	}
	_, b = e.do("GET", v+"/prices", "", bearer(scopedKeys[access.Read]), 200)
	items := decode[struct{ Items []catalog.PriceEntry }](t, b).Items
	if len(items) != 2 || items[1].Actor != "catalog-app" || items[1].AppliedAt != nil {
		t.Fatalf("back-office price history: %+v", items)
	}
}

// An answer to a keyed request is never cacheable by a shared cache; a public one says it
// varies by Authorization.
func TestKeyedAnswersArePrivate(t *testing.T) {
	e := scopedEnv(t, nil)
	_, b := e.do("POST", "/products", mug, auth, 201)
	p := decode[catalog.Product](t, b)
	v := variantPath(p)
	for _, path := range []string{"/products", "/products/" + p.ID, "/skus/MUG-1", "/products/" + p.ID + "/variants", v, v + "/stock", v + "/prices", "/categories", "/attributes"} {
		resp, _ := e.do("GET", path, "", bearer(scopedKeys[access.Checkout]), 200)
		if cc := resp.Header.Get("Cache-Control"); cc != "private, no-store" {
			t.Errorf("GET %s with a key: Cache-Control %q", path, cc)
		}
		resp, _ = e.do("GET", path, "", nil, 200)
		if !slices.Contains(resp.Header.Values("Vary"), "Authorization") || strings.Contains(resp.Header.Get("Cache-Control"), "private") {
			t.Errorf("GET %s without a key: Vary %q, Cache-Control %q", path, resp.Header.Values("Vary"), resp.Header.Get("Cache-Control"))
		}
	}
}

func TestActorIsKeyName(t *testing.T) {
	e := scopedEnv(t, nil)
	_, b := e.do("POST", "/products", mug, auth, 201)
	p := decode[catalog.Product](t, b)
	_, b = e.do("POST", variantPath(p)+"/stock/adjustments", `{"delta":5,"reason":"received"}`, bearer(scopedKeys[access.Inventory]), 201)
	if m := decode[catalog.Movement](t, b); m.Actor != "inventory-app" {
		t.Fatalf("movement actor %q, want the key's name", m.Actor)
	}
}

func stripID(b []byte) string {
	var v map[string]map[string]any
	json.Unmarshal(b, &v)
	delete(v["error"], "request_id")
	out, _ := json.Marshal(v)
	return string(out)
}

func headerNames(h http.Header) []string {
	var out []string
	for k := range h {
		if k != "Date" && k != "X-Request-Id" && k != "Content-Length" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func readAll(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return []byte(sb.String()), nil
		}
	}
}
