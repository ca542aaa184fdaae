package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/catalog/api"
	"github.com/acme/catalog/internal/apitest"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/importer"
	"github.com/acme/catalog/internal/sqlite"
)

const key = "test-key-0123456789abcdef"

type env struct {
	t      *testing.T
	url    string
	client *http.Client
	srv    *httpapi.Server
	store  catalog.Store
	m      *httpapi.Metrics
}

func newEnv(t *testing.T) *env { t.Helper(); return newEnvWith(t, nil) }

// newEnvWith is newEnv with options changed by change.
func newEnvWith(t *testing.T, change func(*httpapi.Options)) *env {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keys, err := httpapi.NewKeys([]string{"old-key-0123456789abcdef", key})
	if err != nil {
		t.Fatal(err)
	}
	m := httpapi.NewMetrics()
	imports := importer.New(store, importer.Config{Dir: t.TempDir(), BatchSize: 2})
	importCtx, stopImports := context.WithCancel(context.Background())
	imports.Start(importCtx)
	t.Cleanup(func() { stopImports(); _ = imports.Stop(context.Background()) })
	opts := httpapi.Options{Store: store, Keys: keys, OpenAPI: api.OpenAPI, Metrics: m,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Imports: imports}
	if change != nil {
		change(&opts)
	}
	srv := httpapi.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{t: t, url: ts.URL, client: apitest.Client(t), srv: srv, store: store, m: m}
	e.do("POST", "/categories", `{"slug":"kitchen","name":"Kitchen"}`, auth, 201)
	return e
}

var auth = map[string]string{"Authorization": "Bearer " + key}

// do sends a request and checks the status; it returns the response with its body read.
func (e *env) do(method, path, body string, headers map[string]string, want int) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, resp.StatusCode, want, b)
	}
	return resp, b
}

