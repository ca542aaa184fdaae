package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// FakeClock is a clock tests move by hand.
type FakeClock struct{ now atomic.Int64 }

// NewFakeClock starts at a fixed time.
func NewFakeClock() *FakeClock {
	c := &FakeClock{}
	c.now.Store(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC).UnixMicro())
	return c
}

// Now is a catalog.Clock.
func (c *FakeClock) Now() time.Time { return time.UnixMicro(c.now.Load()).UTC() }

// Advance moves the clock forward.
func (c *FakeClock) Advance(d time.Duration) { c.now.Add(d.Microseconds()) }

func inventoryTests() []namedTest {
	return []namedTest{
		{"AdjustStock", testAdjust},
		{"ReserveAllOrNothing", testReserveAllOrNothing},
		{"CommitAndReleaseOnce", testFinishOnce},
		{"ExpiryReturnsStock", testExpiry},
		{"IdempotentRetries", testIdempotency},
		{"NoOversellUnderContention", testNoOversell},
		{"OppositeOrdersDoNotDeadlock", testOppositeOrders},
		{"MovementLogBalances", testMovementLogBalances},
		{"Prices", testPrices},
		{"Retention", testRetention},
		{"DeleteRacesReservation", testDeleteRacesReservation},
		{"EveryWriteUnderContention", testEveryWriteUnderContention},
		{"SaleWindow", testSaleWindow},
		{"PriorPrice", testPriorPrice},
		{"PurchaseLimit", testPurchaseLimit},
		{"TwoVariantsOneReservation", testTwoVariantsOneReservation},
		{"NoOversellOnHotVariant", testNoOversellOnHotVariant},
		{"OppositeOrdersAcrossVariants", testOppositeOrdersAcrossVariants},
		{"MovementLogAcrossVariants", testMovementLogAcrossVariants},
		{"VariantWritesUnderContention", testVariantWritesUnderContention},
	}
}

type namedTest struct {
	name string
	fn   func(*testing.T, catalog.Store, *FakeClock)
}

// stocked imports one product without options per SKU, with units on hand, and returns their
// variants by SKU.
func stocked(t *testing.T, s catalog.Store, units map[string]int64) map[string]catalog.Variant {
	t.Helper()
	if _, err := s.Category(ctx(t), "stock"); err != nil {
		category(t, s, "stock", "")
	}
	var batch []catalog.NewProduct
	for sku, n := range units {
		in := input(sku, "Item "+sku, "stock", 100)
		in.Variants[0].InitialStock = n
		batch = append(batch, catalog.NewProduct{ProductInput: in})
	}
	if err := s.Import(ctx(t), batch); err != nil {
		t.Fatal(err)
	}
	out := map[string]catalog.Variant{}
	for sku := range units {
		_, out[sku] = bySKU(t, s, sku)
	}
	return out
}

// stockOf reads a variant's stock.
func stockOf(t *testing.T, s catalog.Store, v catalog.Variant) catalog.Stock {
	t.Helper()
	return must(s.Variant(ctx(t), v.ProductID, v.ID))(t).Stock
}

func reserve(lines ...any) catalog.ReservationInput {
	var in catalog.ReservationInput
	for i := 0; i < len(lines); i += 2 {
		in.Lines = append(in.Lines, catalog.ReservationLine{SKU: lines[i].(string), Quantity: int64(lines[i+1].(int))})
	}
	return in
}

