package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/sqlite"
)

// BenchmarkChangeOneVariant changes the price of one variant of a product with 2, 200 or 2,000
// variants (issue 15: a shop with 400 variants must not wait to change one). Target: the p99
// does not grow with the variant count (the write reads the product row and that variant's rows
// only). Run: go test -run '^$' -bench ChangeOneVariant ./internal/sqlite/
func BenchmarkChangeOneVariant(b *testing.B) {
	for _, n := range []int{2, 200, 2000} {
		b.Run(fmt.Sprintf("variants=%d", n), func(b *testing.B) {
			ctx := context.Background()
			s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), sqlite.FileName), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "shoes", Name: "Shoes"}); err != nil {
				b.Fatal(err)
			}
			p, err := s.CreateProduct(ctx, manyVariants(n))
			if err != nil {
				b.Fatal(err)
			}
			durations := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				v := p.Variants[i%n]
				prices := []catalog.PriceInput{{Currency: "EUR", Amount: int64(1000 + i%7)}}
				start := time.Now()
				if _, err := s.UpdateVariant(ctx, p.ID, v.ID, catalog.VariantPatch{Prices: &prices}, 0); err != nil {
					b.Fatal(err)
				}
				durations = append(durations, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(durations)
			p99 := durations[len(durations)*99/100]
			b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
		})
	}
}

// manyVariants is a shoe in n sizes × widths (at most 100 values per option).
func manyVariants(n int) catalog.ProductInput {
	in := catalog.ProductInput{Name: "Shoe", Category: "shoes", Status: catalog.StatusActive}
	sizes, widths := min(n, 100), (n+99)/100
	in.Options = []catalog.Option{{Name: "Size"}, {Name: "Width"}}
	for i := range sizes {
		in.Options[0].Values = append(in.Options[0].Values, fmt.Sprintf("S%d", i))
	}
	for j := range widths {
		in.Options[1].Values = append(in.Options[1].Values, fmt.Sprintf("W%d", j))
	}
	for k := range n {
		in.Variants = append(in.Variants, catalog.VariantInput{SKU: fmt.Sprintf("SHOE-%05d", k),
			Options: map[string]string{"Size": fmt.Sprintf("S%d", k%sizes), "Width": fmt.Sprintf("W%d", k/sizes)},
			Prices:  []catalog.PriceInput{{Currency: "EUR", Amount: 1000}}})
	}
	return in
}
