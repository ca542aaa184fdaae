package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

func TestInventoryAndReservationsThroughAPI(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("POST", "/products", mug, auth, 201)
	p := decode[catalog.Product](t, b)
	_, b = e.do("POST", "/products", product("MUG-2", 1299), auth, 201)
	p2 := decode[catalog.Product](t, b)
	v, v2 := variantPath(p), variantPath(p2)

	_, b = e.do("POST", v+"/stock/adjustments", `{"delta":10,"reason":"received","note":"PO-7"}`, with(auth, "Idempotency-Key", "adj-1"), 201)
	m := decode[catalog.Movement](t, b)
	if m.OnHand != 10 || !strings.HasPrefix(m.Actor, "apikey:") || strings.Contains(m.Actor, key) {
		t.Fatalf("movement %+v", m)
	}
	// The retry replays: still 10 on hand.
	_, b = e.do("POST", v+"/stock/adjustments", `{"delta":10,"reason":"received","note":"PO-7"}`, with(auth, "Idempotency-Key", "adj-1"), 201)
	if decode[catalog.Movement](t, b).ID != m.ID {
		t.Fatal("retried adjustment applied twice")
	}
	e.do("POST", v+"/stock/adjustments", `{"delta":11,"reason":"received"}`, with(auth, "Idempotency-Key", "adj-1"), 422)
	e.do("POST", v+"/stock/adjustments", `{"delta":-11,"reason":"damaged"}`, auth, 409)
	e.do("POST", v2+"/stock/adjustments", `{"delta":2,"reason":"received"}`, auth, 201)

	// All or nothing: MUG-2 is short, so nothing is held and the answer names it.
	_, b = e.do("POST", "/reservations", `{"lines":[{"sku":"MUG-1","quantity":3},{"sku":"mug-2","quantity":5}]}`, auth, 409)
	short := decode[struct {
		Error struct {
			Code      string
			Shortages []catalog.Shortage
		}
	}](t, b)
	if short.Error.Code != "insufficient_stock" || len(short.Error.Shortages) != 1 || short.Error.Shortages[0].SKU != "MUG-2" {
		t.Fatalf("shortage answer %s", b)
	}
	_, b = e.do("GET", v+"/stock", "", nil, 200)
	if st := decode[catalog.Stock](t, b); st.Reserved != 0 || st.Available != 10 {
		t.Fatalf("stock after a failed reservation: %s", b)
	}

	resp, b := e.do("POST", "/reservations", `{"lines":[{"sku":"MUG-1","quantity":3},{"sku":"MUG-2","quantity":2}],"ttl_seconds":600}`, with(auth, "Idempotency-Key", "res-1"), 201)
	r := decode[catalog.Reservation](t, b)
	if resp.Header.Get("Location") != "/reservations/"+r.ID || r.Status != "held" {
		t.Fatalf("reservation %s", b)
	}
	_, b = e.do("POST", "/reservations", `{"lines":[{"sku":"MUG-1","quantity":3},{"sku":"MUG-2","quantity":2}],"ttl_seconds":600}`, with(auth, "Idempotency-Key", "res-1"), 201)
	if decode[catalog.Reservation](t, b).ID != r.ID {
		t.Fatal("retried reservation held twice")
	}
	e.do("GET", "/reservations/"+r.ID, "", auth, 200)
	e.do("GET", "/reservations/"+r.ID, "", nil, 401)
	e.do("POST", "/reservations/"+r.ID+"/commit", "", with(auth, "Idempotency-Key", "c-1"), 200)
	e.do("POST", "/reservations/"+r.ID+"/commit", "", with(auth, "Idempotency-Key", "c-1"), 200) // replay
	e.do("POST", "/reservations/"+r.ID+"/commit", "", auth, 409)                                 // not twice
	e.do("POST", "/reservations/"+r.ID+"/release", "", auth, 409)
	e.do("POST", "/reservations/"+catalog.NewID()+"/release", "", auth, 404)
	_, b = e.do("GET", "/products/"+p.ID, "", nil, 200)
	if st := decode[catalog.Product](t, b).Variants[0].Stock; st.OnHand != 7 || st.Reserved != 0 {
		t.Fatalf("after commit: %+v", st)
	}
	_, b = e.do("GET", v+"/stock/movements?limit=2", "", auth, 200)
	ml := decode[struct {
		Items      []catalog.Movement
		NextBefore int64 `json:"next_before"`
	}](t, b)
	if len(ml.Items) != 2 || ml.Items[0].Kind != "commit" || ml.NextBefore == 0 {
		t.Fatalf("movements %s", b)
	}

	for _, bad := range []struct{ path, body string }{
		{"/reservations", `{"lines":[]}`},
		{"/reservations", `{"lines":[{"sku":"MUG-1","quantity":0}]}`},
		{"/reservations", `{"lines":[{"sku":"MUG-1","quantity":1},{"sku":"mug-1","quantity":1}]}`},
		{"/reservations", `{"lines":[{"sku":"MUG-1","quantity":1}],"ttl_seconds":5}`},
		{"/reservations", `{"lines":[{"sku":"NOPE-9","quantity":1}]}`},
		{v + "/stock/adjustments", `{"delta":0,"reason":"received"}`},
		{v + "/stock/adjustments", `{"delta":1,"reason":"stolen"}`},
		{v + "/stock/adjustments", `{"delta":1.5,"reason":"received"}`},
	} {
		e.do("POST", bad.path, bad.body, auth, 400)
	}
	e.do("GET", v+"/stock/movements?limit=0", "", auth, 400)
}

