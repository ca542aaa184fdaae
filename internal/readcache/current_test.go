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
	c := readcache.New(inner, time.Hour, 100)
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
