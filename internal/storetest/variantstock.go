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

// stockedShirts creates products named by prefixes, each with sizes S, M, L (one option), every
// variant with units on hand, and returns the variants by SKU (prefix-SIZE-Std).
func stockedShirts(t *testing.T, s catalog.Store, units int64, prefixes ...string) map[string]catalog.Variant {
	t.Helper()
	if _, err := s.Category(ctx(t), "stock"); err != nil {
		category(t, s, "stock", "")
	}
	out := map[string]catalog.Variant{}
	for _, prefix := range prefixes {
		in := shirt(prefix, "stock", []string{"S", "M", "L"}, []string{"Std"}, 1000)
		for i := range in.Variants {
			in.Variants[i].InitialStock = units
		}
		p := must(s.CreateProduct(ctx(t), in))(t)
		for _, v := range p.Variants {
			out[v.SKU] = v
		}
	}
	return out
}

// testTwoVariantsOneReservation: one reservation holds two variants of one product, all or
// nothing; its lines name each variant and their product; commit takes both.
func testTwoVariantsOneReservation(t *testing.T, s catalog.Store, _ *FakeClock) {
	vs := stockedShirts(t, s, 5, "TWO")
	small, medium, large := vs["TWO-S-Std"], vs["TWO-M-Std"], vs["TWO-L-Std"]
	_, err := s.Reserve(ctx(t), reserve("TWO-S-Std", 2, "TWO-M-Std", 6), "a", nil)
	wantCode(t, err, catalog.CodeInsufficientStock)
	if st := stockOf(t, s, small); st.Reserved != 0 {
		t.Fatalf("a refused reservation held a sibling: %+v", st)
	}
	r := must(s.Reserve(ctx(t), reserve("TWO-S-Std", 2, "two-m-std", 3), "a", nil))(t)
	if len(r.Lines) != 2 || r.Lines[0].VariantID != small.ID || r.Lines[1].VariantID != medium.ID ||
		r.Lines[0].ProductID != small.ProductID || r.Lines[1].ProductID != small.ProductID || r.Lines[1].SKU != "TWO-M-Std" {
		t.Fatalf("lines %+v, want S and M of product %s", r.Lines, small.ProductID)
	}
	p := must(s.Product(ctx(t), small.ProductID))(t)
	if p.Availability.Available != 15-5 {
		t.Fatalf("availability %+v, want 10 of 15 left", p.Availability)
	}
	must(s.CommitReservation(ctx(t), r.ID, "a", nil))(t)
	for _, c := range []struct {
		v      catalog.Variant
		onHand int64
	}{{small, 3}, {medium, 2}, {large, 5}} {
		if st := stockOf(t, s, c.v); st.OnHand != c.onHand || st.Reserved != 0 {
			t.Fatalf("%s after commit: %+v, want %d on hand", c.v.SKU, st, c.onHand)
		}
		ms := must(s.Movements(ctx(t), c.v.ID, 0, 10))(t)
		for _, m := range ms {
			if m.VariantID != c.v.ID || m.ProductID != c.v.ProductID || m.SKU != c.v.SKU {
				t.Fatalf("%s movement %+v names another variant", c.v.SKU, m)
			}
		}
	}
	// Release returns each line to its own variant.
	r = must(s.Reserve(ctx(t), reserve("TWO-L-Std", 4, "TWO-S-Std", 1), "a", nil))(t)
	must(s.ReleaseReservation(ctx(t), r.ID, "a", nil))(t)
	if st, sl := stockOf(t, s, large), stockOf(t, s, small); st.Available != 5 || sl.Available != 3 {
		t.Fatalf("after release: L %+v S %+v", st, sl)
	}
}

// testNoOversellOnHotVariant: many clients at once reserve one unit each of one variant of a
// product whose other variants are reserved at the same time: exactly the hot variant's units
// are reserved, and its siblings are counted apart.
func testNoOversellOnHotVariant(t *testing.T, s catalog.Store, _ *FakeClock) {
	const units, clients = 25, 60
	vs := stockedShirts(t, s, units, "HOTV")
	var ok, short, siblings atomic.Int64
	var wg sync.WaitGroup
	for c := range clients {
		var key *catalog.Idempotency
		in := reserve("HOTV-M-Std", 1)
		if c%2 == 0 {
			key = idem(t, fmt.Sprintf("hotv-%d", c), "reserve", in)
		}
		wg.Add(2)
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
		go func() {
			defer wg.Done()
			sib := []string{"HOTV-S-Std", "HOTV-L-Std"}[c%2]
			if c%3 == 0 { // every third client leaves the siblings alone
				return
			}
			if _, err := s.Reserve(context.Background(), reserve(sib, 1), "a", nil); err == nil {
				siblings.Add(1)
			} else if catalog.ErrorCode(err) != catalog.CodeInsufficientStock {
				t.Errorf("reserve %s: %v", sib, err)
			}
		}()
	}
	wg.Wait()
	st := stockOf(t, s, vs["HOTV-M-Std"])
	if ok.Load() != units || short.Load() != clients-units || st.Reserved != units || st.Available != 0 {
		t.Fatalf("%d reserved, %d refused, stock %+v: want %d reserved and none oversold", ok.Load(), short.Load(), st, units)
	}
	sib := stockOf(t, s, vs["HOTV-S-Std"]).Reserved + stockOf(t, s, vs["HOTV-L-Std"]).Reserved
	if sib != siblings.Load() {
		t.Fatalf("siblings reserved %d units, %d reservations succeeded", sib, siblings.Load())
	}
	p := must(s.Product(ctx(t), vs["HOTV-M-Std"].ProductID))(t)
	if p.Availability.Available != 3*units-units-sib {
		t.Fatalf("availability %+v, want %d", p.Availability, 3*units-units-sib)
	}
}

