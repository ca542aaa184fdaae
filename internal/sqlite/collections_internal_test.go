package sqlite

import (
	"context"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// TestCollectionsMigrationOnOldData upgrades a database last migrated before collections
// existed (0004): its products can join a collection, and deleting one takes it out.
func TestCollectionsMigrationOnOldData(t *testing.T) {
	ctx := context.Background()
	path, db := migratedTo(t, 4)
	const id = "0193a0a0-0000-7000-8000-000000000001"
	for _, q := range []string{
		`INSERT INTO categories (slug, name, created_at, updated_at) VALUES ('old', 'Old', 1, 1)`,
		`INSERT INTO products (id, sku, name, name_key, category, status, price_currency, price_amount, version, created_at, updated_at)
			VALUES ('` + id + `', 'OLD-1', 'Old', 'old', 'old', 'active', 'USD', 100, 1, 1, 1)`,
		`INSERT INTO inventory (product_id, on_hand, reserved, version, updated_at) VALUES ('` + id + `', 0, 0, 1, 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateCollection(ctx, catalog.CollectionInput{Slug: "old-picks", Name: "Old picks"}); err != nil {
		t.Fatal(err)
	}
	c, err := s.AddToCollection(ctx, "old-picks", []string{id}, nil)
	if err != nil || c.ProductCount != 1 {
		t.Fatalf("AddToCollection(old product) = %+v, %v", c, err)
	}
	if err := s.DeleteProduct(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	c, err = s.Collection(ctx, "old-picks")
	if err != nil || c.ProductCount != 0 || c.Version != 3 {
		t.Fatalf("after deleting its product: %+v, %v; want no products, version 3", c, err)
	}
}
