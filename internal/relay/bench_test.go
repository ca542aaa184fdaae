package relay_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/relay"
)

// lagTargetP99 is the publish lag the relay aims for under load: a change reaches the bus
// within a second (the idle poll is 100 ms; the rest is the sequencer, the read and PutEvents).
const lagTargetP99 = time.Second

// BenchmarkPublishLag measures the time from a write to EventBridge (a fake endpoint over
// HTTP, with the SDK's signing) accepting its event, with the relay's default poll and batch,
// while writers adjust stock at a fixed rate, on both stores. b.N is the number of writes:
//
//	go test -run '^$' -bench PublishLag -benchtime 3000x ./internal/relay/
//
// It prints p50, p99 and max beside the target.
func BenchmarkPublishLag(b *testing.B) {
	for _, rate := range []int{200, 1000} {
		b.Run(fmt.Sprintf("writes=%d/s", rate), func(b *testing.B) {
			for _, o := range openers {
				b.Run(o.name, func(b *testing.B) { benchLag(b, o.open, rate) })
			}
		})
	}
}

func benchLag(b *testing.B, open opener, rate int) {
	s := open(b, nil)
	ctx := context.Background()
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "bench", Name: "Bench"}); err != nil {
		b.Fatal(err)
	}
	var batch []catalog.NewProduct
	for i := range 200 {
		in := catalog.ProductInput{Name: fmt.Sprintf("Item %d", i), Category: "bench", Status: catalog.StatusActive,
			Variants: []catalog.VariantInput{{SKU: fmt.Sprintf("LAG-%d", i), InitialStock: 1_000_000,
				Prices: []catalog.PriceInput{{Currency: "USD", Amount: 100}}}}}
		in.Normalize()
		batch = append(batch, catalog.NewProduct{ProductInput: in})
	}
	if err := s.Import(ctx, batch); err != nil {
		b.Fatal(err)
	}
	var variants []string
	for i := range 200 {
		_, v, err := s.VariantBySKU(ctx, fmt.Sprintf("LAG-%d", i))
		if err != nil {
			b.Fatal(err)
		}
		variants = append(variants, v.ID)
	}
	bus, pub := newBus(b)
	startLeader(b, s, pub, relay.Options{Owner: "bench"})
	b.ResetTimer()
	// Writers at a fixed total rate, each write one catalog.stock.changed event.
	const writers = 8
	interval := time.Duration(writers) * time.Second / time.Duration(rate)
	var wg sync.WaitGroup
	began := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for i := w; i < b.N; i += writers {
				<-tick.C
				delta := int64(1)
				if rand.IntN(2) == 0 {
					delta = -1
				}
				if _, err := s.AdjustStock(ctx, variants[rand.IntN(len(variants))], catalog.Adjustment{Delta: delta, Reason: "count_correction"}, "bench", nil); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	wrote := time.Since(began)
	deadline := time.Now().Add(time.Minute)
	for len(bus.seqs()) < b.N && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	bus.mu.Lock()
	lags := make([]time.Duration, 0, len(bus.accepted))
	for _, r := range bus.accepted {
		lags = append(lags, r.at.Sub(r.detail.Time))
	}
	bus.mu.Unlock()
	if len(lags) < b.N {
		b.Fatalf("%d of %d events reached the bus", len(lags), b.N)
	}
	slices.Sort(lags)
	q := func(p float64) time.Duration { return lags[min(len(lags)-1, int(p*float64(len(lags))))] }
	b.ReportMetric(float64(q(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(q(0.99).Microseconds())/1000, "p99-ms")
	verdict := "met"
	if q(0.99) > lagTargetP99 {
		verdict = "NOT met"
	}
	b.Logf("%d writes at %.0f/s achieved: publish lag p50 %s, p99 %s, max %s [target p99 < %s: %s]",
		b.N, float64(b.N)/wrote.Seconds(), q(0.50).Round(time.Millisecond), q(0.99).Round(time.Millisecond),
		lags[len(lags)-1].Round(time.Millisecond), lagTargetP99, verdict)
}

// BenchmarkRelayThroughput measures how fast the relay drains a backlog of b.N events (a bus
// that was unreachable for a while) into the fake endpoint, on both stores.
func BenchmarkRelayThroughput(b *testing.B) {
	for _, o := range openers {
		for _, c := range []struct {
			latency     time.Duration
			concurrency int
		}{{0, 1}, {30 * time.Millisecond, 1}, {30 * time.Millisecond, 4}} {
			b.Run(fmt.Sprintf("%s/latency=%s/concurrency=%d", o.name, c.latency, c.concurrency), func(b *testing.B) {
				benchThroughput(b, o.open, c.latency, c.concurrency)
			})
		}
	}
}

func benchThroughput(b *testing.B, open opener, latency time.Duration, concurrency int) {
	{
		{
			s := open(b, nil)
			bus, pub := newBus(b)
			bus.set(func(f *fakeBus) { f.down, f.latency = true, latency })
			pub.Concurrency = concurrency
			startLeader(b, s, pub, relay.Options{Owner: "bench", BackoffCap: 100 * time.Millisecond})
			write(b, s, "backlog", b.N)
			b.ResetTimer()
			began := time.Now()
			bus.set(func(f *fakeBus) { f.down = false })
			deadline := time.Now().Add(5 * time.Minute)
			for len(bus.seqs()) < b.N && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			b.StopTimer()
			if n := len(bus.seqs()); n < b.N {
				b.Fatalf("%d of %d events reached the bus", n, b.N)
			}
			rate := float64(b.N) / time.Since(began).Seconds()
			b.ReportMetric(rate, "events/s")
			b.Logf("drained %d events at %.0f events/s with %s per PutEvents, %d in flight", b.N, rate, latency, concurrency)
		}
	}
}
