package readcache

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestConfirmedEntrySkipsTheLookup: past its TTL an entry is served without a version lookup
// while a confirmation younger than the TTL holds, up to ConfirmedTTLs since it was stored; a
// stale confirmation, a Clear, or that many TTLs bring the lookup back.
func TestConfirmedEntrySkipsTheLookup(t *testing.T) {
	ctx := context.Background()
	t0 := time.Unix(1000, 0)
	setup := func(t *testing.T) (*Store, *sized, *time.Time) {
		inner := &sized{versions: map[string]int64{"p1": 1}}
		c := New(inner, time.Second, 1<<20)
		clock := t0
		c.now = func() time.Time { return clock }
		if _, err := c.Product(ctx, "p1"); err != nil {
			t.Fatal(err)
		}
		return c, inner, &clock
	}
	served := func(c *Store) bool {
		_, ok, _ := c.Memo(ctx, "p1", "k", func(d Doc) (any, error) { return d.Version, nil })
		return ok
	}
	tests := []struct {
		name    string
		act     func(c *Store, clock *time.Time) // from t0, the entry stored then
		lookups int                              // version lookups the read past the TTL makes
	}{
		{"confirmed within the TTL", func(c *Store, clock *time.Time) {
			*clock = t0.Add(1500 * time.Millisecond)
			c.Confirm(t0.Add(1200 * time.Millisecond))
		}, 0},
		{"confirmation older than the TTL", func(c *Store, clock *time.Time) {
			*clock = t0.Add(1500 * time.Millisecond)
			c.Confirm(t0.Add(400 * time.Millisecond))
		}, 1},
		{"never confirmed", func(c *Store, clock *time.Time) {
			*clock = t0.Add(1500 * time.Millisecond)
		}, 1},
		{"confirmed, then cleared", func(c *Store, clock *time.Time) {
			c.Confirm(t0.Add(100 * time.Millisecond))
			*clock = t0.Add(200 * time.Millisecond)
			c.Clear()
			c.Product(ctx, "p1") // stored again at t0+200ms
			*clock = t0.Add(1300 * time.Millisecond)
		}, 1},
		{"confirmation sent before the last Clear", func(c *Store, clock *time.Time) {
			*clock = t0.Add(200 * time.Millisecond)
			c.Clear()
			c.Product(ctx, "p1")
			c.Confirm(t0.Add(150 * time.Millisecond)) // arrives after the Clear, sent before it
			*clock = t0.Add(1300 * time.Millisecond)
		}, 1},
		{"confirmed, last of ConfirmedTTLs", func(c *Store, clock *time.Time) {
			*clock = t0.Add(ConfirmedTTLs*time.Second - time.Millisecond)
			c.Confirm(*clock)
		}, 0},
		{"confirmed, past ConfirmedTTLs", func(c *Store, clock *time.Time) {
			*clock = t0.Add(ConfirmedTTLs * time.Second)
			c.Confirm(*clock)
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, inner, clock := setup(t)
			tt.act(c, clock)
			if !served(c) || inner.vers != tt.lookups || inner.reads > 2 {
				t.Fatalf("Memo past the TTL: %d version lookups, %d reads; want %d lookups and the entry served", inner.vers, inner.reads, tt.lookups)
			}
		})
	}
}

