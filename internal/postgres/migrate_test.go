package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// TestAuditMigrationKeepsData upgrades a database holding data written before migration 0004:
// old "reason: note" adjustments are split into reason and note, other reasons are left alone,
// and afterwards deleting a product keeps its movements and price history.
func TestAuditMigrationKeepsData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url, conn := migratedTo(ctx, t, 3)
	defer conn.Close(context.Background())
	const id = "0193a0a0-0000-7000-8000-000000000001"
	if _, err := conn.Exec(ctx, `
		INSERT INTO categories (slug, name, created_at, updated_at) VALUES ('old', 'Old', now(), now());
		INSERT INTO products (id, sku, name, name_key, category, status, price_currency, price_amount, version, created_at, updated_at)
			VALUES ('`+id+`', 'OLD-1', 'Old', 'old', 'old', 'active', 'USD', 100, 1, now(), now());
		INSERT INTO inventory (product_id, on_hand, reserved, version, updated_at) VALUES ('`+id+`', 0, 0, 1, now());
		INSERT INTO price_history (product_id, currency, amount, valid_from, applied_at, actor, created_at)
			VALUES ('`+id+`', 'USD', 100, now(), now(), 'a', now());
		INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, actor, at) VALUES
			('`+id+`', 'adjustment', 5, 0, 5, 0, 'received: PO 4711: dock 2', 'a', now()),
			('`+id+`', 'adjustment', -5, 0, 0, 0, 'damaged', 'a', now()),
			('`+id+`', 'initial', 1, 0, 1, 0, 'opening balance', 'a', now())`); err != nil {
		t.Fatal(err)
	}

	s, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	moves, err := s.Movements(ctx, id, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range moves {
		got[m.Reason] = m.Note
	}
	want := map[string]string{"received": "PO 4711: dock 2", "damaged": "", "opening balance": ""}
	for reason, note := range want {
		if n, ok := got[reason]; !ok || n != note {
			t.Errorf("after the migration: reason %q has note %q (present %v), want %q; all: %v", reason, n, ok, note, got)
		}
	}
	if err := s.DeleteProduct(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	var kept, prices, deleted int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM stock_movements WHERE product_id = $1),
		(SELECT count(*) FROM price_history WHERE product_id = $1), (SELECT count(*) FROM deleted_products WHERE id = $1 AND sku = 'OLD-1')`, id).Scan(&kept, &prices, &deleted); err != nil {
		t.Fatal(err)
	}
	if kept != 3 || prices != 1 || deleted != 1 {
		t.Fatalf("after deleting the product: %d movements, %d prices, %d deleted_products rows; want 3, 1, 1", kept, prices, deleted)
	}
}

// TestSearchMigrationIndexesOldRows upgrades a database holding a product written before
// migration 0005, which rebuilds the search column with accents folded and the SKU: the old
// product is found by its SKU, by its name without the accent, and by a prefix.
func TestSearchMigrationIndexesOldRows(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url, conn := migratedTo(ctx, t, 4)
	defer conn.Close(context.Background())
	const id = "0193a0a0-0000-7000-8000-000000000001"
	if _, err := conn.Exec(ctx, `
		INSERT INTO categories (slug, name, created_at, updated_at) VALUES ('old', 'Old', now(), now());
		INSERT INTO products (id, sku, name, name_key, category, status, price_currency, price_amount, version, created_at, updated_at)
			VALUES ('`+id+`', 'OLDSKU-77', 'Crème kettle', 'crème kettle', 'old', 'active', 'USD', 100, 1, now(), now());
		INSERT INTO inventory (product_id, on_hand, reserved, version, updated_at) VALUES ('`+id+`', 0, 0, 1, now())`); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, q := range []string{"oldsku-77", "OLDSKU 77", "creme kettle", "crème ket"} {
		page, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortName, Limit: 10, Filter: catalog.ProductFilter{Query: q}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 {
			t.Errorf("q=%q after migration 0005: %d products, want the old one", q, len(page.Items))
		}
	}
}

// migratedTo returns a new database with the first n migrations applied and recorded, as a
// database last migrated by an older binary would be, and a connection to it.
func migratedTo(ctx context.Context, t *testing.T, n int) (string, *pgx.Conn) {
	t.Helper()
	url := pgtest.URL(t)
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
		checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:n] {
		if _, err := conn.Exec(ctx, m.SQL); err != nil {
			t.Fatalf("migration %d: %v", m.Version, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, m.Version, m.Name, m.Checksum); err != nil {
			t.Fatal(err)
		}
	}
	return url, conn
}
