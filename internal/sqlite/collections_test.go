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

func TestMovesWriteOnlyTheirRows(t *testing.T) {
	storetest.TestMovesWriteOnlyTheirRows(t, open, func(t *testing.T, s catalog.Store, slug string) map[string]int64 {
		db, err := sql.Open("sqlite", "file:"+s.(interface{ Path() string }).Path()+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(`SELECT product_id, position FROM collection_products WHERE collection = ?`, slug)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int64{}
		for rows.Next() {
			var id string
			var pos int64
			if err := rows.Scan(&id, &pos); err != nil {
				t.Fatal(err)
			}
			out[id] = pos
		}
		return out
	})
}

func BenchmarkCollections(b *testing.B) {
	storetest.BenchCollections(b, func(b *testing.B) catalog.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), sqlite.FileName), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
