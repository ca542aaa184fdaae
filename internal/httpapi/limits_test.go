package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/httpapi"
)

// A flash sale through the HTTP layer, with a fake clock: one hot client address is refused
// with 429 and the rate-limit fields while another address, and a keyed client, still get
// through; health checks are never limited.
func TestRateLimitsThroughAPI(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e := scopedEnv(t, func(o *httpapi.Options) {
		o.Limits = &httpapi.RateLimits{
			PerIP:            access.NewLimiter(access.Limit{Rate: 1, Burst: 3}, 100, clock),
			PerKey:           access.NewLimiter(access.Limit{Rate: 1, Burst: 2}, 100, clock),
			TrustedProxyHops: 1,
		}
	})
	hot := map[string]string{"X-Forwarded-For": "203.0.113.7"}
	for range 3 {
		e.do("GET", "/categories", "", hot, 200)
	}
	resp, b := e.do("GET", "/categories", "", hot, 429)
	if resp.Header.Get("Retry-After") != "1" || resp.Header.Get("RateLimit-Policy") != `"per-address";q=3;w=3` ||
		!strings.HasPrefix(resp.Header.Get("RateLimit"), `"per-address";r=0;`) || !strings.Contains(string(b), `"code":"rate_limited"`) {
		t.Fatalf("429: %v\n%s", resp.Header, b)
	}
	// A forged left-most entry does not make a new client.
	e.do("GET", "/categories", "", map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}, 429)
	// Paths with no route count too (a plain client: the document has no such path).
	req, _ := http.NewRequest("GET", e.url+"/nowhere", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 429 {
		t.Fatalf("an unrouted path from the hot address: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// Another shopper is served.
	e.do("GET", "/categories", "", map[string]string{"X-Forwarded-For": "198.51.100.1"}, 200)
	// The load balancer's checks are never refused.
	e.do("GET", "/health", "", hot, 200)
	e.do("GET", "/ready", "", hot, 200)
	// A keyed client from the hot address is limited by its key, not the address.
	checkout := with(bearer(scopedKeys[access.Checkout]), "X-Forwarded-For", "203.0.113.7")
	resp, _ = e.do("GET", "/categories", "", checkout, 200)
	if resp.Header.Get("RateLimit-Policy") != `"per-key";q=2;w=2` {
		t.Fatalf("keyed request's policy: %q", resp.Header.Get("RateLimit-Policy"))
	}
	e.do("GET", "/categories", "", checkout, 200)
	e.do("GET", "/categories", "", checkout, 429)
	// A bad key is limited by address (guessing keys costs the guesser's budget).
	e.do("GET", "/categories", "", with(bearer("wrong-key-0123456789abcdef"), "X-Forwarded-For", "203.0.113.7"), 429)

	now = now.Add(time.Second)
	e.do("GET", "/categories", "", hot, 200)
	if m := string(e.metrics()); !strings.Contains(m, `catalog_rate_limited_total{policy="per-address"} 4`) ||
		!strings.Contains(m, `catalog_rate_limited_total{policy="per-key"} 1`) {
		t.Fatalf("refusals not counted:\n%s", grepLines(m, "rate_limited"))
	}
}

// CORS: a preflight from an allowed origin is answered 204 with what it may send; one from
// another origin is refused and gets no CORS fields; responses vary by Origin.
func TestCORS(t *testing.T) {
	e := scopedEnv(t, func(o *httpapi.Options) {
		c, err := access.NewCORS([]string{"https://shop.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		o.CORS = c
	})
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", e.url+"/products", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := preflight("https://shop.example.com")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "" || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
		t.Fatalf("allowed preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp = preflight("https://evil.example.net")
	if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("disallowed preflight: %d %v", resp.StatusCode, resp.Header)
	}
	r, _ := e.do("GET", "/categories", "", map[string]string{"Origin": "https://shop.example.com"}, 200)
	if r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" || !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Origin") {
		t.Fatalf("simple request from an allowed origin: %v", r.Header)
	}
	r, _ = e.do("GET", "/categories", "", map[string]string{"Origin": "https://evil.example.net"}, 200)
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("a disallowed origin got %q", r.Header.Get("Access-Control-Allow-Origin"))
	}
	// Without CORS configured, OPTIONS is still answered (with Allow), never 405.
	plain := newEnv(t)
	req, _ := http.NewRequest("OPTIONS", plain.url+"/products/x", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Allow"), "PATCH") || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("plain OPTIONS: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestCORSRefusesStarWithOthers(t *testing.T) {
	if _, err := access.NewCORS([]string{"*", "https://shop.example.com"}); err == nil {
		t.Fatal(`"*" beside an origin accepted`)
	}
	for _, o := range []string{"shop.example.com", "https://shop.example.com/path", "ftp://x"} {
		if _, err := access.NewCORS([]string{o}); err == nil {
			t.Errorf("origin %q accepted", o)
		}
	}
}