// testOppositeOrdersAcrossVariants: reservations over variants of two products, their lines in
// opposite orders, never deadlock and all apply.
func testOppositeOrdersAcrossVariants(t *testing.T, s catalog.Store, _ *FakeClock) {
	vs := stockedShirts(t, s, 1000, "OA", "OB")
	skus := []string{"OA-S-Std", "OB-M-Std", "OA-L-Std", "OB-S-Std"}
	var wg sync.WaitGroup
	var reserved atomic.Int64
	for w := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				var in catalog.ReservationInput
				for k := range skus {
					idx := (w + k) % len(skus)
					if w%2 == 1 {
						idx = (w + len(skus) - k) % len(skus)
					}
					in.Lines = append(in.Lines, catalog.ReservationLine{SKU: skus[idx], Quantity: 1})
				}
				r, err := s.Reserve(context.Background(), in, "a", nil)
				if err != nil {
					t.Errorf("reserve %v: %v", in.Lines, err)
					return
				}
				reserved.Add(1)
				if i%3 == 0 {
					if _, err := s.CommitReservation(context.Background(), r.ID, "a", nil); err != nil {
						t.Errorf("commit: %v", err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, sku := range skus {
		st := stockOf(t, s, vs[sku])
		if st.Reserved+(1000-st.OnHand) != reserved.Load() {
			t.Fatalf("%s: %+v, want %d reserved or committed", sku, st, reserved.Load())
		}
	}
	for _, sku := range []string{"OA-M-Std", "OB-L-Std"} {
		if st := stockOf(t, s, vs[sku]); st.OnHand != 1000 || st.Reserved != 0 {
			t.Fatalf("%s, in no reservation: %+v", sku, st)
		}
	}
}

// testMovementLogAcrossVariants runs a random concurrent mix of adjustments, reservations of
// one to three variants (siblings and other products'), commits, releases and expiries over
// three products of three variants each, then checks every variant: its log sums to its
// on-hand and reserved, never oversold, and names that variant only.
func testMovementLogAcrossVariants(t *testing.T, s catalog.Store, clock *FakeClock) {
	vs := stockedShirts(t, s, 6, "MA", "MB", "MC")
	var names []string
	for sku := range vs {
		names = append(names, sku)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var held []string
			for range 40 {
				c := context.Background()
				var err error
				switch op := rng.IntN(10); {
				case op < 2:
					v := vs[names[rng.IntN(len(names))]]
					delta := int64(rng.IntN(8) - 2)
					if delta >= 0 {
						delta++ // never 0
					}
					_, err = s.AdjustStock(c, v.ID, catalog.Adjustment{Delta: delta, Reason: "count_correction"}, "w", nil)
					if catalog.ErrorCode(err) == catalog.CodeInsufficientStock {
						err = nil
					}
				case op < 6:
					var in catalog.ReservationInput
					picked := map[string]bool{}
					for range 1 + rng.IntN(3) {
						sku := names[rng.IntN(len(names))]
						if !picked[sku] {
							picked[sku] = true
							in.Lines = append(in.Lines, catalog.ReservationLine{SKU: sku, Quantity: int64(1 + rng.IntN(3))})
						}
					}
					in.TTLSeconds = 60
					var r catalog.Reservation
					if r, err = s.Reserve(c, in, "w", nil); err == nil {
						held = append(held, r.ID)
					} else if catalog.ErrorCode(err) == catalog.CodeInsufficientStock {
						err = nil
					}
				case op < 8 && len(held) > 0:
					_, err = s.CommitReservation(c, held[0], "w", nil)
					held = held[1:]
				case len(held) > 0:
					_, err = s.ReleaseReservation(c, held[0], "w", nil)
					held = held[1:]
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
	products := map[string]int64{}
	for _, sku := range names {
		v := vs[sku]
		st := stockOf(t, s, v)
		ms := must(s.Movements(ctx(t), v.ID, 0, 100000))(t)
		var onHand, reserved int64
		for i := len(ms) - 1; i >= 0; i-- {
			m := ms[i]
			if m.VariantID != v.ID || m.ProductID != v.ProductID || m.SKU != v.SKU {
				t.Fatalf("%s's log holds a movement of %s/%s/%s", sku, m.ProductID, m.VariantID, m.SKU)
			}
			onHand += m.OnHandDelta
			reserved += m.ReservedDelta
			if m.OnHand != onHand || m.Reserved != reserved || m.Reserved > m.OnHand || m.Reserved < 0 {
				t.Fatalf("%s movement %d: running totals %d/%d, recorded %d/%d", sku, m.ID, onHand, reserved, m.OnHand, m.Reserved)
			}
		}
		if onHand != st.OnHand || reserved != st.Reserved {
			t.Fatalf("%s: log sums to %d on hand / %d reserved, stock says %+v", sku, onHand, reserved, st)
		}
		products[v.ProductID] += st.Available
	}
	for id, available := range products {
		if p := must(s.Product(ctx(t), id))(t); p.Availability.Available != available || p.Availability.InStock != (available > 0) {
			t.Fatalf("product %s availability %+v, its variants sum to %d", id, p.Availability, available)
		}
	}
}
