package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/storetest"
)

func TestMovesWriteOnlyTheirRows(t *testing.T) {
	storetest.TestMovesWriteOnlyTheirRows(t, open, func(t *testing.T, s catalog.Store, slug string) map[string]int64 {
		rows, err := s.(*postgres.Store).Pool().Query(context.Background(),
			`SELECT product_id::text, position FROM collection_products WHERE collection = $1`, slug)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		var id string
		var pos int64
		if _, err := pgx.ForEachRow(rows, []any{&id, &pos}, func() error { out[id] = pos; return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	})
}

func BenchmarkCollections(b *testing.B) {
	storetest.BenchCollections(b, func(b *testing.B) catalog.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(b), postgres.Options{MaxConns: 8})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

// TestCollectionsMigrationOnOldData upgrades a database last migrated before collections
// existed (0005): its products can join a collection, and deleting one takes it out.
func TestCollectionsMigrationOnOldData(t *testing.T) {
	ctx := context.Background()
	url, conn := migratedTo(ctx, t, 5)
	defer conn.Close(context.Background())
	const id = "0193a0a0-0000-7000-8000-000000000001"
	if _, err := conn.Exec(ctx, `
		INSERT INTO categories (slug, name, created_at, updated_at) VALUES ('old', 'Old', now(), now());
		INSERT INTO products (id, sku, name, name_key, category, status, price_currency, price_amount, version, created_at, updated_at)
			VALUES ('`+id+`', 'OLD-1', 'Old', 'old', 'old', 'active', 'USD', 100, 1, now(), now());
		INSERT INTO inventory (product_id, on_hand, reserved, version, updated_at) VALUES ('`+id+`', 0, 0, 1, now())`); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, url, postgres.Options{})
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
