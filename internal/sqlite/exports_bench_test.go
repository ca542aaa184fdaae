package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/sqlite"
	"github.com/acme/catalog/internal/storetest"
)

// BenchmarkExport: go test -run '^$' -bench Export -benchtime 1x ./internal/sqlite
// (EXPORT_BENCH_PRODUCTS sets the catalog's size, 100,000 by default).
func BenchmarkExport(b *testing.B) {
	storetest.BenchExport(b, func(b *testing.B) catalog.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), sqlite.FileName), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}, nil)
}
