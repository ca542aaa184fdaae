package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/sqlite"
	"github.com/acme/catalog/internal/storetest"
)

// BenchmarkPrices: go test -run '^$' -bench Prices ./internal/sqlite/
func BenchmarkPrices(b *testing.B) {
	storetest.BenchPrices(b, func(b *testing.B) catalog.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), sqlite.FileName), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}, nil)
}
