package postgres_test

import (
	"context"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/storetest"
)

// BenchmarkPrices: go test -run x -bench Prices ./internal/postgres/
func BenchmarkPrices(b *testing.B) {
	storetest.BenchPrices(b, func(b *testing.B) catalog.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(b), postgres.Options{MaxConns: 4})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
