package hooks_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/hooks"
)

// counting counts what the worker asks of its store: the claims and attempts it records
// (writes), the feed reads (a write on PostgreSQL, which numbers events first) and the
// subscription lists (reads).
type counting struct {
	hooks.Store
	claims, records, feeds, lists atomic.Int64
}

func (c *counting) ClaimWebhook(ctx context.Context, owner string, lease time.Duration) (catalog.Webhook, bool, error) {
	c.claims.Add(1)
	return c.Store.ClaimWebhook(ctx, owner, lease)
}

func (c *counting) RecordWebhookAttempt(ctx context.Context, id, owner string, a catalog.WebhookAttempt, lease time.Duration) (bool, error) {
	c.records.Add(1)
	return c.Store.RecordWebhookAttempt(ctx, id, owner, a, lease)
}

func (c *counting) Events(ctx context.Context, q catalog.EventQuery) (catalog.EventPage, error) {
	c.feeds.Add(1)
	return c.Store.Events(ctx, q)
}

func (c *counting) ListWebhooks(ctx context.Context, after string, limit int) (catalog.WebhookPage, error) {
	c.lists.Add(1)
	return c.Store.ListWebhooks(ctx, after, limit)
}

// TestIdleWorkerWritesNothing runs a worker polling every 10 ms: with no subscription, and
// with only a disabled one, it reads the subscriptions each poll and writes nothing (no claim,
// no attempt, no feed read); once an enabled subscription appears it delivers within a few
// polls; caught up, it reads the feed but claims nothing until the next event.
func TestIdleWorkerWritesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := open(t, nil)
		cs := &counting{Store: s}
		off := subscribe(t, s, newReceiver(t, time.Now, ok)) // its own receiver: each checks every secret it trusts
		rc := newReceiver(t, time.Now, ok)
		if _, err := s.UpdateWebhook(context.Background(), off.ID, catalog.WebhookPatch{Enabled: new(bool)}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			hooks.New(cs, hooks.Options{Poll: 10 * time.Millisecond, Client: loopback.Client(time.Second)}).Run(ctx)
		}()
		defer func() { cancel(); wg.Wait() }()

		writeCategories(t, s, "idle", 2) // events, but no enabled subscription wants them
		time.Sleep(300 * time.Millisecond)
		if lists := cs.lists.Load(); lists < 3 {
			t.Fatalf("the worker listed the subscriptions %d times in 300 ms polling every 10 ms; want it to keep looking", lists)
		}
		if claims, records, feeds := cs.claims.Load(), cs.records.Load(), cs.feeds.Load(); claims+records+feeds != 0 {
			t.Fatalf("an idle worker made %d claims, recorded %d attempts and read the feed %d times; want none", claims, records, feeds)
		}

		start := time.Now()
		subscribe(t, s, rc)
		writeCategories(t, s, "busy", 1)
		for len(rc.snapshot()) == 0 {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("nothing delivered %s after a subscription appeared (claims %d)", time.Since(start), cs.claims.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("first delivery %s after the subscription appeared", time.Since(start).Round(time.Millisecond))

		// Caught up: the worker reads the feed after the subscription's cursor each poll and
		// claims nothing while nothing new arrives.
		time.Sleep(200 * time.Millisecond)
		claims, records, feeds := cs.claims.Load(), cs.records.Load(), cs.feeds.Load()
		time.Sleep(300 * time.Millisecond)
		if c, r := cs.claims.Load()-claims, cs.records.Load()-records; c+r != 0 {
			t.Fatalf("a caught-up subscription was claimed %d times (%d attempts recorded) in 300 ms; want none", c, r)
		}
		if f := cs.feeds.Load() - feeds; f < 3 {
			t.Fatalf("the worker read the feed %d times in 300 ms with a subscription due; want it to keep looking", f)
		}
		if n := len(rc.snapshot()); n != 1 {
			t.Fatalf("%d deliveries, want 1", n)
		}
		writeCategories(t, s, "again", 1)
		for len(rc.snapshot()) < 2 {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("the event after catching up was not delivered")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}
