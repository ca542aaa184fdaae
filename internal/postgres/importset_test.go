package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/postgres"
)

// TestImportBatchRedoneWhenAWriterRaces: a SKU taken by a concurrent writer between a batch's
// lookups and its set-based writes makes a statement fail without naming a line; the batch is
// redone line by line against the new state, so the other lines still apply and nothing fails.
func TestImportBatchRedoneWhenAWriterRaces(t *testing.T) {
	ctx := context.Background()
	s := open(t, nil)
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "race", Name: "Race"}); err != nil {
		t.Fatal(err)
	}
	line := func(sku, name string) catalog.ProductInput {
		return catalog.ProductInput{Name: name, Category: "race", Status: catalog.StatusActive,
			Variants: []catalog.VariantInput{{SKU: sku, Prices: []catalog.PriceInput{{Currency: "USD", Amount: 100}}}}}
	}
	var once sync.Once
	var raced catalog.Product
	defer postgres.BeforeImportWrite(func() {
		once.Do(func() {
			var err error
			if raced, err = s.CreateProduct(ctx, line("RACE-B", "Taken first")); err != nil {
				t.Error(err)
			}
		})
	})()
	res, err := s.UpsertProducts(ctx, []catalog.ImportItem{{Line: 1, Product: line("RACE-A", "A")}, {Line: 2, Product: line("RACE-B", "B")}}, false)
	if err != nil {
		t.Fatalf("UpsertProducts = %v, want the batch redone", err)
	}
	if res.Created != 1 || res.Updated != 1 || len(res.Problems) != 0 {
		t.Fatalf("result = %+v, want RACE-A created and the raced product updated by line 2", res)
	}
	p, _, err := s.VariantBySKU(ctx, "RACE-B")
	if err != nil || p.ID != raced.ID || p.Name != "B" {
		t.Errorf("RACE-B belongs to %s %q (%v), want the raced product %s renamed B", p.ID, p.Name, err, raced.ID)
	}
	if _, _, err := s.VariantBySKU(ctx, "RACE-A"); err != nil {
		t.Errorf("RACE-A: %v", err)
	}
}
