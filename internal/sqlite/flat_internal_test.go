package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// TestVariantWritesTouchOneVariant counts the rows each variant write changes (SQLite's
// total_changes on the one write connection, triggers included) on a product of 2 variants and
// on one of 1,000: the same, so a write to one variant never rewrites its siblings. (The reads
// are on indexes: the variant by ID, the product by ID; BenchmarkChangeOneVariant times both.)
func TestVariantWritesTouchOneVariant(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "shoes", Name: "Shoes"}); err != nil {
		t.Fatal(err)
	}
	changes := func() int64 {
		var n int64
		if err := s.w.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	counts := map[int][]int64{}
	for _, n := range []int{2, 1000} {
		in := catalog.ProductInput{Name: fmt.Sprintf("Shoe %d", n), Category: "shoes", Status: catalog.StatusActive,
			Options: []catalog.Option{{Name: "Size"}, {Name: "Width"}}}
		for i := range 100 {
			in.Options[0].Values = append(in.Options[0].Values, fmt.Sprint(i))
		}
		for j := range 11 {
			in.Options[1].Values = append(in.Options[1].Values, fmt.Sprint(j))
		}
		for k := range n {
			in.Variants = append(in.Variants, catalog.VariantInput{SKU: fmt.Sprintf("S%d-%05d", n, k),
				Options: map[string]string{"Size": fmt.Sprint(k % 100), "Width": fmt.Sprint(k / 100)},
				Prices:  []catalog.PriceInput{{Currency: "EUR", Amount: 1000}}, InitialStock: 1})
		}
		p, err := s.CreateProduct(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		v := p.Variants[n/2]
		prices := []catalog.PriceInput{{Currency: "EUR", Amount: 900}, {Currency: "USD", Amount: 1100}}
		label := fmt.Sprint(n)
		weight := int64(500)
		steps := []func() error{
			func() error {
				_, err := s.UpdateVariant(ctx, p.ID, v.ID, catalog.VariantPatch{Prices: &prices, WeightGrams: ptr(&weight)}, 0)
				return err
			},
			func() error {
				_, err := s.AddVariant(ctx, p.ID, catalog.VariantInput{SKU: "NEW-" + label, Options: map[string]string{"Size": "99", "Width": "10"},
					Prices: []catalog.PriceInput{{Currency: "EUR", Amount: 1}}}, 0)
				return err
			},
			func() error {
				_, _, err := s.SetPrice(ctx, v.ID, catalog.PriceChange{Currency: "EUR", Amount: 800}, "a", 0)
				return err
			},
			func() error {
				_, err := s.AdjustStock(ctx, v.ID, catalog.Adjustment{Delta: -1, Reason: "lost"}, "a", nil)
				return err
			},
			func() error { return s.DeleteVariant(ctx, p.ID, v.ID, 0) },
		}
		for i, step := range steps {
			before := changes()
			if err := step(); err != nil {
				t.Fatalf("%d variants, step %d: %v", n, i, err)
			}
			counts[n] = append(counts[n], changes()-before)
		}
	}
	for i := range counts[2] {
		if counts[2][i] != counts[1000][i] {
			t.Errorf("step %d changes %d rows on a product of 2 variants and %d on one of 1,000", i, counts[2][i], counts[1000][i])
		}
	}
	t.Logf("rows changed per step (update, add, set price, adjust, delete): %v", counts[2])
}

func ptr(p *int64) **int64 { return &p }
