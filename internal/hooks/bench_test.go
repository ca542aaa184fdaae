package hooks_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/hooks"
	"github.com/acme/catalog/internal/webhook"
)

// deliveryTarget is the events per second one subscription must reach against a receiver that
// answers at once. Delivery is ordered and one at a time (ADR 0017), a store write per event;
// a flash sale's minute (about 600 reservations, each with its stock events) must not leave a
// subscriber more than seconds behind.
const deliveryTarget = 200.0

// BenchmarkDeliver measures one subscription's delivery rate to a local receiver answering 204
// (the worker's claims, feed reads and one recorded attempt per event), on each store, and
// prints it beside deliveryTarget.
func BenchmarkDeliver(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := openStore(b, name, nil)
			rc := newReceiver(b, time.Now, func(int, *http.Request) int { return http.StatusNoContent })
			h, err := s.CreateWebhook(context.Background(), catalog.WebhookInput{URL: rc.srv.URL + "/b"}, webhook.NewSecret().String())
			if err != nil {
				b.Fatal(err)
			}
			// A short poll: the measurement is the delivery, not the idle wait after each page.
			w := hooks.New(s, hooks.Options{Client: loopback.Client(time.Second), Poll: time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			const events = 300
			var total time.Duration
			for i := range b.N {
				b.StopTimer()
				for j := range events {
					if _, err := s.CreateCategory(context.Background(), catalog.CategoryInput{Slug: fmt.Sprintf("b-%d-%d", i, j), Name: "B"}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start := time.Now()
				done := make(chan struct{})
				wctx, stop := context.WithCancel(ctx)
				go func() { defer close(done); w.Run(wctx) }()
				for len(rc.snapshot()) < (i+1)*events {
					time.Sleep(time.Millisecond)
				}
				total += time.Since(start)
				stop()
				<-done
			}
			rate := float64(b.N*events) / total.Seconds()
			b.ReportMetric(rate, "events/s")
			b.Logf("%s: %.0f events/s to one subscription (target >= %.0f); cursor %d", name, rate, deliveryTarget, hook(b, s, h.ID).Cursor)
		})
	}
}
