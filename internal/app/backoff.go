package app

import "time"

// Backoff is the wait before attempt+1 after attempt (from 1) failed: base doubled per
// attempt, capped at limit, with "equal jitter": a uniform draw in [d/2, d). Half the delay is
// kept so attempts never come in bursts; the other half is spread so tasks started together
// do not retry in lockstep against a database that is just coming up. jitter is a number in
// [0, 1) (rand.Float64); values outside are clamped, so the result stays within bounds.
func Backoff(attempt int, base, limit time.Duration, jitter float64) time.Duration {
	if base <= 0 || limit <= 0 {
		return 0
	}
	d := base
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2 // stops at the cap, so it never overflows
	}
	d = min(d, limit)
	jitter = min(max(jitter, 0), 1)
	return d/2 + time.Duration(jitter*float64(d/2))
}
