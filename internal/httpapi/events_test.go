package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

func TestEventFeed(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("POST", "/products", mug, auth, 201)
	p := decode[catalog.Product](t, b)

	_, b = e.do("GET", "/events", "", auth, 200)
	page := decode[catalog.EventPage](t, b)
	if len(page.Events) != 2 || page.Events[0].Type != catalog.EventCategoryCreated || page.Events[1].Type != catalog.EventProductCreated ||
		page.Events[1].Subject != "products/"+p.ID || page.Events[1].Actor == "" || page.Next == 0 {
		t.Fatalf("feed = %s", b)
	}
	// Following from next gives nothing new and keeps the cursor.
	_, b = e.do("GET", "/events?after="+page.Events[1].Sequence, "", auth, 200)
	if next := decode[catalog.EventPage](t, b); len(next.Events) != 0 || next.Next != page.Next {
		t.Fatalf("caught-up poll = %s", b)
	}
	_, b = e.do("GET", "/events?types=catalog.product.created&limit=1", "", auth, 200)
	if only := decode[catalog.EventPage](t, b); len(only.Events) != 1 || only.Events[0].Type != catalog.EventProductCreated {
		t.Fatalf("types filter = %s", b)
	}
	// The feed is private.
	e.do("GET", "/events", "", nil, 401)
	for q, field := range map[string]string{"after=-1": "after", "after=x": "after", "types=catalog.nope": "types", "limit=0": "limit",
		"limit=1001": "limit", "cursor=1": "cursor"} {
		_, b := e.do("GET", "/events?"+q, "", auth, 400)
		if !strings.Contains(string(b), `"field":"`+field+`"`) {
			t.Errorf("%s: %s", q, b)
		}
	}
}

func TestEventFeedGone(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/products", mug, auth, 201)
	// Purge everything (a zero retention keeps nothing older than now).
	time.Sleep(time.Millisecond)
	n, err := e.store.PurgeEvents(t.Context(), time.Nanosecond, 100)
	if err != nil || n != 2 {
		t.Fatalf("purged %d, %v", n, err)
	}
	_, b := e.do("GET", "/events?after=1", "", auth, 410)
	if !strings.Contains(string(b), `"code":"gone"`) || !strings.Contains(string(b), `"field":"after"`) {
		t.Fatalf("410 body = %s", b)
	}
	e.do("GET", "/events?after=2", "", auth, 200)
}
