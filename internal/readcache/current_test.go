package readcache_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/readcache"
	"github.com/acme/catalog/internal/sqlite"
)

// TestReadsThatMustBeCurrentSkipTheCache: a read carrying the client's write position, or a
// back-office read, is never answered from a cached copy, which may predate that write (ADR
// 0022); Product, ProductVersions and Variant alike.
func TestReadsThatMustBeCurrentSkipTheCache(t *testing.T) {
	ctx := context.Background()
	inner, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	c := readcache.New(inner, time.Hour, 1<<20)
	p := product(t, c, "RC-CUR")
	c.Product(ctx, p.ID) // cached
	name := "Changed elsewhere"
	changed, err := inner.PatchProduct(ctx, p.ID, catalog.ProductPatch{Name: &name}, 0) // not through the cache
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Product(ctx, p.ID); got.Name == name {
		t.Fatal("setup: the cache did not hold the old copy")
	}
	for _, cur := range []context.Context{catalog.WithReadAfter(ctx, 1), catalog.WithWriterReads(ctx)} {
		if got, err := c.Product(cur, p.ID); err != nil || got.Name != name {
			t.Fatalf("Product for a current read = %q, %v; want %q", got.Name, err, name)
		}
		if v, _, err := c.ProductVersions(cur, p.ID); err != nil || v != changed.Version {
			t.Fatalf("ProductVersions for a current read = %d, %v; want %d", v, err, changed.Version)
		}
		if v, err := c.Variant(cur, p.ID, p.Variants[0].ID); err != nil || v.ProductVersion != changed.Version {
			t.Fatalf("Variant for a current read: version %d, %v; want %d", v.ProductVersion, err, changed.Version)
		}
	}
}

// TestHoldOffAfterInvalidation: with replica reads, a product read within the replica's lag
// bound after its invalidation (or after a Clear) is not cached, since the replica may not have
// the write yet; past the bound it is cached again.
func TestHoldOffAfterInvalidation(t *testing.T) {
	ctx := context.Background()
	inner, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	const bound = 300 * time.Millisecond
	c := readcache.New(inner, time.Hour, 1<<20)
	c.HoldOff(bound)
	other := product(t, inner, "RC-OTHER") // makes the category without the cache's Clear
	p := product(t, c, "RC-HOLD")          // the create invalidates it
	start := time.Now()
	c.Product(ctx, p.ID)
	c.Product(ctx, p.ID)
	_, misses := c.Stats()
	if time.Since(start) < bound && misses != 2 {
		t.Fatalf("within the hold-off: %d misses, want 2 (not cached)", misses)
	}
	c.Product(ctx, other.ID)
	c.Product(ctx, other.ID)
	if hits, _ := c.Stats(); hits != 1 {
		t.Fatalf("a product not invalidated recently: %d hits, want 1", hits)
	}
	time.Sleep(time.Until(start.Add(bound)))
	c.Product(ctx, p.ID)
	c.Product(ctx, p.ID)
	if hits, _ := c.Stats(); hits != 2 {
		t.Fatalf("past the hold-off: %d hits, want 2", hits)
	}
	c.Clear()
	clearedAt := time.Now()
	c.Product(ctx, other.ID)
	c.Product(ctx, other.ID)
	if hits, _ := c.Stats(); time.Since(clearedAt) < bound && hits != 2 {
		t.Fatalf("within the hold-off after Clear: %d hits, want still 2", hits)
	}
}
