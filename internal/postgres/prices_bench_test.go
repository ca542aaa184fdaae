package postgres_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/storetest"
)

// statementCounter counts the statements a pool sends (pgx.QueryTracer).
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// BenchmarkPrices: go test -run '^$' -bench Prices ./internal/postgres/ (prices/s, and the
// statements sent per price written, which load does not move).
func BenchmarkPrices(b *testing.B) {
	var counter *statementCounter
	storetest.BenchPrices(b, func(b *testing.B) catalog.Store {
		counter = &statementCounter{}
		s, err := postgres.Open(context.Background(), pgtest.URL(b), postgres.Options{MaxConns: 4,
			Configure: func(c *pgxpool.Config) error { c.ConnConfig.Tracer = counter; return nil }})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}, func() int64 { return counter.n.Load() })
}