// variantPath is the path of p's first variant.
func variantPath(p catalog.Product) string {
	return "/products/" + p.ID + "/variants/" + p.Variants[0].ID
}

func TestPricesThroughAPI(t *testing.T) {
	e := newEnv(t)
	resp, b := e.do("POST", "/products", mug, auth, 201)
	p := decode[catalog.Product](t, b)
	v := variantPath(p)
	resp, b = e.do("PUT", v+"/prices/USD", `{"amount":999}`, with(auth, "If-Match", resp.Header.Get("ETag")), 200)
	res := decode[struct {
		Variant catalog.Variant
		Price   catalog.PriceEntry
	}](t, b)
	if pr, _ := res.Variant.Price("USD"); pr.Amount != 999 || res.Price.AppliedAt == nil || !strings.HasPrefix(resp.Header.Get("ETag"), `"2.`) {
		t.Fatalf("set price: %s (ETag %s)", b, resp.Header.Get("ETag"))
	}
	// A second currency; the product's price ranges carry both.
	e.do("PUT", v+"/prices/EUR", `{"amount":899,"compare_at":1099}`, auth, 200)
	_, b = e.do("GET", "/products/"+p.ID, "", nil, 200)
	if got := decode[catalog.Product](t, b).PriceRanges; len(got) != 2 || got[0].Currency != "EUR" || got[1].Min != 999 {
		t.Fatalf("price ranges: %+v", got)
	}
	e.do("PUT", v+"/prices/USD", `{"amount":1}`, with(auth, "If-Match", `"1.1"`), 412)
	for body, field := range map[string]string{
		`{"amount":-1}`: "amount",
		`{"amount":1,"valid_from":"2001-01-01T00:00:00Z"}`:   "valid_from",
		`{"amount":1,"valid_from":"soon"}`:                   "valid_from",
		`{"amount":899,"valid_from":"2099-01-01T00:00:00Z"}`: "valid_from",
		`{"amount":5,"compare_at":5}`:                        "compare_at",
		`{"currency":"USD","amount":5}`:                      "currency",
		`{}`:                                                 "amount",
		`{"amount":5,"valid_until":"2001-01-01T00:00:00Z"}`:  "valid_until",
	} {
		_, b := e.do("PUT", v+"/prices/USD", body, auth, 400)
		if !strings.Contains(string(b), `"field":"`+field+`"`) {
			t.Errorf("PUT prices %s: the error does not name %s: %s", body, field, b)
		}
	}
	e.do("PUT", v+"/prices/usd", `{"amount":5}`, auth, 400)
	// Scheduled: 202, and nothing current changes.
	from := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	_, b = e.do("PUT", v+"/prices/USD", `{"amount":499,"valid_from":"`+from+`"}`, auth, 202)
	if res := decode[struct{ Price catalog.PriceEntry }](t, b); res.Price.AppliedAt != nil {
		t.Fatalf("scheduled price applied: %s", b)
	}
	// The public history shows what was current, never the scheduled line or who set prices.
	_, b = e.do("GET", v+"/prices?currency=USD", "", nil, 200)
	if h := decode[struct{ Items []catalog.PriceEntry }](t, b); len(h.Items) != 2 || h.Items[1].Price.Amount != 999 ||
		strings.Contains(string(b), "actor") || strings.Contains(string(b), `"amount":499`) {
		t.Fatalf("public history %s", b)
	}
	_, b = e.do("GET", v+"/prices", "", auth, 200)
	if h := decode[struct{ Items []catalog.PriceEntry }](t, b); len(h.Items) != 4 || h.Items[0].Actor == "" {
		t.Fatalf("private history %s", b)
	}
	e.do("GET", v+"/prices?currency=dollars", "", nil, 400)
	e.do("GET", v+"/prices?cur=USD", "", nil, 400)
	// Removing a price; the last one stays.
	_, b = e.do("DELETE", v+"/prices/EUR", "", auth, 200)
	if _, ok := decode[catalog.Variant](t, b).Price("EUR"); ok {
		t.Fatalf("EUR still priced: %s", b)
	}
	e.do("DELETE", v+"/prices/USD", "", auth, 409)
}

