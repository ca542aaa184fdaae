package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pggrow"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T, clock catalog.Clock) catalog.Store {
	// Enough connections that concurrent tests really race in the database.
	s, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{Clock: clock, MaxConns: 24})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

// TestMigrateOnce starts ten stores on one empty database at once, as a fleet of tasks does
// on its first deploy: the advisory lock lets exactly one migrate, and all of them start.
func TestMigrateOnce(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 2})
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, url, postgres.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.AppliedMigrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Fatalf("applied %d migrations, want %d", n, len(ms))
	}
}

// TestConnectionsExpire checks that MaxConnLifetime really retires connections, jitter
// included: a password rotation reaches a running service only through new connections.
func TestConnectionsExpire(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Pool().Config().MaxConnLifetime; got != 30*time.Minute {
		t.Errorf("default MaxConnLifetime = %s, want 30m", got)
	}
	s.Close()

	const lifetime = 50 * time.Millisecond
	s, err = postgres.Open(ctx, url, postgres.Options{MaxConns: 1, MaxConnLifetime: lifetime, SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pid := func() (n int32) {
		t.Helper()
		if err := s.Pool().QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	first := pid()
	if again := pid(); again != first {
		t.Fatalf("a fresh connection was replaced at once: backend %d, then %d", first, again)
	}
	time.Sleep(2 * lifetime) // past the lifetime and its jitter (a sixth of it)
	if later := pid(); later == first {
		t.Fatalf("backend %d still serves after %s with a %s lifetime", first, 2*lifetime, lifetime)
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) catalog.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(b), postgres.Options{MaxConns: 16})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkFacets: go test -run '^$' -bench 'Facets$' -benchtime 20x ./internal/postgres/
// With FACETS_BENCH_DATABASE_URL the catalog is loaded into that database once and kept, and
// later runs (and the benchmark's own second round) measure it as it is: how the 1M figures
// in docs/performance.md were taken. A kept database smaller than FACETS_BENCH_PRODUCTS grows
// to it by cloning its products in SQL (pggrow.Clone); an empty one asked for more than
// cloneBase products gets cloneBase from the generator first. FACETS_BENCH_BUDGET sets the
// store's facet budget.
func BenchmarkFacets(b *testing.B) {
	var url string
	storetest.BenchFacets(b, func(b *testing.B) catalog.Store {
		url = os.Getenv("FACETS_BENCH_DATABASE_URL")
		if url == "" {
			url = pgtest.URL(b)
		}
		// FACETS_BENCH_BUDGET sets the facet budget (default postgres.DefaultFacetBudget).
		budget, _ := strconv.Atoi(os.Getenv("FACETS_BENCH_BUDGET"))
		s, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 16, FacetBudget: budget})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		if n, _ := strconv.Atoi(os.Getenv("FACETS_BENCH_PRODUCTS")); os.Getenv("FACETS_BENCH_DATABASE_URL") != "" && n > cloneBase {
			if empty, err := s.Empty(context.Background()); err != nil {
				b.Fatal(err)
			} else if empty {
				storetest.FacetBenchCatalog(b, s, cloneBase)
			}
			if _, err := pggrow.Clone(context.Background(), s.Pool(), n, b.Logf); err != nil {
				b.Fatal(err)
			}
		}
		return s
	}, analyze, func(tb testing.TB) catalog.Faceter {
		// The same catalog counted without a budget: the exact counts (and the statement
		// before the budget) to compare with.
		s, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 4, FacetBudget: -1})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	})
}

// analyze gives the planner statistics after a bulk load, as autovacuum would.
func analyze(tb testing.TB, s catalog.Store) {
	if _, err := s.(*postgres.Store).Pool().Exec(context.Background(), "VACUUM ANALYZE"); err != nil {
		tb.Fatal(err)
	}
}

