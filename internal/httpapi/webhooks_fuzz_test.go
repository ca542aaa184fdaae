package httpapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/egress"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/sqlite"
)

// FuzzWebhookBodies: no body to POST /webhooks or PATCH /webhooks/{id} gets a 5xx, and none
// leaves a subscription whose URL points at an address the policy refuses (the property the
// URL check exists for). Host names do not resolve here (a resolver that always fails), so
// only address literals can be accepted.
func FuzzWebhookBodies(f *testing.F) {
	store, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	h, err := store.CreateWebhook(context.Background(), catalog.WebhookInput{URL: "https://93.184.215.14/h"}, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		f.Fatal(err)
	}
	keys, _ := httpapi.NewKeys([]string{key})
	policy := egress.Policy{}
	noDNS := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in this test")
	}}
	srv := httpapi.New(httpapi.Options{Store: store, Keys: keys, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Webhooks: httpapi.WebhookOptions{Policy: policy, Resolver: noDNS}})
	for _, s := range []string{`{"url":"https://93.184.215.14/x"}`, `{"url":"https://127.0.0.1/x"}`, `{"url":"https://[::ffff:10.0.0.1]/"}`,
		`{"url":"https://0x7f.1/"}`, `{"url":"https://2130706433/"}`, `{"url":"https://[fd00:ec2::254]/"}`, `{"enabled":true,"cursor":5}`,
		`{"event_types":null}`, `{"event_types":["catalog.product.created"]}`, `{"url":null}`, `{`, `[]`, `{"url":"https://93.184.215.14:99999/"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, route := range []string{"POST /webhooks", "PATCH /webhooks/" + h.ID} {
			m, path, _ := strings.Cut(route, " ")
			req := httptest.NewRequest(m, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s with %q: %d %s", route, body, rec.Code, rec.Body)
			}
		}
		page, err := store.ListWebhooks(context.Background(), "", catalog.MaxWebhooks)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range page.Items {
			u, err := url.Parse(w.URL)
			if err != nil || u.Scheme != "https" {
				t.Fatalf("accepted %q", w.URL)
			}
			a, err := netip.ParseAddr(u.Hostname())
			if err != nil || !policy.Allowed(a) {
				t.Fatalf("accepted %q, which points at a refused or unresolvable host", w.URL)
			}
			if w.ID != h.ID {
				store.DeleteWebhook(context.Background(), w.ID) // stay under MaxWebhooks
			}
		}
	})
}