// TestReplaysAreCountedAsReplays: an idempotent retry of a reservation, a commit or a release
// is counted under its own outcome, not as a second reservation, commit or release.
func TestReplaysAreCountedAsReplays(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/products", product("RPL-1", 500), auth, 201)
	_, b := e.do("GET", "/skus/RPL-1", "", nil, 200)
	rv := decode[catalog.Variant](t, b)
	e.do("POST", "/products/"+rv.ProductID+"/variants/"+rv.ID+"/stock/adjustments", `{"delta":20,"reason":"received"}`, auth, 201)
	for _, lines := range []string{`[{"sku":"RPL-1","quantity":1}]`, `[{"sku":"RPL-1","quantity":2}]`} {
		body := `{"lines":` + lines + `}`
		_, b := e.do("POST", "/reservations", body, with(auth, "Idempotency-Key", "rpl-"+lines), 201)
		r := decode[catalog.Reservation](t, b)
		for range 2 {
			e.do("POST", "/reservations", body, with(auth, "Idempotency-Key", "rpl-"+lines), 201)
		}
		e.do("POST", "/reservations/"+r.ID+"/commit", "", with(auth, "Idempotency-Key", "c-"+r.ID), 200)
		e.do("POST", "/reservations/"+r.ID+"/commit", "", with(auth, "Idempotency-Key", "c-"+r.ID), 200)
	}
	b = e.metrics()
	for _, want := range []string{
		`catalog_reservations_total{outcome="reserved"} 2`,
		`catalog_reservations_total{outcome="reserve_replayed"} 4`,
		`catalog_reservations_total{outcome="committed"} 2`,
		`catalog_reservations_total{outcome="commit_replayed"} 2`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(string(b), "catalog_reservations_total"))
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestDeleteWithStockThroughAPI: deleting a product with units on hand is a 409 naming on_hand;
// with none it is a 204, and the note of its adjustments read back as its own field before.
func TestDeleteWithStockThroughAPI(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("POST", "/products", mug, auth, 201)
	p := decode[catalog.Product](t, b)
	v := variantPath(p)
	e.do("POST", v+"/stock/adjustments", `{"delta":4,"reason":"received","note":"PO 4711"}`, auth, 201)
	_, b = e.do("DELETE", "/products/"+p.ID, "", auth, 409)
	if !strings.Contains(string(b), `"field":"on_hand"`) {
		t.Fatalf("DELETE with stock on hand: %s, want the on_hand field named", b)
	}
	_, b = e.do("GET", v+"/stock/movements", "", auth, 200)
	if !strings.Contains(string(b), `"reason":"received","note":"PO 4711"`) {
		t.Fatalf("movements: %s, want reason and note apart", b)
	}
	e.do("POST", v+"/stock/adjustments", `{"delta":-4,"reason":"count_correction"}`, auth, 201)
	e.do("DELETE", "/products/"+p.ID, "", auth, 204)
}
