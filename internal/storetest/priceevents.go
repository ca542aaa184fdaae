package storetest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
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
		{"PriceEventsRebuildPricesRandomly", testPriceEventsRebuildPrices},
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

// testPriceEventsRebuildPrices is the property behind the test above: a consumer that applies
// the feed's events to its copy of the prices (a price event sets one price; a product or
// variant event replaces the variant's prices) holds exactly what GET answers, after every
// step of a random mix of sets, sale windows, schedules, batches, variant patches, removals
// and sweeps. A failure names the seed.
func testPriceEventsRebuildPrices(t *testing.T, s catalog.Store, clock *FakeClock) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 7))
	c := catalog.WithActor(ctx(t), "apikey:prop")
	category(t, s, "prop", "")
	var vs []catalog.Variant
	for i := range 3 {
		in := input(fmt.Sprintf("PROP-%d", i), fmt.Sprintf("Prop %d", i), "prop", 1000)
		vs = append(vs, only(t, must(s.CreateProduct(c, in))(t)))
	}
	type key struct{ vid, currency string }
	held := map[key]string{} // the consumer's copy: each price as "amount/compare_at/prior/ends"
	price := func(amount int64, compareAt, prior *int64, ends *time.Time) string {
		return fmt.Sprintf("%d/%s/%s/%s", amount, showAmount(compareAt), showAmount(prior), showTime(ends))
	}
	replace := func(v catalog.Variant) {
		for k := range held {
			if k.vid == v.ID {
				delete(held, k)
			}
		}
		for _, p := range v.Prices {
			held[key{v.ID, p.Currency}] = price(p.Amount, p.CompareAt, p.PriorPrice, p.SaleEndsAt)
		}
	}
	cursor := int64(0)
	follow := func() {
		t.Helper()
		var evs []catalog.Event
		evs, cursor = feed(t, s, cursor)
		for _, e := range evs {
			switch e.Type {
			case catalog.EventPriceChanged:
				var pe catalog.PriceEvent
				if err := json.Unmarshal(e.Data, &pe); err != nil {
					t.Fatal(err)
				}
				held[key{pe.VariantID, pe.Price.Currency}] = price(pe.Price.Amount, pe.CompareAt, pe.PriorPrice, pe.SaleEndsAt)
			case catalog.EventVariantCreated, catalog.EventVariantUpdated:
				var v catalog.Variant
				if err := json.Unmarshal(e.Data, &v); err != nil {
					t.Fatal(err)
				}
				replace(v)
			case catalog.EventProductCreated, catalog.EventProductUpdated:
				var p catalog.Product
				if err := json.Unmarshal(e.Data, &p); err != nil {
					t.Fatal(err)
				}
				for _, v := range p.Variants {
					replace(v)
				}
			}
		}
	}
	currencies := []string{"USD", "EUR"}
	var steps []string
	for step := range 60 {
		v := vs[rnd.IntN(len(vs))]
		cur := currencies[rnd.IntN(len(currencies))]
		amount := int64(100 + rnd.IntN(20)*50)
		change := catalog.PriceChange{Currency: cur, Amount: amount}
		if rnd.IntN(3) == 0 {
			change.CompareAt = ptr(amount + 500)
		}
		if rnd.IntN(3) == 0 {
			change.ValidUntil = ptr(clock.Now().Add(time.Duration(1+rnd.IntN(3)) * time.Hour))
		}
		var what string
		var err error
		switch op := rnd.IntN(6); op {
		case 0, 1:
			what = fmt.Sprintf("SetPrice(%s %s)", v.SKU, describe(change))
			_, _, err = s.SetPrice(c, v.ID, change, "apikey:prop", 0)
		case 2:
			change.ValidFrom = ptr(clock.Now().Add(time.Duration(10+rnd.IntN(120)) * time.Minute))
			if change.ValidUntil != nil {
				change.ValidUntil = ptr(change.ValidFrom.Add(time.Hour))
			}
			what = fmt.Sprintf("SetPrice(%s %s)", v.SKU, describe(change))
			_, _, err = s.SetPrice(c, v.ID, change, "apikey:prop", 0)
		case 3:
			what = fmt.Sprintf("SetPriceBatch(%s %s)", v.SKU, describe(change))
			_, err = s.SetPriceBatch(c, []catalog.PriceLine{{SKU: v.SKU, PriceChange: change}}, "apikey:prop", nil)
		case 4:
			now := must(s.Variant(c, v.ProductID, v.ID))(t)
			if len(now.Prices) > 1 && rnd.IntN(2) == 0 {
				what = fmt.Sprintf("RemovePrice(%s %s)", v.SKU, cur)
				_, err = s.RemovePrice(c, v.ID, cur, "apikey:prop", 0)
			} else {
				prices := []catalog.PriceInput{{Currency: cur, Amount: amount, CompareAt: change.CompareAt}}
				for _, p := range now.Prices {
					if p.Currency != cur && rnd.IntN(2) == 0 {
						prices = append(prices, catalog.PriceInput{Currency: p.Currency, Amount: p.Amount, CompareAt: p.CompareAt})
					}
				}
				slices.SortFunc(prices, func(a, b catalog.PriceInput) int { return cmpString(a.Currency, b.Currency) })
				what = fmt.Sprintf("UpdateVariant(%s prices %+v)", v.SKU, prices)
				_, err = s.UpdateVariant(c, v.ProductID, v.ID, catalog.VariantPatch{Prices: &prices}, 0)
			}
		case 5:
			d := time.Duration(10+rnd.IntN(150)) * time.Minute
			clock.Advance(d)
			what = fmt.Sprintf("advance %s, ApplyDuePrices", d)
			_, err = s.ApplyDuePrices(c, 100)
		}
		steps = append(steps, what)
		switch code := catalog.ErrorCode(err); {
		case err == nil:
		case code == catalog.CodeInvalid || code == catalog.CodeUnprocessable || code == catalog.CodeNotFound || code == catalog.CodeConflict:
			steps[len(steps)-1] += " refused: " + err.Error()
		default:
			t.Fatalf("step %d %s: %v", step, what, err)
		}
		clock.Advance(time.Duration(1+rnd.IntN(59)) * time.Second)
		follow()
		for _, v := range vs {
			now := must(s.Variant(c, v.ProductID, v.ID))(t)
			want := map[key]string{}
			for _, p := range now.Prices {
				want[key{v.ID, p.Currency}] = price(p.Amount, p.CompareAt, p.PriorPrice, p.SaleEndsAt)
			}
			for _, cur := range currencies {
				k := key{v.ID, cur}
				if held[k] != want[k] {
					t.Fatalf("after step %d (seed %d) %s: the events give %s %s = %q; GET answers %q\nsteps:\n%s",
						step, seed, what, v.SKU, cur, held[k], want[k], joinLines(steps))
				}
			}
		}
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func joinLines(ss []string) string {
	out := ""
	for i, s := range ss {
		out += fmt.Sprintf("  %d %s\n", i, s)
	}
	return out
}

// describe prints a price change for a failure's list of steps.
func describe(c catalog.PriceChange) string {
	out := fmt.Sprintf("%s %d", c.Currency, c.Amount)
	if c.CompareAt != nil {
		out += fmt.Sprintf(" compare_at %d", *c.CompareAt)
	}
	if c.ValidFrom != nil {
		out += " from " + showTime(c.ValidFrom)
	}
	if c.ValidUntil != nil {
		out += " until " + showTime(c.ValidUntil)
	}
	return out
}
