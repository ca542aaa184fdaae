package postgres_test

import (
	"context"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// TestExportCursorAroundOpenTransactions makes ADR 0020's two PostgreSQL cases deterministic.
// A holds an xid from before the export and stays open, so nothing after it can be numbered.
// B (a category) commits before the export's snapshot but, held back by A, is not numbered: it
// is in the export's snapshot and its event comes after the cursor (a repeat, harmless). C is
// a product rename still uncommitted when the snapshot is taken: the export shows the old name,
// and C's event must come after the cursor (no gap), numbered once C and A end.
func TestExportCursorAroundOpenTransactions(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "cups", Name: "Cups"}); err != nil {
		t.Fatal(err)
	}
	in := catalog.ProductInput{Name: "Cup", Category: "cups", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "CUP-1", Prices: []catalog.PriceInput{{Currency: "USD", Amount: 500}}}}}
	p, err := s.CreateProduct(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Events(ctx, catalog.EventQuery{Limit: 10}); err != nil { // number what is there
		t.Fatal(err)
	}

	a, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback(ctx)
	if _, err := a.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // A takes an xid and waits
		t.Fatal(err)
	}
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "mugs", Name: "Mugs"}); err != nil { // B
		t.Fatal(err)
	}
	c, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Rollback(ctx)
	if _, err := c.Exec(ctx, `UPDATE products SET name = 'Renamed cup', version = version + 1 WHERE id = $1`, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `INSERT INTO events (id, type, subject, actor, at) VALUES ($1, 'catalog.product.updated', $2, 'test', now())`,
		catalog.NewID(), "products/"+p.ID); err != nil {
		t.Fatal(err)
	}

	var head catalog.ExportHead
	var names []string
	if err := s.Export(ctx, catalog.ExportQuery{}, func(h catalog.ExportHead) error { head = h; return nil },
		func(p catalog.Product) error { names = append(names, p.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "Cup" {
		t.Fatalf("export = %v, want the cup under its committed name", names)
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := s.Events(ctx, catalog.EventQuery{After: head.Cursor, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, e := range page.Events {
		subjects = append(subjects, e.Subject)
	}
	if len(subjects) != 2 || subjects[0] != "categories/mugs" || subjects[1] != "products/"+p.ID {
		t.Fatalf("events after the export's cursor %d: %v, want B's (a repeat of what the export shows) then C's (which it does not)", head.Cursor, subjects)
	}
}
