package storetest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Order per entity (issue 17): on PostgreSQL the feed is in transaction-ID order, which may
// differ from commit order for two transactions on one row, so consumers order each entity's
// events by entityversion (catalog.Event.OrderKey, docs/events.md "Order per entity").

func entityVersionTests() []namedTest {
	return []namedTest{
		{"EntityVersionGrowsPerEntity", testEntityVersionGrows},
		{"EntityVersionConvergesInAnyOrder", testEntityVersionConverges},
		{"EntityVersionUnderConcurrentWriters", testEntityVersionConcurrent},
	}
}

func testEntityVersionGrows(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := catalog.WithActor(ctx(t), "apikey:order")
	_, cursor := feed(t, s, 0)
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		clock.Advance(time.Second)
	}
	attr := catalog.AttributeDefinitionInput{Key: "ord_fabric", Name: "Fabric", Type: catalog.AttrText}
	step("CreateAttribute", second(s.CreateAttribute(c, attr)))
	for _, n := range []string{"Fabric 2", "Fabric 3"} {
		attr.Name = n
		step("UpdateAttribute", second(s.UpdateAttribute(c, attr.Key, attr, 0)))
	}
	step("DeleteAttribute", s.DeleteAttribute(c, attr.Key, 0))
	step("CreateCategory", second(s.CreateCategory(c, catalog.CategoryInput{Slug: "ord", Name: "Ord"})))
	for _, n := range []string{"Ord 2", "Ord 3"} {
		step("UpdateCategory", second(s.UpdateCategory(c, "ord", catalog.CategoryPatch{Name: ptr(n)})))
	}
	step("CreateCategory", second(s.CreateCategory(c, catalog.CategoryInput{Slug: "ord-gone", Name: "Gone"})))
	step("DeleteCategory", s.DeleteCategory(c, "ord-gone"))

	in := shirt("ORD", "ord", []string{"S", "M", "L"}, []string{"Red"}, 1000)
	in.Variants = in.Variants[:2] // L is added below
	p, err := s.CreateProduct(c, in)
	step("CreateProduct", err)
	v, w := p.Variants[0], p.Variants[1]
	for _, n := range []string{"Shirt 2", "Shirt 3"} {
		step("PatchProduct", second(s.PatchProduct(c, p.ID, catalog.ProductPatch{Name: ptr(n)}, 0)))
	}
	step("SetProductStatus", second(s.SetProductStatus(c, p.ID, catalog.StatusDraft, 0)))
	step("SetProductStatus", second(s.SetProductStatus(c, p.ID, catalog.StatusActive, 0)))
	added, err := s.AddVariant(c, p.ID, variantInput("ORD-L-Red", map[string]string{"Size": "L", "Colour": "Red"}, 1200), 0)
	step("AddVariant", err)
	for _, b := range []string{"4006381333931", "9780201379624"} {
		step("UpdateVariant", second(s.UpdateVariant(c, p.ID, added.ID, catalog.VariantPatch{Barcode: ptr(b)}, 0)))
	}
	step("DeleteVariant", s.DeleteVariant(c, p.ID, added.ID, 0))

	setPrice := func(pc catalog.PriceChange) {
		t.Helper()
		_, _, err := s.SetPrice(c, v.ID, pc, "apikey:order", 0)
		step("SetPrice", err)
	}
	setPrice(catalog.PriceChange{Currency: "EUR", Amount: 900})
	setPrice(catalog.PriceChange{Currency: "EUR", Amount: 950})
	in1h, in2h := clock.Now().Add(time.Hour), clock.Now().Add(2*time.Hour)
	setPrice(catalog.PriceChange{Currency: "USD", Amount: 800, ValidFrom: &in1h})
	setPrice(catalog.PriceChange{Currency: "USD", Amount: 700, ValidFrom: &in2h})
	until := clock.Now().Add(3 * time.Hour)
	setPrice(catalog.PriceChange{Currency: "EUR", Amount: 600, ValidUntil: &until}) // a sale window, reverted below
	clock.Advance(90 * time.Minute)
	step("ApplyDuePrices", second(s.ApplyDuePrices(c, 10)))
	clock.Advance(2 * time.Hour)
	step("ApplyDuePrices", second(s.ApplyDuePrices(c, 10))) // the 700 USD and the EUR window's end
	step("SetPriceBatch", second(s.SetPriceBatch(c, []catalog.PriceLine{
		{SKU: v.SKU, PriceChange: catalog.PriceChange{Currency: "EUR", Amount: 990}},
		{SKU: w.SKU, PriceChange: catalog.PriceChange{Currency: "EUR", Amount: 991}}}, "apikey:order", nil)))

	adjust := func(vid string, d int64) {
		t.Helper()
		step("AdjustStock", second(s.AdjustStock(c, vid, catalog.Adjustment{Delta: d, Reason: "count_correction"}, "apikey:order", nil)))
	}
	adjust(v.ID, 10)
	adjust(v.ID, -1)
	adjust(w.ID, 5)
	step("AdjustStockBatch", second(s.AdjustStockBatch(c, []catalog.StockLine{
		{SKU: v.SKU, Adjustment: catalog.Adjustment{Delta: 1, Reason: "received"}},
		{SKU: w.SKU, Adjustment: catalog.Adjustment{Delta: 1, Reason: "received"}}}, "apikey:order", nil)))
	r1, err := s.Reserve(c, reserve(v.SKU, 2), "apikey:order", nil) // one line: PostgreSQL's one-statement path
	step("Reserve", err)
	r2, err := s.Reserve(c, reserve(v.SKU, 1, w.SKU, 1), "apikey:order", nil)
	step("Reserve", err)
	step("CommitReservation", second(s.CommitReservation(c, r1.ID, "apikey:order", nil)))
	step("ReleaseReservation", second(s.ReleaseReservation(c, r2.ID, "apikey:order", nil)))
	step("Reserve", second(s.Reserve(c, reserve(w.SKU, 1), "apikey:order", nil)))
	clock.Advance(24 * time.Hour)
	step("ExpireReservations", second(s.ExpireReservations(c, 10)))

	step("CreateCollection", second(s.CreateCollection(c, catalog.CollectionInput{Slug: "ord-picks", Name: "Picks"})))
	step("UpdateCollection", second(s.UpdateCollection(c, "ord-picks", catalog.CollectionPatch{Name: ptr("Our picks")}, 0)))
	step("SetCollectionProducts", second(s.SetCollectionProducts(c, "ord-picks", []string{p.ID}, 0)))
	step("DeleteCollection", s.DeleteCollection(c, "ord-picks", 0))
	gone, err := s.CreateProduct(c, input("ORD-GONE", "Gone", "ord", 500)) // no stock, so it may go
	step("CreateProduct", err)
	step("PatchProduct", second(s.PatchProduct(c, gone.ID, catalog.ProductPatch{Name: ptr("Gone soon")}, 0)))
	step("DeleteProduct", s.DeleteProduct(c, gone.ID, 0))

	evs, _ := feed(t, s, cursor)
	held := map[string]catalog.Event{}
	followed := map[string]bool{} // types seen after an earlier event of the same entity
	for _, e := range evs {
		k := e.OrderKey()
		if e.EntityVersion <= 0 {
			t.Errorf("%s %s: entityversion %d, want a version", e.Type, e.Subject, e.EntityVersion)
		}
		if prev, ok := held[k]; ok {
			followed[e.Type] = true
			if e.EntityVersion <= prev.EntityVersion {
				t.Errorf("%s (sequence %s) after %s (sequence %s) of %q: entityversion %d, not above %d",
					e.Type, e.Sequence, prev.Type, prev.Sequence, k, e.EntityVersion, prev.EntityVersion)
			}
		} else if followedBy(evs, e) {
			followed[e.Type] = true // a first event (created) is checked against what follows it
		}
		held[k] = e
	}
	for _, typ := range catalog.EventTypes {
		if !followed[typ] {
			t.Errorf("%s: no two events of one entity among the writes, so its order went unchecked", typ)
		}
	}
}

