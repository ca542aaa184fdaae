package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// testImportVariants: Import takes products with options and several variants, their initial
// stock and backdated creation, and refuses a SKU taken by another product of the batch.
func testImportVariants(t *testing.T, s catalog.Store) {
	category(t, s, "apparel", "")
	created := time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC)
	a := shirt("IMPV", "apparel", []string{"S", "M", "L"}, []string{"Red", "Blue"}, 1000)
	for i := range a.Variants {
		a.Variants[i].InitialStock = int64(10 + i)
	}
	b := input("IMPV-SINGLE", "Single", "apparel", 500)
	if err := s.Import(ctx(t), []catalog.NewProduct{{ProductInput: a, CreatedAt: created}, {ProductInput: b}}); err != nil {
		t.Fatal(err)
	}
	p, _ := bySKU(t, s, "IMPV-L-Blue")
	if p.VariantCount != 6 || !p.CreatedAt.Equal(created) || p.Availability.Available != 10+11+12+13+14+15 {
		t.Fatalf("imported: %d variants, created %v, availability %+v", p.VariantCount, p.CreatedAt, p.Availability)
	}
	for i, v := range p.Variants {
		if v.SKU != a.Variants[i].SKU || v.Stock.OnHand != int64(10+i) || v.Position != i {
			t.Fatalf("imported variant %d: %s", i, show(v))
		}
		if ms := must(s.Movements(ctx(t), v.ID, 0, 10))(t); len(ms) != 1 || ms[0].Kind != catalog.MoveInitial || ms[0].VariantID != v.ID {
			t.Fatalf("imported variant %s's log: %+v", v.SKU, ms)
		}
	}
	// Two products of one batch may not share a SKU, in any case.
	c := input("IMPV-DUP", "Dup one", "apparel", 1)
	d := input("impv-dup", "Dup two", "apparel", 1)
	wantCode(t, s.Import(ctx(t), []catalog.NewProduct{{ProductInput: c}, {ProductInput: d}}), catalog.CodeConflict)
}

// testDeleteProductWithVariants: a product goes with all its variants, refused while any of
// them holds stock; their SKUs are free afterwards.
func testDeleteProductWithVariants(t *testing.T, s catalog.Store) {
	category(t, s, "apparel", "")
	in := shirt("DPV", "apparel", []string{"S", "M", "L"}, []string{"Red"}, 1000)
	in.Variants[2].InitialStock = 1
	p := must(s.CreateProduct(ctx(t), in))(t)
	err := s.DeleteProduct(ctx(t), p.ID, 0)
	wantCode(t, err, catalog.CodeConflict)
	if f := fieldsOf(err); f != "on_hand" {
		t.Fatalf("DeleteProduct with one variant stocked: fields %q, want on_hand", f)
	}
	must(s.AdjustStock(ctx(t), p.Variants[2].ID, catalog.Adjustment{Delta: -1, Reason: "lost"}, "a", nil))(t)
	if err := s.DeleteProduct(ctx(t), p.ID, 0); err != nil {
		t.Fatal(err)
	}
	for _, v := range p.Variants {
		if _, _, err := s.VariantBySKU(ctx(t), v.SKU); catalog.ErrorCode(err) != catalog.CodeNotFound {
			t.Fatalf("VariantBySKU(%s) after its product went: %v", v.SKU, err)
		}
		_, err := s.AdjustStock(ctx(t), v.ID, catalog.Adjustment{Delta: 1, Reason: "received"}, "a", nil)
		wantCode(t, err, catalog.CodeNotFound)
		_, _, err = s.SetPrice(ctx(t), v.ID, catalog.PriceChange{Currency: "USD", Amount: 1}, "a", 0)
		wantCode(t, err, catalog.CodeNotFound)
	}
	_, err = s.Reserve(ctx(t), reserve("DPV-S-Red", 1), "a", nil)
	wantCode(t, err, catalog.CodeInvalid)
	must(s.CreateProduct(ctx(t), shirt("DPV", "apparel", []string{"S", "M", "L"}, []string{"Red"}, 1000)))(t)
}