func testAdjust(t *testing.T, s catalog.Store, _ *FakeClock) {
	p := stocked(t, s, map[string]int64{"ADJ-1": 5})["ADJ-1"]
	m := must(s.AdjustStock(ctx(t), p.ID, catalog.Adjustment{Delta: 10, Reason: "received", Note: "PO 123"}, "apikey:test", nil))(t)
	if m.OnHand != 15 || m.Reserved != 0 || m.Kind != catalog.MoveAdjustment || m.Reason != "received" || m.Note != "PO 123" || m.Actor != "apikey:test" {
		t.Fatalf("movement %+v", m)
	}
	must(s.Reserve(ctx(t), reserve("ADJ-1", 10), "a", nil))(t)
	_, err := s.AdjustStock(ctx(t), p.ID, catalog.Adjustment{Delta: -6, Reason: "damaged"}, "a", nil)
	wantCode(t, err, catalog.CodeInsufficientStock)
	if st := stockOf(t, s, p); st.OnHand != 15 || st.Reserved != 10 || st.Available != 5 {
		t.Fatalf("a refused adjustment changed stock: %+v", st)
	}
	must(s.AdjustStock(ctx(t), p.ID, catalog.Adjustment{Delta: -5, Reason: "damaged"}, "a", nil))(t)
	ms := must(s.Movements(ctx(t), p.ID, 0, 100))(t)
	kinds := ""
	for _, m := range ms {
		kinds += string(m.Kind) + " "
	}
	if kinds != "adjustment reserve adjustment initial " {
		t.Fatalf("log (newest first): %s", kinds)
	}
	if ms[2].Reason != "received" || ms[2].Note != "PO 123" || ms[0].Reason != "damaged" || ms[0].Note != "" {
		t.Fatalf("reasons and notes read back: %+v", ms)
	}
	if page := must(s.Movements(ctx(t), p.ID, ms[1].ID, 1))(t); len(page) != 1 || page[0].ID != ms[2].ID {
		t.Fatalf("paging the log: %+v", page)
	}
	_, err = s.AdjustStock(ctx(t), catalog.NewID(), catalog.Adjustment{Delta: 1, Reason: "received"}, "a", nil)
	wantCode(t, err, catalog.CodeNotFound)
	_, err = s.Movements(ctx(t), catalog.NewID(), 0, 10)
	wantCode(t, err, catalog.CodeNotFound)
}

func testReserveAllOrNothing(t *testing.T, s catalog.Store, _ *FakeClock) {
	ps := stocked(t, s, map[string]int64{"R-A": 5, "R-B": 2, "R-C": 0})
	_, err := s.Reserve(ctx(t), reserve("R-A", 3, "r-b", 3, "R-C", 1), "a", nil)
	wantCode(t, err, catalog.CodeInsufficientStock)
	e := err.(*catalog.Error)
	if len(e.Shortages) != 2 || e.Shortages[0] != (catalog.Shortage{SKU: "R-B", Requested: 3, Available: 2}) || e.Shortages[1].SKU != "R-C" {
		t.Fatalf("shortages %+v", e.Shortages)
	}
	for _, p := range ps {
		if st := stockOf(t, s, p); st.Reserved != 0 {
			t.Fatalf("a failed reservation held %s: %+v", p.SKU, st)
		}
	}
	// One line takes the stores' single-statement path; a refusal must say the same.
	_, err = s.Reserve(ctx(t), reserve("r-b", 3), "a", nil)
	wantCode(t, err, catalog.CodeInsufficientStock)
	if e := err.(*catalog.Error); len(e.Shortages) != 1 || e.Shortages[0] != (catalog.Shortage{SKU: "R-B", Requested: 3, Available: 2}) {
		t.Fatalf("single-line shortage %+v", e.Shortages)
	}
	r := must(s.Reserve(ctx(t), reserve("R-A", 3, "r-b", 2), "a", nil))(t)
	if r.Status != catalog.ReservationHeld || len(r.Lines) != 2 || r.Lines[1].SKU != "R-B" {
		t.Fatalf("reservation %+v", r)
	}
	if st := stockOf(t, s, ps["R-A"]); st.Reserved != 3 || st.Available != 2 {
		t.Fatalf("R-A %+v", st)
	}
	got := must(s.Reservation(ctx(t), r.ID))(t)
	if got.Status != r.Status || len(got.Lines) != 2 || !got.ExpiresAt.Equal(r.ExpiresAt) {
		t.Fatalf("read back %+v vs %+v", got, r)
	}
	_, err = s.Reserve(ctx(t), reserve("NOPE-1", 1), "a", nil)
	wantCode(t, err, catalog.CodeInvalid)
	if r.Lines[0].VariantID != ps["R-A"].ID || r.Lines[0].ProductID != ps["R-A"].ProductID {
		t.Fatalf("line 0 names variant %s of product %s, want %s of %s", r.Lines[0].VariantID, r.Lines[0].ProductID, ps["R-A"].ID, ps["R-A"].ProductID)
	}
	p := ps["R-A"]
	must(s.SetProductStatus(ctx(t), p.ProductID, catalog.StatusArchived, 0))(t)
	_, err = s.Reserve(ctx(t), reserve("R-A", 1), "a", nil)
	wantCode(t, err, catalog.CodeInvalid)
	wantCode(t, s.DeleteProduct(ctx(t), p.ProductID, 0), catalog.CodeConflict)
	wantCode(t, s.DeleteVariant(ctx(t), p.ProductID, p.ID, 0), catalog.CodeConflict)
}

