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
