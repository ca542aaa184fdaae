package access

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddr(t *testing.T) {
	for _, c := range []struct {
		name string
		xff  []string
		hops int
		want string
	}{
		{"no proxy trusted", []string{"203.0.113.9"}, 0, "10.0.0.5"},
		{"ALB", []string{"203.0.113.9"}, 1, "203.0.113.9"},
		{"ALB, forged left-most entry", []string{"198.51.100.66, 203.0.113.9"}, 1, "203.0.113.9"},
		{"ALB, forged entries in an earlier field", []string{"198.51.100.66", "203.0.113.9"}, 1, "203.0.113.9"},
		{"CloudFront and ALB", []string{"198.51.100.66, 203.0.113.9, 130.176.0.1"}, 2, "203.0.113.9"},
		{"fewer entries than hops", []string{"203.0.113.9"}, 2, "10.0.0.5"},
		{"no header", nil, 1, "10.0.0.5"},
		{"garbage entry", []string{"not-an-ip"}, 1, "10.0.0.5"},
		{"IPv6", []string{"2001:db8::1"}, 1, "2001:db8::1"},
		{"IPv4-mapped IPv6", []string{"::ffff:203.0.113.9"}, 1, "203.0.113.9"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.0.0.5:43210"
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ClientAddr(r, c.hops); got != c.want {
			t.Errorf("%s: ClientAddr = %q, want %q", c.name, got, c.want)
		}
	}
}

// FuzzClientAddr: whatever a client puts in X-Forwarded-For, with one trusted hop the address
// is the last entry (which the ALB wrote) or the peer, never anything to its left.
func FuzzClientAddr(f *testing.F) {
	f.Add("1.2.3.4, 5.6.7.8")
	f.Add(",,,")
	f.Fuzz(func(t *testing.T, forged string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.0.0.5:1"
		r.Header.Add("X-Forwarded-For", forged)
		r.Header.Add("X-Forwarded-For", "203.0.113.9")
		if got := ClientAddr(r, 1); got != "203.0.113.9" {
			t.Fatalf("forged %q moved the client address to %q", forged, got)
		}
	})
}
