package sqlite_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/sqlite"
)

// TestImportDryRunReadsOnly: a dry run (the validation pass of every import job) only reads,
// so it does not wait for the file's one writer: another process holding a write transaction
// does not hold it up, and a job's validation pass never holds up the catalog's writes.
func TestImportDryRunReadsOnly(t *testing.T) {
	s := open(t, nil)
	ctx := context.Background()
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "misc", Name: "Misc"}); err != nil {
		t.Fatal(err)
	}
	line := func(sku, name string, amount int64) catalog.ImportItem {
		return catalog.ImportItem{Line: 1, Product: catalog.ProductInput{Name: name, Category: "misc", Status: catalog.StatusActive,
			Variants: []catalog.VariantInput{{SKU: sku, Prices: []catalog.PriceInput{{Currency: "USD", Amount: amount}}}}}}
	}
	if _, err := s.UpsertProducts(ctx, []catalog.ImportItem{line("A-1", "A", 100)}, false); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+s.(*sqlite.Store).Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, `ROLLBACK`)
	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	items := []catalog.ImportItem{line("A-1", "A changed", 200), line("N-1", "New", 100)}
	items[1].Line = 2
	res, err := s.UpsertProducts(dctx, items, true)
	if err != nil {
		t.Fatalf("dry run while another process writes = %v, want it to read without waiting", err)
	}
	if res.Created != 1 || res.Updated != 1 || len(res.Problems) != 0 {
		t.Fatalf("dry run = %+v, want 1 created, 1 updated", res)
	}
}