// testConcurrentVariantUniqueness: many writers add variants with one SKU, or with one
// combination, to a product at once: exactly one of each wins, the others get a conflict.
func testConcurrentVariantUniqueness(t *testing.T, s catalog.Store) {
	category(t, s, "apparel", "")
	sizes := []string{"XS", "S", "M", "L", "XL", "XXL"}
	p := must(s.CreateProduct(ctx(t), shirt("CVU", "apparel", sizes, []string{"Red"}, 1000)))(t)
	opts := []catalog.Option{{Name: "Size", Values: sizes}, {Name: "Colour", Values: []string{"Red", "Blue", "Green"}}}
	p = must(s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{Options: &opts}, 0))(t)
	const writers = 8
	race := func(what string, mk func(i int) catalog.VariantInput) {
		t.Helper()
		var wins, conflicts atomic.Int64
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.AddVariant(context.Background(), p.ID, mk(i), 0)
				switch catalog.ErrorCode(err) {
				case "":
					wins.Add(1)
				case catalog.CodeConflict:
					conflicts.Add(1)
				default:
					t.Errorf("%s, writer %d: %v", what, i, err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != writers-1 {
			t.Fatalf("%s: %d won, %d conflicts; want 1 and %d", what, wins.Load(), conflicts.Load(), writers-1)
		}
	}
	// One SKU, a different free combination each (6 sizes × Blue, then Green).
	race("one SKU", func(i int) catalog.VariantInput {
		return variantInput("CVU-SAME", map[string]string{"Size": sizes[i%6], "Colour": []string{"Blue", "Green"}[i/6]}, 1)
	})
	// One combination, a different SKU each: only the product row lock keeps these apart.
	race("one combination", func(i int) catalog.VariantInput {
		return variantInput(fmt.Sprintf("CVU-COMBO-%d", i), map[string]string{"Size": "XXL", "Colour": "Green"}, 1)
	})
	got := must(s.Product(ctx(t), p.ID))(t)
	combos := map[string]bool{}
	for _, v := range got.Variants {
		k := catalog.ComboKey(got.Options, v.Options)
		if combos[k] {
			t.Fatalf("two variants stand for %s", k)
		}
		combos[k] = true
	}
	if got.VariantCount != len(sizes)+2 || got.Version != p.Version+2 {
		t.Fatalf("after the races: %d variants, version %d; want %d and %d", got.VariantCount, got.Version, len(sizes)+2, p.Version+2)
	}
}

// testConcurrentVariantUpdates changes different variants of one product at once, without a
// precondition: every update applies, and the product's version counts them all.
func testConcurrentVariantUpdates(t *testing.T, s catalog.Store) {
	category(t, s, "apparel", "")
	p := must(s.CreateProduct(ctx(t), shirt("CVP", "apparel", []string{"S", "M", "L", "XL"}, []string{"Red", "Blue"}, 1000)))(t)
	const rounds = 10
	var wg sync.WaitGroup
	for i, v := range p.Variants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range rounds {
				patch := catalog.VariantPatch{Prices: &[]catalog.PriceInput{{Currency: "USD", Amount: int64(2000 + 100*i + n)}}}
				if n%2 == 1 {
					patch = catalog.VariantPatch{WeightGrams: ptr(ptr(int64(n))), PurchaseLimit: ptr(int64(n))}
				}
				if _, err := s.UpdateVariant(context.Background(), p.ID, v.ID, patch, 0); err != nil {
					t.Errorf("variant %s round %d: %v", v.SKU, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := must(s.Product(ctx(t), p.ID))(t)
	if want := p.Version + int64(len(p.Variants)*rounds); got.Version != want {
		t.Fatalf("version %d, want %d (one per update)", got.Version, want)
	}
	for i, v := range got.Variants {
		if pr := usd(t, v); pr.Amount != int64(2000+100*i+rounds-2) || v.WeightGrams == nil || *v.WeightGrams != rounds-1 || v.PurchaseLimit != rounds-1 {
			t.Fatalf("variant %s: %s, want the last writes", v.SKU, show(v))
		}
		if n := len(must(s.PriceHistory(ctx(t), v.ID, "USD"))(t)); n != 1+rounds/2 {
			t.Fatalf("variant %s has %d price lines, want %d", v.SKU, n, 1+rounds/2)
		}
	}
	want := catalog.PriceRange{Currency: "USD", Min: 2000 + rounds - 2, Max: 2000 + 100*int64(len(p.Variants)-1) + rounds - 2}
	if !slices.Equal(got.PriceRanges, []catalog.PriceRange{want}) {
		t.Fatalf("price ranges %+v, want %+v", got.PriceRanges, want)
	}
}

// testVariantWritesUnderContention runs every variant write at once on one product whose
// variants are being reserved, swept and re-priced: the only answers are domain errors, stock
// keeps its invariants and every variant's log sums to its stock.
func testVariantWritesUnderContention(t *testing.T, s catalog.Store, clock *FakeClock) {
	vs := stockedShirts(t, s, 30, "VWC")
	pid := vs["VWC-S-Std"].ProductID
	skus := []string{"VWC-S-Std", "VWC-M-Std", "VWC-L-Std"}
	// Make room for the colours AddVariant uses below.
	opts := []catalog.Option{{Name: "Size", Values: []string{"S", "M", "L"}}, {Name: "Colour", Values: []string{"Std", "C0", "C1"}}}
	must(s.PatchProduct(ctx(t), pid, catalog.ProductPatch{Options: &opts}, 0))(t)
	var bad raceErrors
	var wg sync.WaitGroup
	run := func(name string, n int, fn func(i int) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				bad.check(fmt.Sprintf("%s #%d", name, i), fn(i))
			}
		}()
	}
	for w := range 2 {
		run("Reserve across siblings", 15, func(i int) error {
			in := reserve(skus[(i+w)%3], 1, skus[(i+w+1)%3], 1)
			r, err := s.Reserve(ctx(t), in, "w", nil)
			if err == nil && i%2 == 0 {
				_, err = s.CommitReservation(ctx(t), r.ID, "w", nil)
			}
			return err
		})
		run("UpdateVariant", 15, func(i int) error {
			v := vs[skus[(i+w)%3]]
			_, err := s.UpdateVariant(ctx(t), pid, v.ID, catalog.VariantPatch{Prices: &[]catalog.PriceInput{{Currency: "USD", Amount: int64(900 + i)}}, PurchaseLimit: ptr(int64(50 + i))}, 0)
			return err
		})
		run("SetPrice windows and RemovePrice", 10, func(i int) error {
			v := vs[skus[(i+w)%3]]
			from := clock.Now().Add(time.Duration(i%3) * time.Minute)
			until := from.Add(2 * time.Minute)
			if _, _, err := s.SetPrice(ctx(t), v.ID, catalog.PriceChange{Currency: "EUR", Amount: int64(700 + i), ValidFrom: &from, ValidUntil: &until}, "w", 0); err != nil {
				return err
			}
			_, err := s.RemovePrice(ctx(t), v.ID, "EUR", "w", 0)
			return err
		})
		run("AddVariant and DeleteVariant", 8, func(i int) error {
			v, err := s.AddVariant(ctx(t), pid, variantInput(fmt.Sprintf("VWC-X-%d-%d", w, i), map[string]string{"Size": []string{"S", "M", "L"}[i%3], "Colour": fmt.Sprintf("C%d", w)}, 1), 0)
			if err != nil {
				return err
			}
			return s.DeleteVariant(ctx(t), pid, v.ID, 0)
		})
	}
	run("PatchProduct options", 8, func(i int) error {
		opts := []catalog.Option{{Name: "Size", Values: []string{"S", "M", "L"}}, {Name: "Colour", Values: []string{"Std", "C0", "C1", fmt.Sprintf("Extra%d", i)}}}
		_, err := s.PatchProduct(ctx(t), pid, catalog.ProductPatch{Options: &opts, Name: ptr(fmt.Sprintf("Contended %d", i))}, 0)
		return err
	})
	run("AdjustStock", 15, func(i int) error {
		_, err := s.AdjustStock(ctx(t), vs[skus[i%3]].ID, catalog.Adjustment{Delta: int64(i%4 + 1), Reason: "received"}, "w", nil)
		return err
	})
	run("sweeps", 20, func(i int) error {
		if i%5 == 4 {
			clock.Advance(time.Minute)
		}
		if _, err := s.ExpireReservations(ctx(t), 10); err != nil {
			return err
		}
		_, err := s.ApplyDuePrices(ctx(t), 10)
		return err
	})
	wg.Wait()
	bad.report(t)
	for _, sku := range skus {
		v := vs[sku]
		st := stockOf(t, s, v)
		if st.Reserved < 0 || st.Reserved > st.OnHand || st.Available != st.OnHand-st.Reserved {
			t.Errorf("stock of %s broke its invariants: %+v", sku, st)
		}
		var onHand, reserved int64
		for _, m := range must(s.Movements(ctx(t), v.ID, 0, 100000))(t) {
			onHand += m.OnHandDelta
			reserved += m.ReservedDelta
		}
		if onHand != st.OnHand || reserved != st.Reserved {
			t.Errorf("%s: log sums to %d/%d, stock %+v", sku, onHand, reserved, st)
		}
	}
}