// followedBy reports whether a later event in evs has e's order key.
func followedBy(evs []catalog.Event, e catalog.Event) bool {
	i := slices.IndexFunc(evs, func(x catalog.Event) bool { return x.ID == e.ID })
	return slices.ContainsFunc(evs[i+1:], func(x catalog.Event) bool { return x.OrderKey() == e.OrderKey() })
}

func second[T any](_ T, err error) error { return err }

// testEntityVersionConverges is the consumer rule's property: whatever order the feed's events
// arrive in (the feed's xid order, a redelivery, EventBridge's unordered delivery), applying
// an event only when its entityversion is above the one held for its key ends on the state
// the events give in order, and that state is the store's.
func testEntityVersionConverges(t *testing.T, s catalog.Store, clock *FakeClock) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 17))
	c := catalog.WithActor(ctx(t), "apikey:order")
	category(t, s, "conv", "")
	p := must(s.CreateProduct(c, shirt("CONV", "conv", []string{"S", "M", "L"}, []string{"Blue"}, 1000)))(t)
	_, cursor := feed(t, s, 0)
	for i := range 60 {
		v := p.Variants[rng.IntN(len(p.Variants))]
		var err error
		switch rng.IntN(5) {
		case 0, 1:
			_, err = s.AdjustStock(c, v.ID, catalog.Adjustment{Delta: 1 + rng.Int64N(5), Reason: "received"}, "apikey:order", nil)
		case 2:
			var r catalog.Reservation
			if r, err = s.Reserve(c, reserve(v.SKU, 1), "apikey:order", nil); catalog.ErrorCode(err) == catalog.CodeInsufficientStock {
				err = nil
			} else if err == nil && rng.IntN(2) == 0 {
				_, err = s.CommitReservation(c, r.ID, "apikey:order", nil)
			} else if err == nil {
				_, err = s.ReleaseReservation(c, r.ID, "apikey:order", nil)
			}
		case 3:
			cur := []string{"USD", "EUR"}[rng.IntN(2)]
			pc := catalog.PriceChange{Currency: cur, Amount: 100 + rng.Int64N(900)}
			if rng.IntN(3) == 0 {
				from := clock.Now().Add(time.Duration(1+rng.IntN(3)) * time.Minute)
				pc.ValidFrom = &from
			}
			_, _, err = s.SetPrice(c, v.ID, pc, "apikey:order", 0)
		case 4:
			_, err = s.PatchProduct(c, p.ID, catalog.ProductPatch{Name: ptr(fmt.Sprintf("Shirt %d", i))}, 0)
		}
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		clock.Advance(time.Minute)
		if _, err := s.ApplyDuePrices(c, 100); err != nil {
			t.Fatal(err)
		}
	}
	evs, _ := feed(t, s, cursor)
	want := applyByVersion(evs)
	for range 50 {
		shuffled := slices.Clone(evs)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		shuffled = append(shuffled, shuffled[:len(shuffled)/4]...) // redelivered duplicates
		got := applyByVersion(shuffled)
		for k, e := range want {
			if got[k].ID != e.ID {
				t.Fatalf("in a random order %q ends on %s (entityversion %d), in order on %s (entityversion %d)",
					k, got[k].ID, got[k].EntityVersion, e.ID, e.EntityVersion)
			}
		}
	}
	checkStoreState(t, s, p, want)
}