// TestHeartbeatChanged: a product ID invalidates, this instance's heartbeat confirms at its
// send time, another instance's heartbeat (or a malformed one) does neither.
func TestHeartbeatChanged(t *testing.T) {
	c := New(&sized{versions: map[string]int64{}}, time.Second, 1<<20)
	hb, other := NewHeartbeat(c), NewHeartbeat(c)
	sent := time.Unix(5, 42)
	epoch := c.epoch.Load()
	other.Changed(hb.Payload(sent)) // other's view of hb's heartbeat: not its own
	hb.Changed(hb.prefix + "x")
	hb.Changed(heartbeatTag + "from-an-instance-we-do-not-know:1")
	if got := c.confirmed.Load(); got != 0 || c.epoch.Load() != epoch {
		t.Fatalf("foreign or malformed heartbeats: confirmed %d, epoch moved %d -> %d; want neither", got, epoch, c.epoch.Load())
	}
	hb.Changed(hb.Payload(sent))
	if got := c.confirmed.Load(); got != sent.UnixNano() || c.epoch.Load() != epoch {
		t.Fatalf("own heartbeat: confirmed %d, epoch %d; want %d and no invalidation", got, c.epoch.Load(), sent.UnixNano())
	}
	hb.Changed(hb.Payload(sent.Add(-time.Second))) // an older one never moves it back
	if got := c.confirmed.Load(); got != sent.UnixNano() {
		t.Fatalf("older heartbeat moved the confirmation to %d", got)
	}
	hb.Changed("3f2b2a4e-1111-4222-8333-444455556666")
	if c.epoch.Load() != epoch+1 {
		t.Fatal("a product ID did not invalidate")
	}
}

// TestStalenessBoundWithHeartbeats simulates a listener that delivers notifications in commit
// order with a delay, sometimes goes deaf without dropping (a half-open connection: everything
// sent meanwhile is lost, heartbeats included) and later drops (Clear), while products are
// written and read at random. Whatever happens, a read answers a version that was current at
// most one TTL before it: the confirmations extend entries only while the listener hears.
func TestStalenessBoundWithHeartbeats(t *testing.T) {
	skipSerialWhenShort(t)
	const (
		ttl      = time.Second
		step     = 20 * time.Millisecond
		products = 6
	)
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(seed, 1))
			inner := &sized{versions: map[string]int64{}}
			c := New(inner, ttl, 1<<20)
			clock := time.Unix(0, 0)
			c.now = func() time.Time { return clock }
			hb := NewHeartbeat(c)
			// superseded[id][v] is when version v of id stopped being current.
			superseded := map[string]map[int64]time.Time{}
			var queue []string // sent, not yet delivered, in commit order
			deaf := false
			nextBeat := time.Duration(0)
			for i := range 20_000 {
				now := time.Duration(i) * step
				clock = time.Unix(0, 0).Add(now)
				// Deliver what was sent up to the last step (a delay of one step), in order.
				if !deaf {
					for _, p := range queue {
						hb.Changed(p)
					}
				}
				queue = queue[:0]
				switch r := rng.IntN(1000); {
				case r < 2 && !deaf:
					deaf = true // notifications stop; the connection stays up
				case r < 6 && deaf:
					deaf = false // the connection finally drops: Listen calls lost, reconnects, lost again
					c.Clear()
				}
				if rng.IntN(10) == 0 {
					id := fmt.Sprint("p", rng.IntN(products))
					if superseded[id] == nil {
						superseded[id] = map[int64]time.Time{}
					}
					superseded[id][inner.versions[id]] = clock
					inner.versions[id]++
					queue = append(queue, id)
				}
				if now >= nextBeat {
					queue = append(queue, hb.Payload(clock))
					nextBeat = now + HeartbeatInterval(ttl)
				}
				for range 3 {
					id := fmt.Sprint("p", rng.IntN(products))
					p, err := c.Product(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					if p.Version == inner.versions[id] {
						continue
					}
					if age := clock.Sub(superseded[id][p.Version]); age > ttl {
						t.Fatalf("at %s (deaf %v) %s read version %d, superseded %s before; bound %s", now, deaf, id, p.Version, age, ttl)
					}
				}
			}
			if u := c.Usage(); u.Hits == 0 || u.Revalidated == 0 {
				t.Fatalf("usage %+v: the run never served from memory past a TTL, so it proves nothing", u)
			}
		})
	}
}

// skipSerialWhenShort skips a test whose work all runs in one goroutine: the race detector has
// nothing to find in it and makes it 30-90 times slower (TestStalenessBoundWithHeartbeats: 45 s,
// not 1.5). The test command's race step runs with -short; its ordinary run runs these in full.
func skipSerialWhenShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs in one goroutine; run in full without -short")
	}
}
