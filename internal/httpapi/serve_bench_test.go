package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/readcache"
)

// oneProduct answers every product read with a product of 4 variants: the store costs nothing,
// so the benchmark measures what the HTTP layer adds to a read.
type oneProduct struct {
	catalog.Store
	p catalog.Product
}

func (o oneProduct) Product(context.Context, string) (catalog.Product, error) { return o.p, nil }

// BenchmarkServeProduct serves GET /products/{id} through the whole handler (request ID,
// deadline, access log, metrics, rate limit, authentication, routing, encoding and gzip) on a
// store that costs nothing, as wrk's requests arrive: what the service adds to a read per
// request, in CPU and allocations; cached=true is a hot read answered from the read cache's
// kept bytes (ADR 0025). Run with -cpuprofile to see where it goes:
// go test -run '^$' -bench ServeProduct -benchmem ./internal/httpapi/
func BenchmarkServeProduct(b *testing.B) {
	p := sampleProduct(1, 4)
	// Limits far above the load, as the wrk bench sets them: the limiter's cost, no refusals.
	lim, err := access.ParseLimit("1000000/s:1000000")
	if err != nil {
		b.Fatal(err)
	}
	limits := &RateLimits{PerIP: access.NewLimiter(lim, 100000, nil), PerKey: access.NewLimiter(lim, 100000, nil)}
	for _, c := range []struct {
		accept string
		cached bool
	}{{"", false}, {"gzip", false}, {"gzip", true}} {
		var store catalog.Store = oneProduct{p: p}
		if c.cached {
			store = readcache.New(store, time.Hour, 1<<20) // every read after the first a hit
		}
		accept := c.accept
		b.Run(fmt.Sprintf("accept=%q,cached=%v", accept, c.cached), func(b *testing.B) {
			s := New(Options{Store: store, Log: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError})),
				Metrics: NewMetrics(), Limits: limits, RequestTimeout: 10 * time.Second})
			r := httptest.NewRequest("GET", "/products/"+p.ID, nil)
			r.RemoteAddr = "10.0.0.1:1234"
			if accept != "" {
				r.Header.Set("Accept-Encoding", accept)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := &discardWriter{h: http.Header{}}
				s.ServeHTTP(w, r)
			}
		})
	}
}
