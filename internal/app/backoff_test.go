package app

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	const base, limit = 250 * time.Millisecond, 10 * time.Second
	for _, tc := range []struct {
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{1, 0, 125 * time.Millisecond},
		{1, 0.5, 187500 * time.Microsecond},
		{1, 1, 250 * time.Millisecond},
		{2, 0, 250 * time.Millisecond},
		{3, 0.999999, 999999500 * time.Nanosecond},
		{6, 0, 4 * time.Second},              // 250ms * 2^5 = 8s
		{7, 0, 5 * time.Second},              // 16s, capped at 10s
		{7, 1, 10 * time.Second},             // never above the cap
		{1000, 0.5, 7500 * time.Millisecond}, // no overflow however long the wait
		{0, 0, 125 * time.Millisecond},       // attempt numbers below 1 count as the first
		{3, -3, 500 * time.Millisecond},      // jitter out of range is clamped
		{3, 7, time.Second},
	} {
		if got := Backoff(tc.attempt, base, limit, tc.jitter); got != tc.want {
			t.Errorf("Backoff(%d, 250ms, 10s, %v) = %s, want %s", tc.attempt, tc.jitter, got, tc.want)
		}
	}
	if got := Backoff(3, 0, limit, 0.5); got != 0 {
		t.Errorf("Backoff with no base = %s, want 0", got)
	}
}

// TestBackoffBounds: for any attempt and draw, the delay lies in [d/2, d] where d is the
// capped exponential, and the lower bound never falls as attempts grow.
func TestBackoffBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const base, limit = 250 * time.Millisecond, 10 * time.Second
	for range 100_000 {
		attempt := 1 + rng.IntN(200)
		j := rng.Float64()
		d := min(limit, base<<min(attempt-1, 20))
		got := Backoff(attempt, base, limit, j)
		if got < d/2 || got > d {
			t.Fatalf("Backoff(%d, jitter %v) = %s, outside [%s, %s]", attempt, j, got, d/2, d)
		}
		if lo, next := Backoff(attempt, base, limit, 0), Backoff(attempt+1, base, limit, 0); next < lo {
			t.Fatalf("the lower bound fell from %s to %s at attempt %d", lo, next, attempt)
		}
	}
}
