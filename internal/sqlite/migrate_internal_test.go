package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
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
	// After migration 0005 the SKU lives on the variant whose ID is the product's.
	if _, err := s.w.ExecContext(ctx, `UPDATE variants SET sku = 'NEWSKU-1' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE products SET name = 'Copper kettle' WHERE id = ?`, id); err != nil {
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

// TestVariantsMigrationKeepsEveryRow upgrades a database as migration 0004 left it, with two
// products (one with stock, movements, a held and a committed reservation, applied and
// scheduled prices and attributes) and the logs of a deleted one, to the variant model: every
// product becomes a product with one variant of the same ID, and every row arrives.
func TestVariantsMigrationKeepsEveryRow(t *testing.T) {
	ctx := context.Background()
	path, db := migratedTo(t, 4)
	defer db.Close()
	const (
		shirt   = "0193a0a0-0000-7000-8000-000000000001"
		mug     = "0193a0a0-0000-7000-8000-000000000002"
		deleted = "0193a0a0-0000-7000-8000-000000000003"
		day     = int64(24 * time.Hour / time.Microsecond)
	)
	now := time.Now().UnixMicro()
	t0 := now - 40*day
	for _, q := range []string{
		`INSERT INTO categories (slug, name, created_at, updated_at) VALUES ('apparel', 'Apparel', 1, 1)`,
		fmt.Sprintf(`INSERT INTO products (id, sku, name, name_key, description, category, brand, attributes, images, status, price_currency, price_amount, version, created_at, updated_at)
			VALUES ('%s', 'SHIRT-1', 'Linen shirt', 'linen shirt', 'Cool', 'apparel', 'Acme', '{"material":"linen","Fit":"slim","Screen size":"13","Größe":"M"}',
			'["https://img.example/a.jpg","https://img.example/b.jpg"]', 'active', 'EUR', 3900, 7, %d, %d)`, shirt, t0, now-day),
		fmt.Sprintf(`INSERT INTO products (id, sku, name, name_key, category, status, price_currency, price_amount, version, created_at, updated_at)
			VALUES ('%s', 'mug-2', 'Mug', 'mug', 'apparel', 'draft', 'USD', 1200, 1, %d, %d)`, mug, t0, t0),
		fmt.Sprintf(`INSERT INTO inventory (product_id, on_hand, reserved, version, updated_at) VALUES ('%s', 10, 3, 9, %d), ('%s', 0, 0, 1, %d)`, shirt, now, mug, t0),
		fmt.Sprintf(`INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, note, reservation_id, actor, at) VALUES
			('%[1]s', 'initial', 12, 0, 12, 0, 'opening balance', '', NULL, 'a', %[2]d),
			('%[1]s', 'reserve', 0, 2, 12, 2, '', '', 'r-done', 'a', %[2]d),
			('%[1]s', 'commit', -2, -2, 10, 0, '', '', 'r-done', 'a', %[2]d),
			('%[1]s', 'reserve', 0, 3, 10, 3, '', '', 'r-held', 'a', %[2]d),
			('%[3]s', 'initial', 4, 0, 4, 0, 'opening balance', '', NULL, 'a', %[2]d),
			('%[3]s', 'adjustment', -4, 0, 0, 0, 'lost', 'gone', NULL, 'a', %[2]d)`, shirt, now-day, deleted),
		fmt.Sprintf(`INSERT INTO deleted_products (id, sku, name, actor, deleted_at) VALUES ('%s', 'GONE-1', 'Gone', 'a', %d)`, deleted, now-day),
		fmt.Sprintf(`INSERT INTO reservations (id, status, actor, expires_at, created_at, updated_at) VALUES
			('r-done', 'committed', 'a', %[1]d, %[1]d, %[1]d), ('r-held', 'held', 'a', %[2]d, %[1]d, %[1]d)`, now-day, now+day),
		fmt.Sprintf(`INSERT INTO reservation_lines (reservation_id, line, product_id, sku, quantity) VALUES
			('r-done', 0, '%[1]s', 'SHIRT-1', 2), ('r-held', 0, '%[1]s', 'SHIRT-1', 3)`, shirt),
		fmt.Sprintf(`INSERT INTO price_history (product_id, currency, amount, valid_from, applied_at, actor, created_at) VALUES
			('%[1]s', 'EUR', 4900, %[2]d, %[2]d, 'a', %[2]d),
			('%[1]s', 'EUR', 3900, %[3]d, %[3]d, 'a', %[3]d),
			('%[1]s', 'EUR', 2900, %[4]d, NULL, 'a', %[3]d),
			('%[5]s', 'USD', 1200, %[2]d, %[2]d, 'a', %[2]d),
			('%[6]s', 'EUR', 500, %[2]d, %[2]d, 'a', %[2]d)`, shirt, t0, now-day, now+day, mug, deleted),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	clock := time.Now
	s, err := Open(ctx, path, Options{Clock: func() time.Time { return clock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	p, err := s.Product(ctx, shirt)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Linen shirt" || p.Description != "Cool" || p.Brand != "Acme" || p.Version != 7 || p.Status != catalog.StatusActive ||
		p.CreatedAt != micros(t0) || len(p.Options) != 0 {
		t.Errorf("migrated product's own fields: %+v", p)
	}
	if want := []catalog.Media{{URL: "https://img.example/a.jpg"}, {URL: "https://img.example/b.jpg"}}; !slices.Equal(p.Media, want) {
		t.Errorf("media = %v, want %v (the images, in order)", p.Media, want)
	}
	// Free-text keys become attribute keys; the definitions keep the old spelling as their name.
	wantAttrs := catalog.Attributes{"material": "linen", "fit": "slim", "screen_size": "13", "attr_4772c3b6c39f65": "M"}
	if !p.Attributes.Equal(wantAttrs) {
		t.Errorf("attributes = %v, want %v", p.Attributes, wantAttrs)
	}
	if len(p.Variants) != 1 {
		t.Fatalf("%d variants, want 1", len(p.Variants))
	}
	v := p.Variants[0]
	if v.ID != shirt || v.SKU != "SHIRT-1" || len(v.Options) != 0 || v.Stock != catalog.NewStock(10, 3, 9) || p.StockVersion != 9 {
		t.Errorf("the variant: id %s sku %s options %v stock %+v (product stock version %d); want the product's id, SKU and stock 10/3 version 9",
			v.ID, v.SKU, v.Options, v.Stock, p.StockVersion)
	}
	if len(v.Prices) != 1 || v.Prices[0].Currency != "EUR" || v.Prices[0].Amount != 3900 {
		t.Errorf("prices = %+v, want EUR 3900", v.Prices)
	}
	if ver, sv, err := s.ProductVersions(ctx, shirt); err != nil || ver != 7 || sv != 9 {
		t.Errorf("ProductVersions = %d, %d, %v; want 7, 9", ver, sv, err)
	}
	mp, err := s.Product(ctx, mug)
	if err != nil || len(mp.Variants) != 1 || mp.Variants[0].ID != mug || mp.Variants[0].SKU != "mug-2" || mp.Status != catalog.StatusDraft {
		t.Errorf("mug: %+v, %v", mp, err)
	}
	if _, v2, err := s.VariantBySKU(ctx, "MUG-2"); err != nil || v2.ID != mug {
		t.Errorf("VariantBySKU(MUG-2) = %s, %v", v2.ID, err)
	}

	moves, err := s.Movements(ctx, shirt, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var onHand, reserved int64
	for _, m := range moves {
		onHand += m.OnHandDelta
		reserved += m.ReservedDelta
		if m.VariantID != shirt || m.ProductID != shirt || m.SKU != "SHIRT-1" {
			t.Errorf("movement %d names variant %s product %s sku %s", m.ID, m.VariantID, m.ProductID, m.SKU)
		}
	}
	if len(moves) != 4 || onHand != 10 || reserved != 3 {
		t.Errorf("%d movements summing to %d/%d, want 4 summing to 10/3", len(moves), onHand, reserved)
	}
	var goneMoves int
	var goneSKU string
	if err := s.r.QueryRow(`SELECT count(*), max(sku) FROM stock_movements WHERE variant_id = ?`, deleted).Scan(&goneMoves, &goneSKU); err != nil || goneMoves != 2 || goneSKU != "GONE-1" {
		t.Errorf("the deleted product's movements: %d with SKU %q (%v), want 2 with GONE-1", goneMoves, goneSKU, err)
	}

	for id, status := range map[string]catalog.ReservationStatus{"r-done": catalog.ReservationCommitted, "r-held": catalog.ReservationHeld} {
		var r catalog.Reservation
		err := s.read(ctx, func(tx *sql.Tx) error { r, err = reservationOf(ctx, tx, id); return err })
		if err != nil || r.Status != status || len(r.Lines) != 1 || r.Lines[0].VariantID != shirt || r.Lines[0].ProductID != shirt || r.Lines[0].SKU != "SHIRT-1" {
			t.Errorf("reservation %s: %+v, %v", id, r, err)
		}
	}

	hist, err := s.PriceHistory(ctx, shirt, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[0].Price.Amount != 4900 || hist[1].Price.Amount != 3900 || hist[2].AppliedAt != nil || hist[2].Price.Amount != 2900 {
		t.Errorf("price history: %+v", hist)
	}
	var goneHist int
	if err := s.r.QueryRow(`SELECT count(*) FROM price_history WHERE variant_id = ?`, deleted).Scan(&goneHist); err != nil || goneHist != 1 {
		t.Errorf("the deleted product's price history: %d rows (%v), want 1", goneHist, err)
	}

	defs, err := s.AttributeList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range defs {
		if d.Type != catalog.AttrText || d.Filterable || !catalog.ValidAttributeKey(d.Key) {
			t.Errorf("definition %+v: want a valid key, text, not filterable", d)
		}
		got = append(got, d.Key+"="+d.Name)
	}
	if want := []string{"attr_4772c3b6c39f65=Größe", "fit=Fit", "material=material", "screen_size=Screen size"}; !slices.Equal(got, want) {
		t.Errorf("attribute definitions %v, want %v", got, want)
	}

	// The migrated rows work: lists by price in one currency, search by SKU, a patch that keeps
	// the attributes, the scheduled price applying with its prior price, the held reservation
	// expiring back into the variant's stock.
	page, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortPrice, Limit: 10, Filter: catalog.ProductFilter{Currency: "EUR"}})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != shirt || page.Items[0].VariantCount != 1 || page.Items[0].Availability.Available != 7 {
		t.Errorf("list by EUR price: %+v, %v", page.Items, err)
	}
	page, err = s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortName, Limit: 10, Filter: catalog.ProductFilter{Query: "shirt-1"}})
	if err != nil || len(page.Items) != 1 {
		t.Errorf("search by the migrated SKU: %d items, %v", len(page.Items), err)
	}
	page, err = s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortName, Limit: 10, Filter: catalog.ProductFilter{
		Attributes: []catalog.AttributeFilter{{Key: "screen_size", Type: catalog.AttrText, Values: []string{"13"}}}}})
	if err != nil || len(page.Items) != 1 {
		t.Errorf("filter by a migrated attribute: %d items, %v", len(page.Items), err)
	}
	name := "Linen shirt, blue"
	if p, err = s.PatchProduct(ctx, shirt, catalog.ProductPatch{Name: &name}, 7); err != nil || p.Version != 8 {
		t.Errorf("PatchProduct after the migration: version %d, %v", p.Version, err)
	}
	clock = func() time.Time { return time.Now().Add(2 * 24 * time.Hour) }
	applied, err := s.ApplyDuePrices(ctx, 10)
	if err != nil || len(applied) != 1 || applied[0].VariantID != shirt || applied[0].Price.Amount != 2900 {
		t.Fatalf("ApplyDuePrices = %+v, %v", applied, err)
	}
	v, err = s.Variant(ctx, shirt, shirt)
	if err != nil || v.Prices[0].Amount != 2900 || v.Prices[0].PriorPrice == nil || *v.Prices[0].PriorPrice != 3900 {
		t.Errorf("after the scheduled cut: %+v, %v; want 2900 with prior price 3900 (the lowest of the 30 days before)", v.Prices, err)
	}
	if exp, err := s.ExpireReservations(ctx, 10); err != nil || len(exp) != 1 || exp[0].ID != "r-held" {
		t.Errorf("ExpireReservations = %+v, %v; want r-held", exp, err)
	}
	if v, err = s.Variant(ctx, shirt, shirt); err != nil || v.Stock != catalog.NewStock(10, 0, 10) {
		t.Errorf("after the expiry: stock %+v, %v; want 10 on hand, 0 reserved, version 10", v.Stock, err)
	}
	var fkProblems int
	if err := s.r.QueryRow(`SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fkProblems); err != nil || fkProblems != 0 {
		t.Fatalf("%d foreign key violations after the migration (%v)", fkProblems, err)
	}
}
