package relay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/relay"
	"github.com/acme/catalog/internal/sqlite"
	"github.com/acme/catalog/internal/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type opener func(t testing.TB, clock catalog.Clock) catalog.Store

// openers open a fresh store of each kind.
var openers = []struct {
	name string
	open opener
}{
	{"sqlite", func(t testing.TB, clock catalog.Clock) catalog.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName), sqlite.Options{Clock: clock, EventSource: "com.acme.catalog"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t testing.TB, clock catalog.Clock) catalog.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{Clock: clock, MaxConns: 12, EventSource: "com.acme.catalog"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

// onStores runs fn on a fresh store of each kind.
func onStores(t *testing.T, fn func(t *testing.T, open opener)) {
	for _, o := range openers {
		t.Run(o.name, func(t *testing.T) { fn(t, o.open) })
	}
}

// testOptions make the relay quick: short polls and backoffs, batches that span requests.
func testOptions(owner string) relay.Options {
	return relay.Options{Owner: owner, LeaseTTL: 3 * time.Second, Poll: 5 * time.Millisecond, Batch: 25,
		BackoffBase: 5 * time.Millisecond, BackoffCap: 50 * time.Millisecond}
}

// guard is the store as the relay sees it, checking the one rule that matters: the position
// never moves past an event no bus has accepted.
type guard struct {
	relay.Store
	t        testing.TB
	accepted func(seq int64) bool
	from     atomic.Int64 // the position the relay last claimed or stored
}

func (g *guard) ClaimFeedConsumer(ctx context.Context, name, owner string, ttl time.Duration, start catalog.FeedStart) (catalog.FeedLease, error) {
	l, err := g.Store.ClaimFeedConsumer(ctx, name, owner, ttl, start)
	if err == nil {
		g.from.Store(l.Position)
	}
	return l, err
}

func (g *guard) AdvanceFeedConsumer(ctx context.Context, name, owner string, position int64) error {
	after := g.from.Load()
	for after < position {
		page, err := g.Store.Events(ctx, catalog.EventQuery{After: after, Limit: catalog.MaxEventLimit})
		if oldest, gone := catalog.OldestKept(err); gone {
			after = oldest - 1 // purged events cannot be checked (TestRetentionSkip counts them)
			continue
		}
		if err != nil || len(page.Events) == 0 {
			break
		}
		for _, e := range page.Events {
			if s := seqOf(e); s <= position && !g.accepted(s) {
				g.t.Errorf("%s advanced %s to %d before event %d was accepted", owner, name, position, s)
			}
		}
		after = page.Next
	}
	err := g.Store.AdvanceFeedConsumer(ctx, name, owner, position)
	if err == nil {
		g.from.Store(position)
	}
	return err
}

func seqOf(e catalog.Event) int64 {
	var n int64
	fmt.Sscan(e.Sequence, &n)
	return n
}

// startLeader starts a relay and waits until it holds the lease.
func startLeader(t testing.TB, s relay.Store, pub relay.Publisher, opts relay.Options) (stop func()) {
	t.Helper()
	leading := make(chan struct{})
	var once sync.Once
	hook := opts.Hooks.Leading
	opts.Hooks.Leading = func(b bool) {
		if hook != nil {
			hook(b)
		}
		if b {
			once.Do(func() { close(leading) })
		}
	}
	stop = start(t, s, pub, opts)
	select {
	case <-leading:
	case <-time.After(20 * time.Second):
		t.Fatal("the relay never held the lease")
	}
	return stop
}

// start runs a relay until the test ends or stop is called.
func start(t testing.TB, s relay.Store, pub relay.Publisher, opts relay.Options) (stop func()) {
	r := relay.New(s, pub, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// write records n events (one per category created), from several writers at once.
func write(t testing.TB, s catalog.Store, prefix string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				if _, err := s.CreateCategory(context.Background(), catalog.CategoryInput{Slug: fmt.Sprintf("%s-%d", prefix, i), Name: "C"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// feedSeqs lists the sequences of the n events after `after`. On PostgreSQL a read may see
// fewer while the relay's own read holds the sequencer (ADR 0014: it skips a locked pass), so
// it reads until all n are numbered.
func feedSeqs(t testing.TB, s catalog.Store, after int64, n int) []int64 {
	t.Helper()
	var out []int64
	eventually(t, fmt.Sprintf("%d events after %d in the feed", n, after), func() bool {
		out = out[:0]
		for cursor := after; ; {
			page, err := s.Events(context.Background(), catalog.EventQuery{After: cursor, Limit: catalog.MaxEventLimit})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) == 0 {
				return len(out) == n
			}
			for _, e := range page.Events {
				out = append(out, seqOf(e))
			}
			cursor = page.Next
		}
	})
	return out
}

// TestEveryEventOnceInOrder: with writers running, every event committed after the relay
// first ran reaches the bus exactly once, in sequence order, as a CloudEvent detail with the
// configured source; the events from before it started do not (it starts at the head).
func TestEveryEventOnceInOrder(t *testing.T) {
	onStores(t, func(t *testing.T, open opener) {
		s := open(t, nil)
		write(t, s, "before", 10)
		bus, pub := newBus(t)
		g := &guard{Store: s, t: t}
		g.accepted = func(seq int64) bool { return bus.has([]int64{seq}) }
		var published atomic.Int64
		opts := testOptions("a")
		opts.Hooks.Published = func(lags []time.Duration) {
			published.Add(int64(len(lags)))
			for _, l := range lags {
				if l < 0 || l > time.Minute {
					t.Errorf("lag %s", l)
				}
			}
		}
		startLeader(t, g, pub, opts) // its first claim places the consumer at the head
		from := g.from.Load()
		write(t, s, "during", 300)
		want := feedSeqs(t, s, from, 300)
		if len(want) != 300 {
			t.Fatalf("%d events after the head, want 300", len(want))
		}
		eventually(t, "every event on the bus", func() bool { return bus.has(want) })
		time.Sleep(50 * time.Millisecond) // nothing more may arrive
		if got := bus.seqs(); !slices.Equal(got, want) {
			t.Fatalf("the bus received %d events (%v...), want each of %d once in order", len(got), got[:min(len(got), 12)], len(want))
		}
		if published.Load() != 300 {
			t.Errorf("Published hook counted %d events, want 300", published.Load())
		}
		bus.mu.Lock()
		defer bus.mu.Unlock()
		r := bus.accepted[0]
		if r.entry["Source"] != "com.acme.catalog" || r.entry["EventBusName"] != "catalog-bus" || r.entry["DetailType"] != catalog.EventCategoryCreated ||
			r.detail.Source != "com.acme.catalog" || r.detail.ID == "" || r.detail.Subject == "" || len(r.detail.Data) == 0 {
			b, _ := json.Marshal(r.entry)
			t.Fatalf("entry %s", b)
		}
	})
}

// TestConcurrentRequests: with several PutEvents requests in flight (EVENT_BUS_CONCURRENCY),
// every event still arrives exactly once, the position never passes an unaccepted event, and
// a partial failure in one request holds the position before it while later requests' events
// are sent again.
func TestConcurrentRequests(t *testing.T) {
	onStores(t, func(t *testing.T, open opener) {
		s := open(t, nil)
		bus, pub := newBus(t)
		pub.Concurrency = 4
		bus.set(func(f *fakeBus) { f.latency = 2 * time.Millisecond })
		g := &guard{Store: s, t: t}
		g.accepted = func(seq int64) bool { return bus.has([]int64{seq}) }
		opts := testOptions("a")
		opts.Batch = 100
		startLeader(t, g, pub, opts)
		from := g.from.Load()
		write(t, s, "conc", 300)
		want := feedSeqs(t, s, from, 300)
		eventually(t, "every event on the bus", func() bool { return bus.has(want) })
		time.Sleep(50 * time.Millisecond)
		got := bus.seqs()
		if len(got) != len(want) {
			t.Fatalf("received %d events, want each of %d once", len(got), len(want))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("received %v, want %v", got, want)
		}

		// One entry refused 8 times (two whole publishes): the events of the requests after
		// it may arrive twice, none is lost.
		from = want[len(want)-1]
		var stuck int64
		tries := 0
		bus.set(func(f *fakeBus) {
			f.fail = func(seq int64) bool {
				if stuck == 0 && seq > from+15 {
					stuck = seq
				}
				if seq == stuck {
					tries++
					return tries <= 8
				}
				return false
			}
		})
		write(t, s, "conc-fail", 100)
		want = feedSeqs(t, s, from, 100)
		eventually(t, "every event after the failure", func() bool { return bus.has(want) })
		if tries <= 8 {
			t.Fatalf("the stuck event was tried %d times", tries)
		}
	})
}

// TestPartialFailure: entries EventBridge refuses are retried; one refused past the
// publisher's attempts holds the position before it (later events of its request may be
// accepted and are sent again: at least once), and once it is accepted everything follows.
func TestPartialFailure(t *testing.T) {
	onStores(t, func(t *testing.T, open opener) {
		s := open(t, nil)
		bus, pub := newBus(t)
		g := &guard{Store: s, t: t}
		g.accepted = func(seq int64) bool { return bus.has([]int64{seq}) }
		var failed atomic.Int64
		opts := testOptions("a")
		opts.Hooks.Failed = func(n int) { failed.Add(int64(n)) }
		startLeader(t, g, pub, opts)
		from := g.from.Load()
		// The 18th event the bus sees fails for 12 tries (three whole publishes); every 7th
		// fails twice, then passes within the publisher's own retries.
		tries := map[int64]int{}
		var seen []int64
		var stuck int64
		bus.set(func(f *fakeBus) {
			f.fail = func(seq int64) bool {
				if tries[seq] == 0 {
					seen = append(seen, seq)
					if len(seen) == 18 {
						stuck = seq
					}
				}
				tries[seq]++
				switch {
				case seq == stuck:
					return tries[seq] <= 12
				case seq%7 == 0:
					return tries[seq] <= 2
				}
				return false
			}
		})
		write(t, s, "pf", 60)
		want := feedSeqs(t, s, from, 60)
		eventually(t, "every event on the bus", func() bool { return bus.has(want) })
		if failed.Load() == 0 || stuck == 0 {
			t.Errorf("the Failed hook never ran (stuck event %d)", stuck)
		}
		got := bus.seqs()
		// Each event arrived; only those after the stuck one in its request came twice or more.
		count := map[int64]int{}
		for _, s := range got {
			count[s]++
		}
		for _, s := range want {
			if count[s] > 1 && s <= stuck {
				t.Errorf("event %d, before the stuck %d, arrived %d times", s, stuck, count[s])
			}
		}
		// The events before the stuck one that were not retried arrived in order.
		var first []int64
		for _, s := range got {
			if s < stuck && s%7 != 0 && !slices.Contains(first, s) {
				first = append(first, s)
			}
		}
		if !slices.IsSorted(first) {
			t.Errorf("arrivals before the stuck event %d out of order: %v", stuck, first)
		}
	})
}

// TestEndpointDownThenUp: while the bus answers 503 nothing is lost and the position stays;
// when it answers again every event arrives once, in order.
func TestEndpointDownThenUp(t *testing.T) {
	onStores(t, func(t *testing.T, open opener) {
		s := open(t, nil)
		bus, pub := newBus(t)
		g := &guard{Store: s, t: t}
		g.accepted = func(seq int64) bool { return bus.has([]int64{seq}) }
		var failed atomic.Int64
		opts := testOptions("a")
		opts.Hooks.Failed = func(n int) { failed.Add(int64(n)) }
		startLeader(t, g, pub, opts)
		from := g.from.Load()
		bus.set(func(f *fakeBus) { f.down = true })
		write(t, s, "down", 40)
		eventually(t, "failed publishes", func() bool { return failed.Load() >= 40 })
		time.Sleep(100 * time.Millisecond)
		if n := len(bus.seqs()); n != 0 {
			t.Fatalf("%d events accepted while down", n)
		}
		bus.set(func(f *fakeBus) { f.down = false })
		want := feedSeqs(t, s, from, 40)
		eventually(t, "every event after the outage", func() bool { return bus.has(want) })
		time.Sleep(50 * time.Millisecond)
		if got := bus.seqs(); !slices.Equal(got, want) {
			t.Fatalf("received %v, want %v", got, want)
		}
	})
}

// TestOneRelayPublishes: two relays on one store, each with its own bus: only the lease
// holder publishes; when it stops (releasing the lease) the other takes over from the stored
// position. Between them every event arrives once, in order.
func TestOneRelayPublishes(t *testing.T) {
	onStores(t, func(t *testing.T, open opener) {
		s := open(t, nil)
		busA, pubA := newBus(t)
		busB, pubB := newBus(t)
		accepted := func(seq int64) bool { return busA.has([]int64{seq}) || busB.has([]int64{seq}) }
		var leadA, leadB atomic.Bool
		optsA, optsB := testOptions("a"), testOptions("b")
		optsA.Hooks.Leading = leadA.Store
		optsB.Hooks.Leading = leadB.Store
		gA := &guard{Store: s, t: t, accepted: accepted}
		stopA := startLeader(t, gA, pubA, optsA)
		start(t, &guard{Store: s, t: t, accepted: accepted}, pubB, optsB)
		from := gA.from.Load()
		write(t, s, "two", 80)
		first := feedSeqs(t, s, from, 80)
		eventually(t, "a to publish", func() bool { return busA.has(first) })
		if n := len(busB.seqs()); n != 0 || leadB.Load() {
			t.Fatalf("the standby published %d events (leading: %v)", n, leadB.Load())
		}
		stopA()
		if leadA.Load() {
			t.Fatal("a still leads after stopping")
		}
		write(t, s, "after", 40)
		all := feedSeqs(t, s, from, 120)
		// b claims every third of the TTL: within about a second of a's release.
		eventually(t, "b to take over", func() bool { return busB.has(all[len(first):]) })
		time.Sleep(50 * time.Millisecond)
		if got := append(busA.seqs(), busB.seqs()...); !slices.Equal(got, all) {
			t.Fatalf("a sent %d, b sent %d; together %v, want %v", len(busA.seqs()), len(busB.seqs()), got, all)
		}
	})
}

// TestRestartResumes: a relay that stops and a new one (a new process: a new owner) that
// starts later resume at the stored position: nothing sent twice, nothing lost, including the
// events written while none ran. A relay that dies without releasing is replaced once its
// lease expires.
func TestRestartResumes(t *testing.T) {
	onStores(t, func(t *testing.T, open opener) {
		s := open(t, nil)
		bus, pub := newBus(t)
		accepted := func(seq int64) bool { return bus.has([]int64{seq}) }
		g := &guard{Store: s, t: t, accepted: accepted}
		stop := startLeader(t, g, pub, testOptions("first"))
		from := g.from.Load()
		write(t, s, "one", 30)
		want := feedSeqs(t, s, from, 30)
		eventually(t, "the first run's events", func() bool { return bus.has(want) })
		stop()
		write(t, s, "gap", 30)
		start(t, &guard{Store: s, t: t, accepted: accepted}, pub, testOptions("second"))
		write(t, s, "two", 30)
		want = feedSeqs(t, s, from, 90)
		eventually(t, "every event", func() bool { return bus.has(want) })
		time.Sleep(50 * time.Millisecond)
		if got := bus.seqs(); !slices.Equal(got, want) {
			t.Fatalf("received %v, want %v", got, want)
		}
	})
}

// TestCrashedHolderIsReplaced: a holder that stops renewing without releasing (a killed
// task) is replaced when its lease expires; the successor publishes from the stored position.
func TestCrashedHolderIsReplaced(t *testing.T) {
	onStores(t, func(t *testing.T, open opener) {
		s := open(t, nil)
		ctx := context.Background()
		// The dead holder claimed the consumer and stored a position, then vanished.
		l, err := s.ClaimFeedConsumer(ctx, relay.Consumer, "dead", 2*time.Second, catalog.FeedStartHead)
		if err != nil {
			t.Fatal(err)
		}
		write(t, s, "crash", 20)
		want := feedSeqs(t, s, l.Position, 20)
		bus, pub := newBus(t)
		var leading atomic.Bool
		opts := testOptions("successor")
		opts.LeaseTTL = 3 * time.Second // it retries every second
		opts.Hooks.Leading = leading.Store
		began := time.Now()
		start(t, &guard{Store: s, t: t, accepted: func(seq int64) bool { return bus.has([]int64{seq}) }}, pub, opts)
		eventually(t, "the successor to publish", func() bool { return bus.has(want) })
		if waited := time.Since(began); waited < 1500*time.Millisecond {
			t.Errorf("took over after %s, before the dead holder's lease ended", waited)
		}
		if got := bus.seqs(); !slices.Equal(got, want) {
			t.Fatalf("received %v, want %v", got, want)
		}
	})
}

// TestRetentionSkip: a position older than the oldest kept event (the bus was unreachable for
// longer than EVENT_RETENTION) is logged, counted and moved to the oldest kept event: the
// relay then publishes what is kept instead of stopping for good.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

func TestRetentionSkip(t *testing.T) {
	onStores(t, func(t *testing.T, open opener) {
		clock := storetest.NewFakeClock()
		s := open(t, clock.Now)
		bus, pub := newBus(t)
		bus.set(func(f *fakeBus) { f.down = true })
		var skipped, failed atomic.Int64
		opts := testOptions("a")
		opts.Start = catalog.FeedStartOldest
		opts.Now = clock.Now
		opts.Hooks.Skipped = func(n int64) { skipped.Add(n) }
		opts.Hooks.Failed = func(n int) { failed.Add(int64(n)) }
		opts.Log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
		stop := startLeader(t, &guard{Store: s, t: t, accepted: func(int64) bool { return true }}, pub, opts)
		write(t, s, "old", 20)
		lost := feedSeqs(t, s, 0, 20)
		eventually(t, "a failed publish", func() bool { return failed.Load() > 0 })
		// The relay stops (its position still 0) and the events age past retention.
		stop()
		clock.Advance(catalog.DefaultEventRetention + time.Hour)
		write(t, s, "kept", 10)
		if _, err := s.PurgeEvents(context.Background(), catalog.DefaultEventRetention, 1000); err != nil {
			t.Fatal(err)
		}
		kept := feedSeqs(t, s, lost[len(lost)-1], 10)
		bus.set(func(f *fakeBus) { f.down = false })
		opts.Owner = "b"
		startLeader(t, &guard{Store: s, t: t, accepted: func(int64) bool { return true }}, pub, opts)
		eventually(t, "the kept events", func() bool { return bus.has(kept) })
		if got := bus.seqs(); !slices.Equal(got, kept) {
			t.Fatalf("received %v, want the kept %v", got, kept)
		}
		if n := skipped.Load(); n != int64(lost[len(lost)-1]) {
			t.Errorf("Skipped counted %d, want %d", n, lost[len(lost)-1])
		}
	})
}
