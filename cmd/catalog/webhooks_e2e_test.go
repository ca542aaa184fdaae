package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/apitest"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/webhook"
)

// TestWebhookEndToEnd: the real service, with WEBHOOK_ALLOW admitting the loopback receiver,
// delivers a write's event to a subscription, signed with the secret the create answered, and
// counts the delivery on the metrics port; without the allow-list the same URL is a 422.
func TestWebhookEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var secret webhook.Secret
	got := make(chan catalog.Event, 16)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		s := secret
		mu.Unlock()
		if err := webhook.Verify(r.Header, body, s, time.Now()); err != nil {
			t.Errorf("Verify = %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var e catalog.Event
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("body: %v", err)
		}
		got <- e
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.Close()

	in := start(t, map[string]string{"WEBHOOK_ALLOW": "127.0.0.1/32", "SEED_SAMPLE": "false"})
	c := apitest.Client(t)
	var created struct {
		catalog.Webhook
		Secret string `json:"secret"`
	}
	body := `{"url":"` + rc.URL + `/hook","event_types":["catalog.category.created"]}`
	json.Unmarshal(call(t, c, "POST", in.base+"/webhooks", body, true, 201), &created)
	s, err := webhook.ParseSecret(created.Secret)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	secret = s
	mu.Unlock()
	call(t, c, "POST", in.base+"/categories", `{"slug":"hooked","name":"Hooked"}`, true, 201)
	select {
	case e := <-got:
		if e.Type != catalog.EventCategoryCreated || e.Subject != "categories/hooked" {
			t.Errorf("delivered %s about %s", e.Type, e.Subject)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no delivery within 20s:\n%s", in.stdout)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b := call(t, http.DefaultClient, "GET", in.metrics+"/metrics", "", false, 200)
		if strings.Contains(string(b), `catalog_webhook_deliveries_total{outcome="delivered"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the metrics do not count the delivery:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var log catalog.DeliveryPage
	json.Unmarshal(call(t, c, "GET", in.base+"/webhooks/"+created.ID+"/deliveries", "", true, 200), &log)
	if len(log.Items) != 1 || log.Items[0].Outcome != catalog.DeliveryDelivered || log.Items[0].Status != 204 {
		t.Errorf("delivery log = %+v", log.Items)
	}

	plain := start(t, map[string]string{"SEED_SAMPLE": "false"})
	call(t, c, "POST", plain.base+"/webhooks", body, true, 422)
}
