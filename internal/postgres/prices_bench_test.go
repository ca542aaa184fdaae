package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/storetest"
)

// BenchmarkPrices: go test -run '^$' -bench Prices ./internal/postgres/ (prices/s, and the
// statements sent per price written, which load does not move).
func BenchmarkPrices(b *testing.B) {
	var counter *roundTrips
	storetest.BenchPrices(b, func(b *testing.B) catalog.Store {
		counter = &roundTrips{}
		s, err := postgres.Open(context.Background(), pgtest.URL(b), postgres.Options{MaxConns: 4,
			Configure: func(c *pgxpool.Config) error { c.ConnConfig.Tracer = counter; return nil }})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}, func() int64 { return counter.queries.Load() }) // statements sent alone, as before
}
