package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/sqlite"
	"github.com/acme/catalog/internal/storetest"
)

// TestLegacyWindowWithoutPriceRecordsEvent: a sale window opened in a currency the variant
// had no price in (SQLite took that before catalog.CheckSaleWindow) closes at its end by
// dropping the currency; that change records the variant's event, whose prices are GET's.
func TestLegacyWindowWithoutPriceRecordsEvent(t *testing.T) {
	clock := storetest.NewFakeClock()
	s := open(t, clock.Now)
	ctx := context.Background()
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "legacy", Name: "Legacy"}); err != nil {
		t.Fatal(err)
	}
	in := catalog.ProductInput{Name: "Legacy", Category: "legacy", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "LEGACY-1", Prices: []catalog.PriceInput{{Currency: "USD", Amount: 1000}}}}}
	in.Normalize()
	p, err := s.CreateProduct(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	v := p.Variants[0]
	db, err := sql.Open("sqlite", "file:"+s.(*sqlite.Store).Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO variant_prices (variant_id, product_id, currency, amount, window_entry_id, window_ends_at)
		VALUES (?, ?, 'EUR', 500, 999999, ?)`, v.ID, p.ID, clock.Now().Add(time.Minute).UnixMicro()); err != nil {
		t.Fatal(err)
	}
	head, err := s.Events(ctx, catalog.EventQuery{After: 0, Limit: catalog.MaxEventLimit})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	if _, err := s.ApplyDuePrices(ctx, 10); err != nil {
		t.Fatal(err)
	}
	page, err := s.Events(ctx, catalog.EventQuery{After: head.Next, Limit: catalog.MaxEventLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].Type != catalog.EventVariantUpdated {
		t.Fatalf("the window's end recorded %d events (%v), want one catalog.variant.updated", len(page.Events), page.Events)
	}
	var ev catalog.Variant
	if err := json.Unmarshal(page.Events[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	now, err := s.Variant(ctx, p.ID, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(ev.Prices)
	want, _ := json.Marshal(now.Prices)
	if string(got) != string(want) || len(now.Prices) != 1 {
		t.Fatalf("event prices %s, GET %s; want equal, USD only", got, want)
	}
	if page.Events[0].EntityVersion != now.ProductVersion {
		t.Fatalf("event entityversion %d, product version %d", page.Events[0].EntityVersion, now.ProductVersion)
	}
}
