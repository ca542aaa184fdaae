package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/storetest"
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
func migratedTo(ctx context.Context, t testing.TB, n int) (string, *pgx.Conn) {
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

// TestVariantMigrationKeepsEveryRow upgrades a database as the 0005 schema left it: two
// products (one with images, string attributes, stock, a held and a committed reservation, a
// scheduled price and price history), and a deleted product whose logs were kept. After
// migration 0006 every product is a product with one variant of the same ID, and every row
// arrived: SKUs, stock and stock versions, versions, movements (with their SKU), reservation
// lines, price history, the current price and its list summary, attributes (defined as text),
// media; and the inventory core still works on it.
func TestVariantMigrationKeepsEveryRow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url, conn := migratedTo(ctx, t, 5)
	defer conn.Close(context.Background())
	const (
		a    = "0193a0a0-0000-7000-8000-00000000000a"
		b    = "0193a0a0-0000-7000-8000-00000000000b"
		gone = "0193a0a0-0000-7000-8000-00000000000c"
		held = "0193a0a0-0000-7000-8000-0000000000d1"
		done = "0193a0a0-0000-7000-8000-0000000000d2"
	)
	if _, err := conn.Exec(ctx, `
		INSERT INTO categories (slug, name, created_at, updated_at) VALUES ('old', 'Old', now(), now());
		INSERT INTO products (id, sku, name, name_key, description, category, brand, attributes, images, status, price_currency, price_amount, version, created_at, updated_at) VALUES
			('`+a+`', 'Old-A', 'Old lamp', 'old lamp', 'Bright', 'old', 'Acme', '{"colour": "red", "Finish": "matte", "Screen size": "13", "Größe": "M"}', '["https://img.example/a1.jpg", "https://img.example/a2.jpg"]',
				'active', 'EUR', 1500, 7, '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z'),
			('`+b+`', 'QX-B77', 'Old tent', 'old tent', '', 'old', '', '{}', '[]', 'draft', 'USD', 9900, 2, '2025-01-02T00:00:00Z', '2025-01-02T00:00:00Z');
		INSERT INTO inventory (product_id, on_hand, reserved, version, updated_at) VALUES
			('`+a+`', 10, 3, 5, now()), ('`+b+`', 0, 0, 1, now());
		INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, note, reservation_id, actor, at) VALUES
			('`+a+`', 'initial', 12, 0, 12, 0, 'opening balance', '', NULL, 'm', '2025-01-01T00:00:00Z'),
			('`+a+`', 'reserve', 0, 2, 12, 2, '', '', '`+done+`', 'm', '2025-01-03T00:00:00Z'),
			('`+a+`', 'commit', -2, -2, 10, 0, '', '', '`+done+`', 'm', '2025-01-04T00:00:00Z'),
			('`+a+`', 'reserve', 0, 3, 10, 3, '', '', '`+held+`', 'm', '2025-01-05T00:00:00Z'),
			('`+gone+`', 'adjustment', 4, 0, 4, 0, 'received', 'PO 1', NULL, 'm', '2024-12-01T00:00:00Z'),
			('`+gone+`', 'adjustment', -4, 0, 0, 0, 'lost', '', NULL, 'm', '2024-12-02T00:00:00Z');
		INSERT INTO deleted_products (id, sku, name, actor, deleted_at) VALUES ('`+gone+`', 'GONE-1', 'Gone', 'm', '2024-12-03T00:00:00Z');
		INSERT INTO reservations (id, status, actor, expires_at, created_at, updated_at) VALUES
			('`+held+`', 'held', 'shop', '2999-01-01T00:00:00Z', '2025-01-05T00:00:00Z', '2025-01-05T00:00:00Z'),
			('`+done+`', 'committed', 'shop', '2025-01-03T00:15:00Z', '2025-01-03T00:00:00Z', '2025-01-04T00:00:00Z');
		INSERT INTO reservation_lines (reservation_id, line, product_id, sku, quantity) VALUES
			('`+held+`', 0, '`+a+`', 'Old-A', 3), ('`+done+`', 0, '`+a+`', 'Old-A', 2);
		INSERT INTO price_history (product_id, currency, amount, valid_from, applied_at, actor, created_at) VALUES
			('`+a+`', 'EUR', 2000, '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z', 'm', '2025-01-01T00:00:00Z'),
			('`+a+`', 'EUR', 1500, '2025-02-01T00:00:00Z', '2025-02-01T00:00:00Z', 'm', '2025-02-01T00:00:00Z'),
			('`+a+`', 'EUR', 1200, '2026-06-02T00:00:00Z', NULL, 'm', '2025-02-02T00:00:00Z'),
			('`+b+`', 'USD', 9900, '2025-01-02T00:00:00Z', '2025-01-02T00:00:00Z', 'm', '2025-01-02T00:00:00Z'),
			('`+gone+`', 'USD', 100, '2024-12-01T00:00:00Z', '2024-12-01T00:00:00Z', 'm', '2024-12-01T00:00:00Z');
		INSERT INTO idempotency_keys (actor, key, fingerprint, result, created_at) VALUES ('shop', 'k1', 'f', '{}', now())`); err != nil {
		t.Fatal(err)
	}

	clock := storetest.NewFakeClock() // 2026-06-01 12:00
	s, err := postgres.Open(ctx, url, postgres.Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	pa, err := s.Product(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	want := catalog.Product{ID: a, Name: "Old lamp", Description: "Bright", Category: "old", Brand: "Acme", Status: catalog.StatusActive,
		Attributes: catalog.Attributes{"colour": "red", "finish": "matte", "screen_size": "13", "attr_4772c3b6c39f65": "M"},
		Media:      []catalog.Media{{URL: "https://img.example/a1.jpg"}, {URL: "https://img.example/a2.jpg"}},
		Options:    []catalog.Option{}, Version: 7, StockVersion: 5, VariantCount: 1,
		PriceRanges:  []catalog.PriceRange{{Currency: "EUR", Min: 1500, Max: 1500}},
		Availability: catalog.Availability{InStock: true, Available: 7},
		CreatedAt:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
	if len(pa.Variants) != 1 {
		t.Fatalf("product A has %d variants after the migration, want 1", len(pa.Variants))
	}
	v := pa.Variants[0]
	wantV := catalog.Variant{ID: a, ProductID: a, SKU: "Old-A", Options: map[string]string{}, Attributes: catalog.Attributes{},
		Prices: []catalog.Price{{Currency: "EUR", Amount: 1500}}, Stock: catalog.NewStock(10, 3, 5), ProductVersion: 7,
		CreatedAt: want.CreatedAt, UpdatedAt: want.UpdatedAt}
	if want, got := wantV, v; !reflect.DeepEqual(want, got) {
		t.Errorf("variant of product A after the migration:\n got %+v\nwant %+v", got, want)
	}
	pa.Variants = nil
	if want, got := want, pa; !reflect.DeepEqual(want, got) {
		t.Errorf("product A after the migration:\n got %+v\nwant %+v", got, want)
	}
	if _, err := s.PatchProduct(ctx, a, catalog.ProductPatch{Description: ptr("Brighter")}, 0); err != nil {
		t.Errorf("PatchProduct of a migrated product: %v", err)
	}
	pa.Version++
	if _, vb, err := s.VariantBySKU(ctx, "qx-b77"); err != nil || vb.ID != b || vb.Stock != catalog.NewStock(0, 0, 1) {
		t.Errorf("VariantBySKU(qx-b77) = %+v, %v; want variant %s with no stock", vb, err, b)
	}

	// Every attribute key in use is defined, as a valid key, text, not filterable, named as it
	// was written; the product stays editable.
	defs, err := s.AttributeList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, d := range defs {
		keys = append(keys, d.Key+"="+d.Name)
		if d.Type != catalog.AttrText || d.Filterable {
			t.Errorf("migrated definition %+v: want text, not filterable", d)
		}
	}
	if want, got := []string{"attr_4772c3b6c39f65=Größe", "colour=colour", "finish=Finish", "screen_size=Screen size"}, keys; !reflect.DeepEqual(want, got) {
		t.Errorf("migrated attribute definitions:\n got %+v\nwant %+v", got, want)
	}

	// Movements: all four of A's, with the variant and its SKU; the deleted product's kept,
	// named by its SKU from deleted_products.
	moves, err := s.Movements(ctx, a, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(moves) != 4 {
		t.Fatalf("product A has %d movements after the migration, want 4", len(moves))
	}
	for _, m := range moves {
		if m.VariantID != a || m.ProductID != a || m.SKU != "Old-A" {
			t.Errorf("movement %+v: want variant, product %s and SKU Old-A", m, a)
		}
	}
	var goneSKUs []string
	rows, err := conn.Query(ctx, `SELECT sku FROM stock_movements WHERE variant_id = $1`, gone)
	if err != nil {
		t.Fatal(err)
	}
	if goneSKUs, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	if want, got := []string{"GONE-1", "GONE-1"}, goneSKUs; !reflect.DeepEqual(want, got) {
		t.Errorf("kept movements of a deleted product:\n got %+v\nwant %+v", got, want)
	}

	// Reservation lines name the variant; the held one still commits, and the log sums to stock.
	r, err := s.Reservation(ctx, held)
	if err != nil {
		t.Fatal(err)
	}
	if want, got := []catalog.ReservationLine{{SKU: "Old-A", Quantity: 3, VariantID: a, ProductID: a}}, r.Lines; !reflect.DeepEqual(want, got) {
		t.Errorf("held reservation's lines:\n got %+v\nwant %+v", got, want)
	}
	if _, err := s.CommitReservation(ctx, held, "shop", nil); err != nil {
		t.Fatal(err)
	}
	var onHand, reserved, sumOn, sumRes int64
	if err := conn.QueryRow(ctx, `SELECT i.on_hand, i.reserved, (SELECT sum(on_hand_delta) FROM stock_movements WHERE variant_id = $1),
		(SELECT sum(reserved_delta) FROM stock_movements WHERE variant_id = $1) FROM inventory i WHERE variant_id = $1`, a).Scan(&onHand, &reserved, &sumOn, &sumRes); err != nil {
		t.Fatal(err)
	}
	if onHand != 7 || reserved != 0 || sumOn != onHand || sumRes != reserved {
		t.Errorf("after committing the migrated reservation: on hand %d, reserved %d, log sums %d/%d; want 7, 0 and equal sums", onHand, reserved, sumOn, sumRes)
	}

	// Price history: every line, by variant; the scheduled one still applies, with its prior
	// price computed from the migrated history (lowest of the 30 days before: 1500).
	hist, err := s.PriceHistory(ctx, a, "")
	if err != nil {
		t.Fatal(err)
	}
	var amounts []int64
	for _, e := range hist {
		amounts = append(amounts, e.Price.Amount)
		if e.VariantID != a || e.Kind != catalog.PriceSet {
			t.Errorf("migrated history line %+v: want variant %s, kind set", e, a)
		}
	}
	if want, got := []int64{2000, 1500, 1200}, amounts; !reflect.DeepEqual(want, got) {
		t.Errorf("product A's price history:\n got %+v\nwant %+v", got, want)
	}
	clock.Advance(13 * time.Hour)
	applied, err := s.ApplyDuePrices(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 1 || applied[0].VariantID != a || applied[0].Price.Amount != 1200 {
		t.Fatalf("ApplyDuePrices after the migration = %+v, want the scheduled EUR 1200 of %s", applied, a)
	}
	after, err := s.Variant(ctx, a, a)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := after.Price("EUR"); p.Amount != 1200 || p.PriorPrice == nil || *p.PriorPrice != 1500 || after.ProductVersion != 9 {
		t.Errorf("after the scheduled price: %+v (product version %d), want 1200 with prior price 1500, version 9", p, after.ProductVersion)
	}

	// Lists read the migrated summaries: sorted by price in USD, only B has one.
	page, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortPrice, Limit: 10, Filter: catalog.ProductFilter{Currency: "USD"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].ID != b || page.Items[0].VariantCount != 1 {
		t.Errorf("list by USD price after the migration: %+v, want product B alone", page.Items)
	}
	// The SKU is still searchable, in any case and punctuation.
	for _, q := range []string{"qx-b77", "QX B77"} {
		page, err = s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortNewest, Limit: 10, Filter: catalog.ProductFilter{Query: q}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Items[0].ID != b {
			t.Errorf("search for the SKU %q after the migration: %+v, want product B", q, page.Items)
		}
	}
	var keysLeft int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys`).Scan(&keysLeft); err != nil || keysLeft != 1 {
		t.Errorf("idempotency keys after the migration: %d, %v; want 1", keysLeft, err)
	}
}

// BenchmarkVariantMigration times migration 0006 on a database as 0005 left it, with 100,000
// products, three movements and two price lines each, and prints the rate (the README's
// runbook quotes it). Run with -benchtime=1x.
func BenchmarkVariantMigration(b *testing.B) {
	const products = 100_000
	for range b.N {
		b.StopTimer()
		ctx := context.Background()
		url, conn := migratedTo(ctx, b, 5)
		if _, err := conn.Exec(ctx, `
			INSERT INTO categories (slug, name, created_at, updated_at) VALUES ('bulk', 'Bulk', now(), now());
			INSERT INTO products (id, sku, name, name_key, description, category, brand, attributes, images, status, price_currency, price_amount, version, created_at, updated_at)
			SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'BULK-' || i, 'Bulk product ' || i, 'bulk product ' || i,
				'A product for the migration benchmark', 'bulk', 'Brand ' || (i % 100), jsonb_build_object('colour', 'red'),
				'["https://img.example/x.jpg"]', 'active', 'USD', 100 + i % 1000, 1, now(), now()
			FROM generate_series(1, `+fmt.Sprint(products)+`) i;
			INSERT INTO inventory (product_id, on_hand, reserved, version, updated_at) SELECT id, 10, 0, 3, now() FROM products;
			INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, actor, at)
			SELECT id, 'adjustment', 5, 0, 5 * k, 0, 'received', 'bench', now() FROM products, generate_series(1, 3) k;
			INSERT INTO price_history (product_id, currency, amount, valid_from, applied_at, actor, created_at)
			SELECT id, 'USD', 100 + k, now(), now(), 'bench', now() FROM products, generate_series(1, 2) k;
			ANALYZE`); err != nil {
			b.Fatal(err)
		}
		conn.Close(ctx)
		b.StartTimer()
		start := time.Now()
		s, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		s.Close()
		b.ReportMetric(float64(products)/took.Seconds(), "products/s")
		b.Logf("migration 0006: %d products in %s = %.0f s per million products", products, took.Round(time.Millisecond), took.Seconds()*1e6/products)
	}
}
