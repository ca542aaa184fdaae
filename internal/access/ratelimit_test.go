package access

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock               { return &fakeClock{t: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)} }
func allowN(l *Limiter, key string, n int) int {
	ok := 0
	for range n {
		if l.Allow(key).Allowed {
			ok++
		}
	}
	return ok
}

// A flash sale: one client hammering is refused once its burst is spent while another client
// still gets through, and the hot one recovers at the configured rate.
func TestLimiterHotClientDoesNotStarveOthers(t *testing.T) {
	clock := newClock()
	l := NewLimiter(Limit{Rate: 10, Burst: 20}, 1000, clock.now)
	if got := allowN(l, "203.0.113.1", 100); got != 20 {
		t.Fatalf("hot client: %d of 100 allowed at once, want the burst of 20", got)
	}
	d := l.Allow("203.0.113.1")
	if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 100*time.Millisecond || d.Remaining != 0 {
		t.Fatalf("hot client's refusal: %+v", d)
	}
	if got := allowN(l, "198.51.100.2", 5); got != 5 {
		t.Fatalf("a quiet client got %d of 5 while another was refused", got)
	}
	clock.add(time.Second)
	if got := allowN(l, "203.0.113.1", 100); got != 10 {
		t.Fatalf("after 1s the hot client got %d, want the rate of 10", got)
	}
}

func TestLimiterHeaders(t *testing.T) {
	clock := newClock()
	lim := Limit{Rate: 5, Burst: 10}
	l := NewLimiter(lim, 10, clock.now)
	allowN(l, "a", 4)
	h := http.Header{}
	SetRateLimitHeaders(h, "per-address", lim, l.Allow("a"))
	if got := h.Get("RateLimit-Policy"); got != `"per-address";q=10;w=2` {
		t.Errorf("RateLimit-Policy = %s", got)
	}
	if got := h.Get("RateLimit"); got != `"per-address";r=5;t=1` {
		t.Errorf("RateLimit = %s", got)
	}
	if h.Get("Retry-After") != "" {
		t.Error("Retry-After on an allowed request")
	}
	allowN(l, "a", 10)
	h = http.Header{}
	SetRateLimitHeaders(h, "per-address", lim, l.Allow("a"))
	if got := h.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1 (200ms rounded up)", got)
	}
	if got := h.Get("RateLimit"); got != `"per-address";r=0;t=2` {
		t.Errorf("RateLimit when refused = %s", got)
	}
}

// A flood of distinct addresses cannot grow the table past its cap; idle buckets go first.
func TestLimiterTableIsBounded(t *testing.T) {
	clock := newClock()
	l := NewLimiter(Limit{Rate: 1, Burst: 2}, 1000, clock.now)
	for i := range 50_000 {
		l.Allow("10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256))
		if l.Len() > 1000 {
			t.Fatalf("%d buckets after %d addresses; the cap is 1000", l.Len(), i+1)
		}
	}
	// The most recent clients keep their state: the last address is still spent.
	last := "10.0." + strconv.Itoa(49_999/256) + "." + strconv.Itoa(49_999%256)
	allowN(l, last, 1)
	if l.Allow(last).Allowed {
		t.Fatal("a recent client's bucket was evicted")
	}
	clock.add(3 * time.Second) // long enough for every bucket to refill
	l.Sweep()
	if l.Len() != 0 {
		t.Fatalf("%d idle buckets left after Sweep", l.Len())
	}
}

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]Limit{"50/s:100": {50, 100}, "600/m:50": {10, 50}, "3600/h:1": {1, 1}, "off": {}, "0": {}} {
		if got, err := ParseLimit(in); err != nil || got != want {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "50", "50/s", "50/d:1", "-1/s:1", "1/s:0", "x/s:1", "1/s:x", "NaN/s:1", "Inf/s:1"} {
		if _, err := ParseLimit(in); err == nil {
			t.Errorf("ParseLimit(%q) accepted", in)
		}
	}
}

// TestRateLimitFieldsShareNothingMutable: the policy field is shared by every answer and the
// RateLimit value may live in a request's storage; a second decision written to the same
// answer appends to both fields without changing the first values, and two answers never see
// each other's values.
func TestRateLimitFieldsShareNothingMutable(t *testing.T) {
	lim, err := ParseLimit("10/s:10")
	if err != nil {
		t.Fatal(err)
	}
	l := NewLimiter(lim, 10, func() time.Time { return time.Unix(0, 0) })
	f := NewRateLimitFields("per-address", lim)
	var slot [1]string
	h1, h2 := http.Header{}, http.Header{}
	f.Set(h1, l.Allow("a"), &slot)
	first := slices.Clone(h1["Ratelimit"])
	f.Set(h1, l.Allow("a"), &slot)
	f.Set(h2, l.Allow("b"), nil)
	if got := h1["Ratelimit"]; len(got) != 2 || got[0] != first[0] || got[0] == got[1] {
		t.Fatalf("RateLimit after two decisions = %q; want %q then the second", got, first)
	}
	if got := h1["Ratelimit-Policy"]; len(got) != 2 || got[0] != `"per-address";q=10;w=1` {
		t.Fatalf("RateLimit-Policy = %q", got)
	}
	if h2["Ratelimit-Policy"][0] != `"per-address";q=10;w=1` || len(h2["Ratelimit-Policy"]) != 1 {
		t.Fatalf("the shared policy value changed: %q", h2["Ratelimit-Policy"])
	}
	want := http.Header{}
	SetRateLimitHeaders(want, "per-address", lim, Decision{Allowed: true, Remaining: 9, Reset: 100 * time.Millisecond})
	if want["Ratelimit"][0] != `"per-address";r=9;t=1` {
		t.Fatalf("SetRateLimitHeaders = %q", want["Ratelimit"])
	}
}
