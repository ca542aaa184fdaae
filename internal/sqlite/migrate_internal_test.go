package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/migrate"
)

// TestAuditMigrationKeepsData upgrades a database holding data written before migration 0003,
// which rebuilds the log tables: every row survives, old "reason: note" adjustments are split,
// and afterwards deleting a product keeps its movements and price history.
func TestAuditMigrationKeepsData(t *testing.T) {
	ctx := context.Background()
	path, db := migratedTo(t, 2)
	defer db.Close()
	const id = "0193a0a0-0000-7000-8000-000000000001"
	for _, q := range []string{
		`INSERT INTO categories (slug, name, created_at, updated_at) VALUES ('old', 'Old', 1, 1)`,
		`INSERT INTO products (id, sku, name, name_key, category, status, price_currency, price_amount, version, created_at, updated_at)
			VALUES ('` + id + `', 'OLD-1', 'Old', 'old', 'old', 'active', 'USD', 100, 1, 1, 1)`,
		`INSERT INTO inventory (product_id, on_hand, reserved, version, updated_at) VALUES ('` + id + `', 0, 0, 1, 1)`,
		`INSERT INTO price_history (product_id, currency, amount, valid_from, applied_at, actor, created_at) VALUES ('` + id + `', 'USD', 100, 1, 1, 'a', 1)`,
		`INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, actor, at) VALUES
			('` + id + `', 'adjustment', 5, 0, 5, 0, 'received: PO 4711: dock 2', 'a', 1),
			('` + id + `', 'adjustment', -5, 0, 0, 0, 'damaged', 'a', 2),
			('` + id + `', 'initial', 1, 0, 1, 0, 'opening balance', 'a', 3)`,
		`INSERT INTO reservations (id, status, actor, expires_at, created_at, updated_at) VALUES ('r1', 'committed', 'a', 1, 1, 1)`,
		`INSERT INTO reservation_lines (reservation_id, line, product_id, sku, quantity) VALUES ('r1', 0, '` + id + `', 'OLD-1', 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path, Options{})
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
	var kept, prices, lines, deleted int
	if err := s.r.QueryRow(`SELECT (SELECT count(*) FROM stock_movements WHERE product_id = ?), (SELECT count(*) FROM price_history WHERE product_id = ?),
		(SELECT count(*) FROM reservation_lines WHERE product_id = ?), (SELECT count(*) FROM deleted_products WHERE id = ? AND sku = 'OLD-1')`,
		id, id, id, id).Scan(&kept, &prices, &lines, &deleted); err != nil {
		t.Fatal(err)
	}
	if kept != 3 || prices != 1 || lines != 1 || deleted != 1 {
		t.Fatalf("after deleting the product: %d movements, %d prices, %d reservation lines, %d deleted_products rows; want 3, 1, 1, 1", kept, prices, lines, deleted)
	}
	var fkProblems int
	if err := s.r.QueryRow(`SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fkProblems); err != nil {
		t.Fatal(err)
	}
	if fkProblems != 0 {
		t.Fatalf("%d foreign key violations after the migration", fkProblems)
	}
}

// TestSearchMigrationIndexesOldRows upgrades a database holding a product written before
// migration 0004, which rebuilds the full-text table with the SKU: the old product is found by
// its SKU and its name, and later edits keep the index right.
func TestSearchMigrationIndexesOldRows(t *testing.T) {
	ctx := context.Background()
	path, db := migratedTo(t, 3)
	defer db.Close()
	const id = "0193a0a0-0000-7000-8000-000000000001"
	for _, q := range []string{
		`INSERT INTO categories (slug, name, created_at, updated_at) VALUES ('old', 'Old', 1, 1)`,
		`INSERT INTO products (id, sku, name, name_key, category, status, price_currency, price_amount, version, created_at, updated_at)
			VALUES ('` + id + `', 'OLDSKU-77', 'Vintage kettle', 'vintage kettle', 'old', 'active', 'USD', 100, 1, 1, 1)`,
		`INSERT INTO inventory (product_id, on_hand, reserved, version, updated_at) VALUES ('` + id + `', 0, 0, 1, 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	find := func(q string) int {
		t.Helper()
		page, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortName, Limit: 10, Filter: catalog.ProductFilter{Query: q}})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Items)
	}
	if find("oldsku-77") != 1 || find("vintage kett") != 1 {
		t.Fatalf("the product written before migration 0004 is not found by SKU (%d) or name (%d)", find("oldsku-77"), find("vintage kett"))
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE products SET sku = 'NEWSKU-1', name = 'Copper kettle' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if find("oldsku") != 0 || find("newsku 1") != 1 || find("vintage") != 0 || find("copper") != 1 {
		t.Fatal("after an edit the index still holds the old SKU or name, or misses the new ones")
	}
}

// migratedTo returns the path of a new database file with the first n migrations applied and
// recorded, as a database last migrated by an older binary would be, and a handle on it.
func migratedTo(t *testing.T, n int) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	ms, err := migrate.Load(migrationFS())
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:n] {
		if _, err := db.Exec(m.SQL); err != nil {
			t.Fatalf("migration %d: %v", m.Version, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, ?, ?, ?)`, m.Version, m.Name, m.Checksum, time.Now().UnixMicro()); err != nil {
			t.Fatal(err)
		}
	}
	return path, db
}
