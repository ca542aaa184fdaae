package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/sqlite"
	"github.com/acme/catalog/internal/storetest"
)

func open(t *testing.T, clock catalog.Clock) catalog.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

// TestSaleWindowsAcrossInstances opens one file twice, as two processes on one volume would.
func TestSaleWindowsAcrossInstances(t *testing.T) {
	storetest.TestSaleWindowsAcrossInstances(t, func(t *testing.T, clock catalog.Clock) (catalog.Store, catalog.Store) {
		path := filepath.Join(t.TempDir(), sqlite.FileName)
		var stores [2]catalog.Store
		for i := range stores {
			s, err := sqlite.Open(context.Background(), path, sqlite.Options{Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			stores[i] = s
		}
		return stores[0], stores[1]
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", sqlite.FileName)
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "kept", Name: "Kept"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Category(ctx, "kept"); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) catalog.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), sqlite.FileName), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

func TestDeleteKeepsAudit(t *testing.T) {
	storetest.TestDeleteKeepsAudit(t, open, func(t *testing.T, s catalog.Store, id string) (int, int) {
		db, err := sql.Open("sqlite", "file:"+s.(*sqlite.Store).Path()+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var moves, prices int
		if err := db.QueryRow(`SELECT (SELECT count(*) FROM stock_movements WHERE product_id = ?), (SELECT count(*) FROM price_history WHERE product_id = ?)`, id, id).Scan(&moves, &prices); err != nil {
			t.Fatal(err)
		}
		return moves, prices
	})
}

func BenchmarkOutbox(b *testing.B) {
	storetest.BenchOutbox(b, func(b *testing.B) catalog.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), sqlite.FileName), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}, sqlite.WithoutOutbox)
}

// BenchmarkFacets: go test -run '^$' -bench Facets -benchtime 100x ./internal/sqlite/
func BenchmarkFacets(b *testing.B) {
	storetest.BenchFacets(b, func(b *testing.B) catalog.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), sqlite.FileName), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}, nil, nil)
}
