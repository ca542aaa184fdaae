package readcache

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// BenchmarkHit measures what a hit costs in the cache alone: a full answer's kept bytes (Memo,
// the hot GET path) and a decoded product (Product: fields=, variant reads), on a product of
// 4 variants. go test -run '^$' -bench Hit -benchmem ./internal/readcache/
func BenchmarkHit(b *testing.B) {
	ctx := context.Background()
	p := catalog.Product{ID: "p1", Name: "Blue mug", Description: "A blue mug for tea, made of stoneware, 350 ml.", Status: catalog.StatusActive,
		Attributes: catalog.Attributes{"material": "stoneware", "volume_ml": 350.0}, Version: 3, StockVersion: 8}
	for i := range 4 {
		p.Variants = append(p.Variants, catalog.Variant{ID: fmt.Sprintf("v%d", i), SKU: fmt.Sprintf("MUG-%d", i),
			Options: map[string]string{"size": "M"}, Prices: []catalog.Price{{Currency: "USD", Amount: 1299}}, Stock: catalog.Stock{OnHand: 5, Version: 2}})
	}
	c := New(constant{p: p}, time.Hour, 1<<20)
	c.Product(ctx, "p1")
	build := func(d Doc) (any, error) { return d.Gzip, nil }
	b.Run("memo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok, _ := c.Memo(ctx, "p1", "gzip", build); !ok {
				b.Fatal("not cached")
			}
		}
	})
	b.Run("product", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Product(ctx, "p1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
