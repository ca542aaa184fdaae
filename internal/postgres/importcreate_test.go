package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// TestImportCreatesAsBefore: what a create batch writes no longer goes through reads or pgx's
// fallbacks (summaries from the batch in hand, nullable amounts as -1, IDs as text), so random
// batches check it against what the tables say: every price summary is its product's variant
// prices' min and max per currency, no summary more or less; a weight or compare-at price left
// out reads back absent, and 0 reads back 0.
func TestImportCreatesAsBefore(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "things", Name: "Things"}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(17, 2026))
	ptr := func(v int64) *int64 { return &v }
	var want []catalog.ProductInput
	for batch := range 4 {
		items := make([]catalog.ImportItem, 40)
		for i := range items {
			in := catalog.ProductInput{Name: fmt.Sprintf("Thing %d-%d", batch, i), Category: "things", Status: catalog.StatusActive}
			for j := range 1 + rng.IntN(5) {
				v := catalog.VariantInput{SKU: fmt.Sprintf("T-%d-%d-%d", batch, i, j), Options: map[string]string{"n": fmt.Sprint(j)}}
				switch rng.IntN(3) {
				case 1:
					v.WeightGrams = ptr(0)
				case 2:
					v.WeightGrams = ptr(rng.Int64N(5000))
				}
				for _, cur := range []string{"USD", "EUR", "GBP"} {
					if rng.IntN(3) == 0 && !(cur == "USD" && len(v.Prices) == 0) {
						continue
					}
					p := catalog.PriceInput{Currency: cur, Amount: rng.Int64N(10_000)}
					if rng.IntN(2) == 0 {
						p.CompareAt = ptr(p.Amount + 1 + rng.Int64N(500))
					}
					v.Prices = append(v.Prices, p)
				}
				in.Variants = append(in.Variants, v)
			}
			if len(in.Variants) > 1 {
				in.Options = []catalog.Option{{Name: "n"}}
				for j := range in.Variants {
					in.Options[0].Values = append(in.Options[0].Values, fmt.Sprint(j))
				}
			} else {
				in.Variants[0].Options = nil
			}
			in.Normalize()
			items[i] = catalog.ImportItem{Line: i + 1, Product: in}
			want = append(want, in)
		}
		res, err := s.UpsertProducts(ctx, items, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != len(items) || len(res.Problems) != 0 {
			t.Fatalf("batch %d: %+v", batch, res)
		}
	}
	var wrong int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM (
			(SELECT product_id, currency, min(amount), max(amount) FROM variant_prices GROUP BY 1, 2
			 EXCEPT SELECT product_id, currency, min_amount, max_amount FROM product_prices)
			UNION ALL
			(SELECT product_id, currency, min_amount, max_amount FROM product_prices
			 EXCEPT SELECT product_id, currency, min(amount), max(amount) FROM variant_prices GROUP BY 1, 2)) d`).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Errorf("%d price summaries differ from their variants' prices", wrong)
	}
	for _, in := range want {
		for _, v := range in.Variants {
			_, got, err := s.VariantBySKU(ctx, v.SKU)
			if err != nil {
				t.Fatal(err)
			}
			if !sameAmount(got.WeightGrams, v.WeightGrams) {
				t.Errorf("%s: weight %v, imported %v", v.SKU, show(got.WeightGrams), show(v.WeightGrams))
			}
			if len(got.Prices) != len(v.Prices) {
				t.Fatalf("%s: %d prices, imported %d", v.SKU, len(got.Prices), len(v.Prices))
			}
			byCur := map[string]catalog.Price{}
			for _, p := range got.Prices {
				byCur[p.Currency] = p
			}
			for _, p := range v.Prices {
				g := byCur[p.Currency]
				if g.Amount != p.Amount || !sameAmount(g.CompareAt, p.CompareAt) {
					t.Errorf("%s %s: %d (was %v), imported %d (was %v)", v.SKU, p.Currency, g.Amount, show(g.CompareAt), p.Amount, show(p.CompareAt))
				}
			}
		}
	}
	// Migration 0017: new event bodies are compressed with lz4 (this server has it).
	var method string
	if err := s.Pool().QueryRow(ctx, `SELECT attcompression::text FROM pg_attribute WHERE attrelid = 'events'::regclass AND attname = 'data'`).Scan(&method); err != nil {
		t.Fatal(err)
	}
	if method != "l" {
		t.Errorf("events.data compression %q, want l (lz4)", method)
	}
}

func sameAmount(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func show(p *int64) string {
	if p == nil {
		return "absent"
	}
	return fmt.Sprint(*p)
}