func testFinishOnce(t *testing.T, s catalog.Store, _ *FakeClock) {
	p := stocked(t, s, map[string]int64{"F-1": 10})["F-1"]
	a := must(s.Reserve(ctx(t), reserve("F-1", 4), "a", nil))(t)
	b := must(s.Reserve(ctx(t), reserve("F-1", 3), "a", nil))(t)
	if c := must(s.CommitReservation(ctx(t), a.ID, "a", nil))(t); c.Status != catalog.ReservationCommitted {
		t.Fatalf("commit: %+v", c)
	}
	_, err := s.CommitReservation(ctx(t), a.ID, "a", nil)
	wantCode(t, err, catalog.CodeConflict)
	_, err = s.ReleaseReservation(ctx(t), a.ID, "a", nil)
	wantCode(t, err, catalog.CodeConflict)
	must(s.ReleaseReservation(ctx(t), b.ID, "a", nil))(t)
	_, err = s.ReleaseReservation(ctx(t), b.ID, "a", nil)
	wantCode(t, err, catalog.CodeConflict)
	if st := stockOf(t, s, p); st.OnHand != 6 || st.Reserved != 0 || st.Available != 6 {
		t.Fatalf("after commit 4 and release 3 of 10: %+v", st)
	}
	_, err = s.CommitReservation(ctx(t), catalog.NewID(), "a", nil)
	wantCode(t, err, catalog.CodeNotFound)
}

func testExpiry(t *testing.T, s catalog.Store, clock *FakeClock) {
	p := stocked(t, s, map[string]int64{"E-1": 5})["E-1"]
	short := must(s.Reserve(ctx(t), catalog.ReservationInput{Lines: []catalog.ReservationLine{{SKU: "E-1", Quantity: 2}}, TTLSeconds: 60}, "a", nil))(t)
	long := must(s.Reserve(ctx(t), reserve("E-1", 3), "a", nil))(t)
	if n := len(must(s.ExpireReservations(ctx(t), 100))(t)); n != 0 {
		t.Fatalf("expired %d before their time", n)
	}
	clock.Advance(61 * time.Second)
	// Past its expiry it can no longer be committed, even before the sweeper ran.
	_, err := s.CommitReservation(ctx(t), short.ID, "a", nil)
	wantCode(t, err, catalog.CodeConflict)
	if n := len(must(s.ExpireReservations(ctx(t), 100))(t)); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	if got := must(s.Reservation(ctx(t), short.ID))(t); got.Status != catalog.ReservationExpired {
		t.Fatalf("status %s", got.Status)
	}
	if st := stockOf(t, s, p); st.Reserved != 3 || st.Available != 2 {
		t.Fatalf("after expiry: %+v", st)
	}
	clock.Advance(catalog.DefaultReservationTTL)
	if n := len(must(s.ExpireReservations(ctx(t), 100))(t)); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	_, err = s.ReleaseReservation(ctx(t), long.ID, "a", nil)
	wantCode(t, err, catalog.CodeConflict)
	if st := stockOf(t, s, p); st.OnHand != 5 || st.Reserved != 0 {
		t.Fatalf("after both expired: %+v", st)
	}
}

