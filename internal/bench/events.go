package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/acme/catalog/internal/awsevents"
)

// lagTarget is the publish lag p99 the EventBridge relay aims for under load (ADR 0018).
const lagTarget = time.Second

// lagBus is the EventBridge the bench's services publish to (EVENT_BUS_NAME on, the publisher
// replaced): it accepts every event and records each one's lag, from its change to its
// acceptance, so the mixed load reports the relay's lag beside its request figures.
type lagBus struct {
	mu       sync.Mutex
	accepted []lagged
}

type lagged struct {
	changed time.Time
	lag     time.Duration
}

func (b *lagBus) Publish(_ context.Context, evs []awsevents.Event) (int, error) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range evs {
		b.accepted = append(b.accepted, lagged{changed: e.Time, lag: now.Sub(e.Time)})
	}
	return len(evs), nil
}

// note waits for the relay to catch up with the changes made since start, then reports their
// lag p50/p99 beside the target.
func (b *lagBus) note(ctx context.Context, start time.Time) string {
	var lags []time.Duration
	for settle := 0; settle < 20 && ctx.Err() == nil; settle++ {
		time.Sleep(100 * time.Millisecond) // the relay polls every 100 ms
		b.mu.Lock()
		n := len(lags)
		lags = lags[:0]
		for _, a := range b.accepted {
			if !a.changed.Before(start) {
				lags = append(lags, a.lag)
			}
		}
		b.mu.Unlock()
		if n == len(lags) && n > 0 {
			break // nothing new arrived: caught up
		}
	}
	if len(lags) == 0 {
		return "no event reached the bus"
	}
	slices.Sort(lags)
	p99 := lags[min(len(lags)-1, len(lags)*99/100)]
	return fmt.Sprintf("event publish lag p50 %s, p99 %s over %d events [target p99 < %s: %s]",
		round(lags[len(lags)/2]), round(p99), len(lags), lagTarget, verdict(p99 < lagTarget))
}
