package readcache_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/readcache"
	"github.com/acme/catalog/internal/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func product(t *testing.T, s catalog.Store, sku string) catalog.Product {
	ctx := context.Background()
	if _, err := s.Category(ctx, "c"); err != nil {
		if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "c", Name: "C"}); err != nil {
			t.Fatal(err)
		}
	}
	in := catalog.ProductInput{Name: sku, Category: "c", Status: catalog.StatusActive,
		Options:  []catalog.Option{{Name: "Size", Values: []string{"S", "M"}}},
		Variants: []catalog.VariantInput{{SKU: sku, Options: map[string]string{"Size": "S"}, Prices: []catalog.PriceInput{{Currency: "USD", Amount: 100}}}}}
	in.Normalize()
	p, err := s.CreateProduct(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOwnWritesAreVisibleAtOnce(t *testing.T) {
	ctx := context.Background()
	inner, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	c := readcache.New(inner, time.Hour, 1<<20)
	p := product(t, c, "RC-1")
	vid := p.Variants[0].ID
	c.Product(ctx, p.ID)
	c.Product(ctx, p.ID)
	if hits, misses := c.Stats(); hits != 1 || misses != 1 {
		t.Fatalf("hits %d misses %d, want 1 and 1", hits, misses)
	}
	steps := []struct {
		name  string
		write func() error
		check func(catalog.Product) bool
	}{
		{"replace", func() error {
			in := p.Input()
			in.Name = "Renamed"
			_, err := c.ReplaceProduct(ctx, p.ID, in, 0)
			return err
		}, func(q catalog.Product) bool { return q.Name == "Renamed" }},
		{"price", func() error {
			_, _, err := c.SetPrice(ctx, vid, catalog.PriceChange{Currency: "USD", Amount: 7}, "a", 0)
			return err
		}, func(q catalog.Product) bool { pr, _ := q.Variants[0].Price("USD"); return pr.Amount == 7 }},
		{"second currency", func() error {
			_, _, err := c.SetPrice(ctx, vid, catalog.PriceChange{Currency: "EUR", Amount: 6}, "a", 0)
			return err
		}, func(q catalog.Product) bool { return len(q.PriceRanges) == 2 }},
		{"remove price", func() error {
			_, err := c.RemovePrice(ctx, vid, "EUR", "a", 0)
			return err
		}, func(q catalog.Product) bool { return len(q.PriceRanges) == 1 }},
		{"adjust", func() error {
			_, err := c.AdjustStock(ctx, vid, catalog.Adjustment{Delta: 5, Reason: "received"}, "a", nil)
			return err
		}, func(q catalog.Product) bool { return q.Variants[0].Stock.OnHand == 5 }},
		{"reserve", func() error {
			_, err := c.Reserve(ctx, catalog.ReservationInput{Lines: []catalog.ReservationLine{{SKU: "RC-1", Quantity: 2}}}, "a", nil)
			return err
		}, func(q catalog.Product) bool { return q.Variants[0].Stock.Available == 3 }},
		{"add variant", func() error {
			_, err := c.AddVariant(ctx, p.ID, catalog.VariantInput{SKU: "RC-1-M", Options: map[string]string{"Size": "M"},
				Prices: []catalog.PriceInput{{Currency: "USD", Amount: 9}}}, 0)
			return err
		}, func(q catalog.Product) bool { return len(q.Variants) == 2 }},
		{"update variant", func() error {
			limit := int64(4)
			_, err := c.UpdateVariant(ctx, p.ID, vid, catalog.VariantPatch{PurchaseLimit: &limit}, 0)
			return err
		}, func(q catalog.Product) bool { return q.Variants[0].PurchaseLimit == 4 }},
		{"delete variant", func() error {
			q, err := c.Product(ctx, p.ID)
			if err != nil {
				return err
			}
			return c.DeleteVariant(ctx, p.ID, q.Variants[1].ID, 0)
		}, func(q catalog.Product) bool { return len(q.Variants) == 1 }},
		{"archive", func() error {
			_, err := c.SetProductStatus(ctx, p.ID, catalog.StatusArchived, 0)
			return err
		}, func(q catalog.Product) bool { return q.Status == catalog.StatusArchived }},
	}
	for _, st := range steps {
		c.Product(ctx, p.ID) // cached
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		q, err := c.Product(ctx, p.ID)
		if err != nil || !st.check(q) {
			t.Fatalf("after %s through the cache, a read shows the old product: %+v %v", st.name, q, err)
		}
	}
}

// TestOtherInstancesWritesArriveByNotification: two instances on one database, each with a
// cache; a write through one reaches the other's reads within a second, far inside the TTL.
func TestOtherInstancesWritesArriveByNotification(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := pgtest.URL(t)
	open := func() (*postgres.Store, *readcache.Store) {
		s, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c := readcache.New(s, time.Hour, 1<<20)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); s.Listen(ctx, func(id string) { c.Invalidate(id) }, c.Clear) }()
		t.Cleanup(func() { cancel(); wg.Wait() })
		return s, c
	}
	_, a := open()
	_, b := open()
	p := product(t, a, "RC-2")
	time.Sleep(100 * time.Millisecond) // both listening
	if q, _ := b.Product(ctx, p.ID); q.Name != "RC-2" {
		t.Fatalf("b reads %+v", q)
	}
	in := p.Input()
	in.Name = "Changed on A"
	if _, err := a.ReplaceProduct(ctx, p.ID, in, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AdjustStock(ctx, p.Variants[0].ID, catalog.Adjustment{Delta: 9, Reason: "received"}, "a", nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		q, err := b.Product(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if q.Name == "Changed on A" && q.Variants[0].Stock.OnHand == 9 {
			t.Logf("instance B saw instance A's writes after %s", time.Since(start).Round(time.Microsecond))
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("instance B still serves the old product after 2s: %+v", q)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestTTLBoundsStaleness(t *testing.T) {
	ctx := context.Background()
	inner, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	c := readcache.New(inner, 50*time.Millisecond, 1<<20)
	p := product(t, inner, "RC-3")
	c.Product(ctx, p.ID)
	in := p.Input()
	in.Name = "Behind the cache's back"
	if _, err := inner.ReplaceProduct(ctx, p.ID, in, 0); err != nil { // not through the cache
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if q, _ := c.Product(ctx, p.ID); q.Name != in.Name {
		t.Fatalf("an entry outlived its TTL: %q", q.Name)
	}
}