func with(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// mug is a product with one variant (no options); mugOwn is its own fields, the body of a PUT.
const (
	mug    = `{"name":"Mug","category":"kitchen","status":"active","variants":[{"sku":"MUG-1","prices":[{"currency":"USD","amount":1299}]}]}`
	mugOwn = `{"name":"Mug","category":"kitchen","status":"active"}`
)

// product returns a one-variant product body with sku, named after it, priced amount USD.
func product(sku string, amount int) string {
	return `{"name":"` + sku + `","category":"kitchen","status":"active","variants":[{"sku":"` + sku +
		`","prices":[{"currency":"USD","amount":` + strconv.Itoa(amount) + `}]}]}`
}

// routePath fills a route pattern's path values: a product and its variant, and fixed values for
// the others.
func routePath(pattern, productID, variantID string) string {
	return strings.NewReplacer("{id}", productID, "{variantID}", variantID, "{sku}", "MUG-1", "{slug}", "kitchen",
		"{currency}", "USD", "{key}", "colour").Replace(pattern)
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// TestRoutesAreDocumented is the contract between the router and the OpenAPI document: every
// route is documented, every documented operation is routed, and Routes() matches the mux.
func TestRoutesAreDocumented(t *testing.T) {
	doc := apitest.Load(t)
	e := newEnv(t)
	routed := map[string]bool{}
	for _, r := range e.srv.Routes() {
		method, path, _ := strings.Cut(r, " ")
		routed[r] = true
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
		// The route really is served (not 404/405 from the mux).
		req := httptest.NewRequest(method, routePath(path, catalog.NewID(), catalog.NewID()), nil)
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		var body struct{ Error struct{ Code string } }
		json.Unmarshal(rec.Body.Bytes(), &body)
		if body.Error.Code == "method_not_allowed" || (rec.Code == 404 && strings.Contains(rec.Body.String(), "no route")) {
			t.Errorf("route %s is listed but not served (%d)", r, rec.Code)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !routed[method+" "+path] {
				t.Errorf("the document describes %s %s, which the server does not route", method, path)
			}
		}
	}
}

func TestProductLifecycle(t *testing.T) {
	e := newEnv(t)
	resp, b := e.do("POST", "/products", mug, auth, 201)
	p := decode[catalog.Product](t, b)
	if resp.Header.Get("Location") != "/products/"+p.ID || !strings.HasPrefix(resp.Header.Get("ETag"), `"1.`) ||
		len(p.Variants) != 1 || p.Variants[0].SKU != "MUG-1" || p.VariantCount != 1 {
		t.Fatalf("headers: %v", resp.Header)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Fatal("no request ID echoed")
	}
	resp, _ = e.do("GET", "/products/"+p.ID, "", nil, 200)
	tag := resp.Header.Get("ETag")
	if !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
		t.Fatalf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
	}
	e.do("GET", "/products/"+p.ID, "", map[string]string{"If-None-Match": tag}, 304)
	e.do("GET", "/skus/mug-1", "", map[string]string{"If-None-Match": `"9.9", ` + tag}, 304)
	e.do("GET", "/skus/mug-1", "", map[string]string{"If-None-Match": `"9.9"`}, 200)

	// PATCH with the current ETag, then the old one is stale.
	e.do("POST", "/attributes", `{"key":"size","name":"Size","type":"text"}`, auth, 201)
	resp, b = e.do("PATCH", "/products/"+p.ID, `{"name":"Big mug","attributes":{"size":"L"}}`, with(auth, "If-Match", tag), 200)
	q := decode[catalog.Product](t, b)
	if q.Name != "Big mug" || q.Attributes["size"] != "L" || len(q.Variants) != 1 || q.Variants[0].SKU != "MUG-1" || q.Version != 2 {
		t.Fatalf("patched: %+v", q)
	}
	e.do("PUT", "/products/"+p.ID, mugOwn, with(auth, "If-Match", tag), 412)
	// Variants are not replaced with their product: a 422 pointing at their routes.
	_, b = e.do("PUT", "/products/"+p.ID, mug, with(auth, "If-Match", resp.Header.Get("ETag")), 422)
	if !strings.Contains(string(b), `"field":"variants"`) {
		t.Fatalf("PUT with variants: %s", b)
	}
	e.do("PUT", "/products/"+p.ID, mugOwn, with(auth, "If-Match", resp.Header.Get("ETag")), 200)
	_, b = e.do("POST", "/products/"+p.ID+"/archive", "", auth, 200)
	if decode[catalog.Product](t, b).Status != catalog.StatusArchived {
		t.Fatal("not archived")
	}
	// Archived products leave the default list but stay readable.
	_, b = e.do("GET", "/products", "", nil, 200)
	if l := decode[struct{ Items []catalog.Product }](t, b); len(l.Items) != 0 {
		t.Fatalf("archived product listed by default: %d items", len(l.Items))
	}
	_, b = e.do("GET", "/products?status=all&total=true", "", auth, 200)
	if l := decode[struct{ Total int }](t, b); l.Total != 1 {
		t.Fatalf("status=all total = %d", l.Total)
	}
	e.do("DELETE", "/categories/kitchen", "", auth, 409)
	e.do("DELETE", "/products/"+p.ID, "", with(auth, "If-Match", `"1.1"`), 412)
	e.do("DELETE", "/products/"+p.ID, "", auth, 204)
	e.do("GET", "/products/"+p.ID, "", nil, 404)
	e.do("DELETE", "/categories/kitchen", "", auth, 204)
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	for name, h := range map[string]map[string]string{
		"no header":     nil,
		"wrong key":     {"Authorization": "Bearer not-the-key-0123456789"},
		"basic":         {"Authorization": "Basic dXNlcjpwYXNz"},
		"empty bearer":  {"Authorization": "Bearer "},
		"key as scheme": {"Authorization": key},
	} {
		resp, b := e.do("POST", "/products", mug, h, 401)
		if resp.Header.Get("WWW-Authenticate") == "" || !strings.Contains(string(b), `"unauthorized"`) {
			t.Errorf("%s: %v %s", name, resp.Header, b)
		}
	}
	// Either of the rotating keys works.
	e.do("POST", "/products", mug, map[string]string{"Authorization": "Bearer old-key-0123456789abcdef"}, 201)
	// Reads need no key.
	e.do("GET", "/products", "", nil, 200)
}

func TestNoKeysRefusesWrites(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv := httpapi.New(httpapi.Options{Store: store, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", "/categories", strings.NewReader(`{"slug":"a","name":"A"}`)))
	if rec.Code != 401 {
		t.Fatalf("status %d", rec.Code)
	}
}

// TestBadInput: every malformed request gets a 4xx with the JSON error shape naming the
// problem, never a 5xx, and nothing is written.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/products", mug, auth, 201)
	big := strings.Replace(product("BIG-1", 1), `"name"`, `"description":"`+strings.Repeat("a", httpapi.MaxBodyBytes)+`","name"`, 1)
	withPrice := func(price string) string {
		return strings.Replace(product("A-1", 1), `{"currency":"USD","amount":1}`, price, 1)
	}
	tests := []struct {
		name, method, path, body string
		headers                  map[string]string
		status                   int
		field                    string // the field the error must name, if any
	}{
		{"malformed json", "POST", "/products", `{"sku":`, auth, 400, "body"},
		{"not json", "POST", "/products", `sku=1`, auth, 400, "body"},
		{"empty body", "POST", "/products", ``, with(auth, "Content-Type", "application/json"), 400, "body"},
		{"trailing data", "POST", "/products", mug + `{}`, auth, 400, "body"},
		{"unknown field", "POST", "/products", `{"name":"A-1","colour":"red"}`, auth, 400, "colour"},
		{"wrong type", "POST", "/products", withPrice(`{"currency":"USD","amount":"12.99"}`), auth, 400, "variants[0].prices[0].amount"},
		{"float price", "POST", "/products", withPrice(`{"currency":"USD","amount":12.99}`), auth, 400, "variants[0].prices[0].amount"},
		{"negative price", "POST", "/products", withPrice(`{"currency":"USD","amount":-1}`), auth, 400, "variants[0].prices[0].amount"},
		{"bad currency", "POST", "/products", withPrice(`{"currency":"usd","amount":1}`), auth, 400, "variants[0].prices[0].currency"},
		{"bad sku", "POST", "/products", product("a b", 1), auth, 400, "variants[0].sku"},
		{"no variants", "POST", "/products", mugOwn, auth, 400, "variants"},
		{"two variants without options", "POST", "/products", strings.Replace(mug, `}]}]}`, `}]},{"sku":"MUG-2","prices":[{"currency":"USD","amount":1}]}]}`, 1), auth, 400, "variants"},
		{"unknown category", "POST", "/products", strings.Replace(product("A-1", 1), "kitchen", "garden", 1), auth, 400, "category"},
		{"duplicate sku", "POST", "/products", strings.Replace(mug, "MUG-1", "mug-1", 1), auth, 409, ""},
		{"array body", "POST", "/products", `[]`, auth, 400, "body"},
		{"too large", "POST", "/products", big, auth, 413, ""},
		{"media type", "POST", "/products", mug, with(auth, "Content-Type", "text/plain"), 415, ""},
		{"bad limit", "GET", "/products?limit=0", "", nil, 400, "limit"},
		{"huge limit", "GET", "/products?limit=1000", "", nil, 400, "limit"},
		{"limit not a number", "GET", "/products?limit=ten", "", nil, 400, "limit"},
		{"bad cursor", "GET", "/products?cursor=not-a-cursor", "", nil, 400, "cursor"},
		{"bad sort", "GET", "/products?sort=popularity", "", nil, 400, "sort"},
		{"bad status", "GET", "/products?status=sold", "", nil, 400, "status"},
		{"price without currency", "GET", "/products?min_price=10", "", nil, 400, "currency"},
		{"bad price", "GET", "/products?currency=USD&min_price=ten", "", nil, 400, "min_price"},
		{"min above max", "GET", "/products?currency=USD&min_price=10&max_price=5", "", nil, 400, "min_price"},
		{"bad in_stock", "GET", "/products?in_stock=maybe", "", nil, 400, "in_stock"},
		{"unknown parameter", "GET", "/products?catgory=kitchen", "", nil, 400, "catgory"},
		{"repeated parameter", "GET", "/products?limit=1&limit=2", "", nil, 400, "limit"},
		{"malformed query string", "GET", "/products?cursor=%%%", "", nil, 400, "query"},
		{"long query", "GET", "/products?q=" + strings.Repeat("a", 201), "", nil, 400, "q"},
		{"bad sku path", "GET", "/skus/a%20b", "", nil, 400, "sku"},
		{"unknown product", "GET", "/products/" + catalog.NewID(), "", nil, 404, ""},
		{"not an id", "GET", "/products/xyz", "", nil, 404, ""},
		{"bad if-match", "PUT", "/products/" + catalog.NewID(), mugOwn, with(auth, "If-Match", "yesterday"), 400, "If-Match"},
		{"weak if-match", "PUT", "/products/" + catalog.NewID(), mugOwn, with(auth, "If-Match", `W/"1.1"`), 400, "If-Match"},
		{"price sort without currency", "GET", "/products?sort=price", "", nil, 400, "currency"},
		{"undefined attribute filter", "GET", "/products?attr.colour=red", "", nil, 400, "attr.colour"},
		{"malformed attribute filter", "GET", "/products?attr.Colour=red", "", nil, 400, "attr.Colour"},
		{"empty patch category", "PATCH", "/categories/kitchen", `{}`, auth, 400, "name"},
		{"category cycle", "PATCH", "/categories/kitchen", `{"parent":"kitchen"}`, auth, 400, "parent"},
		{"bad slug", "POST", "/categories", `{"slug":"Kitchen Tools","name":"x"}`, auth, 400, "slug"},
		{"unknown route", "GET", "/nope", "", nil, 404, ""},
		{"unknown method", "PUT", "/products", mug, auth, 405, ""},
		{"null body", "POST", "/products", `null`, auth, 400, "name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			resp, b := e.do(tc.method, tc.path, tc.body, tc.headers, tc.status)
			var body struct {
				Error struct {
					Code, Message, RequestID string
					Fields                   []catalog.FieldError
				}
			}
			if err := json.Unmarshal(b, &body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
				t.Fatalf("not the JSON error shape: %s", b)
			}
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
			if tc.field != "" && !slices.ContainsFunc(body.Error.Fields, func(f catalog.FieldError) bool { return f.Field == tc.field }) {
				t.Fatalf("error does not name field %q: %s", tc.field, b)
			}
			if tc.status == 405 && resp.Header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
	e.t = t
	_, b := e.do("GET", "/products?status=all&total=true", "", auth, 200)
	if l := decode[struct{ Total int }](t, b); l.Total != 1 {
		t.Fatalf("bad requests wrote something: %d products", l.Total)
	}
}

func TestPagingThroughAPI(t *testing.T) {
	e := newEnv(t)
	for _, sku := range []string{"A-01", "A-02", "A-03", "A-04", "A-05"} {
		e.do("POST", "/products", product(sku, 100), auth, 201)
	}
	var got []string
	path := "/products?sort=oldest&limit=2"
	for range 10 {
		_, b := e.do("GET", path, "", nil, 200)
		l := decode[struct {
			Items      []catalog.Product
			NextCursor string `json:"next_cursor"`
		}](t, b)
		for _, p := range l.Items {
			got = append(got, p.Name)
		}
		if l.NextCursor == "" {
			break
		}
		path = "/products?sort=oldest&limit=2&cursor=" + l.NextCursor
	}
	if strings.Join(got, ",") != "A-01,A-02,A-03,A-04,A-05" {
		t.Fatalf("paged %v", got)
	}
	// A cursor from one order is refused by another.
	_, b := e.do("GET", "/products?sort=oldest&limit=2", "", nil, 200)
	c := decode[struct {
		NextCursor string `json:"next_cursor"`
	}](t, b).NextCursor
	e.do("GET", "/products?sort=name&limit=2&cursor="+c, "", nil, 400)
}

func TestHealthDrainAndMetrics(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/health", "", nil, 200)
	e.do("GET", "/ready", "", nil, 200)
	// The metrics are served on a port of their own, never the public one.
	e.do("GET", "/metrics", "", nil, 404)
	b := e.metrics()
	if !strings.Contains(string(b), `catalog_http_requests_total{method="GET",route="GET /health",status="200"} 1`) {
		t.Fatalf("metrics do not count the health check:\n%s", b)
	}
	e.do("GET", "/openapi.yaml", "", nil, 200)
	e.srv.Drain()
	e.do("GET", "/health", "", nil, 503)
	e.do("GET", "/ready", "", nil, 503)
	// Requests are still served while draining.
	e.do("GET", "/products", "", nil, 200)
}

func TestReadyFailsWhenStoreIsDown(t *testing.T) {
	e := newEnv(t)
	e.store.Close()
	e.do("GET", "/health", "", nil, 200)
	resp, _ := e.do("GET", "/ready", "", nil, 503)
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}

func TestRequestIDEchoed(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.do("GET", "/health", "", map[string]string{"X-Request-Id": "abc-123"}, 200)
	if resp.Header.Get("X-Request-Id") != "abc-123" {
		t.Fatalf("request ID %q", resp.Header.Get("X-Request-Id"))
	}
	resp, _ = e.do("GET", "/health", "", map[string]string{"X-Request-Id": "bad id with spaces"}, 200)
	if id := resp.Header.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
		t.Fatalf("unsafe request ID echoed: %q", id)
	}
}

// metrics returns what the metrics port would serve.
func (e *env) metrics() []byte {
	rec := httptest.NewRecorder()
	e.m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.Bytes()
}