// checkStoreState checks that the state the events end on (want, by order key) is the
// store's: each variant's stock and current prices.
func checkStoreState(t *testing.T, s catalog.Store, p catalog.Product, want map[string]catalog.Event) {
	t.Helper()
	c := ctx(t)
	for _, v := range p.Variants {
		cur := must(s.Variant(c, p.ID, v.ID))(t)
		if e, ok := want["stock "+"products/"+p.ID+"/variants/"+v.ID]; ok {
			var d catalog.StockLevel
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			if d.OnHand != cur.Stock.OnHand || d.Reserved != cur.Stock.Reserved {
				t.Errorf("variant %s: the last stock event by version says %d/%d, the store %d/%d",
					v.SKU, d.OnHand, d.Reserved, cur.Stock.OnHand, cur.Stock.Reserved)
			}
		}
		for _, pr := range cur.Prices {
			e, ok := want["price "+"products/"+p.ID+"/variants/"+v.ID+" "+pr.Currency]
			if !ok {
				continue // the product's initial price: in its created event, before the cursor
			}
			var d catalog.PriceEvent
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			if d.Price.Amount != pr.Amount {
				t.Errorf("variant %s %s: the last price event by version says %d, the store %d", v.SKU, pr.Currency, d.Price.Amount, pr.Amount)
			}
		}
	}
}

// testEntityVersionConcurrent: writers racing on the same variants' stock and prices (on
// PostgreSQL the feed's xid order then differs from commit order now and then); the consumer
// rule applied to the feed in its own order ends on the store's state.
func testEntityVersionConcurrent(t *testing.T, s catalog.Store, _ *FakeClock) {
	c := catalog.WithActor(ctx(t), "apikey:order")
	category(t, s, "race", "")
	p := must(s.CreateProduct(c, shirt("RACE", "race", []string{"S", "M"}, []string{"Blue"}, 1000)))(t)
	_, cursor := feed(t, s, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				v := p.Variants[(w+i)%len(p.Variants)]
				var err error
				if i%2 == 0 {
					_, err = s.AdjustStock(c, v.ID, catalog.Adjustment{Delta: int64(1 + w), Reason: "received"}, "apikey:order", nil)
				} else {
					_, _, err = s.SetPrice(c, v.ID, catalog.PriceChange{Currency: "USD", Amount: int64(100*w + i)}, "apikey:order", 0)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	evs, _ := feed(t, s, cursor)
	want := applyByVersion(evs)
	if len(want) != 2*len(p.Variants) { // each variant's stock and USD price
		t.Fatalf("the writes gave %d order keys, want %d", len(want), 2*len(p.Variants))
	}
	checkStoreState(t, s, p, want)
}

// applyByVersion is the consumer rule: per order key, keep the event with the greatest
// entityversion seen, dropping one at or below the held version.
func applyByVersion(evs []catalog.Event) map[string]catalog.Event {
	held := map[string]catalog.Event{}
	for _, e := range evs {
		k := e.OrderKey()
		if h, ok := held[k]; !ok || e.EntityVersion > h.EntityVersion {
			held[k] = e
		}
	}
	return held
}