func idem(t *testing.T, key, op string, body any) *catalog.Idempotency {
	i, err := catalog.NewIdempotency("apikey:test", key, op, body)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func testIdempotency(t *testing.T, s catalog.Store, _ *FakeClock) {
	p := stocked(t, s, map[string]int64{"I-1": 100})["I-1"]
	in := reserve("I-1", 5)
	first := must(s.Reserve(ctx(t), in, "a", idem(t, "k1", "reserve", in)))(t)
	again := must(s.Reserve(ctx(t), in, "a", idem(t, "k1", "reserve", in)))(t)
	if again.ID != first.ID {
		t.Fatalf("retry made a second reservation: %s vs %s", again.ID, first.ID)
	}
	if first.Replayed || !again.Replayed {
		t.Fatalf("Replayed: first %v, retry %v; want false, true", first.Replayed, again.Replayed)
	}
	_, err := s.Reserve(ctx(t), reserve("I-1", 6), "a", idem(t, "k1", "reserve", reserve("I-1", 6)))
	wantCode(t, err, catalog.CodeIdempotencyMismatch)

	// Concurrent retries of one request apply once.
	var wg sync.WaitGroup
	ids := make([]string, 8)
	in2 := reserve("I-1", 7)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.Reserve(context.Background(), in2, "a", idem(t, "k2", "reserve", in2))
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = r.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent retries made several reservations: %v", ids)
		}
	}
	if st := stockOf(t, s, p); st.Reserved != 12 {
		t.Fatalf("reserved %d, want 5+7", st.Reserved)
	}
	c1 := must(s.CommitReservation(ctx(t), first.ID, "a", idem(t, "c1", "commit "+first.ID, nil)))(t)
	c2 := must(s.CommitReservation(ctx(t), first.ID, "a", idem(t, "c1", "commit "+first.ID, nil)))(t)
	if c1.Status != catalog.ReservationCommitted || c2.Status != c1.Status {
		t.Fatalf("commit retry: %s %s", c1.Status, c2.Status)
	}
	if c1.Replayed || !c2.Replayed {
		t.Fatalf("commit Replayed: first %v, retry %v; want false, true", c1.Replayed, c2.Replayed)
	}
	adj := catalog.Adjustment{Delta: 3, Reason: "received"}
	m1 := must(s.AdjustStock(ctx(t), p.ID, adj, "a", idem(t, "a1", "adjust "+p.ID, adj)))(t)
	m2 := must(s.AdjustStock(ctx(t), p.ID, adj, "a", idem(t, "a1", "adjust "+p.ID, adj)))(t)
	if m1.ID != m2.ID {
		t.Fatal("adjustment retry applied twice")
	}
	// A failed request keeps no key: the retry runs.
	big := reserve("I-1", 1000)
	_, err = s.Reserve(ctx(t), big, "a", idem(t, "k3", "reserve", big))
	wantCode(t, err, catalog.CodeInsufficientStock)
	must(s.AdjustStock(ctx(t), p.ID, catalog.Adjustment{Delta: 1000, Reason: "received"}, "a", nil))(t)
	must(s.Reserve(ctx(t), big, "a", idem(t, "k3", "reserve", big)))(t)
	if st := stockOf(t, s, p); st.OnHand != 100-5+3+1000 || st.Reserved != 7+1000 {
		t.Fatalf("stock %+v", st)
	}
}

// testNoOversell: many clients at once reserve one unit each of a SKU with fewer units than
// clients. Exactly the available units end up reserved.
func testNoOversell(t *testing.T, s catalog.Store, _ *FakeClock) {
	const units, clients = 25, 60
	p := stocked(t, s, map[string]int64{"HOT-1": units})["HOT-1"]
	var ok, short atomic.Int64
	var wg sync.WaitGroup
	in := reserve("HOT-1", 1)
	for c := range clients {
		// Half the clients send an idempotency key: keyed and unkeyed reservations take
		// different statements and must not oversell each other.
		var key *catalog.Idempotency
		if c%2 == 0 {
			key = idem(t, fmt.Sprintf("hot-%d", c), "reserve", in)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Reserve(context.Background(), in, "a", key)
			switch catalog.ErrorCode(err) {
			case "":
				ok.Add(1)
			case catalog.CodeInsufficientStock:
				short.Add(1)
			default:
				t.Errorf("reserve: %v", err)
			}
		}()
	}
	wg.Wait()
	st := stockOf(t, s, p)
	if ok.Load() != units || short.Load() != clients-units || st.Reserved != units || st.Available != 0 {
		t.Fatalf("%d reserved, %d refused, stock %+v: want %d reserved and none oversold", ok.Load(), short.Load(), st, units)
	}
}

