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
)

// roundTrips counts what a pool sends: queries (statements sent alone) and batches; each of
// either is one round trip. Set it as the pool's tracer.
type roundTrips struct{ queries, batches atomic.Int64 }

// total is the round trips so far.
func (r *roundTrips) total() int64 { return r.queries.Load() + r.batches.Load() }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.queries.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.batches.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// TestSearchRoundTrips holds a repeated search to one round trip, whatever its plan: the
// terms' lexemes and the plan choice (statistics, bounded counts) are kept, and a fetch
// through the full-text indexes sends its planner setting in the same batch as its query
// (it was BEGIN, SET LOCAL, the query and COMMIT). A first search pays for the choice.
func TestSearchRoundTrips(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 3,000 products")
	}
	ctx := context.Background()
	trips := &roundTrips{}
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{Configure: func(c *pgxpool.Config) error {
		c.ConnConfig.Tracer = trips
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	loadSynthetic(t, s, 3_000)
	if _, err := s.Pool().Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	active := []catalog.Status{catalog.StatusActive}
	for _, q := range []string{"waterproof", "waterproof lamp", "lamp 10042", "thing", "zzyzx", "SYN-000042", "compact ke"} {
		for _, sort := range []catalog.Sort{catalog.SortRelevance, catalog.SortNewest} {
			lq := catalog.ListQuery{Filter: catalog.ProductFilter{Query: q, Statuses: active}, Sort: sort, Limit: 20}
			var first int64
			for i := range 2 {
				before := trips.total()
				if _, err := s.ListProducts(ctx, lq); err != nil {
					t.Fatalf("ListProducts(%q, %s) = %v", q, sort, err)
				}
				n := trips.total() - before
				if i == 0 {
					first = n
					continue
				}
				t.Logf("q=%q sort=%s: %d round trips, then %d", q, sort, first, n)
				if n != 1 {
					t.Errorf("q=%q sort=%s repeated: %d round trips, want 1", q, sort, n)
				}
			}
		}
	}
}