func TestDeleteKeepsAudit(t *testing.T) {
	storetest.TestDeleteKeepsAudit(t, open, func(t *testing.T, s catalog.Store, id string) (int, int) {
		var moves, prices int
		err := s.(*postgres.Store).Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM stock_movements WHERE product_id = $1),
			(SELECT count(*) FROM price_history WHERE product_id = $1)`, id).Scan(&moves, &prices)
		if err != nil {
			t.Fatal(err)
		}
		return moves, prices
	})
}

// TestBusyRowAndFullPoolFailFast: with a row locked elsewhere and a tiny pool, writes to that
// row give up after the lock timeout (retried once) as unavailable, and while they hold every
// connection an unrelated read gives up after the acquire timeout as unavailable, instead of
// waiting out the request deadline; once the lock goes, everything works again.
func TestBusyRowAndFullPoolFailFast(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 2, AcquireTimeout: 200 * time.Millisecond, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "busy", Name: "Busy"}); err != nil {
		t.Fatal(err)
	}
	var ids, variants []string
	for _, sku := range []string{"BUSY-1", "FREE-1"} {
		p, err := s.CreateProduct(ctx, simpleProduct(sku, sku, "busy", 1, 0))
		if err != nil {
			t.Fatal(err)
		}
		ids, variants = append(ids, p.ID), append(variants, p.Variants[0].ID)
	}

	holder, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(context.Background())
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM inventory WHERE variant_id = $1 FOR UPDATE`, variants[0]); err != nil {
		t.Fatal(err)
	}

	adjust := catalog.Adjustment{Delta: 1, Reason: "received"}
	start := time.Now()
	_, err = s.AdjustStock(ctx, variants[0], adjust, "a", nil)
	if code := catalog.ErrorCode(err); code != catalog.CodeUnavailable {
		t.Fatalf("AdjustStock on a locked row: %v, want unavailable", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("AdjustStock on a locked row took %s, want about two lock timeouts", took)
	}

	// Two writers hold both connections, waiting on the lock; a read of another product
	// cannot get a connection and says so quickly.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.AdjustStock(ctx, variants[0], adjust, "a", nil)
			if code := catalog.ErrorCode(err); code != catalog.CodeUnavailable {
				t.Errorf("AdjustStock on a locked row: %v, want unavailable", err)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	start = time.Now()
	_, err = s.Product(ctx, ids[1])
	took := time.Since(start)
	if code := catalog.ErrorCode(err); code != catalog.CodeUnavailable {
		t.Fatalf("Product with the pool exhausted: %v, want unavailable", err)
	}
	if took > 2*time.Second {
		t.Fatalf("Product with the pool exhausted took %s, want about the acquire timeout", took)
	}
	wg.Wait()

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AdjustStock(ctx, variants[0], adjust, "a", nil); err != nil {
		t.Fatalf("AdjustStock after the lock went: %v", err)
	}
	if _, err := s.Product(ctx, ids[1]); err != nil {
		t.Fatalf("Product after the lock went: %v", err)
	}
}

// TestOpenErrorNeverShowsThePassword: a connection string that does not parse is refused with
// a message that shows nothing of it (the driver's own redaction is best effort), since the
// error ends up in logs and on the terminal.
func TestOpenErrorNeverShowsThePassword(t *testing.T) {
	const pw = "s3cr et/p@ss%zz'w"
	for _, dsn := range []string{
		"postgres://app:" + pw + "@db.internal:5432/catalog",
		"postgres://app:" + pw + "@db.internal:port/catalog",
		"postgres://app:pw@db.internal:port/catalog?password=" + pw,
		"host=db.internal password=" + pw + " dbname=catalog",
		"host=db.internal password='" + pw + " dbname=catalog",
	} {
		_, err := postgres.Open(context.Background(), dsn, postgres.Options{SkipMigrate: true})
		if err == nil {
			t.Errorf("Open(%q) accepted it", dsn)
			continue
		}
		for _, part := range []string{pw, "s3cr", "p@ss", "%zz"} {
			if strings.Contains(err.Error(), part) {
				t.Errorf("Open(%q) = %v, shows %q of the password", dsn, err, part)
			}
		}
	}
}

// simpleProduct is a product without options: one variant with one price in USD.
func simpleProduct(sku, name, category string, amount, stock int64) catalog.ProductInput {
	return catalog.ProductInput{Name: name, Category: category, Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: sku, Prices: []catalog.PriceInput{{Currency: "USD", Amount: amount}}, InitialStock: stock}}}
}

// TestSaleWindowsAcrossInstances runs the conformance suite's two-instance sweeper test on two
// stores (two pools, as two tasks) on one database.
func TestSaleWindowsAcrossInstances(t *testing.T) {
	storetest.TestSaleWindowsAcrossInstances(t, func(t *testing.T, clock catalog.Clock) (catalog.Store, catalog.Store) {
		url := pgtest.URL(t)
		var stores [2]catalog.Store
		for i := range stores {
			s, err := postgres.Open(context.Background(), url, postgres.Options{Clock: clock, MaxConns: 8})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			stores[i] = s
		}
		return stores[0], stores[1]
	})
}

func BenchmarkOutbox(b *testing.B) {
	storetest.BenchOutbox(b, func(b *testing.B) catalog.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(b), postgres.Options{MaxConns: 16})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}, postgres.WithoutOutbox)
}

// BenchmarkFacetPlans prints the plan of the facet statement of a category page and of the
// whole catalog at FACETS_BENCH_PRODUCTS (default 100k), or on the kept catalog of
// FACETS_BENCH_DATABASE_URL: go test -run '^$' -bench FacetPlans -benchtime 1x
func BenchmarkFacetPlans(b *testing.B) {
	ctx := context.Background()
	url := os.Getenv("FACETS_BENCH_DATABASE_URL")
	if url == "" {
		url = pgtest.URL(b)
	}
	budget, _ := strconv.Atoi(os.Getenv("FACETS_BENCH_BUDGET"))
	s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 4, FacetBudget: budget})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("FACETS_BENCH_PRODUCTS")); err == nil && v > 0 {
		n = v
	}
	if empty, err := s.Empty(ctx); err != nil {
		b.Fatal(err)
	} else if empty {
		storetest.FacetBenchCatalog(b, s, n)
		analyze(b, s)
	}
	r, err := catalog.ParseFacets("brand,price,in_stock,attr.colour", "USD", func(key string) (catalog.AttributeDefinition, error) { return s.Attribute(ctx, key) })
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		for _, cat := range []string{"cat-03", ""} {
			q := catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20,
				Filter: catalog.ProductFilter{Category: cat, Currency: "USD", Statuses: []catalog.Status{catalog.StatusActive}}}
			plans, err := s.ExplainFacets(ctx, q, r)
			if err != nil {
				b.Fatal(err)
			}
			fmt.Printf("-- category %q\n", cat)
			for _, p := range plans {
				fmt.Println(p)
			}
		}
	}
}
