package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/sqlite"
	"github.com/acme/catalog/internal/storetest"
)

// twoHandles opens two stores on one file, as two instances of the service sharing a volume
// would, both on clock, and creates a product with one variant priced EUR 1000.
func twoHandles(t *testing.T, clock *storetest.FakeClock) (a, b *sqlite.Store, p catalog.Product) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	var err error
	if a, err = sqlite.Open(ctx, path, sqlite.Options{Clock: clock.Now}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if b, err = sqlite.Open(ctx, path, sqlite.Options{Clock: clock.Now}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if _, err := a.CreateCategory(ctx, catalog.CategoryInput{Slug: "mugs", Name: "Mugs"}); err != nil {
		t.Fatal(err)
	}
	p, err = a.CreateProduct(ctx, catalog.ProductInput{Name: "Mug", Category: "mugs", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "MUG-1", Prices: []catalog.PriceInput{{Currency: "EUR", Amount: 1000}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return a, b, p
}

// sweepBoth runs ApplyDuePrices from both handles at once, several times each, and returns
// every change either made.
func sweepBoth(t *testing.T, a, b *sqlite.Store) []catalog.AppliedPrice {
	t.Helper()
	var (
		mu  sync.Mutex
		all []catalog.AppliedPrice
		wg  sync.WaitGroup
	)
	for i := range 8 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.ApplyDuePrices(context.Background(), 10)
			if err != nil {
				t.Errorf("ApplyDuePrices: %v", err)
			}
			mu.Lock()
			all = append(all, got...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all
}

func priceIn(t *testing.T, s catalog.Store, p catalog.Product, currency string) (catalog.Price, int64) {
	t.Helper()
	v, err := s.Variant(context.Background(), p.ID, p.Variants[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	pr, _ := v.Price(currency)
	return pr, v.ProductVersion
}

func TestScheduledSaleWindowAppliesAndRevertsOnceAcrossHandles(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewFakeClock()
	a, b, p := twoHandles(t, clock)
	clock.Advance(40 * 24 * time.Hour)
	from, until := clock.Now().Add(time.Hour), clock.Now().Add(3*time.Hour)
	_, e, err := a.SetPrice(ctx, p.Variants[0].ID, catalog.PriceChange{Currency: "EUR", Amount: 700, ValidFrom: &from, ValidUntil: &until}, "shop", 0)
	if err != nil {
		t.Fatal(err)
	}
	if e.AppliedAt != nil {
		t.Fatalf("a scheduled price is applied at once: %+v", e)
	}
	if pr, v := priceIn(t, a, p, "EUR"); pr.Amount != 1000 || v != p.Version {
		t.Fatalf("scheduling changed the current price or version: %+v, version %d", pr, v)
	}
	if got := sweepBoth(t, a, b); len(got) != 0 {
		t.Fatalf("before its time the sweepers applied %+v", got)
	}

	clock.Advance(time.Hour)
	got := sweepBoth(t, a, b)
	if len(got) != 1 || got[0].Kind != catalog.PriceSet || got[0].Price.Amount != 700 || got[0].EntryID != e.ID {
		t.Fatalf("at valid_from the sweepers applied %+v, want the scheduled line once", got)
	}
	pr, v := priceIn(t, b, p, "EUR")
	if pr.Amount != 700 || pr.SaleEndsAt == nil || !pr.SaleEndsAt.Equal(until) || pr.PriorPrice == nil || *pr.PriorPrice != 1000 || v != p.Version+1 {
		t.Fatalf("during the sale: %+v version %d; want 700 ending %s, prior price 1000, version %d", pr, v, until, p.Version+1)
	}

	clock.Advance(2 * time.Hour)
	got = sweepBoth(t, a, b)
	if len(got) != 1 || got[0].Kind != catalog.PriceRevert || got[0].Price.Amount != 1000 {
		t.Fatalf("at valid_until the sweepers made %+v, want one revert to 1000", got)
	}
	pr, v = priceIn(t, a, p, "EUR")
	if pr.Amount != 1000 || pr.SaleEndsAt != nil || pr.PriorPrice != nil || v != p.Version+2 {
		t.Fatalf("after the sale: %+v version %d; want 1000 with no window and no prior price, version %d", pr, v, p.Version+2)
	}
	if got := sweepBoth(t, a, b); len(got) != 0 {
		t.Fatalf("a second sweep made %+v", got)
	}
	hist, err := a.PriceHistory(ctx, p.Variants[0].ID, "EUR")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[1].ID != e.ID || hist[1].EndedAt == nil || hist[2].Kind != catalog.PriceRevert || hist[2].Actor != catalog.PriceSweepActor {
		t.Fatalf("history: %+v; want the initial price, the window (ended) and a revert by the sweeper", hist)
	}
}

func TestImmediatePriceEndsTheRunningWindow(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewFakeClock()
	a, b, p := twoHandles(t, clock)
	until := clock.Now().Add(2 * time.Hour)
	vid := p.Variants[0].ID
	_, win, err := a.SetPrice(ctx, vid, catalog.PriceChange{Currency: "EUR", Amount: 800, ValidUntil: &until}, "shop", p.Version)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.SetPrice(ctx, vid, catalog.PriceChange{Currency: "EUR", Amount: 900}, "shop", p.Version); catalog.ErrorCode(err) != catalog.CodePreconditionFailed {
		t.Fatalf("SetPrice with a stale version = %v, want precondition_failed", err)
	}
	clock.Advance(time.Minute)
	if _, _, err := a.SetPrice(ctx, vid, catalog.PriceChange{Currency: "EUR", Amount: 900}, "shop", 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Hour)
	if got := sweepBoth(t, a, b); len(got) != 0 {
		t.Fatalf("a replaced window was reverted: %+v", got)
	}
	if pr, _ := priceIn(t, a, p, "EUR"); pr.Amount != 900 || pr.SaleEndsAt != nil {
		t.Fatalf("price = %+v, want 900 with no window", pr)
	}
	hist, _ := a.PriceHistory(ctx, vid, "EUR")
	for _, h := range hist {
		if h.ID == win.ID && (h.EndedAt == nil || !h.EndedAt.Equal(clock.Now().Add(-3*time.Hour))) {
			t.Fatalf("the replaced window's line ended at %v, want when the new price was set", h.EndedAt)
		}
	}
}

// A window nested in a running one reverts to the regular price, not to the first sale's.
func TestNestedWindowRevertsToRegularPrice(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewFakeClock()
	a, b, p := twoHandles(t, clock)
	vid := p.Variants[0].ID
	u1 := clock.Now().Add(4 * time.Hour)
	if _, _, err := a.SetPrice(ctx, vid, catalog.PriceChange{Currency: "EUR", Amount: 800, ValidUntil: &u1}, "shop", 0); err != nil {
		t.Fatal(err)
	}
	u2 := clock.Now().Add(time.Hour)
	if _, _, err := a.SetPrice(ctx, vid, catalog.PriceChange{Currency: "EUR", Amount: 600, ValidUntil: &u2}, "shop", 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if got := sweepBoth(t, a, b); len(got) != 1 || got[0].Price.Amount != 1000 {
		t.Fatalf("sweep = %+v, want one revert to 1000", got)
	}
	clock.Advance(4 * time.Hour)
	if got := sweepBoth(t, a, b); len(got) != 0 {
		t.Fatalf("the replaced first window reverted too: %+v", got)
	}
}

// A window in a currency the variant has no price in is refused (catalog.CheckSaleWindow,
// as on PostgreSQL); one written before that rule closes the currency again at its end.
func TestWindowInNewCurrencyRemovesItAtTheEnd(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewFakeClock()
	a, b, p := twoHandles(t, clock)
	until := clock.Now().Add(time.Hour)
	_, _, err := a.SetPrice(ctx, p.Variants[0].ID, catalog.PriceChange{Currency: "USD", Amount: 500, ValidUntil: &until}, "shop", 0)
	if catalog.ErrorCode(err) != catalog.CodeInvalid {
		t.Fatalf("a window in USD without a USD price: %v, want invalid (nothing to revert to)", err)
	}
	db, err := sql.Open("sqlite", "file:"+a.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO variant_prices (variant_id, product_id, currency, amount, window_entry_id, window_ends_at)
		VALUES (?, ?, 'USD', 500, 999999, ?)`, p.Variants[0].ID, p.ID, until.UnixMicro()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if got := sweepBoth(t, a, b); len(got) != 1 || got[0].Kind != catalog.PriceRevert {
		t.Fatalf("sweep = %+v, want one revert", got)
	}
	if _, ok := priceIn(t, a, p, "USD"); ok != p.Version+1 { // the row written directly moved no version
		t.Fatalf("version %d after the window, want %d", ok, p.Version+1)
	}
	full, _ := a.Product(ctx, p.ID)
	if len(full.PriceRanges) != 1 || full.PriceRanges[0].Currency != "EUR" {
		t.Fatalf("price ranges after the USD window: %+v, want EUR only", full.PriceRanges)
	}
	page, err := a.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortPrice, Limit: 5, Filter: catalog.ProductFilter{Currency: "USD"}})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("list in USD after the window: %d items, %v", len(page.Items), err)
	}
}

// Progressive cuts: each is measured against the lowest price of its own 30 days before.
func TestPriorPriceOfProgressiveCuts(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewFakeClock()
	a, _, p := twoHandles(t, clock)
	vid := p.Variants[0].ID
	set := func(amount int64) catalog.Price {
		t.Helper()
		v, _, err := a.SetPrice(ctx, vid, catalog.PriceChange{Currency: "EUR", Amount: amount}, "shop", 0)
		if err != nil {
			t.Fatal(err)
		}
		pr, _ := v.Price("EUR")
		return pr
	}
	clock.Advance(40 * 24 * time.Hour)
	if pr := set(800); pr.PriorPrice == nil || *pr.PriorPrice != 1000 {
		t.Fatalf("first cut: prior price %v, want 1000", pr.PriorPrice)
	}
	clock.Advance(10 * 24 * time.Hour)
	if pr := set(600); pr.PriorPrice == nil || *pr.PriorPrice != 800 {
		t.Fatalf("second cut 10 days later: prior price %v, want 800 (the lowest of its 30 days)", pr.PriorPrice)
	}
	clock.Advance(24 * time.Hour)
	if pr := set(1000); pr.PriorPrice != nil {
		t.Fatalf("a rise has prior price %v, want none", *pr.PriorPrice)
	}
}

func TestRemovePrice(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewFakeClock()
	a, b, p := twoHandles(t, clock)
	vid := p.Variants[0].ID
	if _, err := a.RemovePrice(ctx, vid, "EUR", "shop", 0); catalog.ErrorCode(err) != catalog.CodeConflict {
		t.Fatalf("RemovePrice of the last price = %v, want conflict", err)
	}
	if _, err := a.RemovePrice(ctx, vid, "GBP", "shop", 0); catalog.ErrorCode(err) != catalog.CodeNotFound {
		t.Fatalf("RemovePrice of a currency without a price = %v, want not_found", err)
	}
	if _, _, err := a.SetPrice(ctx, vid, catalog.PriceChange{Currency: "USD", Amount: 1100}, "shop", 0); err != nil {
		t.Fatal(err)
	}
	from := clock.Now().Add(time.Hour)
	if _, _, err := a.SetPrice(ctx, vid, catalog.PriceChange{Currency: "USD", Amount: 900, ValidFrom: &from}, "shop", 0); err != nil {
		t.Fatal(err)
	}
	v, err := a.RemovePrice(ctx, vid, "USD", "shop", 0)
	if err != nil || len(v.Prices) != 1 || v.Prices[0].Currency != "EUR" {
		t.Fatalf("RemovePrice(USD) = %+v, %v", v.Prices, err)
	}
	clock.Advance(2 * time.Hour)
	if got := sweepBoth(t, a, b); len(got) != 0 {
		t.Fatalf("a scheduled price of a removed currency applied: %+v", got)
	}
}

func TestPurchaseLimitBeforeStock(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewFakeClock()
	a, _, p := twoHandles(t, clock)
	limit := int64(2)
	if _, err := a.UpdateVariant(ctx, p.ID, p.Variants[0].ID, catalog.VariantPatch{PurchaseLimit: &limit}, 0); err != nil {
		t.Fatal(err)
	}
	// No stock at all: the limit is what answers, before stock is looked at.
	_, err := a.Reserve(ctx, catalog.ReservationInput{Lines: []catalog.ReservationLine{{SKU: "mug-1", Quantity: 3}}}, "a", nil)
	if catalog.ErrorCode(err) != catalog.CodePurchaseLimit {
		t.Fatalf("Reserve(3) over a limit of 2 = %v, want purchase_limit", err)
	}
	if _, err := a.AdjustStock(ctx, p.Variants[0].ID, catalog.Adjustment{Delta: 5, Reason: "received"}, "a", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Reserve(ctx, catalog.ReservationInput{Lines: []catalog.ReservationLine{{SKU: "MUG-1", Quantity: 2}}}, "a", nil); err != nil {
		t.Fatalf("Reserve(2) at the limit: %v", err)
	}
	moves, _ := a.Movements(ctx, p.Variants[0].ID, 0, 10)
	if len(moves) != 2 {
		t.Fatalf("%d movements, want 2 (the adjustment and one reserve)", len(moves))
	}
}

// Changing a variant to another's combination names the combination, not its own SKU.
func TestUpdateVariantCombinationClash(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewFakeClock()
	a, _, _ := twoHandles(t, clock)
	p, err := a.CreateProduct(ctx, catalog.ProductInput{Name: "Tee", Category: "mugs", Status: catalog.StatusActive,
		Options: []catalog.Option{{Name: "Size", Values: []string{"S", "M"}}},
		Variants: []catalog.VariantInput{
			{SKU: "TEE-S", Options: map[string]string{"Size": "S"}, Prices: []catalog.PriceInput{{Currency: "EUR", Amount: 1}}},
			{SKU: "TEE-M", Options: map[string]string{"Size": "M"}, Prices: []catalog.PriceInput{{Currency: "EUR", Amount: 1}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.UpdateVariant(ctx, p.ID, p.Variants[1].ID, catalog.VariantPatch{Options: map[string]string{"Size": "S"}}, 0)
	var ce *catalog.Error
	if !errors.As(err, &ce) || ce.Code != catalog.CodeConflict || len(ce.Fields) != 1 || ce.Fields[0].Field != "options" {
		t.Fatalf("UpdateVariant to a combination in use = %v, want a conflict on options", err)
	}
	sku := "tee-s"
	_, err = a.UpdateVariant(ctx, p.ID, p.Variants[1].ID, catalog.VariantPatch{SKU: &sku}, 0)
	if !errors.As(err, &ce) || ce.Code != catalog.CodeConflict || len(ce.Fields) != 1 || ce.Fields[0].Field != "sku" {
		t.Fatalf("UpdateVariant to another's SKU in another case = %v, want a conflict on sku", err)
	}
	// Its own SKU in another case is its own.
	sku = "tee-m"
	if _, err := a.UpdateVariant(ctx, p.ID, p.Variants[1].ID, catalog.VariantPatch{SKU: &sku}, 0); err != nil {
		t.Fatalf("UpdateVariant to its own SKU in lower case: %v", err)
	}
}