func testOppositeOrders(t *testing.T, s catalog.Store, _ *FakeClock) {
	stocked(t, s, map[string]int64{"D-A": 1000, "D-B": 1000, "D-C": 1000})
	orders := [][]string{{"D-A", "D-B", "D-C"}, {"D-C", "D-B", "D-A"}, {"D-B", "D-A", "D-C"}}
	var wg sync.WaitGroup
	var reserved atomic.Int64
	for w := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := orders[w%len(orders)]
			for range 10 {
				if _, err := s.Reserve(context.Background(), reserve(o[0], 1, o[1], 1, o[2], 1), "a", nil); err != nil {
					t.Errorf("reserve %v: %v", o, err)
					return
				}
				reserved.Add(1)
			}
		}()
	}
	wg.Wait()
	for _, sku := range []string{"D-A", "D-B", "D-C"} {
		_, v := bySKU(t, s, sku)
		if v.Stock.Reserved != reserved.Load() {
			t.Fatalf("%s reserved %d, want %d", sku, v.Stock.Reserved, reserved.Load())
		}
	}
}

// testMovementLogBalances runs a random concurrent mix of adjustments, reservations, commits,
// releases and expiries, then checks every product: the log sums to on-hand and reserved, and
// available never went negative.
func testMovementLogBalances(t *testing.T, s catalog.Store, clock *FakeClock) {
	skus := map[string]int64{"M-1": 20, "M-2": 5, "M-3": 0, "M-4": 50}
	ps := stocked(t, s, skus)
	names := []string{"M-1", "M-2", "M-3", "M-4"}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			var held []string
			for range 40 {
				c := context.Background()
				var err error
				switch op := rng.IntN(10); {
				case op < 2:
					sku := names[rng.IntN(len(names))]
					delta := int64(rng.IntN(10) - 3)
					if delta >= 0 {
						delta++ // a zero delta is invalid input, not a store operation
					}
					_, err = s.AdjustStock(c, ps[sku].ID, catalog.Adjustment{Delta: delta, Reason: "count_correction"}, "w", nil)
					if catalog.ErrorCode(err) == catalog.CodeInsufficientStock {
						err = nil
					}
				case op < 6:
					a, b := names[rng.IntN(4)], names[rng.IntN(4)]
					in := reserve(a, 1+rng.IntN(3))
					if a != b {
						in = reserve(a, 1+rng.IntN(3), b, 1+rng.IntN(2))
					}
					in.TTLSeconds = 60
					var r catalog.Reservation
					r, err = s.Reserve(c, in, "w", nil)
					if err == nil {
						held = append(held, r.ID)
					} else if catalog.ErrorCode(err) == catalog.CodeInsufficientStock {
						err = nil
					}
				case op < 8 && len(held) > 0:
					id := held[0]
					held = held[1:]
					_, err = s.CommitReservation(c, id, "w", nil)
				case len(held) > 0:
					id := held[0]
					held = held[1:]
					_, err = s.ReleaseReservation(c, id, "w", nil)
				}
				if catalog.ErrorCode(err) == catalog.CodeConflict {
					err = nil // expired under us
				}
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 5 {
			clock.Advance(20 * time.Second)
			if _, err := s.ExpireReservations(context.Background(), 1000); err != nil {
				t.Error(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	wg.Wait()
	for _, sku := range names {
		p := ps[sku]
		st := stockOf(t, s, p)
		ms := must(s.Movements(ctx(t), p.ID, 0, 100000))(t)
		var onHand, reserved int64
		for i := len(ms) - 1; i >= 0; i-- {
			m := ms[i]
			onHand += m.OnHandDelta
			reserved += m.ReservedDelta
			if m.OnHand != onHand || m.Reserved != reserved || m.Reserved > m.OnHand || m.Reserved < 0 {
				t.Fatalf("%s movement %d: running totals %d/%d, recorded %d/%d", sku, m.ID, onHand, reserved, m.OnHand, m.Reserved)
			}
		}
		if onHand != st.OnHand || reserved != st.Reserved {
			t.Fatalf("%s: log sums to %d on hand / %d reserved, stock says %+v", sku, onHand, reserved, st)
		}
	}
}

func testPrices(t *testing.T, s catalog.Store, clock *FakeClock) {
	p := stocked(t, s, map[string]int64{"P-1": 1})["P-1"]
	before := must(s.Product(ctx(t), p.ProductID))(t)
	setPrice := func(c catalog.PriceChange, ifVersion int64) (catalog.Variant, catalog.PriceEntry) {
		t.Helper()
		v, e, err := s.SetPrice(ctx(t), p.ID, c, "apikey:p", ifVersion)
		if err != nil {
			t.Fatalf("SetPrice(%+v) = %v", c, err)
		}
		return v, e
	}
	q, e := setPrice(catalog.PriceChange{Currency: "EUR", Amount: 250}, before.Version)
	if got, ok := q.Price("EUR"); !ok || got.Amount != 250 || q.ProductVersion != before.Version+1 || e.AppliedAt == nil ||
		e.VariantID != p.ID || e.Kind != catalog.PriceSet || e.Actor != "apikey:p" {
		t.Fatalf("price now: %s %s", show(q), show(e))
	}
	// The USD price is untouched: one price per currency.
	if got, ok := q.Price("USD"); !ok || got.Amount != 100 || len(q.Prices) != 2 {
		t.Fatalf("prices after adding EUR: %s", pricesString(q.Prices))
	}
	// A price write moves the product's version, not the stock version.
	after := must(s.Product(ctx(t), p.ProductID))(t)
	if after.Version != before.Version+1 || after.StockVersion != before.StockVersion {
		t.Fatalf("versions after a price: %d/%d, want %d/%d", after.Version, after.StockVersion, before.Version+1, before.StockVersion)
	}
	_, _, err := s.SetPrice(ctx(t), p.ID, catalog.PriceChange{Currency: "EUR", Amount: 1}, "a", before.Version)
	wantCode(t, err, catalog.CodePreconditionFailed)
	_, _, err = s.SetPrice(ctx(t), p.ID, catalog.PriceChange{Currency: "EUR", Amount: -1}, "a", 0)
	wantCode(t, err, catalog.CodeInvalid)
	past := clock.Now().Add(-time.Hour)
	_, _, err = s.SetPrice(ctx(t), p.ID, catalog.PriceChange{Currency: "EUR", Amount: 1, ValidFrom: &past}, "a", 0)
	wantCode(t, err, catalog.CodeInvalid)
	_, _, err = s.SetPrice(ctx(t), catalog.NewID(), catalog.PriceChange{Currency: "EUR", Amount: 1}, "a", 0)
	wantCode(t, err, catalog.CodeNotFound)

	later := clock.Now().Add(time.Hour)
	r, sched := setPrice(catalog.PriceChange{Currency: "EUR", Amount: 199, ValidFrom: &later}, 0)
	if got, _ := r.Price("EUR"); got.Amount != 250 || sched.AppliedAt != nil || r.ProductVersion != q.ProductVersion {
		t.Fatalf("a scheduled price changed the current one: %s %s", show(r), show(sched))
	}
	if n := len(must(s.ApplyDuePrices(ctx(t), 100))(t)); n != 0 {
		t.Fatalf("applied %d early", n)
	}
	clock.Advance(time.Hour)
	applied := must(s.ApplyDuePrices(ctx(t), 100))(t)
	if len(applied) != 1 || applied[0].VariantID != p.ID || applied[0].ProductID != p.ProductID || applied[0].Price != (catalog.Money{Currency: "EUR", Amount: 199}) ||
		applied[0].Kind != catalog.PriceSet || applied[0].EntryID != sched.ID {
		t.Fatalf("applied %+v, want the scheduled EUR 199 of %s", applied, p.ID)
	}
	cur := must(s.Variant(ctx(t), p.ProductID, p.ID))(t)
	if got, _ := cur.Price("EUR"); got.Amount != 199 || cur.ProductVersion != q.ProductVersion+1 {
		t.Fatalf("after the scheduled time: %s v%d", pricesString(cur.Prices), cur.ProductVersion)
	}
	// A price changed by updating the variant is in the history too.
	must(s.UpdateVariant(ctx(t), p.ProductID, p.ID, catalog.VariantPatch{Prices: &[]catalog.PriceInput{{Currency: "USD", Amount: 100}, {Currency: "EUR", Amount: 175}}}, 0))(t)
	amounts := func(currency string) string {
		var out []int64
		for _, h := range must(s.PriceHistory(ctx(t), p.ID, currency))(t) {
			out = append(out, h.Price.Amount)
		}
		return fmt.Sprint(out)
	}
	if got := amounts("EUR"); got != "[250 199 175]" {
		t.Fatalf("EUR history (oldest first) %s, want [250 199 175]", got)
	}
	if got := amounts("USD"); got != "[100]" {
		t.Fatalf("USD history %s, want [100]: an unchanged price writes no line", got)
	}
	if all := must(s.PriceHistory(ctx(t), p.ID, ""))(t); len(all) != 4 {
		t.Fatalf("history of every currency has %d lines, want 4", len(all))
	}
	_, err = s.PriceHistory(ctx(t), catalog.NewID(), "")
	wantCode(t, err, catalog.CodeNotFound)
}

// testRetention: the purges remove idempotency keys past their window and finished
// reservations past the retention, in batches, and keep held and recent ones, every movement,
// and the replay of a key still in its window.
func testRetention(t *testing.T, s catalog.Store, clock *FakeClock) {
	p := stocked(t, s, map[string]int64{"RET-1": 100})["RET-1"]
	const retention = 30 * 24 * time.Hour

	// Day 0: three requests with keys; one committed and one released reservation.
	in := reserve("RET-1", 2)
	committed := must(s.Reserve(ctx(t), in, "a", idem(t, "old-1", "reserve", in)))(t)
	must(s.CommitReservation(ctx(t), committed.ID, "a", idem(t, "old-2", "commit "+committed.ID, nil)))(t)
	released := must(s.Reserve(ctx(t), reserve("RET-1", 3), "a", nil))(t)
	must(s.ReleaseReservation(ctx(t), released.ID, "a", nil))(t)
	adj := catalog.Adjustment{Delta: 1, Reason: "received"}
	must(s.AdjustStock(ctx(t), p.ID, adj, "a", idem(t, "old-3", "adjust", adj)))(t)

	if n := must(s.PurgeIdempotencyKeys(ctx(t), 100))(t); n != 0 {
		t.Fatalf("purged %d keys inside their window", n)
	}
	// Day 1, an hour past the window: a new key, and a held reservation.
	clock.Advance(catalog.IdempotencyTTL + time.Hour)
	in2 := reserve("RET-1", 4)
	recent := must(s.Reserve(ctx(t), in2, "a", idem(t, "new-1", "reserve", in2)))(t)
	if n := must(s.PurgeIdempotencyKeys(ctx(t), 2))(t); n != 2 {
		t.Fatalf("a batch of 2 purged %d keys", n)
	}
	if n := must(s.PurgeIdempotencyKeys(ctx(t), 100))(t); n != 1 {
		t.Fatalf("the second batch purged %d keys, want the last old one", n)
	}
	if again := must(s.Reserve(ctx(t), in2, "a", idem(t, "new-1", "reserve", in2)))(t); again.ID != recent.ID {
		t.Fatalf("a key inside its window no longer replays: %s vs %s", again.ID, recent.ID)
	}
	if n := must(s.PurgeReservations(ctx(t), retention, 100))(t); n != 0 {
		t.Fatalf("purged %d reservations inside the retention", n)
	}
	movesBefore := len(must(s.Movements(ctx(t), p.ID, 0, 1000))(t))

	// Day 31: the day-0 reservations are past the retention; the held one (expired but not
	// yet swept) and one finished today stay.
	clock.Advance(retention)
	today := must(s.Reserve(ctx(t), reserve("RET-1", 1), "a", nil))(t)
	must(s.CommitReservation(ctx(t), today.ID, "a", nil))(t)
	if n := must(s.PurgeReservations(ctx(t), retention, 1))(t); n != 1 {
		t.Fatalf("a batch of 1 purged %d reservations", n)
	}
	if n := must(s.PurgeReservations(ctx(t), retention, 100))(t); n != 1 {
		t.Fatalf("the second batch purged %d reservations, want the other day-0 one", n)
	}
	for _, id := range []string{committed.ID, released.ID} {
		_, err := s.Reservation(ctx(t), id)
		wantCode(t, err, catalog.CodeNotFound)
	}
	for _, id := range []string{recent.ID, today.ID} {
		if r := must(s.Reservation(ctx(t), id))(t); len(r.Lines) != 1 {
			t.Fatalf("reservation %s lost its lines: %+v", id, r)
		}
	}
	if moves := len(must(s.Movements(ctx(t), p.ID, 0, 1000))(t)); moves != movesBefore+2 {
		t.Fatalf("%d movements after the purge, want the %d before and today's 2", moves, movesBefore)
	}
	if st := stockOf(t, s, p); st.OnHand != 100-2+1-1 || st.Reserved != 4 {
		t.Fatalf("the purge changed stock: %+v", st)
	}
}
