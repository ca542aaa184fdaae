package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// setPrice sets a price or fails the test.
func setPrice(t *testing.T, s catalog.Store, variantID string, c catalog.PriceChange) (catalog.Variant, catalog.PriceEntry) {
	t.Helper()
	v, e, err := s.SetPrice(ctx(t), variantID, c, "apikey:prices", 0)
	if err != nil {
		t.Fatalf("SetPrice(%s, %+v) = %v", variantID, c, err)
	}
	return v, e
}

func usd(t *testing.T, v catalog.Variant) catalog.Price {
	t.Helper()
	p, ok := v.Price("USD")
	if !ok {
		t.Fatalf("variant %s has no USD price: %s", v.SKU, pricesString(v.Prices))
	}
	return p
}

func ptrString(p *int64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

// testSaleWindow: a sale window's price becomes current at its start and reverts to the price
// before it at its end, each exactly once, to the sweep; an immediate price during a window
// ends it.
func testSaleWindow(t *testing.T, s catalog.Store, clock *FakeClock) {
	v := stocked(t, s, map[string]int64{"SALE-1": 1})["SALE-1"]
	p0 := must(s.Product(ctx(t), v.ProductID))(t)
	start := clock.Now().Add(time.Hour)
	end := start.Add(2 * time.Hour)
	_, e := setPrice(t, s, v.ID, catalog.PriceChange{Currency: "USD", Amount: 70, CompareAt: ptr[int64](100), ValidFrom: &start, ValidUntil: &end})
	if e.AppliedAt != nil || !e.ValidFrom.Equal(start) || e.ValidUntil == nil || !e.ValidUntil.Equal(end) {
		t.Fatalf("scheduled window entry %s", show(e))
	}
	if cur := must(s.Variant(ctx(t), v.ProductID, v.ID))(t); usd(t, cur).Amount != 100 || cur.ProductVersion != p0.Version {
		t.Fatalf("before the window: %s v%d", pricesString(cur.Prices), cur.ProductVersion)
	}
	// A window shorter than a minute, or ending before it starts, is refused.
	short := start.Add(30 * time.Second)
	_, _, err := s.SetPrice(ctx(t), v.ID, catalog.PriceChange{Currency: "USD", Amount: 50, ValidFrom: &start, ValidUntil: &short}, "a", 0)
	wantCode(t, err, catalog.CodeInvalid)

	clock.Advance(time.Hour - time.Second)
	if got := must(s.ApplyDuePrices(ctx(t), 100))(t); len(got) != 0 {
		t.Fatalf("a second before the window: applied %+v", got)
	}
	clock.Advance(time.Second)
	got := must(s.ApplyDuePrices(ctx(t), 100))(t)
	if len(got) != 1 || got[0].Kind != catalog.PriceSet || got[0].VariantID != v.ID || got[0].Price.Amount != 70 || got[0].EntryID != e.ID {
		t.Fatalf("at the window's start: applied %+v", got)
	}
	cur := must(s.Variant(ctx(t), v.ProductID, v.ID))(t)
	pr := usd(t, cur)
	if pr.Amount != 70 || pr.CompareAt == nil || *pr.CompareAt != 100 || pr.SaleEndsAt == nil || !pr.SaleEndsAt.Equal(end) || cur.ProductVersion != p0.Version+1 {
		t.Fatalf("during the window: %s, version %d (want 70 was 100 until %v, version %d)", show(pr), cur.ProductVersion, end, p0.Version+1)
	}
	summaryAgrees(t, s, v.ProductID, "a window's start")
	// The window's price is a reduction: its prior price is the lowest of the 30 days before.
	if pr.PriorPrice == nil || *pr.PriorPrice != 100 {
		t.Fatalf("prior price during the window %s, want 100", ptrString(pr.PriorPrice))
	}
	if again := must(s.ApplyDuePrices(ctx(t), 100))(t); len(again) != 0 {
		t.Fatalf("a second sweep applied %+v again", again)
	}
	clock.Advance(2*time.Hour - time.Second)
	if got := must(s.ApplyDuePrices(ctx(t), 100))(t); len(got) != 0 {
		t.Fatalf("a second before the window's end: applied %+v", got)
	}
	clock.Advance(time.Second)
	got = must(s.ApplyDuePrices(ctx(t), 100))(t)
	if len(got) != 1 || got[0].Kind != catalog.PriceRevert || got[0].VariantID != v.ID || got[0].Price != (catalog.Money{Currency: "USD", Amount: 100}) {
		t.Fatalf("at the window's end: applied %+v, want a revert to USD 100", got)
	}
	cur = must(s.Variant(ctx(t), v.ProductID, v.ID))(t)
	if pr := usd(t, cur); pr.Amount != 100 || pr.SaleEndsAt != nil || pr.PriorPrice != nil || pr.CompareAt != nil || cur.ProductVersion != p0.Version+2 {
		t.Fatalf("after the window: %s v%d, want USD 100 as before it, v%d", show(pr), cur.ProductVersion, p0.Version+2)
	}
	if again := must(s.ApplyDuePrices(ctx(t), 100))(t); len(again) != 0 {
		t.Fatalf("a second sweep reverted %+v again", again)
	}
	summaryAgrees(t, s, v.ProductID, "a window's end")
	hist := must(s.PriceHistory(ctx(t), v.ID, "USD"))(t)
	var kinds []string
	for _, h := range hist {
		kinds = append(kinds, fmt.Sprintf("%s %d", h.Kind, h.Price.Amount))
	}
	if want := []string{"set 100", "set 70", "revert 100"}; !slices.Equal(kinds, want) {
		t.Fatalf("history %v, want %v", kinds, want)
	}
	if w := hist[1]; w.AppliedAt == nil || w.AppliedAt.Before(start) || w.EndedAt == nil || !w.EndedAt.Equal(end) {
		t.Fatalf("the window's line %s: applied at its start, ended at %v", show(w), end)
	}
	if r := hist[2]; r.Actor != catalog.PriceSweepActor || r.AppliedAt == nil || !r.AppliedAt.Equal(end) {
		t.Fatalf("the revert line %s: by %s at %v", show(r), catalog.PriceSweepActor, end)
	}

	// An immediate price set during a window replaces the window's price and ends the window:
	// nothing reverts later.
	start2 := clock.Now().Add(time.Minute)
	end2 := start2.Add(4 * time.Hour)
	_, w2 := setPrice(t, s, v.ID, catalog.PriceChange{Currency: "USD", Amount: 60, ValidFrom: &start2, ValidUntil: &end2})
	clock.Advance(time.Minute)
	if got := must(s.ApplyDuePrices(ctx(t), 100))(t); len(got) != 1 {
		t.Fatalf("second window: applied %+v", got)
	}
	clock.Advance(time.Hour)
	now := clock.Now()
	cur, _ = setPrice(t, s, v.ID, catalog.PriceChange{Currency: "USD", Amount: 90})
	if pr := usd(t, cur); pr.Amount != 90 || pr.SaleEndsAt != nil {
		t.Fatalf("an immediate price during a window: %s, want 90 with no end", show(pr))
	}
	for _, h := range must(s.PriceHistory(ctx(t), v.ID, "USD"))(t) {
		if h.ID == w2.ID && (h.EndedAt == nil || !h.EndedAt.Equal(now)) {
			t.Fatalf("the replaced window's line %s, want ended at %v", show(h), now)
		}
	}
	clock.Advance(4 * time.Hour)
	if got := must(s.ApplyDuePrices(ctx(t), 100))(t); len(got) != 0 {
		t.Fatalf("an ended window reverted anyway: %+v", got)
	}
	if cur := must(s.Variant(ctx(t), v.ProductID, v.ID))(t); usd(t, cur).Amount != 90 {
		t.Fatalf("after the replaced window's end: %s, want 90", pricesString(cur.Prices))
	}
}

// testPriorPrice follows one variant through cuts and rises, each measured by hand against the
// 30 days before it (Omnibus, Directive 98/6/EC Art. 6a).
func testPriorPrice(t *testing.T, s catalog.Store, clock *FakeClock) {
	v := stocked(t, s, map[string]int64{"PRIOR-1": 1})["PRIOR-1"] // USD 100 from day 0
	day := 24 * time.Hour
	steps := []struct {
		advance time.Duration
		amount  int64
		prior   *int64
		why     string
	}{
		{10 * day, 80, ptr[int64](100), "day 10, a cut: 100 was in effect"},
		{15 * day, 120, nil, "day 25, a rise: no prior price"},
		{10 * day, 90, ptr[int64](80), "day 35, a cut from 120: 80 (days 10-25) is inside days 5-35"},
		{1 * day, 85, ptr[int64](80), "day 36, a second cut: measured against days 6-36 (80 still in it), not against 90"},
		{34 * day, 70, ptr[int64](85), "day 70, a cut: only 85 (since day 36) was in effect in days 40-70"},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		got, _ := setPrice(t, s, v.ID, catalog.PriceChange{Currency: "USD", Amount: st.amount})
		if pr := usd(t, got); pr.Amount != st.amount || ptrString(pr.PriorPrice) != ptrString(st.prior) {
			t.Fatalf("%s: price %d prior %s, want %d prior %s", st.why, pr.Amount, ptrString(pr.PriorPrice), st.amount, ptrString(st.prior))
		}
		read := must(s.Variant(ctx(t), v.ProductID, v.ID))(t)
		if pr := usd(t, read); ptrString(pr.PriorPrice) != ptrString(st.prior) {
			t.Fatalf("%s: read back prior %s, want %s", st.why, ptrString(pr.PriorPrice), ptrString(st.prior))
		}
	}
	// Another currency has its own history: its first price has none before it.
	got, _ := setPrice(t, s, v.ID, catalog.PriceChange{Currency: "EUR", Amount: 50})
	if pr, _ := got.Price("EUR"); pr.PriorPrice != nil {
		t.Fatalf("a first EUR price has prior %d, want none", *pr.PriorPrice)
	}
	// A cut through UpdateVariant is measured the same way.
	clock.Advance(day)
	got = must(s.UpdateVariant(ctx(t), v.ProductID, v.ID, catalog.VariantPatch{Prices: &[]catalog.PriceInput{{Currency: "EUR", Amount: 50}, {Currency: "USD", Amount: 60}}}, 0))(t)
	if pr := usd(t, got); pr.PriorPrice == nil || *pr.PriorPrice != 70 {
		t.Fatalf("a cut to 60 by UpdateVariant: prior %s, want 70", ptrString(pr.PriorPrice))
	}
	if pr, _ := got.Price("EUR"); pr.PriorPrice != nil {
		t.Fatalf("an unchanged EUR price gained prior %d", *pr.PriorPrice)
	}
}

// testPurchaseLimit: a line above its variant's purchase limit is refused with purchase_limit
// naming the limit and the line, before stock is looked at, and nothing is reserved.
func testPurchaseLimit(t *testing.T, s catalog.Store, _ *FakeClock) {
	vs := stocked(t, s, map[string]int64{"LIM-1": 100, "LIM-2": 100, "LIM-3": 1})
	must(s.UpdateVariant(ctx(t), vs["LIM-1"].ProductID, vs["LIM-1"].ID, catalog.VariantPatch{PurchaseLimit: ptr[int64](2)}, 0))(t)
	must(s.UpdateVariant(ctx(t), vs["LIM-3"].ProductID, vs["LIM-3"].ID, catalog.VariantPatch{PurchaseLimit: ptr[int64](2)}, 0))(t)
	in := reserve("LIM-2", 5, "lim-1", 3)
	_, err := s.Reserve(ctx(t), in, "a", idem(t, "lim", "reserve", in))
	wantCode(t, err, catalog.CodePurchaseLimit)
	var e *catalog.Error
	if !asCatalogError(err, &e) || fieldsOf(err) != "lines[1].quantity" || !strings.Contains(e.Fields[0].Problem, "2") || !strings.Contains(e.Message, "2") {
		t.Fatalf("purchase limit error %v, want lines[1].quantity and the limit 2 named", err)
	}
	for sku, v := range vs {
		if st := stockOf(t, s, v); st.Reserved != 0 {
			t.Fatalf("a refused reservation held %s: %+v", sku, st)
		}
	}
	// The limit comes before stock: 3 of a SKU with 1 unit and a limit of 2 is over the limit.
	_, err = s.Reserve(ctx(t), reserve("LIM-3", 3), "a", nil)
	wantCode(t, err, catalog.CodePurchaseLimit)
	// At the limit is fine, and the limit is per reservation, not per shopper.
	must(s.Reserve(ctx(t), reserve("LIM-1", 2), "a", nil))(t)
	must(s.Reserve(ctx(t), reserve("LIM-1", 2, "LIM-2", 5), "a", nil))(t)
	if st := stockOf(t, s, vs["LIM-1"]); st.Reserved != 4 {
		t.Fatalf("LIM-1 reserved %d, want 4", st.Reserved)
	}
	// 0 lifts the limit.
	must(s.UpdateVariant(ctx(t), vs["LIM-1"].ProductID, vs["LIM-1"].ID, catalog.VariantPatch{PurchaseLimit: ptr[int64](0)}, 0))(t)
	must(s.Reserve(ctx(t), reserve("LIM-1", 50), "a", nil))(t)
	// The refused request kept no idempotency key: its retry now runs.
	if r := must(s.Reserve(ctx(t), in, "a", idem(t, "lim", "reserve", in)))(t); r.Replayed || len(r.Lines) != 2 {
		t.Fatalf("the retry of a refused keyed request: %+v", r)
	}
	if got := must(s.Variant(ctx(t), vs["LIM-3"].ProductID, vs["LIM-3"].ID))(t); got.PurchaseLimit != 2 {
		t.Fatalf("purchase limit read back %d, want 2", got.PurchaseLimit)
	}
}

func asCatalogError(err error, target **catalog.Error) bool {
	e, ok := err.(*catalog.Error)
	if ok {
		*target = e
	}
	return ok
}

// TwinOpener returns two stores on one new, empty database, as two instances of the service
// would open it, both on the given clock; the opener arranges their cleanup.
type TwinOpener func(t *testing.T, clock catalog.Clock) (a, b catalog.Store)

// TestSaleWindowsAcrossInstances runs the price sweeper on two store instances at once, several
// sweepers each: every scheduled price and every sale window's end is applied exactly once, on
// time, and each window reverts to the price before it. Each store's tests call it with a
// TwinOpener.
func TestSaleWindowsAcrossInstances(t *testing.T, open TwinOpener) {
	clock := NewFakeClock()
	a, b := open(t, clock.Now)
	const n = 30
	units := map[string]int64{}
	for i := range n {
		units[fmt.Sprintf("TWIN-%02d", i)] = 1
	}
	vs := stocked(t, a, units)
	start := clock.Now().Add(time.Hour)
	end := start.Add(2 * time.Hour)
	versions := map[string]int64{}
	for i := range n {
		sku := fmt.Sprintf("TWIN-%02d", i)
		s := []catalog.Store{a, b}[i%2]
		setPrice(t, s, vs[sku].ID, catalog.PriceChange{Currency: "USD", Amount: int64(50 + i), ValidFrom: &start, ValidUntil: &end})
		versions[sku] = must(b.Product(ctx(t), vs[sku].ProductID))(t).Version
	}
	sweep := func() []catalog.AppliedPrice {
		var mu sync.Mutex
		var all []catalog.AppliedPrice
		var wg sync.WaitGroup
		for w := range 8 {
			s := []catalog.Store{a, b}[w%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := s.ApplyDuePrices(context.Background(), 3)
					if err != nil {
						t.Errorf("sweeper %d: %v", w, err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					all = append(all, got...)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return all
	}
	once := func(what string, got []catalog.AppliedPrice, kind catalog.PriceKind, want int) {
		t.Helper()
		seen := map[string]bool{}
		for _, ap := range got {
			if ap.Kind != kind || seen[ap.VariantID] {
				t.Fatalf("%s: %+v applied twice or of the wrong kind (want %s once per variant)", what, ap, kind)
			}
			seen[ap.VariantID] = true
		}
		if len(seen) != want {
			t.Fatalf("%s: %d variants changed, want %d", what, len(seen), want)
		}
	}
	clock.Advance(time.Hour - time.Second)
	once("a second before the start", sweep(), catalog.PriceSet, 0)
	clock.Advance(time.Second)
	once("at the start", sweep(), catalog.PriceSet, n)
	for i := range n {
		sku := fmt.Sprintf("TWIN-%02d", i)
		for _, s := range []catalog.Store{a, b} {
			p, v := bySKU(t, s, sku)
			if pr := usd(t, v); pr.Amount != int64(50+i) || p.Version != versions[sku]+1 {
				t.Fatalf("%s during the window: %s v%d, want %d v%d", sku, show(pr), p.Version, 50+i, versions[sku]+1)
			}
		}
	}
	summaryAgrees(t, b, vs["TWIN-01"].ProductID, "a window's start, listed on the other instance")
	// One window is ended early by an immediate price on the other instance.
	setPrice(t, b, vs["TWIN-00"].ID, catalog.PriceChange{Currency: "USD", Amount: 95})
	clock.Advance(2*time.Hour - time.Second)
	once("a second before the end", sweep(), catalog.PriceRevert, 0)
	clock.Advance(time.Second)
	once("at the end", sweep(), catalog.PriceRevert, n-1)
	once("after the end", sweep(), catalog.PriceRevert, 0)
	for i := range n {
		sku := fmt.Sprintf("TWIN-%02d", i)
		want := int64(100)
		if i == 0 {
			want = 95
		}
		_, v := bySKU(t, a, sku)
		if pr := usd(t, v); pr.Amount != want || pr.SaleEndsAt != nil {
			t.Fatalf("%s after the window: %s, want %d", sku, show(pr), want)
		}
		summaryAgrees(t, b, v.ProductID, sku+" after the window")
		reverts := 0
		for _, h := range must(b.PriceHistory(ctx(t), v.ID, "USD"))(t) {
			if h.Kind == catalog.PriceRevert {
				reverts++
			}
		}
		if wantReverts := min(i, 1); reverts != wantReverts {
			t.Fatalf("%s: %d revert lines, want %d", sku, reverts, wantReverts)
		}
	}
}
