package webhook

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/acme/catalog/internal/egress"
)

func TestSendSignsAndClassifies(t *testing.T) {
	secret := NewSecret()
	at := time.Unix(1700000000, 0)
	var status int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := Verify(r.Header, body, secret, at); err != nil {
			t.Errorf("receiver cannot verify: %v", err)
		}
		if r.Header.Get("webhook-id") != "evt_1" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", r.Header)
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	policy := egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllowHTTP: true}
	s := Sender{Client: policy.Client(2 * time.Second), Now: func() time.Time { return at }}
	m := Message{ID: "evt_1", URL: srv.URL, Body: []byte(`{"type":"catalog.product.created"}`), Secrets: []Secret{secret}}
	for _, tt := range []struct {
		status    int
		ok, retry bool
		gone      bool
	}{
		{200, true, false, false},
		{204, true, false, false},
		{410, false, false, true},
		{429, false, true, false},
		{500, false, true, false},
		{404, false, true, false},
		{301, false, true, false}, // redirects are not followed: a failed attempt
	} {
		status = tt.status
		o := s.Send(context.Background(), m)
		if o.OK() != tt.ok || o.Retry != tt.retry || o.Gone != tt.gone || o.Status != tt.status {
			t.Errorf("status %d: outcome %+v", tt.status, o)
		}
	}
	// A strict policy never reaches the loopback receiver.
	strict := Sender{Client: egress.Policy{}.Client(time.Second)}
	if o := strict.Send(context.Background(), m); o.OK() || o.Status != 0 || !o.Retry {
		t.Errorf("strict policy: %+v", o)
	}
}

func TestNextAttempt(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	start := time.Unix(1700000000, 0)
	prevMax := time.Duration(0)
	for attempt := 1; attempt <= 30; attempt++ {
		step := min(FirstRetry<<min(attempt-1, 19), MaxRetryDelay)
		for range 50 {
			at, disable := NextAttempt(attempt, start, start, rnd)
			d := at.Sub(start)
			if disable || d < step/2 || d > step {
				t.Fatalf("attempt %d: delay %s outside [%s, %s]", attempt, d, step/2, step)
			}
		}
		if step < prevMax {
			t.Fatalf("attempt %d: step %s shrank", attempt, step)
		}
		prevMax = step
	}
	if _, disable := NextAttempt(3, start, start.Add(DisableAfter), rnd); !disable {
		t.Fatal("a subscription failing for a day is not disabled")
	}
	if _, disable := NextAttempt(3, start, start.Add(DisableAfter-time.Second), rnd); disable {
		t.Fatal("disabled early")
	}
}
