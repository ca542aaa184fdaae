package catalog

import (
	"context"
	"encoding/json"
	"errors"
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
