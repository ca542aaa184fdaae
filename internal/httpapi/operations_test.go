package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// TestEveryOperationSucceedsAsDocumented walks the route table in an order that makes each
// step possible and sends each route a valid request: every operation's success answer (its
// status, headers and body) is validated against the OpenAPI document by the contract client,
// and a route without a step here fails, so a new operation cannot ship undocumented or
// untried.
func TestEveryOperationSucceedsAsDocumented(t *testing.T) {
	e := newEnv(t)
	var p catalog.Product
	var added catalog.Variant
	var reservations [2]string
	var hookID string
	var job string
	from := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	type step struct {
		route, path, body string
		status            int
		after             func(b []byte)
	}
	steps := []step{
		{"GET /health", "/health", "", 200, nil},
		{"GET /ready", "/ready", "", 200, nil},
		{"GET /openapi.yaml", "/openapi.yaml", "", 200, nil},
		{"POST /attributes", "/attributes", `{"key":"colour","name":"Colour","type":"enum","values":["red","blue"],"filterable":true}`, 201, nil},
		{"GET /attributes", "/attributes", "", 200, nil},
		{"GET /attributes/{key}", "/attributes/colour", "", 200, nil},
		{"PUT /attributes/{key}", "/attributes/colour", `{"name":"Colour","type":"enum","values":["red","blue","green"],"filterable":true}`, 200, nil},
		{"POST /categories", "/categories", `{"slug":"cups","name":"Cups","parent":"kitchen"}`, 201, nil},
		{"GET /categories", "/categories", "", 200, nil},
		{"GET /categories/{slug}", "/categories/cups", "", 200, nil},
		{"PATCH /categories/{slug}", "/categories/cups", `{"name":"Cups and mugs"}`, 200, nil},
		{"POST /products", "/products", strings.Replace(tee, `"status":"active",`, `"status":"active","attributes":{"colour":"red"},`, 1), 201,
			func(b []byte) { p = decode[catalog.Product](t, b) }},
		{"GET /products", "/products?attr.colour=red&currency=USD&sort=price", "", 200, nil},
		{"GET /products/{id}", "/products/{id}", "", 200, nil},
		{"PUT /products/{id}", "/products/{id}", `{"name":"Tee","category":"kitchen","status":"active","attributes":{"colour":"blue"},
			"options":[{"name":"Size","values":["S","M","L","XL"]},{"name":"Colour","values":["Red","Blue"]}]}`, 200, nil},
		{"PATCH /products/{id}", "/products/{id}", `{"brand":"Acme"}`, 200, nil},
		{"POST /collections", "/collections", `{"slug":"picks","name":"Picks"}`, 201, nil},
		{"GET /collections", "/collections", "", 200, nil},
		{"GET /collections/{slug}", "/collections/picks", "", 200, nil},
		{"PATCH /collections/{slug}", "/collections/picks", `{"name":"Top picks"}`, 200, nil},
		{"PUT /collections/{slug}/products", "/collections/picks/products", `{"product_ids":["{id}"]}`, 200, nil},
		{"POST /collections/{slug}/products", "/collections/picks/products", `{"product_ids":["{id}"],"position":0}`, 200, nil},
		{"GET /collections/{slug}/products", "/collections/picks/products", "", 200, nil},
		{"DELETE /collections/{slug}/products/{id}", "/collections/picks/products/{id}", "", 200, nil},
		{"DELETE /collections/{slug}", "/collections/picks", "", 204, nil},
		{"GET /skus/{sku}", "/skus/tee-s-red", "", 200, nil},
		{"GET /products/{id}/variants", "/products/{id}/variants", "", 200, nil},
		{"POST /products/{id}/variants", "/products/{id}/variants",
			`{"sku":"TEE-XL-RED","options":{"Size":"XL","Colour":"Red"},"prices":[{"currency":"USD","amount":1600}]}`, 201,
			func(b []byte) { added = decode[catalog.Variant](t, b) }},
		{"GET /products/{id}/variants/{variantID}", "{variant}", "", 200, nil},
		{"PATCH /products/{id}/variants/{variantID}", "{variant}", `{"weight_grams":150}`, 200, nil},
		{"GET /products/{id}/variants/{variantID}/stock", "{variant}/stock", "", 200, nil},
		{"POST /products/{id}/variants/{variantID}/stock/adjustments", "{variant}/stock/adjustments", `{"delta":10,"reason":"received"}`, 201, nil},
		{"GET /products/{id}/variants/{variantID}/stock/movements", "{variant}/stock/movements", "", 200, nil},
		{"PUT /products/{id}/variants/{variantID}/prices/{currency}", "{variant}/prices/EUR", `{"amount":1100}`, 200, nil},
		{"PUT /products/{id}/variants/{variantID}/prices/{currency}", "{variant}/prices/USD", `{"amount":900,"valid_from":"` + from + `"}`, 202, nil},
		{"GET /products/{id}/variants/{variantID}/prices", "{variant}/prices", "", 200, nil},
		{"POST /batch/stock", "/batch/stock", `{"lines":[{"sku":"TEE-S-RED","delta":3,"reason":"received"},{"sku":"tee-l-blue","delta":1,"reason":"returned","note":"box 4"}]}`, 200, nil},
		{"POST /batch/stock", "/batch/stock", `{"lines":[{"sku":"TEE-S-RED","delta":-3,"reason":"count_correction"},{"sku":"TEE-L-BLUE","delta":-1,"reason":"lost"}]}`, 200, nil},
		{"POST /batch/prices", "/batch/prices", `{"lines":[{"sku":"TEE-S-RED","currency":"GBP","amount":990},{"sku":"TEE-XL-RED","currency":"USD","amount":1500,"valid_from":"` + from + `"}]}`, 200, nil},
		{"DELETE /products/{id}/variants/{variantID}/prices/{currency}", "{variant}/prices/EUR", "", 200, nil},
		{"POST /reservations", "/reservations", `{"lines":[{"sku":"TEE-S-RED","quantity":1}]}`, 201,
			func(b []byte) { reservations[0] = decode[catalog.Reservation](t, b).ID }},
		{"POST /reservations", "/reservations", `{"lines":[{"sku":"TEE-S-RED","quantity":1}]}`, 201,
			func(b []byte) { reservations[1] = decode[catalog.Reservation](t, b).ID }},
		{"GET /reservations/{id}", "/reservations/{r0}", "", 200, nil},
		{"POST /reservations/{id}/commit", "/reservations/{r0}/commit", "", 200, nil},
		{"POST /reservations/{id}/release", "/reservations/{r1}/release", "", 200, nil},
		{"DELETE /products/{id}/variants/{variantID}", "{added}", "", 204, nil},
		{"POST /products/{id}/archive", "/products/{id}/archive", "", 200, nil},
		{"DELETE /attributes/{key}", "/attributes/colour", "", 409, nil}, // in use: refused, documented
		{"DELETE /products/{id}", "/products/{id}", "", 409, nil},        // units on hand: refused, documented
		{"DELETE /categories/{slug}", "/categories/cups", "", 204, nil},
		{"GET /events", "/events?after=0&types=catalog.stock.changed&limit=10", "", 200, nil},
		// Webhooks: an IP literal, public, so the URL check needs no DNS.
		{"POST /webhooks", "/webhooks", `{"url":"https://93.184.215.14/hooks","event_types":["catalog.stock.changed"]}`, 201,
			func(b []byte) { hookID = decode[catalog.Webhook](t, b).ID }},
		{"GET /webhooks", "/webhooks?limit=10", "", 200, nil},
		{"GET /webhooks/{id}", "/webhooks/{w}", "", 200, nil},
		{"PATCH /webhooks/{id}", "/webhooks/{w}", `{"enabled":false,"event_types":null}`, 200, nil},
		{"POST /webhooks/{id}/rotate-secret", "/webhooks/{w}/rotate-secret", "", 200, nil},
		{"GET /webhooks/{id}/deliveries", "/webhooks/{w}/deliveries?limit=5", "", 200, nil},
		{"DELETE /webhooks/{id}", "/webhooks/{w}", "", 204, nil},
		{"GET /exports", "/exports?category=kitchen", "", 200, nil},
		{"POST /imports", "/imports?dry_run=true", "handle,name,category,status,sku,price.USD\nmug,Mug,kitchen,active,MUG-1,900\n", 202,
			func(b []byte) { job = decode[catalog.ImportJob](t, b).ID }},
		{"GET /imports/{id}", "/imports/{job}", "", 200, nil},
	}
	tried := map[string]bool{}
	for _, st := range steps {
		method, _, _ := strings.Cut(st.route, " ")
		path := strings.NewReplacer("{variant}", "/products/{id}/variants/{vid}", "{added}", "/products/{id}/variants/{aid}").Replace(st.path)
		path = strings.NewReplacer("{id}", p.ID, "{vid}", firstVariant(p), "{aid}", added.ID, "{r0}", reservations[0], "{r1}", reservations[1], "{w}", hookID, "{job}", job).Replace(path)
		body := strings.ReplaceAll(st.body, "{id}", p.ID)
		headers := auth
		if st.route == "POST /imports" {
			headers = map[string]string{"Authorization": auth["Authorization"], "Content-Type": "text/csv"}
		}
		_, b := e.do(method, path, body, headers, st.status)
		if st.after != nil {
			st.after(b)
		}
		tried[st.route] = true
	}
	// The last refusals made room: with the stock out, both deletes go through.
	e.do("POST", "/products/"+p.ID+"/variants/"+firstVariant(p)+"/stock/adjustments", `{"delta":-14,"reason":"count_correction"}`, auth, 201)
	e.do("POST", "/products/"+p.ID+"/variants/"+p.Variants[1].ID+"/stock/adjustments", `{"delta":-2,"reason":"count_correction"}`, auth, 201)
	e.do("DELETE", "/products/"+p.ID, "", auth, 204)
	e.do("DELETE", "/attributes/colour", "", auth, 204)
	for _, route := range e.srv.Routes() {
		if !tried[route] {
			t.Errorf("%s has no step in this test: add one with the status its success answers", route)
		}
	}
}

func firstVariant(p catalog.Product) string {
	if len(p.Variants) == 0 {
		return ""
	}
	return p.Variants[0].ID
}
