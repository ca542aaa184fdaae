package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// BenchPrices measures price writes (issue 17): a single SetPrice at a time, and batches of
// 100 lines, on 100 one-variant products, reporting prices written per second. Each applied
// price records its history line, its event (with the product's price version) and moves the
// product's version. statements, when not nil, counts the statements the store has sent so
// far: the benchmark then also reports statements per price written, a figure the machine's
// load does not move.
func BenchPrices(b *testing.B, open BenchOpener, statements func() int64) {
	report := func(b *testing.B, from int64, prices int) {
		b.ReportMetric(float64(prices)/b.Elapsed().Seconds(), "prices/s")
		if statements != nil {
			b.ReportMetric(float64(statements()-from)/float64(prices), "stmts/price")
		}
	}
	count := func() int64 {
		if statements == nil {
			return 0
		}
		return statements()
	}
	setup := func(b *testing.B) (catalog.Store, []string) {
		s := open(b)
		ids := benchCatalog(b, s, 100)
		skus := make([]string, len(ids))
		for i := range skus {
			skus[i] = fmt.Sprintf("B-%07d", i)
		}
		return s, skus
	}
	b.Run("SetPrice", func(b *testing.B) {
		s, skus := setup(b)
		ctx := context.Background()
		vids := make([]string, len(skus))
		for i, sku := range skus {
			_, v, err := s.VariantBySKU(ctx, sku)
			if err != nil {
				b.Fatal(err)
			}
			vids[i] = v.ID
		}
		b.ResetTimer()
		from := count()
		for i := range b.N {
			if _, _, err := s.SetPrice(ctx, vids[i%len(vids)], catalog.PriceChange{Currency: "USD", Amount: int64(200 + i%997)}, "bench", 0); err != nil {
				b.Fatal(err)
			}
		}
		report(b, from, b.N)
	})
	b.Run("SetPriceBatch/lines=100", func(b *testing.B) {
		s, skus := setup(b)
		ctx := context.Background()
		lines := make([]catalog.PriceLine, len(skus))
		b.ResetTimer()
		from := count()
		for i := range b.N {
			for j, sku := range skus {
				lines[j] = catalog.PriceLine{SKU: sku, PriceChange: catalog.PriceChange{Currency: "USD", Amount: int64(200 + (i+j)%997)}}
			}
			if _, err := s.SetPriceBatch(ctx, lines, "bench", nil); err != nil {
				b.Fatal(err)
			}
		}
		report(b, from, b.N*len(skus))
	})
}
