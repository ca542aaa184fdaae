package httpapi_test

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/egress"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/webhook"
)

type problemBody struct {
	Error struct {
		Code   string `json:"code"`
		Fields []struct {
			Field   string `json:"field"`
			Problem string `json:"problem"`
		} `json:"fields"`
	} `json:"error"`
}

func problemField(t *testing.T, b []byte) (code, field, problem string) {
	t.Helper()
	var p problemBody
	if err := json.Unmarshal(b, &p); err != nil || len(p.Error.Fields) == 0 {
		t.Fatalf("not an error naming a field: %s", b)
	}
	return p.Error.Code, p.Error.Fields[0].Field, p.Error.Fields[0].Problem
}

// TestWebhookURLRefusals: a URL the worker would never be allowed to call is refused when it
// is given (422 naming url), on create and on a change of URL; the allow-list admits its ranges
// (and, set, plain http).
func TestWebhookURLRefusals(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{
		"https://127.0.0.1/hook", "https://10.0.0.7/hook", "https://169.254.169.254/latest/meta-data",
		"https://[::1]/hook", "https://[::ffff:192.168.1.1]/hook", "https://localhost/hook", "https://100.64.0.1/x",
	} {
		_, b := e.do("POST", "/webhooks", `{"url":"`+u+`"}`, auth, 422)
		if code, field, _ := problemField(t, b); code != "unprocessable" || field != "url" {
			t.Errorf("POST /webhooks %s: %s on %s, want unprocessable on url", u, code, field)
		}
	}
	for _, u := range []string{"http://93.184.215.14/hook", "ftp://93.184.215.14/x", "https://user:pw@93.184.215.14/x", "/relative"} {
		_, b := e.do("POST", "/webhooks", `{"url":"`+u+`"}`, auth, 422)
		if _, field, _ := problemField(t, b); field != "url" {
			t.Errorf("POST /webhooks %s: field %s, want url", u, field)
		}
	}
	_, b := e.do("POST", "/webhooks", `{"url":"https://93.184.215.14/hook","event_types":["catalog.product.created","catalog.nope"]}`, auth, 400)
	if _, field, _ := problemField(t, b); field != "event_types" {
		t.Errorf("bad event type: field %s, want event_types", field)
	}
	e.do("POST", "/webhooks", `{"event_types":[]}`, auth, 400)
	e.do("POST", "/webhooks", `{"url":"https://93.184.215.14/hook","secret":"mine"}`, auth, 400)

	// A good subscription; then a change of URL to an internal address is refused the same way.
	_, b = e.do("POST", "/webhooks", `{"url":"https://93.184.215.14/hook"}`, auth, 201)
	h := decode[catalog.Webhook](t, b)
	_, b = e.do("PATCH", "/webhooks/"+h.ID, `{"url":"https://192.168.0.10/hook"}`, auth, 422)
	if _, field, _ := problemField(t, b); field != "url" {
		t.Errorf("PATCH url: field %s, want url", field)
	}
	e.do("PATCH", "/webhooks/"+h.ID, `{"colour":"red"}`, auth, 400)
	e.do("PATCH", "/webhooks/"+h.ID, `{"enabled":"yes"}`, auth, 400)
	e.do("PATCH", "/webhooks/"+h.ID, `{"cursor":-1}`, auth, 400)
	e.do("PATCH", "/webhooks/"+h.ID, `{"url":null}`, auth, 400)

	// With the allow-list, its range and plain http are admitted; other private ranges are not.
	allowed := newEnvWith(t, func(o *httpapi.Options) {
		o.Webhooks = httpapi.WebhookOptions{Policy: egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}, AllowHTTP: true}}
	})
	allowed.do("POST", "/webhooks", `{"url":"http://10.1.2.3:8080/hook"}`, auth, 201)
	allowed.do("POST", "/webhooks", `{"url":"http://10.2.2.3:8080/hook"}`, auth, 422)
	allowed.do("POST", "/webhooks", `{"url":"http://93.184.215.14/hook"}`, auth, 422) // clear text across the internet
	allowed.do("POST", "/webhooks", `{"url":"https://93.184.215.14/hook"}`, auth, 201)
}

// TestWebhookSecretShownOnce: the secret is in the create and rotate answers only, in the
// Standard Webhooks format, and a new one differs from the old.
func TestWebhookSecretShownOnce(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("POST", "/webhooks", `{"url":"https://93.184.215.14/hook","event_types":["catalog.stock.changed"]}`, auth, 201)
	var created struct {
		catalog.Webhook
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(b, &created); err != nil {
		t.Fatal(err)
	}
	if _, err := webhook.ParseSecret(created.Secret); err != nil || !strings.HasPrefix(created.Secret, "whsec_") {
		t.Fatalf("created secret %q: %v", created.Secret, err)
	}
	for _, path := range []string{"/webhooks/" + created.ID, "/webhooks"} {
		if _, b := e.do("GET", path, "", auth, 200); strings.Contains(string(b), "secret\"") || strings.Contains(string(b), created.Secret) {
			t.Errorf("GET %s shows the secret: %s", path, b)
		}
	}
	resp, b := e.do("POST", "/webhooks/"+created.ID+"/rotate-secret", "", auth, 200)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("rotate-secret Cache-Control %q, want no-store", cc)
	}
	var rotated struct {
		Secret                  string `json:"secret"`
		PreviousSecretExpiresAt string `json:"previous_secret_expires_at"`
	}
	if err := json.Unmarshal(b, &rotated); err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == created.Secret || rotated.PreviousSecretExpiresAt == "" {
		t.Errorf("rotation = %s, want a new secret and the old one's expiry", b)
	}
	e.do("POST", "/webhooks/"+catalog.NewID()+"/rotate-secret", "", auth, 404)
	e.do("GET", "/webhooks/"+created.ID+"/deliveries?before=0", "", auth, 400)
	e.do("GET", "/webhooks/"+created.ID+"/deliveries?limit=501", "", auth, 400)
	e.do("GET", "/webhooks/"+created.ID+"/deliveries?page=2", "", auth, 400)
	e.do("GET", "/webhooks/"+catalog.NewID()+"/deliveries", "", auth, 404)
	// Re-enabling through PATCH clears the reason.
	e.do("PATCH", "/webhooks/"+created.ID, `{"enabled":false}`, auth, 200)
	_, b = e.do("PATCH", "/webhooks/"+created.ID, `{"enabled":true}`, auth, 200)
	if h := decode[catalog.Webhook](t, b); !h.Enabled || h.DisabledReason != "" {
		t.Errorf("re-enabled: %s", b)
	}
	// Managing webhooks needs the catalog scope: without a key, 401.
	e.do("GET", "/webhooks", "", nil, 401)
}
