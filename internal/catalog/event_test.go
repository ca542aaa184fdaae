package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseEventQuery(t *testing.T) {
	q, err := ParseEventQuery("42", "catalog.product.created, catalog.stock.changed,catalog.product.created", "500")
	if err != nil || q.After != 42 || q.Limit != 500 || len(q.Types) != 2 {
		t.Fatalf("ParseEventQuery = %+v, %v", q, err)
	}
	if q, err := ParseEventQuery("", "", ""); err != nil || q.Limit != DefaultEventLimit || q.After != 0 {
		t.Fatalf("defaults = %+v, %v", q, err)
	}
	for _, bad := range [][3]string{{"-1", "", ""}, {"x", "", ""}, {"", "catalog.nope", ""}, {"", "\x00", ""}, {"", "", "0"}, {"", "", "1001"}} {
		_, err := ParseEventQuery(bad[0], bad[1], bad[2])
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalid || len(e.Fields) == 0 {
			t.Errorf("ParseEventQuery(%q) = %v, want an invalid-field error", bad, err)
		}
	}
}

func TestNewEventIsACloudEvent(t *testing.T) {
	ctx := WithActor(context.Background(), "backoffice")
	e, err := NewEvent(ctx, EventProductUpdated, "products/p1", 7, map[string]string{"id": "p1"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(e)
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, attr := range []string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data", "sequence", "actor", "entityversion"} {
		if _, ok := m[attr]; !ok {
			t.Errorf("attribute %s missing from %s", attr, b)
		}
	}
	if m["specversion"] != "1.0" || m["actor"] != "backoffice" || m["type"] != "catalog.product.updated" {
		t.Errorf("event %s", b)
	}
}

func TestFeedGoneNamesTheOldestCursor(t *testing.T) {
	var e *Error
	if err := FeedGone(10, 500); !errors.As(err, &e) || e.Code != CodeGone || e.Fields[0].Field != "after" {
		t.Fatalf("FeedGone = %v", err)
	}
}

// TestOrderKey: a variant's own, stock, applied-price and scheduled-price events share a
// subject but not a key (each counts its own version), prices split by currency, and every
// type's key names its subject.
func TestOrderKey(t *testing.T) {
	ctx := context.Background()
	v := "products/p/variants/v"
	ev := func(typ, subject string, data any) Event {
		t.Helper()
		e, err := NewEvent(ctx, typ, subject, 1, data)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	price := func(typ, currency string) Event {
		return ev(typ, v, PriceEvent{ProductID: "p", PriceEntry: PriceEntry{VariantID: "v", Price: Money{Currency: currency, Amount: 1}}})
	}
	keys := map[string]string{
		"variant":       ev(EventVariantUpdated, v, Variant{}).OrderKey(),
		"stock":         ev(EventStockChanged, v, StockLevel{}).OrderKey(),
		"price USD":     price(EventPriceChanged, "USD").OrderKey(),
		"price EUR":     price(EventPriceChanged, "EUR").OrderKey(),
		"scheduled USD": price(EventPriceScheduled, "USD").OrderKey(),
	}
	seen := map[string]string{}
	for name, k := range keys {
		if k == "" {
			t.Errorf("%s: no order key", name)
		}
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s share the order key %q", name, other, k)
		}
		seen[k] = name
	}
	if a, b := ev(EventVariantCreated, v, Variant{}).OrderKey(), ev(EventVariantDeleted, v, nil).OrderKey(); a != keys["variant"] || b != a {
		t.Errorf("a variant's created/updated/deleted keys differ: %q %q %q", a, keys["variant"], b)
	}
	for _, typ := range EventTypes {
		if k := ev(typ, "x/y", nil).OrderKey(); !strings.HasSuffix(k, " x/y") && !strings.HasSuffix(k, " x/y ") {
			t.Errorf("%s: order key %q does not name the subject", typ, k)
		}
	}
	if ReservationStateVersion(ReservationHeld) >= ReservationStateVersion(ReservationCommitted) ||
		ReservationStateVersion(ReservationReleased) != ReservationStateVersion(ReservationExpired) {
		t.Error("a reservation's finished states must be above its held state")
	}
}
