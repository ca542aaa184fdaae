package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Price events carry what GET shows (issue 17): a consumer (a storefront cache, a marketplace
// feed) needs the prior price and the sale's end from the event alone, so for every way a
// price becomes current the event's price, compare_at, prior_price and sale_ends_at equal
// the variant's price in that currency read right after.

func priceEventTests() []namedTest {
	return []namedTest{
		{"PriceEventsEqualWhatGETAnswers", testPriceEventsEqualGET},
	}
}

// lastPriceEvent returns the data of the last catalog.price.changed after cursor for v's
// price in currency, and the feed's cursor after it.
func lastPriceEvent(t *testing.T, s catalog.Store, cursor int64, v catalog.Variant, currency string) (catalog.PriceEvent, int64) {
	t.Helper()
	evs, next := feed(t, s, cursor, catalog.EventPriceChanged)
	var got *catalog.PriceEvent
	for _, e := range evs {
		var pe catalog.PriceEvent
		if err := json.Unmarshal(e.Data, &pe); err != nil {
			t.Fatalf("price event data %s: %v", e.Data, err)
		}
		if pe.VariantID == v.ID && pe.Price.Currency == currency {
			got = &pe
		}
	}
	if got == nil {
		t.Fatalf("no catalog.price.changed for %s in %s after cursor %d (%d price events)", v.SKU, currency, cursor, len(evs))
	}
	return *got, next
}

func showAmount(p *int64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

func showTime(t *time.Time) string {
	if t == nil {
		return "none"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// sameAsGET fails unless pe describes v's current price in its currency as GET answers it.
func sameAsGET(t *testing.T, s catalog.Store, path string, pe catalog.PriceEvent, v catalog.Variant) catalog.Price {
	t.Helper()
	now := must(s.Variant(ctx(t), v.ProductID, v.ID))(t)
	p, ok := now.Price(pe.Price.Currency)
	if !ok {
		t.Fatalf("%s: GET has no %s price; the event says %d", path, pe.Price.Currency, pe.Price.Amount)
	}
	got := fmt.Sprintf("amount %d, compare_at %s, prior_price %s, sale_ends_at %s",
		pe.Price.Amount, showAmount(pe.CompareAt), showAmount(pe.PriorPrice), showTime(pe.SaleEndsAt))
	want := fmt.Sprintf("amount %d, compare_at %s, prior_price %s, sale_ends_at %s",
		p.Amount, showAmount(p.CompareAt), showAmount(p.PriorPrice), showTime(p.SaleEndsAt))
	if got != want {
		t.Fatalf("%s: the price event says %s; GET answers %s", path, got, want)
	}
	return p
}

func testPriceEventsEqualGET(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := catalog.WithActor(ctx(t), "apikey:prices")
	category(t, s, "pev", "")
	mk := func(sku string) catalog.Variant {
		in := input(sku, sku, "pev", 1000)
		in.Variants[0].Prices = append(in.Variants[0].Prices, catalog.PriceInput{Currency: "EUR", Amount: 900})
		return only(t, must(s.CreateProduct(c, in))(t))
	}
	single, batch, sched, patched, removed := mk("PEV-SINGLE"), mk("PEV-BATCH"), mk("PEV-SCHED"), mk("PEV-PATCH"), mk("PEV-REMOVE")
	clock.Advance(time.Hour) // the creation prices were in effect for an hour: a reduction's prior price
	_, cursor := feed(t, s, 0)
	var pe catalog.PriceEvent

	// A single set opening a sale window: prior price 1000, the sale's end.
	until := clock.Now().Add(3 * time.Hour)
	_, _, err := s.SetPrice(c, single.ID, catalog.PriceChange{Currency: "USD", Amount: 800, ValidUntil: &until}, "apikey:prices", 0)
	if err != nil {
		t.Fatalf("SetPrice: %v", err)
	}
	pe, cursor = lastPriceEvent(t, s, cursor, single, "USD")
	if p := sameAsGET(t, s, "SetPrice with a window", pe, single); p.PriorPrice == nil || p.SaleEndsAt == nil {
		t.Fatalf("SetPrice with a window: GET shows prior_price %s, sale_ends_at %s; want both (the test needs them)", showAmount(p.PriorPrice), showTime(p.SaleEndsAt))
	}

	// A batch line, a reduction with a window; the batch's answer says the same.
	out, err := s.SetPriceBatch(c, []catalog.PriceLine{{SKU: batch.SKU, PriceChange: catalog.PriceChange{Currency: "USD", Amount: 750, ValidUntil: &until}}},
		"apikey:prices", nil)
	if err != nil {
		t.Fatalf("SetPriceBatch: %v", err)
	}
	pe, cursor = lastPriceEvent(t, s, cursor, batch, "USD")
	sameAsGET(t, s, "SetPriceBatch", pe, batch)
	sameAsGET(t, s, "SetPriceBatch's answer", out[0], batch)

	// A scheduled price the sweeper applies.
	from := clock.Now().Add(time.Hour)
	if _, _, err := s.SetPrice(c, sched.ID, catalog.PriceChange{Currency: "EUR", Amount: 700, ValidFrom: &from}, "apikey:prices", 0); err != nil {
		t.Fatalf("SetPrice(scheduled): %v", err)
	}
	clock.Advance(90 * time.Minute)
	must(s.ApplyDuePrices(c, 100))(t)
	pe, cursor = lastPriceEvent(t, s, cursor, sched, "EUR")
	if p := sameAsGET(t, s, "ApplyDuePrices (scheduled)", pe, sched); p.Amount != 700 || p.PriorPrice == nil {
		t.Fatalf("ApplyDuePrices (scheduled): GET shows %d, prior %s; want 700 with a prior price", p.Amount, showAmount(p.PriorPrice))
	}

	// The windows end: the sweeper reverts them (no sale end any more).
	clock.Advance(2 * time.Hour)
	must(s.ApplyDuePrices(c, 100))(t)
	afterRevert := cursor
	pe, _ = lastPriceEvent(t, s, afterRevert, single, "USD")
	if p := sameAsGET(t, s, "ApplyDuePrices (window end)", pe, single); p.Amount != 1000 || p.SaleEndsAt != nil {
		t.Fatalf("after the window's end GET shows %d until %s; want 1000 and no end", p.Amount, showTime(p.SaleEndsAt))
	}
	pe, cursor = lastPriceEvent(t, s, afterRevert, batch, "USD")
	sameAsGET(t, s, "ApplyDuePrices (batch window end)", pe, batch)

	// A variant patch's prices (the import's path for a variant it replaces, too).
	clock.Advance(time.Minute)
	prices := []catalog.PriceInput{{Currency: "USD", Amount: 600}, {Currency: "EUR", Amount: 900}}
	if _, err := s.UpdateVariant(c, patched.ProductID, patched.ID, catalog.VariantPatch{Prices: &prices}, 0); err != nil {
		t.Fatalf("UpdateVariant(prices): %v", err)
	}
	pe, cursor = lastPriceEvent(t, s, cursor, patched, "USD")
	sameAsGET(t, s, "UpdateVariant prices", pe, patched)

	// An import line that changes a price.
	clock.Advance(time.Minute)
	in := input("PEV-IMPORT", "PEV-IMPORT", "pev", 1000)
	upsert(t, s, false, in)
	_, imported := bySKU(t, s, "PEV-IMPORT")
	clock.Advance(time.Hour)
	_, cursor = feed(t, s, cursor)
	in.Variants[0].Prices[0].Amount = 500
	upsert(t, s, false, in)
	pe, cursor = lastPriceEvent(t, s, cursor, imported, "USD")
	if p := sameAsGET(t, s, "UpsertProducts", pe, imported); p.PriorPrice == nil {
		t.Fatal("UpsertProducts: GET shows no prior price for a reduction from 1000 to 500")
	}

	// A removal records the variant, whose remaining prices are GET's.
	clock.Advance(time.Minute)
	setPrice(t, s, removed.ID, catalog.PriceChange{Currency: "USD", Amount: 400, ValidUntil: ptr(clock.Now().Add(time.Hour))})
	_, cursor = feed(t, s, cursor)
	if _, err := s.RemovePrice(c, removed.ID, "EUR", "apikey:prices", 0); err != nil {
		t.Fatalf("RemovePrice: %v", err)
	}
	evs, _ := feed(t, s, cursor, catalog.EventVariantUpdated)
	if len(evs) != 1 {
		t.Fatalf("RemovePrice recorded %d catalog.variant.updated, want 1", len(evs))
	}
	var ev catalog.Variant
	if err := json.Unmarshal(evs[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	now := must(s.Variant(ctx(t), removed.ProductID, removed.ID))(t)
	gotJSON, _ := json.Marshal(ev.Prices)
	wantJSON, _ := json.Marshal(now.Prices)
	if string(gotJSON) != string(wantJSON) {
		t.Fatalf("RemovePrice: the event's prices are %s; GET answers %s", gotJSON, wantJSON)
	}
}
