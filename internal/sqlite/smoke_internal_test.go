package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "shirts", Name: "Shirts"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAttribute(ctx, catalog.AttributeDefinitionInput{Key: "colour", Name: "Colour", Type: catalog.AttrText, Filterable: true}); err != nil {
		t.Fatal(err)
	}
	p, err := s.CreateProduct(ctx, catalog.ProductInput{Name: "Tee", Category: "shirts", Status: catalog.StatusActive,
		Options: []catalog.Option{{Name: "Size", Values: []string{"S", "M"}}},
		Variants: []catalog.VariantInput{
			{SKU: "TEE-S", Options: map[string]string{"Size": "S"}, Prices: []catalog.PriceInput{{Currency: "EUR", Amount: 1000}}, InitialStock: 5, Attributes: catalog.Attributes{"colour": "red"}},
			{SKU: "TEE-M", Options: map[string]string{"Size": "M"}, Prices: []catalog.PriceInput{{Currency: "EUR", Amount: 1200}, {Currency: "USD", Amount: 1300}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", p)
	page, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortPrice, Limit: 10, Filter: catalog.ProductFilter{Currency: "EUR", Query: "tee-m",
		Attributes: []catalog.AttributeFilter{{Key: "colour", Type: catalog.AttrText, Values: []string{"red"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", page.Items)
	if len(page.Items) != 1 {
		t.Fatal("list")
	}
	r, err := s.Reserve(ctx, catalog.ReservationInput{Lines: []catalog.ReservationLine{{SKU: "tee-s", Quantity: 2}}}, "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
}
