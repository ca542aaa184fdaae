package postgres_test

import (
	"context"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/storetest"
)

// BenchmarkExport: go test -run '^$' -bench Export -benchtime 1x ./internal/postgres
// (EXPORT_BENCH_PRODUCTS sets the catalog's size, 100,000 by default).
func BenchmarkExport(b *testing.B) {
	storetest.BenchExport(b, func(b *testing.B) catalog.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(b), postgres.Options{MaxConns: 16})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}, analyze)
}
